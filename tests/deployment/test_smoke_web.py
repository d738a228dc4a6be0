"""The FargateService, UpdateServer and UpdateOffload smokes against a local HTTP server
standing in for the load balancer and the CloudFront distribution (and moto's SQS)."""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest

from tests.deployment.test_smoke_fakes import RUN_ID, fixed_run_id, json_answer, run, statuses, web  # noqa: F401 (fixtures)

# -- FargateService -------------------------------------------------------------------------------


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


def test_a_job_that_is_never_done_fails_within_the_timeout(service):
    service["app"].pending = 10**6
    results, _, seconds = run("FargateService", service["outputs"], timeout=1.0)
    assert results["job"].status == "FAIL"
    assert "still not after" in results["job"].detail
    assert seconds < 10  # the bound held (generous: shared machines are noisy)


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


# -- UpdateServer / UpdateOffload ----------------------------------------------------------------

UPDATE = b"\x1f\x8b sample update 1.0.0"
MANIFEST = {
    "version": "1.0.0",
    "url": "/updates/1.0.0/app-1.0.0.tar.gz",
    "sha256": hashlib.sha256(UPDATE).hexdigest(),
    "size": len(UPDATE),
}


@pytest.fixture
def updates(web):
    web.route("GET", "/updates/latest.json", json_answer(200, MANIFEST))
    web.route(
        "GET",
        "/updates/1.0.0/app-1.0.0.tar.gz",
        (200, {"Content-Type": "application/gzip"}, UPDATE),
    )
    return web


def test_update_server_serves_the_manifest_and_the_update_it_names(updates):
    results, lines, _ = run("UpdateServer", {"ManifestUrl": f"{updates.url}/updates/latest.json"})
    assert statuses(results) == {"manifest": "PASS", "download": "PASS"}, lines
    assert results["download"].detail.endswith(f"{len(UPDATE)} bytes, SHA-256 as in the manifest")


def test_update_server_fails_on_a_checksum_mismatch(updates):
    updates.route("GET", "/updates/1.0.0/app-1.0.0.tar.gz", (200, {}, b"corrupted"))
    results, _, _ = run("UpdateServer", {"ManifestUrl": f"{updates.url}/updates/latest.json"})
    assert results["download"].status == "FAIL"
    assert f"the manifest says {MANIFEST['sha256']}" in results["download"].detail


def test_update_server_fails_when_the_manifest_is_not_one(updates):
    updates.route("GET", "/updates/latest.json", (200, {}, b"<html>It works!</html>"))
    results, _, _ = run("UpdateServer", {"ManifestUrl": f"{updates.url}/updates/latest.json"})
    assert "not JSON" in results["manifest"].detail


LOCKED = {
    "Resources": {
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "DefaultActions": [
                    {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "403"}}
                ]
            },
        }
    }
}


def test_a_locked_origin_must_refuse_direct_requests(updates):
    url = f"{updates.url}/updates/latest.json"
    results, lines, _ = run("UpdateServer", {"ManifestUrl": url}, template=LOCKED)
    assert results["manifest"].status == "FAIL", lines  # the fake serves it: not locked
    assert "answered 200, expected 403" in results["manifest"].detail
    updates.route("GET", "/updates/latest.json", (403, {}, b"Forbidden"))
    results, _, _ = run("UpdateServer", {"ManifestUrl": url}, template=LOCKED)
    assert statuses(results) == {"manifest": "PASS"}
    assert "403 directly, as the origin lock intends" in results["manifest"].detail


def cloudfront(updates, *caches: str) -> None:
    """The update behind a distribution whose successive answers carry these x-cache values."""
    answers = list(caches)

    def answer(_request):
        headers = {"X-Cache": answers.pop(0)} if answers else {}
        return 200, {"Content-Type": "application/gzip", **headers}, UPDATE

    updates.route("GET", "/updates/1.0.0/app-1.0.0.tar.gz", answer)


def test_offload_downloads_twice_and_reports_the_cache_hit(updates):
    cloudfront(updates, "Miss from cloudfront", "Hit from cloudfront")
    outputs = {
        "UpdateBaseUrl": f"{updates.url}/",
        "ManifestUrl": f"{updates.url}/updates/latest.json",
    }
    results, lines, _ = run("UpdateOffload", outputs)
    assert statuses(results) == {
        "manifest": "PASS",
        "download": "PASS",
        "download-again": "PASS",
    }, lines
    assert results["download-again"].detail.startswith(
        "x-cache: Hit from cloudfront: served from the edge cache"
    )


def test_offload_reports_a_second_miss_without_failing(updates):
    cloudfront(updates, "Miss from cloudfront", "Miss from cloudfront")
    results, _, _ = run("UpdateOffload", {"UpdateBaseUrl": f"{updates.url}/"})
    assert results["manifest"].detail.startswith(f"{updates.url}/updates/latest.json")
    assert results["download-again"].status == "PASS"
    assert "not served from the edge cache" in results["download-again"].detail


def test_offload_fails_when_the_answer_did_not_come_through_cloudfront(updates):
    results, _, _ = run("UpdateOffload", {"UpdateBaseUrl": f"{updates.url}/"})
    assert results["download"].status == "FAIL"
    assert "no x-cache header" in results["download"].detail
    assert results["download-again"].status == "SKIP"
