"""The house builders (house/defaults.py): defaults as data, one override hook. Every builder takes
`**overrides` of its L2's properties, laid over its defaults; a key the L2 does not take fails at
synth naming the builder and the key; replacing a house default is allowed and says so."""

from __future__ import annotations

import inspect

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_ec2 as ec2

from house import defaults

REMOVAL = cdk.RemovalPolicy.DESTROY


def builders() -> dict[str, object]:
    """Every public function of house.defaults that makes a construct from (scope, id, ...)."""
    found = {}
    for name, fn in inspect.getmembers(defaults, inspect.isfunction):
        if fn.__module__ != defaults.__name__ or name.startswith("_"):
            continue
        parameters = list(inspect.signature(fn).parameters)
        if parameters[:2] == ["scope", "id"]:
            found[name] = fn
    return found


def build(name: str, stack: cdk.Stack, **overrides):
    """Call builder `name` with the least it needs, plus `overrides`."""
    logs = defaults.access_log_bucket(stack, f"Logs{name}", removal_policy=REMOVAL)
    vpc = stack.node.try_find_child("Vpc") or ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    needs = {
        "log_group": dict(retention_days=7, removal_policy=REMOVAL),
        "api_execution_log_group": dict(
            rest_api_id="abc", stage_name="dev", retention_days=7, removal_policy=REMOVAL
        ),
        "access_log_bucket": dict(removal_policy=REMOVAL),
        "secure_bucket": dict(removal_policy=REMOVAL, access_logs=logs),
        "queue_with_dlq": dict(removal_policy=REMOVAL),
        "dead_letter_queue": dict(removal_policy=REMOVAL),
        "file_system": dict(vpc=vpc, removal_policy=REMOVAL, backups=False),
        "load_balancer": dict(vpc=vpc, access_logs=logs, deletion_protection=False),
        "customer_key": dict(description="test", removal_policy=REMOVAL),
    }
    return getattr(defaults, name)(stack, name.title().replace("_", ""), **needs[name], **overrides)


def test_every_builder_has_the_one_override_hook():
    found = builders()
    assert set(found) >= {"secure_bucket", "log_group", "queue_with_dlq", "customer_key"}
    without = [
        name
        for name, fn in found.items()
        if not any(
            p.kind is inspect.Parameter.VAR_KEYWORD
            for p in inspect.signature(fn).parameters.values()
        )
    ]
    assert without == [], f"house builders without **overrides: {without}"


@pytest.mark.parametrize("name", sorted(builders()))
def test_a_mistyped_override_fails_naming_the_builder_and_the_key(name):
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValueError, match=rf"^house.defaults.{name}: 'versoned' is not a property "):
        build(name, stack, versoned=True)


@pytest.mark.parametrize(
    ("name", "override", "resource_type", "expected"),
    [
        (
            "secure_bucket",
            {"transfer_acceleration": True},
            "AWS::S3::Bucket",
            {"AccelerateConfiguration": {"AccelerationStatus": "Enabled"}},
        ),
        (
            "log_group",
            {"log_group_class": cdk.aws_logs.LogGroupClass.INFREQUENT_ACCESS},
            "AWS::Logs::LogGroup",
            {"LogGroupClass": "INFREQUENT_ACCESS"},
        ),
        (
            "queue_with_dlq",
            {"delivery_delay": cdk.Duration.seconds(5)},
            "AWS::SQS::Queue",
            {"DelaySeconds": 5},
        ),
        (
            "customer_key",
            {"alias": "alias/house-test"},
            "AWS::KMS::Alias",
            {"AliasName": "alias/house-test"},
        ),
        (
            "file_system",
            {"transition_to_archive_policy": cdk.aws_efs.LifecyclePolicy.AFTER_90_DAYS},
            "AWS::EFS::FileSystem",
            {
                "LifecyclePolicies": assertions.Match.array_with(
                    [{"TransitionToArchive": "AFTER_90_DAYS"}]
                )
            },
        ),
        (
            "load_balancer",
            {"idle_timeout": cdk.Duration.seconds(120)},
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            {
                "LoadBalancerAttributes": assertions.Match.array_with(
                    [{"Key": "idle_timeout.timeout_seconds", "Value": "120"}]
                )
            },
        ),
    ],
)
def test_an_override_reaches_the_template_and_keeps_the_other_defaults(
    name, override, resource_type, expected
):
    stack = cdk.Stack(cdk.App(), "Test")
    build(name, stack, **override)
    template = assertions.Template.from_stack(stack)
    template.has_resource_properties(resource_type, expected)
    if name == "secure_bucket":  # the defaults it did not override are all still there
        template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "AccelerateConfiguration": {"AccelerationStatus": "Enabled"},
                "VersioningConfiguration": {"Status": "Enabled"},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {
                    "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}],
                },
            },
        )


def test_replacing_a_house_default_leaves_a_warning_naming_it():
    stack = cdk.Stack(cdk.App(), "Test")
    bucket = build("secure_bucket", stack, versioned=False, cors=[])
    template = assertions.Template.from_stack(stack)
    assert not template.find_resources(
        "AWS::S3::Bucket", {"Properties": {"VersioningConfiguration": {"Status": "Enabled"}}}
    ).keys() & {stack.get_logical_id(bucket.node.default_child)}
    warnings = assertions.Annotations.from_stack(stack).find_warning(
        f"/{bucket.node.path}", assertions.Match.string_like_regexp("house:defaultOverridden")
    )
    assert len(warnings) == 1
    text = warnings[0].entry.data
    assert "house.defaults.secure_bucket: overrides the house default of versioned (was True)" in (
        text
    )
    assert "cors" not in text  # a property the house does not set is not a replaced default


def test_defaults_alone_leave_no_warning():
    stack = cdk.Stack(cdk.App(), "Test")
    build("secure_bucket", stack)
    found = assertions.Annotations.from_stack(stack).find_warning(
        "*", assertions.Match.string_like_regexp("house:defaultOverridden")
    )
    assert found == []


def test_the_origin_key_is_one_per_stack_and_only_where_data_is_kept():
    """CloudFront-read buckets: prod's share one rotated customer-managed key per stack (a key
    bills per key-month); dev has none (SSE-S3, nothing billed at idle)."""
    app = cdk.App()
    kept = cdk.Stack(app, "Kept")
    site = cdk.aws_s3.Bucket(kept, "Nested")  # any construct of the stack finds the same key
    first = defaults.origin_key(kept, removal_policy=cdk.RemovalPolicy.RETAIN)
    assert (
        first is not None
        and defaults.origin_key(site, removal_policy=cdk.RemovalPolicy.RETAIN) is first
    )
    template = assertions.Template.from_stack(kept)
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource(
        "AWS::KMS::Key",
        {"Properties": {"EnableKeyRotation": True}, "DeletionPolicy": "Retain"},
    )
    disposable = cdk.Stack(cdk.App(), "Disposable")
    assert defaults.origin_key(disposable, removal_policy=REMOVAL) is None
    assertions.Template.from_stack(disposable).resource_count_is("AWS::KMS::Key", 0)
