"""Subscription mail: the subscribers table's stream -> SES, double opt-in.

    INSERT (or re-request) of a pending subscriber  -> the confirmation mail: a signed link that
                                                       expires with the pending item
    MODIFY pending -> confirmed                      -> the welcome mail
    every mail                                       -> a signed unsubscribe link

The event source mapping passes only those records (its filters, blueprints/my_blog/
subscriptions.py: a pending subscriber not yet sent a confirmation, a confirmed one not yet
welcomed), reports partial batch failures, bisects a failing batch and retries a bounded number
of times before the failed records' coordinates go to the encrypted on-failure queue. This
handler:

- validates each record; one it cannot use (not a stream record, no email, an address outside
  the one address rule (handler_kit.email_address), a key that does not match its address, no
  link expiry) is a poison record: it is reported as a batch item failure, never silently
  dropped, and never stops the records after it. Any other record is ignored;
- signs the links first (KMS GenerateMac: this function can sign, the API can only verify), then
  claims the mail with a conditional update before sending (`confirmationFor = requestedAt` for
  a confirmation, so a new request after the link expired gets a new mail; `welcomedAt` for the
  welcome), so a retried batch, a bisected half or a duplicate record never sends the same mail
  twice; if SES then refuses or cannot be reached, the claim is released and the record is
  reported failed, so the retry sends it. If SES may have sent it (the answer was lost: a read
  timeout, a dropped connection), the claim is kept and nothing is resent. (The one gap: the
  function dies between the claim and SendEmail, or cannot release the claim after SES refused.
  That mail is then never sent, and the second case is logged as an error naming the
  subscriber; at most once is the right side to err on for email.) A claim's condition also
  requires the item as the record saw it: an address unsubscribed (deleted) or re-requested in
  the meantime is not mailed for the old record.

A batch in which every record failed raises BatchFailed, so the mapping bisects it; an event
that is not a stream batch has no record to retry and is answered with no failures.

Every log line carries the record's eventID as its correlation id; metrics count the mails sent,
the duplicates skipped and the records failed (handler_kit.observability).

Environment: TABLE_NAME, SENDER, SITE_URL, BLOG_NAME, TOKEN_KEY_ID (read once, at import).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any

import boto3
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from handler_kit import signed_tokens
from handler_kit.email_address import deliverable
from handler_kit.errors import InvalidInput
from handler_kit.observability import correlate, count, first_record, instrumented, logger
from handler_kit.settings import environment

SUBSCRIBER_PREFIX = "SUBSCRIBER#"
# The page of the site that reads the token from the URL fragment (never sent to a server, so
# never in an access log) and asks before it confirms or unsubscribes: a mail scanner that
# follows every link does neither.
LINK_PATH = "/subscription"
CONFIRM, UNSUBSCRIBE = "confirm", "unsubscribe"
# A lost answer may mean SES sent it: resending could send a second mail.
OUTCOME_UNKNOWN = (ReadTimeoutError, ConnectionClosedError)


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str
    sender: str
    site_url: str
    blog_name: str
    token_key_id: str


@functools.cache
def settings() -> Settings:
    """The function's configuration, from the environment the stack sets (tests patch this)."""
    with environment() as env:
        return Settings(
            table_name=env.text("TABLE_NAME"),
            sender=env.text("SENDER"),
            site_url=env.text("SITE_URL").rstrip("/"),
            blog_name=env.text("BLOG_NAME", default="MyBlog"),
            token_key_id=env.text("TOKEN_KEY_ID"),
        )


settings()  # at import: a function without its configuration fails its init, not its first event


# Clients are made on first use and reused for the life of the execution environment.
@functools.cache
def table():
    return boto3.resource("dynamodb").Table(settings().table_name)


@functools.cache
def ses():
    return boto3.client("ses")


class PoisonRecord(InvalidInput):
    """A stream record this function can never turn into an email."""


class BatchFailed(Exception):
    """Every record of the batch failed: the invocation fails, so the mapping bisects it."""

    def __init__(self, errors: list[Exception]) -> None:
        super().__init__(
            f"all {len(errors)} records failed: "
            + "; ".join(f"{type(e).__name__}: {e}" for e in errors[:5])
        )
        self.errors = errors


