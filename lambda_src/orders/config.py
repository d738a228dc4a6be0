"""The Orders functions' configuration, read once from the environment their constructs set
(blueprints/microservices/orders.py). Tests patch `settings()`."""

from __future__ import annotations

import dataclasses
import functools

from handler_kit.settings import environment


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str  # the orders table (API only: the publisher reads its stream, not the table)
    topic_arn: str  # the shop's SNS topic (publisher only)
    event_bus_name: str  # the shop's EventBridge bus (publisher only)
    stream_name: str | None  # the order-activity Kinesis stream, when on (publisher only)
    inventory_url: str | None  # Inventory's stock API (SigV4), when on (API only)


@functools.cache
def settings() -> Settings:
    with environment() as env:
        return Settings(
            # The publisher's construct sets no TABLE_NAME: required here, its init would fail.
            table_name=env.text("TABLE_NAME", default=""),
            topic_arn=env.text("TOPIC_ARN", default=""),
            event_bus_name=env.text("EVENT_BUS_NAME", default=""),
            stream_name=env.text("STREAM_NAME", default=None),
            inventory_url=env.text("INVENTORY_URL", default=None, pattern=r"https://[^\s]+/"),
        )
