"""MyBlog prod outside us-east-1: `stages.prod.region` moved to eu-central-1, eu-west-1 or
ap-southeast-2 (AZs a/b/c), everything else as in cdk.json. CloudFront still needs its web ACL
(and a created certificate) in us-east-1, so they move to the companion stack `MyBlogEdge`
there, read by the distribution through a cross-region reference; a replica region equal to
the stack's own region is dropped with a warning. Each synth must be cdk-nag and cfn-lint clean.
"""

from __future__ import annotations

import pytest

from tests.support.gates import assert_gates_pass, nag_findings
from tests.support.synth import (
    Synthesized,
    region_of,
    stages_with_prod_in,
    synthesize,
    synthesize_once,
)
from tests.support.template import only, resources

STACK, EDGE = "MyBlog", "MyBlogEdge"
# eu-central-1 is the whole prod app of tests/conftest.py; eu-west-1 is also in prod's replica
# list, so the home region must be dropped from it there.
REGIONS = ("eu-central-1", "eu-west-1")
ZONE = "Z0123456789ABCDEFGHIJ"


def needs_waf(assembly: Synthesized) -> None:
    """These tests are about where a web ACL goes: skip if the stage's settings have none."""
    if not assembly.settings("my-blog").waf:
        pytest.skip(f"my-blog waf is off in {assembly.stage}'s settings")


@pytest.fixture(scope="module", params=REGIONS)
def moved(request, tmp_path_factory, prod_in_another_region) -> Synthesized:
    prod_in_another_region.require(STACK)
    if request.param == region_of(prod_in_another_region, STACK):
        return prod_in_another_region
    return synthesize_once(
        tmp_path_factory,
        "prod",
        {"blueprints_only": "my-blog", "stages": stages_with_prod_in(request.param)},
    )


@pytest.fixture(scope="module")
def with_domain(tmp_path_factory) -> Synthesized:
    """eu-central-1 with a custom domain (certificate created), its hosted zone and a sender."""
    return synthesize_once(
        tmp_path_factory,
        "prod",
        {
            "blueprints_only": "my-blog",
            "stages": stages_with_prod_in("eu-central-1"),
            "my-blog.domain_names": "blog.example.com,www.blog.example.com",
            "my-blog.hosted_zone_id": ZONE,
            "my-blog.hosted_zone_name": "example.com",
            "my-blog.sender_email": "welcome@example.com",
        },
    )


REPLICA_WARNING = "Annotation::my-blog:replicaRegionIsHomeRegion (warning)"


def replica_warnings(assembly: Synthesized) -> list[str]:
    return [f for f in nag_findings(assembly) if f.startswith(REPLICA_WARNING)]


def distribution(template: dict) -> dict:
    return only(template, "AWS::CloudFront::Distribution")[1]["Properties"]["DistributionConfig"]


def test_prod_in_another_region_is_cdk_nag_and_cfn_lint_clean(moved, prod_in_another_region):
    if moved is not prod_in_another_region:  # that one is the gates' own (test_compliance.py)
        assert_gates_pass(moved, expected_findings=[REPLICA_WARNING])
    assert STACK in moved.stacks
    assert (EDGE in moved.stacks) is moved.settings("my-blog").waf


def test_the_web_acl_is_in_a_us_east_1_companion_read_across_regions(moved):
    needs_waf(moved)
    region = region_of(moved, STACK)
    assert region in REGIONS
    assert not resources(moved.template(STACK), "AWS::WAFv2::WebACL")
    acl_id, acl = only(moved.template(EDGE), "AWS::WAFv2::WebACL")
    assert region_of(moved, EDGE) == "us-east-1"
    assert acl["Properties"]["Scope"] == "CLOUDFRONT"
    assert {"Key": "Environment", "Value": "prod"} in acl["Properties"]["Tags"]
    web_acl = distribution(moved.template(STACK))["WebACLId"]
    assert moved.stack_output_read_by(web_acl) == {"Fn::GetAtt": [acl_id, "Arn"]}
    # `cdk deploy MyBlog-prod` deploys the companion first.
    assert EDGE in moved.stacks[STACK]["dependencies"]
    # Nothing else moved: the companion holds the web ACL, and the certificate the stack creates
    # for domain_names (prod ships them; without a certificate_arn one is created there).
    s = moved.settings("my-blog")
    created = (
        {"AWS::CertificateManager::Certificate"}
        if s.domain_names and not s.certificate_arn
        else set()
    )
    assert {r["Type"] for r in moved.template(EDGE)["Resources"].values()} == {
        "AWS::WAFv2::WebACL",
        *created,
    }


