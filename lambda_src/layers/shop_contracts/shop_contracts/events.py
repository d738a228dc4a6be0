"""Making the shop's events: every event a function emits is made here and checked against its
contract before it leaves, so an emitter cannot send what its consumers would refuse.

    event = new_event("OrderPlaced", correlation_id, orderId=..., customerId=..., items=[...])
    sns.publish(TopicArn=..., Message=json.dumps(event), MessageAttributes=sns_attributes(event))
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from shop_contracts import CORRELATION_ATTRIBUTE, EVENT_TYPE_ATTRIBUTE, check_event

# EventBridge `source` of the events Orders and Inventory put on the bus.
SOURCES = {"OrderPlaced": "shop.orders", "StockReserved": "shop.inventory"}
# What a correlation id may be (the API Gateway request id is a UUID); anything else is replaced.
_CORRELATION_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")


def correlation_id(value: Any) -> str:
    """`value` if it is a usable correlation id, else a new one (never refuse work for it)."""
    if isinstance(value, str) and 0 < len(value) <= 128 and set(value) <= _CORRELATION_CHARS:
        return value
    return uuid.uuid4().hex


def new_event(
    event_type: str,
    correlation: str,
    *,
    event_id: str | None = None,
    occurred_at: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """An event of `event_type`, checked against events/<event_type>.json (InvalidInput if it
    breaks it). `event_id` defaults to a new one; give a derived one where a retry must make the
    same event (the same order, the same outcome)."""
    event = {
        "eventType": event_type,
        "eventId": event_id or uuid.uuid4().hex,
        "correlationId": correlation_id(correlation),
        "occurredAt": occurred_at
        or datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        **fields,
    }
    return check_event(event_type, event)


def sns_attributes(event: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The SNS message attributes of `event`: filter policies read eventType; correlationId
    rides along to every subscriber (raw delivery makes them SQS message attributes)."""
    return {
        EVENT_TYPE_ATTRIBUTE: {"DataType": "String", "StringValue": event["eventType"]},
        CORRELATION_ATTRIBUTE: {"DataType": "String", "StringValue": event["correlationId"]},
    }
