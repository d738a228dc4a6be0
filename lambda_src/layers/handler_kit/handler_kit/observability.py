"""Logs, traces and metrics for every handler: Powertools Logger (structured JSON), Tracer (X-Ray)
and Metrics (CloudWatch embedded metric format), configured by the function's construct.

    from handler_kit.observability import instrumented, logger, metrics

    @instrumented(correlation_id=lambda event: event["requestContext"]["requestId"])
    def handler(event, context): ...

The construct (house.lambda_function.python_function) sets, and this module requires:
    POWERTOOLS_SERVICE_NAME       the `service` key of every log line, metric and trace
    POWERTOOLS_METRICS_NAMESPACE  the CloudWatch namespace of the metrics (the stack's name)
    POWERTOOLS_TRACE_DISABLED     "true" where the function's X-Ray tracing is off (in a VPC
                                  with no route to X-Ray): the Tracer is then a Powertools Tracer
                                  with nothing behind it, and the X-Ray SDK is never imported

`instrumented` wraps a handler in the Logger's Lambda context (cold start, request id, cleared
keys per invocation), the metrics flush (plus the ColdStart metric) and, when tracing is on, a
`## handler` subsegment; it sets the correlation id (the API Gateway request id, an event's own
id) on the logger, as a trace annotation and as metrics metadata. Event handlers that process a
batch call `correlate(id)` per record so each record's log lines carry its own id.

Cold start: Logger and Metrics cost ~20 ms to import. The X-Ray SDK costs more (its recorder,
wrapt, asyncio); it is imported only when tracing is on, because then the first invocation
needs it anyway, and only botocore is patched (the one library whose calls are worth a
subsegment here; the default patches every library the SDK knows, importing each).
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from handler_kit.settings import environment

with environment() as _env:
    SERVICE = _env.text("POWERTOOLS_SERVICE_NAME")
    NAMESPACE = _env.text("POWERTOOLS_METRICS_NAMESPACE")
    TRACING = not _env.flag("POWERTOOLS_TRACE_DISABLED")


class _Untraced(BaseSegment):
    def close(self, end_time=None): ...
    def add_subsegment(self, subsegment): ...
    def remove_subsegment(self, subsegment): ...
    def put_annotation(self, key, value): ...
    def put_metadata(self, key, value, namespace="default"): ...
    def add_exception(self, exception, stack, remote=False): ...


class _NoTracing(BaseProvider):
    """The Tracer's provider where tracing is off: every call is a no-op, no SDK behind it."""

    @contextlib.contextmanager
    def in_subsegment(self, name=None, **kwargs) -> Iterator[BaseSegment]:
        yield _Untraced()

    in_subsegment_async = in_subsegment

    def put_annotation(self, key, value): ...
    def put_metadata(self, key, value, namespace="default"): ...
    def patch(self, modules): ...
    def patch_all(self): ...


logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = (
    Tracer(service=SERVICE, patch_modules=["botocore"])
    if TRACING
    else Tracer(service=SERVICE, disabled=True, auto_patch=False, provider=_NoTracing())
)


def correlate(correlation_id: str | None) -> None:
    """Every following log line (and the trace) carries this id; None clears it."""
    logger.set_correlation_id(correlation_id)
    if correlation_id is not None:
        tracer.put_annotation("correlation_id", correlation_id)


def instrumented(
    handler: Callable | None = None,
    *,
    correlation_id: Callable[[Any], str | None] = lambda _event: None,
) -> Callable:
    """Logger context + metrics flush + X-Ray subsegment around `handler(event, context)`;
    `correlation_id(event)` names the invocation (it must not raise on any event)."""
    if handler is None:
        return functools.partial(instrumented, correlation_id=correlation_id)

    @functools.wraps(handler)
    def correlated(event: Any, context: Any) -> Any:
        identifier = correlation_id(event)
        correlate(identifier)
        if identifier is not None:
            metrics.add_metadata("correlation_id", identifier)
        return handler(event, context)

    traced = tracer.capture_lambda_handler(correlated, capture_response=False)
    measured = metrics.log_metrics(traced, capture_cold_start_metric=True)
    logged = logger.inject_lambda_context(measured, clear_state=True)

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        with warnings.catch_warnings():
            # An invocation that counted nothing (a refused request) is not worth a warning.
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            return logged(event, context)

    return run


def count(name: str, value: int = 1) -> None:
    """Add `value` to the metric `name` (unit Count) for this invocation."""
    metrics.add_metric(name=name, unit="Count", value=value)


def path(*keys: str) -> Callable[[Any], str | None]:
    """A correlation-id reader: the string at event[k1][k2]..., or None if the event has none."""

    def read(event: Any) -> str | None:
        for key in keys:
            event = event.get(key) if isinstance(event, dict) else None
        return event if isinstance(event, str) and event else None

    return read


def first_record(read_id: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    """A correlation-id reader for a batch event: `read_id` of its first record (a handler then
    calls `correlate(read_id(record))` as it takes each record)."""

    def read(event: Any) -> str | None:
        records = event.get("Records") if isinstance(event, dict) else None
        return read_id(records[0]) if isinstance(records, list) and records else None

    return read
