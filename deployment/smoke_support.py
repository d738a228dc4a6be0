"""What every smoke test is made of: steps with declared capabilities, a shared deadline,
bounded AWS and HTTP calls, polling, and clean-ups that run even when a step fails.

The blueprint smokes (`deployment/smoke_*.py`) are written against `Smoke` only; the runner and
the user-facing explanation are in `deployment/smoke.py`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
import struct
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# What a step may need beyond plain AWS API calls. A local endpoint (moto in server mode)
# answers none of them: LOCAL_ENDPOINT_SKIP is the `skip` set for a deploy rehearsal.
CAPABILITIES: dict[str, str] = {
    "http": "reaching a URL from the stack's outputs over the internet",
    "cognito-auth": "a real Cognito user pool: admin-created users, SRP sign-in, TOTP MFA, "
    "identity-pool credentials",
    "lambda-runs": "Lambda code actually executing",
    "sfn-runs": "Step Functions executions actually running their states",
    "neptune": "a running Neptune cluster behind the stack's functions",
    "iam-enforced": "IAM evaluating policies, so that a denial is real",
    "eks-control-plane": "the EKS API beyond clusters, node groups and Fargate profiles: "
    "access entries, add-ons, Pod Identity associations",
    "ecs-tasks-run": "ECS starting a service's tasks (its running count reaching the desired one)",
}
LOCAL_ENDPOINT_SKIP = frozenset(CAPABILITIES)

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
# Per-call caps; each call also gets no more than the time left before the deadline.
HTTP_TIMEOUT = 20.0
AWS_CONNECT_TIMEOUT = 10.0
AWS_READ_TIMEOUT = 30.0
# Clean-ups run after the deadline too (a leaked test user is worse than a late exit), for at
# most this long in all.
CLEANUP_GRACE = 60.0
# What an HTTP answer keeps in memory; bigger bodies are still hashed and counted in full.
MAX_BODY_BYTES = 5 * 1024 * 1024
USER_AGENT = "aws-architecture-blueprints-smoke/1"


@dataclasses.dataclass(frozen=True)
class StepResult:
    step: str
    status: str  # PASS, FAIL or SKIP
    detail: str
    seconds: float = 0.0
    needs: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        return f"{self.status} {self.step}: {self.detail}"


class StepFailed(Exception):
    """The step's check did not hold; the message says what was expected and what came."""


class StepSkipped(Exception):
    """The step cannot apply to this deployment (e.g. the service runs another image)."""

    def __init__(self, need: str, why: str) -> None:
        super().__init__(f"needs {need} ({why})")


@dataclasses.dataclass(frozen=True)
class HttpResponse:
    url: str
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes  # at most MAX_BODY_BYTES
    size: int  # of the whole body
    sha256: str  # of the whole body

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise StepFailed(
                f"{self.url} answered {self.status} with a body that is not JSON: "
                f"{self.body[:120]!r}"
            ) from None


def run_id() -> str:
    """A short random id naming everything one smoke run creates, so it can be found and
    deleted (and never collides with a user's data or another run)."""
    return secrets.token_hex(6)


