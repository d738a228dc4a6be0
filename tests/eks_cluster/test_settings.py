"""EksCluster settings: every bad value fails at synth with a ValueError naming the setting (its
place in cdk.json), the value and what is allowed; the defaults parse."""

from __future__ import annotations

import pytest

from blueprints.eks_cluster.settings import EksClusterSettings
from house.settings import StageSettings, parse_settings
from patterns.kubernetes.cluster import KUBERNETES_VERSIONS

WHERE = "blueprints.eks-cluster.dev"
PUBLIC = {"endpoint_access": "public_and_private", "public_access_cidrs": ["198.51.100.7/32"]}


def parse(stage: StageSettings | None = None, **raw) -> EksClusterSettings:
    return parse_settings(EksClusterSettings, raw, WHERE, stage=stage)


def test_the_defaults_are_a_private_cluster_on_one_graviton_node_behind_one_nat():
    settings = parse()
    assert settings.endpoint_access == "private" and settings.public_access_cidrs == ()
    assert settings.compute == "nodegroups"
    assert (settings.on_demand_nodes, settings.spot_nodes, settings.nat_gateways) == (1, 0, 1)
    assert settings.kubernetes_version in KUBERNETES_VERSIONS


def test_the_known_versions_come_from_aws_cdk_lib_in_order():
    assert "1.30" in KUBERNETES_VERSIONS
    assert KUBERNETES_VERSIONS == tuple(
        sorted(KUBERNETES_VERSIONS, key=lambda v: tuple(map(int, v.split("."))))
    )


def test_lists_may_come_from_the_command_line():
    settings = parse(
        endpoint_access="public_and_private",
        public_access_cidrs="198.51.100.7/32,203.0.113.0/24",
        fargate_namespaces="default,apps",
    )
    assert settings.public_access_cidrs == ("198.51.100.7/32", "203.0.113.0/24")
    assert settings.fargate_namespaces == ("default", "apps")


@pytest.mark.parametrize(
    "raw, setting, says",
    [
        ({"kubernetes_version": "1.99"}, "kubernetes_version", "one of '1.25'"),
        ({"kubernetes_version": "latest"}, "kubernetes_version", "'1.36'"),
        ({"compute": "ec2"}, "compute", "'automode', 'nodegroups', 'fargate'"),
        ({"spot_instance_types": ["m7g.large"]}, "spot_instance_types", "several instance types"),
        (
            {"spot_instance_types": ["m7g.large", "m6i.large"]},
            "spot_instance_types",
            "all Graviton (arm64) or all x86_64",
        ),
        (
            {"spot_instance_types": ["m7g.large", "m7g.large"]},
            "spot_instance_types",
            "each value at most once",
        ),
        (
            {"spot_instance_types": ["large", "m7g.large"]},
            "spot_instance_types[0]",
            "instance type",
        ),
        ({"on_demand_instance_type": "m6i.large"}, "on_demand_instance_type", "Graviton"),
        (
            {"nat_gateways": 0, "interface_endpoints": False},
            "interface_endpoints",
            "no other path to ECR, STS and EKS",
        ),
        ({**PUBLIC, "public_access_cidrs": ["my laptop"]}, "public_access_cidrs[0]", "IPv4 CIDR"),
        ({**PUBLIC, "public_access_cidrs": ["10.0.0.1/16"]}, "public_access_cidrs[0]", "host bits"),
        ({**PUBLIC, "public_access_cidrs": ["10.0.0.1"]}, "public_access_cidrs[0]", "IPv4 CIDR"),
        ({**PUBLIC, "public_access_cidrs": ["0.0.0.0/0"]}, "public_access_cidrs", "whole internet"),
        ({**PUBLIC, "public_access_cidrs": ["2001:db8::/32"]}, "public_access_cidrs[0]", "IPv4"),
        ({**PUBLIC, "public_access_cidrs": []}, "public_access_cidrs", "needs the CIDRs"),
        ({"public_access_cidrs": ["198.51.100.7/32"]}, "public_access_cidrs", "no public CIDRs"),
        ({"control_plane_logs": ["audit", "kubelet"]}, "control_plane_logs[1]", "'api'"),
        ({"control_plane_logs": ["audit", "audit"]}, "control_plane_logs", "at most once"),
        ({"nat_gateways": 4}, "nat_gateways", "allowed: 0..3"),
        ({"compute": "fargate", "container_insights": True}, "container_insights", "DaemonSets"),
        ({"on_demand_nodes": 0}, "on_demand_nodes", "1..450"),
        ({"on_demand_nodes": 3, "on_demand_max_nodes": 2}, "on_demand_nodes", "on_demand_max"),
        ({"spot_nodes": 5, "spot_max_nodes": 3}, "spot_nodes", "spot_max_nodes (3)"),
        ({"node_disk_gib": 8}, "node_disk_gib", "allowed: 20..16384"),
        ({"fargate_namespaces": []}, "fargate_namespaces", "at least 1 items"),
        ({"fargate_namespaces": ["Apps"]}, "fargate_namespaces[0]", "Kubernetes namespace"),
        ({"fargate_namespaces": ["kube-system"]}, "fargate_namespaces", "own profile"),
        ({"fargate_namespaces": [f"ns{i}" for i in range(10)]}, "fargate_namespaces", "at most 9"),
        ({"admin_principal_arns": ["admin"]}, "admin_principal_arns[0]", "IAM role or user ARN"),
        ({"regions": ["Europe"]}, "regions[0]", "region name like eu-west-1"),
        ({"regions": ["eu-west-1", "eu-west-1"]}, "regions", "at most once"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(raw, setting, says):
    with pytest.raises(ValueError) as refused:
        parse(**raw)
    message = str(refused.value)
    assert message.startswith(f"setting '{WHERE}.{setting}'"), message
    assert says in message, message


def test_an_unknown_setting_is_refused_with_the_closest_name():
    with pytest.raises(
        ValueError, match=r"dev.kubernetes_versoin \(did you mean 'kubernetes_version'\?\)"
    ):
        parse(kubernetes_versoin="1.35")


def test_the_stages_own_region_cannot_be_listed_again():
    prod = StageSettings(name="prod", project="p", team="t", region="us-east-1")
    with pytest.raises(
        ValueError,
        match=r"'\S+\.regions' is \('eu-west-1', 'us-east-1'\); us-east-1 is stages.prod.region",
    ):
        parse(prod, regions=["eu-west-1", "us-east-1"])
    assert parse(prod, regions=["eu-west-1"]).regions == ("eu-west-1",)
    # Without a region at synth (environment-agnostic), the CLI's region is unknown: allowed.
    agnostic = StageSettings(name="prod", project="p", team="t")
    assert parse(agnostic, regions=["us-east-1"]).regions == ("us-east-1",)
