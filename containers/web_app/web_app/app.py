"""A small JSON API, the same image on ECS Express Mode and on App Runner.

    GET /health   liveness for the load balancer / App Runner: no database call, so a paused
                  or slow database never marks every task unhealthy at once
    GET /         what this is: engine, host, whether a database is configured, the routes
    GET /visits   records one visit in PostgreSQL and answers the running count: proves the
                  network path, the security groups and the injected credentials together

Database credentials arrive as one environment variable, DATABASE_SECRET: the JSON document
of the Secrets Manager secret Aurora generated (host, port, dbname, username, password). ECS or
App Runner reads the secret when a task starts and injects it; the secret's value is never in
the task definition or the service configuration. Without it, /visits answers 404.

`route()` is the whole API and opens no sockets by itself (the database connection comes from
`connect`, which tests replace).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = logging.getLogger("web_app")
ROUTES = ("GET /health", "GET /", "GET /visits")
# A paused Aurora Serverless v2 instance resumes on the first connection, in about 15 seconds
# (longer after a day paused): wait that long rather than answer 503 to the first visitor.
CONNECT_TIMEOUT_SECONDS = 30
_SECRET_FIELDS = ("host", "port", "username", "password")

Response = tuple[int, dict]


class DatabaseUnavailable(Exception):
    """The database could not be reached or refused the credentials; the detail is logged."""


def database_settings(raw: str | None) -> dict | None:
    """The connection settings from DATABASE_SECRET, None when no database is configured.
    A malformed secret is a deployment error: raise, so it is logged, never served."""
    if not raw:
        return None
    try:
        secret = json.loads(raw)
    except json.JSONDecodeError:
        raise DatabaseUnavailable("DATABASE_SECRET is not JSON") from None
    if not isinstance(secret, dict) or any(field not in secret for field in _SECRET_FIELDS):
        raise DatabaseUnavailable(
            f"DATABASE_SECRET lacks one of {', '.join(_SECRET_FIELDS)}"
        ) from None
    return {
        "host": str(secret["host"]),
        "port": int(secret["port"]),
        "database": str(secret.get("dbname") or "postgres"),
        "user": str(secret["username"]),
        "password": str(secret["password"]),
    }


def connect(settings: dict, ca_bundle: str | None = None):
    """A pg8000 connection over TLS that verifies the server's certificate and name against
    the RDS certificate authorities the image ships (RDS_CA_BUNDLE)."""
    import ssl

    import pg8000.native  # imported here: /health and / never need the driver

    context = ssl.create_default_context(cafile=ca_bundle or os.environ.get("RDS_CA_BUNDLE"))
    return pg8000.native.Connection(
        ssl_context=context, timeout=CONNECT_TIMEOUT_SECONDS, **settings
    )


def record_visit(settings: dict, opener: Callable = connect) -> int:
    try:
        connection = opener(settings)
    except Exception as error:  # driver, network and authentication errors alike
        raise DatabaseUnavailable(f"connect failed: {type(error).__name__}") from error
    try:
        connection.run(
            "CREATE TABLE IF NOT EXISTS visits (id bigserial PRIMARY KEY, "
            "host text NOT NULL, at timestamptz NOT NULL DEFAULT now())"
        )
        connection.run("INSERT INTO visits (host) VALUES (:host)", host=socket.gethostname())
        ((count,),) = connection.run("SELECT count(*) FROM visits")
        return int(count)
    except Exception as error:
        raise DatabaseUnavailable(f"query failed: {type(error).__name__}") from error
    finally:
        connection.close()


def route(
    method: str,
    path: str,
    environ: dict[str, str] | None = None,
    opener: Callable = connect,
) -> Response:
    environ = os.environ if environ is None else environ
    path = path.split("?", 1)[0]
    if path not in ("/health", "/", "/visits"):
        return 404, {"error": f"no route {path}"}
    if method != "GET":
        return 405, {"error": f"use GET on {path}"}
    if path == "/health":
        return 200, {"status": "ok"}
    configured = bool(environ.get("DATABASE_SECRET"))
    if path == "/":
        return 200, {
            "service": "container-web-app",
            "engine": environ.get("APP_ENGINE", "unknown"),
            "host": socket.gethostname(),
            "database": "configured" if configured else "none",
            "routes": list(ROUTES),
        }
    try:
        settings = database_settings(environ.get("DATABASE_SECRET"))
        if settings is None:
            return 404, {"error": "no database is configured for this service"}
        return 200, {"visits": record_visit(settings, opener)}
    except DatabaseUnavailable as error:
        LOG.error("database unavailable: %s", error)
        return 503, {"error": "the database is unavailable; try again shortly"}


class Handler(BaseHTTPRequestHandler):
    server_version = "container-web-app"

    def _respond(self, status: int, document: dict) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self) -> None:
        try:
            status, document = route(self.command, self.path)
        except Exception:  # never leak a stack trace to the client; log it instead
            LOG.exception("request failed: %s", self.path)
            status, document = 500, {"error": "internal error"}
        self._respond(status, document)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        if not self.path.startswith("/health"):  # health checks every few seconds: skip
            LOG.info("%s %s", self.client_address[0], format % args)


def serve(port: int | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    server = ThreadingHTTPServer(("0.0.0.0", port or int(os.environ.get("PORT", "8080"))), Handler)
    # ECS and App Runner send SIGTERM on deploys and scale-in: finish requests, then exit.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    LOG.info("listening on %s", server.server_port)
    server.serve_forever()
    server.server_close()
