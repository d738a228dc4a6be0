"""What the shop's handler tests share: moto resources as the stacks make them, the events the
services exchange, and an independent check of an event against its contract (jsonschema's
draft-4 validator, not the handlers' own handler_kit.schema)."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import jsonschema

from tests.support.apigateway import rest_api_event
from tests.support.synth import REPO_ROOT

CONTRACTS = REPO_ROOT / "lambda_src" / "layers" / "shop_contracts" / "shop_contracts"
LAYERS = ("shop_contracts",)
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"  # tests.support.apigateway's request id


def contract(name: str) -> dict:
    return json.loads((CONTRACTS / "events" / f"{name}.json").read_text())


def assert_valid_event(event: dict) -> None:
    """`event` satisfies its own type's JSON Schema (checked by jsonschema, draft 4)."""
    jsonschema.Draft4Validator(contract(event["eventType"])).validate(event)


def table(name: str, key: str, *, stream: bool = False) -> None:
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **(
            {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}}
            if stream
            else {}
        ),
    )


def queue(name: str) -> str:
    return boto3.client("sqs").create_queue(QueueName=name)["QueueUrl"]


def received(url: str, max_messages: int = 10) -> list[dict]:
    """Every message waiting in the queue (with all attributes)."""
    answer = boto3.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=max_messages, MessageAttributeNames=["All"]
    )
    return answer.get("Messages", [])


def as_record(message: dict, queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:q") -> dict:
    """An SQS message (as ReceiveMessage returns it) as the SQS event source delivers it."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {},
        "messageAttributes": {
            name: {"stringValue": value["StringValue"], "dataType": value["DataType"]}
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
    }


def sqs_record(body: Any, *, attributes: dict[str, str] | None = None, message_id="m-1") -> dict:
    return {
        "messageId": message_id,
        "receiptHandle": "handle",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {},
        "messageAttributes": {
            name: {"stringValue": value, "dataType": "String"}
            for name, value in (attributes or {}).items()
        },
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
    }


def sqs_event(*records: dict) -> dict:
    return {"Records": list(records)}


def eventbridge_body(event: dict, detail_type: str | None = None) -> dict:
    """What an EventBridge rule delivers to an SQS target: the whole event, `detail` = ours."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type or event["eventType"],
        "source": "shop.orders",
        "account": "123456789012",
        "time": "2026-12-01T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": event,
    }


def kinesis_record(
    event: Any, sequence: str = "49590338271490256608559692538361571095921575989136588898"
) -> dict:
    data = event if isinstance(event, str) else json.dumps(event)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "p",
            "sequenceNumber": sequence,
            "data": base64.b64encode(data.encode()).decode(),
            "approximateArrivalTimestamp": 1764583200.0,
        },
        "eventSource": "aws:kinesis",
        "eventID": f"shardId-000000000000:{sequence}",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/activity",
    }


def order_placed(order_id: str = "a" * 32, **changes: Any) -> dict:
    return {
        "eventType": "OrderPlaced",
        "eventId": order_id,
        "correlationId": REQUEST_ID,
        "occurredAt": "2026-12-01T10:00:00.000000Z",
        "orderId": order_id,
        "customerId": "customer-1",
        "items": [{"sku": "BOOK-1", "quantity": 2}, {"sku": "PEN-7", "quantity": 1}],
        **changes,
    }


def api_call(method: str, path: str, *, body: Any = None, headers: dict | None = None) -> dict:
    """An API Gateway proxy event for the Orders API (IAM-authorized: no claims)."""
    resource = "/orders/{orderId}" if path.count("/") == 2 else "/orders"
    return rest_api_event(
        method,
        path,
        resource=resource,
        path_parameters={"orderId": path.split("/")[2]} if path.count("/") == 2 else None,
        headers={"Content-Type": "application/json", **(headers or {})},
        body=body,
    )
