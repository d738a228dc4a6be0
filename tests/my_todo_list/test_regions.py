"""MyTodoList prod outside us-east-1: `stages.prod.region` moved to eu-central-1, eu-west-1 or
ap-southeast-2 (AZs a/b/c), everything else as in cdk.json. Nothing of it is CloudFront's (the
web ACL is REGIONAL, on the API stage), so it stays one stack in its region; each synth must be
cdk-nag and cfn-lint clean."""

from __future__ import annotations

import pytest

from tests.support.synth import Synthesized, region_of
from tests.support.template import only, resources

STACK = "MyTodoList"
REGIONS = ("eu-central-1",)


@pytest.fixture
def moved(prod_in_another_region) -> Synthesized:
    """The whole prod app in eu-central-1, built once per session (tests/conftest.py)."""
    return prod_in_another_region


def test_no_us_east_1_companion(moved):
    """cdk-nag and cfn-lint over this app are the gates of tests/test_compliance.py."""
    assert region_of(moved, STACK) in REGIONS
    assert f"{STACK}Edge" not in moved.stacks


def test_waf_and_dax_stay_in_the_stacks_region(moved):
    settings = moved.settings("my-todo-list")
    if not (settings.waf and settings.dax):
        pytest.skip("waf and dax are not both on in prod's settings")
    region = region_of(moved, STACK)
    template = moved.template(STACK)
    _, acl = only(template, "AWS::WAFv2::WebACL")
    assert acl["Properties"]["Scope"] == "REGIONAL"
    subnets = resources(template, "AWS::EC2::Subnet").values()
    assert sorted({s["Properties"]["AvailabilityZone"] for s in subnets}) == [
        f"{region}{az}" for az in "abc"
    ]
    _, cluster = only(template, "AWS::DAX::Cluster")
    assert cluster["Properties"]["ReplicationFactor"] == settings.dax_nodes
