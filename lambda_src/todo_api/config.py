"""The to-do function's configuration, read once from the environment its construct sets
(blueprints/my_todo_list/todo_api.py). Tests patch `settings()`."""

from __future__ import annotations

import dataclasses
import functools

from handler_kit.settings import environment


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str
    read_your_writes_ms: int  # the DAX query-cache TTL (or DynamoDB's settling time), in ms
    page_size: int
    max_page_size: int
    allowed_origins: tuple[str, ...]  # CORS; empty: no CORS headers


@functools.cache
def settings() -> Settings:
    with environment() as env:
        max_page_size = env.integer("MAX_PAGE_SIZE", default=100, minimum=1, maximum=1000)
        return Settings(
            table_name=env.text("TABLE_NAME"),
            read_your_writes_ms=env.integer("READ_YOUR_WRITES_SECONDS", default=5, minimum=0)
            * 1000,
            page_size=env.integer("PAGE_SIZE", default=25, minimum=1, maximum=max_page_size),
            max_page_size=max_page_size,
            allowed_origins=env.items("ALLOWED_ORIGINS", default=()),
        )
