"""The us-east-1 edge companions' smoke against moto: published web ACLs exist with CLOUDFRONT
scope and certificates are issued; anything else fails naming what to do. It runs for every
companion the registry knows (none: no blueprint built here puts CloudFront outside us-east-1)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from tests.support.smoke_fakes import COMPANIONS, run, statuses

if not COMPANIONS:
    pytest.skip("no stack with a us-east-1 companion is registered", allow_module_level=True)
COMPANION = sorted(COMPANIONS)[0]


def cloudfront_web_acl(name: str = f"{COMPANION}-prod-acl") -> str:
    wafv2 = boto3.client("wafv2", region_name="us-east-1")
    visibility = {
        "SampledRequestsEnabled": True,
        "CloudWatchMetricsEnabled": True,
        "MetricName": "acl",
    }
    return wafv2.create_web_acl(
        Name=name, Scope="CLOUDFRONT", DefaultAction={"Allow": {}}, VisibilityConfig=visibility
    )["Summary"]["ARN"]


@pytest.mark.parametrize("stack_id", sorted(COMPANIONS))
def test_a_published_cloudfront_web_acl_passes(aws, stack_id):
    results, _, _ = run(stack_id, {"PublishOutputFnGetAttWebAclArn": cloudfront_web_acl()})
    assert statuses(results) == {"web-acl:PublishOutputFnGetAttWebAclArn": "PASS"}


def test_a_web_acl_that_is_gone_fails(aws):
    arn = cloudfront_web_acl()
    gone = arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    results, _, _ = run(COMPANION, {"Acl": gone})
    assert statuses(results) == {"web-acl:Acl": "FAIL"}


def test_a_regional_web_acl_is_not_cloudfronts(aws):
    results, _, _ = run(
        COMPANION, {"Acl": "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/acl/1234"}
    )
    assert "not a CLOUDFRONT-scope" in results["web-acl:Acl"].detail


@pytest.mark.parametrize("status, verdict", [("ISSUED", "PASS"), ("PENDING_VALIDATION", "FAIL")])
def test_a_certificate_must_be_issued(aws, status, verdict):
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    session = boto3.Session(region_name="us-east-1")
    acm = session.client("acm", region_name="us-east-1")
    stubber = Stubber(acm)
    stubber.add_response(
        "describe_certificate",
        {
            "Certificate": {
                "CertificateArn": arn,
                "DomainName": "blog.example.com",
                "Status": status,
            }
        },
    )
    stubber.activate()

    class WithStubbedAcm:
        region_name = "us-east-1"

        def client(self, service, **kwargs):
            return acm if service == "acm" else session.client(service, **kwargs)

    results, _, _ = run(COMPANION, {"Certificate": arn}, session=WithStubbedAcm())
    assert results["certificate:Certificate"].status == verdict
    if verdict == "FAIL":
        assert "validation CNAME" in results["certificate:Certificate"].detail


def test_a_companion_that_publishes_nothing_fails(aws):
    results, _, _ = run(COMPANION, {})
    assert statuses(results) == {"published": "FAIL"}
