"""Bulk loads: start a Neptune loader job from S3, and report its status to Step Functions.

`start_load` accepts either an explicit request, as a user starts the workflow by hand:
    {"source": "s3://<staging bucket>/graphs/sample/", "format": "csv", "parallelism": "HIGH"}
or the marker object that EventBridge reports when one lands in the staging bucket:
    {"marker": {"bucket": "<staging bucket>", "key": "incoming/batch-42.ready"}}
which loads the folder `incoming/batch-42/` in the format configured for automatic loads.
Every option is checked before Neptune is called; a wrong one raises InvalidRequest. Neptune's
answers become NeptuneBusy (Step Functions retries it with backoff) or NeptuneRejected (the
execution fails with the reason); nothing else escapes for a bad event or a botocore error.

The load id is the correlation id of every log line once Neptune has given one (load_status is
called with it); metrics count loads started and loads that did not complete.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any

from handler_kit.observability import correlate, count, instrumented, logger, path
from handler_kit.settings import environment
from neptune import (
    InvalidRequest,
    NeptuneBusy,
    NeptuneRejected,
    neptune_client,
    translate,
    valid_text,
)

FORMATS = ("csv", "opencypher", "ntriples", "nquads", "rdfxml", "turtle")
ROLE_ARN = r"arn:aws[a-z-]*:iam::[0-9]{12}:role/.+"


@dataclasses.dataclass(frozen=True)
class Settings:
    staging_bucket: str
    load_role_arn: str
    region: str
    marker_suffix: str
    auto_load_format: str


@functools.cache
def settings() -> Settings:
    """The loader's configuration, from the environment the stack sets (tests patch this)."""
    with environment() as env:
        return Settings(
            staging_bucket=env.text("STAGING_BUCKET"),
            load_role_arn=env.text("LOAD_ROLE_ARN", pattern=ROLE_ARN),
            region=env.text("AWS_REGION"),
            marker_suffix=env.text("MARKER_SUFFIX", default=".ready"),
            auto_load_format=env.choice("AUTO_LOAD_FORMAT", FORMATS, default="csv"),
        )


settings()  # at import: a function without its configuration fails its init, not its first event

MODES = ("NEW", "RESUME", "AUTO")
PARALLELISM = ("LOW", "MEDIUM", "HIGH", "OVERSUBSCRIBE")
PARSER_OPTIONS = {"baseUri", "namedGraphUri", "allowEmptyStrings"}
# Safe defaults: fail the whole load on the first bad record instead of loading half a graph;
# queue behind a running load instead of failing; leave query capacity free (MEDIUM).
DEFAULTS = {
    "mode": "AUTO",
    "parallelism": "MEDIUM",
    "failOnError": True,
    "queueRequest": True,
    "updateSingleCardinalityProperties": False,
}
POLL_SECONDS = (5, 3600)
ALLOWED_KEYS = {
    "source",
    "format",
    "mode",
    "parallelism",
    "failOnError",
    "queueRequest",
    "parserConfiguration",
    "updateSingleCardinalityProperties",
    "pollSeconds",
    "marker",
}
IN_PROGRESS = {"LOAD_NOT_STARTED", "LOAD_IN_QUEUE", "LOAD_IN_PROGRESS"}


def _choice(event: dict, key: str, allowed: tuple[str, ...]) -> str:
    value = event.get(key, DEFAULTS.get(key))
    if not isinstance(value, str) or value not in allowed:
        raise InvalidRequest(f"'{key}' is {value!r}; allowed: {', '.join(allowed)}")
    return value


def _flag(event: dict, key: str) -> bool:
    value = event.get(key, DEFAULTS[key])
    if not isinstance(value, bool):
        raise InvalidRequest(f"'{key}' must be true or false, got {value!r}")
    return value


def _source(event: dict) -> str:
    """The S3 URI to load; it must name the staging bucket (the only one the role can read)."""
    staging, suffix = settings().staging_bucket, settings().marker_suffix
    marker = event.get("marker")
    if marker is not None:
        if "source" in event:
            raise InvalidRequest("give either 'source' or 'marker', not both")
        if not isinstance(marker, dict) or not isinstance(marker.get("key"), str):
            raise InvalidRequest('\'marker\' must be {"bucket": ..., "key": ...}')
        if marker.get("bucket") != staging:
            raise InvalidRequest(
                f"marker bucket {marker.get('bucket')!r} is not the staging bucket"
            )
        key = valid_text(marker["key"], "marker.key")
        if not key.endswith(suffix) or key == suffix:
            raise InvalidRequest(f"marker key {key!r} does not end with {suffix!r}")
        return f"s3://{staging}/{key[: -len(suffix)]}/"
    source = event.get("source")
    if not isinstance(source, str) or not source:
        raise InvalidRequest("'source' is required: an s3:// URI in the staging bucket")
    if not valid_text(source, "source").startswith("s3://"):
        raise InvalidRequest(f"'source' must be an s3:// URI, got {source!r}")
    bucket = source[len("s3://") :].split("/", 1)[0]
    if bucket != staging:
        raise InvalidRequest(
            f"'source' bucket {bucket!r} is not the staging bucket {staging!r}; the load "
            "role can read only the staging bucket, and the VPC endpoint reaches only it"
        )
    return source


