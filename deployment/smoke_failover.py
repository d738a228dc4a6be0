"""Failover companion smoke (`MyBlogFailover`, `ServerlessWebAppFailover`,
`EmployeeDirectoryServerlessFailover`: the replica of a site bucket in `failover_region`, which
CloudFront fails over to): every bucket the companion publishes to its site's stack is
versioned (S3 replication needs it) and holds files, which only S3 replication from the site
bucket puts there, so it proves replication works. Plain AWS API calls only."""

from __future__ import annotations

import re

from deployment.smoke_support import Smoke, StepFailed

S3_ARN = "arn:aws:s3:::"
REPLICA_ARN_OUTPUT = re.compile(r"PublishOutputFnGetAtt\w*Replica[0-9A-F]{8}Arn[0-9A-F]{8}")


def smoke(smoke: Smoke) -> None:
    # What CDK names the output a cross-region reference to the replica's ARN publishes.
    published = sorted(name for name in smoke.outputs if REPLICA_ARN_OUTPUT.fullmatch(name))

    def replica(name: str) -> str:
        arn = smoke.output(name)
        if not arn.startswith(S3_ARN):
            raise StepFailed(f"{name} is {arn!r}, not the ARN of an S3 bucket")
        bucket = arn.removeprefix(S3_ARN)
        s3 = smoke.client("s3")
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        if status != "Enabled":
            raise StepFailed(
                f"replica {bucket} has versioning {status or 'off'}: S3 replicates only into a "
                "versioned bucket"
            )
        if not s3.list_objects_v2(Bucket=bucket, MaxKeys=1).get("KeyCount"):
            raise StepFailed(
                f"replica {bucket} is empty: nothing has been replicated from the site bucket "
                "yet (objects written before failover was on need S3 Batch Replication: the "
                "blueprint's doc, 'Origin failover')"
            )
        return f"replica {bucket} is versioned and holds the site's files"

    def nothing_published() -> str:
        raise StepFailed(
            "the stack has no output 'PublishOutputFnGetAtt...Replica...Arn...' (a replica "
            "bucket's ARN, published to the site's stack): no replica to fail over to"
        )

    if not published:
        smoke.step("published", nothing_published)
    for name in published:
        smoke.step(f"replica:{name}", lambda n=name: replica(n), uses=[name])
