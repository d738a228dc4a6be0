"""Inventory's stock files: a JSON file put under imports/ of the stock bucket (S3's "Object
Created" event on the default EventBridge bus, sent by a rule to this function's queue) sets the
available count of each SKU it lists (shop_contracts/events/StockImport.json). A file that
breaks the contract, is not JSON or is too large goes to the dead-letter queue with the reason.

The idempotency key is the object's sequencer: the same upload's event delivered twice is done
once, and a new upload of the same key (a new sequencer) is done again."""

from __future__ import annotations

import hashlib
import json

import config
import stock
from handler_kit.errors import InvalidInput
from handler_kit.messages import Message, QueueConsumer

config.settings()


def read(record: dict) -> Message:
    try:
        event = json.loads(record.get("body") or "")
    except (ValueError, RecursionError):
        raise InvalidInput("the message body is not JSON") from None
    detail = event.get("detail") if isinstance(event, dict) else None
    try:
        bucket = detail["bucket"]["name"]
        key = detail["object"]["key"]
        sequencer = detail["object"].get("sequencer", "")
    except (TypeError, KeyError, AttributeError):
        raise InvalidInput("the S3 event names no bucket and key") from None
    if not isinstance(bucket, str) or not isinstance(key, str):
        raise InvalidInput("the S3 event names no bucket and key")
    identity = json.dumps([bucket, key, sequencer]).encode()
    request = detail.get("request-id")
    return Message(
        event_type="StockImport",
        payload={"bucket": bucket, "key": key},
        event_id=hashlib.sha256(identity).hexdigest()[:32],
        correlation_id=request if isinstance(request, str) else None,
    )


def process(message: Message) -> None:
    stock.import_file(
        message.payload["bucket"], message.payload["key"], config.settings().max_import_bytes
    )


handler = QueueConsumer(
    read=read,
    process=process,
    dead_letters=lambda: config.settings().dead_letter_url,
    idempotency_table=lambda: config.settings().idempotency_table,
    remember_seconds=lambda: config.settings().idempotency_seconds,
).handler
