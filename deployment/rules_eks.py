"""Deploy-time rules for EKS, stated over any template (deployment/rules.py runs them with the
others over every stack). Each is a way a first `cdk deploy` of a cluster fails, or bills what
nobody chose, found in the EKS user guide and the CloudFormation/Terraform issue trackers:

- `eks-upgrade-policy-explicit`: AWS::EKS::Cluster without `UpgradePolicy.SupportType` gets
  EXTENDED: once its version leaves standard support the cluster bills extended support (six
  times the standard control-plane rate) without anyone having chosen it. The aws_eks_v2 L2
  has no property for it; set it on the L1.
- `eks-secrets-key-usable-before-cluster`: with envelope encryption, EKS checks at
  CreateCluster that the cluster role may use the KMS key; the grant (an IAM policy on the
  role) must exist first, and nothing orders a role's policy before its users by itself.
- `eks-no-duplicate-access-entry`: EKS creates the access entries of an Auto Mode node role,
  a managed node group's role and a Fargate pod execution role itself; declaring one again
  fails (ResourceInUseException).
- `eks-addons-wait-for-capacity`: an add-on that runs a Deployment (CoreDNS, metrics-server,
  the CSI controllers, Container Insights) stays DEGRADED until pods can schedule, and
  CloudFormation waits for ACTIVE until it times out; on a cluster without Auto Mode it must
  follow a node group or Fargate profile of its cluster.
- `eks-nodes-wait-for-their-path-out`: nodes that cannot reach ECR, STS and EKS at boot never
  join (NodeCreationFailure after ~20 minutes); a node group must follow the NAT route of its
  subnets, or the interface endpoints when its subnets have no route out.
- `eks-fargate-profiles-one-at-a-time`: EKS creates or deletes one Fargate profile per cluster
  at a time (ResourceInUseException); a cluster's profiles must form one chain.
- `eks-fargate-in-private-subnets`: EKS refuses a Fargate profile with a subnet whose route
  table sends 0.0.0.0/0 to an internet gateway.
- `eks-cluster-spans-two-azs`: CreateCluster needs subnets in at least two AZs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from deployment.assembly import StackArtifact
from deployment.preflight_needs import properties, resources, subnet_availability_zones

# Add-ons whose pods are Deployments (need somewhere to run before they turn ACTIVE).
DEPLOYMENT_ADDONS = frozenset(
    {
        "coredns",
        "metrics-server",
        "aws-ebs-csi-driver",
        "aws-efs-csi-driver",
        "amazon-cloudwatch-observability",
        "aws-mountpoint-s3-csi-driver",
        "snapshot-controller",
        "adot",
    }
)


def _violation(rule: str, stack: StackArtifact, resource: str, message: str):
    from deployment.rules import Violation  # rules.py imports this module

    return Violation(rule, stack.id, resource, message)


def _refs(value) -> Iterator[str]:
    """Logical ids a CloudFormation value refers to (Ref, GetAtt, Sub)."""
    if isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                yield argument
            elif key == "Fn::GetAtt":
                target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
                yield target
            elif key == "Fn::Sub":
                text = argument if isinstance(argument, str) else argument[0]
                for name in _sub_names(text):
                    yield name.split(".")[0]
                if isinstance(argument, list):
                    yield from _refs(argument[1])
            else:
                yield from _refs(argument)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _sub_names(text: str) -> Iterator[str]:
    import re

    yield from re.findall(r"\$\{([^}!]+)\}", text)


def _ref(value) -> str | None:
    targets = list(_refs(value))
    return targets[0] if len(targets) == 1 else None


def _depends_on(resource: dict) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


class Graph:
    """What each resource of a template waits for: DependsOn and references, transitively."""

    def __init__(self, template: dict) -> None:
        self.resources = template.get("Resources", {})
        self._direct = {
            logical_id: {
                target
                for target in (*_depends_on(resource), *_refs(resource.get("Properties", {})))
                if target in self.resources and target != logical_id
            }
            for logical_id, resource in self.resources.items()
        }
        self._closure: dict[str, set[str]] = {}

    def after(self, logical_id: str) -> set[str]:
        """Everything `logical_id` is created after."""
        if logical_id not in self._closure:
            seen: set[str] = set()
            stack = list(self._direct.get(logical_id, ()))
            while stack:
                current = stack.pop()
                if current not in seen:
                    seen.add(current)
                    stack.extend(self._direct.get(current, ()))
            self._closure[logical_id] = seen
        return self._closure[logical_id]


def _cluster_of(resource: dict) -> str | None:
    return _ref(properties(resource).get("ClusterName"))


# -- the rules -------------------------------------------------------------------------------


def upgrade_policy_explicit(stack: StackArtifact) -> Iterable:
    for logical_id, cluster in stack.resources("AWS::EKS::Cluster"):
        policy = properties(cluster).get("UpgradePolicy") or {}
        if not isinstance(policy, dict) or not policy.get("SupportType"):
            yield _violation(
                "eks-upgrade-policy-explicit",
                stack,
                logical_id,
                "the cluster sets no UpgradePolicy.SupportType, so CloudFormation creates it "
                "with EXTENDED: once its version leaves standard support it bills extended "
                "support unasked; set STANDARD (or EXTENDED deliberately) on the L1",
            )


def _policy_grants_key(policy: dict, key: str) -> bool:
    document = properties(policy).get("PolicyDocument") or {}
    wanted = {"kms:Encrypt", "kms:Decrypt"}
    allowed: set[str] = set()
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        targets = statement.get("Resource", [])
        targets = targets if isinstance(targets, list) else [targets]
        if "*" in targets or key in {t for r in targets for t in _refs(r)}:
            allowed |= {"kms:Encrypt", "kms:Decrypt"} if "kms:*" in actions else set(actions)
    return wanted <= allowed


def secrets_key_usable_before_cluster(stack: StackArtifact) -> Iterable:
    template = stack.template
    graph = Graph(template)
    policies = dict(resources(template, "AWS::IAM::Policy"))
    for logical_id, cluster in stack.resources("AWS::EKS::Cluster"):
        props = properties(cluster)
        role = _ref(props.get("RoleArn"))
        for config in props.get("EncryptionConfig") or []:
            key = _ref((config.get("Provider") or {}).get("KeyArn"))
            if key is None or role is None:
                continue  # an imported key or role: the preflight cannot see it either
            granting = [
                policy_id
                for policy_id, policy in policies.items()
                if role in {r for v in properties(policy).get("Roles", []) for r in _refs(v)}
                and _policy_grants_key(policy, key)
            ]
            if not granting:
                yield _violation(
                    "eks-secrets-key-usable-before-cluster",
                    stack,
                    logical_id,
                    f"no IAM policy of the cluster role {role} allows kms:Encrypt and "
                    f"kms:Decrypt on {key}: EKS refuses to create a cluster whose role "
                    "cannot use its secrets key",
                )
            elif not set(granting) & graph.after(logical_id):
                yield _violation(
                    "eks-secrets-key-usable-before-cluster",
                    stack,
                    logical_id,
                    f"the cluster does not wait for {', '.join(granting)}, the policy letting "
                    f"its role use {key}: CloudFormation may create the cluster first and "
                    "EKS refuses it; add a dependency on the role's policy",
                )


def no_duplicate_access_entry(stack: StackArtifact) -> Iterable:
    template = stack.template
    automatic: dict[tuple[str, str], str] = {}  # (cluster, role) -> what made EKS create it
    for logical_id, cluster in resources(template, "AWS::EKS::Cluster"):
        compute = properties(cluster).get("ComputeConfig") or {}
        role = _ref(compute.get("NodeRoleArn")) if compute.get("Enabled") else None
        if role:
            automatic[(logical_id, role)] = "the Auto Mode node role"
    for _, group in resources(template, "AWS::EKS::Nodegroup"):
        role = _ref(properties(group).get("NodeRole"))
        if role:
            automatic[(_cluster_of(group) or "", role)] = "a managed node group's role"
    for _, profile in resources(template, "AWS::EKS::FargateProfile"):
        role = _ref(properties(profile).get("PodExecutionRoleArn"))
        if role:
            automatic[(_cluster_of(profile) or "", role)] = "a Fargate pod execution role"
    for logical_id, entry in resources(template, "AWS::EKS::AccessEntry"):
        key = (_cluster_of(entry) or "", _ref(properties(entry).get("PrincipalArn")) or "")
        if key in automatic:
            yield _violation(
                "eks-no-duplicate-access-entry",
                stack,
                logical_id,
                f"{key[1]} is {automatic[key]}: EKS creates its access entry itself, so this "
                "one fails with ResourceInUseException; remove it",
            )


def addons_wait_for_capacity(stack: StackArtifact) -> Iterable:
    template = stack.template
    graph = Graph(template)
    auto_mode = {
        logical_id
        for logical_id, cluster in resources(template, "AWS::EKS::Cluster")
        if (properties(cluster).get("ComputeConfig") or {}).get("Enabled") is True
    }
    capacity: dict[str, set[str]] = {}
    for logical_id, resource in resources(
        template, "AWS::EKS::Nodegroup", "AWS::EKS::FargateProfile"
    ):
        capacity.setdefault(_cluster_of(resource) or "", set()).add(logical_id)
    for logical_id, addon in resources(template, "AWS::EKS::Addon"):
        props = properties(addon)
        cluster = _cluster_of(addon)
        if props.get("AddonName") not in DEPLOYMENT_ADDONS or cluster in auto_mode:
            continue
        if not capacity.get(cluster or "", set()) & graph.after(logical_id):
            yield _violation(
                "eks-addons-wait-for-capacity",
                stack,
                logical_id,
                f"add-on {props.get('AddonName')} runs a Deployment but does not wait for a "
                "node group or Fargate profile of its cluster: it stays DEGRADED and the "
                "stack times out waiting for ACTIVE",
            )


def _route_tables(template: dict) -> dict[str, str]:
    """Subnet logical id -> its route table's logical id."""
    found = {}
    for _, association in resources(template, "AWS::EC2::SubnetRouteTableAssociation"):
        props = properties(association)
        subnet, table = _ref(props.get("SubnetId")), _ref(props.get("RouteTableId"))
        if subnet and table:
            found[subnet] = table
    return found


