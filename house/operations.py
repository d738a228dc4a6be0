"""Nothing fails silently: every place a stack parks failed work has an alarm, and every alarm
goes to the stack's one operations topic.

`watch_failures(stack, ...)` (wired once for every stack in app.py) finds, when the stack is
synthesized, every queue or topic that something names as its dead-letter queue or on-failure
destination (house/failures.py: SQS redrive policies, SNS subscription redrive policies, Lambda
dead-letter configs and on-failure destinations, EventBridge rule, schedule and pipe
dead-letter configs) and every stream event source mapping, and adds:

- an alarm on the first message of each such queue (`ApproximateNumberOfMessagesVisible` >= 1:
  a message moved there by a redrive policy or by Lambda is not counted by
  `NumberOfMessagesSent`, so the number waiting is what shows it), and on the first message
  published to such a topic;
- an alarm on failed backup and copy jobs of each backup vault (house/backup.py);
- an alarm on each stream mapping's iterator age, at a quarter of the age at which its records
  are given up (`MaximumRecordAgeInSeconds`) or dropped by the stream (24 hours), so operators
  hear of a stuck shard with three quarters of that time left;
- the stack's operations topic (`Operations/Topic`) every alarm notifies, TLS-only, with an
  e-mail subscription when the stage sets `operations_email`. Where the stage keeps data the
  topic is encrypted with a customer-managed key whose policy lets CloudWatch publish (the AWS
  managed aws/sns key cannot: CloudWatch would drop every notification); a dev stack does
  without the key's monthly fee, as it does for its log groups.

Alarms the stack makes itself with no action (a service's 5XX, latency and dead-letter alarms,
patterns/observability/service_dashboard.py) get the same topic as their action: where a stack's
alarms notify is decided here once, for every blueprint. An alarm that already names an action
(its own topic, a scaling policy) is left as it is.

Each dead-letter queue also says it is one (`RedriveAllowPolicy`, `allowAll`: the SQS default,
any queue of this account and region may use it), which is what AWS Control Tower's
CT.SQS.PR.1 accepts instead of a dead-letter queue behind it.

It works on the synthesized properties, so blueprints added later are covered without code of
their own; deployment/rules.py checks the result over every template.
"""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from house import failures
from house.compliance import acknowledge, stack_resources, synthesized_properties
from house.defaults import customer_key, dead_letter_queue

OPERATIONS_ID = "Operations"
# SQS keeps a message 4 days unless the queue says otherwise.
_SQS_DEFAULT_RETENTION_SECONDS = 4 * 24 * 3600


def watch_failures(stack: cdk.Stack, *, keep_data: bool, email: str | None) -> None:
    """Alarms on every failure destination and stream mapping of `stack`, to its operations
    topic (see the module docstring). `keep_data`: the stage's; `email`: subscribed to the
    topic (SNS sends a confirmation message first)."""
    cdk.Aspects.of(stack).add(_FailureAlarms(stack, keep_data=keep_data, email=email))


def synthesized_resources(
    stack: cdk.Stack, types: tuple[str, ...]
) -> dict[str, tuple[cdk.CfnResource, dict]]:
    """Logical id -> (construct, {"Type", "Properties"}) of `stack`'s resources of `types`."""
    return {
        stack.get_logical_id(node): (
            node,
            {"Type": node.cfn_resource_type, "Properties": synthesized_properties(node)},
        )
        for node in stack_resources(stack, types)
    }


