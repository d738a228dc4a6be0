"""What a synthesized template needs from the account before it can deploy.

Pure functions over the template dict: no AWS calls, no credentials, so every rule here is
unit-tested with small hand-written templates. `preflight_checks` asks the account for each
need. Values CloudFormation only knows at deploy time (a `Ref` to a parameter, a `GetAtt`) are
returned as None and the check says it could not look.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Iterator

from house.failures import referenced

# An Availability Zone as the template names it: a literal name ("us-east-1a") or the index
# into `Fn::GetAZs` of the stack's own region (what CDK writes for an environment-agnostic VPC).
AzRef = str | int


def resources(template: dict, *types: str) -> Iterator[tuple[str, dict]]:
    for logical_id, resource in template.get("Resources", {}).items():
        if not types or resource.get("Type") in types:
            yield logical_id, resource


def properties(resource: dict) -> dict:
    return resource.get("Properties") or {}


# --- intrinsic functions that can be evaluated before deploy ------------------------------


def literal(value: object, pseudo_parameters: dict[str, str]) -> str | None:
    """`value` as a plain string if it only uses literals and pseudo parameters, else None.

    Handles what CDK writes for names: strings, `Ref` to `AWS::StackName`/`AWS::Region`/...,
    `Fn::Join` and `Fn::Sub` over those.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((function, argument),) = value.items()
    if function == "Ref":
        return pseudo_parameters.get(argument) if isinstance(argument, str) else None
    if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        separator, parts = argument
        if not isinstance(separator, str) or not isinstance(parts, list):
            return None
        resolved = [literal(part, pseudo_parameters) for part in parts]
        return None if any(part is None for part in resolved) else separator.join(resolved)
    if function == "Fn::Sub":
        text, variables = (
            (argument, {})
            if isinstance(argument, str)
            else (argument if isinstance(argument, list) and len(argument) == 2 else (None, {}))
        )
        if not isinstance(text, str) or not isinstance(variables, dict):
            return None
        known = dict(pseudo_parameters)
        for name, raw in variables.items():
            resolved = literal(raw, pseudo_parameters)
            if resolved is None:
                return None
            known[name] = resolved
        unresolved = [name for name in re.findall(r"\$\{([^}!]+)\}", text) if name not in known]
        if unresolved:
            return None
        substituted = re.sub(r"\$\{([^}!]+)\}", lambda match: known[match.group(1)], text)
        return substituted.replace("${!", "${")  # `${!Name}` is Fn::Sub's escape for `${Name}`
    return None