def _default_routes(template: dict) -> dict[str, tuple[str, str]]:
    """Route table -> (route logical id, "nat" | "igw" | "other") of its 0.0.0.0/0 route."""
    gateways = {g for g, _ in resources(template, "AWS::EC2::InternetGateway")}
    found = {}
    for logical_id, route in resources(template, "AWS::EC2::Route"):
        props = properties(route)
        if props.get("DestinationCidrBlock") != "0.0.0.0/0":
            continue
        table = _ref(props.get("RouteTableId"))
        if "NatGatewayId" in props:
            kind = "nat"
        elif _ref(props.get("GatewayId")) in gateways or "GatewayId" in props:
            kind = "igw"
        else:
            kind = "other"
        if table:
            found[table] = (logical_id, kind)
    return found


def _subnets(value) -> list[str]:
    return [s for item in value or [] if (s := _ref(item))]


def nodes_wait_for_their_path_out(stack: StackArtifact) -> Iterable:
    template = stack.template
    graph = Graph(template)
    tables, routes = _route_tables(template), _default_routes(template)
    endpoints = {
        logical_id
        for logical_id, endpoint in resources(template, "AWS::EC2::VPCEndpoint")
        if properties(endpoint).get("VpcEndpointType") == "Interface"
    }
    for logical_id, group in resources(template, "AWS::EKS::Nodegroup"):
        waits = graph.after(logical_id)
        for subnet in _subnets(properties(group).get("Subnets")):
            route = routes.get(tables.get(subnet, ""))
            if route and route[1] in ("nat", "other"):
                if route[0] not in waits:
                    yield _violation(
                        "eks-nodes-wait-for-their-path-out",
                        stack,
                        logical_id,
                        f"its nodes in {subnet} reach AWS through route {route[0]}, which "
                        "the node group does not wait for: nodes booting first cannot join "
                        "(NodeCreationFailure)",
                    )
            elif route is None:
                missing = sorted(endpoints - waits)
                if not endpoints or missing:
                    what = (
                        f"does not wait for the interface endpoints {', '.join(missing)}"
                        if endpoints
                        else "has no NAT route and the template no interface endpoints"
                    )
                    yield _violation(
                        "eks-nodes-wait-for-their-path-out",
                        stack,
                        logical_id,
                        f"subnet {subnet} has no route out and the node group {what}: its "
                        "nodes cannot reach ECR, STS and EKS when they boot",
                    )


