"""Idle cost of each stack, computed from its synthesized template and docgen/prices.toml.

"Idle" = what a stack costs per month while nobody uses it: every resource that bills by the
hour or month whatever the traffic (NAT gateways and their Elastic IPs, public IPv4 addresses,
load balancers, instances and tasks at their minimum count, interface endpoints per AZ, database
and cache nodes, keys, web ACLs, secrets, API caches, alarms, Container Insights metrics).
Everything that bills by use goes to the per-request table with its unit price. Assumptions:
us-east-1 list prices, on demand (Fargate Spot where the template asks for it), 730 hours a
month, zero traffic, no free tier.

Every resource type in a template must be known here (idle-priced, per-request or free): a new
type fails `make docs` and the tests until someone decides what it costs.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from deployment.rules_eks import DEPLOYMENT_ADDONS
from docgen.assembly import Assembly, Stack
from docgen.prices import Price, PriceTable, prices

# What CloudWatch bills for a Fargate cluster with Container Insights (standard, not enhanced):
# custom metrics per dimension set, for the cluster and for each service and task family that has
# running tasks (no running task, no metric). Counted from the metric list of
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html
CONTAINER_INSIGHTS_METRICS = {"cluster": 12, "service": 15, "task family": 10}
# EC2 detailed monitoring bills each instance's 1-minute metrics as custom metrics; the
# CloudWatch pricing page's own example counts 7 per instance.
DETAILED_MONITORING_METRICS = 7
# Application/EC2 Auto Scaling creates two CloudWatch alarms per target-tracking policy.
TARGET_TRACKING_ALARMS = 2
# EKS Auto Mode launches nodes only for pods that need them; the add-ons with Deployments
# (metrics-server, the CSI controllers, ...) need one. Which type it picks is its choice: the
# built-in general-purpose pool takes on-demand amd64 C/M/R types of generation 5 or newer
# (EKS user guide, "Enable or Disable Built-in NodePools"), and this assumes the smallest such
# node: one c6a.large (2 vCPU, 4 GiB). A first deploy checks with `kubectl get nodeclaims`.
AUTO_MODE_IDLE_NODES = 1
AUTO_MODE_IDLE_NODE_TYPE = "c6a.large"
# The default NodeClass gives each Auto Mode node an 80 GiB gp3 volume (EKS user guide,
# "Create a Node Class": ephemeralStorage.size defaults to 80Gi).
AUTO_MODE_NODE_STORAGE_GB = 80
# Bottlerocket nodes have a small OS volume besides the data volume a launch template sizes.
BOTTLEROCKET_OS_VOLUME_GB = 2
# Add-on pods that run on Fargate when the cluster has no nodes, replicas each (EKS's defaults
# for the CoreDNS and metrics-server add-ons), each rounded up by Fargate to its smallest size.
FARGATE_SYSTEM_PODS = {"coredns": 2, "metrics-server": 2}
FARGATE_SMALLEST_POD = (0.25, 0.5)  # vCPU, GB
# What ECS Express Mode creates per service outside the template, with the infrastructure role
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/express-service-work.html): an
# Application Load Balancer (shared by up to 25 Express services in the same subnets: priced
# here as one per service, the most it can be), a target-tracking policy (two alarms) and one
# alarm that rolls a bad deployment back. Its tasks run on Fargate, x86_64 unless told.
EXPRESS_OUTSIDE = "created by Express Mode, outside the template"
EXPRESS_ALARMS = TARGET_TRACKING_ALARMS + 1


@dataclass(frozen=True)
class Line:
    """One idle cost line: `count` × `price` for `hours` a month (or per month)."""

    item: str
    count: float
    price: Price
    hours: float | None = None  # None: the price is per month already
    note: str = ""

    @property
    def monthly(self) -> float:
        return self.count * self.price.usd * (self.hours if self.hours is not None else 1)

    def formula(self) -> str:
        count = f"{self.count:g}" + (f" ({self.note})" if self.note else "")
        if self.hours is None:
            rate = f"{count} × {usd(self.price.usd)}"
        else:
            hours = f"{self.hours:g} h"
            rate = f"{count} × {usd(self.price.usd, 5)}/h × {hours}"
        return f"{rate} = {usd(self.monthly)}"


@dataclass(frozen=True)
class Rate:
    """A per-request price that applies to a stack: what, and its unit price."""

    item: str
    price: Price


@dataclass
class StackCost:
    stack: str
    stage: str
    lines: list[Line] = field(default_factory=list)
    rates: list[Rate] = field(default_factory=list)

    @property
    def monthly(self) -> float:
        return round(sum(line.monthly for line in self.lines), 2)


def usd(value: float, digits: int = 2) -> str:
    """Dollars with two decimals, or with up to `digits` where a unit price needs them."""
    if digits == 2 or value >= 1:
        return f"${value:,.2f}"
    text = f"{value:.{digits}f}".rstrip("0")
    decimals = len(text.split(".")[1])
    return f"${value:.{max(decimals, 2)}f}"


# ---------------------------------------------------------------------------------------------
# Reading templates


def ref(value) -> str | None:
    """The logical id a `Ref` or `Fn::GetAtt` points to, else None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def launch_template_of(group_properties: dict) -> str | None:
    """Logical id of an Auto Scaling group's launch template: its own, or its mixed instances
    policy's (fallback instance types)."""
    spec = group_properties.get("LaunchTemplate") or (
        group_properties.get("MixedInstancesPolicy", {})
        .get("LaunchTemplate", {})
        .get("LaunchTemplateSpecification", {})
    )
    return ref(spec.get("LaunchTemplateId"))


