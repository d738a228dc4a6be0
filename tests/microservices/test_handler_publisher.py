"""Orders' publisher: a new order's stream record becomes one OrderPlaced event on SNS (with the
eventType and correlationId attributes subscribers filter and trace on) and on the event bus;
the event satisfies its contract; a retry makes the same event; a failure is reported by
sequence number so only it and the records after it are retried."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.microservices.shop import LAYERS, REQUEST_ID, assert_valid_event, queue, received
from tests.support.wiring import LambdaContext, fresh, load_function

ORDER = {
    "orderId": {"S": "b" * 32},
    "customerId": {"S": "customer-1"},
    "items": {"L": [{"M": {"sku": {"S": "BOOK-1"}, "quantity": {"N": "2"}}}]},
    "status": {"S": "PLACED"},
    "placedAt": {"S": "2026-12-01T10:00:00.000000Z"},
    "correlationId": {"S": REQUEST_ID},
}


def stream_event(*images: dict) -> dict:
    return {
        "Records": [
            {
                "eventName": "INSERT",
                "dynamodb": {"NewImage": image, "SequenceNumber": str(100 + index)},
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/o/stream/x",
            }
            for index, image in enumerate(images)
        ]
    }


@pytest.fixture(scope="module")
def module():
    # What its construct sets (blueprints/microservices/orders.py): no TABLE_NAME, which the
    # publisher never reads; a config that required it failed every init in Lambda.
    environment = {
        "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:shop-events",
        "EVENT_BUS_NAME": "arn:aws:events:us-east-1:123456789012:event-bus/shop",
    }
    return load_function("orders", "publisher", layers=LAYERS, environment=environment)


@pytest.fixture
def shop(aws, module, monkeypatch):
    """The bus stack's topic and bus, each followed by a queue to read what was published."""
    sns, sqs, events = boto3.client("sns"), boto3.client("sqs"), boto3.client("events")
    topic = sns.create_topic(Name="shop-events")["TopicArn"]
    topic_queue = queue("from-topic")
    topic_queue_arn = sqs.get_queue_attributes(QueueUrl=topic_queue, AttributeNames=["QueueArn"])
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=topic_queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    bus = events.create_event_bus(Name="shop")["EventBusArn"]
    bus_queue = queue("from-bus")
    events.put_rule(Name="all", EventBusName="shop", EventPattern='{"source": ["shop.orders"]}')
    events.put_targets(
        Rule="all",
        EventBusName="shop",
        Targets=[{"Id": "q", "Arn": "arn:aws:sqs:us-east-1:123456789012:from-bus"}],
    )
    environment = {"TOPIC_ARN": topic, "EVENT_BUS_NAME": bus}
    fresh(module, monkeypatch, environment)
    return {"topic": topic_queue, "bus": bus_queue, "module": module}


def test_a_new_order_becomes_one_orderplaced_event_on_the_topic_and_the_bus(shop):
    answer = shop["module"].handler(stream_event(ORDER), LambdaContext("publisher"))
    assert answer == {"batchItemFailures": []}
    (message,) = received(shop["topic"])
    event = json.loads(message["Body"])
    assert_valid_event(event)
    assert event["eventType"] == "OrderPlaced" and event["eventId"] == "b" * 32
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {"eventType": "OrderPlaced", "correlationId": REQUEST_ID}
    (from_bus,) = received(shop["bus"])
    envelope = json.loads(from_bus["Body"])
    assert envelope["detail-type"] == "OrderPlaced" and envelope["source"] == "shop.orders"
    assert envelope["detail"] == event


def test_a_retry_publishes_the_same_event(shop):
    shop["module"].handler(stream_event(ORDER), LambdaContext("publisher"))
    shop["module"].handler(stream_event(ORDER), LambdaContext("publisher"))
    first, second = (json.loads(m["Body"]) for m in received(shop["topic"]))
    assert first == second, "consumers drop the repeat by its eventId"


def test_a_record_that_cannot_be_published_is_reported_with_the_rest_of_the_batch(shop):
    broken = {**ORDER, "items": {"L": []}}  # breaks the contract: no lines
    answer = shop["module"].handler(stream_event(ORDER, broken, ORDER), LambdaContext("p"))
    assert answer == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    assert len(received(shop["topic"])) == 1, "the record before the failure was published"
