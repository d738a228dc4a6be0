"""The web role: a small JSON API on $PORT, behind the ALB.

    GET  /health        liveness for the ALB target group: no AWS calls, so a slow dependency
                        never makes every task "unhealthy" at once
    POST /jobs          {"text": "..."} -> queued for the worker; 202 {"job_id": ...}
    GET  /jobs/<id>     the worker's result from the shared file system, 404 while pending
    GET  /uploads       summaries the process-upload task wrote for objects in the upload bucket

`route()` is the whole API and has no sockets in it, so tests call it directly.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

from sample_app import shared

QUEUE_URL = os.environ["QUEUE_URL"]
SQS = boto3.client("sqs")
LOG = shared.logger("web")

MAX_BODY_BYTES = 8 * 1024
MAX_TEXT_CHARS = 4000
JOB_PATH = re.compile(r"^/jobs/(?P<job_id>[^/]+)$")
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
ROUTES = {"/health": ("GET",), "/": ("GET",), "/jobs": ("POST",), "/uploads": ("GET",)}

Response = tuple[int, dict]


def route(method: str, path: str, body: bytes = b"", content_type: str | None = None) -> Response:
    path = path.split("?", 1)[0]
    if path == "/health":
        return (200, {"status": "ok"}) if method == "GET" else _not_allowed(path)
    if path == "/":
        return (
            (
                200,
                {
                    "service": "web",
                    "host": socket.gethostname(),
                    "routes": ["GET /health", "POST /jobs", "GET /jobs/<id>", "GET /uploads"],
                },
            )
            if method == "GET"
            else _not_allowed(path)
        )
    if path == "/jobs":
        return submit_job(body, content_type) if method == "POST" else _not_allowed(path)
    if path == "/uploads":
        return (
            (200, {"uploads": shared.list_json(shared.UPLOADS)})
            if method == "GET"
            else _not_allowed(path)
        )
    match = JOB_PATH.match(path)
    if match:
        return job_result(match["job_id"]) if method == "GET" else (405, {"error": "use GET"})
    return 404, {"error": f"no route {path}"}


def _not_allowed(path: str) -> Response:
    return 405, {"error": f"use {' or '.join(ROUTES[path])} on {path}"}


def submit_job(body: bytes, content_type: str | None = None) -> Response:
    if content_type and content_type.split(";")[0].strip().lower() != "application/json":
        return 415, {"error": "send the job as application/json"}
    if len(body) > MAX_BODY_BYTES:
        return 413, {"error": f"body larger than {MAX_BODY_BYTES} bytes"}
    try:
        request = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return 400, {"error": "body is not valid JSON"}
    if not isinstance(request, dict) or "text" not in request:
        return 400, {"error": "expected an object with a 'text' field"}
    text = request["text"]
    if not isinstance(text, str) or not text.strip():
        return 400, {"error": "'text' must be a non-empty string"}
    if len(text) > MAX_TEXT_CHARS:
        return 413, {"error": f"'text' longer than {MAX_TEXT_CHARS} characters"}
    unknown = sorted(set(request) - {"text"})
    if unknown:
        return 400, {"error": f"unknown field(s): {', '.join(unknown)}"}
    job_id = uuid.uuid4().hex
    SQS.send_message(
        QueueUrl=QUEUE_URL,
        MessageBody=json.dumps({"job_id": job_id, "text": text, "submitted_at": shared.now()}),
    )
    LOG.info("job queued", extra={"fields": {"job_id": job_id}})
    return 202, {"job_id": job_id, "status": "queued", "result": f"/jobs/{job_id}"}


def job_result(job_id: str) -> Response:
    if not JOB_ID.match(job_id):
        return 400, {"error": "a job id is 32 lowercase hex characters"}
    result = shared.read_json(shared.RESULTS, job_id)
    if result is None:
        return 404, {"job_id": job_id, "status": "pending or unknown"}
    return 200, {**result, "status": "done"}


class Handler(BaseHTTPRequestHandler):
    server_version = "sample-app"

    def _respond(self, status: int, document: dict) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:  # refuse before reading an oversize body into memory
            self._respond(413, {"error": f"body larger than {MAX_BODY_BYTES} bytes"})
            return
        body = self.rfile.read(length) if length else b""
        try:
            status, document = route(
                self.command, self.path, body, self.headers.get("Content-Type")
            )
        except Exception:  # never leak a stack trace to the client; log it instead
            LOG.exception("request failed", extra={"fields": {"path": self.path}})
            status, document = 500, {"error": "internal error"}
        self._respond(status, document)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        if self.path != "/health":  # the ALB checks every few seconds; keep logs useful
            LOG.info(
                "request",
                extra={"fields": {"client": self.client_address[0], "line": format % args}},
            )


def serve(port: int | None = None) -> None:
    server = ThreadingHTTPServer(("0.0.0.0", port or int(os.environ.get("PORT", "8080"))), Handler)
    # ECS sends SIGTERM on deploys and scale-in; finish in-flight requests, then exit.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    LOG.info("listening", extra={"fields": {"port": server.server_port}})
    server.serve_forever()
    server.server_close()
