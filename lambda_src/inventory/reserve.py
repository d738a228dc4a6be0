"""Inventory's order consumer: OrderPlaced events from the shop's event bus (an EventBridge rule
sends them to this function's queue) reserve stock, once each; the outcome (StockReserved or
StockShortage) goes to the shop's SNS topic. handler_kit.messages does the rest: contract
breaks go to the dead-letter queue with the reason, other failures are retried, repeats are
dropped by the idempotency table."""

from __future__ import annotations

import config
import stock
from handler_kit.messages import Message, QueueConsumer

config.settings()


def process(message: Message) -> None:
    stock.reserve(message.payload)


handler = QueueConsumer(
    read=Message.of_eventbridge,
    process=process,
    dead_letters=lambda: config.settings().dead_letter_url,
    idempotency_table=lambda: config.settings().idempotency_table,
    remember_seconds=lambda: config.settings().idempotency_seconds,
).handler
