"""Preflight checks for what a cluster template needs from the account and region, beyond the
service-linked roles and instance-type offerings the general checks already cover (EKS's roles
are in preflight_needs.service_linked_roles, node-group instance types in
launched_instance_types). Also two checks every template benefits from: named log groups that
already exist, and interface-endpoint services the region lacks.

eks version
    Each cluster's Kubernetes version is offered in the region and in standard support
    (`eks:DescribeClusterVersions`): a new cluster on an extended-support version bills the
    extended rate from its first hour, and an unsupported one is refused. A version leaving
    standard support within 60 days is a NOTE: with the STANDARD upgrade policy EKS upgrades
    the cluster then.
eks zones
    No cluster subnet is in an AZ where EKS cannot place a control plane (the EKS user guide's
    list of AZ IDs, e.g. use1-az3). AZ names map to different AZ IDs in each account, so this
    is checked in this account (`ec2:DescribeAvailabilityZones`).
eks endpoint
    A public endpoint allowed only from documentation ranges (192.0.2.0/24, 198.51.100.0/24,
    203.0.113.0/24: the shipped placeholder) could not be reached by anyone: FAIL, with the
    setting to change.
eks quota
    Clusters per region (eks L-1194D53C): the region's clusters (not this stack's) plus the
    template's fit; managed node groups per cluster (eks L-6D54EA21) cover the template's.
log groups
    A log group the template names must not exist outside this stack: CloudFormation cannot
    create it again (a retained group from an earlier, deleted stack is the usual cause).
endpoint services
    Each interface endpoint's service exists in the region (`ec2:DescribeVpcEndpointServices`);
    newer ones (eks-auth) are not in every region.

AWS permissions (read-only): eks:DescribeClusterVersions, eks:ListClusters,
ec2:DescribeAvailabilityZones, ec2:DescribeVpcEndpointServices, logs:DescribeLogGroups,
servicequotas:GetServiceQuota, servicequotas:GetAWSDefaultServiceQuota.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator

from deployment.preflight_checks import (
    FAIL,
    NOTE,
    PASS,
    Check,
    CheckResult,
    Preflight,
    check,
    quota_value,
)
from deployment.preflight_needs import (
    Quota,
    literal,
    properties,
    resources,
    subnet_availability_zones,
)

# The EKS user guide, "Subnet requirements for clusters": AZ IDs EKS cannot use.
UNSUPPORTED_ZONE_IDS = {
    "use1-az3": "us-east-1",
    "usw1-az2": "us-west-1",
    "cac1-az3": "ca-central-1",
}
DOCUMENTATION_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)
EKS_CLUSTERS = Quota("Clusters", "eks", "L-1194D53C", 100, "AWS::EKS::Cluster")
NODE_GROUPS_PER_CLUSTER = Quota(
    "Managed node groups per cluster", "eks", "L-6D54EA21", 30, "AWS::EKS::Nodegroup"
)
SUPPORT_NOTICE_DAYS = 60


def _clusters(preflight: Preflight) -> list[tuple[str, dict]]:
    return list(resources(preflight.template, "AWS::EKS::Cluster"))


@check("eks version")
def check_kubernetes_version(preflight: Preflight) -> Iterator[CheckResult]:
    account = preflight.account
    for logical_id, cluster in _clusters(preflight):
        version = properties(cluster).get("Version")
        if not isinstance(version, str):
            yield CheckResult(
                NOTE, "eks version", f"{logical_id}: no literal version (EKS picks its default)"
            )
            continue
        answer = account.pages(
            "eks",
            "describe_cluster_versions",
            "clusterVersions",
            clusterVersions=[version],
            includeAll=True,
        )
        found = [v for v in answer if v.get("clusterVersion") == version]
        if not found:
            yield CheckResult(
                FAIL,
                "eks version",
                f"Kubernetes {version} ({logical_id}) is not offered by EKS in {account.region}",
                "set kubernetes_version to a version `aws eks describe-cluster-versions "
                f"--region {account.region}` lists in STANDARD_SUPPORT",
            )
            continue
        status = found[0].get("versionStatus") or str(found[0].get("status", "")).upper()
        status = status.replace("-", "_")
        end = found[0].get("endOfStandardSupportDate")
        if status != "STANDARD_SUPPORT":
            yield CheckResult(
                FAIL,
                "eks version",
                f"Kubernetes {version} ({logical_id}) is in {status} in {account.region}: a "
                "new cluster would "
                + (
                    "bill extended support from its first hour"
                    if status == "EXTENDED_SUPPORT"
                    else "be refused"
                ),
                "set kubernetes_version (cdk.json blueprints.eks-cluster.<stage>) to a "
                "version in STANDARD_SUPPORT",
            )
            continue
        until = f" until {end:%Y-%m-%d}" if isinstance(end, datetime.datetime) else ""
        if isinstance(end, datetime.datetime):
            left = (end - datetime.datetime.now(end.tzinfo)).days
            if left < SUPPORT_NOTICE_DAYS:
                yield CheckResult(
                    NOTE,
                    "eks version",
                    f"Kubernetes {version} leaves standard support in {left} days "
                    f"({end:%Y-%m-%d}): with the STANDARD upgrade policy EKS then upgrades "
                    "the cluster itself",
                    "plan the upgrade: raise kubernetes_version one minor version at a time",
                )
                continue
        yield CheckResult(
            PASS, "eks version", f"Kubernetes {version} is in standard support{until}"
        )


@check("eks zones")
def check_cluster_zones(preflight: Preflight) -> Iterator[CheckResult]:
    account = preflight.account
    zones = subnet_availability_zones(preflight.template)
    for logical_id, cluster in _clusters(preflight):
        subnet_ids = (properties(cluster).get("ResourcesVpcConfig") or {}).get("SubnetIds") or []
        refs = []
        for subnet in subnet_ids:
            target = subnet.get("Ref") if isinstance(subnet, dict) else None
            if target in zones and zones[target] is not None:
                refs.append(zones[target])
        if not refs:
            continue
        names = sorted({name for ref in refs if (name := account.zone_name(ref))})
        described = account.call("ec2", "describe_availability_zones", ZoneNames=names)[
            "AvailabilityZones"
        ]
        refused = [
            f"{zone['ZoneName']} ({zone['ZoneId']})"
            for zone in described
            if zone.get("ZoneId") in UNSUPPORTED_ZONE_IDS
        ]
        if refused:
            usable = [
                zone
                for zone in account.availability_zones
                if zone not in {r.split(" ")[0] for r in refused}
            ]
            yield CheckResult(
                FAIL,
                "eks zones",
                f"{logical_id} has subnets in {', '.join(refused)}, where EKS places no "
                "control plane (UnsupportedAvailabilityZoneException)",
                f"list other AZs in cdk.json stages.{preflight.stage}.availability_zones "
                f"(e.g. {', '.join(usable[:3])}) and synthesize again",
            )
        else:
            yield CheckResult(
                PASS,
                "eks zones",
                f"EKS can place {logical_id}'s control plane in {', '.join(names)}",
            )


@check("eks endpoint")
def check_public_endpoint(preflight: Preflight) -> Iterator[CheckResult]:
    for logical_id, cluster in _clusters(preflight):
        config = properties(cluster).get("ResourcesVpcConfig") or {}
        if config.get("EndpointPublicAccess") is not True:
            continue
        cidrs = [c for c in config.get("PublicAccessCidrs") or [] if isinstance(c, str)]
        networks = [ipaddress.ip_network(c, strict=False) for c in cidrs]
        if networks and all(
            any(n.subnet_of(r) for r in DOCUMENTATION_RANGES if n.version == r.version)
            for n in networks
        ):
            yield CheckResult(
                FAIL,
                "eks endpoint",
                f"{logical_id}'s public endpoint admits only {', '.join(cidrs)}, "
                "documentation addresses nobody has: kubectl could not reach the cluster",
                f"put your address (`curl -s https://checkip.amazonaws.com`)/32 in cdk.json "
                f"blueprints.eks-cluster.{preflight.stage}.public_access_cidrs and synthesize "
                "again",
            )
        elif networks:
            yield CheckResult(PASS, "eks endpoint", f"public endpoint for {', '.join(cidrs)} only")


@check("eks quota")
def check_eks_quotas(preflight: Preflight) -> Iterator[CheckResult]:
    clusters = _clusters(preflight)
    if not clusters:
        return
    account = preflight.account
    own = {
        literal(properties(c).get("Name"), account.pseudo_parameters) for _, c in clusters
    } | account.stack_physical_ids("AWS::EKS::Cluster")
    existing = [c for c in account.pages("eks", "list_clusters", "clusters") if c not in own]
    limit, source = quota_value(account, EKS_CLUSTERS)
    text = f"EKS clusters: {len(existing)} in {account.region} + {len(clusters)} new"
    if len(existing) + len(clusters) <= limit:
        yield CheckResult(PASS, "eks quota", f"{text} <= {limit} ({source})")
    else:
        yield CheckResult(
            FAIL,
            "eks quota",
            f"{text} > {limit} ({source})",
            "aws service-quotas request-service-quota-increase --service-code eks "
            f"--quota-code {EKS_CLUSTERS.quota_code} --desired-value "
            f"{len(existing) + len(clusters)} --region {account.region}",
        )
    groups: dict[str, int] = {}
    for _, group in resources(preflight.template, "AWS::EKS::Nodegroup"):
        cluster = properties(group).get("ClusterName")
        key = cluster.get("Ref", "?") if isinstance(cluster, dict) else str(cluster)
        groups[key] = groups.get(key, 0) + 1
    if groups:
        most = max(groups.values())
        limit, source = quota_value(account, NODE_GROUPS_PER_CLUSTER)
        status = PASS if most <= limit else FAIL
        yield CheckResult(
            status,
            "eks quota",
            f"managed node groups per cluster: {most} {'<=' if status == PASS else '>'} "
            f"{limit} ({source})",
            None
            if status == PASS
            else "request an increase of eks L-6D54EA21 or use fewer node groups",
        )


@check("log groups")
def check_log_groups(preflight: Preflight) -> Iterator[CheckResult]:
    account = preflight.account
    owned = account.stack_physical_ids("AWS::Logs::LogGroup")
    for logical_id, group in resources(preflight.template, "AWS::Logs::LogGroup"):
        raw = properties(group).get("LogGroupName")
        if raw is None:
            continue
        name = literal(raw, account.pseudo_parameters)
        if name is None:
            continue  # named after something created in the same deploy
        found = account.call("logs", "describe_log_groups", logGroupNamePrefix=name)
        exists = any(g.get("logGroupName") == name for g in found.get("logGroups", []))
        if exists and name not in owned:
            yield CheckResult(
                FAIL,
                "log groups",
                f"{name} ({logical_id}) exists already and is not a resource of "
                f"{preflight.stack.stack_name}: CloudFormation cannot create it (a group "
                "retained from an earlier stack?)",
                f"aws logs delete-log-group --log-group-name {name} --region "
                f"{account.region} (after exporting what you keep)",
            )
        else:
            yield CheckResult(PASS, "log groups", f"{name} is free or this stack's own")


@check("endpoint services")
def check_endpoint_services(preflight: Preflight) -> Iterator[CheckResult]:
    account = preflight.account
    wanted = {}
    for logical_id, endpoint in resources(preflight.template, "AWS::EC2::VPCEndpoint"):
        props = properties(endpoint)
        if props.get("VpcEndpointType") != "Interface":
            continue
        name = literal(props.get("ServiceName"), account.pseudo_parameters)
        if name:
            wanted[name] = logical_id
    if not wanted:
        return
    offered = {
        service["ServiceName"]
        for service in account.pages("ec2", "describe_vpc_endpoint_services", "ServiceDetails")
    }
    missing = sorted(set(wanted) - offered)
    if missing:
        yield CheckResult(
            FAIL,
            "endpoint services",
            f"{', '.join(missing)} not offered in {account.region}",
            "deploy to a region that offers them, or give the node subnets a NAT "
            "(nat_gateways) and drop interface_endpoints",
        )
    else:
        yield CheckResult(
            PASS, "endpoint services", f"{len(wanted)} interface endpoint services offered"
        )


EKS_CHECKS: tuple[Check, ...] = (
    check_kubernetes_version,
    check_cluster_zones,
    check_public_endpoint,
    check_eks_quotas,
    check_log_groups,
    check_endpoint_services,
)