def availability_zone_ref(value: object) -> AzRef | None:
    """A literal AZ name, the index of `Fn::Select [i, Fn::GetAZs ""]`, or None."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and list(value) == ["Fn::Select"]:
        argument = value["Fn::Select"]
        if isinstance(argument, list) and len(argument) == 2:
            index, source = argument
            if (
                isinstance(source, dict)
                and list(source) == ["Fn::GetAZs"]
                and source["Fn::GetAZs"] in ("", {"Ref": "AWS::Region"})
            ):
                try:
                    return int(index)
                except (TypeError, ValueError):
                    return None
    return None


def _ref_target(value: object) -> str | None:
    if isinstance(value, dict) and list(value) == ["Ref"] and isinstance(value["Ref"], str):
        return value["Ref"]
    return None


def subnet_availability_zones(template: dict) -> dict[str, AzRef | None]:
    """Logical id of every subnet the template creates -> its AZ."""
    return {
        logical_id: availability_zone_ref(properties(subnet).get("AvailabilityZone"))
        for logical_id, subnet in resources(template, "AWS::EC2::Subnet")
    }


def availability_zones(template: dict) -> list[AzRef]:
    """Every AZ the template places something in: subnets, instances, Neptune instances."""
    refs: list[AzRef | None] = list(subnet_availability_zones(template).values())
    for _, resource in resources(template, "AWS::EC2::Instance", "AWS::Neptune::DBInstance"):
        refs.append(availability_zone_ref(properties(resource).get("AvailabilityZone")))
    unique: list[AzRef] = []
    for ref in refs:
        if ref is not None and ref not in unique:
            unique.append(ref)
    return unique


# --- API Gateway account settings ---------------------------------------------------------


def logging_api_stages(template: dict) -> list[str]:
    """REST API stages that write access or execution logs, so need the account's CloudWatch
    Logs role. A setting CloudFormation resolves at deploy time counts as logging: a false
    alarm costs a look, a miss costs a failed deploy."""
    found = []
    for logical_id, stage in resources(template, "AWS::ApiGateway::Stage"):
        if _stage_logs(properties(stage)):
            found.append(logical_id)
    for logical_id, deployment in resources(template, "AWS::ApiGateway::Deployment"):
        description = properties(deployment).get("StageDescription")
        if description is not None and (
            not isinstance(description, dict) or _stage_logs(description, deployment=True)
        ):
            found.append(logical_id)
    return found


def _stage_logs(settings: dict, deployment: bool = False) -> bool:
    if settings.get("AccessLogSetting"):
        return True
    method_settings = settings.get("MethodSettings")
    if method_settings is not None and not isinstance(method_settings, list):
        return True
    entries = list(method_settings or [])
    if deployment:  # a Deployment's StageDescription carries the stage-wide values itself
        entries.append(settings)
    for entry in entries:
        if not isinstance(entry, dict):
            return True
        if entry.get("LoggingLevel") not in (None, "OFF"):
            return True
        if entry.get("DataTraceEnabled") not in (None, False, "false"):
            return True
    return False


# --- service-linked roles -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ServiceLinkedRole:
    role_name: str
    # The service principal `iam create-service-linked-role --aws-service-name` takes.
    service: str


# Names and principals as the services' own IAM documentation gives them.
ECS = ServiceLinkedRole("AWSServiceRoleForECS", "ecs.amazonaws.com")
RDS = ServiceLinkedRole("AWSServiceRoleForRDS", "rds.amazonaws.com")  # Neptune shares it
DAX = ServiceLinkedRole("AWSServiceRoleForDAX", "dax.amazonaws.com")
ELASTIC_LOAD_BALANCING = ServiceLinkedRole(
    "AWSServiceRoleForElasticLoadBalancing", "elasticloadbalancing.amazonaws.com"
)
EC2_AUTO_SCALING = ServiceLinkedRole("AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com")
EFS = ServiceLinkedRole(
    "AWSServiceRoleForAmazonElasticFileSystem", "elasticfilesystem.amazonaws.com"
)
ECS_SERVICE_AUTO_SCALING = ServiceLinkedRole(
    "AWSServiceRoleForApplicationAutoScaling_ECSService",
    "ecs.application-autoscaling.amazonaws.com",
)
DYNAMODB_TABLE_AUTO_SCALING = ServiceLinkedRole(
    "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
    "dynamodb.application-autoscaling.amazonaws.com",
)
DYNAMODB_REPLICATION = ServiceLinkedRole(
    "AWSServiceRoleForDynamoDBReplication", "replication.dynamodb.amazonaws.com"
)
# AWS Backup creates it on first use; a plan's first job can race that like any other service.
BACKUP = ServiceLinkedRole("AWSServiceRoleForBackup", "backup.amazonaws.com")

EKS = ServiceLinkedRole("AWSServiceRoleForAmazonEKS", "eks.amazonaws.com")
EKS_NODEGROUP = ServiceLinkedRole(
    "AWSServiceRoleForAmazonEKSNodegroup", "eks-nodegroup.amazonaws.com"
)
EKS_FARGATE = ServiceLinkedRole("AWSServiceRoleForAmazonEKSForFargate", "eks-fargate.amazonaws.com")
APP_RUNNER = ServiceLinkedRole("AWSServiceRoleForAppRunner", "apprunner.amazonaws.com")
APP_RUNNER_NETWORKING = ServiceLinkedRole(
    "AWSServiceRoleForAppRunnerNetworking", "networking.apprunner.amazonaws.com"
)

_ROLE_BY_TYPE_PREFIX = (
    ("AWS::ECS::", ECS),
    ("AWS::Neptune::", RDS),
    ("AWS::RDS::", RDS),
    ("AWS::Backup::", BACKUP),
)
_ROLE_BY_TYPE = {
    "AWS::DAX::Cluster": DAX,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": ELASTIC_LOAD_BALANCING,
    "AWS::ElasticLoadBalancing::LoadBalancer": ELASTIC_LOAD_BALANCING,
    "AWS::EFS::FileSystem": EFS,
    "AWS::EKS::Cluster": EKS,  # also what EKS Auto Mode launches nodes with
    "AWS::EKS::FargateProfile": EKS_FARGATE,
    "AWS::AppRunner::Service": APP_RUNNER,
    "AWS::AppRunner::VpcConnector": APP_RUNNER_NETWORKING,
}
# Resources that make the service create others outside the template: an ECS Express service
# gets a load balancer and an ECS scalable target, whose services' roles must exist first (the
# blueprint's infrastructure role may not create them).
_ROLES_OUTSIDE_TEMPLATE = {
    "AWS::ECS::ExpressGatewayService": (ELASTIC_LOAD_BALANCING, ECS_SERVICE_AUTO_SCALING),
}
_ROLE_BY_SCALING_NAMESPACE = {
    "ecs": ECS_SERVICE_AUTO_SCALING,
    "dynamodb": DYNAMODB_TABLE_AUTO_SCALING,
}


def service_linked_roles(template: dict) -> dict[ServiceLinkedRole, list[str]]:
    """Service-linked role -> the resource types in the template that need it."""
    needed: dict[ServiceLinkedRole, list[str]] = {}

    def need(role: ServiceLinkedRole, resource_type: str) -> None:
        types = needed.setdefault(role, [])
        if resource_type not in types:
            types.append(resource_type)

    for _, resource in resources(template):
        resource_type = resource.get("Type", "")
        props = properties(resource)
        for prefix, role in _ROLE_BY_TYPE_PREFIX:
            if resource_type.startswith(prefix):
                need(role, f"{prefix}*")
        if resource_type in _ROLE_BY_TYPE:
            need(_ROLE_BY_TYPE[resource_type], resource_type)
        for role in _ROLES_OUTSIDE_TEMPLATE.get(resource_type, ()):
            need(role, resource_type)
        # A group given its own (custom-suffix) role does not use the default one.
        if (
            resource_type == "AWS::AutoScaling::AutoScalingGroup"
            and "ServiceLinkedRoleARN" not in props
        ):
            need(EC2_AUTO_SCALING, resource_type)
        if resource_type == "AWS::EKS::Nodegroup":  # EKS runs each group as an ASG
            need(EKS_NODEGROUP, resource_type)
            need(EC2_AUTO_SCALING, resource_type)
        if resource_type == "AWS::ApplicationAutoScaling::ScalableTarget":
            role = _ROLE_BY_SCALING_NAMESPACE.get(props.get("ServiceNamespace"))
            # A RoleARN that is not a service-linked role is a legacy service role instead.
            if role and (
                "RoleARN" not in props or "aws-service-role/" in json.dumps(props["RoleARN"])
            ):
                need(role, f"{resource_type} ({props['ServiceNamespace']})")
        if resource_type == "AWS::DynamoDB::GlobalTable":
            replicas = props.get("Replicas")
            if not isinstance(replicas, list) or len(replicas) > 1:
                need(DYNAMODB_REPLICATION, f"{resource_type} (replicas)")
    return needed


# --- AWS Backup ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BackupCopy:
    plan: str  # logical id of the AWS::Backup::BackupPlan
    destination: str | None  # the vault ARN, None when only known at deploy time
    # Resource types the plan's selections name (by the logical id they reference).
    selected_types: tuple[str, ...]


def backup_copies(template: dict) -> list[BackupCopy]:
    """Every backup plan that copies its recovery points to another vault, with what it backs
    up: a DynamoDB table's copy needs the account's advanced DynamoDB backup features, a copy
    to another account needs AWS Organizations' cross-account backup."""
    selected: dict[str, set[str]] = {}
    all_resources = template.get("Resources", {})
    for _, selection in resources(template, "AWS::Backup::BackupSelection"):
        props = properties(selection)
        plan = props.get("BackupPlanId")
        plan_id = plan.get("Fn::GetAtt", [None])[0] if isinstance(plan, dict) else None
        for logical_id in referenced(props.get("BackupSelection", {}).get("Resources")):
            selected.setdefault(plan_id, set()).add(all_resources.get(logical_id, {}).get("Type"))
    copies = []
    for logical_id, plan in resources(template, "AWS::Backup::BackupPlan"):
        for rule in properties(plan).get("BackupPlan", {}).get("BackupPlanRule", []):
            for action in rule.get("CopyActions") or []:
                destination = action.get("DestinationBackupVaultArn")
                copies.append(
                    BackupCopy(
                        logical_id,
                        destination if isinstance(destination, str) else None,
                        tuple(sorted(t for t in selected.get(logical_id, ()) if t)),
                    )
                )
    return copies


