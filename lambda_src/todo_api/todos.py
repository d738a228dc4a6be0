"""The to-do logic: what a user may read and change, decided here; no HTTP, no boto3.

A user is the `sub` the authorizer verified; every key starts with it, so a to-do that is someone
else's is indistinguishable from a missing one (NotFound either way). Creation is conditional
(never overwrites, even with a client-chosen todoId); updates carry the version they read
(optimistic locking: a stale version is a Conflict naming the current one).

Read-your-writes: a caller that sends back the `X-Last-Write` time of its own write gets a
strongly consistent read while that write is younger than the caches' TTL (DAX passes such reads
through to DynamoDB instead of answering from its caches).
"""

from __future__ import annotations

import datetime
import time
import uuid
from typing import Any

import config
import store
from handler_kit.errors import Conflict, InvalidInput, NotFound
from handler_kit.observability import count, logger

PUBLIC_FIELDS = ("todoId", "title", "notes", "done", "dueDate", "createdAt", "updatedAt", "version")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat(
        timespec="milliseconds"
    )


def public(item: dict) -> dict:
    """The item as the API shows it: no userId, `done` always present."""
    shown = {k: item[k] for k in PUBLIC_FIELDS if k in item}
    shown.setdefault("done", False)
    return shown


def fresh_read(last_write_ms: int | None) -> bool:
    """A strongly consistent read while the caller's own last write is younger than the TTL."""
    return last_write_ms is not None and now_ms() - last_write_ms <= (
        config.settings().read_your_writes_ms
    )


def _calendar_date(fields: dict) -> None:
    if fields.get("dueDate"):
        try:
            datetime.date.fromisoformat(fields["dueDate"])
        except ValueError:
            raise InvalidInput("field 'dueDate' is not a calendar date (YYYY-MM-DD)") from None


def list_page(
    user: str, *, limit: int, after: str | None, last_write_ms: int | None
) -> tuple[list[dict], str | None]:
    items, last = store.page(user, limit=limit, after=after, consistent=fresh_read(last_write_ms))
    return [public(item) for item in items], last


def create(user: str, fields: dict[str, Any]) -> tuple[dict, int]:
    """The new to-do (and the write's time); Conflict if the caller's todoId is taken."""
    _calendar_date(fields)
    at = now_ms()
    item = {
        **fields,
        "userId": user,
        "todoId": fields.get("todoId") or str(uuid.uuid4()),
        "done": fields.get("done", False),
        "createdAt": iso(at),
        "updatedAt": iso(at),
        "version": 1,
    }
    if not store.put_new(item):
        raise Conflict("a to-do with this todoId already exists", code="AlreadyExists")
    logger.info("to-do created", extra={"todoId": item["todoId"]})
    count("TodosCreated")
    return public(item), at


def get(user: str, todo_id: str, *, last_write_ms: int | None) -> dict:
    found = store.get(user, todo_id, consistent=fresh_read(last_write_ms))
    if not found:
        raise NotFound("to-do not found")
    return public(found)


def update(user: str, todo_id: str, fields: dict[str, Any]) -> tuple[dict, int]:
    """The updated to-do (and the write's time); NotFound, or Conflict for a stale version."""
    _calendar_date(fields)
    changes = dict(fields)
    expected = changes.pop("version")
    at = now_ms()
    updated = store.update_if_version(
        user, todo_id, expected=expected, changes=changes, updated_at=iso(at)
    )
    if updated is None:
        current = store.get(user, todo_id, consistent=True)
        if not current:
            raise NotFound("to-do not found")
        raise Conflict(
            f"version {expected} is stale: the to-do is at version {int(current['version'])}; "
            "read it again and reapply your change",
            code="StaleVersion",
        )
    logger.info("to-do updated", extra={"todoId": todo_id})
    count("TodosUpdated")
    return public(updated), at


def delete(user: str, todo_id: str) -> int:
    """The write's time; NotFound if there was no such to-do of this user."""
    if not store.delete(user, todo_id):
        raise NotFound("to-do not found")
    logger.info("to-do deleted", extra={"todoId": todo_id})
    count("TodosDeleted")
    return now_ms()
