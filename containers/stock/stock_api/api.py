"""The stock API: how many of one SKU Inventory has, read from Inventory's stock table.

    GET /stock/{sku}   200 {"sku", "available"}; 400 for a SKU the contract refuses; 503 with
                       Retry-After when the table is throttled or unreachable
    GET /health        the load balancer's check: no AWS call, so a slow table never makes every
                       task "unhealthy" at once

The contract is shop_contracts/openapi/inventory.json (the same document the other services'
generated client is made from); errors are the shop's `{"message", "code"}`. Callers reach this
only through the HTTP API, which has already checked their SigV4 signature and IAM permission;
the load balancer in front admits only that API's VPC link. `route()` is the whole API and has
no sockets in it, so tests call it directly.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import signal
import socket
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

# The SKU pattern of inventory.json's path parameter (and of the Orders API's order lines).
SKU = re.compile(r"[A-Z0-9][A-Z0-9-]{0,31}")
STOCK_PATH = re.compile(r"/stock/(?P<sku>[^/]*)")
# The table's key of a SKU's item (lambda_src/inventory/store.py writes it so).
SKU_KEY_PREFIX = "SKU#"
# DynamoDB answers a caller may retry: the request itself was fine.
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
TRANSIENT = (BotoConnectionError, ConnectionError, TimeoutError, socket.gaierror)
RETRY_AFTER_SECONDS = 1
REQUEST_ID_HEADER = "x-request-id"

Response = tuple[int, dict, dict[str, str]]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: CloudWatch Logs Insights can query every field."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "level": record.levelname,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _logger() -> logging.Logger:
    log = logging.getLogger("stock_api")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
        log.propagate = False
    return log


LOG = _logger()


@functools.cache
def _dynamodb():
    return boto3.client("dynamodb")


def available(sku: str) -> int:
    """The SKU's available count; 0 for a SKU the table does not know (nothing to sell)."""
    item = (
        _dynamodb()
        .get_item(
            TableName=os.environ["STOCK_TABLE"],
            Key={"pk": {"S": SKU_KEY_PREFIX + sku}},
            ProjectionExpression="available",
        )
        .get("Item")
    )
    return int(item["available"]["N"]) if item and "available" in item else 0


def _refused(status: int, code: str, message: str, **headers: str) -> Response:
    return status, {"message": message, "code": code}, headers


def route(method: str, path: str) -> Response:
    """(status, JSON body, extra headers) for one request."""
    path = path.split("?", 1)[0]
    if path == "/health":
        if method != "GET":
            return _refused(405, "MethodNotAllowed", "use GET on /health", Allow="GET")
        return 200, {"status": "ok"}, {}
    match = STOCK_PATH.fullmatch(path)
    if not match:
        return _refused(404, "NotFound", f"no route {path[:64]}")
    if method != "GET":
        return _refused(405, "MethodNotAllowed", "use GET on /stock/{sku}", Allow="GET")
    sku = match["sku"]
    if not SKU.fullmatch(sku):
        return _refused(
            400,
            "InvalidInput",
            "sku must be 1-32 of A-Z, 0-9 and '-', starting with a letter or digit",
        )
    try:
        return 200, {"sku": sku, "available": available(sku)}, {}
    except (ClientError, BotoCoreError, *TRANSIENT) as error:
        code = (
            error.response.get("Error", {}).get("Code", "")
            if isinstance(error, ClientError)
            else type(error).__name__
        )
        retry = code in RETRYABLE_CODES or isinstance(error, TRANSIENT)
        LOG.exception("stock table call failed", extra={"fields": {"errorCode": code}})
        if retry:
            return _refused(
                503,
                "Busy",
                "the service is busy; retry shortly",
                **{"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return _refused(500, "InternalError", "internal error")


class Handler(BaseHTTPRequestHandler):
    server_version = "stock-api"

    def _respond(self, status: int, document: dict, headers: dict[str, str]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self) -> None:
        try:
            status, document, headers = route(self.command, self.path)
        except Exception:  # never leak a stack trace to the caller; log it instead
            LOG.exception("request failed", extra={"fields": {"path": self.path[:256]}})
            status, document, headers = (
                500,
                {"message": "internal error", "code": "InternalError"},
                {},
            )
        self._respond(status, document, headers)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        if not self.path.startswith("/health"):  # the ALB checks every few seconds
            LOG.info(
                "request",
                extra={
                    "fields": {
                        "line": format % args,
                        # The HTTP API's request id (its integration adds the header), also in
                        # its access log: one id follows a call from API Gateway to here.
                        "requestId": self.headers.get(REQUEST_ID_HEADER) if self.headers else None,
                    }
                },
            )


def serve(port: int | None = None) -> None:
    server = ThreadingHTTPServer(("0.0.0.0", port or int(os.environ.get("PORT", "8080"))), Handler)
    # ECS sends SIGTERM on deploys and scale-in; finish in-flight requests, then exit.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    LOG.info("listening", extra={"fields": {"port": server.server_port}})
    server.serve_forever()
    server.server_close()
