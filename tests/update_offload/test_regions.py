"""The offload's prod outside us-east-1: `stages.prod.region` moved to eu-central-1, eu-west-1
or ap-southeast-2 (AZs a/b/c), everything else as in cdk.json. The web ACL (and a created
certificate) go to the companion stack `UpdateOffloadEdge` in us-east-1 and reach the
distribution through a cross-region reference; Origin Shield follows the origin's region
(`origin_shield_region: stack-region`). Each synth must be cdk-nag and cfn-lint clean."""

from __future__ import annotations

import pytest

from blueprints.update_offload.stack import APP_STACK_ID, OFFLOAD_STACK_ID
from tests.support.synth import (
    Synthesized,
    region_of,
    synthesize,
)
from tests.support.template import only, resources
from tests.update_offload.test_update_offload import server_origins

APP, OFFLOAD, EDGE = APP_STACK_ID, OFFLOAD_STACK_ID, f"{OFFLOAD_STACK_ID}Edge"
REGIONS = ("eu-central-1",)


@pytest.fixture
def moved(prod_in_another_region) -> Synthesized:
    """The whole prod app in eu-central-1, built once per session (tests/conftest.py)."""
    return prod_in_another_region


def needs(assembly: Synthesized, setting: str, value=True) -> None:
    """These tests are about what a setting does in another region: skip if it is off."""
    actual = getattr(assembly.settings("update-offload"), setting)
    if actual != value:
        pytest.skip(f"update-offload {setting} is {actual!r} in {assembly.stage}'s settings")


def distribution(assembly: Synthesized) -> dict:
    template = assembly.template(OFFLOAD)
    return only(template, "AWS::CloudFront::Distribution")[1]["Properties"]["DistributionConfig"]


def test_the_blueprint_stays_in_its_region_beside_a_us_east_1_companion(moved):
    """cdk-nag and cfn-lint over this app are the gates of tests/test_compliance.py."""
    needs(moved, "waf")
    assert {APP, OFFLOAD, EDGE} <= set(moved.stacks)
    assert region_of(moved, APP) == region_of(moved, OFFLOAD) in REGIONS


def test_the_web_acl_is_in_a_us_east_1_companion_read_across_regions(moved):
    needs(moved, "waf")
    assert not resources(moved.template(OFFLOAD), "AWS::WAFv2::WebACL")
    acl_id, acl = only(moved.template(EDGE), "AWS::WAFv2::WebACL")
    assert region_of(moved, EDGE) == "us-east-1"
    assert acl["Properties"]["Scope"] == "CLOUDFRONT"
    assert {"Key": "Environment", "Value": "prod"} in acl["Properties"]["Tags"]
    assert moved.stack_output_read_by(distribution(moved)["WebACLId"]) == {
        "Fn::GetAtt": [acl_id, "Arn"]
    }
    assert EDGE in moved.stacks[OFFLOAD]["dependencies"]
    assert {r["Type"] for r in moved.template(EDGE)["Resources"].values()} <= {
        "AWS::WAFv2::WebACL",
        "AWS::CertificateManager::Certificate",  # with domain_names (the next test)
    }


def test_origin_shield_follows_the_origin_region(moved):
    needs(moved, "origin_shield_region", "stack-region")
    for origin in server_origins(distribution(moved)):
        assert origin["OriginShield"] == {
            "Enabled": True,
            "OriginShieldRegion": region_of(moved, APP),
        }


def test_a_created_certificate_is_in_the_companion_validated_in_the_zone(moved):
    """The distribution's certificate in us-east-1, DNS-validated in hosted_zone_id; the load
    balancer's origin certificate in the app's own region. (The gates over this assembly are
    tests/test_compliance.py's, run once for every test of it.)"""
    needs(moved, "certificate_arn", None)
    s = moved.settings("update-offload")
    if not s.domain_names:
        pytest.skip("no domain_names in prod's settings")
    assert not resources(moved.template(OFFLOAD), "AWS::CertificateManager::Certificate")
    cert_id, cert = only(moved.template(EDGE), "AWS::CertificateManager::Certificate")
    assert cert["Properties"]["DomainName"] == s.domain_names[0]
    assert cert["Properties"]["DomainValidationOptions"] == [
        {"DomainName": s.domain_names[0], "HostedZoneId": s.hosted_zone_id}
    ]
    config = distribution(moved)
    assert config["Aliases"] == list(s.domain_names)
    viewer = config["ViewerCertificate"]
    assert moved.stack_output_read_by(viewer["AcmCertificateArn"]) == {"Ref": cert_id}
    assert viewer["MinimumProtocolVersion"] == "TLSv1.2_2021"
    _, origin_cert = only(moved.template(APP), "AWS::CertificateManager::Certificate")
    assert origin_cert["Properties"]["DomainName"] == s.origin_name
    assert region_of(moved, APP) in REGIONS


def test_an_environment_agnostic_stage_with_waf_names_the_region_setting(tmp_path):
    with pytest.raises(ValueError, match=r"stages\.dev\.region"):
        synthesize(
            "dev", tmp_path, {"blueprints_only": "update-offload", "update-offload.waf": True}
        )


def test_in_us_east_1_there_is_no_companion(synth):
    prod = synth("prod")
    needs(prod, "waf")
    if prod.stage_settings.region != "us-east-1":
        pytest.skip(f"prod's region is {prod.stage_settings.region}")
    assert region_of(prod, OFFLOAD) == "us-east-1"
    assert EDGE not in prod.stacks
    acl_id, _ = only(prod.template(OFFLOAD), "AWS::WAFv2::WebACL")
    assert distribution(prod)["WebACLId"] == {"Fn::GetAtt": [acl_id, "Arn"]}
