"""Edge companion smoke (`MyBlogEdge`, `UpdateOffloadEdge`: the us-east-1 parts of a CloudFront
distribution whose stack is elsewhere): every web ACL the companion publishes exists with
CLOUDFRONT scope, and every certificate is ISSUED (a pending one means its DNS validation
record is missing, and the distribution's stack cannot deploy). Plain AWS API calls only."""

from __future__ import annotations

from deployment.smoke_support import Smoke, StepFailed

US_EAST_1 = "us-east-1"


def smoke(smoke: Smoke) -> None:
    published = {name: value for name, value in smoke.outputs.items() if value.startswith("arn:")}

    def web_acl(name: str) -> str:
        arn = smoke.output(name)
        # arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>
        scope, kind, acl_name, acl_id = arn.split(":", 5)[5].split("/")
        if scope != "global" or kind != "webacl":
            raise StepFailed(f"{name} {arn} is not a CLOUDFRONT-scope (global) web ACL")
        found = smoke.client("wafv2", region=US_EAST_1).get_web_acl(
            Name=acl_name, Id=acl_id, Scope="CLOUDFRONT"
        )["WebACL"]
        return f"web ACL {found['Name']} exists with {len(found.get('Rules', []))} rules"

    def certificate(name: str) -> str:
        arn = smoke.output(name)
        found = smoke.client("acm", region=US_EAST_1).describe_certificate(CertificateArn=arn)[
            "Certificate"
        ]
        if found["Status"] != "ISSUED":
            raise StepFailed(
                f"certificate {found['DomainName']} is {found['Status']}: add the "
                "validation CNAME ACM shows for it to your DNS"
            )
        return f"certificate {found['DomainName']} is ISSUED"

    def nothing_published() -> str:
        raise StepFailed(
            "the stack has no output 'PublishOutput...' with a web ACL or "
            "certificate ARN: nothing for the distribution to read"
        )

    if not published:
        smoke.step("published", nothing_published)
    for name, value in sorted(published.items()):
        if ":wafv2:" in value:
            smoke.step(f"web-acl:{name}", lambda n=name: web_acl(n), uses=[name])
        elif ":acm:" in value:
            smoke.step(f"certificate:{name}", lambda n=name: certificate(n), uses=[name])
