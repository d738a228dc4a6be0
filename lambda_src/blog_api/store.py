"""Data access for the blog: one table and the media bucket's upload signer. Only I/O here.

Table: posts `pk=POST#<slug>, sk=POST` (+ `gsi1pk=POSTS, gsi1sk=<createdAt>#<slug>` for the
newest-first index) and photos `pk=PHOTO#<id>` (the thumbnail function's). Reads and writes go
through DAX when the function is given DAX_ENDPOINT (the dynamodb_client layer), else DynamoDB.
The table is made by the first request that needs it, the S3 client only by the upload route
(the public GETs never pay for it). Failures other than a failed condition propagate: the REST
kit maps them (503 + Retry-After for throttling and timeouts, 500 otherwise).
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
import config
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from dynamodb_client import dynamodb_resource


def table():
    return _table(config.settings().table_name)


@functools.cache
def _table(name: str):
    return dynamodb_resource().Table(name)


@functools.cache
def s3():
    """The S3 client that signs upload POSTs, made by the first upload request."""
    from botocore.config import Config

    # SigV4 is required for pre-signed POSTs to KMS/SSE buckets and in every newer region.
    return boto3.client("s3", config=Config(signature_version="s3v4"))


def newest_posts(limit: int, start: dict | None) -> tuple[list[dict], dict | None]:
    """A page of posts from the newest-first index, and the key the next page starts after."""
    query: dict[str, Any] = {
        "IndexName": config.settings().posts_index,
        "KeyConditionExpression": Key("gsi1pk").eq("POSTS"),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start is not None:
        query["ExclusiveStartKey"] = start
    page = table().query(**query)
    return page.get("Items", []), page.get("LastEvaluatedKey")


def post(slug: str) -> dict | None:
    return table().get_item(Key={"pk": f"POST#{slug}", "sk": "POST"}).get("Item")


def put_new(item: dict) -> bool:
    """Store `item` unless its key exists; False if it does (nothing is overwritten)."""
    try:
        table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def upload_form(key: str, content_type: str, max_bytes: int, expires_in: int) -> dict:
    """A pre-signed POST for one object: S3 itself enforces the content type and the size."""
    return s3().generate_presigned_post(
        Bucket=config.settings().media_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )
