"""house/companion.py `RegionCompanion` (what CloudFrontEdge and a site's Failover companion
share): where a construct lands, and the errors for a region that cannot work. (StaticSite's
refusal of a failover region that is its own: tests/my_blog/test_regions.py.)"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from constructs import Construct

from house.companion import RegionCompanion
from house.edge import CloudFrontEdge
from house.settings import StageSettings
from tests.support.synth import cdk_json_context


def stack_in(region: str | None) -> cdk.Stack:
    app = cdk.App(context=cdk_json_context("prod"))
    env = cdk.Environment(region=region) if region else None
    return cdk.Stack(app, "Site", stack_name="Site-prod", env=env)


def test_the_companion_holds_a_construct_at_the_same_path_in_its_region():
    stack = stack_in("us-east-1")
    companion = StageSettings(name="prod", project="p", team="t").failover_companion(
        stack, "us-west-2"
    )
    assert companion.stacks == []  # created on first use only
    inner = Construct(Construct(stack, "Site"), "Deep")
    scope = companion.scope_for(inner, "A replica")
    (created,) = companion.stacks
    assert created.node.id == "SiteFailover" and created.stack_name == "SiteFailover-prod"
    assert created.region == "us-west-2" and cdk.Stack.of(scope) is created
    assert scope.node.path == "SiteFailover/Site/Deep"
    assert companion.scope_for(inner, "Another") is scope  # one companion, one path


def test_in_the_companions_own_region_the_construct_itself_is_the_scope():
    stack = stack_in("us-east-1")
    site = Construct(stack, "Site")
    assert CloudFrontEdge(stack).scope_for(site, "A web ACL") is site
    assert RegionCompanion(stack, region="us-east-1", suffix="X", description="x").stacks == []


def test_a_stack_without_a_region_names_the_setting_that_gives_it_one():
    stack = stack_in(None)
    companion = RegionCompanion(
        stack,
        region="us-west-2",
        suffix="Failover",
        description="x",
        region_setting="stages.prod.region",
    )
    with pytest.raises(ValueError, match=r"A replica: .*us-west-2.*set stages\.prod\.region"):
        companion.scope_for(Construct(stack, "Site"), "A replica")
    with pytest.raises(ValueError, match="which is in another stack"):
        companion.scope_for(Construct(stack_in("us-east-1"), "Site"), "A replica")
