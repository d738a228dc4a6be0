"""Each EKS deploy-time rule (deployment/rules_eks.py) shown failing on a construct that breaks
it the way a first deploy breaks, and passing once fixed. (tests/test_deploy_rules.py runs every
rule over every stack of every stage; test_profiles.py over every compute profile.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from deployment import rules
from deployment.assembly import Assembly


def synthesized(tmp_path: Path, build: Callable[[cdk.App], None]) -> Assembly:
    # No built-in template validation: these apps are checked by the deploy rules only.
    context = {
        "aws:cdk:version-reporting": False,
        "@aws-cdk/core:validateAgainstDefaultRules": False,
    }
    app = cdk.App(outdir=str(tmp_path), context=context)
    build(app)
    app.synth()
    return Assembly(tmp_path)


def broken(assembly: Assembly, stack_id: str) -> set[str]:
    return {v.rule for v in rules.violations(assembly.stack(stack_id))}


def network(stack: cdk.Stack, nat: int = 0) -> ec2.Vpc:
    subnets = [
        ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
        ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
    ]
    if nat:
        subnets.append(
            ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        )
    return ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=nat, subnet_configuration=subnets)


def cluster(
    stack: cdk.Stack,
    vpc: ec2.Vpc,
    *,
    subnets: ec2.SubnetType,
    auto_mode: bool = False,
    endpoint: eks.EndpointAccess = eks.EndpointAccess.PRIVATE,
) -> eks.Cluster:
    capacity = (
        {}
        if auto_mode
        else dict(default_capacity_type=eks.DefaultCapacityType.NODEGROUP, default_capacity=0)
    )
    return eks.Cluster(
        stack,
        "Cluster",
        version=eks.KubernetesVersion.V1_34,
        vpc=vpc,
        vpc_subnets=[ec2.SubnetSelection(subnet_type=subnets)],
        endpoint_access=endpoint,
        **capacity,
    )


def standard(c: eks.Cluster) -> None:
    c.node.default_child.upgrade_policy = eks.CfnCluster.UpgradePolicyProperty(
        support_type="STANDARD"
    )


def upgrade_policies(app: cdk.App) -> None:
    for id, stated in (("Silent", False), ("Stated", True)):
        stack = cdk.Stack(app, id, stack_name=f"{id}-dev")
        c = cluster(stack, network(stack), subnets=ec2.SubnetType.PRIVATE_ISOLATED)
        if stated:
            standard(c)


def secrets_keys(app: cdk.App) -> None:
    for id, grant, ordered in (
        ("NoGrant", False, False),
        ("Racing", True, False),
        ("Ordered", True, True),
    ):
        stack = cdk.Stack(app, id, stack_name=f"{id}-dev")
        key = kms.Key(stack, "Key")
        role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("eks.amazonaws.com"))
        c = eks.Cluster(
            stack,
            "Cluster",
            version=eks.KubernetesVersion.V1_34,
            vpc=network(stack),
            vpc_subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
            endpoint_access=eks.EndpointAccess.PRIVATE,
            role=role,
            secrets_encryption_key=key,
            default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
            default_capacity=0,
        )
        standard(c)
        if grant:
            key.grant(role, "kms:Encrypt", "kms:Decrypt")
        if ordered:
            c.node.default_child.node.add_dependency(role)


def access_entries(app: cdk.App) -> None:
    for id, duplicate in (("Duplicate", True), ("Clean", False)):
        stack = cdk.Stack(app, id, stack_name=f"{id}-dev")
        vpc = network(stack)
        node_role = iam.Role(
            stack, "NodeRole", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com")
        )
        c = eks.Cluster(
            stack,
            "Cluster",
            version=eks.KubernetesVersion.V1_34,
            vpc=vpc,
            vpc_subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
            endpoint_access=eks.EndpointAccess.PRIVATE,
            compute=eks.ComputeConfig(node_role=node_role),
        )
        standard(c)
        if duplicate:
            eks.AccessEntry(
                stack,
                "NodeEntry",
                cluster=c,
                principal=node_role.role_arn,
                access_entry_type=eks.AccessEntryType.EC2,
                access_policies=[],
            )


def deployment_addons(app: cdk.App) -> None:
    for id, waits in (("Degraded", False), ("Waiting", True)):
        stack = cdk.Stack(app, id, stack_name=f"{id}-dev")
        vpc = network(stack, nat=1)
        c = cluster(stack, vpc, subnets=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        standard(c)
        group = eks.Nodegroup(
            stack, "Nodes", cluster=c, instance_types=[ec2.InstanceType("t4g.medium")]
        )
        group.node.add_dependency(vpc)
        coredns = eks.CfnAddon(stack, "CoreDns", addon_name="coredns", cluster_name=c.cluster_name)
        eks.CfnAddon(stack, "VpcCni", addon_name="vpc-cni", cluster_name=c.cluster_name)
        if waits:
            coredns.node.add_dependency(group)


def node_paths_out(app: cdk.App) -> None:
    for id, subnets, wait in (
        ("RacingNat", ec2.SubnetType.PRIVATE_WITH_EGRESS, False),
        ("WaitingNat", ec2.SubnetType.PRIVATE_WITH_EGRESS, True),
        ("Stranded", ec2.SubnetType.PRIVATE_ISOLATED, False),
    ):
        stack = cdk.Stack(app, id, stack_name=f"{id}-dev")
        vpc = network(stack, nat=1)
        # A public-only endpoint: the L2 then does not make the cluster wait for the whole
        # VPC (with private access it does, which orders the nodes after the routes too).
        c = cluster(stack, vpc, subnets=subnets, endpoint=eks.EndpointAccess.PUBLIC)
        standard(c)
        group = eks.Nodegroup(
            stack,
            "Nodes",
            cluster=c,
            subnets=ec2.SubnetSelection(subnet_type=subnets),
            instance_types=[ec2.InstanceType("t4g.medium")],
        )
        if wait:
            group.node.add_dependency(
                vpc.select_subnets(subnet_type=subnets).internet_connectivity_established
            )


def fargate_profiles(app: cdk.App) -> None:
    for id, chained, subnets in (
        ("Together", False, ec2.SubnetType.PRIVATE_ISOLATED),
        ("Public", True, ec2.SubnetType.PUBLIC),
        ("Fine", True, ec2.SubnetType.PRIVATE_ISOLATED),
    ):
        stack = cdk.Stack(app, id, stack_name=f"{id}-dev")
        vpc = network(stack)
        c = cluster(stack, vpc, subnets=ec2.SubnetType.PRIVATE_ISOLATED)
        standard(c)
        role = iam.Role(
            stack, "Pods", assumed_by=iam.ServicePrincipal("eks-fargate-pods.amazonaws.com")
        )
        for namespace in ("kube-system", "default"):
            profile = eks.CfnFargateProfile(
                stack,
                namespace,
                cluster_name=c.cluster_name,
                pod_execution_role_arn=role.role_arn,
                selectors=[eks.CfnFargateProfile.SelectorProperty(namespace=namespace)],
                subnets=vpc.select_subnets(subnet_type=subnets).subnet_ids,
            )
            if chained and namespace == "default":
                profile.add_dependency(stack.node.find_child("kube-system"))


def cluster_zones(app: cdk.App) -> None:
    for id, zones in (("OneZone", 1), ("TwoZones", 2)):
        stack = cdk.Stack(app, id, stack_name=f"{id}-dev")
        vpc = ec2.Vpc(
            stack,
            "Vpc",
            max_azs=zones,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
                )
            ],
        )
        standard(cluster(stack, vpc, subnets=ec2.SubnetType.PRIVATE_ISOLATED))


def cluster_names(app: cdk.App) -> None:
    for id, name in (("Fixed", "my-cluster"), ("Named", "Named-dev")):
        stack = cdk.Stack(app, id, stack_name=f"{id}-dev")
        c = eks.Cluster(
            stack,
            "Cluster",
            cluster_name=name,
            version=eks.KubernetesVersion.V1_34,
            vpc=network(stack),
            vpc_subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
            endpoint_access=eks.EndpointAccess.PRIVATE,
            default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
            default_capacity=0,
        )
        standard(c)


BUILDERS = [
    upgrade_policies,
    secrets_keys,
    access_entries,
    deployment_addons,
    node_paths_out,
    fargate_profiles,
    cluster_zones,
    cluster_names,
]


@pytest.fixture(scope="module")
def stacks(tmp_path_factory) -> Assembly:
    """One app with every broken and fixed stack below, synthesized once (stack ids are unique
    across the tests)."""
    return synthesized(
        tmp_path_factory.mktemp("cdk.out-eks-rules"), lambda app: [b(app) for b in BUILDERS]
    )


def test_a_cluster_without_an_upgrade_policy_breaks_a_rule(stacks):
    assert "eks-upgrade-policy-explicit" in broken(stacks, "Silent")
    assert "eks-upgrade-policy-explicit" not in broken(stacks, "Stated")


def test_a_secrets_key_the_cluster_role_cannot_use_first_breaks_a_rule(stacks):
    rule = "eks-secrets-key-usable-before-cluster"
    assert rule in broken(stacks, "NoGrant")
    assert rule in broken(stacks, "Racing")
    assert rule not in broken(stacks, "Ordered")


def test_an_access_entry_eks_creates_itself_breaks_a_rule(stacks):
    assert "eks-no-duplicate-access-entry" in broken(stacks, "Duplicate")
    assert "eks-no-duplicate-access-entry" not in broken(stacks, "Clean")


def test_a_deployment_addon_not_waiting_for_nodes_breaks_a_rule(stacks):
    degraded = [
        v
        for v in rules.violations(stacks.stack("Degraded"))
        if v.rule == "eks-addons-wait-for-capacity"
    ]
    assert [v.resource for v in degraded] == ["CoreDns"]  # vpc-cni is a DaemonSet: fine
    assert "eks-addons-wait-for-capacity" not in broken(stacks, "Waiting")


def test_nodes_not_waiting_for_their_route_out_break_a_rule(stacks):
    rule = "eks-nodes-wait-for-their-path-out"
    assert rule in broken(stacks, "RacingNat")
    assert rule not in broken(stacks, "WaitingNat")
    assert rule in broken(stacks, "Stranded")  # isolated subnets, no endpoints at all


def test_fargate_profiles_created_together_or_in_public_subnets_break_rules(stacks):
    assert "eks-fargate-profiles-one-at-a-time" in broken(stacks, "Together")
    assert "eks-fargate-in-private-subnets" in broken(stacks, "Public")
    assert not {
        "eks-fargate-profiles-one-at-a-time",
        "eks-fargate-in-private-subnets",
    } & broken(stacks, "Fine")


def test_a_cluster_in_one_az_breaks_a_rule(stacks):
    assert "eks-cluster-spans-two-azs" in broken(stacks, "OneZone")
    assert "eks-cluster-spans-two-azs" not in broken(stacks, "TwoZones")


def test_a_cluster_name_without_the_stack_name_breaks_the_unique_name_rule(stacks):
    assert "unique-names-carry-the-stack-name" in broken(stacks, "Fixed")
    assert "unique-names-carry-the-stack-name" not in broken(stacks, "Named")
