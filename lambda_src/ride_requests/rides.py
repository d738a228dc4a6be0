"""The ride-request logic: what a user may book, read, change and cancel; no HTTP, no boto3.

A user is the `sub` the authorizer verified; every key starts with it, so someone else's request
is indistinguishable from a missing one (NotFound either way, never a "forbidden" that would
confirm it exists).

Creates are idempotent: the client names a new request by an idempotency key (a UUID it draws
once and sends again on every retry), which becomes the request's id. The put is conditional, so
a retry finds the first attempt's item instead of writing a second one, and answers what the
first attempt answered; the same key with a different body is a Conflict (the key was reused
for another request). A request expires (DynamoDB TTL deletes it, free of charge) a number of
days after its pickup time.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from typing import Any

import config
import store
from handler_kit.errors import Conflict, InvalidInput, NotFound
from handler_kit.observability import count, logger

PUBLIC_FIELDS = (
    "requestId",
    "pickup",
    "dropoff",
    "pickupAt",
    "passengers",
    "notes",
    "status",
    "createdAt",
    "updatedAt",
)
# A pickup a few minutes in the past is a clock skew between browser and AWS, not an error.
PAST_GRACE = datetime.timedelta(minutes=5)


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def iso(at: datetime.datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def public(item: dict) -> dict:
    """The item as the API shows it: no owner, no fingerprint, no TTL attribute."""
    shown = {k: item[k] for k in PUBLIC_FIELDS if k in item}
    shown.setdefault("passengers", 1)
    return shown


def request_id(key: str) -> str:
    """The idempotency key as the request's id: a UUID, lower case."""
    try:
        parsed = uuid.UUID(key)
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput(
            "Idempotency-Key must be a UUID the client draws once per new request and sends "
            "again on every retry of it"
        ) from None
    if str(parsed) != key:
        raise InvalidInput(
            "Idempotency-Key must be a UUID in its usual 8-4-4-4-12 form, in lower case"
        )
    return str(parsed)


def pickup_time(text: str) -> datetime.datetime:
    """`pickupAt` as a UTC time between now and `max_days_ahead` days from now."""
    try:
        at = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            "field 'pickupAt' is not a date and time (YYYY-MM-DDTHH:MM[:SS]Z)"
        ) from None
    if at < now() - PAST_GRACE:
        raise InvalidInput("field 'pickupAt' is in the past")
    days = config.settings().max_days_ahead
    if at > now() + datetime.timedelta(days=days):
        raise InvalidInput(f"field 'pickupAt' is more than {days} days ahead")
    return at


def expires_at(pickup: datetime.datetime) -> int:
    """Epoch seconds when DynamoDB's TTL may delete the request."""
    return int((pickup + datetime.timedelta(days=config.settings().retention_days)).timestamp())


def fingerprint(fields: dict[str, Any]) -> str:
    """What a create asked for, so a retry can be told from a reuse of its key."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def create(user: str, key: str, fields: dict[str, Any]) -> tuple[dict, bool]:
    """The request (new, or the one a first attempt with this key stored) and whether this call
    is a replay; Conflict if the key was used for a different request."""
    identifier = request_id(key)
    pickup = pickup_time(fields["pickupAt"])
    stamp = iso(now())
    item = {
        **fields,
        "userId": user,
        "requestId": identifier,
        "passengers": fields.get("passengers", 1),
        "status": "REQUESTED",
        "fingerprint": fingerprint(fields),
        "expiresAt": expires_at(pickup),
        "createdAt": stamp,
        "updatedAt": stamp,
    }
    existing = store.put_new(item)
    if existing is None:
        logger.info("ride request created", extra={"requestId": identifier})
        count("RideRequestsCreated")
        return public(item), False
    if existing.get("fingerprint") != item["fingerprint"]:
        raise Conflict(
            "this Idempotency-Key was used for a different request; draw a new key for a new "
            "request",
            code="IdempotencyKeyReused",
        )
    count("RideRequestsReplayed")
    return public(existing), True


def get(user: str, identifier: str) -> dict:
    found = store.get(user, identifier)
    if not found:
        raise NotFound("ride request not found")
    return public(found)


def list_page(user: str, *, limit: int, after: str | None) -> tuple[list[dict], str | None]:
    items, last = store.page(user, limit=limit, after=after)
    return [public(item) for item in items], last


def update(user: str, identifier: str, fields: dict[str, Any]) -> dict:
    changes = dict(fields)
    if "pickupAt" in changes:
        changes["expiresAt"] = expires_at(pickup_time(changes["pickupAt"]))
    updated = store.update(user, identifier, changes=changes, at=iso(now()))
    if updated is None:
        raise NotFound("ride request not found")
    logger.info("ride request changed", extra={"requestId": identifier})
    count("RideRequestsChanged")
    return public(updated)


def delete(user: str, identifier: str) -> None:
    if not store.delete(user, identifier):
        raise NotFound("ride request not found")
    logger.info("ride request cancelled", extra={"requestId": identifier})
    count("RideRequestsCancelled")
