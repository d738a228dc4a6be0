"""Thumbnail function: S3 "object created" under the upload prefix -> a JPEG thumbnail under the
thumbnail prefix (served by CloudFront at /<prefix>*), its metadata in the table, and a
"thumbnail ready" message on the SNS topic.

Invoked asynchronously by S3. An upload that is not a photo this function accepts (corrupt,
another format, too large, too many pixels) is logged and sent to the rejected-uploads queue
with the reason, and the invocation succeeds: retrying cannot fix it. Anything else (S3,
DynamoDB or SNS failing) raises, so Lambda retries the event twice and then sends it to the same
queue as the function's dead-letter queue. Nothing is retried forever, nothing vanishes.

Environment: TABLE_NAME, THUMBNAIL_BUCKET, UPLOAD_PREFIX, THUMBNAIL_PREFIX, THUMBNAIL_SIZE,
MAX_UPLOAD_BYTES, TOPIC_ARN, REJECTED_QUEUE_URL.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import posixpath
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import ClientError

from thumbnails import NotAPhoto, make_thumbnail

logger = logging.getLogger()
logger.setLevel(logging.INFO)

TABLE_NAME = os.environ["TABLE_NAME"]
THUMBNAIL_BUCKET = os.environ["THUMBNAIL_BUCKET"]
UPLOAD_PREFIX = os.environ["UPLOAD_PREFIX"]
THUMBNAIL_PREFIX = os.environ["THUMBNAIL_PREFIX"]
THUMBNAIL_SIZE = int(os.environ.get("THUMBNAIL_SIZE", "256"))
MAX_UPLOAD_BYTES = int(os.environ["MAX_UPLOAD_BYTES"])
TOPIC_ARN = os.environ["TOPIC_ARN"]
REJECTED_QUEUE_URL = os.environ["REJECTED_QUEUE_URL"]

S3 = boto3.client("s3")
SNS = boto3.client("sns")
SQS = boto3.client("sqs")
TABLE = boto3.resource("dynamodb").Table(TABLE_NAME)


class Rejected(Exception):
    """This upload will never become a thumbnail; say why and move on."""


def thumbnail_key(upload_key: str) -> str:
    """uploads/2026/trip/img.PNG -> thumbnails/2026/trip/img.jpg (the path CloudFront serves)."""
    stem = posixpath.splitext(upload_key[len(UPLOAD_PREFIX):])[0]
    return f"{THUMBNAIL_PREFIX}{stem}.jpg"


def photo_id(upload_key: str) -> str:
    return posixpath.splitext(upload_key[len(UPLOAD_PREFIX):])[0]


def handler(event: dict, context) -> dict:
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        _reject({"event": event}, "not an S3 event notification")
        return {"thumbnails": 0, "rejected": 1, "ignored": 0}
    counts = {"thumbnails": 0, "rejected": 0, "ignored": 0}
    for record in records:
        counts[_process(record)] += 1
    return counts


def _process(record: dict) -> str:
    try:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        version = record["s3"]["object"].get("versionId")
    except (KeyError, TypeError):
        _reject({"record": record}, "not an S3 object record")
        return "rejected"
    where = {"bucket": bucket, "key": key, "versionId": version}
    if not str(record.get("eventName", "")).startswith("ObjectCreated"):
        logger.info("ignoring %s event", record.get("eventName"), extra=where)
        return "ignored"
    # The bucket notification is filtered to the upload prefix already; this guard keeps a
    # misconfigured trigger from ever feeding thumbnails back into this function.
    if not key.startswith(UPLOAD_PREFIX) or key.startswith(THUMBNAIL_PREFIX):
        logger.warning("ignoring object outside %s", UPLOAD_PREFIX, extra=where)
        return "ignored"
    try:
        source, size = _download(bucket, key, version)
        thumb = make_thumbnail(source, THUMBNAIL_SIZE)
    except (Rejected, NotAPhoto) as err:
        _reject(where, str(err))
        return "rejected"
    except ClientError as err:
        if err.response["Error"]["Code"] in ("NoSuchKey", "NoSuchVersion", "404"):
            logger.info("upload deleted before it was processed", extra=where)
            return "ignored"
        raise  # transient: Lambda retries the event, then dead-letters it

    target = thumbnail_key(key)
    S3.put_object(Bucket=THUMBNAIL_BUCKET, Key=target, Body=thumb.data,
                  ContentType=thumb.content_type, CacheControl="public, max-age=86400")
    metadata = {
        "pk": f"PHOTO#{photo_id(key)}",
        "sk": "THUMBNAIL",
        "sourceBucket": bucket,
        "sourceKey": key,
        "sourceBytes": size,
        "sourceFormat": thumb.source_format,
        "width": thumb.source_width,
        "height": thumb.source_height,
        "thumbnailKey": target,
        "thumbnailPath": f"/{target}",
        "thumbnailWidth": thumb.width,
        "thumbnailHeight": thumb.height,
        "thumbnailBytes": len(thumb.data),
        "createdAt": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if version:
        metadata["sourceVersionId"] = version
    TABLE.put_item(Item=metadata)
    SNS.publish(TopicArn=TOPIC_ARN, Subject="thumbnail ready",
                Message=json.dumps({k: v for k, v in metadata.items() if k not in ("pk", "sk")}),
                MessageAttributes={"event": {"DataType": "String",
                                             "StringValue": "thumbnail-ready"}})
    logger.info("thumbnail written", extra={**where, "thumbnailKey": target,
                                             "bytes": len(thumb.data)})
    return "thumbnails"


def _download(bucket: str, key: str, version: str | None) -> tuple[bytes, int]:
    """The upload's bytes, read straight into memory (no /tmp copy); refused if oversized."""
    request = {"Bucket": bucket, "Key": key}
    if version:
        request["VersionId"] = version
    response = S3.get_object(**request)
    size = response["ContentLength"]
    if size > MAX_UPLOAD_BYTES:
        response["Body"].close()
        raise Rejected(f"{size} bytes is more than the {MAX_UPLOAD_BYTES}-byte upload limit")
    if size == 0:
        raise Rejected("empty object")
    return response["Body"].read(), size


def _reject(where: dict, reason: str) -> None:
    logger.warning("upload rejected: %s", reason, extra={"detail": where})
    SQS.send_message(QueueUrl=REJECTED_QUEUE_URL,
                     MessageBody=json.dumps({"reason": reason, **where}, default=str))
