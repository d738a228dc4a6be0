"""A Neptune cluster that is private, encrypted with its own key, audited and IAM-authenticated.

Reads left to right like the diagram: key -> parameter groups -> audit log group -> security
group -> cluster (provisioned or serverless) -> instances placed in distinct AZs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import aws_cdk as cdk
import aws_cdk.aws_neptune_alpha as neptune
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.aws_neptune import CfnDBInstance
from constructs import Construct

from house.compliance import acknowledge
from house.defaults import log_group
from house.settings import keeps_data

# The newest 1.4 patch (2026-09-18; the alpha module's enum stops at 1.4.6.1). 1.4.6.3 fixed
# the bulk loader failing to reach S3 in some regions ("incorrect endpoint resolution"), so
# nothing older is used. Its parameter group family must match (NEPTUNE_1_4).
ENGINE_VERSION = neptune.EngineVersion("1.4.7.1")
PARAMETER_FAMILY = neptune.ParameterGroupFamily.NEPTUNE_1_4
PORT = 8182
# Neptune serverless capacity limits, in Neptune capacity units (NCU).
SERVERLESS_NCU_LIMITS = (1.0, 128.0)


@dataclass(frozen=True)
class ClusterCapacity:
    """Provisioned instances of `instance_class`, or serverless between min and max NCUs."""

    mode: Literal["provisioned", "serverless"]
    instance_class: str = "db.t4g.medium"
    serverless_min_ncu: float = 1.0
    serverless_max_ncu: float = 8.0
    read_replicas: int = 0


class NeptuneCluster(Construct):
    """A Neptune cluster for an isolated VPC.

    Storage and snapshots are encrypted with `encryption_key` (a customer key with rotation).
    Attributes: `cluster`, `key`, `security_group`, `audit_logs`, `endpoint`, `read_endpoint`,
    `port`. Only what is allowed with `allow_clients_from`/`client_security_groups` reaches 8182.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        cluster_identifier: str,
        capacity: ClusterCapacity,
        backup_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        log_retention_days: int,
        encryption_key: kms.IKey,
        associated_roles: Sequence[iam.IRole] = (),
        client_security_groups: Sequence[ec2.ISecurityGroup] = (),
    ) -> None:
        super().__init__(scope, id)
        removal = removal_policy

        self.key = encryption_key
        cluster_parameters = neptune.ClusterParameterGroup(
            self,
            "ClusterParameters",
            family=PARAMETER_FAMILY,
            description=f"{cluster_identifier}: audit log on",
            parameters={"neptune_enable_audit_log": "1"},
        )
        instance_parameters = neptune.ParameterGroup(
            self,
            "InstanceParameters",
            family=PARAMETER_FAMILY,
            description=f"{cluster_identifier}: 2-minute query timeout",
            parameters={"neptune_query_timeout": "120000"},
        )
        # Created here (not by Neptune on first write) so it has a retention and is deleted or
        # kept with the stage; CDK's own retention option would add a custom-resource Lambda.
        self.audit_logs = log_group(
            self,
            "AuditLogs",
            log_group_name=f"/aws/neptune/{cluster_identifier}/audit",
            retention_days=log_retention_days,
            removal_policy=removal,
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"Neptune {cluster_identifier}: 8182 only from listed clients",
            allow_all_outbound=False,
        )
        # The bulk loader reads S3 from the cluster's network interfaces; in a VPC without an
        # internet path, HTTPS egress reaches only the S3 gateway endpoint (and its policy).
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "Bulk loader to S3 via the gateway endpoint"
        )

        serverless = capacity.mode == "serverless"
        self.cluster = neptune.DatabaseCluster(
            self,
            "Cluster",
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            db_cluster_name=cluster_identifier,
            engine_version=ENGINE_VERSION,
            instance_type=(
                neptune.InstanceType.SERVERLESS
                if serverless
                else neptune.InstanceType.of(capacity.instance_class)
            ),
            serverless_scaling_configuration=(
                neptune.ServerlessScalingConfiguration(
                    min_capacity=capacity.serverless_min_ncu,
                    max_capacity=capacity.serverless_max_ncu,
                )
                if serverless
                else None
            ),
            instances=1 + capacity.read_replicas,
            cluster_parameter_group=cluster_parameters,
            parameter_group=instance_parameters,
            storage_encrypted=True,
            kms_key=self.key,
            iam_authentication=True,
            cloudwatch_logs_exports=[neptune.LogType.AUDIT],
            backup_retention=cdk.Duration.days(backup_retention_days),
            deletion_protection=keeps_data(removal_policy),
            removal_policy=removal,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            associated_roles=list(associated_roles),
            security_groups=[self.security_group],
            port=PORT,
        )
        self.cluster.node.add_dependency(self.audit_logs)
        self._spread_instances_over_azs(vpc)

        for client in client_security_groups:
            self.security_group.add_ingress_rule(
                client, ec2.Port.tcp(PORT), f"Neptune clients in {client.security_group_id}"
            )

        self.endpoint = self.cluster.cluster_endpoint.hostname
        self.read_endpoint = self.cluster.cluster_read_endpoint.hostname
        self.port = PORT

        if capacity.read_replicas == 0:
            acknowledge(
                self.cluster,
                "AwsSolutions-N1",
                f"{cluster_identifier} runs one instance because its stage sets read_replicas "
                "to 0 (the shipped dev profile): a replica in a second AZ doubles the instance "
                "bill of a cluster holding reloadable data; the shipped prod profile sets 1.",
            )
        if backup_retention_days < 7:
            acknowledge(
                self.cluster,
                "AwsSolutions-N3",
                f"{cluster_identifier} keeps {backup_retention_days} day(s) of backups because "
                "its stage sets backup_retention_days so (the shipped dev profile, whose cluster "
                "holds reloadable sample data); the shipped prod profile keeps 7.",
            )

    def _spread_instances_over_azs(self, vpc: ec2.IVpc) -> None:
        """Writer in the first AZ, each read replica in the next one (a failover target)."""
        zones = vpc.availability_zones
        instances = [c for c in self.cluster.node.children if isinstance(c, CfnDBInstance)]
        for index, instance in enumerate(instances):
            instance.availability_zone = zones[index % len(zones)]

    def client_security_group(self, scope: Construct, vpc: ec2.IVpc, who: str) -> ec2.SecurityGroup:
        """A security group for a client of this cluster: out to 8182 on it, nothing else."""
        group = ec2.SecurityGroup(
            scope,
            "SecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description=f"{who}: out to the Neptune cluster on 8182 only",
        )
        self.allow_clients_from(group, who)
        return group

    def allow_clients_from(self, other: ec2.IConnectable, description: str) -> None:
        """Open 8182 on the cluster to `other` (and its egress to the cluster, if restricted)."""
        self.cluster.connections.allow_default_port_from(other, description)

    def grant_data_actions(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """`neptune-db:<action>` on this cluster's data-plane resource ARN only."""
        return self.cluster.grant(grantee, *(f"neptune-db:{a}" for a in actions))
