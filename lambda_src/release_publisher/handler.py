"""Release publisher: an S3 "Object Created" event (EventBridge) for `<version>/<file>` in the
releases bucket -> that file on the update servers' file system at
`<RELEASES_PATH>/<version>/<file>` (served at `/<UPDATES_PREFIX>/<version>/<file>`), the same
bytes in the update mirror (`MIRROR_BUCKET`) at `<UPDATES_PREFIX>/<version>/<file>`, then the
manifest `<RELEASES_PATH>/<MANIFEST_NAME>` pointing at it with its SHA-256 and size, and the same
manifest in the mirror (publish.py).

Invoked asynchronously by EventBridge. An event that is not an S3 "Object Created" event of the
releases bucket is logged and ignored (it cannot become a release). An upload that cannot become
a release (a key that is not `<version>/<file>`, empty, bytes that differ from the SHA-256 its
uploader stated, a file published on either origin with other bytes) raises a domain error:
nothing is written, Lambda retries it twice and then puts the event, with the reason, in the
failed-publications queue for an operator. Anything else failing (S3, the mirror, the file
system) raises the same way.

Every log line carries the event's id as its correlation id; metrics count releases published
and uploads refused.

Environment: RELEASES_BUCKET, RELEASES_PATH, UPDATES_PREFIX, MANIFEST_NAME, MIRROR_BUCKET
(config.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from config import settings
from handler_kit.errors import DomainError
from handler_kit.observability import count, instrumented, logger, path
from publish import publish, release_of
from store import S3Mirror, open_upload

settings()  # at import: a function without its configuration fails its init, not its first event


@instrumented(correlation_id=path("id"))
def handler(event: Any, context) -> dict:
    upload = _uploaded_object(event)
    if upload is None:
        logger.warning("ignored: not an Object Created event of the releases bucket")
        count("EventsIgnored")
        return {"published": None}
    key, version_id = upload
    config = settings()
    try:
        version, file = release_of(key)
        source = open_upload(config.releases_bucket, key, version_id)
        manifest = publish(
            Path(config.releases_path),
            version=version,
            file=file,
            chunks=source.chunks,
            stated_sha256=source.stated_sha256,
            updates_prefix=config.updates_prefix,
            manifest_name=config.manifest_name,
            mirror=S3Mirror(config.mirror_bucket),
        )
    except DomainError as refused:
        logger.error("upload refused", extra={"key": key, "reason": refused.message})
        count("UploadsRefused")
        raise
    logger.info(
        "release published",
        extra={"manifest": manifest, "sha256_checked_against": source.stated_by},
    )
    count("ReleasesPublished")
    return {"published": manifest}


def _uploaded_object(event: Any) -> tuple[str, str | None] | None:
    """(key, version id) of an S3 Object Created event of the releases bucket, else None."""
    if not isinstance(event, dict) or event.get("source") != "aws.s3":
        return None
    if event.get("detail-type") != "Object Created":
        return None
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return None
    bucket = detail.get("bucket")
    obj = detail.get("object")
    if not isinstance(bucket, dict) or bucket.get("name") != settings().releases_bucket:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("key"), str) or not obj["key"]:
        return None
    version_id = obj.get("version-id")
    return unquote_plus(obj["key"]), version_id if isinstance(version_id, str) else None
