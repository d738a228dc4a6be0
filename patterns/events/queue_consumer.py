"""QueueConsumer: an SQS work queue and the Lambda function that consumes it, hardened so a
message is done once, never lost and never blocks the others.

    producer (SNS subscription, EventBridge rule, S3 notification, ...) --> work queue
        (encrypted, TLS-only; after `max_receive_count` failed receives SQS moves a message
        to the dead-letter queue, kept 14 days)
    work queue --event source mapping (ReportBatchItemFailures, maximum concurrency)--> function
        contract break: the function parks the message in the DLQ itself, with the reason
        other failure: only that message is retried (batchItemFailures)
        repeat: dropped by the idempotency table (Powertools idempotency, DynamoDB + TTL)

The function's code is a `handler_kit.messages.QueueConsumer`; this construct sets what that
reads: DEAD_LETTER_URL, IDEMPOTENCY_TABLE, IDEMPOTENCY_SECONDS. `maximum_concurrency` caps the
invocations the queue starts (the rest waits in the queue, unlike reserved concurrency, which
would throttle the poller and count receives against the DLQ redrive).

Usage:
    consumer = QueueConsumer(self, "Notify", source="notifications",
                             description="...", idempotency=table, ...)
    topic.add_subscription(SqsSubscription(consumer.queue, raw_message_delivery=True))
    consumer.queue, consumer.dead_letters, consumer.function, consumer.event_source
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from constructs import Construct

from house.compliance import acknowledge
from house.defaults import queue_with_dlq
from house.lambda_function import python_function
from house.settings import keeps_data

IDEMPOTENCY_KEY = "id"
IDEMPOTENCY_EXPIRY = "expiration"
# What Powertools idempotency calls on its table.
IDEMPOTENCY_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)


def idempotency_table(
    scope: Construct, id: str, *, removal_policy: cdk.RemovalPolicy
) -> dynamodb.Table:
    """The table Powertools idempotency keeps its records in (`id`, TTL on `expiration`): on
    demand, so it costs nothing while no message arrives."""
    return dynamodb.Table(
        scope,
        id,
        partition_key=dynamodb.Attribute(name=IDEMPOTENCY_KEY, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        time_to_live_attribute=IDEMPOTENCY_EXPIRY,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=keeps_data(removal_policy),
        removal_policy=removal_policy,
    )


class QueueConsumer(Construct):
    """An SQS work queue with its dead-letter queue and the function that consumes it.

    Args:
        `source`: the `lambda_src/<source>/` folder of the function (a
            `handler_kit.messages.QueueConsumer`). Required.
        `description`: the function's description. Required.
        `idempotency`: the table Powertools idempotency keeps its records in
            (`idempotency_table()`); the function gets Get/Put/Update/DeleteItem on it. Required.
        `remember`: how long a processed message's id is kept (a redelivery within it is
            dropped): IDEMPOTENCY_SECONDS. Required.
        `log_retention_days`: retention of the function's log group. Required.
        `removal_policy`: the function's log group's, the queue's and the dead-letter queue's.
            Required.
        `handler`: the handler, as module.function inside `source`. Default: "handler.handler".
        `environment`: more environment variables of the function (DEAD_LETTER_URL,
            IDEMPOTENCY_TABLE and IDEMPOTENCY_SECONDS are always set). Default: None, only those
            three.
        `layers`: layers besides the house handler_kit layer every function gets. Default: None,
            handler_kit only.
        `maximum_concurrency`: the most concurrent invocations the event source starts (2..1000,
            ValueError otherwise); further messages wait in the queue instead of being throttled.
            Default: 2.
        `reserved_concurrent_executions`: concurrency reserved for (and capping) the function.
            Default: None, no reservation (the account's unreserved concurrency).
        `batch_size`: messages per invocation. Default: 10.
        `max_batching_window`: how long the event source gathers a batch. Default: 1 second.
        `timeout`: the function's timeout per batch; the queue's visibility timeout is six times
            it. Default: 30 seconds.
        `max_receive_count`: receives before SQS moves a message to the dead-letter queue.
            Default: 5.

    Attributes: queue, dead_letters, function, event_source.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source: str,
        description: str,
        idempotency: dynamodb.ITable,
        remember: cdk.Duration,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        handler: str = "handler.handler",
        environment: dict[str, str] | None = None,
        layers: list[lambda_.ILayerVersion] | None = None,
        maximum_concurrency: int = 2,
        reserved_concurrent_executions: int | None = None,
        batch_size: int = 10,
        max_batching_window: cdk.Duration = cdk.Duration.seconds(1),
        timeout: cdk.Duration = cdk.Duration.seconds(30),
        max_receive_count: int = 5,
    ) -> None:
        super().__init__(scope, id)
        if not 2 <= maximum_concurrency <= 1000:
            raise ValueError(
                f"QueueConsumer {id!r}: maximum_concurrency {maximum_concurrency}; allowed 2..1000"
            )
        # SQS's advice: a visibility timeout of six times the function's timeout, so a batch
        # being retried by Lambda is not handed to another invocation meanwhile.
        self.queue, self.dead_letters = queue_with_dlq(
            self,
            "Queue",
            removal_policy=removal_policy,
            visibility_timeout=cdk.Duration.seconds(timeout.to_seconds() * 6),
            max_receive_count=max_receive_count,
        )
        self.function = python_function(
            self,
            "Function",
            source=source,
            handler=handler,
            description=description,
            environment={
                **(environment or {}),
                "DEAD_LETTER_URL": self.dead_letters.queue_url,
                "IDEMPOTENCY_TABLE": idempotency.table_name,
                "IDEMPOTENCY_SECONDS": str(int(remember.to_seconds())),
            },
            timeout=timeout,
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
            reserved_concurrent_executions=reserved_concurrent_executions,
            layers=layers,
            invoked_synchronously_by=(
                "its SQS event source mapping: a failed message stays in the queue, is retried, "
                "and moves to the queue's dead-letter queue after its last receive"
            ),
        )
        idempotency.grant(self.function, *IDEMPOTENCY_ACTIONS)
        # SendMessage only (poison messages, with their reason): the URL is in the environment.
        self.dead_letters.grant(self.function, "sqs:SendMessage")
        self.event_source = event_sources.SqsEventSource(
            self.queue,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            report_batch_item_failures=True,
            max_concurrency=maximum_concurrency,
        )
        self.function.add_event_source(self.event_source)
        for child in self.function.node.children:
            if isinstance(child, lambda_.EventSourceMapping):
                acknowledge(
                    child,
                    "Serverless-LambdaEventSourceMappingDestination",
                    "An SQS event source has no on-failure destination (Lambda offers them for "
                    "streams and Kafka only): this queue's redrive policy moves a message that "
                    f"failed {max_receive_count} receives to its dead-letter queue, and the "
                    "function parks poison messages there itself.",
                )
