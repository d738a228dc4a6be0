"""Welcome email: DynamoDB stream (new subscriber items only) -> one SES email per subscriber.

The event source mapping filters the stream to INSERTs of `SUBSCRIBER#...` items, reports
partial batch failures, bisects a failing batch and retries a bounded number of times before
the failed records' coordinates go to the encrypted on-failure queue. This handler:

- validates each record; one it cannot use (no email, malformed address, wrong key) is a
  poison record: it is reported as a batch item failure, never silently dropped;
- claims the subscriber with a conditional update (`SET welcomedAt` only if it is not set)
  *before* sending, so a retried batch, a bisected half, or a duplicate stream record never
  sends the same welcome twice; if SES then fails, the claim is released and the record is
  reported failed, so the retry sends it.
  (The one gap: the function dies between the claim and SendEmail. That subscriber is then
  marked welcomed without an email; at most once is the right side to err on for email.)

Environment: TABLE_NAME, SENDER, SITE_URL, BLOG_NAME.
"""

from __future__ import annotations

import datetime as dt
import os
import re

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from botocore.exceptions import ClientError

logger = Logger(service="welcome-email")

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
SES = boto3.client("ses")
SENDER = os.environ["SENDER"]
SITE_URL = os.environ.get("SITE_URL", "")
BLOG_NAME = os.environ.get("BLOG_NAME", "MyBlog")

SUBSCRIBER_PREFIX = "SUBSCRIBER#"
# Deliberately simple: one @, no spaces, a dot in the domain. The API applied the same rule.
EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class PoisonRecord(ValueError):
    """A stream record this function can never turn into an email."""


def record_handler(record: DynamoDBRecord) -> str:
    if record.event_name is None or record.event_name.name != "INSERT":
        return "ignored"  # the mapping's filter passes INSERTs only; an update is not new
    image = record.dynamodb.new_image if record.dynamodb else {}
    pk, sk, email = image.get("pk"), image.get("sk"), image.get("email")
    if not isinstance(pk, str) or not pk.startswith(SUBSCRIBER_PREFIX) or not isinstance(sk, str):
        raise PoisonRecord(f"not a subscriber item: pk={pk!r}")
    if not isinstance(email, str) or len(email) > 254 or not EMAIL.match(email):
        raise PoisonRecord(f"subscriber {pk} has no valid email address")
    if pk != SUBSCRIBER_PREFIX + email.lower():
        raise PoisonRecord(f"subscriber {pk} does not match its email attribute")

    key = {"pk": pk, "sk": sk}
    claimed_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")
    try:
        TABLE.update_item(
            Key=key,
            UpdateExpression="SET welcomedAt = :now",
            # attribute_exists: an unsubscribed (deleted) address is not written back.
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(welcomedAt)",
            ExpressionAttributeValues={":now": claimed_at},
        )
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            logger.info("already welcomed (or unsubscribed); not sending again", extra={"pk": pk})
            return "duplicate"
        raise
    try:
        SES.send_email(
            Source=SENDER,
            Destination={"ToAddresses": [email]},
            Message={
                "Subject": {"Data": f"Welcome to {BLOG_NAME}", "Charset": "UTF-8"},
                "Body": {"Text": {"Data": _text(email), "Charset": "UTF-8"}},
            },
        )
    except Exception:
        # Release the claim so the retry of this record can send.
        TABLE.update_item(Key=key, UpdateExpression="REMOVE welcomedAt",
                          ConditionExpression="welcomedAt = :now",
                          ExpressionAttributeValues={":now": claimed_at})
        raise
    logger.info("welcome sent", extra={"pk": pk})
    return "sent"


def _text(email: str) -> str:
    lines = [f"Hello {email},", "", f"thank you for subscribing to {BLOG_NAME}."]
    if SITE_URL:
        lines += ["", f"New posts appear at {SITE_URL}"]
    return "\n".join(lines) + "\n"


@logger.inject_lambda_context
def handler(event: dict, context) -> dict:
    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=processor, context=context)