@dataclasses.dataclass(frozen=True)
class Mail:
    """One mail to one subscriber, and the claim that makes it at-most-once."""

    kind: str  # "confirmation" or "welcome", for logs and metrics
    key: dict
    email: str
    subject: str
    text: str
    claim: str  # the attribute the claim sets, REMOVEd again if SES refuses
    claim_value: str
    condition: str  # what the item must still be for this mail
    values: dict


def _string(image: dict, name: str) -> str | None:
    """A string attribute of a stream image (`{"S": "..."}`), or None."""
    value = image.get(name)
    return value["S"] if isinstance(value, dict) and isinstance(value.get("S"), str) else None


def _number(image: dict, name: str) -> int | None:
    value = image.get(name)
    text = value.get("N") if isinstance(value, dict) else None
    return int(text) if isinstance(text, str) and text.isascii() and text.isdigit() else None


def _link(action: str, token: str) -> str:
    return f"{settings().site_url}{LINK_PATH}#{action}={token}"


def record_handler(record: Any) -> str:
    if not isinstance(record, dict) or not isinstance(record.get("dynamodb"), dict):
        raise PoisonRecord("not a DynamoDB stream record")
    event_name = record.get("eventName")
    if event_name == "REMOVE":
        return "ignored"  # an unsubscribe or an expired link: nothing to send
    if event_name not in ("INSERT", "MODIFY"):
        raise PoisonRecord(f"unknown eventName {event_name!r:.40}")
    image = record["dynamodb"].get("NewImage")
    image = image if isinstance(image, dict) else {}
    old = record["dynamodb"].get("OldImage")
    old = old if isinstance(old, dict) else {}
    pk, sk, email = _string(image, "pk"), _string(image, "sk"), _string(image, "email")
    if pk is None or not pk.startswith(SUBSCRIBER_PREFIX) or sk is None:
        raise PoisonRecord(f"not a subscriber item: pk={pk!r:.80}")
    if not deliverable(email):
        raise PoisonRecord(f"subscriber {pk!r:.80} has no address we can deliver to")
    if pk != SUBSCRIBER_PREFIX + email.lower():
        raise PoisonRecord(f"subscriber {pk!r:.80} does not match its email attribute")
    key = {"pk": pk, "sk": sk}
    status = _string(image, "status")
    if status == "pending" and "confirmationFor" not in image:
        return _send(_confirmation(key, email, image))
    if status == "confirmed" and "welcomedAt" not in image and _string(old, "status") != status:
        return _send(_welcome(key, email))
    return "ignored"  # the function's own claims, or an update that asks for no mail


def _confirmation(key: dict, email: str, image: dict) -> Mail:
    requested, expires_at = _string(image, "requestedAt"), _number(image, "expiresAt")
    if requested is None or not expires_at:
        raise PoisonRecord(f"pending subscriber {key['pk']!r:.80} has no request time or expiry")
    key_id, blog = settings().token_key_id, settings().blog_name
    confirm = signed_tokens.sign(key_id, CONFIRM, email, expires_at=expires_at)
    forget = signed_tokens.sign(key_id, UNSUBSCRIBE, email)
    until = dt.datetime.fromtimestamp(expires_at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"Hello,\n\nsomeone, hopefully you, asked to receive the new posts of {blog} at "
        f"{email}.\nTo confirm, open this link and press Confirm (it works until {until}):\n\n"
        f"{_link(CONFIRM, confirm)}\n\nNot you? Ignore this mail: nothing is sent to this "
        "address again, and it is forgotten when the link expires. Or forget it now:\n\n"
        f"{_link(UNSUBSCRIBE, forget)}\n"
    )
    return Mail(
        kind="confirmation",
        key=key,
        email=email,
        subject=f"Confirm your subscription to {blog}",
        text=text,
        claim="confirmationFor",
        claim_value=requested,
        condition="#status = :pending AND requestedAt = :claim AND "
        "attribute_not_exists(confirmationFor)",
        values={":pending": "pending"},
    )


