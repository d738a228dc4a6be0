"""A queue worker: an ECS service that long-polls an SQS queue and scales on its depth.

producers --> SQS queue (encrypted, TLS-only) --maxReceiveCount--> dead-letter queue
                |  ApproximateNumberOfMessagesVisible (1-minute max)
                v  step scaling: empty -> one task fewer (down to 0 or 1), >=1 -> +1,
                   >= scale_out_backlog -> +3
              worker tasks (Fargate, or the cluster's EC2 capacity provider)
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from patterns.containers.cluster import CapacityStrategy, wait_for_capacity_providers


class QueueWorker(Construct):
    """Runs `task_definition` as a service consuming `queue`; task count follows the backlog.

    Deployments replace every task at once (minimum healthy 0 %): nothing routes traffic to a
    worker, and an unfinished message simply reappears. The circuit breaker rolls a failed
    deployment back.

    Args:
        `cluster`: the cluster the service runs in. Required.
        `task_definition`: the worker's task; its task role gets sqs:ReceiveMessage and
            sqs:DeleteMessage on `queue` (and kms:Decrypt on the queue's customer key, if any).
            Required.
        `queue`: the queue the worker consumes; its visible messages (1-minute maximum) drive the
            step scaling. Required.
        `task_subnets`: the subnets of the tasks. Required.
        `assign_public_ip`: a public IP for each Fargate task (to reach AWS APIs from public subnets
            without NAT or endpoints); not applied on EC2 capacity, where awsvpc tasks get none.
            Required.
        `security_group`: the tasks' security group. Required.
        `min_tasks`: the desired count at deploy and the floor of scaling; 0 lets an empty queue
            scale the worker away. Required.
        `max_tasks`: the ceiling of scaling. Required.
        `strategy`: run on Fargate with this capacity provider strategy (a FargateService).
            Default: None; give exactly one of `strategy` and `ec2_provider` (ValueError otherwise).
        `ec2_provider`: run on the cluster's EC2 capacity provider instead (an Ec2Service).
            Default: None, see `strategy`.
        `scale_out_backlog`: visible messages from which a scale-out step adds 3 tasks instead of
            1 (an empty queue removes one task; cooldown 120 s). Default: 100.

    Attributes: service, scaling, backlog (the metric scaling follows).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: ecs.ICluster,
        task_definition: ecs.TaskDefinition,
        queue: sqs.IQueue,
        task_subnets: ec2.SubnetSelection,
        assign_public_ip: bool,
        security_group: ec2.ISecurityGroup,
        min_tasks: int,
        max_tasks: int,
        strategy: CapacityStrategy | None = None,
        ec2_provider: ecs.AsgCapacityProvider | None = None,
        scale_out_backlog: int = 100,
    ) -> None:
        super().__init__(scope, id)
        if (strategy is None) == (ec2_provider is None):
            raise ValueError("QueueWorker: give exactly one of strategy (Fargate) or ec2_provider")
        common = dict(
            cluster=cluster,
            task_definition=task_definition,
            desired_count=min_tasks,
            vpc_subnets=task_subnets,
            security_groups=[security_group],
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            # Nothing routes traffic to a worker: replacing all of them at once is safe and
            # lets a deploy finish even at 0 tasks; unfinished messages simply reappear.
            min_healthy_percent=0,
            max_healthy_percent=200,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
        )
        if ec2_provider:
            # awsvpc tasks on EC2 get no public IP; the stack only allows this in private subnets.
            self.service: ecs.BaseService = ecs.Ec2Service(
                self,
                "Service",
                capacity_provider_strategies=[
                    ecs.CapacityProviderStrategy(
                        capacity_provider=ec2_provider.capacity_provider_name, weight=1
                    )
                ],
                **common,
            )
        else:
            self.service = ecs.FargateService(
                self,
                "Service",
                capacity_provider_strategies=strategy.providers(),
                assign_public_ip=assign_public_ip,
                **common,
            )
        wait_for_capacity_providers(self.service, cluster)
        # Receive and delete only: a worker deletes what it finished and leaves a failure to
        # reappear (grant_consume_messages would add ChangeMessageVisibility, GetQueueAttributes
        # and GetQueueUrl, which the worker never calls; a KMS queue also needs Decrypt).
        queue.grant(task_definition.task_role, "sqs:ReceiveMessage", "sqs:DeleteMessage")
        if queue.encryption_master_key is not None:
            queue.encryption_master_key.grant_decrypt(task_definition.task_role)

        self.scaling = self.service.auto_scale_task_count(
            min_capacity=min_tasks, max_capacity=max_tasks
        )
        self.backlog = queue.metric_approximate_number_of_messages_visible(
            period=cdk.Duration.minutes(1), statistic="Maximum"
        )
        self.scaling.scale_on_metric(
            "QueueDepth",
            metric=self.backlog,
            scaling_steps=[
                appscaling.ScalingInterval(upper=0, change=-1),
                appscaling.ScalingInterval(lower=1, change=+1),
                appscaling.ScalingInterval(lower=scale_out_backlog, change=+3),
            ],
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            cooldown=cdk.Duration.seconds(120),
        )
