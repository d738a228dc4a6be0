"""Bad settings fail at synth with a ValueError naming the setting (and its place in cdk.json),
the value and what is allowed; the shipped ones parse."""

from __future__ import annotations

import json

import pytest

from blueprints.eks_cluster.stack import EksClusterSettings, build, check_stage
from house.settings import parse_settings
from patterns.kubernetes.cluster import KUBERNETES_VERSIONS
from tests.support.synth import REPO_ROOT

WHERE = "blueprints.eks-cluster.dev"


def shipped(stage: str) -> dict:
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return context["blueprints"]["eks-cluster"][stage]


def parse(stage: str = "dev", **changes) -> EksClusterSettings:
    return parse_settings(
        EksClusterSettings, {**shipped(stage), **changes}, f"blueprints.eks-cluster.{stage}"
    )


def test_the_shipped_settings_parse_and_pin_a_known_version():
    for stage in ("dev", "prod"):
        settings = parse(stage)
        assert settings.kubernetes_version in KUBERNETES_VERSIONS
        assert settings.compute == "automode"
    assert parse("dev").endpoint_access == "public_and_private"
    assert parse("prod").endpoint_access == "private"
    assert (parse("dev").nat_gateways, parse("prod").nat_gateways) == (1, 0)


def test_the_known_versions_come_from_aws_cdk_lib():
    assert "1.30" in KUBERNETES_VERSIONS
    assert KUBERNETES_VERSIONS == tuple(
        sorted(KUBERNETES_VERSIONS, key=lambda v: tuple(map(int, v.split("."))))
    )


@pytest.mark.parametrize(
    "changes, setting, says",
    [
        ({"kubernetes_version": "1.99"}, "kubernetes_version", "allowed: "),
        ({"kubernetes_version": "latest"}, "kubernetes_version", "allowed: "),
        (
            {"spot_instance_types": ["m7g.large"]},
            "spot_instance_types",
            "several instance types",
        ),
        (
            {"spot_instance_types": ["m7g.large", "m6i.large"]},
            "spot_instance_types",
            "all Graviton (arm64) or all x86_64",
        ),
        (
            {"spot_instance_types": ["m7g.large", "m7g.large"]},
            "spot_instance_types",
            "each instance type once",
        ),
        ({"on_demand_instance_type": "m6i.large"}, "on_demand_instance_type", "Graviton"),
        ({"on_demand_instance_type": "large"}, "on_demand_instance_type", "instance type"),
        (
            {
                "endpoint_access": "private",
                "public_access_cidrs": [],
                "nat_gateways": 0,
                "interface_endpoints": False,
            },
            "interface_endpoints",
            "no other path to ECR, STS and EKS",
        ),
        ({"public_access_cidrs": ["my laptop"]}, "public_access_cidrs", "not a CIDR"),
        ({"public_access_cidrs": ["10.0.0.1/16"]}, "public_access_cidrs", "not a CIDR"),
        ({"public_access_cidrs": ["0.0.0.0/0"]}, "public_access_cidrs", "whole internet"),
        ({"public_access_cidrs": ["2001:db8::/32"]}, "public_access_cidrs", "IPv4"),
        ({"public_access_cidrs": []}, "public_access_cidrs", "needs the CIDRs"),
        (
            {"endpoint_access": "private"},
            "public_access_cidrs",
            "no public CIDRs apply",
        ),
        ({"control_plane_logs": ["audit", "kubelet"]}, "control_plane_logs", "allowed: api"),
        ({"control_plane_logs": ["audit", "audit"]}, "control_plane_logs", "each log type once"),
        ({"nat_gateways": 4}, "nat_gateways", "allowed: 0..3"),
        (
            {"compute": "fargate", "container_insights": True},
            "container_insights",
            "DaemonSets",
        ),
        ({"on_demand_nodes": 0}, "on_demand_nodes", "need an On-Demand node"),
        ({"on_demand_nodes": 3, "on_demand_max_nodes": 2}, "on_demand_nodes", "allowed: 1.."),
        ({"spot_nodes": 5, "spot_max_nodes": 3}, "spot_nodes", "allowed: 0.."),
        ({"node_disk_gib": 8}, "node_disk_gib", "allowed: 20.."),
        ({"fargate_namespaces": []}, "fargate_namespaces", "allowed: 1..9"),
        ({"fargate_namespaces": ["Apps"]}, "fargate_namespaces", "namespace names"),
        ({"fargate_namespaces": ["kube-system"]}, "fargate_namespaces", "namespace names"),
        ({"fargate_namespaces": [f"ns{i}" for i in range(10)]}, "fargate_namespaces", "1..9"),
        ({"admin_principal_arns": ["admin"]}, "admin_principal_arns", "IAM role or user ARNs"),
        ({"regions": ["Europe"]}, "regions", "names like eu-west-1"),
        ({"regions": ["eu-west-1", "eu-west-1"]}, "regions", "each region once"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(changes, setting, says):
    with pytest.raises(ValueError) as refused:
        parse(**changes)
    message = str(refused.value)
    assert f"setting '{setting}'" in message, message
    assert message.startswith(f"{WHERE}: "), message
    assert says in message, message


def test_an_unknown_setting_is_refused_with_the_closest_name():
    with pytest.raises(
        ValueError,
        match=r"dev.kubernetes_versoin \(did you mean 'kubernetes_version'\?\)",
    ):
        parse(kubernetes_versoin="1.35")


def test_a_wrongly_typed_setting_names_its_place_in_cdk_json():
    with pytest.raises(ValueError, match=r"setting 'blueprints.eks-cluster.dev.compute' is 'ec2'"):
        parse(compute="ec2")


def test_the_stages_own_region_cannot_be_listed_again():
    import aws_cdk as cdk

    from house.settings import stage_from_context
    from tests.support.synth import cdk_json_context

    stage = stage_from_context(cdk_json_context("prod").get)
    settings = parse("prod", regions=["eu-west-1", stage.region])
    refused = r"'blueprints.eks-cluster.prod.regions'.*us-east-1 is the stage's own region"
    with pytest.raises(ValueError, match=refused):
        check_stage(stage, settings)
    app = cdk.App()
    with pytest.raises(ValueError, match=refused):
        build(app, stage, settings)
    assert not [c for c in app.node.children if isinstance(c, cdk.Stack)]
