"""Neptune graph blueprint: a private Neptune cluster that loads graphs from S3.

    isolated VPC (no IGW, no NAT) ---- S3 gateway endpoint (staging bucket only)
      |-- Neptune cluster (KMS, IAM auth, audit log)  <-- load role (rds.amazonaws.com)
      |-- StartLoad / LoadStatus / GraphQuery functions (8182 to the cluster, nothing else)
      |-- optional: Neptune Workbench notebook, Neptune Analytics private endpoint
    staging bucket --EventBridge--> bulk-load state machine

See docs/neptune-graph.md.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from blueprints.neptune_graph.bulk_loader import GraphQueryFunction, NeptuneBulkLoader
from blueprints.neptune_graph.cluster import SERVERLESS_NCU_LIMITS, ClusterCapacity, NeptuneCluster
from blueprints.neptune_graph.staging import GraphStaging
from blueprints.neptune_graph.tools import (
    ANALYTICS_MEMORY_SIZES,
    NeptuneAnalyticsGraph,
    NeptuneWorkbench,
    workbench_bucket_name,
)
from house.compliance import add_serverless_checks
from house.defaults import access_log_bucket, customer_key
from house.network import ISOLATED
from house.network import vpc as house_vpc
from house.settings import StageSettings, require

STACK_ID = "NeptuneGraph"
_INSTANCE_CLASS = re.compile(
    r"^db\.(t3|t4g|r5|r5d|r6g|r6gd|r6i|r6id|r7g|r7i|r8g|x2g|x2iedn)\."
    r"(medium|large|xlarge|\d+xlarge)$"
)
_LOAD_FORMATS = ("csv", "opencypher", "ntriples", "nquads", "rdfxml", "turtle")


@dataclasses.dataclass(frozen=True)
class NeptuneGraphSettings:
    capacity: Literal["provisioned", "serverless"] = "provisioned"
    # Burstable t4g.medium for dev; memory-optimised r6g.large for prod (docs: cost table).
    instance_class: str = "db.t4g.medium"
    serverless_min_ncu: float = 1.0
    serverless_max_ncu: float = 8.0
    read_replicas: int = 0
    backup_retention_days: int = 1
    # Security groups (ids) of your own clients that may reach 8182.
    client_security_group_ids: tuple[str, ...] = ()
    # Bring your own VPC (looked up at synth: needs account/region); empty = create one.
    vpc_id: str | None = None
    auto_load_prefix: str = "incoming/"
    marker_suffix: str = ".ready"
    auto_load_format: str = "csv"
    load_timeout_hours: int = 24
    workbench_notebook: bool = False
    notebook_instance_type: str = "ml.t3.medium"
    analytics_graph: bool = False
    analytics_memory_ncu: int = 16

    def __post_init__(self) -> None:
        require(
            bool(_INSTANCE_CLASS.match(self.instance_class)),
            "instance_class",
            self.instance_class,
            "expected a Neptune instance class like db.t4g.medium or db.r6g.large",
        )
        low, high = SERVERLESS_NCU_LIMITS
        require(
            low <= self.serverless_min_ncu <= high,
            "serverless_min_ncu",
            self.serverless_min_ncu,
            f"allowed: {low}..{high} NCUs",
        )
        require(
            low <= self.serverless_max_ncu <= high,
            "serverless_max_ncu",
            self.serverless_max_ncu,
            f"allowed: {low}..{high} NCUs",
        )
        require(
            self.serverless_min_ncu < self.serverless_max_ncu,
            "serverless_min_ncu",
            self.serverless_min_ncu,
            f"must be less than serverless_max_ncu ({self.serverless_max_ncu})",
        )
        for ncu, name in (
            (self.serverless_min_ncu, "serverless_min_ncu"),
            (self.serverless_max_ncu, "serverless_max_ncu"),
        ):
            require((ncu * 2).is_integer(), name, ncu, "Neptune NCUs come in steps of 0.5")
        require(
            0 <= self.read_replicas <= 15, "read_replicas", self.read_replicas, "allowed: 0..15"
        )
        require(
            1 <= self.backup_retention_days <= 35,
            "backup_retention_days",
            self.backup_retention_days,
            "allowed: 1..35 days",
        )
        for group in self.client_security_group_ids:
            require(
                bool(re.fullmatch(r"sg-[0-9a-f]{8,17}", group)),
                "client_security_group_ids",
                group,
                "expected security group ids like sg-0123456789abcdef0",
            )
        require(
            self.vpc_id is None or bool(re.fullmatch(r"vpc-[0-9a-f]{8,17}", self.vpc_id)),
            "vpc_id",
            self.vpc_id,
            "expected null or a VPC id like vpc-0123456789abcdef0",
        )
        require(
            bool(re.fullmatch(r"([A-Za-z0-9!_.'()-]+/)*", self.auto_load_prefix)),
            "auto_load_prefix",
            self.auto_load_prefix,
            "expected '' or S3 folders ending in '/', e.g. 'incoming/' (no '*' or '?')",
        )
        require(
            bool(re.fullmatch(r"[A-Za-z0-9!_.'()-]+", self.marker_suffix)),
            "marker_suffix",
            self.marker_suffix,
            "expected a file-name ending like '.ready' or '_READY'",
        )
        require(
            self.auto_load_format in _LOAD_FORMATS,
            "auto_load_format",
            self.auto_load_format,
            f"allowed: {', '.join(_LOAD_FORMATS)}",
        )
        require(
            1 <= self.load_timeout_hours <= 24 * 7,
            "load_timeout_hours",
            self.load_timeout_hours,
            "allowed: 1..168 hours",
        )
        require(
            self.notebook_instance_type.startswith("ml."),
            "notebook_instance_type",
            self.notebook_instance_type,
            "expected a SageMaker instance type like ml.t3.medium",
        )
        require(
            self.analytics_memory_ncu in ANALYTICS_MEMORY_SIZES,
            "analytics_memory_ncu",
            self.analytics_memory_ncu,
            f"allowed: {', '.join(map(str, ANALYTICS_MEMORY_SIZES))} m-NCUs",
        )


SETTINGS = NeptuneGraphSettings


class NeptuneGraphStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        settings: NeptuneGraphSettings,
        **kwargs,
    ) -> None:
        super().__init__(
            scope,
            id,
            description="Neptune graph with S3 bulk loading, no internet "
            "path (aws-architecture-blueprints)",
            **kwargs,
        )
        removal = stage.removal_policy
        logs = dict(log_retention_days=stage.log_retention_days, removal_policy=removal)
        if settings.vpc_id:
            self.vpc = ec2.Vpc.from_lookup(self, "Network", vpc_id=settings.vpc_id)
        else:
            # Isolated subnets only: no internet gateway, no NAT gateway billing every AZ-hour.
            self.vpc = house_vpc(
                self, "Network", availability_zones=stage.availability_zones, **logs
            )
        self.access_logs = access_log_bucket(self, "AccessLogs", removal_policy=removal)
        cluster_identifier = f"{self.stack_name}-graph".lower()

        # One customer key for the graph's data at rest, in the cluster and in the staging
        # bucket, so the load role needs kms:Decrypt on exactly one key.
        self.key = customer_key(
            self,
            "GraphDataKey",
            removal_policy=removal,
            description=f"Encrypts {cluster_identifier} and its staging data",
        )
        self.staging = GraphStaging(
            self,
            "Staging",
            vpc=self.vpc,
            endpoint_subnets=ISOLATED,
            encryption_key=self.key,
            access_logs=self.access_logs,
            removal_policy=removal,
        )
        self.graph = NeptuneCluster(
            self,
            "Graph",
            vpc=self.vpc,
            vpc_subnets=ISOLATED,
            cluster_identifier=cluster_identifier,
            capacity=ClusterCapacity(
                mode=settings.capacity,
                instance_class=settings.instance_class,
                serverless_min_ncu=settings.serverless_min_ncu,
                serverless_max_ncu=settings.serverless_max_ncu,
                read_replicas=settings.read_replicas,
            ),
            backup_retention_days=settings.backup_retention_days,
            encryption_key=self.key,
            associated_roles=[self.staging.load_role],
            keep_data=stage.keep_data,
            log_retention_days=stage.log_retention_days,
            client_security_groups=[
                ec2.SecurityGroup.from_security_group_id(self, f"Client{i}", group, mutable=False)
                for i, group in enumerate(settings.client_security_group_ids)
            ],
        )

        self.loader = NeptuneBulkLoader(
            self,
            "BulkLoad",
            graph=self.graph,
            vpc=self.vpc,
            vpc_subnets=ISOLATED,
            staging_bucket=self.staging.bucket,
            load_role=self.staging.load_role,
            auto_load_prefix=settings.auto_load_prefix,
            marker_suffix=settings.marker_suffix,
            auto_load_format=settings.auto_load_format,
            load_timeout=cdk.Duration.hours(settings.load_timeout_hours),
            **logs,
        )
        self.query = GraphQueryFunction(
            self, "SmallLoads", graph=self.graph, vpc=self.vpc, vpc_subnets=ISOLATED, **logs
        )

        if settings.workbench_notebook:
            self.staging.allow_endpoint_read("ReadWorkbenchRelease", workbench_bucket_name())
            self.workbench = NeptuneWorkbench(
                self,
                "Workbench",
                name=cluster_identifier,
                graph=self.graph,
                vpc=self.vpc,
                subnet=self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnets[
                    0
                ],
                instance_type=settings.notebook_instance_type,
                encryption_key=self.graph.key,
                load_role=self.staging.load_role,
            )
        if settings.analytics_graph:
            self.analytics = NeptuneAnalyticsGraph(
                self,
                "Analytics",
                name=f"{cluster_identifier}-analytics",
                vpc=self.vpc,
                vpc_subnets=ISOLATED,
                memory_ncu=settings.analytics_memory_ncu,
                replicas=1 if stage.keep_data else 0,
                keep_data=stage.keep_data,
                encryption_key=self.graph.key,
                client_security_groups=[self.loader.security_group, self.query.security_group],
            )

        self._outputs(settings)
        add_serverless_checks(self)

    def _outputs(self, settings: NeptuneGraphSettings) -> None:
        bucket = self.staging.bucket.bucket_name
        machine = self.loader.state_machine.state_machine_arn
        cdk.CfnOutput(
            self,
            "ClusterEndpoint",
            value=self.graph.endpoint,
            description="Writer endpoint (port 8182), reachable only inside the VPC",
        )
        cdk.CfnOutput(
            self,
            "ReaderEndpoint",
            value=self.graph.read_endpoint,
            description="Reader endpoint (port 8182)",
        )
        cdk.CfnOutput(self, "StagingBucketName", value=bucket)
        cdk.CfnOutput(self, "LoadRoleArn", value=self.staging.load_role.role_arn)
        cdk.CfnOutput(self, "BulkLoadStateMachineArn", value=machine)
        cdk.CfnOutput(self, "SmallLoadFunctionName", value=self.query.function.function_name)
        cdk.CfnOutput(
            self,
            "LoadSampleCommand",
            description="Upload the sample graph and start a bulk load (run from the repo root)",
            value=cdk.Fn.join(
                "",
                [
                    "aws s3 cp sample_data/fraud_graph/ s3://",
                    bucket,
                    "/graphs/fraud/ --recursive && aws stepfunctions start-execution "
                    "--state-machine-arn ",
                    machine,
                    ' --input \'{"source": "s3://',
                    bucket,
                    '/graphs/fraud/", "format": "csv"}\'',
                ],
            ),
        )
        cdk.CfnOutput(
            self,
            "AutoLoadCommand",
            description="Automatic load: upload a folder, then drop its marker next to it",
            value=cdk.Fn.join(
                "",
                [
                    "aws s3 cp sample_data/fraud_graph/ s3://",
                    bucket,
                    f"/{settings.auto_load_prefix}batch-1/ --recursive && aws s3 cp - s3://",
                    bucket,
                    f"/{settings.auto_load_prefix}batch-1{settings.marker_suffix} < /dev/null",
                ],
            ),
        )


def build(app: cdk.App, stage: StageSettings, settings: NeptuneGraphSettings) -> list[cdk.Stack]:
    return [
        NeptuneGraphStack(
            app,
            STACK_ID,
            stage=stage,
            settings=settings,
            stack_name=stage.stack_name(STACK_ID),
            env=stage.environment,
        )
    ]
