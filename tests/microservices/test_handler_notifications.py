"""Notifications against moto: one notice per event, a repeat dropped, an event the customer is
not told about (or one breaking its contract) parked with the reason."""

from __future__ import annotations

import boto3
import pytest

from tests.microservices.shop import (
    LAYERS,
    REQUEST_ID,
    order_placed,
    queue,
    received,
    sqs_event,
    sqs_record,
    table,
)
from tests.support.wiring import LambdaContext, fresh, load_function

BOOT = {
    "TABLE_NAME": "notifications",
    "IDEMPOTENCY_TABLE": "idempotency",
    "IDEMPOTENCY_SECONDS": "3600",
    "DEAD_LETTER_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
}


@pytest.fixture(scope="module")
def module():
    return load_function("notifications", layers=LAYERS, environment=BOOT)


@pytest.fixture
def notify(aws, module, monkeypatch):
    table("notifications", "notificationId")
    table("idempotency", "id")
    dlq = queue("dlq")
    fresh(module, monkeypatch, {**BOOT, "DEAD_LETTER_URL": dlq})
    handler = lambda *records: module.handler(sqs_event(*records), LambdaContext("notify"))  # noqa: E731
    handler.dlq = dlq
    handler.module = module
    return handler


def from_topic(event: dict, message_id: str = "m-1") -> dict:
    return sqs_record(
        event,
        attributes={"eventType": event["eventType"], "correlationId": event["correlationId"]},
        message_id=message_id,
    )


def notices() -> list[dict]:
    return boto3.resource("dynamodb").Table("notifications").scan()["Items"]


def test_an_order_becomes_one_notice_even_when_delivered_twice(notify, monkeypatch):
    writes = []
    real = notify.module.notices.store.put
    monkeypatch.setattr(notify.module.notices.store, "put", lambda n: (writes.append(n), real(n)))
    assert notify(from_topic(order_placed(), "m-1")) == {"batchItemFailures": []}
    assert notify(from_topic(order_placed(), "m-2")) == {"batchItemFailures": []}
    (notice,) = notices()
    assert len(writes) == 1, "the second delivery was dropped before any write"
    assert notice["kind"] == "OrderPlaced" and notice["correlationId"] == REQUEST_ID


def test_an_event_without_a_notice_is_parked_not_dropped(notify):
    event = {**order_placed(), "eventType": "StockReserved"}
    assert notify(from_topic(event)) == {"batchItemFailures": []}
    (message,) = received(notify.dlq)
    assert "no notice for StockReserved" in message["MessageAttributes"]["reason"]["StringValue"]
    assert message["MessageAttributes"]["correlationId"]["StringValue"] == REQUEST_ID
    assert notices() == []


def test_a_message_without_an_event_id_is_parked(notify):
    event = order_placed()
    del event["eventId"]
    notify(from_topic(event))
    (message,) = received(notify.dlq)
    assert "no eventId" in message["MessageAttributes"]["reason"]["StringValue"]
