"""The point of the blueprint: the existing app's template does not change because of the offload,
and the opt-in origin lock changes exactly what the docs say, nothing else.

One extra synth for the whole module (the session `synth` fixture holds the normal app, built
with its offload by `build()`). The extra app holds, side by side:

- `UpdateServer`          — the app stack alone: no offload anywhere in the app;
- `UpdateOffload`         — what `build()` returns with `update_server` false: the offload alone
                            in front of someone else's origin;
- `Default/UpdateServer` + `Default/UpdateOffload` — what `build()` returns with `lock_origin`
  on, inside a Stage. CDK leaves a construct named "Default" out of logical and unique ids, so
  these stacks get the same logical ids as the normal ones and templates compare one to one.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from app import add_house_mechanisms
from blueprints.update_offload import stack as update_offload
from house.compliance import add_compliance_checks
from house.settings import Instance, blueprint_settings, stage_from_context
from tests.support.gates import nag_findings
from tests.support.synth import Synthesized, cdk_json_context

APP, OFFLOAD = update_offload.APP_STACK_ID, update_offload.OFFLOAD_STACK_ID
PREFIX_LIST = "pl-3b927c52"  # us-east-1's com.amazonaws.global.cloudfront.origin-facing
OTHER_ORIGIN = "updates.example.com"
LOCKED = "Default"


@dataclasses.dataclass
class Variants:
    top: Synthesized  # UpdateServer alone, UpdateOffload alone
    locked: Synthesized  # the Stage: UpdateServer + UpdateOffload with lock_origin
    built_alone: list[str]
    built_locked: list[str]


@pytest.fixture(scope="module")
def variants(tmp_path_factory) -> Variants:
    outdir = tmp_path_factory.mktemp("cdk.out-update-offload-variants")
    app = cdk.App(context=cdk_json_context("dev"), outdir=str(outdir))
    stage = stage_from_context(app.node.try_get_context)
    settings = blueprint_settings(
        update_offload.SETTINGS, app.node.try_get_context, "update-offload", stage
    )

    alone_app = update_offload.UpdateServerStack(
        app,
        APP,
        stage=stage,
        settings=settings,
        stack_name=stage.stack_name(APP),
        env=stage.environment,
    )

    def instance(**changes) -> Instance:
        return Instance("update-offload", "update-offload", stage, settings.with_changes(**changes))

    alone_offload = update_offload.build(
        app,
        instance(update_server=False, origin_domain_name=OTHER_ORIGIN, origin_protocol="https"),
    )
    locked = update_offload.build(
        cdk.Stage(app, LOCKED),
        instance(lock_origin=True, cloudfront_prefix_list_id=PREFIX_LIST),
    )
    # What app.py's build_app adds to every stack, so templates compare like for like.
    for stack in [alone_app, *alone_offload, *locked]:
        add_house_mechanisms(stack, stage)
    add_compliance_checks(app)
    error = None
    try:
        app.synth()
    except RuntimeError as err:  # cdk-nag findings; asserted on below
        error = str(err)
    return Variants(
        top=Synthesized(stage="dev", outdir=Path(outdir), error=error),
        locked=Synthesized(stage="dev", outdir=Path(outdir) / f"assembly-{LOCKED}", error=error),
        built_alone=[s.node.id for s in alone_offload],
        built_locked=[s.node.id for s in locked],
    )


def as_top_level(template: dict) -> dict:
    """A template of the Stage as if it were top-level: construct paths (metadata, Name tags)
    and asset paths (the Stage's assembly is a subfolder) without the Stage."""
    return json.loads(
        json.dumps(template).replace(f'"{LOCKED}/', '"').replace('"../asset.', '"asset.')
    )


def copy_of(template: dict) -> dict:
    """Session templates are shared by every test: never mutate them."""
    return json.loads(json.dumps(template))


def test_app_template_is_identical_with_and_without_the_offload(synth, variants):
    with_offload = synth("dev").template(APP)  # built by build() next to UpdateOffload
    without_offload = variants.top.template(APP)  # the app stack alone
    assert set(with_offload) == set(without_offload)
    for section in with_offload:
        if section != "Resources":
            assert with_offload[section] == without_offload[section], section
    assert set(with_offload["Resources"]) == set(without_offload["Resources"])
    for logical_id, resource in with_offload["Resources"].items():
        assert resource == without_offload["Resources"][logical_id], logical_id
    # ... which is to say, byte for byte:
    assert json.dumps(with_offload, sort_keys=True) == json.dumps(without_offload, sort_keys=True)


def test_every_variant_is_cdk_nag_clean(variants):
    assert variants.built_locked == [APP, OFFLOAD]
    assert nag_findings(variants.top) == [] and nag_findings(variants.locked) == []
    assert variants.top.error is None


def diff(before: dict, after: dict) -> tuple[set, set, set]:
    b, a = before["Resources"], after["Resources"]
    changed = {lid for lid in b.keys() & a.keys() if b[lid] != a[lid]}
    return set(a) - set(b), set(b) - set(a), changed


def test_lock_origin_changes_only_the_documented_resources(synth, variants):
    before = copy_of(synth("dev").template(APP))
    after = as_top_level(variants.locked.template(APP))
    added, removed, changed = diff(before, after)
    types = {lid: after["Resources"][lid]["Type"] for lid in added | changed}
    assert removed == set()
    assert sorted(types[lid] for lid in added) == [
        "AWS::EC2::SecurityGroupIngress",
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "AWS::SecretsManager::Secret",
    ]
    assert sorted(types[lid] for lid in changed) == [
        "AWS::EC2::SecurityGroup",
        "AWS::ElasticLoadBalancingV2::Listener",
    ]
    assert before["Outputs"] == after["Outputs"] and before["Parameters"] == after["Parameters"]

    resources = after["Resources"]
    group = next(lid for lid in changed if types[lid] == "AWS::EC2::SecurityGroup")
    assert "LoadBalancerSecurityGroup" in resources[group]["Metadata"]["aws:cdk:path"]
    # 1. the ALB no longer admits 0.0.0.0/0 but only CloudFront's origin-facing prefix list ...
    assert (
        before["Resources"][group]["Properties"].pop("SecurityGroupIngress")[0]["CidrIp"]
        == "0.0.0.0/0"
    )
    assert "SecurityGroupIngress" not in resources[group]["Properties"]
    assert before["Resources"][group] == resources[group]
    ingress = next(
        r for lid, r in resources.items() if lid in added and types[lid].endswith("Ingress")
    )
    assert ingress["Properties"] == {
        "Description": "HTTP from CloudFront origin-facing servers only (origin lock)",
        "FromPort": 80,
        "GroupId": {"Fn::GetAtt": [group, "GroupId"]},
        "IpProtocol": "tcp",
        "SourcePrefixListId": PREFIX_LIST,
        "ToPort": 80,
    }
    listener = next(lid for lid in changed if types[lid] == "AWS::ElasticLoadBalancingV2::Listener")
    # 2. ... answers 403 by default ...
    assert resources[listener]["Properties"]["DefaultActions"] == [
        {
            "FixedResponseConfig": {
                "ContentType": "text/plain",
                "MessageBody": "Forbidden",
                "StatusCode": "403",
            },
            "Type": "fixed-response",
        }
    ]
    assert {
        k: v for k, v in resources[listener]["Properties"].items() if k != "DefaultActions"
    } == {
        k: v
        for k, v in before["Resources"][listener]["Properties"].items()
        if k != "DefaultActions"
    }
    # 3. ... and forwards to the same targets only requests carrying the secret header.
    rule = next(
        r for lid, r in resources.items() if lid in added and types[lid].endswith("ListenerRule")
    )
    secret = next(lid for lid in added if types[lid] == "AWS::SecretsManager::Secret")
    assert (
        rule["Properties"]["Actions"]
        == before["Resources"][listener]["Properties"]["DefaultActions"]
    )
    assert (
        rule["Properties"]["ListenerArn"] == {"Ref": listener}
        and rule["Properties"]["Priority"] == 1
    )
    assert rule["Properties"]["Conditions"] == [
        {
            "Field": "http-header",
            "HttpHeaderConfig": {
                "HttpHeaderName": "X-Origin-Verify",
                "Values": [
                    {
                        "Fn::Join": [
                            "",
                            ["{{resolve:secretsmanager:", {"Ref": secret}, ":SecretString:::}}"],
                        ]
                    }
                ],
            },
        }
    ]
    assert resources[secret]["Properties"]["Name"] == "UpdateServer-dev/origin-verify"


def test_locked_offload_sends_the_secret_the_app_checks(synth, variants):
    locked = as_top_level(variants.locked.template(OFFLOAD))
    (distribution,) = [
        r for r in locked["Resources"].values() if r["Type"] == "AWS::CloudFront::Distribution"
    ]
    (origin,) = distribution["Properties"]["DistributionConfig"]["Origins"]
    assert origin["OriginCustomHeaders"] == [
        {
            "HeaderName": "X-Origin-Verify",
            "HeaderValue": (
                "{{resolve:secretsmanager:UpdateServer-dev/origin-verify:SecretString:::}}"
            ),
        }
    ]
    # Apart from that header the locked offload is the normal one.
    normal = copy_of(synth("dev").template(OFFLOAD))
    del origin["OriginCustomHeaders"]
    assert locked == normal


def test_offload_alone_in_front_of_any_origin(variants):
    assert variants.built_alone == [OFFLOAD]  # build() made no UpdateServer
    template = variants.top.template(OFFLOAD)
    (distribution,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::CloudFront::Distribution"
    ]
    (origin,) = distribution["Properties"]["DistributionConfig"]["Origins"]
    assert origin["DomainName"] == OTHER_ORIGIN
    assert origin["CustomOriginConfig"] == {
        "OriginProtocolPolicy": "https-only",
        "OriginSSLProtocols": ["TLSv1.2"],
    }
    assert "Fn::ImportValue" not in json.dumps(template)
    assert variants.top.stacks[OFFLOAD].get("dependencies", []) == [f"{OFFLOAD}.assets"]
