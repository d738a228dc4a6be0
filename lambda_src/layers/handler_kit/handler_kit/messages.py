"""Queue and stream consumers (an SQS or Kinesis event source mapping with
ReportBatchItemFailures): each message is read, checked, done at most once, and never lost.

    from handler_kit.messages import Message, QueueConsumer

    consumer = QueueConsumer(
        read=lambda record: Message.of_sns(record),     # or of_eventbridge / your own reader
        process=reserve_stock,                          # (Message) -> None; raises on failure
        dead_letters=lambda: config.settings().dead_letter_url,
        idempotency_table=lambda: config.settings().idempotency_table,
        remember_seconds=lambda: config.settings().idempotency_seconds,
    )
    handler = consumer.handler

What happens to a message:
- `read` returns None: nothing to do (S3's test event when a notification is configured);
- it cannot be read, or its event breaks its contract (`read` or `process` raises a
  handler_kit.errors.DomainError): it is a poison message. A retry cannot help, so it goes to the
  queue's dead-letter queue at once, with the reason in its `reason` message attribute and the
  original body and attributes, and it leaves the work queue (it never vanishes, and it never
  blocks the others);
- `process` raises anything else (a throttled table, a timeout): it is reported in
  `batchItemFailures`, so only it is retried; after the queue's maxReceiveCount SQS moves it
  to the same dead-letter queue;
- it was done before (SQS delivers at least once; a producer may retry a publish): the
  idempotency record of its event id (Powertools idempotency, a DynamoDB table with TTL) says so
  and `process` does not run again. A message whose first attempt is still running is retried
  later.

Every log line of a message carries its correlation id (the `correlationId` message attribute,
else the event's own `correlationId`), so one request can be followed from the API through
SNS/EventBridge and SQS to this function.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from typing import Any

from handler_kit.errors import DomainError, InvalidInput
from handler_kit.observability import correlate, count, instrumented, logger

CORRELATION_ATTRIBUTE = "correlationId"
REASON_ATTRIBUTE = "reason"
# SQS message attribute values are limited; a reason is a sentence, never a stack trace.
MAX_REASON = 500


@dataclasses.dataclass(frozen=True)
class Message:
    """One event taken from a queue message: its type, payload, idempotency key and
    correlation id."""

    event_type: str
    payload: dict
    event_id: str
    correlation_id: str | None

    @classmethod
    def of_sns(cls, record: dict) -> Message:
        """An SNS message delivered raw (RawMessageDelivery): the body is the event, the
        `eventType` and `correlationId` message attributes came with it."""
        payload = _json_object(record.get("body"))
        attributes = _attributes(record)
        event_type = attributes.get("eventType") or payload.get("eventType")
        return cls._of(event_type, payload, attributes.get(CORRELATION_ATTRIBUTE))

    @classmethod
    def of_kinesis(cls, record: dict) -> Message:
        """A Kinesis record whose data is a JSON event (it names its own type and correlation)."""
        import base64

        kinesis = record.get("kinesis")
        data = kinesis.get("data") if isinstance(kinesis, dict) else None
        try:
            text = base64.b64decode(data, validate=True).decode("utf-8") if data else None
        except ValueError:
            raise InvalidInput("the record's data is not base64-encoded UTF-8") from None
        payload = _json_object(text)
        return cls._of(payload.get("eventType"), payload, None)

    @classmethod
    def of_eventbridge(cls, record: dict) -> Message:
        """An EventBridge event a rule sent to the queue: `detail-type` names it, `detail` is it."""
        envelope = _json_object(record.get("body"))
        detail = envelope.get("detail")
        if not isinstance(detail, dict):
            raise InvalidInput("the EventBridge event has no detail object")
        return cls._of(envelope.get("detail-type"), detail, None)

    @classmethod
    def _of(cls, event_type: Any, payload: dict, correlation_id: Any) -> Message:
        if not isinstance(event_type, str) or not event_type:
            raise InvalidInput("the message names no eventType")
        event_id = payload.get("eventId")
        if not isinstance(event_id, str) or not event_id:
            raise InvalidInput("the event has no eventId")
        if not isinstance(correlation_id, str) or not correlation_id:
            correlation_id = payload.get("correlationId")
        return cls(
            event_type=event_type,
            payload=payload,
            event_id=event_id,
            correlation_id=correlation_id if isinstance(correlation_id, str) else None,
        )


def _json_object(body: Any) -> dict:
    if not isinstance(body, str):
        raise InvalidInput("the message body is not text")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidInput("the message body is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidInput("the message body is not a JSON object")
    return value


def _attributes(record: dict) -> dict[str, str]:
    attributes = record.get("messageAttributes")
    if not isinstance(attributes, dict):
        return {}
    return {
        name: value["stringValue"]
        for name, value in attributes.items()
        if isinstance(value, dict) and isinstance(value.get("stringValue"), str)
    }


def correlation_of(record: Any) -> str | None:
    """The correlation id of an SQS record, from its attributes, without parsing the body."""
    if not isinstance(record, dict):
        return None
    message_id = record.get("messageId")
    return _attributes(record).get(CORRELATION_ATTRIBUTE) or (
        message_id if isinstance(message_id, str) else None
    )


@functools.cache
def _sqs():
    import boto3

    return boto3.client("sqs")


class QueueConsumer:
    """The Lambda handler of one SQS event source: see the module's docstring."""

    def __init__(
        self,
        *,
        read: Callable[[dict], Message | None],
        process: Callable[[Message], None],
        dead_letters: Callable[[], str],
        idempotency_table: Callable[[], str],
        remember_seconds: Callable[[], int],
        stream: bool = False,
    ) -> None:
        """`stream`: the records are a Kinesis stream's (a failure names its sequence number,
        and `dead_letters` is the mapping's on-failure queue), else an SQS queue's."""
        self.read = read
        self.stream = stream
        self.process = process
        self.dead_letters = dead_letters
        self.idempotency_table = idempotency_table
        self.remember_seconds = remember_seconds
        self.handler = instrumented(self._handle, correlation_id=_first_correlation)

    @functools.cached_property
    def _once(self) -> tuple[Callable[..., Any], Any]:
        """`process`, run at most once per event id (made on first use: the persistence layer
        makes its DynamoDB client when it is created)."""
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        config = IdempotencyConfig(
            event_key_jmespath="eventId", expires_after_seconds=self.remember_seconds()
        )
        persistence = DynamoDBPersistenceLayer(table_name=self.idempotency_table())

        @idempotent_function(
            data_keyword_argument="event", config=config, persistence_store=persistence
        )
        def once(*, event: dict, message: Message) -> dict:
            self.process(message)
            count("MessagesProcessed")
            return {"eventId": event["eventId"]}

        return once, config

    def _handle(self, event: Any, context: Any) -> dict:
        records = event.get("Records") if isinstance(event, dict) else None
        failures = []
        once, config = self._once
        config.register_lambda_context(context)
        for record in records if isinstance(records, list) else []:
            if not isinstance(record, dict):
                continue
            correlate(correlation_of(record))
            try:
                message = self.read(record)
                if message is None:
                    continue
                correlate(message.correlation_id)
                once(event={"eventId": message.event_id}, message=message)
            except DomainError as error:
                try:
                    self._park(record, error.message)
                except Exception:  # noqa: BLE001 (not parked: retried, never dropped)
                    logger.exception("could not park the message; SQS retries it")
                    failures.append({"itemIdentifier": self._item(record)})
            except Exception as error:  # noqa: BLE001 (anything else is worth a retry)
                from aws_lambda_powertools.utilities.idempotency.exceptions import (
                    IdempotencyAlreadyInProgressError,
                )

                if isinstance(error, IdempotencyAlreadyInProgressError):
                    logger.info("message in progress elsewhere; retried later")
                else:
                    logger.exception("message failed; SQS retries it")
                count("MessagesFailed")
                failures.append({"itemIdentifier": self._item(record)})
        correlate(None)
        return {"batchItemFailures": failures}

    def _item(self, record: dict) -> str:
        if self.stream:
            kinesis = record.get("kinesis")
            return str(kinesis.get("sequenceNumber", "")) if isinstance(kinesis, dict) else ""
        return str(record.get("messageId", ""))

    def _park(self, record: dict, reason: str) -> None:
        """A poison message goes to the dead-letter queue with its reason, and leaves the batch
        as done (if parking itself fails, the message is retried instead: never lost)."""
        logger.warning("poison message parked in the dead-letter queue", extra={"reason": reason})
        attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in _attributes(record).items()
        }
        attributes[REASON_ATTRIBUTE] = {"DataType": "String", "StringValue": reason[:MAX_REASON]}
        body = record.get("body")
        if self.stream:
            kinesis = record.get("kinesis") if isinstance(record.get("kinesis"), dict) else {}
            body = json.dumps(
                {
                    "eventSourceARN": record.get("eventSourceARN"),
                    "sequenceNumber": kinesis.get("sequenceNumber"),
                    "partitionKey": kinesis.get("partitionKey"),
                    "data": kinesis.get("data"),
                }
            )
        _sqs().send_message(
            QueueUrl=self.dead_letters(),
            MessageBody=body if isinstance(body, str) and body else "(empty body)",
            MessageAttributes=attributes,
        )
        count("MessagesParked")


def _first_correlation(event: Any) -> str | None:
    records = event.get("Records") if isinstance(event, dict) else None
    return correlation_of(records[0]) if isinstance(records, list) and records else None
