"""The one-off roles, started by EventBridge: process an uploaded object, prune old files.

Each returns the process exit code. A non-zero exit stops the task with a reason that the
stopped-task rule sends to the notifications topic, so failures are seen, not just logged.
"""

from __future__ import annotations

import hashlib
import os
import time
from urllib.parse import quote, unquote_plus

import boto3
from botocore.exceptions import ClientError

from sample_app import shared

S3 = boto3.client("s3")
LOG = shared.logger("tasks")
CHUNK = 1024 * 1024


def process_upload() -> int:
    """Summarise $OBJECT_KEY of $UPLOAD_BUCKET (size, SHA-256) into uploads/ on shared storage."""
    bucket, key = os.environ.get("UPLOAD_BUCKET", ""), os.environ.get("OBJECT_KEY", "")
    if not bucket or not key:
        LOG.error(
            "UPLOAD_BUCKET and OBJECT_KEY are required",
            extra={"fields": {"bucket": bucket, "key": key}},
        )
        return 2
    try:
        response = S3.get_object(Bucket=bucket, Key=key)
    except ClientError as err:
        decoded = unquote_plus(key)
        # S3 event notifications URL-encode keys ("a b.txt" -> "a+b.txt"); accept both forms.
        if err.response["Error"]["Code"] not in ("NoSuchKey", "404") or decoded == key:
            LOG.error(
                "cannot read the object",
                extra={
                    "fields": {"bucket": bucket, "key": key, "error": err.response["Error"]["Code"]}
                },
            )
            return 1
        key = decoded
        try:
            response = S3.get_object(Bucket=bucket, Key=key)
        except ClientError as again:
            LOG.error(
                "cannot read the object",
                extra={
                    "fields": {
                        "bucket": bucket,
                        "key": key,
                        "error": again.response["Error"]["Code"],
                    }
                },
            )
            return 1
    digest, size = hashlib.sha256(), 0
    for chunk in response["Body"].iter_chunks(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    summary = {
        "bucket": bucket,
        "key": key,
        "size": size,
        "sha256": digest.hexdigest(),
        "content_type": response.get("ContentType"),
        "processed_at": shared.now(),
    }
    shared.write_json(shared.UPLOADS, quote(key, safe=""), summary)
    LOG.info("upload processed", extra={"fields": summary})
    return 0


def prune() -> int:
    """Delete results and upload summaries older than $RETENTION_DAYS from shared storage."""
    try:
        days = int(os.environ.get("RETENTION_DAYS", ""))
    except ValueError:
        LOG.error("RETENTION_DAYS must be a whole number of days")
        return 2
    if days < 1:
        LOG.error("RETENTION_DAYS must be at least 1")
        return 2
    cutoff = time.time() - days * 86400
    removed = 0
    for folder in (shared.RESULTS, shared.UPLOADS):
        directory = shared.root() / folder
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # another task got there first
                continue
    LOG.info("pruned shared storage", extra={"fields": {"removed": removed, "days": days}})
    return 0