def build_request(event: Any) -> dict:
    """The `start_loader_job` arguments for `event`, or InvalidRequest naming what is wrong."""
    if not isinstance(event, dict):
        raise InvalidRequest(f"the input must be a JSON object, got {type(event).__name__}")
    unknown = set(event) - ALLOWED_KEYS
    if unknown:
        raise InvalidRequest(
            f"unknown option(s) {sorted(map(str, unknown))}; allowed: {sorted(ALLOWED_KEYS)}"
        )
    has_marker = "marker" in event
    if has_marker and "format" not in event:
        event = {**event, "format": settings().auto_load_format}
    request = {
        "source": _source(event),
        "format": _choice(event, "format", FORMATS),
        # The bucket is created in the cluster's region by the stack.
        "s3BucketRegion": settings().region,
        "iamRoleArn": settings().load_role_arn,
        "mode": _choice(event, "mode", MODES),
        "parallelism": _choice(event, "parallelism", PARALLELISM),
        "failOnError": _flag(event, "failOnError"),
        "queueRequest": _flag(event, "queueRequest"),
        "updateSingleCardinalityProperties": _flag(event, "updateSingleCardinalityProperties"),
    }
    parser = event.get("parserConfiguration")
    if parser is not None:
        if (
            not isinstance(parser, dict)
            or set(parser) - PARSER_OPTIONS
            or not all(isinstance(v, str) for v in parser.values())
        ):
            raise InvalidRequest(
                f"'parserConfiguration' must map {sorted(PARSER_OPTIONS)} to "
                f"strings, got {parser!r}"
            )
        for name, value in parser.items():
            valid_text(value, f"parserConfiguration.{name}")
        request["parserConfiguration"] = parser
    return request


def poll_seconds(event: dict) -> int:
    value = event.get("pollSeconds", 30)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (POLL_SECONDS[0] <= value <= POLL_SECONDS[1])
    ):
        raise InvalidRequest(
            f"'pollSeconds' must be an integer {POLL_SECONDS[0]}..{POLL_SECONDS[1]}"
        )
    return value


@instrumented
def start_load(event: Any, _context: Any) -> dict:
    request = build_request(event)
    wait = poll_seconds(event)
    try:
        response = neptune_client().start_loader_job(**request)
    except Exception as error:  # noqa: BLE001 - every failure is classified for Step Functions
        raise translate(error) from error
    payload = response.get("payload")
    load_id = payload.get("loadId") if isinstance(payload, dict) else None
    if not isinstance(load_id, str) or not load_id:
        # Retrying could start the load a second time; fail with what Neptune said instead.
        raise NeptuneRejected(f"start_loader_job answered without a loadId: {payload!r:.500}")
    correlate(load_id)
    logger.info("load started", extra={"loadId": load_id, "source": request["source"]})
    count("LoadsStarted")
    return {
        "loadId": load_id,
        "source": request["source"],
        "format": request["format"],
        "pollSeconds": wait,
    }


@instrumented(correlation_id=path("loadId"))
def load_status(event: Any, _context: Any) -> dict:
    """{"loadId"} -> {"loadId", "status", "done", "succeeded", "cause"} for the Choice state."""
    load_id = event.get("loadId") if isinstance(event, dict) else None
    if not isinstance(load_id, str) or not load_id:
        raise InvalidRequest("'loadId' is required")
    valid_text(load_id, "loadId")
    try:
        response = neptune_client().get_loader_job_status(
            loadId=load_id, details=True, errors=True, errorsPerPage=5
        )
    except Exception as error:  # noqa: BLE001
        raise translate(error) from error
    # An answer this cannot read is a load it cannot call finished well: UNKNOWN is terminal and
    # not a success, so the execution fails with the status Neptune gave, never with a crash.
    payload = _object(response.get("payload"))
    overall = _object(payload.get("overallStatus"))
    status = overall.get("status") if isinstance(overall.get("status"), str) else "UNKNOWN"
    done = status not in IN_PROGRESS
    result = {
        "loadId": load_id,
        "status": status,
        "done": done,
        "succeeded": status == "LOAD_COMPLETED",
        "cause": "",
    }
    if done and status != "LOAD_COMPLETED":
        logs = _object(payload.get("errors")).get("errorLogs")
        first_errors = [
            {k: e.get(k) for k in ("errorCode", "errorMessage", "fileName", "recordNum")}
            for e in (logs if isinstance(logs, list) else [])[:5]
            if isinstance(e, dict)
        ]
        counts = {
            k: overall.get(k)
            for k in ("totalRecords", "parsingErrors", "datatypeMismatchErrors", "insertErrors")
        }
        result["cause"] = json.dumps(
            {"loadId": load_id, "status": status, "counts": counts, "firstErrors": first_errors}
        )
        logger.error("load did not complete", extra={"loadId": load_id, "status": status})
        count("LoadsFailed")
    return result


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def __getattr__(name: str) -> Any:
    # `loader.client`: the cluster's client, made on first use, for callers that hold this module
    # (the wiring tests put botocore's Stubber on it).
    if name == "client":
        return neptune_client()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["start_load", "load_status", "InvalidRequest", "NeptuneBusy", "NeptuneRejected"]
