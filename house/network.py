"""VPCs the house way: no NAT gateway unless asked for, flow logs always on.

A NAT gateway bills every hour in every AZ, idle or not, plus every GB it processes (see the
cost table in each blueprint's doc). Most blueprints need no general internet egress: AWS
services are reached through gateway endpoints (S3, DynamoDB: free) or, only where one is
needed, interface endpoints (billed per AZ-hour each). Each blueprint says which it chose and
why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from house.defaults import log_group

ISOLATED = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
PUBLIC = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
PRIVATE_WITH_EGRESS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)


def vpc(
    scope: Construct,
    id: str,
    *,
    availability_zones: Sequence[str],
    log_retention_days: int,
    removal_policy: cdk.RemovalPolicy,
    public_subnets: bool = False,
    nat_gateways: int = 0,
    ip_addresses: str = "10.0.0.0/16",
) -> ec2.Vpc:
    """A VPC with flow logs to CloudWatch Logs.

    Subnets: isolated ones always; public ones (and an internet gateway) only with
    `public_subnets`; private-with-egress ones behind `nat_gateways` NATs only when that is > 0.
    `availability_zones`: explicit AZ names, or empty for two AZs chosen by CloudFormation.
    """
    if nat_gateways and not public_subnets:
        raise ValueError(
            "nat_gateways > 0 needs public_subnets=True (a NAT lives in a public subnet)"
        )
    subnets = [
        ec2.SubnetConfiguration(
            name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
        )
    ]
    if public_subnets:
        subnets.insert(
            0,
            ec2.SubnetConfiguration(
                name="public",
                subnet_type=ec2.SubnetType.PUBLIC,
                cidr_mask=24,
                map_public_ip_on_launch=False,
            ),
        )
    if nat_gateways:
        subnets.insert(
            1,
            ec2.SubnetConfiguration(
                name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
            ),
        )
    network = ec2.Vpc(
        scope,
        id,
        ip_addresses=ec2.IpAddresses.cidr(ip_addresses),
        availability_zones=list(availability_zones) or None,
        max_azs=None if availability_zones else 2,
        nat_gateways=nat_gateways,
        subnet_configuration=subnets,
        restrict_default_security_group=True,
    )
    network.add_flow_log(
        "FlowLogs",
        destination=ec2.FlowLogDestination.to_cloud_watch_logs(
            log_group(
                scope,
                f"{id}FlowLogs",
                retention_days=log_retention_days,
                removal_policy=removal_policy,
            )
        ),
        traffic_type=ec2.FlowLogTrafficType.ALL,
    )
    return network


def availability_zones(vpc: ec2.IVpc, subnets: ec2.SubnetSelection | None) -> list[str]:
    """The AZs of the subnets `subnets` selects in `vpc` (None: CDK's default selection, the
    private subnets), in subnet order, each once.

    For the resources that also take their AZs as a property and are checked on it at deploy
    (an Auto Scaling group spans, and DAX places nodes in, at least two or three AZs).
    """
    subnets = subnets or ec2.SubnetSelection()
    selected = vpc.select_subnets(
        subnet_type=subnets.subnet_type,
        subnet_group_name=subnets.subnet_group_name,
        subnets=subnets.subnets,
        availability_zones=subnets.availability_zones,
        one_per_az=subnets.one_per_az,
    )
    return list(dict.fromkeys(subnet.availability_zone for subnet in selected.subnets))


class InterfaceEndpoints(Construct):
    """Interface endpoints (PrivateLink) to AWS APIs in `subnets`, with private DNS, behind one
    security group that admits HTTPS only from what `allow_from` names (not the whole VPC).

    Each endpoint bills per AZ it is placed in, every hour, whether used or not: list only the
    APIs the subnets' clients call. `services`: construct id -> service, e.g.
    {"Sts": ec2.InterfaceVpcEndpointAwsService.STS}.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        services: Mapping[str, ec2.IInterfaceVpcEndpointService],
        description: str,
    ) -> None:
        super().__init__(scope, id)
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False, description=description
        )
        self.endpoints = {
            name: ec2.InterfaceVpcEndpoint(
                self,
                name,
                vpc=vpc,
                service=service,
                subnets=subnets,
                private_dns_enabled=True,
                security_groups=[self.security_group],
                open=False,
            )
            for name, service in services.items()
        }

    def allow_from(self, *clients: ec2.IConnectable, description: str) -> None:
        for client in clients:
            self.security_group.connections.allow_from(client, ec2.Port.tcp(443), description)
