"""An EKS cluster as CloudFormation creates it, and the one way add-ons and their AWS
permissions are attached to it.

    cluster role --kms:Encrypt/Decrypt/CreateGrant--> secrets key (envelope encryption)
      |                                    (the grant exists before the cluster: EKS checks it)
    control-plane log group /aws/eks/<name>/cluster, with retention, created before the cluster
    AWS::EKS::Cluster: version pinned, upgrade policy STANDARD (set on the L1: the L2 has no
      property and CloudFormation's default, EXTENDED, bills extended support once the version
      ages), authentication by access entries only, the creator given no implicit admin
    admin role (assumable from the account) --access entry--> AmazonEKSClusterAdminPolicy
    add_addon(): an EKS managed add-on; one that calls AWS gets a role through EKS Pod Identity

The cluster endpoint is private, or public for an allow-list of CIDRs as well (nodes then still
use the private one). Nothing here installs Kubernetes objects: workloads stay out of
CloudFormation.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from house.compliance import acknowledge_managed_policy
from house.defaults import customer_key, log_group

# What EKS accepts (CreateCluster): api, audit, authenticator, controllerManager, scheduler.
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
_LOG_TYPES = {
    "api": eks.ClusterLoggingTypes.API,
    "audit": eks.ClusterLoggingTypes.AUDIT,
    "authenticator": eks.ClusterLoggingTypes.AUTHENTICATOR,
    "controllerManager": eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
    "scheduler": eks.ClusterLoggingTypes.SCHEDULER,
}
# The versions this aws-cdk-lib knows (KubernetesVersion.V1_xx); which of them AWS still
# supports in a region is a deploy-time question (the preflight asks DescribeClusterVersions).
KUBERNETES_VERSIONS = tuple(
    sorted(
        (name[1:].replace("_", ".") for name in dir(eks.KubernetesVersion) if name[:3] == "V1_"),
        key=lambda version: tuple(map(int, version.split("."))),
    )
)
UPGRADE_POLICY = "STANDARD"
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
# What EKS Auto Mode needs on the cluster role (AWS's Auto Mode IAM guide), and what each is for.
AUTO_MODE_CLUSTER_POLICIES = {
    "AmazonEKSComputePolicy": "the EC2 instances of its nodes",
    "AmazonEKSBlockStoragePolicy": "the EBS volumes of persistent volume claims",
    "AmazonEKSLoadBalancingPolicy": "the load balancers of Services and Ingresses",
    "AmazonEKSNetworkingPolicy": "node network interfaces and pod addresses",
}
# Auto Mode's built-in node pools (the L2's default, written out so the template says it).
AUTO_MODE_NODE_POOLS = ("system", "general-purpose")


@dataclasses.dataclass(frozen=True)
class PodIdentity:
    """The Kubernetes service account an add-on runs as, and the AWS managed policies its role
    gets through EKS Pod Identity. `reason`: why those managed policies are acceptable (each is
    acknowledged on that role alone)."""

    namespace: str
    service_account: str
    managed_policies: tuple[str, ...]
    reason: str


class KubernetesCluster(Construct):
    """The control plane: cluster, secrets key, control-plane logs, access, add-ons.

    Args:
        `vpc`: the VPC of the cluster. Required.
        `subnets`: where the control plane's network interfaces (and, by default, the nodes) go;
            subnets in at least two AZs. Required.
        `cluster_name`: unique per account and region (carry the stack name); also names the
            control-plane log group /aws/eks/<name>/cluster. Required.
        `version`: "1.xx", one of KUBERNETES_VERSIONS (ValueError otherwise); upgrade policy
            STANDARD, so the cluster never bills extended support. Required.
        `public_access_cidrs`: empty = private endpoint only; else the endpoint is also public, for
            these CIDRs only (nodes still use the private one). Required.
        `log_types`: control-plane log types sent to CloudWatch Logs, of CONTROL_PLANE_LOG_TYPES
            (ValueError otherwise). Required.
        `log_retention_days`: retention of the control-plane log group. Required.
        `removal_policy`: the secrets key's and the control-plane log group's. Required.
        `deletion_protection`: EKS refuses DeleteCluster (and so a stack delete) while set.
            Required.
        `auto_mode_node_role`: the node role for EKS Auto Mode (its system and general-purpose
            node pools; the cluster role then also holds the four Auto Mode policies). Default:
            None, no Auto Mode and no default capacity: node groups or Fargate add capacity (see
            patterns/kubernetes/compute.py).
        `admin_principal_arns`: IAM roles/users given cluster-admin access entries besides the
            stack's own admin role (`admin_role`). Default: (), the admin role only.

    Attributes: cluster_name, secrets_key, role, log_group, cluster, resource, admin_role, addons,
    pod_identity_roles, security_group.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        cluster_name: str,
        version: str,
        public_access_cidrs: Sequence[str],
        log_types: Sequence[str],
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        deletion_protection: bool,
        auto_mode_node_role: iam.IRole | None = None,
        admin_principal_arns: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        if version not in KUBERNETES_VERSIONS:
            raise ValueError(
                f"KubernetesCluster: version {version!r}; aws-cdk-lib knows "
                f"{', '.join(KUBERNETES_VERSIONS)}"
            )
        unknown = sorted(set(log_types) - set(CONTROL_PLANE_LOG_TYPES))
        if unknown:
            raise ValueError(
                f"KubernetesCluster: log types {unknown}; allowed: {', '.join(_LOG_TYPES)}"
            )
        self.cluster_name = cluster_name
        self.secrets_key = customer_key(
            self,
            "SecretsKey",
            description=f"Envelope encryption of Kubernetes secrets in {cluster_name}",
            removal_policy=removal_policy,
        )
        self.role = iam.Role(
            self,
            "ClusterRole",
            assumed_by=iam.ServicePrincipal("eks.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("AmazonEKSClusterPolicy")
            ],
            description=f"The EKS control plane of {cluster_name}",
        )
        # EKS checks at CreateCluster that its role may use the key.
        self.secrets_key.grant(
            self.role, "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"
        )
        # EKS creates this group on first use with no retention; created here it has one.
        self.log_group = log_group(
            self,
            "ControlPlaneLogs",
            retention_days=log_retention_days,
            removal_policy=removal_policy,
            log_group_name=f"/aws/eks/{cluster_name}/cluster",
        )
        endpoint = (
            eks.EndpointAccess.PUBLIC_AND_PRIVATE.only_from(*public_access_cidrs)
            if public_access_cidrs
            else eks.EndpointAccess.PRIVATE
        )
        if auto_mode_node_role is not None:
            capacity = dict(
                default_capacity_type=eks.DefaultCapacityType.AUTOMODE,
                compute=eks.ComputeConfig(
                    node_role=auto_mode_node_role, node_pools=list(AUTO_MODE_NODE_POOLS)
                ),
            )
        else:
            # No default capacity: the node groups or Fargate profiles are added by the caller.
            capacity = dict(
                default_capacity_type=eks.DefaultCapacityType.NODEGROUP, default_capacity=0
            )
        self.cluster = eks.Cluster(
            self,
            "Cluster",
            cluster_name=cluster_name,
            version=eks.KubernetesVersion.of(version),
            vpc=vpc,
            vpc_subnets=[subnets],
            role=self.role,
            secrets_encryption_key=self.secrets_key,
            endpoint_access=endpoint,
            cluster_logging=[_LOG_TYPES[log_type] for log_type in log_types],
            # Access entries name every admin; the CloudFormation role that creates the
            # cluster is not one.
            bootstrap_cluster_creator_admin_permissions=False,
            # vpc-cni, kube-proxy and CoreDNS come as EKS add-ons (versioned with the
            # cluster, updated by EKS), not as unmanaged manifests; Auto Mode runs its own.
            bootstrap_self_managed_addons=False,
            output_config_command=False,
            **capacity,
        )
        self.resource: eks.CfnCluster = self.cluster.node.default_child  # type: ignore[assignment]
        self.resource.upgrade_policy = eks.CfnCluster.UpgradePolicyProperty(
            support_type=UPGRADE_POLICY
        )
        self.resource.deletion_protection = deletion_protection
        # The role's grants (its default policy) and the log group before the cluster.
        self.resource.node.add_dependency(self.role, self.log_group)
        acknowledge_managed_policy(
            self.role,
            "AmazonEKSClusterPolicy",
            "AmazonEKSClusterPolicy is the policy AWS requires on an EKS cluster role; EKS "
            "updates it as the control plane's needs change, which a copy would not follow.",
        )
        if auto_mode_node_role is not None:  # the L2 attaches these four for Auto Mode
            for policy, what in AUTO_MODE_CLUSTER_POLICIES.items():
                acknowledge_managed_policy(
                    self.role,
                    policy,
                    f"EKS Auto Mode requires {policy} on the cluster role: it lets EKS manage "
                    f"{what} for this cluster, scoped by the tags EKS puts on them.",
                )

        self.admin_role = iam.Role(
            self,
            "AdminRole",
            assumed_by=iam.AccountRootPrincipal(),
            description=f"kubectl as cluster admin of {cluster_name} (access entry)",
        )
        self.cluster.grant_cluster_admin("AdminAccess", self.admin_role.role_arn)
        for index, principal in enumerate(admin_principal_arns):
            self.cluster.grant_cluster_admin(f"Admin{index}Access", principal)
        self.addons: dict[str, eks.CfnAddon] = {}
        self.pod_identity_roles: dict[str, iam.Role] = {}

    @property
    def security_group(self) -> ec2.ISecurityGroup:
        """The security group EKS creates for the cluster: the control plane, managed nodes,
        Auto Mode nodes and Fargate pods all carry it."""
        return self.cluster.cluster_security_group

    def add_addon(
        self,
        id: str,
        name: str,
        *,
        configuration: Mapping[str, object] | None = None,
        pod_identity: PodIdentity | None = None,
        after: Sequence[IConstruct] = (),
    ) -> eks.CfnAddon:
        """The EKS managed add-on `name` at the version EKS defaults to for the cluster's
        version. With `pod_identity`, its role and Pod Identity association exist before the
        add-on's pods start (credentials are injected when a pod is created, not later).
        `after`: what must exist first, e.g. the nodes its pods run on."""
        addon = eks.CfnAddon(
            self,
            id,
            addon_name=name,
            cluster_name=self.cluster.cluster_name,
            # Take over whatever a previous install left in the cluster.
            resolve_conflicts="OVERWRITE",
            configuration_values=json.dumps(configuration, sort_keys=True)
            if configuration
            else None,
        )
        if pod_identity is not None:
            addon.node.add_dependency(self.pod_identity(id, pod_identity))
        for dependency in after:
            addon.node.add_dependency(dependency)
        self.addons[name] = addon
        return addon

    def pod_identity(self, id: str, identity: PodIdentity) -> eks.CfnPodIdentityAssociation:
        """A role that pods running as `identity`'s service account assume through EKS Pod
        Identity (the agent on each node hands out its credentials; no OIDC provider)."""
        role = iam.Role(
            self,
            f"{id}Role",
            assumed_by=iam.SessionTagsPrincipal(iam.ServicePrincipal("pods.eks.amazonaws.com")),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(policy)
                for policy in identity.managed_policies
            ],
            description=f"Pods of {identity.namespace}/{identity.service_account} in "
            f"{self.cluster_name} (EKS Pod Identity)",
        )
        for policy in identity.managed_policies:
            acknowledge_managed_policy(role, policy, identity.reason)
        self.pod_identity_roles[id] = role
        return eks.CfnPodIdentityAssociation(
            self,
            f"{id}PodIdentity",
            cluster_name=self.cluster.cluster_name,
            namespace=identity.namespace,
            service_account=identity.service_account,
            role_arn=role.role_arn,
        )
