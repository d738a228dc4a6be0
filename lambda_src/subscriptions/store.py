"""Data access for subscriptions: the subscribers table, and nothing else. Only I/O here.

Items: a subscriber `pk=SUBSCRIBER#<address>, sk=SUBSCRIBER` (status `pending` until its link is
used, then `confirmed`; a pending one carries `expiresAt`, the table's TTL attribute, so an
address nobody confirms is forgotten), and a request count `pk=RATE#<source>, sk=WINDOW#<hour>`
(expires with its hour, also by TTL). The table is made by the first request that needs it.
Failures other than a failed condition propagate: the REST kit maps them (503 + Retry-After for
throttling and timeouts, 500 otherwise).
"""

from __future__ import annotations

import functools

import boto3
import config
from botocore.exceptions import ClientError

SUBSCRIBER_PREFIX = "SUBSCRIBER#"
SUBSCRIBER_SORT_KEY = "SUBSCRIBER"


def key(email: str) -> dict:
    return {"pk": SUBSCRIBER_PREFIX + email, "sk": SUBSCRIBER_SORT_KEY}


def table():
    return _table(config.settings().table_name)


@functools.cache
def _table(name: str):
    return boto3.resource("dynamodb").Table(name)


def _failed_condition(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def count_request(source: str, window: str, limit: int, expires_at: int) -> bool:
    """Count one request of `source` in `window`; False (nothing counted) if it has had `limit`."""
    try:
        table().update_item(
            Key={"pk": f"RATE#{source}", "sk": f"WINDOW#{window}"},
            UpdateExpression="ADD hits :one SET expiresAt = :expires",
            ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
            ExpressionAttributeValues={":one": 1, ":limit": limit, ":expires": expires_at},
        )
    except ClientError as err:
        if _failed_condition(err):
            return False
        raise
    return True


def put_pending(item: dict, now: int) -> bool:
    """Store a pending subscriber unless the address is subscribed or waits for an unexpired
    link; False if so (nothing is written)."""
    try:
        table().put_item(
            Item=item,
            ConditionExpression="attribute_not_exists(pk) OR (#status = :pending AND "
            "expiresAt <= :now)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":pending": "pending", ":now": now},
        )
    except ClientError as err:
        if _failed_condition(err):
            return False
        raise
    return True


def confirm(email: str, confirmed_at: str, now: int) -> str:
    """Mark a pending, unexpired subscriber confirmed (the welcome mail follows from the
    stream): "confirmed"; "already" if it was confirmed before (nothing written); "none" if no
    subscription waits (never asked, unsubscribed, or its link expired)."""
    try:
        table().update_item(
            Key=key(email),
            UpdateExpression="SET #status = :confirmed, confirmedAt = :at REMOVE expiresAt",
            ConditionExpression="#status = :pending AND expiresAt > :now",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":confirmed": "confirmed",
                ":pending": "pending",
                ":at": confirmed_at,
                ":now": now,
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as err:
        if _failed_condition(err):
            old = err.response.get("Item") or {}  # low-level: {"status": {"S": "..."}}
            return "already" if old.get("status") == {"S": "confirmed"} else "none"
        raise
    return "confirmed"


def delete(email: str) -> None:
    """Forget the address (whatever its status; nothing if it is not there)."""
    table().delete_item(Key=key(email))
