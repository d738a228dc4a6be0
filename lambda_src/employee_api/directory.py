"""The directory's logic: what may be read and changed, decided here; no HTTP, no boto3.

An employee is created with a fresh id (never overwriting), read by id or a page at a time in
name order, changed only at the version the caller read (optimistic locking: a stale version is a
Conflict naming the current one) and deleted with their photo. Photos are uploaded straight to
S3 with a pre-signed POST that allows one key, one content type and a size limit; the thumbnail
function (patterns/events/photo_thumbnails.py) makes the thumbnail and records it, and the photo
route redirects to a short-lived pre-signed URL of that thumbnail.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import uuid
from typing import Any

import config
import store
from handler_kit.errors import Conflict, InvalidInput, NotFound
from handler_kit.observability import count, logger

FIELDS = ("name", "email", "jobTitle", "department", "location", "phone")
PUBLIC_FIELDS = ("employeeId", *FIELDS, "createdAt", "updatedAt", "version")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def photo_path(employee_id: str) -> str:
    return f"/api/employees/{employee_id}/photo"


def public(item: dict) -> dict:
    """The item as the API shows it: no keys or index attributes, its photo route added."""
    shown = {k: item[k] for k in PUBLIC_FIELDS if k in item}
    shown["version"] = int(shown["version"])
    shown["photoUrl"] = photo_path(item["employeeId"])
    return shown


def sort_name(name: str, employee_id: str) -> str:
    return f"{name.casefold()}#{employee_id}"


# -- pages ------------------------------------------------------------------------------------


def encode_token(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode_token(token: str) -> dict:
    """The index key a nextToken stands for; only the shape this API writes is accepted."""
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, TypeError, RecursionError, binascii.Error, UnicodeError):
        key = None
    fine = (
        isinstance(key, dict)
        and set(key) == {"pk", "sk", "listing", "sortName"}
        and all(isinstance(v, str) and len(v) <= 512 for v in key.values())
        and key["listing"] == store.LISTING
        and key["sk"] == store.PROFILE
        and key["pk"].startswith("EMPLOYEE#")
    )
    if not fine:
        raise InvalidInput("nextToken is not one this API returned")
    return key


def list_page(limit: int, token: str | None) -> dict:
    items, last = store.page(limit, decode_token(token) if token else None)
    return {"items": [public(i) for i in items], "nextToken": encode_token(last) if last else None}


# -- one employee -----------------------------------------------------------------------------


def get(employee_id: str) -> dict:
    found = store.get(employee_id)
    if not found:
        raise NotFound("employee not found")
    return public(found)


def create(fields: dict[str, Any]) -> dict:
    employee_id = str(uuid.uuid4())
    at = now()
    item = {
        **store.employee_key(employee_id),
        **{k: v for k, v in fields.items() if k in FIELDS},
        "employeeId": employee_id,
        "listing": store.LISTING,
        "sortName": sort_name(fields["name"], employee_id),
        "createdAt": at,
        "updatedAt": at,
        "version": 1,
    }
    if not store.put_new(item):  # a fresh UUID: a clash is a bug, not a client's mistake
        raise RuntimeError(f"employee id {employee_id} exists already")
    logger.info("employee created", extra={"employeeId": employee_id})
    count("EmployeesCreated")
    return public(item)


def update(employee_id: str, fields: dict[str, Any]) -> dict:
    changes = {k: v for k, v in fields.items() if k in FIELDS}
    expected = fields["version"]
    changes["updatedAt"] = now()
    if "name" in changes:
        changes["sortName"] = sort_name(changes["name"], employee_id)
    updated, stored = store.update_if_version(employee_id, expected=expected, changes=changes)
    if updated is None:
        if stored is None:
            raise NotFound("employee not found")
        raise Conflict(
            f"version {expected} is stale: the employee is at version {int(stored['version'])}; "
            "read it again and reapply your change",
            code="StaleVersion",
        )
    logger.info("employee updated", extra={"employeeId": employee_id})
    count("EmployeesUpdated")
    return public(updated)


def delete(employee_id: str) -> None:
    """Delete the employee, then their photo (both uploads a client may have made, the
    thumbnail and its record). NotFound, with nothing changed, if there is no such employee."""
    if not store.delete(employee_id):
        raise NotFound("employee not found")
    settings = config.settings()
    keys = [f"{settings.upload_prefix}{employee_id}.{ext}" for ext in EXTENSIONS.values()]
    store.forget_photo(employee_id, [*keys, thumbnail_key(employee_id)])
    logger.info("employee deleted", extra={"employeeId": employee_id})
    count("EmployeesDeleted")


# -- photos -----------------------------------------------------------------------------------


def thumbnail_key(employee_id: str) -> str:
    """Where the thumbnail function puts the thumbnail of <upload prefix><employeeId>.<ext>."""
    return f"{config.settings().thumbnail_prefix}{employee_id}.jpg"


def photo_upload(employee_id: str, content_type: str) -> dict:
    """A pre-signed POST for the employee's photo; NotFound if there is no such employee."""
    if not store.get(employee_id):
        raise NotFound("employee not found")
    settings = config.settings()
    key = f"{settings.upload_prefix}{employee_id}.{EXTENSIONS[content_type]}"
    upload = store.presigned_post(
        key,
        content_type=content_type,
        max_bytes=settings.max_upload_bytes,
        seconds=settings.upload_url_seconds,
    )
    count("PhotoUploadsSigned")
    return {
        "upload": {"url": upload["url"], "fields": upload["fields"]},
        "photoUrl": photo_path(employee_id),
        "maxBytes": settings.max_upload_bytes,
        "expiresInSeconds": settings.upload_url_seconds,
    }


def photo_location(employee_id: str) -> str:
    """A short-lived URL of the employee's thumbnail; NotFound until the thumbnail is made."""
    made = store.thumbnail(employee_id)
    if not made:
        raise NotFound("no photo for this employee yet", code="NoPhoto")
    return store.presigned_get(
        thumbnail_key(employee_id), seconds=config.settings().photo_url_seconds
    )
