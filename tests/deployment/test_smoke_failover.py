"""The Failover companions' smoke against moto: a published replica bucket passes when it is
versioned and holds replicated files; unversioned, empty or unpublished fails naming why."""

from __future__ import annotations

import boto3
import pytest

from deployment.smoke import SMOKES
from tests.support.smoke_fakes import run, statuses

# By the registry (a starter kit without a static site has neither these stacks nor the module).
FAILOVERS = sorted(
    s for s, smoke in SMOKES.items() if smoke.__module__ == "deployment.smoke_failover"
)
if not FAILOVERS:
    pytest.skip("no stack with a Failover companion is registered", allow_module_level=True)
OUTPUT = "PublishOutputFnGetAttSiteReplicaD0234941Arn07F05ED3"


def replica(*, versioned: bool = True, files: bool = True) -> str:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="site-replica")
    if versioned:
        s3.put_bucket_versioning(
            Bucket="site-replica", VersioningConfiguration={"Status": "Enabled"}
        )
    if files:
        s3.put_object(Bucket="site-replica", Key="index.html", Body=b"<html></html>")
    return "arn:aws:s3:::site-replica"


@pytest.mark.parametrize("stack_id", FAILOVERS)
def test_a_versioned_replica_holding_the_site_passes(aws, stack_id):
    results, _, _ = run(stack_id, {OUTPUT: replica(), "OtherOutput": "d123.example.com"})
    assert statuses(results) == {f"replica:{OUTPUT}": "PASS"}


@pytest.mark.parametrize(
    ("versioned", "files", "complaint"),
    [(False, True, "versioning off"), (True, False, "is empty")],
)
def test_an_unversioned_or_empty_replica_fails(aws, versioned, files, complaint):
    results, _, _ = run(FAILOVERS[0], {OUTPUT: replica(versioned=versioned, files=files)})
    assert complaint in results[f"replica:{OUTPUT}"].detail


def test_no_published_replica_fails(aws):
    results, _, _ = run(FAILOVERS[0], {})
    assert statuses(results) == {"published": "FAIL"}