def _welcome(key: dict, email: str) -> Mail:
    blog, site = settings().blog_name, settings().site_url
    forget = signed_tokens.sign(settings().token_key_id, UNSUBSCRIBE, email)
    text = (
        f"Hello {email},\n\nthank you for subscribing to {blog}: new posts appear at {site}\n\n"
        f"To unsubscribe, open this link and press Unsubscribe:\n\n"
        f"{_link(UNSUBSCRIBE, forget)}\n"
    )
    return Mail(
        kind="welcome",
        key=key,
        email=email,
        subject=f"Welcome to {blog}",
        text=text,
        claim="welcomedAt",
        claim_value=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        condition="#status = :confirmed AND attribute_not_exists(welcomedAt)",
        values={":confirmed": "confirmed"},
    )


def _send(mail: Mail) -> str:
    pk = mail.key["pk"]
    try:
        table().update_item(
            Key=mail.key,
            UpdateExpression=f"SET {mail.claim} = :claim",
            # The item as the record saw it: an unsubscribed (deleted) address is not written
            # back, a re-requested one is mailed for its new request only.
            ConditionExpression=mail.condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":claim": mail.claim_value, **mail.values},
        )
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            logger.info(
                f"{mail.kind} already sent (or no longer wanted); not sending again",
                extra={"pk": pk},
            )
            count("DuplicatesSkipped")
            return "duplicate"
        raise
    try:
        ses().send_email(
            Source=settings().sender,
            Destination={"ToAddresses": [mail.email]},
            Message={
                "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": mail.text, "Charset": "UTF-8"}},
            },
        )
    except OUTCOME_UNKNOWN as err:
        logger.error(
            f"SES did not answer; the {mail.kind} may have been sent and is not sent again",
            extra={"pk": pk, "error": str(err)},
        )
        return "unknown"
    except Exception:
        # Release the claim so the retry of this record can send.
        try:
            table().update_item(
                Key=mail.key,
                UpdateExpression=f"REMOVE {mail.claim}",
                ConditionExpression=f"{mail.claim} = :claim",
                ExpressionAttributeValues={":claim": mail.claim_value},
            )
        except Exception:
            logger.exception(
                f"SES failed and the claim could not be released: the {mail.kind} of this "
                "subscriber will not be sent by a retry",
                extra={"pk": pk},
            )
            raise
        raise
    logger.info(f"{mail.kind} sent", extra={"pk": pk})
    count("ConfirmationsSent" if mail.kind == "confirmation" else "WelcomesSent")
    return "sent"


def _item_identifier(record: Any) -> str:
    """The record's sequence number, or "" if it has none: Lambda treats an empty identifier as
    a failure of the whole batch and retries it from its start, so it is never skipped."""
    dynamodb = record.get("dynamodb") if isinstance(record, dict) else None
    sequence = dynamodb.get("SequenceNumber") if isinstance(dynamodb, dict) else None
    return sequence if isinstance(sequence, str) else ""


def _event_id(record: Any) -> str | None:
    """The stream record's own id (eventID), the correlation id of its log lines."""
    identifier = record.get("eventID") if isinstance(record, dict) else None
    return identifier if isinstance(identifier, str) and identifier else None


@instrumented(correlation_id=first_record(_event_id))
def handler(event: Any, context) -> dict:
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        logger.error(
            "not a DynamoDB stream batch; nothing to process",
            extra={"event_type": type(event).__name__},
        )
        return {"batchItemFailures": []}
    failures, errors = [], []
    for record in records:
        correlate(_event_id(record))
        try:
            record_handler(record)
        except Exception as err:  # noqa: BLE001 - one record's failure is reported, not raised
            count("RecordsFailed")
            identifier = _item_identifier(record)
            logger.warning(
                "record failed; reported for retry",
                exc_info=True,
                extra={"sequence_number": identifier},
            )
            failures.append({"itemIdentifier": identifier})
            errors.append(err)
    if records and len(errors) == len(records):
        raise BatchFailed(errors) from errors[0]
    return {"batchItemFailures": failures}