def refs_in(value) -> set[str]:
    """Every logical id a value refers to, at any depth."""
    found: set[str] = set()
    if isinstance(value, dict):
        target = ref(value)
        if target:
            found.add(target)
        for inner in value.values():
            found |= refs_in(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs_in(inner)
    return found


def props(resource: dict) -> dict:
    return resource.get("Properties", {})


def construct_name(resource: dict) -> str:
    """The resource's construct under its stack (`FargateService/Web/Service/Service` -> Web)."""
    path = resource.get("Metadata", {}).get("aws:cdk:path", "")
    parts = path.split("/")
    return parts[1] if len(parts) > 2 else path


ARCH_NAMES = {"X86_64": "x86", "ARM64": "Arm", "x86_64": "x86", "arm64": "Arm"}
PROVIDER_NAMES = {"FARGATE": "on demand", "FARGATE_SPOT": "Spot"}


def plumbing_functions(stack: Stack) -> set[str]:
    """Lambda functions that only back custom resources (run at deploy time, not by users)."""
    found = set()
    for resource in stack.resources.values():
        if resource["Type"].startswith("Custom::") or resource["Type"] == (
            "AWS::CloudFormation::CustomResource"
        ):
            target = ref(props(resource).get("ServiceToken"))
            if target:
                found.add(target)
    return found


def subnet_kinds(stack: Stack) -> dict[str, str]:
    """Subnet logical id -> public (route to an internet gateway), private (NAT) or isolated."""
    table_kind: dict[str, str] = {}
    for route in stack.of_type("AWS::EC2::Route").values():
        p = props(route)
        table = ref(p.get("RouteTableId"))
        if "GatewayId" in p:
            table_kind[table] = "public"
        elif "NatGatewayId" in p and table_kind.get(table) != "public":
            table_kind[table] = "private"
    kinds = {subnet: "isolated" for subnet in stack.of_type("AWS::EC2::Subnet")}
    for association in stack.of_type("AWS::EC2::SubnetRouteTableAssociation").values():
        p = props(association)
        subnet, table = ref(p.get("SubnetId")), ref(p.get("RouteTableId"))
        if subnet in kinds:
            kinds[subnet] = table_kind.get(table, "isolated")
    for subnet, resource in stack.of_type("AWS::EC2::Subnet").items():
        if props(resource).get("MapPublicIpOnLaunch") is True:
            kinds[subnet] = "public"
    return kinds


def count_subnets(value) -> int:
    return len(value) if isinstance(value, list) else 1


# ---------------------------------------------------------------------------------------------
# The model: one function per resource type that costs money while idle.


class Model:
    def __init__(self, stack: Stack, table: PriceTable):
        self.stack = stack
        self.p = table
        self.hours = table.hours_per_month
        self.lines: list[Line] = []

    def add(self, item, count, price: Price, hourly=True, note=""):
        if count:
            self.lines.append(Line(item, count, price, self.hours if hourly else None, note))

    def resource(self, logical_id: str) -> dict:
        return self.stack.resources[logical_id]

    # -- networking

    def nat_gateway(self, _id, _r):
        self.add("NAT gateway", 1, self.p("nat_gateway_hour"))

    def eip(self, _id, _r):
        self.add("Public IPv4: Elastic IP (NAT gateway)", 1, self.p("public_ipv4_hour"))

    def vpc_endpoint(self, _id, r):
        if props(r).get("VpcEndpointType") == "Interface":
            azs = count_subnets(props(r).get("SubnetIds", []))
            self.add("Interface endpoint × AZ", azs, self.p("interface_endpoint_hour"))

    def load_balancer(self, _id, r):
        p = props(r)
        kind = p.get("Type", "application")
        if kind != "application":
            raise ValueError(f"{self.stack.id}/{_id}: no cost model for a {kind} load balancer")
        self.add("Application Load Balancer", 1, self.p("alb_hour"))
        if p.get("Scheme", "internet-facing") == "internet-facing":
            azs = count_subnets(p.get("Subnets", p.get("SubnetMappings", [])))
            self.add("Public IPv4: load balancer (one per AZ)", azs, self.p("public_ipv4_hour"))

    def hosted_zone(self, _id, _r):
        self.add("Route 53 hosted zone", 1, self.p("route53_hosted_zone_month"), hourly=False)

    # -- compute

    def auto_scaling_group(self, _id, r):
        p = props(r)
        count = int(p.get("DesiredCapacity", p.get("MinSize", 0)))
        template_id = launch_template_of(p)
        if not template_id:
            raise ValueError(f"{self.stack.id}/{_id}: no cost model without a launch template")
        data = props(self.resource(template_id))["LaunchTemplateData"]
        # Priced at the type it launches first; fallbacks run only when that one has no capacity.
        itype = data["InstanceType"]
        self.add(f"EC2 {itype} (Auto Scaling minimum)", count, self.p("ec2_instance_hour", itype))
        kinds = subnet_kinds(self.stack)
        subnets = [ref(s) for s in p.get("VPCZoneIdentifier", [])]
        interfaces = data.get("NetworkInterfaces", [{}])
        public = interfaces[0].get("AssociatePublicIpAddress")
        if public is None:
            public = all(kinds.get(s) == "public" for s in subnets) and bool(subnets)
        if public:
            self.add("Public IPv4: EC2 instance", count, self.p("public_ipv4_hour"))
        for mapping in data.get("BlockDeviceMappings", []):
            ebs = mapping.get("Ebs", {})
            if ebs.get("VolumeType", "gp3") != "gp3":
                raise ValueError(f"{self.stack.id}/{template_id}: only gp3 volumes are priced")
            gigabytes = int(ebs.get("VolumeSize", 8))
            self.add(
                f"EBS gp3 root volume ({gigabytes} GB per instance)",
                count * gigabytes,
                self.p("ebs_gp3_gb_month"),
                hourly=False,
            )
        if data.get("Monitoring", {}).get("Enabled"):
            self.add(
                f"EC2 detailed monitoring ({DETAILED_MONITORING_METRICS} metrics per instance)",
                count * DETAILED_MONITORING_METRICS,
                self.p("cloudwatch_metric_month"),
                hourly=False,
            )

    def ecs_service(self, service_id, r):
        p = props(r)
        desired = int(p.get("DesiredCount", 1))
        task = props(self.resource(ref(p["TaskDefinition"])))
        if "FARGATE" not in task.get("RequiresCompatibilities", []):
            return  # tasks on EC2 capacity: the instances are the cost (their ASG's line)
        name = construct_name(r)
        cpu = int(task["Cpu"]) / 1024
        memory = int(task["Memory"]) / 1024
        arch = task.get("RuntimePlatform", {}).get("CpuArchitecture", "X86_64")
        split = self.capacity_split(p, desired)
        size = f"{cpu:g} vCPU, {memory:g} GB, {ARCH_NAMES.get(arch, arch)}"
        for provider, tasks in split.items():
            if provider == "EC2":
                continue  # on the EC2 capacity provider's instances: their ASG's line
            self.fargate_tasks(
                f"Fargate: {name} tasks ({PROVIDER_NAMES.get(provider, provider)})",
                size,
                tasks,
                cpu,
                memory,
                arch,
                spot=provider == "FARGATE_SPOT",
                hours=self.hours,
            )
        public = p.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
        if public.get("AssignPublicIp") == "ENABLED":
            self.add(f"Public IPv4: {name} task", desired, self.p("public_ipv4_hour"))
        for extra, hours_per_week in self.scheduled_extra_tasks(service_id, desired):
            extra_split = self.capacity_split(p, desired + extra)
            for provider, tasks in extra_split.items():
                added = tasks - split.get(provider, 0)
                self.fargate_tasks(
                    f"Fargate: {name} scheduled scale-out ("
                    f"{PROVIDER_NAMES.get(provider, provider)}, {hours_per_week:g} h/week)",
                    size,
                    added,
                    cpu,
                    memory,
                    arch,
                    spot=provider == "FARGATE_SPOT",
                    hours=round(hours_per_week * 52 / 12, 2),
                )

    def fargate_tasks(self, item, size, tasks, cpu, memory, arch, spot, hours):
        if not tasks:
            return
        vcpu = self.p("fargate_vcpu_hour", arch)
        gigabyte = self.p("fargate_gb_hour", arch)
        hourly = cpu * vcpu.usd + memory * gigabyte.usd
        if spot:
            if arch != "X86_64":
                raise ValueError(f"{self.stack.id}: Fargate Spot runs x86 tasks only")
            hourly *= self.p("fargate_spot_fraction").usd
        price = Price(
            key=f"{vcpu.key}+{gigabyte.key}" + ("×spot" if spot else ""),
            usd=round(hourly, 6),
            unit=f"task-hour ({cpu:g} vCPU, {memory:g} GB)",
            source=vcpu.source,
            checked=vcpu.checked,
            confirmed=vcpu.confirmed,
        )
        self.lines.append(Line(item, tasks, price, hours, note=size))

    def capacity_split(self, service: dict, tasks: int) -> dict[str, float]:
        strategy = service.get("CapacityProviderStrategy")
        if not strategy:
            if service.get("LaunchType", "FARGATE") == "FARGATE":
                return {"FARGATE": tasks}
            strategy = self.cluster_default_strategy()
        strategy = [  # an EC2 capacity provider is a reference: its instances are the cost
            {**i, "CapacityProvider": i["CapacityProvider"]}
            if isinstance(i["CapacityProvider"], str)
            else {**i, "CapacityProvider": "EC2"}
            for i in strategy
        ]
        split: dict[str, float] = defaultdict(float)
        left = tasks
        for item in strategy:
            base = min(int(item.get("Base", 0)), left)
            split[item["CapacityProvider"]] += base
            left -= base
        weights = {i["CapacityProvider"]: int(i.get("Weight", 0)) for i in strategy}
        total = sum(weights.values())
        for provider, weight in weights.items():
            if total and left:
                split[provider] += left * weight / total
        return {k: v for k, v in split.items() if v}

    def cluster_default_strategy(self) -> list[dict]:
        for r in self.stack.of_type("AWS::ECS::ClusterCapacityProviderAssociations").values():
            return props(r).get("DefaultCapacityProviderStrategy", [])
        return [{"CapacityProvider": "FARGATE", "Weight": 1}]

    def scheduled_extra_tasks(self, service_id: str, desired: int):
        """(extra tasks, hours a week) for each scheduled scale-out of this service."""
        for target in self.stack.of_type("AWS::ApplicationAutoScaling::ScalableTarget").values():
            p = props(target)
            if service_id not in refs_in(p.get("ResourceId")):
                continue
            actions = p.get("ScheduledActions", [])
            ups = [a for a in actions if a["ScalableTargetAction"].get("MinCapacity", 0) > desired]
            for up in ups:
                downs = [a for a in actions if a is not up]
                if len(downs) != 1:
                    raise ValueError(f"{self.stack.id}: cannot price schedule {actions}")
                hours = weekly_hours(up["Schedule"], downs[0]["Schedule"])
                yield up["ScalableTargetAction"]["MinCapacity"] - desired, hours

    def express_service(self, _id, r):
        """ECS Express Mode: the template holds one resource; the tasks, the load balancer and
        the alarms it bills for come from its properties (EXPRESS_OUTSIDE)."""
        p = props(r)
        scaling = p.get("ScalingTarget", {})
        tasks = int(scaling.get("MinTaskCount", 1))
        cpu = int(p.get("Cpu", "256")) / 1024
        memory = int(p.get("Memory", "512")) / 1024
        self.fargate_tasks(
            f"Fargate: Express service tasks (minimum, {EXPRESS_OUTSIDE})",
            f"{cpu:g} vCPU, {memory:g} GB, x86",
            tasks,
            cpu,
            memory,
            "X86_64",
            spot=False,
            hours=self.hours,
        )
        kinds = subnet_kinds(self.stack)
        subnets = [ref(s) for s in p.get("NetworkConfiguration", {}).get("Subnets", [])]
        public = bool(subnets) and all(kinds.get(s) == "public" for s in subnets)
        if public:
            self.add("Public IPv4: Express service task", tasks, self.p("public_ipv4_hour"))
        self.add(
            f"Application Load Balancer ({EXPRESS_OUTSIDE}; shared by up to 25 services)",
            1,
            self.p("alb_hour"),
        )
        if public:  # internet-facing: one public address per AZ of the subnets
            self.add(
                f"Public IPv4: load balancer, one per AZ ({EXPRESS_OUTSIDE})",
                len(subnets),
                self.p("public_ipv4_hour"),
            )
        self.add(
            f"CloudWatch alarms (scaling and rollback, {EXPRESS_OUTSIDE})",
            EXPRESS_ALARMS,
            self.p("cloudwatch_alarm_month"),
            hourly=False,
        )

    def app_runner_service(self, _id, r):
        """App Runner bills the memory of its provisioned instances while idle (the auto
        scaling configuration's MinSize), CPU only while they serve requests."""
        p = props(r)
        memory = int(p["InstanceConfiguration"]["Memory"]) / 1024
        scaling_id = ref(p.get("AutoScalingConfigurationArn"))
        minimum = int(props(self.resource(scaling_id)).get("MinSize", 1)) if scaling_id else 1
        self.add(
            f"App Runner provisioned instances ({memory:g} GB memory each)",
            minimum * memory,
            self.p("app_runner_provisioned_gb_hour"),
            note=f"{minimum} × {memory:g} GB",
        )

    def rds_instance(self, _id, r):
        p = props(r)
        cls = p["DBInstanceClass"]
        if cls != "db.serverless":
            raise ValueError(f"{self.stack.id}/{_id}: no cost model for RDS class {cls}")
        cluster = props(self.resource(ref(p["DBClusterIdentifier"])))
        if not cluster.get("Engine", "").startswith("aurora"):
            raise ValueError(f"{self.stack.id}/{_id}: only Aurora Serverless v2 is priced")
        acu = cluster["ServerlessV2ScalingConfiguration"]["MinCapacity"]
        # At 0 ACU an idle instance pauses and bills no capacity (storage only, per use).
        self.add(
            "Aurora Serverless v2 minimum ACUs (writer and readers)", acu, self.p("aurora_acu_hour")
        )

    def ecs_cluster(self, cluster_id, r):
        settings = {s["Name"]: s["Value"] for s in props(r).get("ClusterSettings", [])}
        insights = settings.get("containerInsights", "disabled")
        if insights == "disabled":
            return
        if insights != "enabled":
            raise ValueError(f"{self.stack.id}: no cost model for Container Insights {insights!r}")
        running = []
        for service in self.stack.of_type("AWS::ECS::Service").values():
            p = props(service)
            if ref(p.get("Cluster")) == cluster_id and int(p.get("DesiredCount", 1)) > 0:
                running.append(ref(p["TaskDefinition"]))
        families = {props(self.resource(t)).get("Family", t) for t in running}
        # An Express service is one service and one task family (its own task definition).
        express = [
            e
            for e in self.stack.of_type("AWS::ECS::ExpressGatewayService").values()
            if refs_in(props(e).get("Cluster")) == {cluster_id}
            and int(props(e).get("ScalingTarget", {}).get("MinTaskCount", 1)) > 0
        ]
        metrics = (
            CONTAINER_INSIGHTS_METRICS["cluster"]
            + CONTAINER_INSIGHTS_METRICS["service"] * (len(running) + len(express))
            + CONTAINER_INSIGHTS_METRICS["task family"] * (len(families) + len(express))
        )
        self.add(
            "Container Insights metrics (cluster, running services, task families)",
            metrics,
            self.p("cloudwatch_metric_month"),
            hourly=False,
        )

    # -- Kubernetes (EKS)

    def eks_cluster(self, cluster_id, r):
        p = props(r)
        # Billed at the standard rate while the version is in standard support, whatever the
        # upgrade policy; the policy decides what comes after (per_request_rates).
        self.add("EKS control plane (standard support)", 1, self.p("eks_cluster_hour", "standard"))
        if not (p.get("ComputeConfig") or {}).get("Enabled"):
            return
        nodes = AUTO_MODE_IDLE_NODES if self.eks_addons(cluster_id) & DEPLOYMENT_ADDONS else 0
        itype = AUTO_MODE_IDLE_NODE_TYPE
        self.add(
            f"EC2 {itype} (the Auto Mode node the add-ons' pods need, assumed)",
            nodes,
            self.p("ec2_instance_hour", itype),
        )
        self.add(
            f"EKS Auto Mode fee for that node ({itype})",
            nodes,
            self.p("eks_auto_mode_fee_hour", itype),
        )
        self.add(
            f"EBS gp3 node storage ({AUTO_MODE_NODE_STORAGE_GB} GB per Auto Mode node)",
            nodes * AUTO_MODE_NODE_STORAGE_GB,
            self.p("ebs_gp3_gb_month"),
            hourly=False,
        )

    def eks_addons(self, cluster_id: str) -> set[str]:
        return {
            props(a).get("AddonName")
            for a in self.stack.of_type("AWS::EKS::Addon").values()
            if ref(props(a).get("ClusterName")) == cluster_id
        }

    def eks_nodegroup(self, group_id, r):
        p = props(r)
        scaling = p.get("ScalingConfig", {})
        count = int(scaling.get("DesiredSize", scaling.get("MinSize", 1)))
        # EKS launches t3.medium when a group names no type.
        itype = (p.get("InstanceTypes") or ["t3.medium"])[0]
        spot = p.get("CapacityType") == "SPOT"
        what = "Spot node group, priced at On-Demand: an upper bound" if spot else "node group"
        self.add(f"EC2 {itype} ({what})", count, self.p("ec2_instance_hour", itype))
        data = {}
        template_id = ref((p.get("LaunchTemplate") or {}).get("Id"))
        if template_id:
            data = props(self.resource(template_id)).get("LaunchTemplateData", {})
        disks = [m.get("Ebs", {}) for m in data.get("BlockDeviceMappings", [])] or [
            {"VolumeSize": p.get("DiskSize", 20), "VolumeType": "gp3"}
        ]
        gigabytes = 0
        for ebs in disks:
            if ebs.get("VolumeType", "gp3") != "gp3":
                raise ValueError(f"{self.stack.id}/{group_id}: only gp3 volumes are priced")
            gigabytes += int(ebs.get("VolumeSize", 20))
        if str(p.get("AmiType", "")).startswith("BOTTLEROCKET"):
            gigabytes += BOTTLEROCKET_OS_VOLUME_GB
        self.add(
            f"EBS gp3 node disks ({gigabytes} GB per node)",
            count * gigabytes,
            self.p("ebs_gp3_gb_month"),
            hourly=False,
        )
        if data.get("Monitoring", {}).get("Enabled"):
            self.add(
                f"EC2 detailed monitoring ({DETAILED_MONITORING_METRICS} metrics per instance)",
                count * DETAILED_MONITORING_METRICS,
                self.p("cloudwatch_metric_month"),
                hourly=False,
            )

    def eks_fargate_profile(self, _id, r):
        p = props(r)
        if "kube-system" not in {s.get("Namespace") for s in p.get("Selectors", [])}:
            return  # pods of your namespaces: billed by use
        cluster_id = ref(p.get("ClusterName"))
        groups = [
            g
            for g in self.stack.of_type("AWS::EKS::Nodegroup").values()
            if ref(props(g).get("ClusterName")) == cluster_id
        ]
        cluster = props(self.resource(cluster_id)) if cluster_id in self.stack.resources else {}
        if groups or (cluster.get("ComputeConfig") or {}).get("Enabled"):
            return  # the add-ons' pods prefer the nodes
        cpu, memory = FARGATE_SMALLEST_POD
        for addon in sorted(self.eks_addons(cluster_id) & set(FARGATE_SYSTEM_PODS)):
            self.fargate_tasks(
                f"Fargate: {addon} pods (kube-system profile)",
                f"{cpu:g} vCPU, {memory:g} GB, x86",
                FARGATE_SYSTEM_PODS[addon],
                cpu,
                memory,
                "X86_64",
                spot=False,
                hours=self.hours,
            )

    # -- data

    def neptune_instance(self, _id, r):
        cls = props(r)["DBInstanceClass"]
        if cls == "db.serverless":
            cluster = props(self.resource(ref(props(r)["DBClusterIdentifier"])))
            ncu = cluster["ServerlessScalingConfiguration"]["MinCapacity"]
            self.add("Neptune Serverless minimum NCUs", ncu, self.p("neptune_ncu_hour"))
        else:
            self.add(f"Neptune {cls} instance", 1, self.p("neptune_instance_hour", cls))

    def dax_cluster(self, _id, r):
        p = props(r)
        node = p["NodeType"]
        self.add(f"DAX {node} node", int(p["ReplicationFactor"]), self.p("dax_node_hour", node))

    def api_stage(self, _id, r):
        p = props(r)
        if p.get("CacheClusterEnabled"):
            size = str(p.get("CacheClusterSize", "0.5"))
            self.add(f"API Gateway cache ({size} GB)", 1, self.p("apigateway_cache_hour", size))

    def dynamodb_table(self, table_id, r):
        p = props(r)
        if p.get("BillingMode", "PROVISIONED") != "PAY_PER_REQUEST":
            raise ValueError(f"{self.stack.id}/{table_id}: provisioned capacity is not priced")

    # -- security and operations

    def kms_key(self, _id, _r):
        self.add("KMS customer-managed key", 1, self.p("kms_key_month"), hourly=False)

    def secret(self, _id, _r):
        self.add("Secrets Manager secret", 1, self.p("secrets_manager_secret_month"), hourly=False)

    def web_acl(self, _id, r):
        self.add("WAF web ACL", 1, self.p("waf_web_acl_month"), hourly=False)
        self.add(
            "WAF rule (managed rule groups and rate limit)",
            len(props(r).get("Rules", [])),
            self.p("waf_rule_month"),
            hourly=False,
        )

    def alarm(self, _id, _r):
        self.add("CloudWatch alarm", 1, self.p("cloudwatch_alarm_month"), hourly=False)

    def scaling_policy(self, _id, r):
        if props(r).get("PolicyType") == "TargetTrackingScaling":
            self.add(
                "CloudWatch alarm (created by target tracking)",
                TARGET_TRACKING_ALARMS,
                self.p("cloudwatch_alarm_month"),
                hourly=False,
            )

    def dashboard(self, _id, _r):
        self.add("CloudWatch dashboard", 1, self.p("cloudwatch_dashboard_month"), hourly=False)

    def kinesis_stream(self, _id, r):
        p = props(r)
        if p.get("StreamModeDetails", {}).get("StreamMode") == "ON_DEMAND":
            self.add(
                "Kinesis stream (on-demand capacity)", 1, self.p("kinesis_on_demand_stream_hour")
            )
        else:
            self.add(
                "Kinesis shard (provisioned)", p.get("ShardCount", 1), self.p("kinesis_shard_hour")
            )

    def notebook(self, _id, r):
        itype = props(r)["InstanceType"]
        self.add(
            f"SageMaker notebook {itype} (while running)",
            1,
            self.p("sagemaker_notebook_hour", itype),
        )


IDLE: dict[str, Callable[[Model, str, dict], None]] = {
    "AWS::EC2::NatGateway": Model.nat_gateway,
    "AWS::EC2::EIP": Model.eip,
    "AWS::EC2::VPCEndpoint": Model.vpc_endpoint,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": Model.load_balancer,
    "AWS::Route53::HostedZone": Model.hosted_zone,
    "AWS::AutoScaling::AutoScalingGroup": Model.auto_scaling_group,
    "AWS::ECS::Service": Model.ecs_service,
    "AWS::ECS::Cluster": Model.ecs_cluster,
    "AWS::Neptune::DBInstance": Model.neptune_instance,
    "AWS::DAX::Cluster": Model.dax_cluster,
    "AWS::ApiGateway::Stage": Model.api_stage,
    "AWS::DynamoDB::Table": Model.dynamodb_table,
    "AWS::DynamoDB::GlobalTable": Model.dynamodb_table,
    "AWS::KMS::Key": Model.kms_key,
    "AWS::SecretsManager::Secret": Model.secret,
    "AWS::WAFv2::WebACL": Model.web_acl,
    "AWS::CloudWatch::Alarm": Model.alarm,
    "AWS::ApplicationAutoScaling::ScalingPolicy": Model.scaling_policy,
    "AWS::AutoScaling::ScalingPolicy": Model.scaling_policy,
    "AWS::CloudWatch::Dashboard": Model.dashboard,
    "AWS::SageMaker::NotebookInstance": Model.notebook,
    "AWS::Kinesis::Stream": Model.kinesis_stream,
    "AWS::EKS::Cluster": Model.eks_cluster,
    "AWS::EKS::Nodegroup": Model.eks_nodegroup,
    "AWS::EKS::FargateProfile": Model.eks_fargate_profile,
    "AWS::ECS::ExpressGatewayService": Model.express_service,
    "AWS::AppRunner::Service": Model.app_runner_service,
    "AWS::RDS::DBInstance": Model.rds_instance,
}

# Types that bill only by use; their unit prices are listed by `per_request_rates`.
PER_REQUEST = {
    "AWS::Amplify::App",
    "AWS::Lambda::Function",
    "AWS::ApiGateway::RestApi",
    "AWS::ApiGatewayV2::Api",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::Function",
    "AWS::S3::Bucket",
    "AWS::EFS::FileSystem",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::StepFunctions::StateMachine",
    "AWS::Scheduler::Schedule",
    "AWS::Cognito::UserPool",
    "AWS::ECR::Repository",
    "AWS::CodeBuild::Project",
    "AWS::ECS::TaskDefinition",
    "AWS::Neptune::DBCluster",
    "AWS::RDS::DBCluster",
    "AWS::Logs::LogGroup",
    "AWS::EC2::FlowLog",
    "Custom::CDKContainerImageBuild",
    "AWS::Events::EventBus",
    "AWS::Events::Archive",
}

# Types that cost nothing of their own (their cost, if any, is another resource's line).
FREE = {
    "AWS::Amplify::Branch",  # billed through its app (builds, storage, data served)
    # A domain association and its Amplify-managed certificate: Amplify Hosting's price list has
    # no line for either (only builds, storage, data served and requests).
    "AWS::Amplify::Domain",
    "Custom::AWS",  # AwsCustomResource: a deploy-time Lambda call
    "AWS::ApiGateway::Account",
    "AWS::ApiGateway::ApiKey",
    "AWS::Backup::BackupPlan",  # its storage: per-request rates (backed_up)
    "AWS::Backup::BackupSelection",
    "AWS::Backup::BackupVault",
    "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::Deployment",
    "AWS::ApiGateway::GatewayResponse",
    "AWS::ApiGateway::Method",
    "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator",
    "AWS::ApiGateway::Resource",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::UsagePlanKey",
    # HTTP APIs: routes, integrations and stages bill nothing of their own; a VPC link (v2, for
    # HTTP APIs) has no charge of its own either: the calls through it are the API's calls.
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::VpcLink",
    "AWS::ApplicationAutoScaling::ScalableTarget",  # scheduled actions: in the service's line
    "AWS::AppRunner::AutoScalingConfiguration",  # priced through its service
    "AWS::AppRunner::ObservabilityConfiguration",
    "AWS::AppRunner::VpcConnector",
    "AWS::CertificateManager::Certificate",
    "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::OriginRequestPolicy",
    # No charge of its own (CloudFront's VPC origins launch note, 2024-11): requests and bytes
    # bill as for any origin, and the internal load balancer it reaches is its stack's line.
    "AWS::CloudFront::VpcOrigin",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::Cognito::IdentityPool",
    "AWS::Cognito::IdentityPoolRoleAttachment",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolGroup",
    "AWS::DAX::ParameterGroup",
    "AWS::DAX::SubnetGroup",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::LaunchTemplate",  # priced through its Auto Scaling group
    "AWS::EC2::Route",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::Subnet",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::VPC",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::ECS::ClusterCapacityProviderAssociations",
    "AWS::ECS::CapacityProvider",
    "AWS::EFS::AccessPoint",
    "AWS::EKS::AccessEntry",
    "AWS::EKS::Addon",  # its pods: in the lines of the nodes or Fargate they run on
    "AWS::EKS::PodIdentityAssociation",
    "AWS::EFS::MountTarget",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::Events::Rule",  # AWS service events and schedules on the default bus are free
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::KMS::Alias",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::LayerVersion",
    "AWS::Lambda::Permission",
    "AWS::Neptune::DBClusterParameterGroup",
    "AWS::Neptune::DBParameterGroup",
    "AWS::Neptune::DBSubnetGroup",
    "AWS::RDS::DBClusterParameterGroup",
    "AWS::RDS::DBSubnetGroup",
    "AWS::SageMaker::NotebookInstanceLifecycleConfig",
    "AWS::Route53::RecordSet",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SSM::Parameter",  # standard tier: no charge for storage or standard throughput
    "AWS::SecretsManager::SecretTargetAttachment",
    "AWS::WAFv2::WebACLAssociation",
    "Custom::CDKBucketDeployment",  # deploy-time Lambda
    "Custom::S3AutoDeleteObjects",
    "Custom::S3BucketNotifications",
    "Custom::VpcRestrictDefaultSG",
}


def unknown_types(stack: Stack) -> set[str]:
    return {
        r["Type"]
        for r in stack.resources.values()
        if r["Type"] not in IDLE and r["Type"] not in PER_REQUEST and r["Type"] not in FREE
    }


def idle_lines(stack: Stack, table: PriceTable) -> list[Line]:
    unknown = unknown_types(stack)
    if unknown:
        raise ValueError(
            f"{stack.id}: no cost model for {', '.join(sorted(unknown))}: add each type to "
            "IDLE, PER_REQUEST or FREE in docgen/cost.py"
        )
    model = Model(stack, table)
    for logical_id, resource in stack.resources.items():
        handler = IDLE.get(resource["Type"])
        if handler:
            handler(model, logical_id, resource)
    return merge(model.lines)


def merge(lines: Iterable[Line]) -> list[Line]:
    """Lines of the same item and price add up (3 NAT gateways are one line, count 3)."""
    merged: dict[tuple, Line] = {}
    for line in lines:
        key = (line.item, line.price.key, line.price.usd, line.hours)
        if key in merged:
            old = merged[key]
            merged[key] = Line(old.item, old.count + line.count, old.price, old.hours, old.note)
        else:
            merged[key] = line
    return list(merged.values())


def per_request_rates(stack: Stack, table: PriceTable) -> list[Rate]:
    """The unit prices of what this stack bills by use, each once."""
    rates: list[Rate] = []
    types = Counter(r["Type"] for r in stack.resources.values())
    plumbing = plumbing_functions(stack)

    def add(item, key, variant=None):
        rate = Rate(item, table(key, variant))
        if rate not in rates:
            rates.append(rate)

    if types["AWS::CloudFront::Distribution"]:
        add("CloudFront data transfer out", "cloudfront_gb")
        add("CloudFront HTTPS requests", "cloudfront_https_10k")
        add("CloudFront invalidations", "cloudfront_invalidation_path")
        for d in stack.of_type("AWS::CloudFront::Distribution").values():
            origins = props(d)["DistributionConfig"].get("Origins", [])
            if any(o.get("OriginShield", {}).get("Enabled") for o in origins):
                add("CloudFront Origin Shield requests", "origin_shield_10k")
    if types["AWS::CloudFront::Function"]:
        add("CloudFront Functions", "cloudfront_function_million")
    if types["AWS::WAFv2::WebACL"]:
        add("WAF requests", "waf_requests_million")
    for app in stack.of_type("AWS::Amplify::App").values():
        add("Amplify Hosting data served", "amplify_served_gb")
        add("Amplify Hosting storage", "amplify_storage_gb_month")
        if props(app).get("Repository"):
            add("Amplify Hosting build minutes", "amplify_build_minute")
    if types["AWS::ApiGateway::RestApi"]:
        add("API Gateway REST calls", "apigateway_rest_million")
    if types["AWS::ApiGatewayV2::Api"]:
        add("API Gateway HTTP API calls", "apigateway_http_million")
    express = stack.of_type("AWS::ECS::ExpressGatewayService")
    if types["AWS::ElasticLoadBalancingV2::LoadBalancer"] or express:
        add("Load balancer capacity units", "alb_lcu_hour")
    if types["AWS::EC2::NatGateway"]:
        add("NAT gateway data processing", "nat_gateway_gb")
    if any(
        props(e).get("VpcEndpointType") == "Interface"
        for e in stack.of_type("AWS::EC2::VPCEndpoint").values()
    ):
        add("Interface endpoint data processing", "interface_endpoint_gb")
    app_runner = stack.of_type("AWS::AppRunner::Service")
    if (
        types["AWS::ElasticLoadBalancingV2::LoadBalancer"]
        or types["AWS::EC2::NatGateway"]
        or express
        or app_runner
    ):
        add("Data transfer out to the internet", "data_transfer_out_gb")
    functions = {
        k: r for k, r in stack.of_type("AWS::Lambda::Function").items() if k not in plumbing
    }
    if functions:
        add("Lambda requests", "lambda_requests_million")
        for f in functions.values():
            arch = (props(f).get("Architectures") or ["x86_64"])[0]
            add(f"Lambda duration ({ARCH_NAMES[arch]})", "lambda_gb_second", arch)
    for task in stack.of_type("AWS::ECS::TaskDefinition").values():
        arch = props(task).get("RuntimePlatform", {}).get("CpuArchitecture", "X86_64")
        if "FARGATE" in props(task).get("RequiresCompatibilities", []):
            name = ARCH_NAMES.get(arch, arch)
            add(f"Fargate tasks beyond the minimum, vCPU ({name})", "fargate_vcpu_hour", arch)
            add(f"Fargate tasks beyond the minimum, memory ({name})", "fargate_gb_hour", arch)
    for cluster_id, cluster in stack.of_type("AWS::EKS::Cluster").items():
        p = props(cluster)
        if (p.get("UpgradePolicy") or {}).get("SupportType") != "STANDARD":
            add(
                "EKS control plane once its version is in extended support",
                "eks_cluster_hour",
                "extended",
            )
        addons = {
            props(a).get("AddonName")
            for a in stack.of_type("AWS::EKS::Addon").values()
            if ref(props(a).get("ClusterName")) == cluster_id
        }
        if (p.get("ComputeConfig") or {}).get("Enabled"):
            add(
                f"EKS Auto Mode nodes for your pods, e.g. {AUTO_MODE_IDLE_NODE_TYPE}",
                "ec2_instance_hour",
                AUTO_MODE_IDLE_NODE_TYPE,
            )
            add(
                f"EKS Auto Mode fee on each node, e.g. {AUTO_MODE_IDLE_NODE_TYPE}",
                "eks_auto_mode_fee_hour",
                AUTO_MODE_IDLE_NODE_TYPE,
            )
        if (p.get("ComputeConfig") or {}).get("Enabled") or "aws-ebs-csi-driver" in addons:
            add("EBS gp3 volumes of persistent volume claims", "ebs_gp3_gb_month")
        if "amazon-cloudwatch-observability" in addons:
            add(
                "Container Insights: CloudWatch Logs ingestion of performance events and "
                "container logs",
                "cloudwatch_logs_ingest_gb",
            )
        add(
            "Load balancers your Services and Ingresses create (not in the stack)",
            "alb_hour",
        )
    for group in stack.of_type("AWS::EKS::Nodegroup").values():
        itype = (props(group).get("InstanceTypes") or ["t3.medium"])[0]
        add(f"Node group nodes beyond the desired size ({itype})", "ec2_instance_hour", itype)
    if stack.of_type("AWS::EKS::FargateProfile"):
        add("Fargate pods in your namespaces, vCPU (x86)", "fargate_vcpu_hour", "X86_64")
        add("Fargate pods in your namespaces, memory (x86)", "fargate_gb_hour", "X86_64")
    if express:
        add("Fargate tasks beyond the minimum, vCPU (x86)", "fargate_vcpu_hour", "X86_64")
        add("Fargate tasks beyond the minimum, memory (x86)", "fargate_gb_hour", "X86_64")
    if app_runner:
        add("App Runner active instances, vCPU", "app_runner_active_vcpu_hour")
        add("App Runner active instances, memory", "app_runner_active_gb_hour")
    if types["AWS::RDS::DBCluster"]:
        add("Aurora Serverless v2 capacity above the minimum", "aurora_acu_hour")
        add("Aurora storage", "aurora_storage_gb_month")
        add("Aurora I/O", "aurora_io_million")
    if types["AWS::StepFunctions::StateMachine"]:
        add("Step Functions state transitions", "step_functions_transitions_thousand")
    if types["AWS::Events::EventBus"]:
        add("EventBridge custom events", "eventbridge_events_million")
    if types["AWS::Events::Archive"]:
        add("EventBridge archive (events archived)", "eventbridge_archive_gb")
        add("EventBridge archive storage", "eventbridge_archive_gb_month")
    if types["AWS::Kinesis::Stream"]:
        add("Kinesis PUT payload units", "kinesis_put_million")
    if types["AWS::Scheduler::Schedule"]:
        add("EventBridge Scheduler invocations", "scheduler_invocations_million")
    if types["AWS::CodeBuild::Project"]:
        add("CodeBuild (image builds at deploy)", "codebuild_minute")
    for pool in stack.of_type("AWS::Cognito::UserPool").values():
        plus = props(pool).get("UserPoolTier") == "PLUS" or props(pool).get(
            "UserPoolAddOns", {}
        ).get("AdvancedSecurityMode") in ("ENFORCED", "AUDIT")
        add(
            "Cognito monthly active users", "cognito_plus_mau" if plus else "cognito_essentials_mau"
        )
    tables = {
        **stack.of_type("AWS::DynamoDB::Table"),
        **stack.of_type("AWS::DynamoDB::GlobalTable"),
    }
    if tables:
        add("DynamoDB reads", "dynamodb_read_million")
        add("DynamoDB writes", "dynamodb_write_million")
        add("DynamoDB storage", "dynamodb_storage_gb_month")
        for t in tables.values():
            p = props(t)
            pitr = p.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")
            pitr = pitr or any(
                r.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")
                for r in p.get("Replicas", [])
            )
            if pitr:
                add("DynamoDB point-in-time recovery", "dynamodb_pitr_gb_month")
    if types["AWS::Neptune::DBCluster"]:
        add("Neptune storage", "neptune_storage_gb_month")
        add("Neptune I/O", "neptune_io_million")
    if any(
        "ses:Send" in str(props(r).get("PolicyDocument"))
        for r in stack.of_type("AWS::IAM::Policy").values()
    ):
        add("SES emails", "ses_thousand_emails")
    if types["AWS::SQS::Queue"]:
        add("SQS requests", "sqs_million")
    if types["AWS::SNS::Topic"]:
        add("SNS publishes", "sns_million")
    if types["AWS::S3::Bucket"]:
        add("S3 storage", "s3_standard_gb_month")
    if any(
        "ReplicationConfiguration" in props(bucket)
        for bucket in stack.of_type("AWS::S3::Bucket").values()
    ):
        # Replication to another region: each replicated byte crosses regions once (the
        # replica's storage is priced in its own stack's table).
        add("S3 replication to another region (data transfer)", "s3_replication_transfer_gb")
    for fs in stack.of_type("AWS::EFS::FileSystem").values():
        add("EFS storage", "efs_standard_gb_month")
        add("EFS Elastic throughput reads", "efs_elastic_read_gb")
        add("EFS Elastic throughput writes", "efs_elastic_write_gb")
        if props(fs).get("BackupPolicy", {}).get("Status") == "ENABLED":
            add("AWS Backup of EFS", "backup_efs_gb_month")
    for item, key in backed_up(stack):
        add(item, key)
    if any(
        rule.get("CopyActions")
        for plan in stack.of_type("AWS::Backup::BackupPlan").values()
        for rule in props(plan).get("BackupPlan", {}).get("BackupPlanRule", [])
    ):
        add("AWS Backup copies to another region", "backup_copy_transfer_gb")
    if types["AWS::ECR::Repository"]:
        add("ECR image storage", "ecr_storage_gb_month")
    if types["AWS::KMS::Key"]:
        add("KMS requests", "kms_requests_10k")
    if types["AWS::Logs::LogGroup"] or types["AWS::EC2::FlowLog"]:
        add("CloudWatch Logs ingestion (incl. VPC flow logs)", "cloudwatch_logs_ingest_gb")
        add("CloudWatch Logs storage", "cloudwatch_logs_storage_gb_month")
    traced = (
        any(props(f).get("TracingConfig", {}).get("Mode") == "Active" for f in functions.values())
        or any(
            props(s).get("TracingEnabled") for s in stack.of_type("AWS::ApiGateway::Stage").values()
        )
        or any(
            props(s).get("ObservabilityConfiguration", {}).get("ObservabilityEnabled")
            for s in app_runner.values()
        )
    )
    if traced:
        add("X-Ray traces", "xray_traces_million")
    return rates


# What the stack's AWS Backup selections store, per selected resource type.
BACKUP_STORAGE = {
    "AWS::DynamoDB::Table": ("AWS Backup of DynamoDB", "backup_dynamodb_gb_month"),
    "AWS::DynamoDB::GlobalTable": ("AWS Backup of DynamoDB", "backup_dynamodb_gb_month"),
    "AWS::EFS::FileSystem": ("AWS Backup of EFS", "backup_efs_gb_month"),
    "AWS::Neptune::DBCluster": ("AWS Backup of Neptune (snapshots)", "backup_neptune_gb_month"),
    "AWS::RDS::DBCluster": ("AWS Backup of Aurora (snapshots)", "backup_aurora_gb_month"),
    "AWS::RDS::DBInstance": ("AWS Backup of RDS (snapshots)", "backup_aurora_gb_month"),
}


def backed_up(stack: Stack) -> list[tuple[str, str]]:
    """(item, price key) of every resource type a backup selection of the stack names."""
    found = []
    for selection in stack.of_type("AWS::Backup::BackupSelection").values():
        for target in refs_in(props(selection).get("BackupSelection", {}).get("Resources")):
            if target not in stack.resources:  # a pseudo parameter (AWS::AccountId, ...)
                continue
            kind = stack.resources[target]["Type"]
            if kind not in BACKUP_STORAGE:
                raise ValueError(
                    f"{stack.id}: a backup selection names a {kind}; add its backup storage "
                    "price to BACKUP_STORAGE in docgen/cost.py"
                )
            if BACKUP_STORAGE[kind] not in found:
                found.append(BACKUP_STORAGE[kind])
    return found


def stack_cost(stack: Stack, stage: str, table: PriceTable | None = None) -> StackCost:
    table = table or prices()
    return StackCost(
        stack=stack.id,
        stage=stage,
        lines=idle_lines(stack, table),
        rates=per_request_rates(stack, table),
    )


def assembly_costs(assembly: Assembly) -> dict[str, StackCost]:
    return {sid: stack_cost(s, assembly.stage) for sid, s in assembly.stacks.items()}


_CRON = re.compile(r"cron\((\d+) (\d+) \? \* ([A-Z,\-*]+) \*\)")
_DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


def weekly_hours(scale_out: str, scale_in: str) -> float:
    """Hours a week between a scale-out and a scale-in cron of the form
    `cron(M H ? * DAYS *)` on the same days (e.g. 08:00-20:00 MON-FRI = 60)."""
    out, back = _CRON.fullmatch(scale_out), _CRON.fullmatch(scale_in)
    if not out or not back or out.group(3) != back.group(3):
        raise ValueError(f"cannot price the schedule {scale_out} .. {scale_in}")
    hours = (int(back.group(2)) + int(back.group(1)) / 60) - (
        int(out.group(2)) + int(out.group(1)) / 60
    )
    days = 0
    for part in out.group(3).split(","):
        if part == "*":
            days += 7
        elif "-" in part:
            start, end = part.split("-")
            days += _DAYS.index(end) - _DAYS.index(start) + 1
        else:
            days += 1
    return hours * days


# ---------------------------------------------------------------------------------------------
# Rendering: the docs' cost sections and `make cost`.

ASSUMPTIONS = (
    "no traffic at all, {region} list prices, on demand except where a service asks for "
    "Fargate Spot, {hours:g} hours a month, free tiers not counted"
)


def sorted_lines(cost: StackCost) -> list[Line]:
    return sorted(cost.lines, key=lambda line: (-line.monthly, line.item))


def per_unit(price: Price) -> str:
    return f"{usd(price.usd, 10)} per {price.unit}"


def _checked(table: PriceTable) -> str:
    dates = sorted({e["checked"] for e in table.entries().values()})
    return dates[-1] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"


def doc_stacks(doc: str, assemblies: dict[str, Assembly]) -> list[str]:
    """The ids of the doc's stacks any stage has, in the doc's order (regional copies after
    their home stack)."""
    found = [s.id for assembly in assemblies.values() for s in assembly.of_doc(doc)]
    return list(dict.fromkeys(sorted(found, key=lambda s: _doc_order(doc, s))))


def _doc_order(doc: str, stack_id: str) -> tuple:
    from deployment.assembly import home_stack_id
    from docgen.assembly import DOC_STACKS

    homes = DOC_STACKS[doc]
    return (homes.index(home_stack_id(stack_id, homes)), len(stack_id), stack_id)


def doc_section(doc: str, assemblies: dict[str, Assembly]) -> str:
    """The markdown between a doc's `generated:cost` markers."""
    table = prices()
    stages = list(assemblies)
    costs = {
        stage: {s.id: stack_cost(s, stage, table) for s in assembly.of_doc(doc)}
        for stage, assembly in assemblies.items()
    }
    stacks = doc_stacks(doc, assemblies)
    out = [
        "**Idle cost per month**, computed from the synthesized templates ("
        + ASSUMPTIONS.format(region=table.region, hours=table.hours_per_month)
        + f"; prices checked {_checked(table)}, each with its source, in "
        "[docgen/prices.toml](../docgen/prices.toml)). `make cost STAGE=dev|prod` prints the "
        "same figures.",
        "",
        "| Stack | " + " | ".join(stages) + " |",
        "|---|" + "---:|" * len(stages),
    ]
    for stack in stacks:
        cells = [usd(costs[st][stack].monthly) if stack in costs[st] else "–" for st in stages]
        out.append(f"| `{stack}` | " + " | ".join(cells) + " |")
    if len(stacks) > 1:
        totals = [usd(sum(c.monthly for c in costs[st].values())) for st in stages]
        out.append("| **Total** | " + " | ".join(f"**{t}**" for t in totals) + " |")
    for stack in stacks:
        items: dict[str, dict[str, Line]] = defaultdict(dict)
        for stage in stages:
            if stack in costs[stage]:
                for line in sorted_lines(costs[stage][stack]):
                    items[line.item][stage] = line
        if not items:
            out += ["", f"`{stack}` has nothing that bills while idle."]
            continue
        out += ["", f"| `{stack}`: what bills while idle | " + " | ".join(stages) + " |"]
        out.append("|---|" + "---|" * len(stages))
        for item, by_stage in items.items():
            cells = [by_stage[st].formula() if st in by_stage else "–" for st in stages]
            out.append(f"| {item} | " + " | ".join(cells) + " |")
    rates: dict[tuple[str, str], dict[str, list[str]]] = {}
    for stack in stacks:
        for stage in stages:
            if stack in costs[stage]:
                for rate in costs[stage][stack].rates:
                    key = (rate.item, per_unit(rate.price))
                    rates.setdefault(key, {}).setdefault(stack, []).append(stage)
    if rates:
        out += [
            "",
            "**Per request**, on top of the idle cost (what the stacks bill by use):",
            "",
            "| What | Price | Where |",
            "|---|---|---|",
        ]
        for (item, price), where in rates.items():
            present = {s: [st for st in stages if s in costs[st]] for s in stacks}
            if where == present:
                place = "every stack" if len(stacks) > 1 else "both stages"
            else:
                place = ", ".join(
                    f"`{s}`" + ("" if st == present[s] else f" ({', '.join(st)})")
                    for s, st in where.items()
                )
            out.append(f"| {item} | {price} | {place} |")
    return "\n".join(out)


def overview_section(assemblies: dict[str, Assembly]) -> str:
    """Every stack's idle cost per stage (docs/deploying.md)."""
    from docgen.assembly import DOC_STACKS

    table = prices()
    stages = list(assemblies)
    costs = {stage: assembly_costs(a) for stage, a in assemblies.items()}
    out = [
        "Idle cost per month of each stack, computed from the synthesized templates ("
        + ASSUMPTIONS.format(region=table.region, hours=table.hours_per_month)
        + f"; prices checked {_checked(table)} in [docgen/prices.toml](../docgen/prices.toml)). "
        "Each blueprint's doc itemizes it and lists the per-request prices on top; "
        "`make cost STAGE=dev|prod` prints it.",
        "",
        "| Stack | Doc | " + " | ".join(stages) + " |",
        "|---|---|" + "---:|" * len(stages),
    ]
    for doc in DOC_STACKS:
        for stack in doc_stacks(doc, assemblies):
            cells = [usd(costs[st][stack].monthly) if stack in costs[st] else "–" for st in stages]
            link = "this page" if doc == "deploying" else f"[{doc}.md]({doc}.md)"
            out.append(f"| `{stack}` | {link} | " + " | ".join(cells) + " |")
    return "\n".join(out)


# A doc that wants its idle cost said in one sentence near the top (e.g. where it is higher than
# a reader expects) has this section too: `<!-- generated:cost-summary:begin/end -->`.
SUMMARY = "cost-summary"


def summary_section(doc: str, assemblies: dict[str, Assembly]) -> str:
    """One sentence: each stage's idle cost per month, and the largest line of the first stage."""
    table = prices()
    costs = {
        stage: [stack_cost(s, stage, table) for s in assembly.of_doc(doc)]
        for stage, assembly in assemblies.items()
    }
    totals = ", ".join(
        f"{stage} {usd(sum(c.monthly for c in found))}" for stage, found in costs.items()
    )
    first = next(iter(costs))
    lines = [line for cost in costs[first] for line in cost.lines]
    text = f"**Idle cost per month: {totals}** (nobody using it; [what bills](#what-it-costs))."
    if lines:
        top = max(lines, key=lambda line: line.monthly)
        billed = "by the hour" if top.hours is not None else "every month"
        text += (
            f" The largest line of {first}: {top.item}, {usd(top.monthly)} a month, billed "
            f"{billed} whether or not anything uses it."
        )
    return text


def sections(assemblies: dict[str, Assembly]) -> dict[str, dict[str, str]]:
    """doc -> {"cost": markdown}: what `make docs` writes between the cost markers (and the
    cost-summary markers, in the docs that have them)."""
    from docgen.assembly import BLUEPRINT_DOCS, doc_path
    from docgen.markers import begin

    found = {doc: {"cost": doc_section(doc, assemblies)} for doc in BLUEPRINT_DOCS}
    for doc in BLUEPRINT_DOCS:
        if begin(SUMMARY) in doc_path(doc).read_text():
            found[doc][SUMMARY] = summary_section(doc, assemblies)
    found["deploying"] = {"cost": overview_section(assemblies)}
    return found


def report(assembly: Assembly) -> str:
    """What `make cost STAGE=...` prints: each stack's idle cost and its lines."""
    table = prices()
    costs = assembly_costs(assembly)
    out = [
        f"Idle cost per month, stage {assembly.stage} ("
        + ASSUMPTIONS.format(region=table.region, hours=table.hours_per_month)
        + "; prices: docgen/prices.toml)",
        "",
    ]
    width = max(len(s) for s in costs)
    for stack, cost in costs.items():
        out.append(f"{stack:<{width}}  {usd(cost.monthly):>10}")
        for line in sorted_lines(cost):
            out.append(f"{'':<{width}}    {line.item}: {line.formula()}")
    total = sum(c.monthly for c in costs.values())
    out += ["", f"{'Total':<{width}}  {usd(total):>10}"]
    return "\n".join(out)
