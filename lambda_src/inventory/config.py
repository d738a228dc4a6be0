"""The Inventory functions' configuration, read once from the environment their constructs set
(blueprints/microservices/inventory.py). Tests patch `settings()`."""

from __future__ import annotations

import dataclasses
import functools

from handler_kit.settings import environment


@dataclasses.dataclass(frozen=True)
class Settings:
    stock_table: str
    idempotency_table: str
    idempotency_seconds: int
    dead_letter_url: str  # where this function parks a poison message, with the reason
    topic_arn: str  # the shop's SNS topic (reserve only)
    max_import_bytes: int  # stock files larger than this are refused (stock_import only)


@functools.cache
def settings() -> Settings:
    with environment() as env:
        return Settings(
            stock_table=env.text("STOCK_TABLE"),
            idempotency_table=env.text("IDEMPOTENCY_TABLE"),
            idempotency_seconds=env.integer("IDEMPOTENCY_SECONDS", minimum=60),
            dead_letter_url=env.text("DEAD_LETTER_URL"),
            topic_arn=env.text("TOPIC_ARN", default=""),
            max_import_bytes=env.integer("MAX_IMPORT_BYTES", default=1024 * 1024, minimum=1),
        )
