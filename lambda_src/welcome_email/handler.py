"""Welcome email: DynamoDB stream (new subscriber items only) -> one SES email per subscriber.

The event source mapping filters the stream to INSERTs of `SUBSCRIBER#...` items, reports
partial batch failures, bisects a failing batch and retries a bounded number of times before
the failed records' coordinates go to the encrypted on-failure queue. This handler:

- validates each record; one it cannot use (not a stream record, no email, an address SES can
  never send to, wrong key) is a poison record: it is reported as a batch item failure, never
  silently dropped, and never stops the records after it;
- claims the subscriber with a conditional update (`SET welcomedAt` only if it is not set)
  *before* sending, so a retried batch, a bisected half, or a duplicate stream record never
  sends the same welcome twice; if SES then refuses or cannot be reached, the claim is released
  and the record is reported failed, so the retry sends it. If SES may have sent it (the answer
  was lost: a read timeout, a dropped connection), the claim is kept and nothing is resent.
  (The one gap: the function dies between the claim and SendEmail, or cannot release the claim
  after SES refused. That subscriber is then marked welcomed without an email, and the second
  case is logged as an error naming them; at most once is the right side to err on for email.)

A batch in which every record failed raises BatchFailed, so the mapping bisects it; an event
that is not a stream batch has no record to retry and is answered with no failures.

Every log line carries the record's eventID as its correlation id; metrics count the welcomes
sent, the duplicates skipped and the records failed (handler_kit.observability).

Environment: TABLE_NAME, SENDER, SITE_URL, BLOG_NAME (read once, at import, by settings()).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from typing import Any

import boto3
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from handler_kit.errors import InvalidInput
from handler_kit.observability import correlate, count, first_record, instrumented, logger
from handler_kit.settings import environment

SUBSCRIBER_PREFIX = "SUBSCRIBER#"
# One @, a dot in the domain, printable 7-bit ASCII only: SES takes no other address (no
# SMTPUTF8), so anything else could never be sent and would only churn claims and retries.
EMAIL = re.compile(r"^[!-?A-~]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# A lost answer may mean SES sent it: resending could send a second welcome.
OUTCOME_UNKNOWN = (ReadTimeoutError, ConnectionClosedError)


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str
    sender: str
    site_url: str
    blog_name: str


@functools.cache
def settings() -> Settings:
    """The function's configuration, from the environment the stack sets (tests patch this)."""
    with environment() as env:
        return Settings(
            table_name=env.text("TABLE_NAME"),
            sender=env.text("SENDER"),
            site_url=env.text("SITE_URL", default=""),
            blog_name=env.text("BLOG_NAME", default="MyBlog"),
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


def _string(image: dict, name: str) -> str | None:
    """A string attribute of a stream image (`{"S": "..."}`), or None."""
    value = image.get(name)
    return value["S"] if isinstance(value, dict) and isinstance(value.get("S"), str) else None


def record_handler(record: Any) -> str:
    if not isinstance(record, dict) or not isinstance(record.get("dynamodb"), dict):
        raise PoisonRecord("not a DynamoDB stream record")
    event_name = record.get("eventName")
    if event_name in ("MODIFY", "REMOVE"):
        return "ignored"  # the mapping's filter passes INSERTs only; an update is not new
    if event_name != "INSERT":
        raise PoisonRecord(f"unknown eventName {event_name!r:.40}")
    image = record["dynamodb"].get("NewImage")
    image = image if isinstance(image, dict) else {}
    pk, sk, email = _string(image, "pk"), _string(image, "sk"), _string(image, "email")
    if pk is None or not pk.startswith(SUBSCRIBER_PREFIX) or sk is None:
        raise PoisonRecord(f"not a subscriber item: pk={pk!r:.80}")
    if email is None or len(email) > 254 or not EMAIL.match(email):
        raise PoisonRecord(f"subscriber {pk!r:.80} has no valid email address")
    if pk != SUBSCRIBER_PREFIX + email.lower():
        raise PoisonRecord(f"subscriber {pk!r:.80} does not match its email attribute")

    key = {"pk": pk, "sk": sk}
    claimed_at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    try:
        table().update_item(
            Key=key,
            UpdateExpression="SET welcomedAt = :now",
            # attribute_exists: an unsubscribed (deleted) address is not written back.
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(welcomedAt)",
            ExpressionAttributeValues={":now": claimed_at},
        )
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            logger.info("already welcomed (or unsubscribed); not sending again", extra={"pk": pk})
            count("DuplicatesSkipped")
            return "duplicate"
        raise
    try:
        ses().send_email(
            Source=settings().sender,
            Destination={"ToAddresses": [email]},
            Message={
                "Subject": {"Data": f"Welcome to {settings().blog_name}", "Charset": "UTF-8"},
                "Body": {"Text": {"Data": _text(email), "Charset": "UTF-8"}},
            },
        )
    except OUTCOME_UNKNOWN as err:
        logger.error(
            "SES did not answer; the welcome may have been sent and is not sent again",
            extra={"pk": pk, "error": str(err)},
        )
        return "unknown"
    except Exception:
        # Release the claim so the retry of this record can send.
        try:
            table().update_item(
                Key=key,
                UpdateExpression="REMOVE welcomedAt",
                ConditionExpression="welcomedAt = :now",
                ExpressionAttributeValues={":now": claimed_at},
            )
        except Exception:
            logger.exception(
                "SES failed and the claim could not be released: this subscriber "
                "will not be welcomed by a retry",
                extra={"pk": pk},
            )
            raise
        raise
    logger.info("welcome sent", extra={"pk": pk})
    count("WelcomesSent")
    return "sent"


def _text(email: str) -> str:
    lines = [f"Hello {email},", "", f"thank you for subscribing to {settings().blog_name}."]
    if settings().site_url:
        lines += ["", f"New posts appear at {settings().site_url}"]
    return "\n".join(lines) + "\n"


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
