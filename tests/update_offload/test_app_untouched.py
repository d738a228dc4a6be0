"""The app's template does not depend on the offload, the offload fits in front of any HTTPS
origin, and with a domain both sides speak TLS: viewers to CloudFront and CloudFront to the
update server's internal load balancer.

One extra synth for the whole module (the session `synth` fixture holds the normal app, built
with its offload by `build()`). The extra app holds, side by side:

- `UpdateServer`   — the app stack alone: no offload anywhere in the app;
- `UpdateOffload`  — what `build()` returns with `update_server` false: the offload alone in
                     front of someone else's origin, failing over to their second origin;
- `Domain/UpdateServer` + `Domain/UpdateOffload` — what `build()` returns with `domain_names`
  and a hosted zone (in a Stage, so their ids do not collide with the ones above).
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
from tests.update_offload.test_update_offload import server_origins

APP, OFFLOAD = update_offload.APP_STACK_ID, update_offload.OFFLOAD_STACK_ID
OTHER_ORIGIN = "updates.example.com"
OTHER_FAILOVER = "updates-standby.example.net"
DOMAIN = "Domain"
NAME, ZONE_ID, ZONE = "downloads.example.org", "Z0123456789ABCDEFGHIJ", "example.org"


@dataclasses.dataclass
class Variants:
    top: Synthesized  # UpdateServer alone, UpdateOffload alone
    domain: Synthesized  # the Stage: UpdateServer + UpdateOffload with a domain
    built_alone: list[str]
    built_with_domain: list[str]


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
        instance(
            update_server=False,
            origin_domain_name=OTHER_ORIGIN,
            failover_origin_domain_name=OTHER_FAILOVER,
        ),
    )
    with_domain = update_offload.build(
        cdk.Stage(app, DOMAIN, env=cdk.Environment(region="us-east-1")),
        instance(domain_names=(NAME,), hosted_zone_id=ZONE_ID, hosted_zone_name=ZONE),
    )
    # What app.py's build_app adds to every stack, so templates compare like for like.
    for stack in [alone_app, *alone_offload, *with_domain]:
        add_house_mechanisms(stack, stage)
    add_compliance_checks(app)
    error = None
    try:
        app.synth()
    except RuntimeError as err:  # cdk-nag findings; asserted on below
        error = str(err)
    return Variants(
        top=Synthesized(stage="dev", outdir=Path(outdir), error=error),
        domain=Synthesized(stage="dev", outdir=Path(outdir) / f"assembly-{DOMAIN}", error=error),
        built_alone=[s.node.id for s in alone_offload],
        built_with_domain=[s.node.id for s in with_domain],
    )


def in_domain_stage(variants: Variants, stack_id: str) -> dict:
    """The template of `stack_id` built inside the Domain stage, whose artifact ids CDK derives
    from the stage path (`DomainUpdateServer<hash>`); its display name is `Domain/<id>`."""
    (artifact,) = [
        name
        for name, artifact in variants.domain.stacks.items()
        if artifact.get("displayName") == f"{DOMAIN}/{stack_id}"
    ]
    return variants.domain.template(artifact)


def resources_of(template: dict, resource_type: str) -> dict[str, dict]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == resource_type}


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
    assert variants.built_with_domain == [APP, OFFLOAD]
    assert nag_findings(variants.top) == [] and nag_findings(variants.domain) == []
    assert variants.top.error is None


def test_offload_alone_in_front_of_any_https_origin(variants):
    assert variants.built_alone == [OFFLOAD]  # build() made no UpdateServer
    template = variants.top.template(OFFLOAD)
    (distribution,) = resources_of(template, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    (group,) = config["OriginGroups"]["Items"]
    primary, failover = (m["OriginId"] for m in group["Members"]["Items"])
    assert {o["DomainName"] for o in server_origins(config)} == {OTHER_ORIGIN}
    assert origins[failover]["DomainName"] == OTHER_FAILOVER
    for origin in origins.values():
        assert origin["CustomOriginConfig"] == {
            "OriginProtocolPolicy": "https-only",
            "OriginSSLProtocols": ["TLSv1.2"],
        }
    assert {b["TargetOriginId"] for b in config["CacheBehaviors"]} == {group["Id"]}
    assert origins[config["DefaultCacheBehavior"]["TargetOriginId"]]["DomainName"] == OTHER_ORIGIN
    assert resources_of(template, "AWS::CloudFront::VpcOrigin") == {}
    assert resources_of(template, "AWS::CloudFront::OriginAccessControl") == {}
    assert "Fn::ImportValue" not in json.dumps(template)
    assert variants.top.stacks[OFFLOAD].get("dependencies", []) == [f"{OFFLOAD}.assets"]


def test_with_a_domain_the_load_balancer_listens_on_https_only_for_the_origin_name(variants):
    server = in_domain_stage(variants, APP)
    (certificate_id, certificate), *more = resources_of(
        server, "AWS::CertificateManager::Certificate"
    ).items()
    assert more == []
    assert certificate["Properties"]["DomainName"] == f"origin.{NAME}"
    assert certificate["Properties"]["DomainValidationOptions"] == [
        {"DomainName": f"origin.{NAME}", "HostedZoneId": ZONE_ID}
    ]
    (listener,) = resources_of(server, "AWS::ElasticLoadBalancingV2::Listener").values()
    assert listener["Properties"]["Port"] == 443
    assert listener["Properties"]["Protocol"] == "HTTPS"
    assert listener["Properties"]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listener["Properties"]["Certificates"] == [{"CertificateArn": {"Ref": certificate_id}}]
    (alb,) = resources_of(server, "AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    (group,) = alb["Properties"]["SecurityGroups"]
    group_id = group["Fn::GetAtt"][0]
    # Inline on the group, or (a rule CDK places on its own) an AWS::EC2::SecurityGroupIngress.
    inline = server["Resources"][group_id]["Properties"].get("SecurityGroupIngress", [])
    separate = [
        r["Properties"]
        for r in resources_of(server, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    ]
    (rule,) = inline + separate
    assert (rule["FromPort"], rule["ToPort"]) == (443, 443) and "SourcePrefixListId" in rule


def test_with_a_domain_cloudfront_speaks_tls_1_2_to_viewers_and_to_the_origin(variants):
    offload = in_domain_stage(variants, OFFLOAD)
    (vpc_origin,) = resources_of(offload, "AWS::CloudFront::VpcOrigin").values()
    assert vpc_origin["Properties"]["VpcOriginEndpointConfig"] | {"Arn": None, "Name": None} == {
        "Arn": None,
        "Name": None,
        "HTTPPort": 80,
        "HTTPSPort": 443,
        "OriginProtocolPolicy": "https-only",
        "OriginSSLProtocols": ["TLSv1.2"],
    }
    (distribution,) = resources_of(offload, "AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    for origin in server_origins(config):
        assert origin["DomainName"] == f"origin.{NAME}"  # what the origin certificate is for
    assert config["Aliases"] == [NAME]
    (certificate_id,) = resources_of(offload, "AWS::CertificateManager::Certificate")
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": {"Ref": certificate_id},
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    records = resources_of(offload, "AWS::Route53::RecordSet").values()
    assert sorted(
        (r["Properties"]["Name"], r["Properties"]["Type"], r["Properties"]["HostedZoneId"])
        for r in records
    ) == [(f"{NAME}.", "A", ZONE_ID), (f"{NAME}.", "AAAA", ZONE_ID)]
