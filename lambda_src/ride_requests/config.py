"""The ride-request function's configuration, read once from the environment its construct sets
(blueprints/serverless_web_app/requests_api.py). Tests patch `settings()`."""

from __future__ import annotations

import dataclasses
import functools

from handler_kit.settings import environment


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str
    retention_days: int  # a request expires (DynamoDB TTL) this long after its pickup time
    max_days_ahead: int  # the furthest ahead a pickup may be booked
    page_size: int
    max_page_size: int
    allowed_origins: tuple[str, ...]  # CORS, when the site calls the API cross-origin; else ()


@functools.cache
def settings() -> Settings:
    with environment() as env:
        max_page_size = env.integer("MAX_PAGE_SIZE", default=50, minimum=1, maximum=1000)
        return Settings(
            table_name=env.text("TABLE_NAME"),
            retention_days=env.integer("RETENTION_DAYS", minimum=1, maximum=3650),
            max_days_ahead=env.integer("MAX_DAYS_AHEAD", default=90, minimum=1, maximum=365),
            page_size=env.integer("PAGE_SIZE", default=20, minimum=1, maximum=max_page_size),
            max_page_size=max_page_size,
            allowed_origins=env.items("ALLOWED_ORIGINS", default=()),
        )
