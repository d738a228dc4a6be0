"""Thumbnail function: S3's "Object Created" event for a key under the upload prefix (on the
default EventBridge bus; a rule of patterns/events/photo_thumbnails.py matches the media bucket
and the upload prefix) -> a JPEG thumbnail under the thumbnail prefix (served by CloudFront at
/<prefix>*), its metadata in the table, and a "thumbnail ready" message on the SNS topic.

Invoked asynchronously by the EventBridge rule, one event per upload, read with Powertools'
`S3EventBridgeNotificationEvent`. An upload that is not a photo this function accepts (corrupt,
another format, too large, too many pixels), and an event that is not an S3 "Object Created"
event for the media bucket, is logged and sent to the rejected-uploads queue with the reason, and
the invocation succeeds: retrying cannot fix it. Anything else (S3, DynamoDB or SNS failing,
throttled or timing out) raises, so Lambda retries the event twice and then sends it to the
same queue as the function's dead-letter queue. Nothing is retried forever, nothing vanishes.
Done twice (EventBridge and Lambda deliver at least once), an upload gives the same thumbnail
and record again, overwritten in place.

Every log line carries the S3 request id of the upload as its correlation id; metrics count
thumbnails made, uploads rejected and events ignored (handler_kit.observability).

Environment: TABLE_NAME, THUMBNAIL_BUCKET, UPLOAD_PREFIX, THUMBNAIL_PREFIX, THUMBNAIL_SIZE,
MAX_UPLOAD_BYTES, TOPIC_ARN, REJECTED_QUEUE_URL (read once, at import, by settings()).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import posixpath
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent
from botocore.exceptions import ClientError
from handler_kit.errors import InvalidInput, TooLarge
from handler_kit.observability import count, instrumented, logger
from handler_kit.settings import environment
from thumbnails import NotAPhoto, make_thumbnail


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str
    thumbnail_bucket: str  # the media bucket: uploads and thumbnails live in it
    upload_prefix: str
    thumbnail_prefix: str
    thumbnail_size: int
    max_upload_bytes: int
    topic_arn: str
    rejected_queue_url: str


@functools.cache
def settings() -> Settings:
    """The function's configuration, from the environment the stack sets (tests patch this)."""
    with environment() as env:
        return Settings(
            table_name=env.text("TABLE_NAME"),
            thumbnail_bucket=env.text("THUMBNAIL_BUCKET"),
            upload_prefix=env.text("UPLOAD_PREFIX"),
            thumbnail_prefix=env.text("THUMBNAIL_PREFIX"),
            thumbnail_size=env.integer("THUMBNAIL_SIZE", default=256, minimum=16, maximum=4096),
            max_upload_bytes=env.integer("MAX_UPLOAD_BYTES", minimum=1),
            topic_arn=env.text("TOPIC_ARN"),
            rejected_queue_url=env.text("REJECTED_QUEUE_URL"),
        )


settings()  # at import: a function without its configuration fails its init, not its first event


# Clients are made on first use and reused: a rejected upload never pays for SNS or DynamoDB,
# a thumbnail never pays for SQS.
@functools.cache
def s3():
    return boto3.client("s3")


@functools.cache
def sns():
    return boto3.client("sns")


@functools.cache
def sqs():
    return boto3.client("sqs")


@functools.cache
def table():
    return boto3.resource("dynamodb").Table(settings().table_name)


class Rejected(InvalidInput):
    """This upload will never become a thumbnail; say why and move on."""


class Oversized(Rejected, TooLarge):
    """Larger than the upload limit."""


def thumbnail_key(upload_key: str) -> str:
    """uploads/2026/trip/img.PNG -> thumbnails/2026/trip/img.jpg (the path CloudFront serves)."""
    return f"{settings().thumbnail_prefix}{photo_id(upload_key)}.jpg"


def photo_id(upload_key: str) -> str:
    return posixpath.splitext(upload_key[len(settings().upload_prefix) :])[0]


OBJECT_CREATED = "Object Created"


def _request_id(event: Any) -> str | None:
    """The S3 request that created the object: the correlation id of its log lines."""
    detail = event.get("detail") if isinstance(event, dict) else None
    identifier = detail.get("request-id") if isinstance(detail, dict) else None
    return identifier if isinstance(identifier, str) and identifier else None


