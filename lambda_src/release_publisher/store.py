"""The releases bucket: the uploaded object's bytes and the SHA-256 its uploader stated.

The client is made on first use. An object is read at the exact version the event names (the
bucket is versioned), so a release replaced after its event cannot slip in under its name.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
from collections.abc import Iterator

import boto3

CHUNK_BYTES = 1024 * 1024


@functools.cache
def s3():
    return boto3.client("s3")


@dataclasses.dataclass(frozen=True)
class Upload:
    chunks: Iterator[bytes]
    # Lower-case hex SHA-256 of the whole object as its uploader stated it (`sha256` metadata),
    # else S3's own full-object SHA-256 checksum; None when neither exists.
    stated_sha256: str | None
    stated_by: str


def open_upload(bucket: str, key: str, version_id: str | None) -> Upload:
    params = {"Bucket": bucket, "Key": key, "ChecksumMode": "ENABLED"}
    if version_id:
        params["VersionId"] = version_id
    answer = s3().get_object(**params)
    stated, by = _stated_sha256(answer)
    return Upload(answer["Body"].iter_chunks(CHUNK_BYTES), stated, by)


def _stated_sha256(answer: dict) -> tuple[str | None, str]:
    metadata = answer.get("Metadata") or {}
    if metadata.get("sha256"):
        return metadata["sha256"].strip().lower(), "the upload's sha256 metadata"
    checksum = answer.get("ChecksumSHA256")
    # A multipart upload's checksum is a checksum of the parts' checksums ("...-<parts>"),
    # not the file's; S3 verified each part on upload, the file as a whole is not stated.
    if (
        checksum
        and answer.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT"
        and "-" not in (checksum)
    ):
        return base64.b64decode(checksum).hex(), "S3's SHA-256 checksum of the upload"
    return None, "nothing (upload with --metadata sha256=<hex> to have it checked)"
