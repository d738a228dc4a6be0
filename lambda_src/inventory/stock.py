"""What Inventory decides: an order is reserved whole or not at all, once; a stock file sets
the available counts it lists; demand counts what was ordered."""

from __future__ import annotations

import json
import uuid

import store
from handler_kit.errors import InvalidInput, TooLarge
from shop_contracts import check_event
from shop_contracts.events import new_event

# Derived event ids: a retried reservation makes the same outcome event (consumers drop repeats).
_OUTCOMES = uuid.UUID("6f1c1f1e-8a5e-4a59-9f55-3d1d2a0f7a11")


def reserve(order: dict) -> dict:
    """Reserve every line of an OrderPlaced event, then announce the outcome (StockReserved
    or StockShortage) on the topic; returns that event."""
    check_event("OrderPlaced", order)
    lines = {item["sku"]: item["quantity"] for item in order["items"]}
    short = store.reserve(order["orderId"], lines)
    if short is None:
        outcome = new_event(
            "StockReserved",
            order["correlationId"],
            event_id=uuid.uuid5(_OUTCOMES, f"reserved:{order['orderId']}").hex,
            orderId=order["orderId"],
            items=order["items"],
        )
    else:
        outcome = new_event(
            "StockShortage",
            order["correlationId"],
            event_id=uuid.uuid5(_OUTCOMES, f"shortage:{order['orderId']}").hex,
            orderId=order["orderId"],
            shortages=[
                {"sku": sku, "requested": lines[sku], "available": available}
                for sku, available in sorted(short.items())
            ],
        )
    store.publish(outcome)
    return outcome


def import_file(bucket: str, key: str, max_bytes: int) -> int:
    """Set the available count of each SKU a stock file lists; returns how many it listed."""
    raw = store.read_object(bucket, key, max_bytes)
    if raw is None:
        raise TooLarge(f"s3://{bucket}/{key} is larger than {max_bytes} bytes")
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidInput(f"s3://{bucket}/{key} is not JSON") from None
    check_event("StockImport", document)
    levels = {item["sku"]: item["available"] for item in document["items"]}
    store.set_levels(levels)
    return len(levels)


def count_demand(order: dict) -> None:
    check_event("OrderPlaced", order)
    store.add_demand({item["sku"]: item["quantity"] for item in order["items"]})
