"""The releases bucket (the uploaded object's bytes and the SHA-256 its uploader stated) and the
update mirror (the published files, as the clients' URLs).

The client is made on first use. An object is read at the exact version the event names (the
bucket is versioned), so a release replaced after its event cannot slip in under its name. A
file is written to the mirror with its SHA-256, which S3 checks against the bytes it receives
and keeps as the object's checksum, and only if no object has its key (S3's conditional write,
If-None-Match: *), so two publishers never replace each other's file.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import mimetypes
from collections.abc import Iterator
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

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


@dataclasses.dataclass(frozen=True)
class S3Mirror:
    """The update mirror (publish.Mirror) in `bucket`."""

    bucket: str

    def put_new(self, key: str, path: Path, sha256: str) -> str | None:
        with open(path, "rb") as body:
            try:
                s3().put_object(
                    **self._object(key, sha256), Body=body, IfNoneMatch="*", **_type(key)
                )
                return None
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "PreconditionFailed":
                    raise
        existing = s3().head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        checksum = existing.get("ChecksumSHA256") or ""
        return base64.b64decode(checksum).hex() if "-" not in checksum else ""

    def put(self, key: str, content: bytes, sha256: str) -> None:
        s3().put_object(**self._object(key, sha256), Body=content, **_type(key))

    def _object(self, key: str, sha256: str) -> dict:
        return {
            "Bucket": self.bucket,
            "Key": key,
            # S3 refuses the write (BadDigest) if the bytes it receives have another SHA-256,
            # and keeps this one as the object's full-object checksum.
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": base64.b64encode(bytes.fromhex(sha256)).decode(),
        }


def _type(key: str) -> dict:
    return {"ContentType": mimetypes.guess_type(key)[0] or "application/octet-stream"}
