"""The automated bulk-load workflow, and the small-load function beside it.

    S3 object "<prefix>...<suffix>"  --EventBridge-->  state machine  <--  manual start-execution
                                                           |
        StartLoad (Lambda in VPC) --> Wait --> LoadStatus (Lambda in VPC) --> Choice
                                       ^--------- still loading -----------------|
                                        LOAD_COMPLETED -> Succeeded, anything else -> Failed

Both functions call the Neptune data API (`neptunedata`) on the cluster endpoint inside the
VPC; they need no other network path, so they get none.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from blueprints.neptune_graph.cluster import NeptuneCluster
from house.compliance import acknowledge, narrow_wildcard_resources
from house.defaults import dead_letter_queue, log_group
from house.lambda_function import python_function

_NO_XRAY = (
    "it runs in isolated subnets with no route to X-Ray; an X-Ray interface endpoint "
    "would bill per AZ-hour to trace two API calls, and the state machine's "
    "own X-Ray trace and execution history already show every step"
)


class NeptuneBulkLoader(Construct):
    """Attributes: `state_machine`, `start_load`, `load_status`, `trigger_rule`, `dead_letters`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        graph: NeptuneCluster,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        staging_bucket: s3.IBucket,
        load_role: iam.IRole,
        auto_load_prefix: str,
        marker_suffix: str,
        auto_load_format: str,
        load_timeout: cdk.Duration,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.security_group = graph.client_security_group(self, vpc, "Bulk-load functions")

        common = dict(
            source="neptune_data",
            environment={
                "CLUSTER_ENDPOINT": graph.endpoint,
                "CLUSTER_PORT": str(graph.port),
                "STAGING_BUCKET": staging_bucket.bucket_name,
                "LOAD_ROLE_ARN": load_role.role_arn,
                "MARKER_SUFFIX": marker_suffix,
                "AUTO_LOAD_FORMAT": auto_load_format,
            },
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=[self.security_group],
            memory_size=256,
            timeout=cdk.Duration.seconds(60),
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
            invoked_synchronously_by="the bulk-load state machine (which retries and records it)",
            tracing_off_because=_NO_XRAY,
        )
        self.start_load = python_function(
            self,
            "StartLoad",
            handler="loader.start_load",
            description="Starts a Neptune bulk load from the staging bucket",
            **common,
        )
        self.load_status = python_function(
            self,
            "LoadStatus",
            handler="loader.load_status",
            description="Reports a Neptune bulk load's status",
            **common,
        )
        graph.grant_data_actions(self.start_load, "StartLoaderJob")
        graph.grant_data_actions(self.load_status, "GetLoaderJobStatus")
        for function in (self.start_load, self.load_status):
            self._acknowledge_cluster_resource(function, graph)

        self.state_machine = self._workflow(load_timeout, log_retention_days, removal_policy)
        self.dead_letters = dead_letter_queue(
            self, "TriggerDeadLetters", removal_policy=removal_policy
        )
        self.trigger_rule = events.Rule(
            self,
            "LoadWhenMarkerLands",
            description=f"Start a bulk load when s3://.../{auto_load_prefix}*{marker_suffix} lands",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [staging_bucket.bucket_name]},
                    "object": {"key": [{"wildcard": f"{auto_load_prefix}*{marker_suffix}"}]},
                },
            ),
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    input=events.RuleTargetInput.from_object(
                        {
                            "marker": {
                                "bucket": events.EventField.from_path("$.detail.bucket.name"),
                                "key": events.EventField.from_path("$.detail.object.key"),
                            }
                        }
                    ),
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=8,
                    max_event_age=cdk.Duration.hours(2),
                )
            ],
        )

    def _workflow(
        self, timeout: cdk.Duration, log_retention_days: int, removal_policy: cdk.RemovalPolicy
    ) -> sfn.StateMachine:
        start = tasks.LambdaInvoke(
            self,
            "Start load",
            lambda_function=self.start_load,
            payload_response_only=True,
            result_path="$.load",
        )
        status = tasks.LambdaInvoke(
            self,
            "Get load status",
            lambda_function=self.load_status,
            payload=sfn.TaskInput.from_object({"loadId": sfn.JsonPath.string_at("$.load.loadId")}),
            payload_response_only=True,
            result_path="$.status",
        )
        for task in (start, status):
            # Throttling, the concurrent-load limit, or a cluster briefly unreachable.
            task.add_retry(
                errors=["NeptuneBusy"],
                interval=cdk.Duration.seconds(15),
                max_attempts=6,
                backoff_rate=2.0,
                jitter_strategy=sfn.JitterType.FULL,
            )
            # NeptuneRejected / InvalidRequest are not retried: the execution fails with them.
        wait = sfn.Wait(
            self, "Wait before polling", time=sfn.WaitTime.seconds_path("$.load.pollSeconds")
        )
        loaded = sfn.Succeed(self, "Loaded")
        failed = sfn.Fail(
            self, "Load failed", error_path="$.status.status", cause_path="$.status.cause"
        )
        definition = (
            start.next(wait)
            .next(status)
            .next(
                sfn.Choice(self, "Finished?")
                .when(sfn.Condition.boolean_equals("$.status.done", False), wait)
                .when(sfn.Condition.string_equals("$.status.status", "LOAD_COMPLETED"), loaded)
                .otherwise(failed)
            )
        )
        history = log_group(
            self, "ExecutionLogs", retention_days=log_retention_days, removal_policy=removal_policy
        )
        machine = sfn.StateMachine(
            self,
            "Workflow",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=history, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )
        acknowledge(
            machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "The state machine role's '*' statements are the CloudWatch Logs log-delivery actions "
            "Step Functions needs to log to its history group (the vended-log delivery APIs "
            "support no resource-level permissions) and X-Ray's trace and sampling actions, "
            "which support none either.",
        )
        # CDK's Lambda integration also grants every version and alias (`<ARN>:*`); the
        # workflow invokes the unqualified functions only.
        narrow_wildcard_resources(
            machine.role,
            {"lambda:InvokeFunction"},
            [self.start_load.function_arn, self.load_status.function_arn],
        )
        return machine

    @staticmethod
    def _acknowledge_cluster_resource(function, graph: NeptuneCluster) -> None:
        acknowledge(
            function.role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:neptune-db:<AWS::Region>:"
            f"<AWS::AccountId>:<{cdk.Stack.of(graph).get_logical_id(graph.cluster.node.default_child)}"
            ".ClusterResourceId>/*]",
            "neptune-db data-plane ARNs are always '<cluster resource id>/*'; the grant names this "
            "one cluster and only the loader action this function needs.",
        )


class GraphQueryFunction(Construct):
    """Small loads: runs one parameterised openCypher statement. Invoked directly (IAM), no URL."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        graph: NeptuneCluster,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.security_group = graph.client_security_group(self, vpc, "Small-load function")
        # Operators may invoke it asynchronously (InvocationType=Event): failures go here.
        self.dead_letters = dead_letter_queue(self, "DeadLetters", removal_policy=removal_policy)
        self.function = python_function(
            self,
            "Function",
            source="neptune_data",
            handler="query.handler",
            description="Runs one parameterised openCypher write on the Neptune cluster",
            environment={"CLUSTER_ENDPOINT": graph.endpoint, "CLUSTER_PORT": str(graph.port)},
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=[self.security_group],
            memory_size=256,
            timeout=cdk.Duration.seconds(60),
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
            dead_letter_queue=self.dead_letters,
            tracing_off_because=_NO_XRAY.replace("to trace two API calls", "to trace one call"),
        )
        # MERGE/MATCH read before they write; no DeleteDataViaQuery for an upsert function.
        graph.grant_data_actions(self.function, "ReadDataViaQuery", "WriteDataViaQuery")
        NeptuneBulkLoader._acknowledge_cluster_resource(self.function, graph)
