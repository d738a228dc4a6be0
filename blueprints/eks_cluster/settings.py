"""EksCluster's settings: `blueprints.<instance>.<stage>` in cdk.json. Defaults are the cheapest
sound (dev) profile; docs/eks-cluster.md lists every setting with the shipped dev and prod
values, and says what each choice costs while idle."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, model_validator

from house.settings import Settings, require
from house.types import (
    GravitonInstanceType,
    IamPrincipalArn,
    InstanceType,
    Ipv4Cidr,
    KubernetesNamespace,
    Region,
    is_graviton,
)
from patterns.kubernetes.cluster import CONTROL_PLANE_LOG_TYPES, KUBERNETES_VERSIONS
from patterns.kubernetes.compute import NODE_OPERATING_SYSTEMS

# EKS allows 10 Fargate profiles per cluster (service quotas); kube-system takes one.
MAX_FARGATE_NAMESPACES = 9
# Nodes per managed node group (EKS service quotas).
MAX_GROUP_NODES = 450


class EksClusterSettings(Settings):
    # -- control plane --
    kubernetes_version: Literal[KUBERNETES_VERSIONS] = Field(  # type: ignore[valid-type]
        "1.36",
        description="The Kubernetes minor version, pinned (never 'latest'). The upgrade policy "
        "is STANDARD: at the end of standard support EKS upgrades the cluster instead of "
        "billing extended support. `make preflight` checks the region still gives the "
        "version standard support.",
    )
    compute: Literal["automode", "nodegroups", "fargate"] = Field(
        "nodegroups",
        description="Where pods run: 'automode' (EKS launches, patches and retires the nodes; "
        "a management fee per node on top of EC2), 'nodegroups' (an On-Demand Graviton group "
        "and a Spot group of your types) or 'fargate' (a micro-VM per pod; no DaemonSets, no "
        "EBS, no Pod Identity).",
    )
    endpoint_access: Literal["public_and_private", "private"] = Field(
        "private",
        description="'public_and_private': the Kubernetes API is public for public_access_cidrs "
        "only (nodes use the private endpoint); 'private': reachable from the VPC (and what is "
        "connected to it) only.",
    )
    public_access_cidrs: tuple[Ipv4Cidr, ...] = Field(
        (),
        description="The networks that may reach a public endpoint (your address as "
        "x.x.x.x/32); never 0.0.0.0/0. Empty with a private endpoint.",
    )
    control_plane_logs: tuple[Literal[CONTROL_PLANE_LOG_TYPES], ...] = Field(  # type: ignore[valid-type]
        ("audit",),
        description="Control-plane log types sent to /aws/eks/<cluster>/cluster (billed per GB "
        "ingested and stored).",
    )
    admin_principal_arns: tuple[IamPrincipalArn, ...] = Field(
        (),
        description="IAM roles or users given cluster-admin access entries, besides the "
        "stack's own admin role.",
    )
    # -- network --
    nat_gateways: int = Field(
        1,
        ge=0,
        le=3,
        description="NAT gateways for the node subnets (one per AZ at most); 0 = isolated node "
        "subnets, which then need interface_endpoints. Each bills per hour and per GB.",
    )
    interface_endpoints: bool = Field(
        False,
        description="Interface endpoints to the AWS APIs the nodes call (ECR, STS, EKS, ...): "
        "each bills per hour in every AZ. Required when nat_gateways is 0.",
    )
    # -- add-ons --
    container_insights: bool = Field(
        False,
        description="Container Insights (the amazon-cloudwatch-observability add-on; billed "
        "per metric observation and per GB of logs). Not with compute fargate.",
    )
    efs: bool = Field(
        True,
        description="A shared EFS file system for pods (+ the EFS CSI add-on where the nodes "
        "are EC2); billed per GB stored.",
    )
    # -- compute: nodegroups --
    node_os: Literal[NODE_OPERATING_SYSTEMS] = Field(  # type: ignore[valid-type]
        "al2023", description="The node groups' OS: 'al2023' or 'bottlerocket'."
    )
    on_demand_instance_type: GravitonInstanceType = Field(
        "t4g.medium", description="The On-Demand node group's instance type (Graviton)."
    )
    on_demand_nodes: int = Field(
        1,
        ge=1,
        le=MAX_GROUP_NODES,
        description="Nodes the On-Demand group runs (its minimum and desired size); at least "
        "1, for CoreDNS and the add-on controllers.",
    )
    on_demand_max_nodes: int = Field(
        2, ge=1, le=MAX_GROUP_NODES, description="Most nodes the On-Demand group may run."
    )
    spot_instance_types: tuple[InstanceType, ...] = Field(
        ("t4g.medium", "t4g.large", "m7g.medium", "m6g.medium"),
        description="The Spot group's instance types: at least 2 (Spot capacity of one type "
        "can run out), all Graviton or all x86_64 (one AMI per group).",
    )
    spot_nodes: int = Field(
        0,
        ge=0,
        le=MAX_GROUP_NODES,
        description="Nodes the Spot group runs (desired size; its minimum is 0). Managed node "
        "groups change size only when told: this, or an autoscaler you install.",
    )
    spot_max_nodes: int = Field(
        3, ge=1, le=MAX_GROUP_NODES, description="Most nodes the Spot group may run."
    )
    node_disk_gib: int = Field(
        20,
        ge=20,
        le=16_384,
        description="Each node group node's encrypted gp3 disk, in GiB (the EKS AMIs need 20).",
    )
    # -- compute: fargate --
    fargate_namespaces: tuple[KubernetesNamespace, ...] = Field(
        ("default",),
        min_length=1,
        max_length=MAX_FARGATE_NAMESPACES,
        description="Namespaces whose pods run on Fargate, a profile each (kube-system always "
        f"has one; at most {MAX_FARGATE_NAMESPACES}).",
    )
    # -- regions --
    regions: tuple[Region, ...] = Field(
        (),
        description="Regions beyond the stage's own, each with a cluster of its own (stack "
        "<StackId><Region>, e.g. EksClusterEuWest1), sharing nothing with the home stack.",
    )

    @model_validator(mode="after")
    def _cluster_rules(self, info: ValidationInfo) -> EksClusterSettings:
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
            require(
                not cidr.endswith("/0"),
                "public_access_cidrs",
                cidr,
                "that is the whole internet; list the networks that run kubectl",
            )
        for name in (
            "public_access_cidrs",
            "control_plane_logs",
            "admin_principal_arns",
            "spot_instance_types",
            "fargate_namespaces",
            "regions",
        ):
            values = getattr(self, name)
            require(len(set(values)) == len(values), name, values, "each value at most once")
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
        require(
            len(self.spot_instance_types) >= 2,
            "spot_instance_types",
            self.spot_instance_types,
            "a Spot group needs several instance types (Spot capacity of one type can run "
            "out, and the group then gets no nodes); list at least 2 of one architecture",
        )
        require(
            len({is_graviton(t) for t in self.spot_instance_types}) == 1,
            "spot_instance_types",
            self.spot_instance_types,
            "one node group runs one AMI: all Graviton (arm64) or all x86_64",
        )
        require(
            self.on_demand_nodes <= self.on_demand_max_nodes,
            "on_demand_nodes",
            self.on_demand_nodes,
            f"allowed: 1..on_demand_max_nodes ({self.on_demand_max_nodes})",
        )
        require(
            self.spot_nodes <= self.spot_max_nodes,
            "spot_nodes",
            self.spot_nodes,
            f"allowed: 0..spot_max_nodes ({self.spot_max_nodes})",
        )
        require(
            "kube-system" not in self.fargate_namespaces,
            "fargate_namespaces",
            self.fargate_namespaces,
            "kube-system always has its own profile; list your workloads' namespaces",
        )
        stage = (info.context or {}).get("stage")
        if stage is not None and stage.region:
            require(
                stage.region not in self.regions,
                "regions",
                self.regions,
                f"{stage.region} is stages.{stage.name}.region, where the home stack is "
                "already; list only further regions",
            )
        return self
