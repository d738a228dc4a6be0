"""shop_contracts: the microservices shop's contracts, one checked-in file each, and the one
place that reads them (a layer of every function of the blueprint; the stacks, the tests and
`make sdk` read the same files from this folder).

    openapi/<service>.json     OpenAPI 3.0 of each service's API (orders: the public REST API,
                               imported by API Gateway as it is plus its integrations; inventory:
                               the IAM-authorized stock API in front of the container)
    events/<EventType>.json    JSON Schema (draft 4, the subset handler_kit.schema checks) of
                               each event a service emits or a file it reads

Every event carries `eventType`, `eventId` (its idempotency key), `correlationId` (the request
that started it: the API Gateway request id, carried from hop to hop in message attributes)
and `occurredAt`. A consumer checks each message with `check_event` before it acts: a message
that fails is a poison message (its DLQ, with the reason), never a retry.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OPENAPI = HERE / "openapi"
EVENTS = HERE / "events"
# The SNS/SQS message attributes every hop carries (filter policies read eventType).
EVENT_TYPE_ATTRIBUTE = "eventType"
CORRELATION_ATTRIBUTE = "correlationId"


def openapi_path(service: str) -> Path:
    return OPENAPI / f"{service}.json"


def openapi(service: str) -> dict[str, Any]:
    """The OpenAPI document of `service` (a fresh copy each call: callers may add to it)."""
    return json.loads(openapi_path(service).read_text())


def event_types() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in EVENTS.glob("*.json")))


@functools.cache
def event_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of event `name`, read once and checked for keywords the validator lacks."""
    from handler_kit import schema

    path = EVENTS / f"{name}.json"
    if not path.is_file():
        raise LookupError(f"no contract for event {name!r}; events: {', '.join(event_types())}")
    return schema.checked(json.loads(path.read_text()), name)


def check_event(name: str, value: Any) -> dict[str, Any]:
    """`value` if it is a valid `name` event, else handler_kit.errors.InvalidInput naming the
    first problem."""
    from handler_kit import schema

    return schema.validate(value, event_schema(name))
