"""The ContainerWebApp smoke against a local HTTP server standing in for the Express Mode (or
App Runner) URL: health, the sample app, and a database visit through a paused database."""

from __future__ import annotations

import pytest

from deployment.smoke_container_app import RESUME_POLL, RESUME_WITHIN
from tests.support.smoke_fakes import (  # noqa: F401 (fixtures)
    SteppedClock,
    fixed_run_id,
    json_answer,
    run,
    statuses,
    web,
)
from tests.support.synth import requires

pytestmark = requires("container-web-app")

STACK = "ContainerWebApp"


class FakeWebApp:
    """containers/web_app's routes; /visits answers 503 `resuming` times first (a paused
    Aurora Serverless v2 instance waking up)."""

    def __init__(self, web, engine: str = "express", resuming: int = 2) -> None:
        self.resuming, self.visits = resuming, 0
        web.route("GET", "/health", json_answer(200, {"status": "ok"}))
        web.route(
            "GET",
            "/",
            json_answer(
                200,
                {
                    "service": "container-web-app",
                    "engine": engine,
                    "host": "ip-10-0-0-12",
                    "database": "configured",
                    "routes": ["GET /health", "GET /", "GET /visits"],
                },
            ),
        )
        web.route("GET", "/visits", self.visit)

    def visit(self, request):
        if self.resuming:
            self.resuming -= 1
            return json_answer(503, {"error": "the database is unavailable; try again shortly"})
        self.visits += 1
        return json_answer(200, {"visits": self.visits})


def outputs(web, **extra) -> dict:
    return {
        "ServiceUrl": web.url,
        "ServiceAccess": "public",
        "Engine": "express",
        "DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf",
        **extra,
    }


def test_health_app_and_a_visit_after_the_database_resumes_pass(web, fixed_run_id):
    app = FakeWebApp(web)
    results, lines, _ = run(STACK, outputs(web))
    assert statuses(results) == {"health": "PASS", "sample-app": "PASS", "database": "PASS"}, lines
    assert app.visits == 1 and app.resuming == 0
    assert "visit 1 recorded" in results["database"].detail


def test_the_health_path_comes_from_the_template(web, fixed_run_id):
    FakeWebApp(web)
    web.route("GET", "/ready", json_answer(200, {"status": "ok"}))
    web.route("GET", "/health", json_answer(500, {"error": "not this one"}))
    template = {
        "Resources": {
            "Service": {
                "Type": "AWS::ECS::ExpressGatewayService",
                "Properties": {"HealthCheckPath": "/ready"},
            }
        }
    }
    results, lines, _ = run(STACK, outputs(web), template=template)
    assert results["health"].status == "PASS", lines


def test_an_engine_mismatch_fails(web, fixed_run_id):
    FakeWebApp(web, engine="apprunner")
    results, lines, _ = run(STACK, outputs(web))
    assert results["sample-app"].status == "FAIL", lines


def test_without_a_database_the_visit_is_skipped(web, fixed_run_id):
    FakeWebApp(web)
    results, _, _ = run(STACK, outputs(web, DatabaseSecretArn=""))
    assert statuses(results)["database"] == "SKIP"


def test_an_internal_service_skips_the_http_steps_saying_why(web, fixed_run_id):
    FakeWebApp(web)
    results, _, _ = run(STACK, outputs(web, ServiceAccess="internal"))
    assert statuses(results) == {"health": "SKIP", "sample-app": "SKIP", "database": "SKIP"}
    assert "internal" in results["health"].detail


@pytest.mark.parametrize("status", [500, 404])
def test_a_failing_health_check_fails_and_skips_the_rest(web, fixed_run_id, status):
    web.route("GET", "/health", json_answer(status, {"error": "down"}))
    results, _, _ = run(STACK, outputs(web))
    assert statuses(results) == {"health": "FAIL", "sample-app": "SKIP", "database": "SKIP"}


@pytest.mark.parametrize("timeout", [60, 300])
def test_a_database_that_never_resumes_fails_within_its_bound(web, fixed_run_id, timeout):
    """The smoke's deadline, or the step's own RESUME_WITHIN when the deadline is later."""
    FakeWebApp(web, resuming=10_000)
    results, lines, seconds = run(STACK, outputs(web), timeout=timeout, clock=SteppedClock())
    assert results["database"].status == "FAIL", lines
    assert "still not after" in results["database"].detail
    bound = min(timeout, RESUME_WITHIN)
    assert bound <= seconds < bound + RESUME_POLL, seconds