# --- quotas -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Quota:
    name: str  # as the Service Quotas console names it
    service_code: str
    quota_code: str
    documented_default: int
    resource_type: str
    per_availability_zone: bool = False


# Codes and defaults as Service Quotas lists them (moto's copy of the `vpc` list agrees).
VPCS = Quota("VPCs per Region", "vpc", "L-F678F1CE", 5, "AWS::EC2::VPC")
INTERNET_GATEWAYS = Quota(
    "Internet gateways per Region", "vpc", "L-A4707A72", 5, "AWS::EC2::InternetGateway"
)
NAT_GATEWAYS = Quota(
    "NAT gateways per Availability Zone",
    "vpc",
    "L-FE5A380F",
    5,
    "AWS::EC2::NatGateway",
    per_availability_zone=True,
)
ELASTIC_IPS = Quota("EC2-VPC Elastic IPs", "ec2", "L-0263D0A3", 5, "AWS::EC2::EIP")
QUOTAS = (VPCS, INTERNET_GATEWAYS, NAT_GATEWAYS, ELASTIC_IPS)


def quota_demand(template: dict, quota: Quota) -> Counter:
    """How many of the quota's resources the template creates: {None: n} for a regional
    quota; {AZ: n} per AZ for a per-AZ one, where None means an AZ it cannot tell."""
    demand: Counter = Counter()
    subnets = subnet_availability_zones(template)
    for _, resource in resources(template, quota.resource_type):
        if not quota.per_availability_zone:
            demand[None] += 1
            continue
        subnet = _ref_target(properties(resource).get("SubnetId"))
        demand[subnets.get(subnet) if subnet else None] += 1
    return demand


