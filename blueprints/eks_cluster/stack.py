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

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct, IDependable

from blueprints.eks_cluster.settings import EksClusterSettings
from house.compliance import acknowledge
from house.network import ISOLATED, PRIVATE_WITH_EGRESS, InterfaceEndpoints
from house.network import vpc as house_vpc
from house.settings import Instance, StageSettings, pascal
from patterns.kubernetes.cluster import KubernetesCluster, PodIdentity
from patterns.kubernetes.compute import (
    FargateProfiles,
    ManagedNodeGroups,
    NodeGroupSize,
    auto_mode_node_role,
)
from patterns.kubernetes.storage import AUTO_MODE_EBS, EBS_CSI, SharedFiles, storage_manifest

SETTINGS = EksClusterSettings
STACK_IDS = ("EksCluster",)

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
    reason="AmazonEBSCSIDriverPolicy is the AWS managed policy the EBS CSI driver documents for "
    "its controller: it creates and deletes only volumes and snapshots tagged as the driver's, "
    "attaches and detaches volumes to the nodes it names at run time, and reads with EC2 "
    "Describe calls, which support no resource-level permissions; AWS updates it with the driver.",
)
CLOUDWATCH_IDENTITY = PodIdentity(
    namespace="amazon-cloudwatch",
    service_account="cloudwatch-agent",
    managed_policies=("CloudWatchAgentServerPolicy",),
    reason="CloudWatchAgentServerPolicy is the AWS managed policy the CloudWatch Observability "
    "add-on documents for its agent: cloudwatch:PutMetricData supports no resource-level "
    "permissions, and the log groups it creates and writes are named per cluster and node "
    "by the agent at run time; AWS updates it with the agent.",
)


def regional_stack_id(stack_id: str, region: str) -> str:
    """`EksClusterEuWest1` for the home stack `EksCluster` and eu-west-1: one stack per
    extra region, named after the instance's home stack (`TeamK8sEuWest1` for `TeamK8s`)."""
    return stack_id + pascal(region)


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


def build(app: cdk.App, instance: Instance[EksClusterSettings]) -> list[cdk.Stack]:
    """The home stack in the stage's region, and `<home stack id><Region>` for each of
    `regions`: one cluster per region, nothing shared between them (no cross-region
    references, no dependencies), each deployed, smoked and destroyed on its own."""
    stage, settings = instance.stage, instance.settings
    (home,) = instance.stack_ids(*STACK_IDS)
    stacks: list[cdk.Stack] = [
        EksClusterStack(
            app,
            home,
            stage=stage,
            settings=settings,
            availability_zones=stage.availability_zones,
            **stage.stack_kwargs(home),
        )
    ]
    for region in settings.regions:
        stack_id = regional_stack_id(home, region)
        if app.node.try_find_child(stack_id) is not None:
            raise ValueError(
                f"setting '{instance.setting('regions')}' lists {region}, whose stack "
                f"{stack_id} has the id of a stack another instance built; give one of the "
                "instances another key"
            )
        stacks.append(
            EksClusterStack(
                app,
                stack_id,
                stage=stage,
                settings=settings,
                # The stage's AZs are its own region's; elsewhere CloudFormation picks two
                # (Fn::GetAZs), so the synth needs no account or lookup.
                availability_zones=(),
                **{
                    **stage.stack_kwargs(stack_id),
                    "env": cdk.Environment(account=stage.environment.account, region=region),
                },
            )
        )
    return stacks
