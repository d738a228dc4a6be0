"""What Notifications decides: which events become which notice."""

from __future__ import annotations

import store
from handler_kit.errors import InvalidInput
from shop_contracts import check_event

SUBJECTS = {
    "OrderPlaced": "We have your order {orderId}",
    "StockShortage": "Part of order {orderId} is out of stock",
}


def record(event_type: str, event: dict) -> dict:
    if event_type not in SUBJECTS:
        raise InvalidInput(f"no notice for {event_type} events; notices: {', '.join(SUBJECTS)}")
    check_event(event_type, event)
    notice = {
        "notificationId": event["eventId"],
        "orderId": event["orderId"],
        "kind": event_type,
        "subject": SUBJECTS[event_type].format(orderId=event["orderId"]),
        "correlationId": event["correlationId"],
        "occurredAt": event["occurredAt"],
    }
    if "customerId" in event:
        notice["customerId"] = event["customerId"]
    store.put(notice)
    return notice
