"""Orders' data access: the orders table, and Inventory's stock API (SigV4-signed HTTPS).
Clients are made on first use."""

from __future__ import annotations

import functools
import json
import urllib.error
import urllib.parse
import urllib.request

import config

ORDER_FIELDS = ("orderId", "customerId", "items", "status", "placedAt")
HTTP_TIMEOUT_SECONDS = 3


@functools.cache
def _table():
    import boto3

    return boto3.resource("dynamodb").Table(config.settings().table_name)


def put_new(order: dict, *, correlation_id: str | None) -> None:
    """Write `order` once (a conditional put); its correlation id is stored with it, so the
    stream's publisher carries it on to the OrderPlaced event."""
    item = {**order, "correlationId": correlation_id or order["orderId"]}
    _table().put_item(Item=item, ConditionExpression="attribute_not_exists(orderId)")


def get(order_id: str) -> dict | None:
    item = _table().get_item(Key={"orderId": order_id}).get("Item")
    if item is None:
        return None
    order = {name: item[name] for name in ORDER_FIELDS}
    order["items"] = [{"sku": i["sku"], "quantity": int(i["quantity"])} for i in order["items"]]
    return order


@functools.cache
def _credentials():
    import boto3

    session = boto3.Session()
    return session, session.region_name


def available(sku: str) -> int:
    """Inventory's count of `sku`, asked with a SigV4-signed GET (IAM auth on the HTTP API:
    this function's role may invoke exactly that route)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    url = config.settings().inventory_url + "stock/" + urllib.parse.quote(sku, safe="")
    session, region = _credentials()
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(session.get_credentials().get_frozen_credentials(), "execute-api", region).add_auth(
        request
    )
    prepared = urllib.request.Request(url, headers=dict(request.headers), method="GET")
    try:
        with urllib.request.urlopen(prepared, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310
            return int(json.loads(response.read())["available"])
    except (urllib.error.URLError, ValueError, KeyError, TypeError) as error:
        # Whatever went wrong on the way to Inventory, a retry may succeed: the caller gets a
        # 503 with Retry-After (handler_kit.rest), never a 500.
        raise ConnectionError(f"Inventory's stock API failed: {error}") from error