@instrumented(correlation_id=_request_id)
def handler(event: Any, context) -> dict:
    counts = {"thumbnails": 0, "rejected": 0, "ignored": 0}
    counts[_process(event)] += 1
    return counts


def _object(event: Any) -> tuple[str, str, str | None] | None:
    """(bucket, key, versionId) of an S3 EventBridge event, or None if it is not one."""
    if not isinstance(event, dict) or event.get("source") != "aws.s3":
        return None
    s3_event = S3EventBridgeNotificationEvent(event)
    try:
        bucket = s3_event.detail.bucket.name
        s3_object = s3_event.detail.object
        raw_key = s3_object.raw_event["key"]
        version = s3_object.get("version-id")
    except (KeyError, TypeError, AttributeError):
        return None
    if not (
        isinstance(bucket, str)
        and bucket
        and isinstance(raw_key, str)
        and raw_key
        and (version is None or isinstance(version, str))
    ):
        return None
    key = s3_object.key  # URL-decoded, as S3 encodes keys in its events
    try:  # JSON can carry a lone surrogate; no S3 name contains one
        f"{bucket}{key}{version or ''}".encode()
    except UnicodeEncodeError:
        return None
    return bucket, key, version or None


def _process(event: Any) -> str:
    found = _object(event)
    if found is None:
        _reject({"event": event}, "not an S3 object event from EventBridge")
        return "rejected"
    bucket, key, version = found
    config = settings()
    where = {"bucket": bucket, "key": key, "versionId": version}
    if event.get("detail-type") != OBJECT_CREATED:
        logger.info("ignoring %s event", event.get("detail-type"), extra=where)
        return "ignored"
    # The rule matches the upload prefix already; this guard keeps a misconfigured rule from
    # ever feeding thumbnails back into this function.
    if not key.startswith(config.upload_prefix) or key.startswith(config.thumbnail_prefix):
        logger.warning("ignoring object outside %s", config.upload_prefix, extra=where)
        return "ignored"
    if bucket != config.thumbnail_bucket:  # its role reads no other bucket: a retry cannot help
        _reject(where, f"bucket {bucket!r:.70} is not the media bucket")
        return "rejected"
    try:
        source, size = _download(bucket, key, version)
        thumb = make_thumbnail(source, config.thumbnail_size)
    except (Rejected, NotAPhoto) as err:
        _reject(where, str(err))
        return "rejected"
    except ClientError as err:
        if err.response["Error"]["Code"] in ("NoSuchKey", "NoSuchVersion", "404"):
            logger.info("upload deleted before it was processed", extra=where)
            return "ignored"
        raise  # transient: Lambda retries the event, then dead-letters it

    target = thumbnail_key(key)
    s3().put_object(
        Bucket=config.thumbnail_bucket,
        Key=target,
        Body=thumb.data,
        ContentType=thumb.content_type,
        CacheControl="public, max-age=86400",
    )
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
        "createdAt": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if version:
        metadata["sourceVersionId"] = version
    table().put_item(Item=metadata)
    sns().publish(
        TopicArn=config.topic_arn,
        Subject="thumbnail ready",
        Message=json.dumps({k: v for k, v in metadata.items() if k not in ("pk", "sk")}),
        MessageAttributes={"event": {"DataType": "String", "StringValue": "thumbnail-ready"}},
    )
    logger.info(
        "thumbnail written", extra={**where, "thumbnailKey": target, "bytes": len(thumb.data)}
    )
    count("ThumbnailsMade")
    return "thumbnails"


def _download(bucket: str, key: str, version: str | None) -> tuple[bytes, int]:
    """The upload's bytes, read straight into memory (no /tmp copy); refused if oversized."""
    request = {"Bucket": bucket, "Key": key}
    if version:
        request["VersionId"] = version
    response = s3().get_object(**request)
    size, limit = response["ContentLength"], settings().max_upload_bytes
    if size > limit:
        response["Body"].close()
        raise Oversized(f"{size} bytes is more than the {limit}-byte upload limit")
    if size == 0:
        raise Rejected("empty object")
    return response["Body"].read(), size


def _reject(where: dict, reason: str) -> None:
    logger.warning("upload rejected: %s", reason, extra={"detail": where})
    count("UploadsRejected")
    sqs().send_message(
        QueueUrl=settings().rejected_queue_url,
        MessageBody=json.dumps({"reason": reason, **where}, default=str),
    )