def test_replica_regions_exclude_the_home_region_with_a_warning(moved):
    region = region_of(moved, STACK)
    configured = set(moved.settings("my-blog").replica_regions)
    _, table = only(moved.template(STACK), "AWS::DynamoDB::GlobalTable")
    replicas = [r["Region"] for r in table["Properties"]["Replicas"]]
    assert sorted(replicas) == sorted(configured | {region}), "the home region exactly once"
    warnings = replica_warnings(moved)
    if region in configured:
        (warning,) = warnings
        assert f"blueprints.my-blog.prod.replica_regions lists {region}" in warning
        assert "dropped" in warning and "stages.prod.region" in warning
    else:
        assert warnings == []


def test_a_created_certificate_is_in_the_companion_too(with_domain):
    assert_gates_pass(with_domain)
    assert not resources(with_domain.template(STACK), "AWS::CertificateManager::Certificate")
    cert_id, cert = only(with_domain.template(EDGE), "AWS::CertificateManager::Certificate")
    assert cert["Properties"]["DomainName"] == "blog.example.com"
    assert cert["Properties"]["ValidationMethod"] == "DNS"
    config = distribution(with_domain.template(STACK))
    assert config["Aliases"] == ["blog.example.com", "www.blog.example.com"]
    viewer = config["ViewerCertificate"]
    assert with_domain.stack_output_read_by(viewer["AcmCertificateArn"]) == {"Ref": cert_id}
    assert viewer["MinimumProtocolVersion"] == "TLSv1.2_2021"
    # DNS is global: the alias records stay with the distribution.
    assert len(resources(with_domain.template(STACK), "AWS::Route53::RecordSet")) == 4
    # The welcome email's SES identity is regional: it stays in the stack's own region.
    assert only(with_domain.template(STACK), "AWS::SES::EmailIdentity")


@pytest.mark.parametrize(
    "setting",
    [
        {"my-blog.waf": True},
        {"my-blog.domain_names": "blog.example.com"},
    ],
)
def test_an_environment_agnostic_stage_that_needs_us_east_1_names_the_region_setting(
    tmp_path, setting
):
    """dev has `region: null`: whether the web ACL/certificate can live in the stack is unknown."""
    with pytest.raises(ValueError, match=r"stages\.dev\.region"):
        synthesize("dev", tmp_path, {"blueprints_only": "my-blog", **setting})


def test_in_us_east_1_there_is_no_companion(synth):
    prod = synth("prod")
    needs_waf(prod)
    if prod.stage_settings.region != "us-east-1":
        pytest.skip(f"prod's region is {prod.stage_settings.region}")
    assert region_of(prod, STACK) == "us-east-1"
    assert EDGE not in prod.stacks
    acl_id, _ = only(prod.template(STACK), "AWS::WAFv2::WebACL")
    assert distribution(prod.template(STACK))["WebACLId"] == {"Fn::GetAtt": [acl_id, "Arn"]}


def test_a_site_refuses_a_failover_region_that_is_its_own():
    """The settings refuse it (test_settings.py); the construct does too, for any other caller:
    a replica in the site bucket's own region fails with it."""
    import aws_cdk as cdk

    from house.companion import RegionCompanion
    from patterns.web.static_site import StaticSite

    stack = cdk.Stack(cdk.App(), "Site", env=cdk.Environment(region="us-east-1"))
    same = RegionCompanion(stack, region="us-east-1", suffix="Failover", description="x")
    with pytest.raises(ValueError, match="failover region us-east-1 is the stack's own region"):
        StaticSite(
            stack,
            "Site",
            access_logs=cdk.aws_s3.Bucket(stack, "Logs"),
            removal_policy=cdk.RemovalPolicy.RETAIN,
            log_retention_days=14,
            failover=same,
        )
