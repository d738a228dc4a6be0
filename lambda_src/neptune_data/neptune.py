"""The Neptune data API client and the two kinds of failure Step Functions tells apart.

The `neptunedata` client's default endpoint is NOT the cluster: it must be
`https://<cluster endpoint>:<port>`, from the environment the stack sets. Requests are SigV4-signed
with the function's role (IAM database authentication). The endpoint is read once, at import (a
misconfigured function fails its init); the client is made on the first call that needs it and
then reused, so an event refused by validation never pays for it.

The functions run in isolated subnets with no route to X-Ray, so their construct turns tracing
off (POWERTOOLS_TRACE_DISABLED): handler_kit's Tracer is then a no-op and the X-Ray SDK is never
imported. Logs and metrics need no network: Lambda ships both from stdout.
"""

from __future__ import annotations

import dataclasses
import functools

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError
from handler_kit.errors import DomainError
from handler_kit.settings import environment


@dataclasses.dataclass(frozen=True)
class Settings:
    endpoint_url: str


@functools.cache
def settings() -> Settings:
    """The cluster this function talks to, from its environment (tests patch this)."""
    with environment() as env:
        host = env.text("CLUSTER_ENDPOINT")
        port = env.integer("CLUSTER_PORT", default=8182, minimum=1, maximum=65535)
        return Settings(endpoint_url=f"https://{host}:{port}")


@functools.cache
def neptune_client():
    return boto3.client(
        "neptunedata",
        endpoint_url=settings().endpoint_url,
        # Step Functions owns retries (with backoff and a visible history); keep the SDK's short.
        config=Config(
            retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=60
        ),
    )


class NeptuneBusy(Exception):
    """Retryable: throttled, too many concurrent loads, or the cluster briefly unreachable."""


class NeptuneRejected(DomainError):
    """Not retryable: the request itself is wrong or not allowed; retrying cannot help."""


class InvalidRequest(NeptuneRejected):
    """The event is wrong; raised before any call to Neptune."""


# Error codes of the neptunedata API worth another try after a backoff (Neptune's engine error
# table says "OK to retry" for these).
RETRYABLE = {
    "TooManyRequestsException",
    "ThrottlingException",
    "ConcurrentModificationException",
    "ConstraintViolationException",  # a 400, but transient while the graph is written in parallel
    "InternalFailureException",
    "ClientTimeoutException",
    "ServerShutdownException",
    "MemoryLimitExceededException",
    "QueryLimitExceededException",
    "CancelledByMaintenanceException",
}
# 5xx answers that say why another try cannot help: someone cancelled the request, the query's
# own fail() step failed it, or it ran out of its time limit (it would again).
FINAL_5XX = {"CancelledByUserException", "FailureByQueryException", "TimeLimitExceededException"}


def translate(error: Exception) -> Exception:
    """Map a botocore failure to NeptuneBusy (retry) or NeptuneRejected (give up)."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Unknown")
        message = error.response.get("Error", {}).get("Message") or str(error)
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        # A 429 or 5xx without a Neptune reason (a proxy's 502/503 during a restart or
        # failover, a bare throttle) is the cluster being busy, not the request being wrong.
        busy = code in RETRYABLE or (code not in FINAL_5XX and (status == 429 or status >= 500))
        return (NeptuneBusy if busy else NeptuneRejected)(f"{code}: {message}")
    if isinstance(error, ParamValidationError):  # botocore refuses to send it: every try would
        return NeptuneRejected(f"request refused before sending: {error}")
    if isinstance(error, BotoCoreError):  # timeouts, lost connections, endpoint unreachable
        return NeptuneBusy(f"cluster endpoint not reachable: {error}")
    return error


def valid_text(value: str, name: str) -> str:
    """`value`, or InvalidRequest if it cannot travel as UTF-8 (JSON can carry a lone surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidRequest(
            f"'{name}' is not valid Unicode text ({err.reason} at {err.start})"
        ) from None
    return value


settings()  # at import: a function without its endpoint fails its init, not its first event
