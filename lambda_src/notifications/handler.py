"""Notifications: the shop's SNS topic, filtered by the subscription to the events a customer
hears about (OrderPlaced, StockShortage), becomes one notification per event in the
notifications table (the outbox a mail or SMS sender reads; sending is not part of the shop).

handler_kit.messages does the rest: a message that breaks its event's contract goes to the
dead-letter queue with the reason, other failures are retried, repeats are dropped."""

from __future__ import annotations

import config
import notices
from handler_kit.messages import Message, QueueConsumer

config.settings()


def process(message: Message) -> None:
    notices.record(message.event_type, message.payload)


handler = QueueConsumer(
    read=Message.of_sns,
    process=process,
    dead_letters=lambda: config.settings().dead_letter_url,
    idempotency_table=lambda: config.settings().idempotency_table,
    remember_seconds=lambda: config.settings().idempotency_seconds,
).handler
