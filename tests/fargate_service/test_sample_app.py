"""The sample app in containers/web, role by role, against moto: every route and every bad
input the API refuses (with nothing written), the worker's poison-message path to the DLQ,
and the one-off tasks."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

import boto3
import pytest

JOB_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def queue(aws, monkeypatch):
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="jobs",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    monkeypatch.setenv("QUEUE_URL", url)
    return {"url": url, "dlq": dlq, "client": sqs}


def messages(queue_url: str) -> list[dict]:
    sqs = boto3.client("sqs")
    found = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
        "Messages", []
    )
    return [json.loads(m["Body"]) for m in found]


def shared_files() -> list[str]:
    root = os.environ["SHARED_DIR"]
    return sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files
    )


# -- web -----------------------------------------------------------------------------------------


def test_health_answers_without_touching_aws(sample_app, monkeypatch, aws):
    monkeypatch.setenv("QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/missing")
    web = sample_app("web")
    assert web.route("GET", "/health") == (200, {"status": "ok"})
    status, body = web.route("GET", "/")
    assert status == 200 and "POST /jobs" in body["routes"]


def test_submit_job_queues_it_and_the_result_is_served_once_written(sample_app, queue):
    web = sample_app("web")
    status, body = web.route("POST", "/jobs", b'{"text": "three little words"}', "application/json")
    assert status == 202 and body["status"] == "queued"
    job_id = body["job_id"]
    assert [m["job_id"] for m in messages(queue["url"])] == [job_id]
    assert web.route("GET", f"/jobs/{job_id}") == (
        404,
        {"job_id": job_id, "status": "pending or unknown"},
    )
    worker = sample_app("worker")
    worker.process({"job_id": job_id, "text": "three little words"})
    status, result = sample_app("web").route("GET", f"/jobs/{job_id}?fresh=1")
    assert status == 200 and result["status"] == "done" and result["words"] == 3


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b"{not json", "application/json", 400, "not valid JSON"),
        (b"\xff\xfe", None, 400, "not valid JSON"),
        (b"", None, 400, "an object with a 'text' field"),
        (b'["text"]', None, 400, "an object with a 'text' field"),
        (b'{"words": "x"}', None, 400, "an object with a 'text' field"),
        (b'{"text": 5}', None, 400, "non-empty string"),
        (b'{"text": "   "}', None, 400, "non-empty string"),
        (b'{"text": "ok", "priority": 1}', None, 400, "unknown field(s): priority"),
        (json.dumps({"text": "x" * 4001}).encode(), None, 413, "longer than 4000"),
        (b"x" * 9000, None, 413, "larger than 8192 bytes"),
        (b'{"text": "ok"}', "text/plain", 415, "application/json"),
    ],
)
def test_bad_job_requests_are_refused_and_nothing_is_queued(
    sample_app, queue, body, content_type, status, error
):
    web = sample_app("web")
    answer = web.route("POST", "/jobs", body, content_type)
    assert answer[0] == status and error in answer[1]["error"]
    assert messages(queue["url"]) == []


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/jobs/not-a-job-id", 400),
        ("GET", f"/jobs/{JOB_ID.upper()}", 400),
        ("DELETE", f"/jobs/{JOB_ID}", 405),
        ("GET", "/jobs", 405),
        ("POST", "/health", 405),
        ("PUT", "/uploads", 405),
        ("GET", "/admin", 404),
        ("GET", f"/jobs/{JOB_ID}/extra", 404),
    ],
)
def test_bad_paths_and_methods(sample_app, queue, method, path, status):
    assert sample_app("web").route(method, path)[0] == status


def test_uploads_lists_the_summaries_newest_first(sample_app, queue):
    shared = sample_app("shared")
    shared.write_json("uploads", "a.txt", {"key": "a.txt"})
    time.sleep(0.01)
    shared.write_json("uploads", "b.txt", {"key": "b.txt"})
    (shared.root() / "uploads" / ".tmp-half-written.json").write_text("{")
    assert sample_app("web").route("GET", "/uploads") == (
        200,
        {"uploads": [{"key": "b.txt"}, {"key": "a.txt"}]},
    )


def test_http_server_round_trip_and_oversize_bodies_refused_unread(sample_app, queue):
    web = sample_app("web")
    server = ThreadingHTTPServer(("127.0.0.1", 0), web.Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
            assert response.status == 200 and json.load(response) == {"status": "ok"}
        request = urllib.request.Request(
            f"{base}/jobs",
            data=b'{"text": "hi"}',
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 202
        big = urllib.request.Request(f"{base}/jobs", data=b"x" * 100_000, method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(big, timeout=5)
        assert refused.value.code == 413
        assert json.load(refused.value)["error"].startswith("body larger than")
    finally:
        server.shutdown()
        server.server_close()
    assert len(messages(queue["url"])) == 1


def test_unexpected_errors_become_500_without_a_stack_trace(sample_app, queue, monkeypatch):
    web = sample_app("web")
    monkeypatch.setattr(web, "route", lambda *a: 1 / 0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), web.Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/health", timeout=5)
        assert failed.value.code == 500
        assert json.load(failed.value) == {"error": "internal error"}
    finally:
        server.shutdown()
        server.server_close()


# -- worker ----------------------------------------------------------------------------------------


def test_worker_writes_the_result_and_deletes_the_message(sample_app, queue):
    queue["client"].send_message(
        QueueUrl=queue["url"],
        MessageBody=json.dumps(
            {
                "job_id": JOB_ID,
                "text": "hello shared world",
                "submitted_at": "2026-11-01T00:00:00+00:00",
            }
        ),
    )
    worker = sample_app("worker")
    assert worker.poll_once(wait_seconds=0) == (1, 0)
    result = sample_app("shared").read_json("results", JOB_ID)
    assert result["words"] == 3
    assert result["sha256"] == hashlib.sha256(b"hello shared world").hexdigest()
    assert messages(queue["url"]) == []


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps(["a list"]),
        json.dumps({"job_id": "../../etc/passwd", "text": "x"}),
        json.dumps({"job_id": JOB_ID, "text": 42}),
        json.dumps({"job_id": JOB_ID, "text": "x" * 4001}),
    ],
)
def test_poison_messages_are_never_written_and_end_in_the_dead_letter_queue(
    sample_app, queue, body
):
    queue["client"].send_message(QueueUrl=queue["url"], MessageBody=body)
    worker = sample_app("worker")
    # maxReceiveCount is 2 (visibility 0): two failed receives, then SQS moves it to the DLQ.
    assert worker.poll_once(wait_seconds=0) == (0, 1)
    assert worker.poll_once(wait_seconds=0) == (0, 1)
    assert worker.poll_once(wait_seconds=0) == (0, 0)
    assert shared_files() == []
    dead = queue["client"].receive_message(QueueUrl=queue["dlq"]).get("Messages", [])
    assert [m["Body"] for m in dead] == [body]


def test_a_good_job_next_to_a_poison_one_is_still_done(sample_app, queue):
    for body in ("garbage", json.dumps({"job_id": JOB_ID, "text": "fine"})):
        queue["client"].send_message(QueueUrl=queue["url"], MessageBody=body)
    assert sample_app("worker").poll_once(wait_seconds=0) == (1, 1)
    assert shared_files() == [f"results/{JOB_ID}.json"]


def test_worker_stops_after_the_batch_on_sigterm(sample_app, queue, monkeypatch):
    worker = sample_app("worker")
    previous = signal.getsignal(signal.SIGTERM)
    batches = []

    def poll_and_get_stopped():
        batches.append(1)
        os.kill(os.getpid(), signal.SIGTERM)
        return 0, 0

    monkeypatch.setattr(worker, "poll_once", poll_and_get_stopped)
    try:
        worker.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert batches == [1]


# -- one-off tasks -------------------------------------------------------------------------------


@pytest.fixture
def bucket(aws, monkeypatch):
    boto3.client("s3").create_bucket(Bucket="uploads")
    monkeypatch.setenv("UPLOAD_BUCKET", "uploads")
    return boto3.client("s3")


def test_process_upload_summarises_the_object(sample_app, bucket, monkeypatch):
    data = os.urandom(3 * 1024 * 1024 + 7)
    bucket.put_object(
        Bucket="uploads", Key="in/report.bin", Body=data, ContentType="application/octet-stream"
    )
    monkeypatch.setenv("OBJECT_KEY", "in/report.bin")
    assert sample_app("tasks").process_upload() == 0
    (summary,) = sample_app("shared").list_json("uploads")
    assert summary["size"] == len(data)
    assert summary["sha256"] == hashlib.sha256(data).hexdigest()
    assert summary["key"] == "in/report.bin" and summary["bucket"] == "uploads"
    assert shared_files() == ["uploads/in%2Freport.bin.json"]


def test_process_upload_accepts_a_url_encoded_key(sample_app, bucket, monkeypatch):
    bucket.put_object(Bucket="uploads", Key="q1 sales+tax.csv", Body=b"a,b\n")
    monkeypatch.setenv("OBJECT_KEY", "q1+sales%2Btax.csv")
    assert sample_app("tasks").process_upload() == 0
    assert sample_app("shared").list_json("uploads")[0]["key"] == "q1 sales+tax.csv"


@pytest.mark.parametrize(("key", "code"), [("", 2), ("missing.txt", 1), ("no%20such", 1)])
def test_process_upload_fails_loudly_and_writes_nothing(sample_app, bucket, monkeypatch, key, code):
    monkeypatch.setenv("OBJECT_KEY", key)
    assert sample_app("tasks").process_upload() == code
    assert shared_files() == []


def test_prune_deletes_only_files_older_than_the_retention(sample_app, monkeypatch, aws):
    shared = sample_app("shared")
    old = shared.write_json("results", "old", {"n": 1})
    new = shared.write_json("uploads", "new", {"n": 2})
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    monkeypatch.setenv("RETENTION_DAYS", "7")
    assert sample_app("tasks").prune() == 0
    assert not old.exists() and new.exists()


@pytest.mark.parametrize("days", ["", "seven", "0"])
def test_prune_refuses_a_bad_retention(sample_app, monkeypatch, aws, days):
    kept = sample_app("shared").write_json("results", "kept", {})
    os.utime(kept, (0, 0))
    monkeypatch.setenv("RETENTION_DAYS", days)
    assert sample_app("tasks").prune() == 2
    assert kept.exists()


def test_entry_point_rejects_an_unknown_role(sample_app, capsys):
    assert sample_app("__main__").main(["python", "nonsense"]) == 2
    assert "unknown role 'nonsense'" in capsys.readouterr().err
