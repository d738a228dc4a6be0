"""What Orders decides: an order is accepted whole or refused whole, and is written once."""

from __future__ import annotations

import datetime
import uuid

import config
import store
from handler_kit.errors import Conflict, NotFound


def place(customer_id: str, items: list[dict], *, correlation: str | None) -> dict:
    lines: dict[str, int] = {}
    for item in items:  # one line per SKU: the same SKU twice is one larger line
        lines[item["sku"]] = lines.get(item["sku"], 0) + int(item["quantity"])
    if config.settings().inventory_url:
        short = [sku for sku, quantity in lines.items() if store.available(sku) < quantity]
        if short:
            raise Conflict(f"not enough stock of: {', '.join(short)}", code="OutOfStock")
    order = {
        "orderId": uuid.uuid4().hex,
        "customerId": customer_id,
        "items": [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()],
        "status": "PLACED",
        "placedAt": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    store.put_new(order, correlation_id=correlation)
    return order


def get(order_id: str) -> dict:
    order = store.get(order_id)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order
