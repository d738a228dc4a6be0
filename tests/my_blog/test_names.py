"""Names CloudFront keeps unique per account (cache, origin-request and response-headers
policies, origin access controls, CloudFront Functions) come from the stack *name*, so
`MyBlog-dev` and `MyBlog-prod` can be deployed to one account; and `physical_name` itself."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from constructs import Construct

from house.names import physical_name

STACK = "MyBlog"
# CloudFormation type -> (where the name is, the service's limit).
NAMED = {
    "AWS::CloudFront::CachePolicy": ("CachePolicyConfig", 128),
    "AWS::CloudFront::OriginRequestPolicy": ("OriginRequestPolicyConfig", 128),
    "AWS::CloudFront::ResponseHeadersPolicy": ("ResponseHeadersPolicyConfig", 128),
    "AWS::CloudFront::OriginAccessControl": ("OriginAccessControlConfig", 64),
    "AWS::CloudFront::Function": (None, 64),
}


def cloudfront_names(template: dict) -> dict[str, str]:
    """Construct path below the stack -> physical name, for every resource in NAMED."""
    names = {}
    for resource in template["Resources"].values():
        if resource["Type"] in NAMED:
            config, limit = NAMED[resource["Type"]]
            props = resource["Properties"]
            name = props[config]["Name"] if config else props["Name"]
            assert isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_-]+", name), name
            assert len(name) <= limit, name
            path = resource["Metadata"]["aws:cdk:path"].split("/", 1)[1].rsplit("/", 1)[0]
            names[path] = name
    return names


def test_names_carry_the_stack_name_so_dev_and_prod_differ(synth):
    dev, prod = (cloudfront_names(synth(stage).template(STACK)) for stage in ("dev", "prod"))
    assert dev == {
        "Site/OriginAccess": "MyBlog-dev-Site-OriginAccess",
        "Site/SecurityHeaders": "MyBlog-dev-Site-SecurityHeaders",
        "Site/Router": "MyBlog-dev-Site-Router",
        "Api/EdgeCache": "MyBlog-dev-Api-EdgeCache",
        "Api/OriginRequests": "MyBlog-dev-Api-OriginRequests",
    }
    assert prod == {path: name.replace("MyBlog-dev-", "MyBlog-prod-") for path, name in dev.items()}
    assert not set(dev.values()) & set(prod.values())
    for stage, names in (("dev", dev), ("prod", prod)):
        assert all(name.startswith(synth(stage).stack_name(STACK) + "-") for name in names.values())


def _stack(app: cdk.App, name: str) -> cdk.Stack:
    return cdk.Stack(app, "MyBlog", stack_name=name)


def test_physical_name_is_stack_name_path_and_role():
    app = cdk.App()
    site = Construct(Construct(_stack(app, "MyBlog-dev"), "Site"), "Inner")
    assert physical_name(site, "Router", max_length=64) == "MyBlog-dev-Site-Inner-Router"
    assert physical_name(site.node.scope, "Router", max_length=64) == "MyBlog-dev-Site-Router"


def test_two_stacks_of_one_blueprint_with_different_names_get_different_names():
    first, second = cdk.App(), cdk.App()
    a = Construct(_stack(first, "MyBlog-dev"), "Site")
    b = Construct(_stack(second, "MyBlog-alice"), "Site")
    assert physical_name(a, "Router", max_length=64) != physical_name(b, "Router", max_length=64)


def test_a_long_name_is_cut_to_the_limit_with_a_stable_hash_of_the_whole_name():
    long_stack = "MyBlog-" + "x" * 60

    def name(app: cdk.App, role: str) -> str:
        return physical_name(Construct(_stack(app, long_stack), "Site"), role, max_length=64)

    first, again, other = (
        name(cdk.App(), "Router"),
        name(cdk.App(), "Router"),
        name(cdk.App(), "Rooter"),
    )
    assert len(first) == 64 and first.startswith("MyBlog-xxx")
    assert first == again, "the same on every synth: no random part"
    assert first != other, "names that differ only past the cut still differ"
    assert re.fullmatch(r"[A-Za-z0-9_-]+-[0-9a-f]{8}", first)


def test_characters_cloudfront_refuses_are_left_out():
    app = cdk.App()
    scope = Construct(_stack(app, "MyBlog-dev"), "My Site.v2")
    assert physical_name(scope, "Router:1", max_length=64) == "MyBlog-dev-MySitev2-Router1"


@pytest.mark.parametrize("max_length", [0, 16])
def test_a_limit_without_room_for_a_name_is_refused(max_length):
    scope = Construct(_stack(cdk.App(), "MyBlog-" + "x" * 40), "Site")
    with pytest.raises(ValueError, match="max_length"):
        physical_name(scope, "Router", max_length=max_length)
