"""Data access for ride requests: one table, partition key `userId` (the caller's Cognito `sub`),
sort key `requestId`. Only I/O here; what to store and what a failed condition means is the
logic's business (rides.py).

Every function takes the user first and puts it in the key: there is no call here that can
reach an item without naming its owner. (The function's role may read every item of the table;
this module, not IAM, keeps users apart. tests/serverless_web_app/test_wiring.py checks every
call the handler makes names the caller's own partition.)

The table is made on the first call that needs it. DynamoDB failures other than a failed
condition propagate: the REST kit maps them (503 + Retry-After for throttling, 500 otherwise).
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
import config
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from handler_kit.item_updates import condition_failed, update_expression

NEW_ITEM_ONLY = "attribute_not_exists(requestId)"


def table():
    return _table(config.settings().table_name)


@functools.cache
def _table(name: str):
    return boto3.resource("dynamodb").Table(name)


def put_new(item: dict) -> dict | None:
    """Store `item` unless its key exists: None if stored, else the item already there (read in
    the same call, so a retry of a create sees what the first attempt stored)."""
    try:
        table().put_item(
            Item=item,
            ConditionExpression=NEW_ITEM_ONLY,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as err:
        if condition_failed(err):
            return _unmarshalled(err.response.get("Item")) or get(item["userId"], item["requestId"])
        raise
    return None


def get(user: str, request_id: str) -> dict | None:
    key = {"userId": user, "requestId": request_id}
    return table().get_item(Key=key, ConsistentRead=True).get("Item")


def page(user: str, *, limit: int, after: str | None) -> tuple[list[dict], str | None]:
    """One page of the user's requests, newest key first, and the key the next page starts
    after."""
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("userId").eq(user),
        "Limit": limit,
        "ScanIndexForward": False,
    }
    if after is not None:
        query["ExclusiveStartKey"] = {"userId": user, "requestId": after}
    found = table().query(**query)
    last = found.get("LastEvaluatedKey")
    return found.get("Items", []), (last["requestId"] if last else None)


def update(user: str, request_id: str, *, changes: dict[str, Any], at: str) -> dict | None:
    """Apply `changes` (None removes a field) to the user's existing item; the new item, or None
    if the user has no such item."""
    names = {"#updatedAt": "updatedAt"}
    values: dict[str, Any] = {":updatedAt": at}
    sets = ["#updatedAt = :updatedAt"]
    expression = update_expression(changes, sets=sets, names=names, values=values)
    try:
        return table().update_item(
            Key={"userId": user, "requestId": request_id},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(requestId)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as err:
        if condition_failed(err):
            return None
        raise


def delete(user: str, request_id: str) -> bool:
    """Delete the user's item; False if there was none."""
    try:
        table().delete_item(
            Key={"userId": user, "requestId": request_id},
            ConditionExpression="attribute_exists(requestId)",
        )
    except ClientError as err:
        if condition_failed(err):
            return False
        raise
    return True


def _unmarshalled(item: dict | None) -> dict | None:
    """The low-level item a failed condition returns (`{"S": ...}` values), as the resource
    API's plain values."""
    if not item:
        return None
    from boto3.dynamodb.types import TypeDeserializer

    deserialize = TypeDeserializer().deserialize
    return {name: deserialize(value) for name, value in item.items()}
