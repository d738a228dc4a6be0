"""handler_kit.observability in a fresh interpreter set up as Lambda sets one up: every log line
carries the correlation id; metrics are EMF in the construct's namespace, with the service; the
Tracer traces (X-Ray SDK, botocore patched) only where the construct leaves tracing on, and is
disabled without importing the X-Ray SDK where it turns it off (POWERTOOLS_TRACE_DISABLED)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.handlers import LAMBDA_SRC

SCRIPT = """
import json
import sys
sys.path[:0] = [{kit!r}]
from handler_kit.observability import correlate, count, instrumented, logger, tracer

class Context:
    function_name = "f"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    aws_request_id = "req-1"

@instrumented(correlation_id=lambda event: event.get("id"))
def handler(event, context):
    logger.info("first")
    correlate("record-2")
    logger.info("second")
    count("Things", 2)
    return "done"

handler({{"id": "event-1"}}, Context())
print(json.dumps({{
    "xray_imported": "aws_xray_sdk.core" in sys.modules,
    "tracer_disabled": tracer.disabled,
    "botocore_patched": "aws_xray_sdk.ext.botocore.patch" in sys.modules,
}}))
"""


def run(trace_disabled: str) -> list[dict]:
    environment = {
        "PATH": "/usr/bin:/bin",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": "f",
        "LAMBDA_TASK_ROOT": "/tmp",  # what makes Powertools and the X-Ray SDK see Lambda
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;"
        "Sampled=1",
        "POWERTOOLS_SERVICE_NAME": "kit-test",
        "POWERTOOLS_METRICS_NAMESPACE": "KitTest-dev",
        "POWERTOOLS_TRACE_DISABLED": trace_disabled,
    }
    script = SCRIPT.format(kit=str(LAMBDA_SRC / "layers" / "handler_kit"))
    done = subprocess.run(
        [sys.executable, "-I", "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module", params=["false", "true"])
def output(request) -> tuple[str, list[dict]]:
    return request.param, run(request.param)


def test_every_log_line_carries_the_correlation_id(output):
    _, lines = output
    logs = [line for line in lines if "message" in line]
    assert [(line["message"], line["correlation_id"]) for line in logs] == [
        ("first", "event-1"),
        ("second", "record-2"),
    ]
    assert all(line["service"] == "kit-test" and line["cold_start"] for line in logs)


def test_metrics_are_emf_in_the_constructs_namespace_with_the_service(output):
    _, lines = output
    blobs = [line for line in lines if "_aws" in line]
    metrics = {
        metric["Name"]: blob
        for blob in blobs
        for directive in blob["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }
    assert set(metrics) == {"Things", "ColdStart"}
    things = metrics["Things"]
    assert things["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "KitTest-dev"
    assert things["Things"] == [2.0] and things["service"] == "kit-test"
    assert things["correlation_id"] == "event-1"


def test_the_tracer_follows_the_construct(output):
    trace_disabled, lines = output
    (state,) = [line for line in lines if "xray_imported" in line]
    if trace_disabled == "true":
        assert state == {"xray_imported": False, "tracer_disabled": True, "botocore_patched": False}
    else:
        assert state == {"xray_imported": True, "tracer_disabled": False, "botocore_patched": True}
