"""The FargateService smoke against a local HTTP server standing in for the load balancer
(and moto's SQS)."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest

from deployment.smoke_fargate import JOB_POLL
from deployment.smoke_support import resource_properties
from tests.support.smoke_fakes import (  # noqa: F401 (fixtures)
    RUN_ID,
    SteppedClock,
    fixed_run_id,
    json_answer,
    run,
    snapshot_templates,
    statuses,
    web,
)


class FakeSampleApp:
    """containers/web's routes; the worker finishes each job after `pending` polls."""

    def __init__(self, web, pending: int = 2) -> None:
        self.pending, self.jobs = pending, {}
        web.route("GET", "/health", json_answer(200, {"status": "ok"}))
        web.route(
            "GET",
            "/",
            json_answer(
                200,
                {
                    "service": "web",
                    "host": "ip-10-0-1-2",
                    "routes": ["GET /health", "POST /jobs", "GET /jobs/<id>", "GET /uploads"],
                },
            ),
        )
        web.route("POST", "/jobs", self.submit)
        web.route("GET", "/jobs/*", self.result)

    def submit(self, request):
        text = json.loads(request["body"])["text"]
        job_id = hashlib.md5(text.encode()).hexdigest()
        self.jobs[job_id] = [self.pending, text]
        return json_answer(202, {"job_id": job_id, "status": "queued"})

    def result(self, request):
        job_id = request["path"].rsplit("/", 1)[-1]
        waits, text = self.jobs[job_id]
        if waits > 0:
            self.jobs[job_id][0] -= 1
            return json_answer(404, {"job_id": job_id, "status": "pending or unknown"})
        return json_answer(
            200,
            {
                "job_id": job_id,
                "words": len(text.split()),
                "characters": len(text),
                "worker": "ip-10-0-2-3",
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
            },
        )


@pytest.fixture
def service(aws, web, fixed_run_id):
    queue = boto3.client("sqs").create_queue(QueueName="FargateService-dev-Jobs")["QueueUrl"]
    return {
        "outputs": {"ServiceUrl": web.url, "QueueUrl": queue},
        "web": web,
        "app": FakeSampleApp(web),
    }


def test_health_and_a_job_through_the_worker_pass(service):
    results, lines, _ = run("FargateService", service["outputs"])
    assert statuses(results) == {
        "queue": "PASS",
        "health": "PASS",
        "sample-app": "PASS",
        "job": "PASS",
    }, lines
    assert results["queue"].detail == "FargateService-dev-Jobs: 0 message(s) waiting"
    assert results["job"].detail.endswith("done by worker ip-10-0-2-3")
    posted = [json.loads(r["body"]) for r in service["web"].requests if r["method"] == "POST"]
    assert posted == [{"text": f"smoke test {RUN_ID}"}]


def test_a_failing_health_check_fails_and_the_job_is_not_tried(service):
    service["web"].route("GET", "/health", json_answer(503, {"status": "starting"}))
    results, _, _ = run("FargateService", service["outputs"])
    assert "answered 503, expected 200" in results["health"].detail
    assert results["sample-app"].line == "SKIP sample-app: needs health (that step failed)"
    assert results["job"].line == "SKIP job: needs sample-app (that step was skipped)"


def test_another_image_skips_the_job_saying_why(service):
    service["web"].route("GET", "/", (200, {"Content-Type": "text/html"}, b"<h1>nginx</h1>"))
    results, lines, _ = run("FargateService", service["outputs"])
    assert results["sample-app"].line.startswith("SKIP sample-app: needs the sample app (GET "), (
        lines
    )
    assert "the service runs another image" in results["sample-app"].detail
    assert results["job"].line == "SKIP job: needs sample-app (that step was skipped)"


def test_a_job_that_is_never_done_fails_at_the_deadline_polling_at_its_pace(service):
    service["app"].pending = 10**6
    clock = SteppedClock()
    results, lines, seconds = run("FargateService", service["outputs"], timeout=60, clock=clock)
    assert results["job"].status == "FAIL", lines
    assert "still not after" in results["job"].detail
    assert seconds >= 60  # it waited the whole budget (on the smoke's clock)...
    assert clock.slept <= 60  # ...and never slept past the deadline
    polls = [r for r in service["web"].requests if r["path"].startswith("/jobs/")]
    assert len(polls) <= 60 / JOB_POLL + 1, len(polls)  # at the real pace, not a busy loop


def test_a_wrong_job_result_fails(service):
    service["web"].route("GET", "/jobs/*", json_answer(200, {"words": 0, "sha256": "0"}))
    results, _, _ = run("FargateService", service["outputs"])
    assert "result is wrong" in results["job"].detail


def test_the_health_path_comes_from_the_target_group_and_a_missing_queue_fails(service):
    service["web"].route("GET", "/healthz", json_answer(200, {}))
    del service["web"].routes[("GET", "/health")]
    template = {
        "Resources": {
            "Tg": {
                "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                "Properties": {"HealthCheckPath": "/healthz"},
            }
        }
    }
    outputs = {**service["outputs"], "QueueUrl": service["outputs"]["QueueUrl"] + "-gone"}
    results, _, _ = run("FargateService", outputs, template=template)
    assert results["health"].detail.endswith("/healthz: 200")
    assert results["queue"].status == "FAIL"
    assert "NonExistentQueue" in results["queue"].detail


def test_the_health_path_read_from_the_real_templates_is_the_sample_apps():
    templates = [t for stack_id, _, t in snapshot_templates() if stack_id == "FargateService"]
    assert templates
    for template in templates:
        paths = [
            p.get("HealthCheckPath")
            for p in resource_properties(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
        ]
        assert paths == ["/health"]
