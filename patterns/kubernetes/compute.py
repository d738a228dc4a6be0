"""The capacity an EKS cluster's pods run on, three ways:

- `auto_mode_node_role()`: EKS Auto Mode launches, patches and retires nodes itself (built-in
  `system` and `general-purpose` node pools); it needs only this role for them. EKS creates the
  node role's EC2 access entry itself when the cluster is created.
- `ManagedNodeGroups`: an On-Demand Graviton group and a Spot group of several instance types
  (Spot capacity comes from whichever type has it), AL2023 or Bottlerocket from the EKS AMI
  type (EKS picks the AMI release for the cluster version: no AMI lookup at synth), IMDSv2
  only with a hop limit of 1 (pods cannot reach the node's credentials), encrypted gp3 disks.
- `FargateProfiles`: one profile per namespace plus kube-system (CoreDNS, metrics-server); EKS
  allows one profile change at a time per cluster, so each waits for the previous.

Managed node groups and Fargate get their EC2/Fargate access entries from EKS too: a template
that declares one again fails (the entry exists).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from house.compliance import acknowledge_managed_policy
from house.types import is_graviton

NODE_OPERATING_SYSTEMS = ("al2023", "bottlerocket")
_AMI_TYPES = {
    ("al2023", True): eks.NodegroupAmiType.AL2023_ARM_64_STANDARD,
    ("al2023", False): eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
    ("bottlerocket", True): eks.NodegroupAmiType.BOTTLEROCKET_ARM_64,
    ("bottlerocket", False): eks.NodegroupAmiType.BOTTLEROCKET_X86_64,
}
# The disk pods' images and logs live on: AL2023's root volume; Bottlerocket's data volume
# (its root volume holds only the read-only OS).
_DATA_DEVICE = {"al2023": "/dev/xvda", "bottlerocket": "/dev/xvdb"}
# AWS's policies for EKS worker nodes (EKS's node IAM role guide).
# What each lets the node do, for its acknowledgment.
_PULL = (
    "lets the node pull images from ECR and nothing else, from whichever repositories its "
    "pods' images name"
)
NODE_POLICIES = {
    "AmazonEKSWorkerNodePolicy": "lets the kubelet read the cluster, its node and the VPC "
    "(eks:DescribeCluster and EC2 Describe calls) and the Pod Identity agent fetch pod "
    "credentials (eks-auth:AssumeRoleForPodIdentity)",
    "AmazonEKS_CNI_Policy": "lets the VPC CNI on each node create, attach and address the "
    "network interfaces of its pods, whose ids exist only once the CNI creates them",
    "AmazonEC2ContainerRegistryPullOnly": _PULL,
}
AUTO_MODE_NODE_POLICIES = {
    "AmazonEKSWorkerNodeMinimalPolicy": "lets the node's Pod Identity agent fetch pod "
    "credentials (eks-auth:AssumeRoleForPodIdentity, its only action)",
    "AmazonEC2ContainerRegistryPullOnly": _PULL,
}
FARGATE_POD_EXECUTION_POLICY = "AmazonEKSFargatePodExecutionRolePolicy"


def _node_role(
    scope: Construct, id: str, policies: Mapping[str, str], description: str
) -> iam.Role:
    role = iam.Role(
        scope,
        id,
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(p) for p in policies],
        description=description,
    )
    for policy, what in policies.items():
        acknowledge_managed_policy(
            role,
            policy,
            f"{policy} is the AWS managed policy EKS documents for node roles: it {what}. "
            "AWS updates it as the node components' needs change.",
        )
    return role


def auto_mode_node_role(scope: Construct, id: str) -> iam.Role:
    """The role EKS Auto Mode gives its nodes: register, pull images; pods get AWS access
    through Pod Identity, never from the node."""
    return _node_role(scope, id, AUTO_MODE_NODE_POLICIES, "Nodes EKS Auto Mode launches")


@dataclasses.dataclass(frozen=True)
class NodeGroupSize:
    instance_types: tuple[str, ...]
    min_size: int
    desired_size: int
    max_size: int


class ManagedNodeGroups(Construct):
    """An On-Demand group and a Spot group, both from one launch template (IMDSv2, hop limit
    1, encrypted gp3 data disk) and one node role.

    Node groups only change size when told: their desired size from the settings, or an
    autoscaler you install (Cluster Autoscaler, Karpenter). EKS repairs unhealthy nodes.

    Args:
        `cluster`: the cluster the nodes join. Required.
        `subnets`: the nodes' subnets. Required.
        `node_os`: "al2023" or "bottlerocket" (the EKS AMI type; arm64 or x86_64 follows each
            group's first instance type); ValueError otherwise. Required.
        `on_demand`: instance types and minimum, desired and maximum size of the On-Demand group
            (NodeGroupSize). Required.
        `spot`: the same for the Spot group; several instance types let Spot capacity come from
            whichever has it. Required.
        `disk_gib`: size of each node's encrypted gp3 data volume, in GiB. Required.
        `after`: what must exist before the nodes boot (the path out of their subnets, the VPC
            CNI add-on). Default: (), nothing.

    Attributes: role, launch_template, groups (by "OnDemand" / "Spot").
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: eks.Cluster,
        subnets: ec2.SubnetSelection,
        node_os: str,
        on_demand: NodeGroupSize,
        spot: NodeGroupSize,
        disk_gib: int,
        after: Sequence[IConstruct] = (),
    ) -> None:
        super().__init__(scope, id)
        if node_os not in NODE_OPERATING_SYSTEMS:
            raise ValueError(
                f"ManagedNodeGroups: node_os {node_os!r}; allowed: al2023, bottlerocket"
            )
        self.role = _node_role(self, "NodeRole", NODE_POLICIES, "Nodes of the managed node groups")
        self.launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            # 1-minute EC2 metrics, billed as custom metrics per node (CT.EC2.PR.10).
            detailed_monitoring=True,
            http_endpoint=True,
            http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
            # A pod's packets to IMDS take a second hop: with a limit of 1 only the node (and
            # host-network agents) reach it, so pods cannot borrow the node role.
            http_put_response_hop_limit=1,
            block_devices=[
                ec2.BlockDevice(
                    device_name=_DATA_DEVICE[node_os],
                    volume=ec2.BlockDeviceVolume.ebs(
                        disk_gib, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3
                    ),
                )
            ],
        )
        template = eks.LaunchTemplateSpec(
            id=self.launch_template.launch_template_id or "",
            version=self.launch_template.latest_version_number,
        )
        self.groups: dict[str, eks.Nodegroup] = {}
        for name, size, capacity in (
            ("OnDemand", on_demand, eks.CapacityType.ON_DEMAND),
            ("Spot", spot, eks.CapacityType.SPOT),
        ):
            arm = is_graviton(size.instance_types[0])
            group = eks.Nodegroup(
                self,
                name,
                cluster=cluster,
                node_role=self.role,
                subnets=subnets,
                capacity_type=capacity,
                instance_types=[ec2.InstanceType(t) for t in size.instance_types],
                ami_type=_AMI_TYPES[(node_os, arm)],
                launch_template_spec=template,
                min_size=size.min_size,
                desired_size=size.desired_size,
                max_size=size.max_size,
                # EKS replaces nodes that report unhealthy (kubelet, disk, network).
                enable_node_auto_repair=True,
                # Node updates drain nodes respecting PodDisruptionBudgets; a forced update
                # would evict pods past them.
                force_update=False,
                labels={"blueprints.aws/capacity": name.lower()},
            )
            for dependency in after:
                group.node.add_dependency(dependency)
            self.groups[name] = group


