"""Data access for the directory: one DynamoDB table and the photo bucket. Only I/O here; what to
store and what a failed condition means is directory.py's business.

The table (one schema for both stacks, blueprints/employee_directory/data.py):
    pk = EMPLOYEE#<employeeId>, sk = PROFILE      an employee; `listing` = EMPLOYEE and
                                                  `sortName` = <lower-case name>#<employeeId>
                                                  put it on the name index
    pk = PHOTO#<employeeId>,    sk = THUMBNAIL    written by the thumbnail function once the
                                                  employee's thumbnail exists

Each call is one request, so each Lambda function's role needs exactly the one action its
operation calls (the wiring tests run them under their template roles). Clients are made on
first use; DynamoDB/S3 failures other than a failed condition propagate (the REST kit maps them:
503 + Retry-After for throttling and timeouts, 500 otherwise).
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
import config
from boto3.dynamodb.conditions import Key
from botocore.config import Config
from botocore.exceptions import ClientError
from handler_kit.item_updates import condition_failed, update_expression

PROFILE = "PROFILE"
THUMBNAIL = "THUMBNAIL"
LISTING = "EMPLOYEE"


def employee_key(employee_id: str) -> dict:
    return {"pk": f"EMPLOYEE#{employee_id}", "sk": PROFILE}


def photo_key(employee_id: str) -> dict:
    return {"pk": f"PHOTO#{employee_id}", "sk": THUMBNAIL}


def table():
    return _table(config.settings().table_name)


@functools.cache
def _table(name: str):
    return boto3.resource("dynamodb").Table(name)


@functools.cache
def s3():
    """S3 at the region's own endpoint, virtual-hosted: pre-signed URLs name
    https://<bucket>.s3.<region>.amazonaws.com, which is what the site's content security policy
    and the bucket's CORS rule expect."""
    region = boto3.session.Session().region_name
    return boto3.client(
        "s3",
        region_name=region,
        endpoint_url=f"https://s3.{region}.amazonaws.com",
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )


# -- employees --------------------------------------------------------------------------------


def page(limit: int, after: dict | None) -> tuple[list[dict], dict | None]:
    """One page of employees in name order (the name index), and the key to continue after."""
    query: dict[str, Any] = {
        "IndexName": config.settings().name_index,
        "KeyConditionExpression": Key("listing").eq(LISTING),
        "Limit": limit,
    }
    if after is not None:
        query["ExclusiveStartKey"] = after
    found = table().query(**query)
    return found.get("Items", []), found.get("LastEvaluatedKey")


def get(employee_id: str) -> dict | None:
    return table().get_item(Key=employee_key(employee_id)).get("Item")


def put_new(item: dict) -> bool:
    """Store `item` unless its key exists; False if it does (nothing is overwritten)."""
    try:
        table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as err:
        if condition_failed(err):
            return False
        raise
    return True


def update_if_version(
    employee_id: str, *, expected: int, changes: dict[str, Any]
) -> tuple[dict | None, dict | None]:
    """Apply `changes` (None removes a field) and bump the version, only if the employee exists
    at version `expected`: (the new item, None), or (None, the stored item or None when there
    is none) if the condition failed. One request: the stored item comes back with the failure,
    so telling "gone" from "stale" needs no read (and no second permission)."""
    names = {"#version": "version"}
    values: dict[str, Any] = {":expected": expected, ":one": 1}
    sets = ["#version = #version + :one"]
    expression = update_expression(changes, sets=sets, names=names, values=values)
    try:
        updated = table().update_item(
            Key=employee_key(employee_id),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk) AND #version = :expected",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as err:
        if condition_failed(err):
            return None, _stored(err)
        raise
    return updated["Attributes"], None


def _stored(err: ClientError) -> dict | None:
    """The item a failed condition returned (ReturnValuesOnConditionCheckFailure), as plain
    values, or None when the item does not exist."""
    raw = err.response.get("Item")
    if not raw:
        return None
    from boto3.dynamodb.types import TypeDeserializer

    return {name: TypeDeserializer().deserialize(value) for name, value in raw.items()}


def delete(employee_id: str) -> bool:
    """Delete the employee if it exists; False if there was none."""
    try:
        table().delete_item(
            Key=employee_key(employee_id), ConditionExpression="attribute_exists(pk)"
        )
    except ClientError as err:
        if condition_failed(err):
            return False
        raise
    return True


# -- photos -----------------------------------------------------------------------------------


def thumbnail(employee_id: str) -> dict | None:
    """The thumbnail function's record of the employee's thumbnail, if one was made."""
    return table().get_item(Key=photo_key(employee_id)).get("Item")


def forget_photo(employee_id: str, keys: list[str]) -> None:
    """Delete the photo objects (`keys`: whichever exist) and the thumbnail record."""
    bucket = config.settings().media_bucket
    for key in keys:
        s3().delete_object(Bucket=bucket, Key=key)
    table().delete_item(Key=photo_key(employee_id))


def presigned_post(key: str, *, content_type: str, max_bytes: int, seconds: int) -> dict:
    """A form upload S3 accepts only for this key, this content type and 1..max_bytes bytes."""
    return s3().generate_presigned_post(
        Bucket=config.settings().media_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=seconds,
    )


def presigned_get(key: str, *, seconds: int) -> str:
    return s3().generate_presigned_url(
        "get_object",
        Params={"Bucket": config.settings().media_bucket, "Key": key},
        ExpiresIn=seconds,
    )
