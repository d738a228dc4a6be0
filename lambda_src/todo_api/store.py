"""Data access for the to-dos: the one table (userId, todoId), through DAX when the function is
given DAX_ENDPOINT (the dynamodb_client layer), else DynamoDB. Only I/O here: what to store and
what a failed condition means is the logic's business (todos.py).

The table is made on the first call that needs it and kept for the life of the execution
environment. DynamoDB/DAX failures other than a failed condition propagate: the REST kit maps
them (503 + Retry-After for throttling and timeouts, 500 otherwise).
"""

from __future__ import annotations

import functools
from typing import Any

import config
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from dynamodb_client import dynamodb_resource
from handler_kit.item_updates import condition_failed, update_expression


def table():
    return _table(config.settings().table_name)


@functools.cache
def _table(name: str):
    return dynamodb_resource().Table(name)


def page(user: str, *, limit: int, after: str | None, consistent: bool) -> tuple[list, str | None]:
    """One page of the user's items in todoId order, and the todoId the next page starts after."""
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("userId").eq(user),
        "Limit": limit,
        "ConsistentRead": consistent,
    }
    if after is not None:
        query["ExclusiveStartKey"] = {"userId": user, "todoId": after}
    found = table().query(**query)
    last = found.get("LastEvaluatedKey")
    return found.get("Items", []), (last["todoId"] if last else None)


def get(user: str, todo_id: str, *, consistent: bool) -> dict | None:
    key = {"userId": user, "todoId": todo_id}
    return table().get_item(Key=key, ConsistentRead=consistent).get("Item")


def put_new(item: dict) -> bool:
    """Store `item` unless its key exists; False if it does (nothing is overwritten)."""
    try:
        table().put_item(Item=item, ConditionExpression="attribute_not_exists(todoId)")
    except ClientError as err:
        if condition_failed(err):
            return False
        raise
    return True


def update_if_version(
    user: str, todo_id: str, *, expected: int, changes: dict[str, Any], updated_at: str
) -> dict | None:
    """Apply `changes` (None removes a field) and bump the version, only if the item exists at
    version `expected`; the new item, or None if the condition failed."""
    names = {"#version": "version", "#updatedAt": "updatedAt"}
    values: dict[str, Any] = {":expected": expected, ":one": 1, ":updatedAt": updated_at}
    sets = ["#version = #version + :one", "#updatedAt = :updatedAt"]
    expression = update_expression(changes, sets=sets, names=names, values=values)
    try:
        return table().update_item(
            Key={"userId": user, "todoId": todo_id},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(todoId) AND #version = :expected",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as err:
        if condition_failed(err):
            return None
        raise


def delete(user: str, todo_id: str) -> bool:
    """Delete the item if it exists; False if there was none."""
    try:
        table().delete_item(
            Key={"userId": user, "todoId": todo_id}, ConditionExpression="attribute_exists(todoId)"
        )
    except ClientError as err:
        if condition_failed(err):
            return False
        raise
    return True