class FargateProfiles(Construct):
    """One Fargate profile for kube-system and one per namespace; pods in those namespaces
    run on Fargate, each in its own micro-VM, in `subnets` (which must have no route to an
    internet gateway: EKS refuses public subnets for Fargate).

    Args:
        `cluster`: the cluster of the profiles; the pod execution role trusts only this cluster's
            Fargate profiles. Required.
        `vpc`: the VPC of `subnets`. Required.
        `subnets`: the pods' subnets, without a route to an internet gateway. Required.
        `namespaces`: a profile for each, besides kube-system's. Required.

    Attributes: pod_execution_role, profiles (by namespace), system (kube-system's).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: eks.Cluster,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        namespaces: Sequence[str],
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        cluster_name = cluster.cluster_name
        # Only Fargate profiles of this cluster may use the role (confused-deputy guard).
        self.pod_execution_role = iam.Role(
            self,
            "PodExecutionRole",
            assumed_by=iam.ServicePrincipal(
                "eks-fargate-pods.amazonaws.com",
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="eks",
                            resource="fargateprofile",
                            resource_name=f"{cluster_name}/*",
                        )
                    }
                },
            ),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(FARGATE_POD_EXECUTION_POLICY)
            ],
            description="Fargate pods of the cluster: pull images, nothing else",
        )
        acknowledge_managed_policy(
            self.pod_execution_role,
            FARGATE_POD_EXECUTION_POLICY,
            "AmazonEKSFargatePodExecutionRolePolicy is the AWS managed policy EKS documents for "
            "the Fargate pod execution role: ECR image pulls from whichever repositories the "
            "pods' images name, with ecr:GetAuthorizationToken, which supports no "
            "resource-level permissions.",
        )
        self.profiles: dict[str, eks.FargateProfile] = {}
        for namespace in ("kube-system", *namespaces):
            self.profiles[namespace] = eks.FargateProfile(
                self,
                _construct_id(namespace),
                cluster=cluster,  # type: ignore[arg-type]
                selectors=[eks.Selector(namespace=namespace)],
                pod_execution_role=self.pod_execution_role,
                vpc=vpc,
                subnet_selection=subnets,
            )

    @property
    def system(self) -> eks.FargateProfile:
        return self.profiles["kube-system"]


def _construct_id(namespace: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-z0-9]+", namespace) if part)
