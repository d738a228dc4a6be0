"""The subscriptions API's configuration, read once from the environment its construct sets
(blueprints/my_blog/subscriptions.py). Tests patch `settings()`."""

from __future__ import annotations

import dataclasses
import functools

from handler_kit import origin
from handler_kit.settings import environment


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str  # the subscribers table
    token_key_id: str  # the KMS HMAC key the links are signed with (this function only verifies)
    requests_per_hour: int  # per source, over every subscription route
    confirm_link_hours: int  # how long a confirmation link (and the pending address) lives
    origin_lock: origin.OriginLock | None


@functools.cache
def settings() -> Settings:
    with environment() as env:
        values = dict(
            table_name=env.text("TABLE_NAME"),
            token_key_id=env.text("TOKEN_KEY_ID"),
            requests_per_hour=env.integer("REQUESTS_PER_HOUR", minimum=1, maximum=1000),
            confirm_link_hours=env.integer("CONFIRM_LINK_HOURS", minimum=1, maximum=168),
        )
    return Settings(**values, origin_lock=origin.from_environment())
