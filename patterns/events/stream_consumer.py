"""StreamConsumer: a Lambda function that reacts to a stream (a DynamoDB table's, or a Kinesis
data stream), and never loses or blocks on a record.

    table stream | Kinesis stream
        --(filter: only the records the function cares about)--> event source mapping
        batch -> function -> {"batchItemFailures": [...]}   (ReportBatchItemFailures)
        failing batch: bisected, retried up to `retry_attempts` times, then the failed records'
        coordinates (shard, sequence numbers) go to an encrypted SQS queue (the on-failure
        destination), kept 14 days; the shard moves on.

Why each knob:
- filter criteria: records that do not match are dropped by Lambda before invocation and cost
  nothing (a subscriber table's updates never wake the function up);
- ReportBatchItemFailures: one poison record fails alone; the records before it are
  checkpointed instead of being processed again;
- bisect + bounded retries + max record age: a poison record is isolated in a few attempts and
  parked, so it cannot block its shard for the stream's 24-hour retention;
- on-failure queue: "parked" means findable: the message names the shard and sequence range
  to read back (the stream keeps records 24 h, so alarm on the queue depth).

The handler must be idempotent: records before a failed one in the same batch may be delivered
again. Reusable: give it any ITableV2/ITable with a stream, or an IStream, and a `lambda_src/`
folder. `parks_poison=True` also lets the function send a record it can never process to the
on-failure queue itself, with the reason (DEAD_LETTER_URL: handler_kit.messages does this),
instead of spending the retries on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from house.defaults import dead_letter_queue
from house.lambda_function import python_function


@jsii.implements(lambda_.IEventSourceDlq)
class _OnFailureQueue:
    """The mapping's on-failure destination, granted `sqs:SendMessage` only: all Lambda's poller
    calls with the function's role. (CDK's SqsDlq grants the send bundle, which adds
    GetQueueAttributes and GetQueueUrl that nothing calls; an SQS-managed key needs no KMS grant.)
    """

    def __init__(self, queue: sqs.IQueue) -> None:
        self.queue = queue

    def bind(self, _target, target_handler) -> lambda_.DlqDestinationConfig:
        self.queue.grant(target_handler, "sqs:SendMessage")
        if self.queue.encryption_master_key is not None:  # SQS sends under the caller's key use
            self.queue.encryption_master_key.grant(
                target_handler, "kms:GenerateDataKey", "kms:Decrypt"
            )
        return lambda_.DlqDestinationConfig(destination=self.queue.queue_arn)


class StreamConsumer(Construct):
    """A function consuming a DynamoDB table's stream or a Kinesis data stream.

    A failing batch is bisected and retried, then the failed records' coordinates go to an
    encrypted on-failure queue (`failures`, kept 14 days) and the shard moves on.

    Args:
        `table`: a table with a stream (a table without one raises ValueError). Default: None;
            give exactly one of `table` and `stream` (ValueError otherwise).
        `stream`: a Kinesis data stream. Default: None, see `table`.
        `source`: the `lambda_src/<source>/` folder of the function. Required.
        `description`: the function's description. Required.
        `log_retention_days`: retention of the function's log group. Required.
        `removal_policy`: the function's log group's and the on-failure queue's. Required.
        `filters`: Lambda filter criteria; records that match none are dropped before invocation
            and cost nothing. Default: (), every record invokes the function.
        `environment`: environment variables of the function. Default: None, none (DEAD_LETTER_URL
            only with `parks_poison`).
        `handler`: the handler, as module.function inside `source`. Default: "handler.handler".
        `memory_size`: the function's memory in MB. Default: 256.
        `timeout`: the function's timeout per batch. Default: 30 seconds.
        `batch_size`: records per invocation (1..10000). Default: 25.
        `max_batching_window`: how long the event source gathers a batch. Default: 1 second.
        `retry_attempts`: retries of a failing batch before its records go to the on-failure
            queue (0..10000). Default: 3.
        `max_record_age`: records older than this are not retried but sent to the on-failure
            queue. Default: 6 hours.
        `parallelization_factor`: concurrent batches per shard (1..10). Default: 1, a shard's
            records in order.
        `starting_position`: where a new mapping starts reading. Default: TRIM_HORIZON, the oldest
            record the stream still holds.
        `reserved_concurrent_executions`: concurrency reserved for (and capping) the function.
            Default: None, no reservation.
        `layers`: layers besides the house handler_kit layer. Default: None, handler_kit only.
        `parks_poison`: True sets DEAD_LETTER_URL (the on-failure queue), so the function sends a
            record it can never process there itself, with the reason, instead of spending the
            retries on it. Default: False.

    Attributes: function, failures (the on-failure SQS queue), event_source, mapping_id.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table: dynamodb.ITable | None = None,
        stream: kinesis.IStream | None = None,
        source: str,
        description: str,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        filters: Sequence[Mapping[str, Any]] = (),
        environment: dict[str, str] | None = None,
        handler: str = "handler.handler",
        memory_size: int = 256,
        timeout: cdk.Duration = cdk.Duration.seconds(30),
        batch_size: int = 25,
        max_batching_window: cdk.Duration = cdk.Duration.seconds(1),
        retry_attempts: int = 3,
        max_record_age: cdk.Duration = cdk.Duration.hours(6),
        parallelization_factor: int = 1,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        reserved_concurrent_executions: int | None = None,
        layers: list[lambda_.ILayerVersion] | None = None,
        parks_poison: bool = False,
    ) -> None:
        super().__init__(scope, id)
        if (table is None) == (stream is None):
            raise ValueError(f"StreamConsumer {id!r}: give exactly one of table or stream")
        if table is not None and table.table_stream_arn is None:
            raise ValueError(f"StreamConsumer {id!r}: the table has no stream (set dynamo_stream)")
        if not 0 <= retry_attempts <= 10_000:
            raise ValueError(
                f"StreamConsumer {id!r}: retry_attempts {retry_attempts}; allowed 0..10000"
            )
        if not 1 <= batch_size <= 10_000:
            raise ValueError(f"StreamConsumer {id!r}: batch_size {batch_size}; allowed 1..10000")
        if not 1 <= parallelization_factor <= 10:
            raise ValueError(
                f"StreamConsumer {id!r}: parallelization_factor "
                f"{parallelization_factor}; allowed 1..10"
            )

        self.failures = dead_letter_queue(self, "FailedRecords", removal_policy=removal_policy)
        kind = "DynamoDB stream" if table is not None else "Kinesis stream"
        if parks_poison:
            environment = {**(environment or {}), "DEAD_LETTER_URL": self.failures.queue_url}
        self.function = python_function(
            self,
            "Function",
            source=source,
            handler=handler,
            description=description,
            environment=environment,
            memory_size=memory_size,
            timeout=timeout,
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
            reserved_concurrent_executions=reserved_concurrent_executions,
            layers=layers,
            invoked_synchronously_by=(
                f"its {kind} event source mapping, which retries failed records and then "
                "sends them to the FailedRecords on-failure queue"
            ),
            wildcard_grants=[
                (
                    {"dynamodb:ListStreams"},
                    "dynamodb:ListStreams, which the DynamoDB stream event source mapping needs "
                    "and which supports no resource-level permissions (the stream reads are "
                    "scoped to this table's stream)",
                )
            ]
            if table is not None
            else (),
        )
        if table is not None and not isinstance(table, dynamodb.Table):
            # aws-cdk-lib's stream read grant (below, with the event source) gives a Table
            # ListStreams on "*", but a TableV2 on its stream ARN, which IAM never matches for
            # an action without resource-level permissions (aws-cdk PR 34575): Lambda checks
            # it when it creates the event source mapping.
            self.function.add_to_role_policy(
                iam.PolicyStatement(actions=["dynamodb:ListStreams"], resources=["*"])
            )
        # parks_poison needs no grant of its own: the on-failure destination's (SendMessage on
        # the same queue, to the same role) is what the function's own send uses too.
        source_kind = (
            event_sources.DynamoEventSource
            if table is not None
            else event_sources.KinesisEventSource
        )
        self.event_source = source_kind(
            table if table is not None else stream,
            starting_position=starting_position,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            bisect_batch_on_error=True,
            retry_attempts=retry_attempts,
            max_record_age=max_record_age,
            parallelization_factor=parallelization_factor,
            report_batch_item_failures=True,
            on_failure=_OnFailureQueue(self.failures),
            filters=list(filters) or None,
        )
        self.function.add_event_source(self.event_source)
        self.mapping_id = self.event_source.event_source_mapping_id
