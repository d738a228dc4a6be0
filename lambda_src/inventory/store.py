"""Inventory's data access: the stock table (one item per SKU, one per reservation), the
shop's SNS topic and the stock-file bucket. Clients are made on first use."""

from __future__ import annotations

import functools
import json

import config
from shop_contracts.events import sns_attributes


@functools.cache
def _client(service: str):
    import boto3

    return boto3.client(service)


def _table_name() -> str:
    return config.settings().stock_table


def sku_key(sku: str) -> dict:
    return {"pk": {"S": f"SKU#{sku}"}}


def reservation_key(order_id: str) -> dict:
    return {"pk": {"S": f"ORDER#{order_id}"}}


def reserve(order_id: str, lines: dict[str, int]) -> dict[str, int] | None:
    """Take every line's quantity off its SKU and record the reservation, in one transaction:
    None when reserved (now or by an earlier attempt), else {sku: available} of the short
    lines (nothing changed)."""
    from botocore.exceptions import ClientError

    table = _table_name()
    skus = sorted(lines)
    actions = [
        {
            "Put": {
                "TableName": table,
                "Item": {**reservation_key(order_id), "lines": {"S": json.dumps(lines)}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    ] + [
        {
            "Update": {
                "TableName": table,
                "Key": sku_key(sku),
                "UpdateExpression": "SET available = available - :q",
                "ConditionExpression": "available >= :q",
                "ExpressionAttributeValues": {":q": {"N": str(lines[sku])}},
            }
        }
        for sku in skus
    ]
    try:
        _client("dynamodb").transact_write_items(TransactItems=actions)
        return None
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
        if not reasons or all(code in (None, "None") for code in reasons):
            raise  # cancelled for another reason (a conflicting transaction): retry
        if reasons[0] == "ConditionalCheckFailed":
            return None  # reserved by an earlier attempt of this same order
        short = [
            sku
            for sku, code in zip(skus, reasons[1:], strict=False)
            if code == "ConditionalCheckFailed"
        ]
        if not short:
            raise
        return {sku: available(sku) for sku in short}


def available(sku: str) -> int:
    item = _client("dynamodb").get_item(TableName=_table_name(), Key=sku_key(sku)).get("Item")
    return int(item["available"]["N"]) if item and "available" in item else 0


def set_levels(levels: dict[str, int]) -> None:
    for sku, count in levels.items():
        _client("dynamodb").update_item(
            TableName=_table_name(),
            Key=sku_key(sku),
            UpdateExpression="SET available = :n",
            ExpressionAttributeValues={":n": {"N": str(count)}},
        )


def add_demand(lines: dict[str, int]) -> None:
    for sku, quantity in lines.items():
        _client("dynamodb").update_item(
            TableName=_table_name(),
            Key=sku_key(sku),
            UpdateExpression="ADD demanded :q",
            ExpressionAttributeValues={":q": {"N": str(quantity)}},
        )


def publish(event: dict) -> None:
    _client("sns").publish(
        TopicArn=config.settings().topic_arn,
        Message=json.dumps(event, separators=(",", ":")),
        MessageAttributes=sns_attributes(event),
    )


def read_object(bucket: str, key: str, max_bytes: int) -> bytes | None:
    """The object's bytes, or None when it is larger than `max_bytes` (not downloaded)."""
    answer = _client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes}")
    body = answer["Body"].read()
    return None if len(body) > max_bytes else body