def tiny_png(width: int = 48, height: int = 32) -> bytes:
    """A valid RGB PNG (a gradient), built with zlib and struct: no imaging library needed."""
    rows = b"".join(
        b"\x00"
        + bytes(
            channel for x in range(width) for channel in (x * 255 // width, y * 255 // height, 128)
        )
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def describe_error(error: BaseException) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        operation = getattr(error, "operation_name", "")
        return f"{operation}: {info.get('Code', '?')}: {info.get('Message', '')}".strip(": ")
    return f"{type(error).__name__}: {error}"


def lambda_environment(template: Mapping | None, *names: str) -> dict[str, str]:
    """Literal environment values of the first function in the template that sets all `names`
    (e.g. the thumbnail function's prefixes); {} when there is no template or no such function."""
    for resource in (template or {}).get("Resources", {}).values():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        if all(isinstance(variables.get(name), str) for name in names):
            return {name: variables[name] for name in names}
    return {}


def resource_properties(template: Mapping | None, resource_type: str) -> Iterator[dict]:
    for resource in (template or {}).get("Resources", {}).values():
        if resource.get("Type") == resource_type:
            yield resource.get("Properties", {})


def delete_object_versions(s3, bucket: str, prefix: str, *, exact: bool = False) -> int:
    """Delete every version and delete marker under `prefix` (only the key itself when
    `exact`): the blueprints' buckets are versioned, so a plain delete leaves the bytes."""
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            if not exact or v["Key"] == prefix
        ]
        for start in range(0, len(doomed), 1000):
            response = s3.delete_objects(
                Bucket=bucket, Delete={"Objects": doomed[start : start + 1000], "Quiet": True}
            )
            if response.get("Errors"):
                first = response["Errors"][0]
                raise StepFailed(
                    f"could not delete s3://{bucket}/{first['Key']}: "
                    f"{first.get('Code')}: {first.get('Message')}"
                )
        deleted += len(doomed)
    return deleted


class Smoke:
    """One smoke run against one deployed stack: its outputs, credentials and deadline, the
    results so far, and the clean-ups still owed."""

    def __init__(
        self,
        stack_id: str,
        outputs: Mapping[str, str],
        session,
        *,
        skip: Collection[str],
        deadline: float,
        endpoint_url: str | None = None,
        template: Mapping | None = None,
        poll_interval: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        say: Callable[[str], None] | None = None,
        cleanup_grace: float = CLEANUP_GRACE,
    ) -> None:
        unknown = sorted(set(skip) - set(CAPABILITIES))
        if unknown:
            raise ValueError(
                f"unknown capability {', '.join(unknown)} in skip; known: {', '.join(CAPABILITIES)}"
            )
        self.stack_id = stack_id
        self.outputs = dict(outputs)
        self.session = session
        self.skip = frozenset(skip)
        self.deadline = deadline
        self.endpoint_url = endpoint_url
        self.template = template
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.clock = clock
        self.say = say or (lambda line: print(line, flush=True))
        self.cleanup_grace = cleanup_grace
        self.run_id = run_id()
        self.results: list[StepResult] = []
        self._status: dict[str, StepResult] = {}
        self._cleanups: list[tuple[str, Callable[[], str | None]]] = []

    # -- time ---------------------------------------------------------------------------------

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def _bounded(self, cap: float) -> float:
        # Never 0: a call made right at the deadline still gets a moment to fail cleanly.
        return max(0.5, min(cap, self.remaining()))

    def poll(
        self, what: str, check: Callable[[], Any], *, interval: float, within: float | None = None
    ) -> Any:
        """check() until it returns something truthy; StepFailed when the deadline (or
        `within` seconds, if sooner) passes first. `interval` is the real-world pace; the
        runner's poll_interval overrides it (tests)."""
        started = self.clock()
        until = self.deadline if within is None else min(self.deadline, started + within)
        pause = interval if self.poll_interval is None else self.poll_interval
        while True:
            value = check()
            if value:
                return value
            left = until - self.clock()
            if left <= 0:
                raise StepFailed(f"{what}: still not after {self.clock() - started:.1f} s")
            self.sleep(min(pause, left))

    # -- inputs -------------------------------------------------------------------------------

    def output(self, name: str) -> str:
        value = self.outputs.get(name)
        if not value:
            raise StepFailed(
                f"the stack has no output {name!r} (outputs: "
                f"{', '.join(sorted(self.outputs)) or 'none'})"
            )
        return value

    def client(
        self,
        service: str,
        *,
        read_timeout: float = AWS_READ_TIMEOUT,
        region: str | None = None,
        **kwargs,
    ):
        """A client whose every call is bounded by the time left (made per step, so the bound
        tightens as the run goes on) and retried only briefly."""
        config = Config(
            connect_timeout=self._bounded(AWS_CONNECT_TIMEOUT),
            read_timeout=self._bounded(read_timeout),
            retries={"mode": "standard", "max_attempts": 3},
            user_agent_extra="blueprints-smoke",
        )
        if self.endpoint_url and "endpoint_url" not in kwargs:
            kwargs["endpoint_url"] = self.endpoint_url
        if region:
            kwargs["region_name"] = region
        return self.session.client(service, config=config, **kwargs)

    def http(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = HTTP_TIMEOUT,
    ) -> HttpResponse:
        """One HTTP request (redirects followed), any status returned as an answer; no answer
        at all within the bound is a StepFailed naming the URL."""
        limit = self._bounded(timeout)
        request = urllib.request.Request(
            url, data=body, method=method, headers={"User-Agent": USER_AGENT, **(headers or {})}
        )
        started = self.clock()
        try:
            try:
                response = urllib.request.urlopen(request, timeout=limit)
            except urllib.error.HTTPError as err:
                if err.fp is None:  # an error answer without a body
                    return HttpResponse(
                        url,
                        err.code,
                        {k.lower(): v for k, v in (err.headers or {}).items()},
                        b"",
                        0,
                        hashlib.sha256().hexdigest(),
                    )
                response = err
            with response:
                digest, size, kept = hashlib.sha256(), 0, bytearray()
                while chunk := response.read(64 * 1024):
                    digest.update(chunk)
                    size += len(chunk)
                    if len(kept) < MAX_BODY_BYTES:
                        kept += chunk[: MAX_BODY_BYTES - len(kept)]
                    # The socket timeout is per read: bound the whole download too.
                    if self.clock() - started > limit:
                        raise StepFailed(f"{method} {url}: body still arriving after {limit:.0f} s")
                return HttpResponse(
                    url=url,
                    status=response.status,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=bytes(kept),
                    size=size,
                    sha256=digest.hexdigest(),
                )
        except (urllib.error.URLError, OSError, ValueError) as err:
            reason = getattr(err, "reason", err)
            raise StepFailed(f"{method} {url}: no answer ({reason})") from None

    # -- steps --------------------------------------------------------------------------------

    def passed(self, step: str) -> bool:
        result = self._status.get(step)
        return result is not None and result.status == PASS

    def step(
        self,
        name: str,
        run: Callable[[], str | None],
        *,
        needs: Mapping[str, str] | None = None,
        uses: Collection[str] = (),
        after: Collection[str] = (),
    ) -> bool:
        """Run one step now and record PASS/FAIL/SKIP; True if it passed.

        needs: capability -> why this step needs it (skipped when the capability is in skip).
        uses: outputs the step reads; a missing one fails the step even when it is skipped,
              because an output's presence is checkable everywhere.
        after: steps that must have passed first (else SKIP naming the first that did not).
        """
        needs = dict(needs or {})
        for capability in needs:
            if capability not in CAPABILITIES:
                raise ValueError(f"step {name!r} needs unknown capability {capability!r}")
        started = self.clock()
        missing = [o for o in uses if not self.outputs.get(o)]
        if missing:
            present = ", ".join(sorted(self.outputs)) or "none"
            return self._record(
                name,
                FAIL,
                "the stack has no output "
                + ", ".join(repr(o) for o in missing)
                + f" (outputs: {present})",
                needs,
                started,
            )
        skipped = [c for c in needs if c in self.skip]
        if skipped:
            return self._record(
                name, SKIP, f"needs {skipped[0]} ({needs[skipped[0]]})", needs, started
            )
        for earlier in after:
            if not self.passed(earlier):
                state = self._status.get(earlier)
                why = {FAIL: "that step failed", SKIP: "that step was skipped"}.get(
                    state.status if state else "", "that step did not run"
                )
                return self._record(name, SKIP, f"needs {earlier} ({why})", needs, started)
        if self.remaining() <= 0:
            return self._record(name, FAIL, "not started: the smoke's time is up", needs, started)
        try:
            detail = run()
        except StepSkipped as skipped_error:
            return self._record(name, SKIP, str(skipped_error), needs, started)
        except StepFailed as err:
            return self._record(name, FAIL, str(err), needs, started)
        except (ClientError, BotoCoreError, Exception) as err:  # noqa: BLE001
            # Any error is this step's FAIL, never a traceback that hides the other steps.
            return self._record(name, FAIL, describe_error(err), needs, started)
        return self._record(name, PASS, detail or "ok", needs, started)

    def cleanup(self, name: str, run: Callable[[], str | None]) -> None:
        """Owe a clean-up: it runs after the last step (last owed, first run), whatever
        happened, and is reported as step `cleanup:<name>`."""
        self._cleanups.append((name, run))

    def finish(self) -> list[StepResult]:
        """Run the clean-ups still owed, with a short grace past the deadline."""
        self.deadline = max(self.deadline, self.clock()) + self.cleanup_grace
        while self._cleanups:
            name, run = self._cleanups.pop()
            self.step(f"cleanup:{name}", run)
        return self.results

    def _record(
        self, name: str, status: str, detail: str, needs: Mapping[str, str], started: float
    ) -> bool:
        result = StepResult(name, status, detail, round(self.clock() - started, 3), tuple(needs))
        self.results.append(result)
        self._status[name] = result
        self.say(result.line)
        return status == PASS


def monotonic_deadline(deadline: float) -> float:
    """Callers naturally write `time.time() + 300`; the runner counts on `time.monotonic()`.
    A value that can only be a Unix time (after 2001) is converted, so either works."""
    if deadline > 1e9:
        return time.monotonic() + (deadline - time.time())
    return deadline


def expect_status(response: HttpResponse, *expected: int) -> None:
    if response.status not in expected:
        raise StepFailed(
            f"{response.url} answered {response.status}, expected "
            f"{' or '.join(map(str, expected))}: {response.body[:200]!r}"
        )


def join_url(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")
