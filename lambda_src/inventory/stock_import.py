"""Inventory's stock files: a JSON file put under imports/ of the stock bucket (an S3 event
notification to this function's queue) sets the available count of each SKU it lists
(shop_contracts/events/StockImport.json). A file that breaks the contract, is not JSON or is too
large goes to the dead-letter queue with the reason; S3's test event is skipped."""

from __future__ import annotations

import hashlib
import json
import urllib.parse

import config
import stock
from handler_kit.errors import InvalidInput
from handler_kit.messages import Message, QueueConsumer

config.settings()


def read(record: dict) -> Message | None:
    try:
        notification = json.loads(record.get("body") or "")
    except (ValueError, RecursionError):
        raise InvalidInput("the message body is not JSON") from None
    if not isinstance(notification, dict):
        raise InvalidInput("the message body is not a JSON object")
    if notification.get("Event") == "s3:TestEvent":
        return None
    objects = []
    for entry in notification.get("Records") or []:
        s3 = entry.get("s3") if isinstance(entry, dict) else None
        try:
            objects.append(
                {
                    "bucket": s3["bucket"]["name"],
                    # S3 event keys are URL-encoded, spaces as '+'
                    "key": urllib.parse.unquote_plus(s3["object"]["key"]),
                    "sequencer": s3["object"].get("sequencer", ""),
                }
            )
        except (TypeError, KeyError):
            raise InvalidInput("the S3 event names no bucket and key") from None
    if not objects:
        raise InvalidInput("the S3 event has no records")
    request = (notification["Records"][0].get("responseElements") or {}).get("x-amz-request-id")
    # The same object version's event has the same id: S3 may deliver it more than once.
    identity = json.dumps(objects, sort_keys=True).encode()
    return Message(
        event_type="StockImport",
        payload={"objects": objects},
        event_id=hashlib.sha256(identity).hexdigest()[:32],
        correlation_id=request if isinstance(request, str) else None,
    )


def process(message: Message) -> None:
    limit = config.settings().max_import_bytes
    for item in message.payload["objects"]:
        stock.import_file(item["bucket"], item["key"], limit)


handler = QueueConsumer(
    read=read,
    process=process,
    dead_letters=lambda: config.settings().dead_letter_url,
    idempotency_table=lambda: config.settings().idempotency_table,
    remember_seconds=lambda: config.settings().idempotency_seconds,
).handler
