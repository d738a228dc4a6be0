"""One request followed across the hops, in moto: the API call's request id is the correlation
id of the stored order, the published event and its SNS message attribute, the SQS message the
filtered subscription delivers (raw: the attributes ride along), and every log line the
Notifications consumer writes for it, down to the notice it records."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.microservices.shop import LAYERS, REQUEST_ID, api_call, as_record, queue, received, table
from tests.support.wiring import LambdaContext, fresh, load_function

ORDERS_ENV = {"TABLE_NAME": "orders"}
NOTIFY_ENV = {
    "TABLE_NAME": "notifications",
    "IDEMPOTENCY_TABLE": "idempotency",
    "IDEMPOTENCY_SECONDS": "3600",
    "DEAD_LETTER_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
}


@pytest.fixture(scope="module")
def hops():
    return {
        "api": load_function("orders", layers=LAYERS, environment=ORDERS_ENV),
        "publisher": load_function("orders", "publisher", layers=LAYERS, environment=ORDERS_ENV),
        "notify": load_function("notifications", layers=LAYERS, environment=NOTIFY_ENV),
    }


def test_one_request_can_be_followed_from_the_api_to_the_notice(aws, hops, monkeypatch, capsys):
    table("orders", "orderId", stream=True)
    table("notifications", "notificationId")
    table("idempotency", "id")
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="shop-events")["TopicArn"]
    inbox = queue("notify")
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint="arn:aws:sqs:us-east-1:123456789012:notify",
        Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicy": json.dumps({"eventType": ["OrderPlaced", "StockShortage"]}),
        },
    )
    bus = boto3.client("events").create_event_bus(Name="shop")["EventBusArn"]
    dlq = queue("dlq")

    # 1. the API call
    fresh(hops["api"], monkeypatch, ORDERS_ENV)
    answer = hops["api"].handler(
        api_call(
            "POST", "/orders", body={"customerId": "c-1", "items": [{"sku": "A", "quantity": 1}]}
        ),
        LambdaContext("orders"),
    )
    assert answer["statusCode"] == 201

    # 2. the table's stream -> the publisher (the record as the stream delivers it)
    # (moto has no stream reader: the record is the stored item in the stream's own format)
    (item,) = boto3.client("dynamodb").scan(TableName="orders")["Items"]  # DynamoDB JSON
    records = [{"eventName": "INSERT", "dynamodb": {"NewImage": item, "SequenceNumber": "1"}}]
    fresh(hops["publisher"], monkeypatch, {**ORDERS_ENV, "TOPIC_ARN": topic, "EVENT_BUS_NAME": bus})
    assert hops["publisher"].handler({"Records": records}, LambdaContext("p")) == {
        "batchItemFailures": []
    }

    # 3. SNS -> the filtered subscription -> SQS (raw delivery keeps the attributes)
    (message,) = received(inbox)
    assert message["MessageAttributes"]["correlationId"]["StringValue"] == REQUEST_ID

    # 4. SQS -> Notifications
    capsys.readouterr()
    fresh(hops["notify"], monkeypatch, {**NOTIFY_ENV, "DEAD_LETTER_URL": dlq})
    result = hops["notify"].handler({"Records": [as_record(message)]}, LambdaContext("notify"))
    assert result == {"batchItemFailures": []}
    (notice,) = boto3.resource("dynamodb").Table("notifications").scan()["Items"]
    assert notice["correlationId"] == REQUEST_ID
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    logged = [line for line in lines if "correlation_id" in line]
    assert logged and all(line["correlation_id"] == REQUEST_ID for line in logged)
