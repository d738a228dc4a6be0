"""Orders' publisher: the orders table's stream (new orders only, filtered by the event source
mapping) becomes OrderPlaced events on the shop's SNS topic, its EventBridge bus and, when on,
the order-activity Kinesis stream.

Why a stream and not the API: the order and its event cannot disagree. The API only writes the
order (a client's retry can never publish twice or lose the event); the stream delivers every
new order at least once, in order per key, retrying with bisection and parking what still
fails (patterns/events/stream_consumer.py). The event id is derived from the order id, so a
repeated publish is the same event and consumers drop it (handler_kit.messages).
"""

from __future__ import annotations

import functools
import json

import config
from handler_kit.observability import correlate, count, first_record, instrumented, logger, path
from shop_contracts.events import SOURCES, new_event, sns_attributes


@functools.cache
def _client(service: str):
    import boto3

    return boto3.client(service)


def _plain(image: dict) -> dict:
    from boto3.dynamodb.types import TypeDeserializer

    deserialize = TypeDeserializer().deserialize
    return {name: deserialize(value) for name, value in image.items()}


def order_placed(order: dict) -> dict:
    """The OrderPlaced event of a stored order (the same event each time it is made)."""
    return new_event(
        "OrderPlaced",
        order.get("correlationId"),
        event_id=order["orderId"],
        occurred_at=order["placedAt"],
        orderId=order["orderId"],
        customerId=order["customerId"],
        items=[{"sku": i["sku"], "quantity": int(i["quantity"])} for i in order["items"]],
    )


def publish(event: dict) -> None:
    settings = config.settings()
    body = json.dumps(event, separators=(",", ":"))
    _client("sns").publish(
        TopicArn=settings.topic_arn, Message=body, MessageAttributes=sns_attributes(event)
    )
    answer = _client("events").put_events(
        Entries=[
            {
                "EventBusName": settings.event_bus_name,
                "Source": SOURCES[event["eventType"]],
                "DetailType": event["eventType"],
                "Detail": body,
            }
        ]
    )
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge refused the event: {answer['Entries']}")
    if settings.stream_name:
        _client("kinesis").put_record(
            StreamName=settings.stream_name, Data=body.encode(), PartitionKey=event["orderId"]
        )


config.settings()


@instrumented(correlation_id=first_record(path("dynamodb", "NewImage", "correlationId", "S")))
def handler(event: dict, _context) -> dict:
    failures = []
    for record in event.get("Records", []):
        sequence = record.get("dynamodb", {}).get("SequenceNumber", "")
        try:
            order = _plain(record["dynamodb"]["NewImage"])
            correlate(order.get("correlationId"))
            publish(order_placed(order))
            count("EventsPublished")
        except Exception:  # noqa: BLE001 (retried from here by the mapping, then parked)
            logger.exception("could not publish an order's event")
            failures.append({"itemIdentifier": sequence})
            break  # a stream is ordered: the records after a failure are retried with it
    return {"batchItemFailures": failures}
