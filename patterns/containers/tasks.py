"""Tasks that EventBridge starts, and notifications when any task of the cluster stops.

upload bucket --Object Created (S3 -> EventBridge)--> rule --RunTask (OBJECT_KEY override)
EventBridge Scheduler (cron/rate) -----------------------------> RunTask
     both: retry policy (attempts, max event age), failures -> dead-letter queue
ECS Task State Change, lastStatus STOPPED, this cluster --> rule --> SNS topic (KMS)
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from house.compliance import acknowledge_wildcard_resources, narrow_wildcard_resources
from patterns.containers.cluster import CapacityStrategy


class RetryPolicy:
    """How EventBridge retries a failed RunTask before it parks the event in the DLQ."""

    def __init__(
        self, *, attempts: int, max_event_age: cdk.Duration, dead_letter_queue: sqs.IQueue
    ) -> None:
        self.attempts = attempts
        self.max_event_age = max_event_age
        self.dead_letter_queue = dead_letter_queue

    def as_kwargs(self) -> dict:
        return dict(
            retry_attempts=self.attempts,
            max_event_age=self.max_event_age,
            dead_letter_queue=self.dead_letter_queue,
        )


class ObjectCreatedTask(Construct):
    """Runs `task_definition` once per object created in `bucket`, with the key in OBJECT_KEY.

    Args:
        `cluster`: the cluster the tasks run in. Required.
        `task_definition`: the task started per object; its task role gets s3:GetObject on the
            objects of `bucket` (no list, no write). Required.
        `container`: the container that receives OBJECT_KEY (the created object's key) as an
            environment override. Required.
        `bucket`: the bucket whose Object Created events start tasks; it must send its events to
            EventBridge (house buckets do: secure_bucket). Required.
        `task_subnets`: the subnets of each task. Required.
        `assign_public_ip`: a public IP for each task. Required.
        `security_group`: the security group of each task. Required.
        `strategy`: the capacity provider strategy each task runs on, in place of CDK's fixed
            FARGATE launch type (so Spot in dev applies here too). Required.
        `retry`: how EventBridge retries a failed RunTask (attempts, maximum event age) and the
            dead-letter queue that then receives the event. Required.
        `enabled`: False creates the rule switched off (for an image that cannot run the task).
            Default: True, every new object starts a task.

    Attributes: rule, target.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: ecs.ICluster,
        task_definition: ecs.TaskDefinition,
        container: ecs.ContainerDefinition,
        bucket: s3.IBucket,
        task_subnets: ec2.SubnetSelection,
        assign_public_ip: bool,
        security_group: ec2.ISecurityGroup,
        strategy: CapacityStrategy,
        retry: RetryPolicy,
        enabled: bool = True,
    ) -> None:
        super().__init__(scope, id)
        # The bucket must send its events to EventBridge (house buckets do: secure_bucket).
        self.rule = events.Rule(
            self,
            "ObjectCreated",
            enabled=enabled,
            description="Start the process-upload task for each new object in the upload bucket",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={"bucket": {"name": [bucket.bucket_name]}},
            ),
        )
        self.target = targets.EcsTask(
            cluster=cluster,
            task_definition=task_definition,
            subnet_selection=task_subnets,
            assign_public_ip=assign_public_ip,
            security_groups=[security_group],
            container_overrides=[
                targets.ContainerOverride(
                    container_name=container.container_name,
                    environment=[
                        targets.TaskEnvironmentVariable(
                            name="OBJECT_KEY",
                            value=events.EventField.from_path("$.detail.object.key"),
                        )
                    ],
                )
            ],
            propagate_tags=ecs.PropagatedTagSource.TASK_DEFINITION,
            **retry.as_kwargs(),
        )
        self.rule.add_target(self.target)
        # CDK's EcsTask always says LaunchType FARGATE (on demand); run on the same capacity
        # provider strategy as everything else instead (Spot in dev).
        rule = self.rule.node.default_child
        rule.add_property_deletion_override("Targets.0.EcsParameters.LaunchType")
        rule.add_property_override(
            "Targets.0.EcsParameters.CapacityProviderStrategy",
            [
                {
                    "CapacityProvider": item.capacity_provider,
                    "Weight": item.weight,
                    **({"Base": item.base} if item.base else {}),
                }
                for item in strategy.providers()
            ],
        )
        # Read exactly what the task needs: one object at a time (no listing, no bucket reads).
        task_definition.add_to_task_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects("*")])
        )
        acknowledge_wildcard_resources(
            task_definition.task_role,
            {"s3:GetObject"},
            "The process-upload task reads whichever object the S3 event names, so it may get "
            "any object of the upload bucket, and only get: no list, no write, no other bucket.",
        )
        events_role = task_definition.node.try_find_child("EventsRole")
        # CDK's EcsTask target names the tasks of this cluster in any account ("*"); they are
        # started in this one.
        tasks_of_cluster = cdk.Stack.of(self).format_arn(
            service="ecs", resource="task", resource_name=f"{cluster.cluster_name}/*"
        )
        narrow_wildcard_resources(events_role, {"ecs:TagResource"}, [tasks_of_cluster])
        acknowledge_wildcard_resources(
            events_role,
            {"ecs:TagResource"},
            "EventBridge tags the tasks it starts (propagate_tags); their task ids do not exist "
            "before RunTask, so the resource is this cluster's task ARNs in this account.",
        )


