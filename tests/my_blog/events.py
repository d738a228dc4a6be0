"""Events as AWS delivers them to the MyBlog functions: API Gateway REST (Lambda proxy, with the
Cognito authorizer's claims), DynamoDB stream records and S3 event notifications; plus small
real images made with Pillow."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer

from tests.support.apigateway import header, json_body, rest_api_event  # noqa: F401 (re-exported)
from tests.support.photos import jpeg_photo, png_with_alpha, s3_event  # noqa: F401 (re-exported)

STAGE = "v1"
AUTHOR = {
    "sub": "3f1c2a9e-0000-4000-8000-000000000001",
    "cognito:username": "ada",
    "email": "ada@example.com",
    "token_use": "id",
}


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    query: dict | None = None,
    author: dict | None = None,
    base64: bool = False,
    headers: dict[str, str] | None = None,
) -> dict:
    """`method path` through CloudFront /api/* -> API Gateway stage v1 -> the Lambda proxy.

    `author`: the claims the Cognito authorizer verified (None = anonymous reader). A `body`
    that is not a str is JSON-encoded, as the site or curl would send it. `headers` are added
    to (or replace) the ones the site sends."""
    parts = path.strip("/").split("/")
    resource = "/" + "/".join(
        "{slug}" if i == 2 and parts[1] == "posts" else p for i, p in enumerate(parts)
    )
    all_headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "Via": "2.0 abc.cloudfront.net (CloudFront)",
    }
    if author:
        all_headers["Authorization"] = "eyJraWQiOi.fake.id-token"
    all_headers.update(headers or {})
    return rest_api_event(
        method,
        path,
        resource=resource,
        path_parameters={"slug": parts[2]} if "{slug}" in resource else None,
        headers=all_headers,
        query=query,
        body=body,
        claims=author,
        stage=STAGE,
        base64_body=base64,
    )


_serialize = TypeSerializer().serialize


def stream_record(
    event_name: str,
    new_image: dict | None,
    sequence: str,
    *,
    old_image: dict | None = None,
    stream_arn: str = "",
) -> dict:
    """A DynamoDB stream record (NEW_AND_OLD_IMAGES) as Lambda hands it to the function."""
    image = new_image or old_image or {}
    keys = {k: _serialize(image[k]) for k in ("pk", "sk") if k in image}
    dynamodb = {
        "ApproximateCreationDateTime": 1_764_000_000,
        "Keys": keys,
        "SequenceNumber": sequence,
        "SizeBytes": 120,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new_image is not None:
        dynamodb["NewImage"] = {k: _serialize(v) for k, v in new_image.items()}
    if old_image is not None:
        dynamodb["OldImage"] = {k: _serialize(v) for k, v in old_image.items()}
    return {
        "eventID": f"evt-{sequence}",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn
        or "arn:aws:dynamodb:us-east-1:123456789012:table/blog/stream/2026-11-23T00:00:00.000",
    }
