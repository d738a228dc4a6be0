"""A picture of each blueprint, drawn from its synthesized templates.

`dot_source(doc, assembly)` turns the doc's stacks into a Graphviz graph that reads like the
architecture: users on the left, then the edge (CloudFront, WAF), the entry points (load
balancers, APIs, sign-in), compute, and data on the right; VPC subnets as boxes by tier (public,
private, isolated). Plumbing is left out: IAM roles and policies, security groups, routes, log
groups, log buckets, dead-letter queues, the operations topic and backup vault every stack gets,
and the Lambda functions behind CDK's custom resources.
An arrow means "calls, reads or writes" (found through the template's references, IAM policies
included); a dashed arrow is an event (S3 notification, queue/stream poll, EventBridge rule,
subscription).

The DOT source is deterministic text, checked in next to the PNG rendered from it
(`docs/images/<doc>.dot` / `.png`), with both files' SHA-256 in `docs/images/pictures.json`:
the tests regenerate the DOT and compare (no Graphviz needed), `make docs` renders the PNG
(Graphviz's `dot`, with the AWS icons of the `diagrams` package).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from docgen.assembly import BLUEPRINT_DOCS, REPO_ROOT, Assembly, Stack
from docgen.cost import (
    launch_template_of,
    plumbing_functions,
    props,
    ref,
    refs_in,
    subnet_kinds,
)
from house.failures import failure_destinations

# Construct ids of what app.py adds to every stack (house/operations.py, house/backup.py),
# not imported from there: that would load aws-cdk-lib into a tool that reads JSON.
OPERATIONS_ID, BACKUP_ID = "Operations", "Backup"

IMAGES = REPO_ROOT / "docs" / "images"
PICTURES = IMAGES / "pictures.json"
# The stage drawn: prod has every part (NAT, WAF, caches); the caption lists what dev changes.
STAGE = "prod"

EDGE, ENTRY, COMPUTE, DATA = 1, 2, 3, 4


@dataclass(frozen=True)
class Kind:
    title: str
    icon: str
    layer: int


KINDS = {
    "AWS::CloudFront::Distribution": Kind("CloudFront", "network/cloudfront.png", EDGE),
    "AWS::WAFv2::WebACL": Kind("WAF web ACL", "security/waf.png", EDGE),
    "AWS::Cognito::UserPool": Kind("Cognito user pool", "security/cognito.png", ENTRY),
    "AWS::Cognito::IdentityPool": Kind("Cognito identity pool", "security/cognito.png", ENTRY),
    "AWS::ApiGateway::RestApi": Kind("API Gateway", "network/api-gateway.png", ENTRY),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": Kind(
        "Application Load Balancer", "network/elb-application-load-balancer.png", ENTRY
    ),
    "AWS::EC2::InternetGateway": Kind("Internet gateway", "network/internet-gateway.png", ENTRY),
    "AWS::EC2::NatGateway": Kind("NAT gateway", "network/nat-gateway.png", ENTRY),
    "AWS::EC2::VPCEndpoint": Kind("VPC endpoint", "network/endpoint.png", DATA),
    "AWS::Events::Rule": Kind("EventBridge rule", "integration/eventbridge.png", ENTRY),
    "AWS::Scheduler::Schedule": Kind(
        "EventBridge schedule", "integration/eventbridge-scheduler.png", ENTRY
    ),
    "AWS::Lambda::Function": Kind("Lambda", "compute/lambda.png", COMPUTE),
    "AWS::ECS::Service": Kind("ECS service", "compute/fargate.png", COMPUTE),
    # Express Mode's load balancer is outside the template: the service stands for both.
    "AWS::ECS::ExpressGatewayService": Kind(
        "ECS Express Mode service (+ its HTTPS load balancer)", "compute/fargate.png", COMPUTE
    ),
    "AWS::AppRunner::Service": Kind("App Runner service", "compute/app-runner.png", COMPUTE),
    "AWS::ECS::TaskDefinition": Kind(
        "ECS task", "compute/elastic-container-service-task.png", COMPUTE
    ),
    "AWS::AutoScaling::AutoScalingGroup": Kind(
        "Auto Scaling group", "compute/ec2-auto-scaling.png", COMPUTE
    ),
    "AWS::StepFunctions::StateMachine": Kind(
        "Step Functions", "integration/step-functions.png", COMPUTE
    ),
    "AWS::CodeBuild::Project": Kind("CodeBuild", "devtools/codebuild.png", COMPUTE),
    "AWS::EKS::Cluster": Kind("EKS cluster", "compute/elastic-kubernetes-service.png", COMPUTE),
    "AWS::EKS::Nodegroup": Kind("Managed node group", "compute/ec2-instances.png", COMPUTE),
    "AWS::EKS::FargateProfile": Kind("Fargate profile", "compute/fargate.png", COMPUTE),
    "AWS::DynamoDB::Table": Kind("DynamoDB table", "database/dynamodb.png", DATA),
    "AWS::DynamoDB::GlobalTable": Kind("DynamoDB global table", "database/dynamodb.png", DATA),
    "AWS::DAX::Cluster": Kind("DAX", "database/dynamodb-dax.png", DATA),
    "AWS::Neptune::DBCluster": Kind("Neptune", "database/neptune.png", DATA),
    "AWS::RDS::DBCluster": Kind("Aurora PostgreSQL", "database/aurora.png", DATA),
    "AWS::S3::Bucket": Kind("S3 bucket", "storage/simple-storage-service-s3.png", DATA),
    "AWS::EFS::FileSystem": Kind("EFS", "storage/elastic-file-system-efs.png", DATA),
    "AWS::SQS::Queue": Kind("SQS queue", "integration/simple-queue-service-sqs.png", DATA),
    "AWS::SNS::Topic": Kind("SNS topic", "integration/simple-notification-service-sns.png", DATA),
    "AWS::ECR::Repository": Kind("ECR repository", "compute/ec2-container-registry.png", DATA),
    "AWS::SecretsManager::Secret": Kind("Secret", "security/secrets-manager.png", DATA),
    "AWS::KMS::Key": Kind("KMS key", "security/key-management-service.png", DATA),
}
USERS_ICON = "general/users.png"
# Debian's graphviz measures text with fontconfig; DejaVu Sans is there (and close to Helvetica).
FONT = "DejaVu Sans"
# Resources that join two drawn resources without being drawn: A -> role <- policy -> B means
# A may call B. Never subnets, security groups or the VPC: they join everything.
CONNECTORS = {
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::InstanceProfile",
    "AWS::EC2::LaunchTemplate",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::ApiGateway::Method",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::Deployment",
    "AWS::WAFv2::WebACLAssociation",
    "AWS::ApiGateway::Authorizer",
    "AWS::Cognito::IdentityPoolRoleAttachment",
    # The secret as attached to its database: a service injecting it reaches both.
    "AWS::SecretsManager::SecretTargetAttachment",
}
IAM = {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::InstanceProfile"}
# The capacity an EKS cluster runs pods on: drawn from the cluster, never to each other.
EKS_CAPACITY = {"Managed node group", "Fargate profile"}
# Connectors that carry events, drawn dashed from the source to the consumer:
# type -> (properties naming the source, properties naming the consumers).
EVENT_CONNECTORS = {
    "AWS::Lambda::EventSourceMapping": (("EventSourceArn",), ("FunctionName",)),
    "Custom::S3BucketNotifications": (("BucketName",), ("NotificationConfiguration",)),
    "AWS::SNS::Subscription": (("TopicArn",), ("Endpoint",)),
}


@dataclass
class Node:
    id: str
    stack: str
    logical_id: str
    kind: Kind
    name: str
    detail: str = ""
    tier: str | None = None  # public / private / isolated subnets, "vpc", or None (regional)
    members: list[str] = field(default_factory=list)  # logical ids drawn as this node

    @property
    def signature(self) -> tuple:
        return (self.stack, self.kind.title, self.name)

    def label(self) -> str:
        lines = [self.name, self.kind.title] if self.name else [self.kind.title]
        if self.detail:
            lines.append(self.detail)
        return "\\n".join(lines)


def construct_path(resource: dict) -> list[str]:
    return resource.get("Metadata", {}).get("aws:cdk:path", "").split("/")[1:]


# Construct ids that only repeat the kind of resource ("Bucket", "Cluster", "ASG"): left out of
# the name drawn under the icon.
NOISE = {
    "Resource",
    "Default",
    "Function",
    "Service",
    "Bucket",
    "FileSystem",
    "Cluster",
    "IGW",
    "ASG",
    "Distribution",
    "WebAcl",
    "Table",
    "Queue",
    "Topic",
    "Repository",
    "Schedule",
    "Network",
    "UserPool",
    "IdentityPool",
    "Api",
    "RestApi",
    "LoadBalancer",
}


def construct_label(resource: dict) -> str:
    """`MyBlog/Thumbnails/Function/Resource` -> "Thumbnails"; `.../BulkLoad/StartLoad/Resource`
    -> "BulkLoad StartLoad"; generated hex suffixes dropped."""
    parts = [re.sub(r"(?<=[0-9A-Z])[a-f][0-9a-f]{19,}.*$", "", p) for p in construct_path(resource)]
    kept = [p for p in parts if p and p not in NOISE]
    return " ".join(kept)


class Picture:
    """The nodes and arrows of one doc's stacks."""

    def __init__(self, doc: str, assembly: Assembly):
        self.doc = doc
        self.assembly = assembly
        self.stacks = assembly.of_doc(doc)
        self.nodes: dict[str, Node] = {}
        self.owner: dict[tuple[str, str], str] = {}  # (stack, logical id) -> node id
        self.arrows: set[tuple[str, str, str]] = set()  # (from, to, style)
        for stack in self.stacks:
            self._nodes_of(stack)
        for stack in self.stacks:
            self._arrows_of(stack)
        self._users()

    # -- nodes

    def _add(self, stack: Stack, logical_id: str, kind: Kind, name: str, detail="", members=()):
        node = Node(
            id=f"{stack.id}_{logical_id}",
            stack=stack.id,
            logical_id=logical_id,
            kind=kind,
            name=name,
            detail=detail,
            members=[logical_id, *members],
        )
        self.nodes[node.id] = node
        for member in node.members:
            self.owner[(stack.id, member)] = node.id
        return node

    def _nodes_of(self, stack: Stack) -> None:
        resources = stack.resources
        plumbing = plumbing_functions(stack)
        log_buckets = self._log_buckets(stack)
        dead_letter = self._dead_letter_queues(stack)
        log_keys = self._log_keys(stack)
        served_tasks = {
            ref(props(r).get("TaskDefinition")) for r in stack.of_type("AWS::ECS::Service").values()
        }
        endpoints: dict[str, list[str]] = defaultdict(list)
        nat: list[str] = []
        for logical_id, resource in resources.items():
            rtype = resource["Type"]
            kind = KINDS.get(rtype)
            p = props(resource)
            if not kind:
                continue
            if rtype == "AWS::Lambda::Function" and logical_id in plumbing:
                continue
            if rtype == "AWS::S3::Bucket" and logical_id in log_buckets:
                continue
            if rtype == "AWS::SQS::Queue" and logical_id in dead_letter:
                continue
            if rtype == "AWS::KMS::Key" and logical_id in log_keys:
                continue
            if rtype == "AWS::ECS::TaskDefinition" and logical_id in served_tasks:
                continue
            if construct_path(resource)[:1] in ([OPERATIONS_ID], [BACKUP_ID]):
                continue  # the alarms' topic and the backup vault every stack gets
            if rtype == "AWS::EC2::VPCEndpoint":
                endpoints[p.get("VpcEndpointType", "Gateway")].append(logical_id)
                continue
            if rtype == "AWS::EC2::NatGateway":
                nat.append(logical_id)
                continue
            detail = self._detail(stack, logical_id, resource)
            self._add(stack, logical_id, kind, construct_label(resource), detail)
        if nat:
            node = self._add(
                stack,
                nat[0],
                KINDS["AWS::EC2::NatGateway"],
                "",
                f"× {len(nat)} (one per AZ)" if len(nat) > 1 else "",
                nat[1:],
            )
            node.tier = "public"
        for kind_name, ids in sorted(endpoints.items()):
            services = sorted(self._endpoint_service(resources[i]) for i in ids)
            title = "Interface endpoints" if kind_name == "Interface" else "Gateway endpoint"
            kind = Kind(title, KINDS["AWS::EC2::VPCEndpoint"].icon, DATA)
            node = self._add(stack, ids[0], kind, "", ", ".join(services), ids[1:])
            node.tier = "vpc" if kind_name != "Interface" else None
        self._place(stack)
        # Neptune instances, EFS mount targets, task definitions behind a service: drawn as
        # the resource they belong to.
        for logical_id, resource in resources.items():
            p = props(resource)
            parent = None
            if resource["Type"] in ("AWS::Neptune::DBInstance", "AWS::RDS::DBInstance"):
                parent = ref(p.get("DBClusterIdentifier"))
            elif resource["Type"] == "AWS::EFS::MountTarget":
                parent = ref(p.get("FileSystemId"))
            elif resource["Type"] == "AWS::ECS::Service":
                self.owner[(stack.id, ref(p.get("TaskDefinition")))] = f"{stack.id}_{logical_id}"
            if parent and (stack.id, parent) in self.owner:
                self.owner[(stack.id, logical_id)] = self.owner[(stack.id, parent)]

    def _detail(self, stack: Stack, logical_id: str, resource: dict) -> str:
        rtype, p = resource["Type"], props(resource)
        if rtype == "AWS::Lambda::Function":
            arch = (p.get("Architectures") or ["x86_64"])[0]
            return f"{arch}, {p.get('MemorySize', 128)} MB"
        if rtype == "AWS::ECS::Service":
            task = props(stack.resources[ref(p["TaskDefinition"])])
            providers = {
                s["CapacityProvider"] if isinstance(s["CapacityProvider"], str) else "EC2"
                for s in p.get("CapacityProviderStrategy", [])
            }
            names = {"FARGATE": "Fargate", "FARGATE_SPOT": "Fargate Spot"}
            capacity = " + ".join(sorted(names.get(x, x) for x in providers)) or "Fargate"
            cpu, memory = int(task["Cpu"]) / 1024, int(task["Memory"]) / 1024
            return f"{capacity}, {cpu:g} vCPU / {memory:g} GB, min {p['DesiredCount']}"
        if rtype == "AWS::ECS::TaskDefinition":
            return f"Fargate, {int(p['Cpu']) / 1024:g} vCPU / {int(p['Memory']) / 1024:g} GB"
        if rtype == "AWS::AutoScaling::AutoScalingGroup":
            template = launch_template_of(p)
            itype = props(stack.resources[template])["LaunchTemplateData"]["InstanceType"]
            return f"{itype}, {p['MinSize']}–{p['MaxSize']} instances"
        if rtype == "AWS::EKS::Cluster":
            parts = [f"Kubernetes {p.get('Version', '(EKS default)')}"]
            if (p.get("ComputeConfig") or {}).get("Enabled"):
                parts.append("Auto Mode")
            public = (p.get("ResourcesVpcConfig") or {}).get("EndpointPublicAccess", True)
            parts.append("allow-listed public endpoint" if public else "private endpoint")
            return ", ".join(parts)
        if rtype == "AWS::EKS::Nodegroup":
            types = p.get("InstanceTypes") or ["t3.medium"]
            kind = f"{types[0]}" + (f" +{len(types) - 1}" if len(types) > 1 else "")
            scaling = p.get("ScalingConfig", {})
            capacity = {"SPOT": "Spot"}.get(p.get("CapacityType"), "On-Demand")
            nodes = f"{scaling.get('DesiredSize', 1)} (max {scaling.get('MaxSize', 1)})"
            return f"{capacity}, {kind}, {nodes}"
        if rtype == "AWS::EKS::FargateProfile":
            return ", ".join(s.get("Namespace", "?") for s in p.get("Selectors", []))
        if rtype == "AWS::DAX::Cluster":
            return f"{p['ReplicationFactor']} × {p['NodeType']}"
        if rtype == "AWS::ECS::ExpressGatewayService":
            scaling = p.get("ScalingTarget", {})
            cpu, memory = int(p["Cpu"]) / 1024, int(p["Memory"]) / 1024
            return f"Fargate, {cpu:g} vCPU / {memory:g} GB, min {scaling.get('MinTaskCount', 1)}"
        if rtype == "AWS::AppRunner::Service":
            size = p["InstanceConfiguration"]
            return f"{int(size['Cpu']) / 1024:g} vCPU / {int(size['Memory']) / 1024:g} GB"
        if rtype == "AWS::RDS::DBCluster":
            scaling = p.get("ServerlessV2ScalingConfiguration", {})
            count = sum(
                ref(props(r).get("DBClusterIdentifier")) == logical_id
                for r in stack.of_type("AWS::RDS::DBInstance").values()
            )
            acu = f"{scaling.get('MinCapacity', 0):g}–{scaling.get('MaxCapacity', 0):g} ACU"
            return f"{count} × Serverless v2, {acu}"
        if rtype == "AWS::Neptune::DBCluster":
            instances = [
                props(r)["DBInstanceClass"]
                for r in stack.of_type("AWS::Neptune::DBInstance").values()
                if ref(props(r).get("DBClusterIdentifier")) == logical_id
            ]
            if len(set(instances)) == 1:
                return f"{len(instances)} × {instances[0]}"
            return ", ".join(sorted(instances))
        if rtype == "AWS::DynamoDB::GlobalTable":
            return f"{len(p.get('Replicas', []))} replica region(s)"
        if rtype == "AWS::WAFv2::WebACL":
            return f"{p['Scope'].lower()}, {len(p.get('Rules', []))} rules"
        if rtype == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            return p.get("Scheme", "internet-facing")
        return ""

    @staticmethod
    def _endpoint_service(resource: dict) -> str:
        name = props(resource).get("ServiceName")
        if isinstance(name, dict) and "Fn::Join" in name:
            name = "".join(part for part in name["Fn::Join"][1] if isinstance(part, str))
        return (
            str(name).rsplit(".", 1)[-1]
            if "ecr" not in str(name)
            else ".".join(str(name).split(".")[-2:])
        )

    @staticmethod
    def _log_buckets(stack: Stack) -> set[str]:
        """Buckets that only receive logs (server access logs, ALB and CloudFront logs)."""
        found = set()
        for resource in stack.resources.values():
            p = props(resource)
            target = ref(p.get("LoggingConfiguration", {}).get("DestinationBucketName"))
            if target:
                found.add(target)
            for attribute in p.get("LoadBalancerAttributes", []):
                if attribute["Key"] == "access_logs.s3.bucket":
                    found.add(ref(attribute["Value"]))
            logging = p.get("DistributionConfig", {}).get("Logging", {})
            if logging:
                found |= refs_in(logging.get("Bucket"))
            if resource["Type"] == "AWS::EC2::FlowLog":
                found |= refs_in(p.get("LogDestination"))
        return {f for f in found if f}

    @staticmethod
    def _log_keys(stack: Stack) -> set[str]:
        """KMS keys that only encrypt log groups (plumbing, like the log groups themselves)."""
        for_logs: set[str] = set()
        for_others: set[str] = set()
        for resource in stack.resources.values():
            if resource["Type"] in IAM or resource["Type"] == "AWS::KMS::Alias":
                continue
            found = refs_in(props(resource))
            if resource["Type"] == "AWS::Logs::LogGroup":
                for_logs |= found
            else:
                for_others |= found
        return for_logs - for_others

    @staticmethod
    def _dead_letter_queues(stack: Stack) -> set[str]:
        found: set[str] = set()
        for resource in stack.resources.values():
            found |= failure_destinations(props(resource))
        return found

    def _place(self, stack: Stack) -> None:
        """Put each node in the subnet tier its subnets belong to."""
        kinds = subnet_kinds(stack)
        subnet_groups = {
            k: refs_in(props(r).get("SubnetIds"))
            for k, r in stack.resources.items()
            if r["Type"]
            in ("AWS::Neptune::DBSubnetGroup", "AWS::DAX::SubnetGroup", "AWS::RDS::DBSubnetGroup")
        }
        placed: dict[str, set[str]] = defaultdict(set)
        for logical_id, resource in stack.resources.items():
            p = props(resource)
            subnets: set[str] = set()
            rtype = resource["Type"]
            if rtype == "AWS::Lambda::Function":
                subnets = refs_in(p.get("VpcConfig", {}).get("SubnetIds"))
            elif rtype == "AWS::ECS::Service":
                subnets = refs_in(p.get("NetworkConfiguration"))
            elif rtype == "AWS::AutoScaling::AutoScalingGroup":
                subnets = refs_in(p.get("VPCZoneIdentifier"))
            elif rtype == "AWS::ElasticLoadBalancingV2::LoadBalancer":
                subnets = refs_in(p.get("Subnets"))
            elif rtype == "AWS::EC2::VPCEndpoint":
                subnets = refs_in(p.get("SubnetIds"))
            elif rtype == "AWS::EKS::Cluster":
                subnets = refs_in((p.get("ResourcesVpcConfig") or {}).get("SubnetIds"))
            elif rtype in ("AWS::EKS::Nodegroup", "AWS::EKS::FargateProfile"):
                subnets = refs_in(p.get("Subnets"))
            elif rtype == "AWS::ECS::ExpressGatewayService":
                subnets = refs_in(p.get("NetworkConfiguration"))
            elif rtype in ("AWS::Neptune::DBCluster", "AWS::RDS::DBCluster"):
                subnets = subnet_groups.get(ref(p.get("DBSubnetGroupName")), set())
            elif rtype == "AWS::DAX::Cluster":
                subnets = subnet_groups.get(ref(p.get("SubnetGroupName")), set())
            elif rtype == "AWS::EFS::MountTarget":
                logical_id = ref(p.get("FileSystemId"))
                subnets = refs_in(p.get("SubnetId"))
            elif rtype in ("AWS::Events::Rule", "AWS::Scheduler::Schedule"):
                for target in p.get("Targets", [p.get("Target", {})]):
                    network = target.get("EcsParameters", {}).get("NetworkConfiguration")
                    if network:
                        placed[ref(target["EcsParameters"]["TaskDefinitionArn"])] |= {
                            kinds[s] for s in refs_in(network) if s in kinds
                        }
            elif rtype == "AWS::EC2::InternetGateway":
                node = self.nodes.get(f"{stack.id}_{logical_id}")
                if node:
                    node.tier = "vpc"
            tiers = {kinds[s] for s in subnets if s in kinds}
            if tiers:
                placed[logical_id] |= tiers
        for logical_id, tiers in placed.items():
            node_id = self.owner.get((stack.id, logical_id))
            if node_id and self.nodes[node_id].tier is None:
                self.nodes[node_id].tier = sorted(tiers)[0] if len(tiers) == 1 else "vpc"

    # -- arrows

    def _node(self, stack: Stack, logical_id: str | None) -> str | None:
        return self.owner.get((stack.id, logical_id)) if logical_id else None

    def _arrows_of(self, stack: Stack) -> None:
        resources = stack.resources
        neighbours: dict[str, set[str]] = defaultdict(set)
        for logical_id, resource in resources.items():
            for target in refs_in(props(resource)):
                if target in resources:
                    neighbours[logical_id].add(target)
                    neighbours[target].add(logical_id)
        # Events: source -> consumer, dashed.
        for logical_id, resource in resources.items():
            spec = EVENT_CONNECTORS.get(resource["Type"])
            p = props(resource)
            if spec:
                sources = set().union(*(refs_in(p.get(k)) for k in spec[0]))
                consumers = set().union(*(refs_in(p.get(k)) for k in spec[1]))
                self._link_all(stack, sources, consumers, "event")
            if resource["Type"] == "AWS::Events::Rule":
                rule = self._node(stack, logical_id)
                self._link_all(stack, refs_in(p.get("EventPattern")), {logical_id}, "event")
                for target in p.get("Targets", []):
                    task = target.get("EcsParameters", {}).get("TaskDefinitionArn")
                    consumers = refs_in(task) if task else refs_in(target.get("Arn"))
                    if rule:
                        self._link_all(stack, {logical_id}, consumers, "event")
        # Uses: a drawn resource reaches another directly or through connectors. Through IAM
        # only from its own role (the first step follows the resource's own references), so a
        # policy naming two stores does not join them.
        for logical_id in resources:
            start = self._node(stack, logical_id)
            if not start:
                continue
            own = refs_in(props(resources[logical_id]))
            seen = {logical_id}
            frontier = [logical_id]
            for depth in range(4):
                next_frontier = []
                for current in frontier:
                    for other in sorted(neighbours[current]):
                        if other in seen:
                            continue
                        if depth == 0 and other not in own and resources[other]["Type"] in IAM:
                            continue
                        if (
                            resources[current]["Type"] == "AWS::ApiGateway::Method"
                            and resources[other]["Type"] in IAM
                        ):
                            continue  # its integration role names every function of the API
                        seen.add(other)
                        target = self._node(stack, other)
                        if (
                            target
                            and resources[current]["Type"] in IAM
                            and current in refs_in(props(resources[other]))
                        ):
                            continue  # another user of the same role, not something it calls
                        if target and target != start:
                            self._use(start, target)
                        elif resources[other]["Type"] in CONNECTORS:
                            next_frontier.append(other)
                frontier = next_frontier
        # An EKS cluster's pods reach what admits the cluster's security group (EFS, endpoints):
        # the one place a security group rule is drawn, as nothing else in the template says it.
        for rule in stack.of_type("AWS::EC2::SecurityGroupIngress").values():
            source = props(rule).get("SourceSecurityGroupId")
            if not (isinstance(source, dict) and "Fn::GetAtt" in source):
                continue
            cluster, attribute = source["Fn::GetAtt"]
            if attribute != "ClusterSecurityGroupId" or not self._node(stack, cluster):
                continue
            group = ref(props(rule).get("GroupId"))
            for logical_id, resource in resources.items():
                p = props(resource)
                members = refs_in(p.get("SecurityGroups")) | refs_in(p.get("SecurityGroupIds"))
                target = self._node(stack, logical_id)
                if group in members and target:
                    self._use(self._node(stack, cluster), target)
        # CloudFront origins in another stack, through an export (Fn::ImportValue), named by
        # the distribution itself or by the VPC origin it reaches a private load balancer by.
        exports = self.assembly.exports()
        for logical_id, resource in stack.of_type("AWS::CloudFront::Distribution").items():
            names = _import_names(props(resource))
            for target in refs_in(props(resource)):
                if resources.get(target, {}).get("Type") == "AWS::CloudFront::VpcOrigin":
                    names |= _import_names(props(resources[target]))
            for name in names:
                if name in exports:
                    owner, value = exports[name]
                    for target in refs_in(value):
                        other = self.owner.get((owner.id, target))
                        if other:
                            self.arrows.add((self._node(stack, logical_id), other, "use"))

    def _link_all(self, stack, sources, consumers, style):
        for source in sources:
            for consumer in consumers:
                a, b = self._node(stack, source), self._node(stack, consumer)
                if a and b and a != b:
                    self.arrows.add((a, b, style))

    def _use(self, a: str, b: str) -> None:
        """`a` (the resource whose references lead to `b`) uses `b`; drawn left to right."""
        if self.nodes[a].kind.layer > self.nodes[b].kind.layer:
            a, b = b, a
        if (b, a, "use") in self.arrows:
            return
        first, second = self.nodes[a], self.nodes[b]
        if "KMS" in first.kind.title or "KMS" in second.kind.title:
            return  # every encrypted resource would point at its key
        if "ECR" in second.kind.title and "CodeBuild" not in first.kind.title:
            return  # every task pulls its image: only the build that pushes it is drawn
        if (b, a, "event") in self.arrows or (a, b, "event") in self.arrows:
            return
        if first.kind.title == second.kind.title and first.kind.title in EKS_CAPACITY:
            return  # node groups sharing a launch template, profiles sharing a role
        self.arrows.add((a, b, "use"))

    def _users(self) -> None:
        behind_cloudfront = {
            b for a, b, _s in self.arrows if self.nodes[a].kind.title == "CloudFront"
        }
        entries = [
            n.id
            for n in self.nodes.values()
            if n.kind.title in ("CloudFront", "API Gateway", "Cognito user pool")
            or (n.kind.title == "Application Load Balancer" and "internet" in n.detail)
            # Express Mode's load balancer is internet-facing in public subnets; App Runner's
            # URL always is.
            or (n.kind.title.startswith("ECS Express") and n.tier == "public")
            or n.kind.title == "App Runner service"
        ]
        for entry in sorted(entries):
            node = self.nodes[entry]
            if node.kind.title == "CloudFront" or entry not in behind_cloudfront:
                self.arrows.add(("users", entry, "use"))
        # A WAF protects what it is attached to: draw it beside, not in the request path.
        for a, b, style in list(self.arrows):
            if "WAF" in self.nodes.get(a, Node("", "", "", KINDS["AWS::KMS::Key"], "")).kind.title:
                self.arrows.discard((a, b, style))
                self.arrows.add((a, b, "attached"))
            if "WAF" in self.nodes.get(b, Node("", "", "", KINDS["AWS::KMS::Key"], "")).kind.title:
                self.arrows.discard((a, b, style))
                self.arrows.add((b, a, "attached"))

    # -- output

    def dot(self) -> str:
        out = [
            "// Generated by `make docs` (docgen/diagram.py) from the synthesized "
            f"{self.assembly.stage} templates. Do not edit.",
            f'digraph "{self.doc}" {{',
            f'  graph [rankdir=LR, fontname="{FONT}", fontsize=13, nodesep=0.4, '
            "ranksep=0.8, pad=0.3, splines=spline, newrank=true];",
            f'  node [shape=plain, fontname="{FONT}", fontsize=10];',
            f'  edge [color="#545b64", arrowsize=0.7, fontname="{FONT}"];',
        ]
        if any(a == "users" for a, _b, _s in self.arrows):
            out.append(
                "  " + _node_line(Node("users", "", "users", Kind("Users", USERS_ICON, 0), ""))
            )
        for stack in self.stacks:
            nodes = sorted((n for n in self.nodes.values() if n.stack == stack.id), key=_order)
            if not nodes:
                continue
            out.append(f"  subgraph cluster_{stack.id} {{")
            out.append(
                f'    graph [label="{stack.id} stack", labeljust=l, style="rounded,dashed", '
                'color="#879196"];'
            )
            in_vpc = [n for n in nodes if n.tier]
            for node in nodes:
                if not node.tier:
                    out.append("    " + _node_line(node))
            if in_vpc:
                out.append(f"    subgraph cluster_{stack.id}_vpc {{")
                out.append(
                    '      graph [label="VPC", labeljust=l, style=rounded, color="#8c4fff", '
                    'fontcolor="#8c4fff"];'
                )
                for node in in_vpc:
                    if node.tier == "vpc":
                        out.append("      " + _node_line(node))
                for tier, color in (
                    ("public", "#7aa116"),
                    ("private", "#00a4a6"),
                    ("isolated", "#147eba"),
                ):
                    members = [n for n in in_vpc if n.tier == tier]
                    if not members:
                        continue
                    azs = len([s for s, k in subnet_kinds(stack).items() if k == tier])
                    out.append(f"      subgraph cluster_{stack.id}_{tier} {{")
                    out.append(
                        f'        graph [label="{tier.capitalize()} subnets ({azs} AZs)", '
                        f'labeljust=l, style="rounded,filled", fillcolor="{color}14", '
                        f'color="{color}", fontcolor="{color}"];'
                    )
                    for node in members:
                        out.append("        " + _node_line(node))
                    out.append("      }")
                out.append("    }")
            out.append("  }")
        for a, b, style in sorted(self.arrows):
            attributes = {
                "use": "",
                "event": ' [style=dashed, color="#e7157b"]',
                "attached": ' [style=dotted, arrowhead=none, color="#dd344c"]',
            }[style]
            out.append(f"  {_id(a)} -> {_id(b)}{attributes};")
        out.append("}")
        return "\n".join(out) + "\n"


def _import_names(value) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        if "Fn::ImportValue" in value and isinstance(value["Fn::ImportValue"], str):
            found.add(value["Fn::ImportValue"])
        for inner in value.values():
            found |= _import_names(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _import_names(inner)
    return found


def _order(node: Node) -> tuple:
    return (node.kind.layer, node.kind.title, node.name, node.id)


def _id(node_id: str) -> str:
    return '"' + node_id + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _node_line(node: Node) -> str:
    """An icon with the name under it, then the kind and detail in grey."""
    rows = [
        f'<TR><TD FIXEDSIZE="TRUE" WIDTH="48" HEIGHT="48"><IMG SRC="{node.kind.icon}" '
        'SCALE="TRUE"/></TD></TR>'
    ]
    if node.name:
        rows.append(f"<TR><TD>{_html(node.name)}</TD></TR>")
    kind = node.kind.title + (f" · {node.detail}" if node.detail else "")
    rows.append(f'<TR><TD><FONT POINT-SIZE="9" COLOR="#545b64">{_html(kind)}</FONT></TD></TR>')
    table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
    return f"{_id(node.id)} [label=<{table}{''.join(rows)}</TABLE>>];"


def dot_source(doc: str, assembly: Assembly) -> str:
    return Picture(doc, assembly).dot()


def stage_differences(doc: str, drawn: Assembly, other: Assembly) -> list[str]:
    """What the other stage has that the drawn one does not, and the reverse, and what sits
    in another subnet tier: the caption under the picture."""
    mine = {n.signature: n for n in Picture(doc, drawn).nodes.values()}
    theirs = {n.signature: n for n in Picture(doc, other).nodes.values()}

    def name(node: Node) -> str:
        what = node.kind.title
        who = node.name or (node.detail if what.endswith(("endpoint", "endpoints")) else "")
        return f"{what} ({who})" if who else what

    notes = [f"no {name(n)}" for s, n in sorted(mine.items()) if s not in theirs]
    notes += [f"adds {name(n)}" for s, n in sorted(theirs.items()) if s not in mine]
    for signature, node in sorted(mine.items()):
        if signature in theirs and theirs[signature].tier != node.tier:
            notes.append(
                f"{name(node)} {_where(theirs[signature].tier)} "
                f"({drawn.stage}: {_where(node.tier)})"
            )
    return notes


def _where(tier: str | None) -> str:
    return {None: "outside the VPC", "vpc": "in the VPC"}.get(tier, f"in {tier} subnets")


# ---------------------------------------------------------------------------------------------
# Files: docs/images/<doc>.dot and .png, pictures.json; the doc's picture section.


def dot_file(doc: str) -> Path:
    return IMAGES / f"{doc}.dot"


def png_file(doc: str) -> Path:
    return IMAGES / f"{doc}.png"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded() -> dict:
    return json.loads(PICTURES.read_text()) if PICTURES.exists() else {}


def section(doc: str, assemblies: dict[str, Assembly]) -> str:
    drawn = assemblies[STAGE]
    others = [a for s, a in assemblies.items() if s != STAGE]
    stacks = ", ".join(f"`{s.id}`" for s in drawn.of_doc(doc))
    region = {s.region for s in drawn.of_doc(doc)}
    where = f"{', '.join(sorted(r for r in region if r))}" if any(region) else "any region"
    caption = [
        f"![{doc}: the {STAGE} stage's resources](images/{doc}.png)",
        "",
        f"*Generated from the synthesized {STAGE} templates of {stacks} ({where}) by "
        "`make docs`; plumbing (IAM, security groups, log groups, log buckets, dead-letter "
        "queues, CDK's custom-resource functions) left out. Solid arrow: calls, reads or writes; "
        "dashed: event; dotted: attached web ACL.*",
    ]
    for other in others:
        notes = stage_differences(doc, drawn, other)
        if notes:
            caption += ["", f"*{other.stage.capitalize()} differs: " + "; ".join(notes) + ".*"]
    return "\n".join(caption)


def sections(assemblies: dict[str, Assembly]) -> dict[str, dict[str, str]]:
    return {doc: {"picture": section(doc, assemblies)} for doc in BLUEPRINT_DOCS}


def files(assemblies: dict[str, Assembly]) -> dict[Path, str]:
    """The DOT sources `make docs` writes (the PNGs are rendered from them by `render`)."""
    return {dot_file(doc): dot_source(doc, assemblies[STAGE]) for doc in BLUEPRINT_DOCS}


def icon_root() -> Path:
    """The AWS icons shipped by the `diagrams` package (pinned in requirements-dev.txt)."""
    try:
        import diagrams
    except ImportError as error:
        raise SystemExit(
            "the pictures need the `diagrams` package's AWS icons: make install-dev"
        ) from error
    return Path(diagrams.__file__).resolve().parent.parent / "resources" / "aws"


def render(docs=BLUEPRINT_DOCS) -> list[Path]:
    """Render each doc's checked-in DOT source to PNG with Graphviz, and record both hashes."""
    dot = shutil.which("dot")
    if not dot:
        raise SystemExit(
            "the pictures need Graphviz's `dot`: apt-get install graphviz (Debian/Ubuntu), "
            "brew install graphviz (macOS); `make docs` installs it with apt-get when it can"
        )
    icons = icon_root()
    hashes = recorded()
    written = []
    for doc in docs:
        source, picture = dot_file(doc), png_file(doc)
        subprocess.run(
            [dot, "-Tpng", "-Gdpi=96", f"-Gimagepath={icons}", "-o", str(picture), str(source)],
            check=True,
        )
        hashes[doc] = {"dot_sha256": sha256(source), "png_sha256": sha256(picture)}
        written.append(picture)
    PICTURES.write_text(json.dumps(dict(sorted(hashes.items())), indent=2) + "\n")
    return written


def stale_pictures(docs=BLUEPRINT_DOCS) -> list[str]:
    """Docs whose PNG was not rendered from the checked-in DOT source (or is missing)."""
    hashes = recorded()
    stale = []
    for doc in docs:
        entry = hashes.get(doc, {})
        source, picture = dot_file(doc), png_file(doc)
        if not (source.exists() and picture.exists()):
            stale.append(doc)
        elif entry.get("dot_sha256") != sha256(source) or entry.get("png_sha256") != sha256(
            picture
        ):
            stale.append(doc)
    return stale