def fargate_profiles_one_at_a_time(stack: StackArtifact) -> Iterable:
    template = stack.template
    graph = Graph(template)
    by_cluster: dict[str, list[str]] = {}
    for logical_id, profile in resources(template, "AWS::EKS::FargateProfile"):
        by_cluster.setdefault(_cluster_of(profile) or "", []).append(logical_id)
    for profiles in by_cluster.values():
        for index, first in enumerate(profiles):
            for second in profiles[index + 1 :]:
                if first not in graph.after(second) and second not in graph.after(first):
                    yield _violation(
                        "eks-fargate-profiles-one-at-a-time",
                        stack,
                        second,
                        f"{first} and {second} may be created at the same time, and EKS "
                        "changes one Fargate profile per cluster at a time "
                        "(ResourceInUseException); make one depend on the other",
                    )


def fargate_in_private_subnets(stack: StackArtifact) -> Iterable:
    template = stack.template
    tables, routes = _route_tables(template), _default_routes(template)
    for logical_id, profile in resources(template, "AWS::EKS::FargateProfile"):
        for subnet in _subnets(properties(profile).get("Subnets")):
            route = routes.get(tables.get(subnet, ""))
            if route and route[1] == "igw":
                yield _violation(
                    "eks-fargate-in-private-subnets",
                    stack,
                    logical_id,
                    f"subnet {subnet} routes 0.0.0.0/0 to an internet gateway ({route[0]}): "
                    "EKS accepts only private subnets for Fargate profiles",
                )


def cluster_spans_two_azs(stack: StackArtifact) -> Iterable:
    template = stack.template
    zones = subnet_availability_zones(template)
    for logical_id, cluster in resources(template, "AWS::EKS::Cluster"):
        subnets = _subnets((properties(cluster).get("ResourcesVpcConfig") or {}).get("SubnetIds"))
        if not subnets or any(s not in zones or zones[s] is None for s in subnets):
            continue  # imported subnets: their AZs are not in the template
        found = {json.dumps(zones[s]) for s in subnets}
        if len(found) < 2:
            yield _violation(
                "eks-cluster-spans-two-azs",
                stack,
                logical_id,
                f"its subnets are all in one AZ ({', '.join(sorted(found))}): EKS needs "
                "subnets in at least two AZs for the control plane's interfaces",
            )


EKS_RULES = (
    upgrade_policy_explicit,
    secrets_key_usable_before_cluster,
    no_duplicate_access_entry,
    addons_wait_for_capacity,
    nodes_wait_for_their_path_out,
    fargate_profiles_one_at_a_time,
    fargate_in_private_subnets,
    cluster_spans_two_azs,
)
