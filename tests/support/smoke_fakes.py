"""Fakes the smoke tests share: a local HTTP server standing in for CloudFront / the ALB / API
Gateway, a boto3 session that hands out Stubber-driven clients for the services moto cannot
answer, and `run()` that runs one smoke fast (polling paced at 10 ms) and collects its lines.

Also what the smoke tests read from the repository: the reviewed stack snapshots, and which
registered stacks are CloudFront's us-east-1 companions. Imported by the runner's tests
(tests/deployment) and each blueprint's tests/<blueprint>/test_smoke.py; it holds no tests.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.stub import Stubber

from deployment import smoke_support
from deployment.smoke import SMOKES, run_smoke
from tests.support.synth import REPO_ROOT

RUN_ID = "0a1b2c3d4e5f"
POLL = 0.01
# The us-east-1 companions of stacks outside it (house/edge.py): one smoke for all of them.
COMPANIONS = frozenset(
    stack_id for stack_id, smoke in SMOKES.items() if smoke.__module__ == "deployment.smoke_edge"
)

Answer = tuple[int, dict[str, str], bytes]


class FakeWeb:
    """Routes (method, path) -> answer or callable(request) -> answer; a path ending in '*'
    matches by prefix. Unknown routes answer 404. Every request is recorded."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Answer | Callable[[dict], Answer]] = {}
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = {
                    "method": self.command,
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": self.rfile.read(length) if length else b"",
                }
                fake.requests.append(request)
                status, headers, body = fake.answer(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        # A client that gave up (the timeout tests) is expected, not an error to print.
        self.server.handle_error = lambda _request, _address: None
        # A short poll so that shutdown() at teardown takes milliseconds, not half a second.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def route(self, method: str, path: str, answer) -> None:
        self.routes[(method, path)] = answer

    def answer(self, request: dict) -> Answer:
        path = request["path"].split("?", 1)[0]
        handler = self.routes.get((request["method"], path))
        if handler is None:
            for (method, pattern), candidate in self.routes.items():
                if (
                    method == request["method"]
                    and pattern.endswith("*")
                    and path.startswith(pattern[:-1])
                ):
                    handler = candidate
                    break
        if handler is None:
            return 404, {"Content-Type": "application/json"}, b'{"message": "no route"}'
        return handler(request) if callable(handler) else handler


@pytest.fixture
def web(monkeypatch):
    # A proxy from the environment must not intercept the local fake.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    fake = FakeWeb()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def fixed_run_id(monkeypatch):
    """Every smoke names what it creates after RUN_ID (Stubber expectations need it)."""
    monkeypatch.setattr(smoke_support, "run_id", lambda: RUN_ID)
    return RUN_ID


class StubbedSession:
    """A boto3 Session whose clients for `stubbed` services are the same Stubber-driven
    client every time (the smoke makes a client per step); other services are real (moto)."""

    def __init__(self, region: str = "us-east-1", services: tuple[str, ...] = ()) -> None:
        self.real = boto3.Session(region_name=region)
        self.region_name = region
        self.clients = {name: self.real.client(name) for name in services}
        self.stubbers = {name: Stubber(client) for name, client in self.clients.items()}
        for stubber in self.stubbers.values():
            stubber.activate()

    def client(self, service: str, **kwargs):
        if service in self.clients:
            return self.clients[service]
        return self.real.client(service, **kwargs)

    def stub(self, service: str) -> Stubber:
        return self.stubbers[service]

    def assert_all_called(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


class SteppedClock:
    """The time a test of the smoke's bounds runs on: the real monotonic clock plus every
    second the smoke asked to sleep, which it does not really sleep. A step that waits for
    something that never comes meets its deadline after as many polls as its real pace allows,
    in a moment of real time, whatever the machine's load; the work between polls still counts
    at its real cost. (Real-time bounds were flaky: a loaded CI runner spent a whole 1 s budget
    before the step under test started.)"""

    def __init__(self) -> None:
        self.slept = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.slept

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.slept += seconds


def run(
    stack_id: str,
    outputs: dict,
    *,
    session=None,
    skip=(),
    timeout: float = 60.0,
    template: dict | None = None,
    sleep=None,
    clock: SteppedClock | None = None,
):
    """(results by step name, printed lines, seconds taken). `timeout` bounds the whole smoke
    as `--timeout` does; the default leaves room for a loaded machine (10 s ran out on a
    2-core machine at load 15: the thumbnail step was "not started: the smoke's time is up").

    Polling is paced at 10 ms of real time, unless a SteppedClock is given: then waits take
    the smoke's real pace on that clock, and the seconds returned are the clock's. Tests of
    a bound use one."""
    lines: list[str] = []
    now = clock or time.monotonic
    started = now()
    results = run_smoke(
        stack_id,
        outputs,
        session or boto3.Session(region_name="us-east-1"),
        skip=set(skip),
        deadline=now() + timeout,
        template=template,
        poll_interval=None if clock else POLL,
        sleep=sleep or (clock.sleep if clock else time.sleep),
        clock=now,
        say=lines.append,
    )
    by_step = {r.step: r for r in results}
    assert len(by_step) == len(results), "a step name ran twice"
    return by_step, lines, now() - started


def statuses(results: dict) -> dict[str, str]:
    return {name: result.status for name, result in results.items()}


def json_answer(status: int, body, headers: dict | None = None) -> Answer:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body).encode(),
    )


def snapshot_templates() -> list[tuple[str, str, dict]]:
    """(stack id, stage, template) for every stack snapshot the blueprint tests keep."""
    found = []
    for path in sorted(REPO_ROOT.glob("tests/*/__snapshots__/*/*.json")):
        match = re.search(r"\[(\w+)-(dev|prod)\]\.json$", path.name)
        if match and match[1] in SMOKES:
            found.append((match[1], match[2], json.loads(path.read_text())))
    return found


@pytest.fixture
def moto_server(monkeypatch):
    """moto in server mode on a free port, with dummy credentials and no in-process mock: every
    client the smoke makes must go to endpoint_url or fail."""
    import socket

    from moto.server import ThreadedMotoServer

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://localhost:{port}"
    server.stop()
