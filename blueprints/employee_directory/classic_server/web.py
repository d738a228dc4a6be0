"""The classic tier's web application (WSGI): the employee directory's API, site and health check
from one process per instance, served by waitress (serve.py) behind the load balancer.

    /api/...      the contract's operations, answered by routes.py: the same code the
                  serverless stack's Lambda functions run, handed the request as the API Gateway
                  proxy event it would be, so statuses, headers and bodies are identical
    /health       200 while the process runs (the target group's check; it touches nothing else,
                  so a DynamoDB hiccup never takes every instance out of service at once)
    /config.json  what the page reads: no HR admin sign-in here (the network is the guard)
    anything else the site's files (GET/HEAD); a path without a file extension is the page, as
                  the serverless site's router does; a missing file is 404.html

Every answer carries the same security headers as the serverless site's (the content security
policy comes from the stack, it names the photo bucket), minus HSTS: this tier serves HTTP.

The REST kit keeps per-invocation state (the log correlation id, the metrics of the request) in
module globals, as a Lambda function may: API requests are therefore answered one at a time per
process; files and health checks are not held up by them.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import mimetypes
import re
import threading
import uuid
from pathlib import Path
from urllib.parse import parse_qsl

import contract
import routes
from handler_kit.settings import environment

SERVICE = "employee-directory-classic"
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclasses.dataclass(frozen=True)
class Settings:
    site_dir: Path
    content_security_policy: str


@functools.cache
def settings() -> Settings:
    with environment() as env:
        return Settings(
            site_dir=Path(env.text("SITE_DIR")),
            content_security_policy=env.text("CONTENT_SECURITY_POLICY"),
        )


API = routes.api_for()  # every operation of the contract
_ONE_AT_A_TIME = threading.Lock()
# The contract's paths as patterns: API Gateway's `resource` and `pathParameters` for a path.
_RESOURCES = [
    (re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"), path)
    for path in dict.fromkeys(o.path for o in contract.operations().values())
]


@dataclasses.dataclass(frozen=True)
class Context:
    """What the REST kit's logger reads of a Lambda context, for one request."""

    aws_request_id: str
    function_name: str = SERVICE
    function_version: str = "classic"
    memory_limit_in_mb: int = 0
    invoked_function_arn: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def application(environ: dict, start_response) -> list[bytes]:
    method = environ.get("REQUEST_METHOD", "GET")
    path = _text(environ.get("PATH_INFO") or "/")
    if path == "/health":
        status, headers, body = 200, {"Content-Type": "text/plain"}, b"ok\n"
    elif path == "/api" or path.startswith("/api/"):
        status, headers, body = api_answer(environ, method, path)
    elif method not in ("GET", "HEAD"):
        status, headers, body = _json(405, "MethodNotAllowed", "the site's files are read-only")
        headers["Allow"] = "GET, HEAD"
    elif path == "/config.json":
        status, headers = 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}
        body = json.dumps({"hrAdmin": None}).encode()
    else:
        status, headers, body = site_file(path)
    headers = {**headers, **HEADERS}
    if headers.get("Content-Type", "").startswith("text/html") or path.startswith("/api"):
        headers["Content-Security-Policy"] = settings().content_security_policy
    start_response(f"{status} {REASONS.get(status, 'Unknown')}", list(headers.items()))
    return [b"" if method == "HEAD" else body]


# -- the API ----------------------------------------------------------------------------------


def api_answer(environ: dict, method: str, path: str) -> tuple[int, dict, bytes]:
    """The REST kit's answer to the request, given as the API Gateway proxy event of it."""
    event = proxy_event(environ, method, path)
    with _ONE_AT_A_TIME:
        answer = API.handler(event, Context(event["requestContext"]["requestId"]))
    headers = {name: values[-1] for name, values in answer["multiValueHeaders"].items()}
    raw = answer.get("body") or ""
    body = base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode("utf-8")
    return answer["statusCode"], headers, body


def proxy_event(environ: dict, method: str, path: str) -> dict:
    resource, parameters = path, None
    for pattern, template in _RESOURCES:
        match = pattern.match(path)
        if match:
            resource, parameters = template, match.groupdict()
            break
    headers = {
        name[5:].replace("_", "-").title(): _text(value)
        for name, value in environ.items()
        if name.startswith("HTTP_")
    }
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            headers[name.replace("_", "-").title()] = environ[name]
    query = dict(parse_qsl(_text(environ.get("QUERY_STRING", "")), keep_blank_values=True))
    body, encoded = _body(environ)
    forwarded = headers.get("X-Forwarded-For", "").split(",")[0].strip()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "queryStringParameters": query or None,
        "pathParameters": parameters,
        "body": body,
        "isBase64Encoded": encoded,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": forwarded or environ.get("REMOTE_ADDR", "")},
        },
    }


def _body(environ: dict) -> tuple[str | None, bool]:
    """The request body as API Gateway hands it over: text, or base64 when it is not UTF-8.
    At most one byte more than the REST kit accepts is read: that is enough for its 413."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return None, False
    raw = environ["wsgi.input"].read(min(length, routes.MAX_BODY_BYTES + 1))
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


# -- the site ---------------------------------------------------------------------------------


def site_file(path: str) -> tuple[int, dict, bytes]:
    root = settings().site_dir.resolve()
    name = path.rsplit("/", 1)[-1]
    if "." not in name:  # a route of the page, not a file (as the serverless site's router)
        path = "/index.html"
    target = (root / path.lstrip("/")).resolve()
    if root not in target.parents or not target.is_file():
        page = root / "404.html"
        return 404, {"Content-Type": "text/html; charset=utf-8"}, page.read_bytes()
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"
    cache = "no-cache" if target.suffix == ".html" else "public, max-age=300"
    return 200, {"Content-Type": kind, "Cache-Control": cache}, target.read_bytes()


def _json(status: int, code: str, message: str) -> tuple[int, dict, bytes]:
    body = json.dumps({"message": message, "code": code}).encode()
    return status, {"Content-Type": "application/json", "Cache-Control": "no-store"}, body


def _text(value: str) -> str:
    """A WSGI string (bytes as latin-1) as the UTF-8 text it carries; undecodable bytes stay as
    they came, and the REST kit refuses what is not text."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value
