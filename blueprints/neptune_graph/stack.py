"""Neptune graph blueprint: a private Neptune cluster that loads graphs from S3.

    isolated VPC (no IGW, no NAT) ---- S3 gateway endpoint (staging bucket only)
      |-- Neptune cluster (KMS, IAM auth, audit log)  <-- load role (rds.amazonaws.com)
      |-- StartLoad / LoadStatus / GraphQuery functions (8182 to the cluster, nothing else)
      |-- optional: Neptune Workbench notebook, Neptune Analytics private endpoint
    staging bucket --EventBridge--> bulk-load state machine

See docs/neptune-graph.md.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from blueprints.neptune_graph.bulk_loader import GraphQueryFunction, NeptuneBulkLoader
from blueprints.neptune_graph.cluster import ClusterCapacity, NeptuneCluster
from blueprints.neptune_graph.settings import NeptuneGraphSettings
from blueprints.neptune_graph.staging import GraphStaging
from blueprints.neptune_graph.tools import (
    NeptuneAnalyticsGraph,
    NeptuneWorkbench,
    workbench_bucket_name,
)
from house.compliance import add_serverless_checks
from house.defaults import access_log_bucket, customer_key
from house.network import ISOLATED
from house.network import vpc as house_vpc
from house.settings import Instance, StageSettings

STACK_ID = "NeptuneGraph"
SETTINGS = NeptuneGraphSettings
STACK_IDS = (STACK_ID,)


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
            removal_policy=removal,
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
                removal_policy=removal,
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


def build(app: cdk.App, instance: Instance[NeptuneGraphSettings]) -> list[cdk.Stack]:
    (stack_id,) = instance.stack_ids(*STACK_IDS)
    return [
        NeptuneGraphStack(
            app,
            stack_id,
            stage=instance.stage,
            settings=instance.settings,
            stack_name=instance.stage.stack_name(stack_id),
            env=instance.stage.environment,
        )
    ]