class ScheduledTask(Construct):
    """Runs `task_definition` on an EventBridge Scheduler expression (cron/rate, with time zone).

    Args:
        `cluster`: the cluster the tasks run in. Required.
        `task_definition`: the task the schedule starts. Required.
        `expression`: an EventBridge Scheduler expression, e.g. "cron(0 3 * * ? *)" or
            "rate(1 day)". Required.
        `time_zone`: the IANA time zone `expression` is read in (e.g. "Europe/Paris"). Required.
        `task_subnets`: the subnets of each task. Required.
        `assign_public_ip`: a public IP for each task. Required.
        `security_group`: the security group of each task. Required.
        `strategy`: the capacity provider strategy each task runs on. Required.
        `retry`: how the scheduler retries a failed RunTask (attempts, maximum event age) and the
            dead-letter queue that then receives the event. Required.
        `enabled`: False creates the schedule switched off (for an image that cannot run the task).
            Default: True, the schedule runs.

    Attributes: schedule.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: ecs.ICluster,
        task_definition: ecs.TaskDefinition,
        expression: str,
        time_zone: str,
        task_subnets: ec2.SubnetSelection,
        assign_public_ip: bool,
        security_group: ec2.ISecurityGroup,
        strategy: CapacityStrategy,
        retry: RetryPolicy,
        enabled: bool = True,
    ) -> None:
        super().__init__(scope, id)
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            enabled=enabled,
            description="Start the prune task on shared storage",
            schedule=scheduler.ScheduleExpression.expression(
                expression, cdk.TimeZone.of(time_zone)
            ),
            target=scheduler_targets.EcsRunFargateTask(
                cluster,
                task_definition=task_definition,
                vpc_subnets=task_subnets,
                assign_public_ip=assign_public_ip,
                security_groups=[security_group],
                capacity_provider_strategies=strategy.providers(),
                propagate_tags=True,
                **retry.as_kwargs(),
            ),
        )
        for child in cdk.Stack.of(self).node.children:
            if child.node.id.startswith("SchedulerRoleForTarget"):
                acknowledge_wildcard_resources(
                    child,
                    {"ecs:TagResource"},
                    "EventBridge Scheduler tags the tasks it starts (propagate_tags); their task "
                    "ids do not exist before RunTask, so the resource is this cluster's task ARNs.",
                )


def operations_topic(
    scope: Construct, id: str, *, key: kms.IKey, email: str | None, dead_letter_queue: sqs.IQueue
) -> sns.Topic:
    """The encrypted, TLS-only topic operators subscribe to (stopped tasks, instance events)."""
    # EventBridge may publish to a KMS-encrypted topic only if the key lets it encrypt: the
    # SnsTopic rule target adds that statement for events.amazonaws.com to this key's policy.
    topic = sns.Topic(
        scope, id, master_key=key, enforce_ssl=True, display_name="Container service notifications"
    )
    if email:
        topic.add_subscription(
            subscriptions.EmailSubscription(email, dead_letter_queue=dead_letter_queue)
        )
    return topic


class StoppedTaskNotifications(Construct):
    """Every task of `cluster` that stops (crash, failed health check, Spot interruption,
    deploy, scale-in) -> one readable message on `topic`.

    Args:
        `cluster`: only this cluster's tasks (by cluster ARN) with last status STOPPED match.
            Required.
        `topic`: receives one text message per stopped task: task ARN, group, stop code and
            reason. Required.
        `retry`: how EventBridge retries a failed publish (attempts, maximum event age) and the
            dead-letter queue that then receives the event. Required.

    Attributes: rule.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: ecs.ICluster,
        topic: sns.ITopic,
        retry: RetryPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.rule = events.Rule(
            self,
            "TaskStopped",
            description="Notify when a task of the cluster stops",
            event_pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Task State Change"],
                detail={"clusterArn": [cluster.cluster_arn], "lastStatus": ["STOPPED"]},
            ),
        )
        field = events.EventField.from_path
        self.rule.add_target(
            targets.SnsTopic(
                topic,
                message=events.RuleTargetInput.from_text(
                    f"ECS task {field('$.detail.taskArn')} of {field('$.detail.group')} stopped "
                    f"({field('$.detail.stopCode')}): {field('$.detail.stoppedReason')}"
                ),
                **retry.as_kwargs(),
            )
        )
