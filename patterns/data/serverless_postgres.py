"""Aurora Serverless v2 (PostgreSQL) in isolated subnets, its credentials in Secrets Manager.

    clients (security groups you name) --5432/TLS--> Aurora PostgreSQL cluster
                                                      writer (+ readers), db.serverless,
                                                      min..max ACU, encrypted, IAM auth on
    Secrets Manager secret (generated password) ----> read by whoever you grant it to

Capacity: `min_capacity` 0 lets each instance pause after `auto_pause` with no connections
(you then pay storage and backups only, and the first connection waits ~15 s while it resumes);
0.5 ACU or more never pauses. Scaling to 0 ACU needs Aurora PostgreSQL 13.15, 14.12, 15.7,
16.3 or later (Aurora User Guide, "Scaling to Zero ACUs with automatic pause and resume");
ENGINE is newer than all of them.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from constructs import Construct

from house.compliance import acknowledge, acknowledge_managed_policy
from house.defaults import log_group
from house.names import physical_name
from house.settings import keeps_data

ENGINE = rds.DatabaseClusterEngine.aurora_postgres(version=rds.AuroraPostgresEngineVersion.VER_17_9)
PORT = 5432
# Enhanced Monitoring's coarsest interval: the cheapest that still shows OS metrics per process.
ENHANCED_MONITORING_SECONDS = 60
# RDS limits: DB cluster identifiers are 1-63 characters, letters, digits and hyphens.
_CLUSTER_ID_MAX = 63
# ACU limits of Aurora Serverless v2 (RDS API ServerlessV2ScalingConfiguration): half steps,
# 0 (auto-pause, recent versions) or 0.5 up to 256.
MAX_ACU = 256
# How long an instance at 0 ACU may idle before it pauses: 5 minutes to 1 day.
AUTO_PAUSE_MINUTES = (5, 1440)


class ServerlessPostgres(Construct):
    """An Aurora PostgreSQL cluster of Serverless v2 instances that only the clients passed to
    `allow_from` reach.

    Storage is encrypted, IAM authentication is on, connections must use TLS, connections and
    statements slower than 1 s are logged, and the credentials are a generated secret ("app").

    Args:
        `vpc`: the VPC of the cluster. Required.
        `subnets`: where the instances live (isolated subnets: no route to the internet).
            Required.
        `database_name`: the database created with the cluster. Required.
        `min_capacity`: ACU per instance at the least; 0 lets an instance pause after `auto_pause`
            with no connections (storage and backups still bill; the first connection then waits
            while it resumes), 0.5 or more never pauses. Required.
        `max_capacity`: ACU per instance at the most (up to 256). Required.
        `auto_pause`: idle time before an instance at 0 ACU pauses (5 minutes to 1 day); only used
            when `min_capacity` is 0. Required.
        `readers`: Serverless v2 readers besides the writer, each in the next AZ; they scale with
            the writer (promotion tier 0-1), so a failover lands on a warm instance. Required.
        `removal_policy`: the stage's, for the cluster and its log group; one that keeps data
            (prod: RETAIN, the cluster outlives the stack) also turns on deletion protection;
            DESTROY (dev) deletes the cluster with the stack, taking no snapshot. Required.
        `backup_retention_days`: automated backup retention (1-35 days). Required.
        `log_retention_days`: the PostgreSQL log group's retention. Required.

    Attributes: security_group, log_group, cluster, secret, endpoint.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        database_name: str,
        min_capacity: float,
        max_capacity: float,
        auto_pause: cdk.Duration,
        readers: int,
        removal_policy: cdk.RemovalPolicy,
        backup_retention_days: int,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, id)
        keep_data = keeps_data(removal_policy)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="Aurora PostgreSQL: port 5432 from the application only; no egress",
        )
        identifier = physical_name(self, "Cluster", max_length=_CLUSTER_ID_MAX).lower()
        identifier = identifier.replace("_", "-")
        # RDS exports PostgreSQL logs to this name; created here first, with a retention, or
        # RDS would create it with none, outside the stack.
        self.log_group = log_group(
            self,
            "PostgresqlLogs",
            retention_days=log_retention_days,
            removal_policy=removal_policy,
            log_group_name=f"/aws/rds/cluster/{identifier}/postgresql",
        )
        # Connections must use TLS; log connections and slow statements (over 1 s) only.
        parameters = rds.ParameterGroup(
            self,
            "Parameters",
            engine=ENGINE,
            description="TLS only; connection and slow-statement logging",
            parameters={
                "rds.force_ssl": "1",
                "log_connections": "1",
                "log_disconnections": "1",
                "log_min_duration_statement": "1000",
            },
        )
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=ENGINE,
            cluster_identifier=identifier,
            default_database_name=database_name,
            credentials=rds.Credentials.from_generated_secret(
                "app", exclude_characters=" %+~`#$&*()|[]{}:;<>?!'/@\"\\,="
            ),
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[self.security_group],
            port=PORT,
            parameter_group=parameters,
            writer=rds.ClusterInstance.serverless_v2("Writer", publicly_accessible=False),
            readers=[
                rds.ClusterInstance.serverless_v2(
                    f"Reader{index + 1}", scale_with_writer=True, publicly_accessible=False
                )
                for index in range(readers)
            ],
            serverless_v2_min_capacity=min_capacity,
            serverless_v2_max_capacity=max_capacity,
            serverless_v2_auto_pause_duration=auto_pause if min_capacity == 0 else None,
            storage_encrypted=True,
            iam_authentication=True,
            deletion_protection=keep_data,
            removal_policy=removal_policy,
            backup=rds.BackupProps(retention=cdk.Duration.days(backup_retention_days)),
            copy_tags_to_snapshot=True,
            cloudwatch_logs_exports=["postgresql"],
            # OS metrics per process (what Control Tower's CT.RDS.PR.2 asks for); it does not
            # keep a paused instance awake, and a paused instance sends none.
            monitoring_interval=cdk.Duration.seconds(ENHANCED_MONITORING_SECONDS),
        )
        self.cluster.node.add_dependency(self.log_group)
        self.secret = self.cluster.secret
        self.endpoint = self.cluster.cluster_endpoint
        self._acknowledge(keep_data)

    def allow_from(self, client: ec2.IConnectable, description: str) -> None:
        self.cluster.connections.allow_default_port_from(client, description)

    def grant_read_secret(self, grantee: iam.IGrantable) -> None:
        self.secret.grant_read(grantee)

    def _acknowledge(self, keep_data: bool) -> None:
        acknowledge_managed_policy(
            self.cluster,
            "service-role/AmazonRDSEnhancedMonitoringRole",
            "The Enhanced Monitoring role that RDS assumes (trusted by monitoring.rds only) "
            "holds AWS's policy for exactly that: create and write the RDSOSMetrics log group "
            "and its streams; RDS names that group, so a narrower policy would copy this one.",
        )
        acknowledge(
            self.cluster,
            "AwsSolutions-RDS11",
            "The cluster listens on PostgreSQL's default port 5432, but only the "
            "application's security group may reach it, inside isolated subnets with no route "
            "to the internet; a non-default port would hide nothing from a client that is "
            "already inside that group.",
        )
        acknowledge(
            self.cluster.node.find_child("Secret"),
            "AwsSolutions-SMG4",
            "Not rotated automatically: ECS and App Runner inject the secret once, when a "
            "task or instance starts, so after a rotation every running task would hold a "
            "password the database refuses for new connections until the task is replaced; "
            "rotation also needs a Lambda function inside the "
            "VPC with a path to Secrets Manager (an interface endpoint billed per hour in each "
            "AZ). docs/container-web-app.md weighs it.",
        )
        if not keep_data:
            acknowledge(
                self.cluster,
                "AwsSolutions-RDS10",
                "Deletion protection is off in dev only (keep_data false): the dev "
                "database holds sample data and `cdk destroy` must remove it; prod sets it "
                "and retains the cluster.",
            )