@jsii.implements(cdk.IAspect)
class _FailureAlarms:
    def __init__(self, stack: cdk.Stack, *, keep_data: bool, email: str | None) -> None:
        self._stack = stack
        self._keep_data = keep_data
        self._email = email
        self._done = False
        self._scope: Construct | None = None
        self._topic: sns.Topic | None = None

    def visit(self, node) -> None:
        if self._done or not isinstance(node, cdk.Stack) or node.node.path != self._stack.node.path:
            return
        self._done = True
        stack = self._stack
        found = synthesized_resources(
            stack, (*failures.FAILURE_SOURCE_TYPES, failures.QUEUE, failures.TOPIC)
        )
        resources = {logical_id: resource for logical_id, (_, resource) in found.items()}
        destinations = failures.watched_destinations(resources)
        mappings = failures.stream_mappings(
            {
                **resources,
                **{
                    logical_id: resource
                    for logical_id, (_, resource) in synthesized_resources(
                        stack,
                        (
                            "AWS::DynamoDB::Table",
                            "AWS::DynamoDB::GlobalTable",
                            "AWS::Kinesis::Stream",
                            "AWS::Kinesis::StreamConsumer",
                        ),
                    ).items()
                },
            }
        )
        for logical_id in sorted(destinations):
            construct, resource = found[logical_id]
            if resource["Type"] == failures.QUEUE:
                self._watch_queue(logical_id, construct, resource["Properties"])
            else:
                self._watch_topic(logical_id, construct)
        functions = {
            logical_id: construct
            for logical_id, (construct, resource) in found.items()
            if resource["Type"] == "AWS::Lambda::Function"
        }
        for logical_id in sorted(mappings):
            self._watch_iterator_age(
                logical_id, found[logical_id][0], mappings[logical_id], functions
            )
        plans = synthesized_resources(stack, ("AWS::Backup::BackupPlan",))
        copying = {
            vault
            for _, plan in plans.values()
            for rule in plan["Properties"].get("BackupPlan", {}).get("BackupPlanRule", [])
            if rule.get("CopyActions")
            for vault in failures.referenced(rule.get("TargetBackupVault"))
        }
        vaults = synthesized_resources(stack, ("AWS::Backup::BackupVault",))
        for logical_id, (vault, _) in sorted(vaults.items()):
            self._watch_backup_jobs(logical_id, vault, copies=logical_id in copying)
        self._route_silent_alarms()

    def _route_silent_alarms(self) -> None:
        """The operations topic as the action of each alarm of the stack that has none."""
        for _, (alarm, resource) in sorted(
            synthesized_resources(self._stack, ("AWS::CloudWatch::Alarm",)).items()
        ):
            if resource["Properties"].get("AlarmActions"):
                continue
            owner = alarm.node.scope
            if isinstance(owner, cloudwatch.Alarm):
                owner.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
            else:
                alarm.alarm_actions = [self.topic.topic_arn]

    # -- the alarms ---------------------------------------------------------------------------

    def _watch_queue(self, logical_id: str, queue: sqs.CfnQueue, properties: dict) -> None:
        if queue.redrive_allow_policy is None:
            queue.redrive_allow_policy = {"redrivePermission": "allowAll"}
        retention = properties.get("MessageRetentionPeriod", _SQS_DEFAULT_RETENTION_SECONDS)
        kept = (
            f"kept {int(retention) // 86400} days"
            if isinstance(retention, int)
            else "kept for the queue's retention period"
        )
        self._alarm(
            f"{logical_id}Waiting",
            metric=cloudwatch.Metric(
                namespace="AWS/SQS",
                metric_name="ApproximateNumberOfMessagesVisible",
                dimensions_map={"QueueName": queue.attr_queue_name},
                statistic="Maximum",
                period=cdk.Duration.minutes(1),
            ),
            threshold=1,
            periods=1,
            description=(
                f"{_path(queue)}: failed work is waiting in this dead-letter queue ({kept}). "
                "Read a message to find the cause, fix it, then move the messages back to "
                "their source (aws sqs start-message-move-task --source-arn <this queue's ARN>) "
                "or delete them."
            ),
        )

    def _watch_topic(self, logical_id: str, topic: sns.CfnTopic) -> None:
        self._alarm(
            f"{logical_id}Published",
            metric=cloudwatch.Metric(
                namespace="AWS/SNS",
                metric_name="NumberOfMessagesPublished",
                dimensions_map={"TopicName": topic.attr_topic_name},
                statistic="Sum",
                period=cdk.Duration.minutes(1),
            ),
            threshold=1,
            periods=1,
            description=(
                f"{_path(topic)}: something published a failure to this on-failure topic; its "
                "subscribers have the message."
            ),
        )

    def _watch_iterator_age(
        self,
        logical_id: str,
        mapping: cdk.CfnResource,
        properties: dict,
        functions: dict[str, cdk.CfnResource],
    ) -> None:
        function = properties.get("FunctionName")
        targets = [t for t in failures.referenced(function) if t in functions]
        if targets:
            function_name = functions[targets[0]].ref
        elif isinstance(function, str):
            function_name = function.rsplit(":function:", 1)[-1].split(":", 1)[0]
        else:
            raise ValueError(f"{_path(mapping)}: cannot tell which function reads this stream")
        limit = failures.iterator_age_limit_seconds(properties)
        self._alarm(
            f"{logical_id}IteratorAge",
            metric=cloudwatch.Metric(
                namespace="AWS/Lambda",
                metric_name="IteratorAge",
                dimensions_map={"FunctionName": function_name},
                statistic="Maximum",
                period=cdk.Duration.minutes(1),
            ),
            threshold=limit * 1000 / 4,
            periods=5,
            description=(
                f"{_path(mapping)}: the oldest stream record not yet processed has been waiting "
                f"a quarter of the {limit // 3600} h after which it is given up or dropped. "
                "Look for errors or throttles of the function; records that fail for good go "
                "to its on-failure destination."
            ),
        )

    def _watch_backup_jobs(self, logical_id: str, vault: cdk.CfnResource, *, copies: bool) -> None:
        for jobs in ("Backup", "Copy") if copies else ("Backup",):
            self._alarm(
                f"{logical_id}{jobs}JobsFailed",
                metric=cloudwatch.Metric(
                    namespace="AWS/Backup",
                    metric_name=f"NumberOf{jobs}JobsFailed",
                    dimensions_map={"BackupVaultName": vault.ref},
                    statistic="Sum",
                    period=cdk.Duration.minutes(5),
                ),
                threshold=1,
                periods=1,
                description=(
                    f"{_path(vault)}: a {jobs.lower()} job into this vault failed; the AWS Backup "
                    f"console's {jobs.lower()} jobs list says why (aws backup list-"
                    f"{jobs.lower()}-jobs --by-state FAILED)."
                ),
            )

    def _alarm(
        self,
        id: str,
        *,
        metric: cloudwatch.Metric,
        threshold: float,
        periods: int,
        description: str,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self.scope,
            id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        return alarm

    # -- the operations topic -----------------------------------------------------------------

    @property
    def scope(self) -> Construct:
        if self._scope is None:
            self._scope = Construct(self._stack, OPERATIONS_ID)
        return self._scope

    @property
    def topic(self) -> sns.Topic:
        if self._topic is None:
            self._topic = self._operations_topic()
            if self._email:
                self._subscribe(self._topic, self._email)
        return self._topic

    def _operations_topic(self) -> sns.Topic:
        stack, scope = self._stack, self.scope
        account_only = {"StringEquals": {"aws:SourceAccount": stack.account}}
        key = None
        if self._keep_data:
            key = customer_key(
                scope,
                "Key",
                description=f"Encrypts the operations topic of {stack.stack_name}",
                # Messages live only until delivered; nothing is left to decrypt later.
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CloudWatchAlarmsOfThisAccount",
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                    conditions=account_only,
                )
            )
        topic = sns.Topic(
            scope,
            "Topic",
            display_name=f"{stack.stack_name} operations",
            master_key=key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions=account_only,
            )
        )
        if key is None:
            acknowledge(
                topic,
                "AwsSolutions-SNS2",
                "This stage keeps no data: the topic carries only alarm notifications (alarm "
                "name, metric, threshold), and CloudWatch can publish to an encrypted topic only "
                "through a customer-managed key billed per month, which disposable stages do "
                "without; stages that keep data encrypt it with one.",
            )
        cdk.CfnOutput(
            stack,
            "OperationsTopicArn",
            value=topic.topic_arn,
            description="Alarms of this stack (dead-letter queues, stream lag): subscribe here",
        )
        return topic

    def _subscribe(self, topic: sns.Topic, email: str) -> None:
        # An e-mail that cannot be delivered waits here instead of vanishing (and alarms).
        undelivered = dead_letter_queue(
            self.scope, "UndeliveredEmail", removal_policy=cdk.RemovalPolicy.DESTROY
        )
        topic.add_subscription(
            subscriptions.EmailSubscription(email, dead_letter_queue=undelivered)
        )
        queue = undelivered.node.default_child
        self._watch_queue(
            self._stack.get_logical_id(queue), queue, {"MessageRetentionPeriod": 14 * 86400}
        )


def _path(construct: Construct) -> str:
    """`Stack/Queue` for `Stack/Queue/Resource`: the path operators recognise in the console."""
    path = construct.node.path
    return path.removesuffix("/Resource")