# --- SES and CloudFormation exports -------------------------------------------------------


def email_identities(template: dict) -> list[tuple[str, object]]:
    """(logical id, EmailIdentity as written) of every SES identity the template creates."""
    return [
        (logical_id, properties(identity).get("EmailIdentity"))
        for logical_id, identity in resources(template, "AWS::SES::EmailIdentity")
    ]


def export_names(template: dict) -> list[tuple[str, object]]:
    """(output name, Export.Name as written) of every output the template exports."""
    return [
        (name, output["Export"].get("Name"))
        for name, output in template.get("Outputs", {}).items()
        if isinstance(output.get("Export"), dict)
    ]


# --- instance classes and types -----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NeptuneInstance:
    logical_id: str
    instance_class: str | None
    # None: the cluster takes the region's default engine version.
    engine_version: str | None
    availability_zone: AzRef | None


def neptune_instances(template: dict) -> list[NeptuneInstance]:
    clusters = dict(resources(template, "AWS::Neptune::DBCluster"))
    found = []
    for logical_id, instance in resources(template, "AWS::Neptune::DBInstance"):
        props = properties(instance)
        cluster = clusters.get(_ref_target(props.get("DBClusterIdentifier")) or "", {})
        version = properties(cluster).get("EngineVersion")
        instance_class = props.get("DBInstanceClass")
        found.append(
            NeptuneInstance(
                logical_id,
                instance_class if isinstance(instance_class, str) else None,
                version if isinstance(version, str) else None,
                availability_zone_ref(props.get("AvailabilityZone")),
            )
        )
    return found


def launched_instance_types(template: dict) -> dict[str, list[str]]:
    """EC2 instance type -> logical ids of the launch templates, launch configurations,
    instances, mixed-instances groups and EKS managed node groups that launch it (literal
    types only)."""
    found: dict[str, list[str]] = {}

    def add(instance_type: object, logical_id: str) -> None:
        if isinstance(instance_type, str):
            ids = found.setdefault(instance_type, [])
            if logical_id not in ids:
                ids.append(logical_id)

    for logical_id, resource in resources(template):
        props = properties(resource)
        resource_type = resource.get("Type")
        if resource_type == "AWS::EC2::LaunchTemplate":
            add((props.get("LaunchTemplateData") or {}).get("InstanceType"), logical_id)
        elif resource_type in ("AWS::EC2::Instance", "AWS::AutoScaling::LaunchConfiguration"):
            add(props.get("InstanceType"), logical_id)
        elif resource_type == "AWS::EKS::Nodegroup":
            for instance_type in props.get("InstanceTypes") or []:
                add(instance_type, logical_id)
        elif resource_type == "AWS::AutoScaling::AutoScalingGroup":
            policy = props.get("MixedInstancesPolicy") or {}
            for override in (policy.get("LaunchTemplate") or {}).get("Overrides") or []:
                if isinstance(override, dict):
                    add(override.get("InstanceType"), logical_id)
    return found
