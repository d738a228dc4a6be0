"""Inventory's demand counter: OrderPlaced events on the order-activity Kinesis stream add each
line's quantity to its SKU's `demanded` count, once per event (handler_kit.messages with a
stream: a failing record is reported by sequence number, the mapping bisects and retries, then
parks it; a record that breaks the contract is parked at once, with the reason)."""

from __future__ import annotations

import config
import stock
from handler_kit.messages import Message, QueueConsumer

config.settings()


def process(message: Message) -> None:
    stock.count_demand(message.payload)


handler = QueueConsumer(
    read=Message.of_kinesis,
    process=process,
    dead_letters=lambda: config.settings().dead_letter_url,
    idempotency_table=lambda: config.settings().idempotency_table,
    remember_seconds=lambda: config.settings().idempotency_seconds,
    stream=True,
).handler
