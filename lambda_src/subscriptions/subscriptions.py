"""Subscriptions, decided here: double opt-in, one-click unsubscribe, a limit per source. No
HTTP, no boto3.

    subscribe(address)    -> a pending subscriber, which the table stream turns into one
                             confirmation mail (the welcome function); nothing is mailed twice
                             for one request, and nothing at all to an address already in
    confirm(token)        -> pending becomes confirmed, which the stream turns into the welcome
    unsubscribe(token)    -> the address is forgotten (deleted), pending or confirmed

The answer never tells whether an address is subscribed: a new, a pending and a confirmed one
get the same 202. A pending address that nobody confirms is deleted by the table's TTL when its
link expires (`confirm_link_hours`); until then, asking again changes nothing (no second mail),
after it a new request starts over. The links are signed by the welcome function (KMS
GenerateMac) and only checked here (VerifyMac): this function cannot make one.

Every route counts one request for its source (`Request.source`: the viewer's address behind the
origin lock) per clock hour, after its body passed the schema and before anything else: past
`requests_per_hour` it is a 429 with Retry-After, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import time

import config
import store
from handler_kit import signed_tokens
from handler_kit.email_address import deliverable
from handler_kit.errors import InvalidInput, NotFound, TooManyRequests
from handler_kit.observability import count, logger

HOUR = 3600
CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"


def clock() -> float:
    """Now, in epoch seconds (tests patch this)."""
    return time.time()


def _iso(now: float) -> str:
    return dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="seconds")


def limit(source: str, now: float) -> None:
    """Count this request of `source`; TooManyRequests if its hour's budget is spent."""
    settings = config.settings()
    window = int(now) // HOUR
    if not store.count_request(
        source,
        _iso(window * HOUR),
        settings.requests_per_hour,
        expires_at=(window + 2) * HOUR,
    ):
        count("SubscriptionRequestsLimited")
        raise TooManyRequests(
            f"at most {settings.requests_per_hour} subscription requests an hour from one "
            "address; try again later",
            retry_after=(window + 1) * HOUR - int(now),
        )


def subscribe(fields: dict, source: str) -> str:
    """The address, lowercased, pending until its link is used."""
    email = fields["email"]
    if not deliverable(email):  # the schema's rule; checked again for direct invokes
        raise InvalidInput("field 'email' is not an address we can deliver to")
    now = clock()
    limit(source, now)
    email = email.lower()
    expires_at = int(now) + config.settings().confirm_link_hours * HOUR
    added = store.put_pending(
        {
            **store.key(email),
            "email": email,
            "status": "pending",
            "requestedAt": _iso(now),
            "expiresAt": expires_at,
        },
        now=int(now),
    )
    count("SubscriptionsRequested" if added else "SubscriptionsUnchanged")
    if added:
        logger.info("subscription pending", extra={"expiresAt": expires_at})
    return email


def _address(token: str, purpose: str, now: float) -> str:
    key = config.settings().token_key_id
    address = signed_tokens.verify(key, token, purpose, now=now).subject
    if not deliverable(address):  # a genuine token carries a stored address; never otherwise
        raise InvalidInput("this link is not one we sent", code="InvalidLink")
    return address


def confirm(fields: dict, source: str) -> str:
    now = clock()
    limit(source, now)
    email = _address(fields["token"], CONFIRM, now)
    outcome = store.confirm(email, _iso(now), int(now))
    if outcome == "none":
        raise NotFound(
            "no subscription waits for this link (it expired, or the address was "
            "unsubscribed): subscribe again",
            code="NothingToConfirm",
        )
    count("SubscriptionsConfirmed" if outcome == "confirmed" else "ConfirmationsRepeated")
    return email


def unsubscribe(fields: dict, source: str) -> str:
    now = clock()
    limit(source, now)
    email = _address(fields["token"], UNSUBSCRIBE, now)
    store.delete(email)
    count("Unsubscribed")
    return email
