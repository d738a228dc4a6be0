"""The Notifications function's configuration, read once from the environment its construct
sets (blueprints/microservices/notifications.py). Tests patch `settings()`."""

from __future__ import annotations

import dataclasses
import functools

from handler_kit.settings import environment


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str
    idempotency_table: str
    idempotency_seconds: int
    dead_letter_url: str


@functools.cache
def settings() -> Settings:
    with environment() as env:
        return Settings(
            table_name=env.text("TABLE_NAME"),
            idempotency_table=env.text("IDEMPOTENCY_TABLE"),
            idempotency_seconds=env.integer("IDEMPOTENCY_SECONDS", minimum=60),
            dead_letter_url=env.text("DEAD_LETTER_URL"),
        )
