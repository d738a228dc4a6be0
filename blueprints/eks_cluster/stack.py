"""EKS cluster blueprint: a Kubernetes cluster per region, on aws_eks_v2 (native CloudFormation,
no kubectl Lambda), with its capacity chosen in cdk.json.

    VPC (flow logs): public subnets (internet-facing load balancers, NAT if any)
      node subnets: private behind NAT (dev: one NAT gateway) or isolated with interface
      endpoints to ECR, STS, EKS, ... (prod: no NAT); S3 gateway endpoint (free) either way
    EKS control plane: version pinned, upgrade policy STANDARD, secrets envelope-encrypted
      (KMS), control-plane logs with retention, access entries only, endpoint allow-listed
      (dev) or private (prod), admin role for kubectl
    compute (cdk.json `compute`): automode | nodegroups (On-Demand Graviton + Spot, IMDSv2 hop 1)
      | fargate (a profile per namespace)
    add-ons: metrics-server; EBS CSI (node groups; built into Auto Mode), EFS CSI, Container
      Insights, each AWS-calling one through EKS Pod Identity; CoreDNS/VPC CNI/kube-proxy where
      Auto Mode does not run them
    storage: EFS (encrypted, TLS, access point) + StorageClass manifest as a stack output

Workloads are not in CloudFormation: blueprints/eks_cluster/k8s/ and docs/eks-cluster.md.
`regions` adds a stack per extra region (`EksCluster<Region>`), sharing nothing.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Sequence
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct, IDependable

from house.compliance import acknowledge
from house.network import ISOLATED, PRIVATE_WITH_EGRESS, InterfaceEndpoints
from house.network import vpc as house_vpc
from house.settings import StageSettings, require
from patterns.kubernetes.cluster import (
    CONTROL_PLANE_LOG_TYPES,
    KUBERNETES_VERSIONS,
    KubernetesCluster,
    PodIdentity,
)
from patterns.kubernetes.compute import (
    FargateProfiles,
    ManagedNodeGroups,
    NodeGroupSize,
    auto_mode_node_role,
    is_graviton,
    is_instance_type,
)
from patterns.kubernetes.storage import AUTO_MODE_EBS, EBS_CSI, SharedFiles, storage_manifest

STACK_ID = "EksCluster"
COMPUTE = ("automode", "nodegroups", "fargate")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
_NAMESPACE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# EKS allows 10 Fargate profiles per cluster (service quotas); kube-system takes one.
MAX_FARGATE_NAMESPACES = 9
MAX_NAT_GATEWAYS = 3

# Interface endpoints the nodes (and pods) need when their subnets have no NAT: what each
# compute profile calls. Each bills per AZ-hour (docs/eks-cluster.md has the table).
_NODE_ENDPOINTS = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,  # image manifests, auth token
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,  # layers (then S3 gateway)
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,  # pods' AWS SDK credentials
    "Eks": ec2.InterfaceVpcEndpointAwsService.EKS,  # node bootstrap, cluster lookups
}
ENDPOINTS_BY_COMPUTE = {
    "automode": {
        **_NODE_ENDPOINTS,
        "EksAuth": ec2.InterfaceVpcEndpointAwsService.EKS_AUTH,  # Pod Identity
    },
    "nodegroups": {
        **_NODE_ENDPOINTS,
        "EksAuth": ec2.InterfaceVpcEndpointAwsService.EKS_AUTH,
        "Ec2": ec2.InterfaceVpcEndpointAwsService.EC2,  # the VPC CNI assigns pod addresses
    },
    # Fargate pods get no Pod Identity and run no VPC CNI of yours.
    "fargate": dict(_NODE_ENDPOINTS),
}
INSIGHTS_ENDPOINTS = {
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
}

EBS_CSI_IDENTITY = PodIdentity(
    namespace="kube-system",
    service_account="ebs-csi-controller-sa",
    managed_policies=("service-role/AmazonEBSCSIDriverPolicy",),
    reason="AmazonEBSCSIDriverPolicy is AWS's policy for the EBS CSI controller: it creates, "
    "attaches and deletes the volumes of claims, only those tagged as the driver's.",
)
CLOUDWATCH_IDENTITY = PodIdentity(
    namespace="amazon-cloudwatch",
    service_account="cloudwatch-agent",
    managed_policies=("CloudWatchAgentServerPolicy",),
    reason="CloudWatchAgentServerPolicy is AWS's policy for the CloudWatch agent of Container "
    "Insights: it writes metrics and log events, which take no resource-level scoping.",
)


def _cidr_problem(cidr: str) -> str | None:
    try:
        network = ipaddress.ip_network(cidr, strict=True)
    except ValueError as error:
        return f"not a CIDR ({error}); write an address as x.x.x.x/32"
    if network.version != 4:
        return "EKS takes IPv4 CIDRs for the public endpoint"
    if network.prefixlen == 0:
        return "that is the whole internet; list the networks that run kubectl"
    return None


@dataclasses.dataclass(frozen=True)
class EksClusterSettings:
    # -- control plane --
    # "1.xx": pinned, never "latest"; the upgrade policy is STANDARD (EKS upgrades the
    # cluster at the end of standard support instead of billing extended support).
    kubernetes_version: str = "1.36"
    compute: Literal["automode", "nodegroups", "fargate"] = "automode"
    # public_and_private: the API is public for public_access_cidrs only (nodes use the
    # private endpoint); private: reachable from the VPC (and what is connected to it) only.
    endpoint_access: Literal["public_and_private", "private"] = "private"
    public_access_cidrs: tuple[str, ...] = ()
    control_plane_logs: tuple[str, ...] = ("api", "audit", "authenticator")
    # IAM roles/users given cluster-admin access entries, besides the stack's admin role.
    admin_principal_arns: tuple[str, ...] = ()
    # -- network --
    # NAT gateways for the node subnets (one per AZ at most); 0 = isolated node subnets.
    nat_gateways: int = 0
    # Interface endpoints to the AWS APIs nodes call (needed when nat_gateways is 0).
    interface_endpoints: bool = True
    # -- add-ons --
    # Container Insights (the amazon-cloudwatch-observability add-on): billed per metric.
    container_insights: bool = False
    # A shared EFS file system (+ the EFS CSI add-on where the nodes are yours).
    efs: bool = True
    # -- compute: nodegroups --
    node_os: Literal["al2023", "bottlerocket"] = "al2023"
    on_demand_instance_type: str = "t4g.medium"  # Graviton
    on_demand_nodes: int = 1
    on_demand_max_nodes: int = 2
    spot_instance_types: tuple[str, ...] = ("t4g.medium", "t4g.large", "m7g.medium", "m6g.medium")
    spot_nodes: int = 1
    spot_max_nodes: int = 3
    node_disk_gib: int = 20
    # -- compute: fargate --
    fargate_namespaces: tuple[str, ...] = ("default",)
    # -- regions --
    # Regions beyond the stage's own, each with a cluster of its own (stack EksCluster<Region>).
    regions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        require(
            self.kubernetes_version in KUBERNETES_VERSIONS,
            "kubernetes_version",
            self.kubernetes_version,
            f"allowed: {', '.join(KUBERNETES_VERSIONS)} (what aws-cdk-lib knows; `make "
            "preflight` checks that the region still gives it standard support)",
        )
        if self.endpoint_access == "public_and_private":
            require(
                bool(self.public_access_cidrs),
                "public_access_cidrs",
                self.public_access_cidrs,
                "a public endpoint needs the CIDRs that may reach it, e.g. your address as "
                "x.x.x.x/32 (or endpoint_access: private)",
            )
        else:
            require(
                not self.public_access_cidrs,
                "public_access_cidrs",
                self.public_access_cidrs,
                "endpoint_access is private, so no public CIDRs apply; remove them or set "
                "endpoint_access: public_and_private",
            )
        for cidr in self.public_access_cidrs:
            problem = _cidr_problem(cidr)
            require(problem is None, "public_access_cidrs", cidr, problem or "")
        for log_type in self.control_plane_logs:
            require(
                log_type in CONTROL_PLANE_LOG_TYPES,
                "control_plane_logs",
                log_type,
                f"allowed: {', '.join(CONTROL_PLANE_LOG_TYPES)}",
            )
        require(
            len(set(self.control_plane_logs)) == len(self.control_plane_logs),
            "control_plane_logs",
            self.control_plane_logs,
            "each log type once",
        )
        for principal in self.admin_principal_arns:
            require(
                bool(_PRINCIPAL.match(principal)),
                "admin_principal_arns",
                principal,
                "expected IAM role or user ARNs like arn:aws:iam::111122223333:role/Admin",
            )
        require(
            0 <= self.nat_gateways <= MAX_NAT_GATEWAYS,
            "nat_gateways",
            self.nat_gateways,
            f"allowed: 0..{MAX_NAT_GATEWAYS} (one per AZ at most)",
        )
        require(
            self.nat_gateways > 0 or self.interface_endpoints,
            "interface_endpoints",
            self.interface_endpoints,
            "with nat_gateways 0 the node subnets have no other path to ECR, STS and EKS: "
            "nodes would never join and images never pull; set interface_endpoints: true or "
            "nat_gateways >= 1",
        )
        require(
            not (self.container_insights and self.compute == "fargate"),
            "container_insights",
            self.container_insights,
            "the amazon-cloudwatch-observability add-on runs DaemonSets, which Fargate does not "
            "run; with compute fargate set it false (Fargate's built-in log router ships logs)",
        )
        self._check_node_groups()
        self._check_fargate()
        for region in self.regions:
            require(bool(_REGION.match(region)), "regions", region, "expected names like eu-west-1")
        require(
            len(set(self.regions)) == len(self.regions),
            "regions",
            self.regions,
            "each region once: one cluster per region",
        )

    def _check_node_groups(self) -> None:
        require(
            is_instance_type(self.on_demand_instance_type),
            "on_demand_instance_type",
            self.on_demand_instance_type,
            "expected an EC2 instance type like m7g.large",
        )
        require(
            is_graviton(self.on_demand_instance_type),
            "on_demand_instance_type",
            self.on_demand_instance_type,
            "the On-Demand group is Graviton (arm64): t4g, m7g, c7g, r7g, m8g, ...",
        )
        require(
            len(self.spot_instance_types) >= 2,
            "spot_instance_types",
            self.spot_instance_types,
            "a Spot group needs several instance types (Spot capacity of one type can run "
            "out, and the group then gets no nodes); list at least 2 of one architecture",
        )
        for instance_type in self.spot_instance_types:
            require(
                is_instance_type(instance_type),
                "spot_instance_types",
                instance_type,
                "expected EC2 instance types like m7g.large",
            )
        require(
            len(set(self.spot_instance_types)) == len(self.spot_instance_types),
            "spot_instance_types",
            self.spot_instance_types,
            "each instance type once",
        )
        require(
            len({is_graviton(t) for t in self.spot_instance_types}) == 1,
            "spot_instance_types",
            self.spot_instance_types,
            "one node group runs one AMI: all Graviton (arm64) or all x86_64",
        )
        require(
            1 <= self.on_demand_nodes <= self.on_demand_max_nodes,
            "on_demand_nodes",
            self.on_demand_nodes,
            f"allowed: 1..on_demand_max_nodes ({self.on_demand_max_nodes}); CoreDNS and the "
            "add-on controllers need an On-Demand node",
        )
        require(
            0 <= self.spot_nodes <= self.spot_max_nodes,
            "spot_nodes",
            self.spot_nodes,
            f"allowed: 0..spot_max_nodes ({self.spot_max_nodes})",
        )
        for name, value in (
            ("on_demand_max_nodes", self.on_demand_max_nodes),
            ("spot_max_nodes", self.spot_max_nodes),
        ):
            require(
                1 <= value <= 450, name, value, "allowed: 1..450 (nodes per managed node group)"
            )
        require(
            20 <= self.node_disk_gib <= 16384,
            "node_disk_gib",
            self.node_disk_gib,
            "allowed: 20..16384 GiB (gp3; the EKS AMIs need 20)",
        )

    def _check_fargate(self) -> None:
        require(
            1 <= len(self.fargate_namespaces) <= MAX_FARGATE_NAMESPACES,
            "fargate_namespaces",
            self.fargate_namespaces,
            f"allowed: 1..{MAX_FARGATE_NAMESPACES} namespaces (EKS allows 10 Fargate profiles "
            "per cluster; kube-system has one)",
        )
        for namespace in self.fargate_namespaces:
            require(
                bool(_NAMESPACE.match(namespace)) and namespace != "kube-system",
                "fargate_namespaces",
                namespace,
                "expected Kubernetes namespace names (lower-case DNS labels) other than "
                "kube-system, which always has its profile",
            )
        require(
            len(set(self.fargate_namespaces)) == len(self.fargate_namespaces),
            "fargate_namespaces",
            self.fargate_namespaces,
            "each namespace once",
        )


SETTINGS = EksClusterSettings


def regional_stack_id(region: str) -> str:
    """`EksClusterEuWest1` for eu-west-1: a stack id per extra region."""
    return STACK_ID + "".join(part.capitalize() for part in region.split("-"))


def check_stage(stage: StageSettings, settings: EksClusterSettings) -> None:
    """The rules that need the stage."""
    where = f"blueprints.eks-cluster.{stage.name}"
    if stage.region:
        require(
            stage.region not in settings.regions,
            f"{where}.regions",
            settings.regions,
            f"{stage.region} is the stage's own region, which has the {STACK_ID} stack already; "
            "list only further regions",
        )


class EksClusterStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        settings: EksClusterSettings,
        availability_zones: Sequence[str],
        **kwargs,
    ) -> None:
        super().__init__(
            scope,
            id,
            description=f"EKS cluster ({settings.compute}), Kubernetes "
            f"{settings.kubernetes_version} (aws-architecture-blueprints)",
            **kwargs,
        )
        self.settings = settings
        removal = stage.removal_policy
        nat = settings.nat_gateways > 0
        self.vpc = house_vpc(
            self,
            "Network",
            availability_zones=availability_zones,
            log_retention_days=stage.log_retention_days,
            removal_policy=removal,
            public_subnets=True,  # internet-facing load balancers (and the NAT, if any)
            nat_gateways=settings.nat_gateways,
        )
        self.node_subnets = PRIVATE_WITH_EGRESS if nat else ISOLATED
        if not nat:  # CDK tags only private-with-egress subnets for internal load balancers
            for subnet in self.vpc.isolated_subnets:
                cdk.Tags.of(subnet).add("kubernetes.io/role/internal-elb", "1")
        # Free, and keeps image layers (ECR serves them from S3) off the NAT's per-GB charge.
        s3_endpoint = self.vpc.add_gateway_endpoint(
            "S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[self.node_subnets]
        )
        # What nodes need before they boot: their subnets' default routes (through the NAT),
        # or the endpoints.
        self.path_out: list[IDependable] = (
            [
                self.vpc.select_subnets(
                    subnet_type=self.node_subnets.subnet_type
                ).internet_connectivity_established
            ]
            if nat
            else [s3_endpoint]
        )

        auto_mode = settings.compute == "automode"
        self.kubernetes = KubernetesCluster(
            self,
            "Kubernetes",
            vpc=self.vpc,
            subnets=self.node_subnets,
            cluster_name=self.stack_name,
            version=settings.kubernetes_version,
            public_access_cidrs=settings.public_access_cidrs,
            log_types=settings.control_plane_logs,
            log_retention_days=stage.log_retention_days,
            removal_policy=removal,
            deletion_protection=stage.keep_data,
            auto_mode_node_role=auto_mode_node_role(self, "AutoModeNodeRole")
            if auto_mode
            else None,
            admin_principal_arns=settings.admin_principal_arns,
        )
        self.endpoints: InterfaceEndpoints | None = None
        if settings.interface_endpoints:
            self.endpoints = InterfaceEndpoints(
                self,
                "Endpoints",
                vpc=self.vpc,
                subnets=self.node_subnets,
                services={
                    **ENDPOINTS_BY_COMPUTE[settings.compute],
                    **(INSIGHTS_ENDPOINTS if settings.container_insights else {}),
                },
                description="Interface endpoints: HTTPS from the cluster nodes and pods only",
            )
            self.endpoints.allow_from(
                self.kubernetes.security_group, description="HTTPS to AWS APIs from the cluster"
            )
            self.path_out.append(self.endpoints)
        if not nat:
            acknowledge(
                self.kubernetes.cluster,
                "Annotation::@aws-cdk/aws-eks:isolatedSubnetsForKubectlPrivateSubnets",
                "The isolated node subnets reach ECR, STS, EKS (and S3 through its gateway) "
                "through the interface endpoints this stack creates; no kubectl Lambda runs.",
            )

        self.node_groups: ManagedNodeGroups | None = None
        self.fargate: FargateProfiles | None = None
        self._compute_and_addons(settings)
        self.shared_files = (
            SharedFiles(
                self,
                "SharedFiles",
                vpc=self.vpc,
                subnets=self.node_subnets,
                clients=self.kubernetes.security_group,
                removal_policy=removal,
                backups=stage.keep_data,
            )
            if settings.efs
            else None
        )
        self._outputs(settings)

    def _compute_and_addons(self, settings: EksClusterSettings) -> None:
        """Capacity, then the add-ons whose pods need it. DaemonSet add-ons the nodes need to
        become Ready (VPC CNI, kube-proxy, the Pod Identity agent) come first; add-ons with
        Deployments wait for nodes, or EKS reports them DEGRADED and the stack times out."""
        kubernetes = self.kubernetes
        ready: list[IDependable] = list(self.path_out)
        if settings.compute == "nodegroups":
            node_addons = [
                kubernetes.add_addon("VpcCni", "vpc-cni"),
                kubernetes.add_addon("KubeProxy", "kube-proxy"),
                kubernetes.add_addon("PodIdentityAgent", "eks-pod-identity-agent"),
            ]
            self.node_groups = ManagedNodeGroups(
                self,
                "NodeGroups",
                cluster=kubernetes.cluster,
                subnets=self.node_subnets,
                node_os=settings.node_os,
                on_demand=NodeGroupSize(
                    (settings.on_demand_instance_type,),
                    settings.on_demand_nodes,
                    settings.on_demand_nodes,
                    settings.on_demand_max_nodes,
                ),
                spot=NodeGroupSize(
                    settings.spot_instance_types,
                    0,
                    settings.spot_nodes,
                    settings.spot_max_nodes,
                ),
                disk_gib=settings.node_disk_gib,
                after=[*self.path_out, *node_addons],
            )
            ready = [self.node_groups]
            kubernetes.add_addon("CoreDns", "coredns", after=ready)
            kubernetes.add_addon(
                "EbsCsi", "aws-ebs-csi-driver", pod_identity=EBS_CSI_IDENTITY, after=ready
            )
        elif settings.compute == "fargate":
            self.fargate = FargateProfiles(
                self,
                "Fargate",
                cluster=kubernetes.cluster,
                vpc=self.vpc,
                subnets=self.node_subnets,
                namespaces=settings.fargate_namespaces,
            )
            ready = [self.fargate.system, *self.path_out]
            # CoreDNS's own manifests pin it to EC2 nodes; the add-on's setting moves it.
            kubernetes.add_addon(
                "CoreDns", "coredns", configuration={"computeType": "Fargate"}, after=ready
            )
        kubernetes.add_addon("MetricsServer", "metrics-server", after=ready)
        if settings.efs and settings.compute != "fargate":  # Fargate runs the EFS driver itself
            kubernetes.add_addon("EfsCsi", "aws-efs-csi-driver", after=ready)
        if settings.container_insights:
            kubernetes.add_addon(
                "Observability",
                "amazon-cloudwatch-observability",
                pod_identity=CLOUDWATCH_IDENTITY,
                after=ready,
            )

    def _outputs(self, settings: EksClusterSettings) -> None:
        cluster = self.kubernetes.cluster
        cdk.CfnOutput(self, "ClusterName", value=cluster.cluster_name)
        cdk.CfnOutput(self, "Compute", value=settings.compute)
        cdk.CfnOutput(self, "KubernetesVersion", value=settings.kubernetes_version)
        cdk.CfnOutput(
            self,
            "ClusterAdminRoleArn",
            value=self.kubernetes.admin_role.role_arn,
            description="Assume it for kubectl as cluster admin (access entry)",
        )
        cdk.CfnOutput(
            self,
            "KubeconfigCommand",
            description="Writes a kubectl context that assumes the admin role"
            + (
                ""
                if settings.endpoint_access == "public_and_private"
                else " (the endpoint is private: run kubectl from inside the VPC)"
            ),
            value=cdk.Fn.join(
                "",
                [
                    "aws eks update-kubeconfig --name ",
                    cluster.cluster_name,
                    " --region ",
                    self.region,
                    " --role-arn ",
                    self.kubernetes.admin_role.role_arn,
                ],
            ),
        )
        ebs = {"automode": AUTO_MODE_EBS, "nodegroups": EBS_CSI}.get(settings.compute)
        manifest = storage_manifest(self, ebs_provisioner=ebs, shared_files=self.shared_files)
        if manifest is not None:
            cdk.CfnOutput(
                self,
                "StorageManifest",
                value=manifest,
                description="StorageClasses (+ the shared EFS volume and claim) for kubectl",
            )
            cdk.CfnOutput(
                self,
                "ApplyStorageCommand",
                value=(
                    f"aws cloudformation describe-stacks --stack-name {self.stack_name} "
                    f'--region {self.region} --query "Stacks[0].Outputs[?OutputKey=='
                    "'StorageManifest'].OutputValue\" --output text | kubectl apply -f -"
                ),
            )
        if self.shared_files is not None:
            cdk.CfnOutput(self, "FileSystemId", value=self.shared_files.file_system.file_system_id)
            cdk.CfnOutput(
                self,
                "SharedFilesAccessPointId",
                value=self.shared_files.access_point.access_point_id,
            )


def build(app: cdk.App, stage: StageSettings, settings: EksClusterSettings) -> list[cdk.Stack]:
    """EksCluster in the stage's region, and EksCluster<Region> for each of `regions`: one
    cluster per region, nothing shared between them (no cross-region references)."""
    check_stage(stage, settings)
    stacks: list[cdk.Stack] = [
        EksClusterStack(
            app,
            STACK_ID,
            stage=stage,
            settings=settings,
            availability_zones=stage.availability_zones,
            **stage.stack_kwargs(STACK_ID),
        )
    ]
    for region in settings.regions:
        stack_id = regional_stack_id(region)
        stacks.append(
            EksClusterStack(
                app,
                stack_id,
                stage=stage,
                settings=settings,
                # The stage's AZs are its own region's; elsewhere CloudFormation picks two
                # (Fn::GetAZs), so the synth needs no account or lookup.
                availability_zones=(),
                stack_name=stage.stack_name(stack_id),
                env=cdk.Environment(account=stage.environment.account, region=region),
            )
        )
    return stacks
