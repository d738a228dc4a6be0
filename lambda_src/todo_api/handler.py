"""The to-do REST API: one user's to-dos in DynamoDB (through DAX when the stack has DAX).

Routes (API Gateway REST, Lambda proxy, Cognito user-pool authorizer on every method):
    GET    /todos?limit=&nextToken=   the caller's to-dos, a page at a time
    POST   /todos                      create (conditional, never overwrites; optional todoId)
    GET    /todos/{todoId}             one to-do
    PUT    /todos/{todoId}             change fields; `version` must match (optimistic locking)
    DELETE /todos/{todoId}             delete

This module parses and answers; todos.py decides; store.py does the I/O; config.py is the
configuration. The REST kit (handler_kit.rest, a layer) does what every API does: the request's
type and UTF-8 checks, JSON bodies checked against schemas.json (the same file is the API
Gateway request model, blueprints/my_todo_list/todo_api.py), domain errors to 4xx, store
failures to 503/500, CORS, and one error body. The caller is the `sub` the authorizer verified;
nothing in the path or body can name another user.

Read-your-writes: every write answers with `X-Last-Write: <epoch ms>`. A client that sends it back
on reads gets a fresh API Gateway cache entry (the header is part of the cache key) and, while the
write is younger than READ_YOUR_WRITES_SECONDS (the DAX query-cache TTL), a strongly consistent
read, which DAX passes through to DynamoDB instead of answering from its caches.

Cold start: configuration is read once, at import (a misconfigured function fails its init); the
table is made by the first request that needs it; schemas.json is read by the first write.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import config
import todos
from handler_kit.errors import InvalidInput
from handler_kit.rest import DIGITS, Request, Response, RestApi

LAST_WRITE_HEADER = "X-Last-Write"
TODO_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_BODY_BYTES = 16 * 1024

config.settings()

api = RestApi(
    max_body_bytes=MAX_BODY_BYTES,
    schemas=Path(__file__).with_name("schemas.json"),
    allowed_origins=lambda: config.settings().allowed_origins,
    allow_headers=(
        "Authorization",
        "Content-Type",
        "X-Amz-Date",
        "X-Api-Key",
        "X-Amz-Security-Token",
        LAST_WRITE_HEADER,
    ),
    expose_headers=(LAST_WRITE_HEADER, "Location"),
)
handler = api.handler


# -- parsing --------------------------------------------------------------------------------------


def todo_id(request: Request) -> str:
    value = request.path_parameter("todoId")
    if not TODO_ID.fullmatch(value):
        raise InvalidInput("todoId must be a lowercase UUID")
    return value


def last_write(request: Request) -> int | None:
    """The epoch ms of the caller's own last write, if it sent one back."""
    value = request.header(LAST_WRITE_HEADER)
    if value is None:
        return None
    if not DIGITS.fullmatch(value):
        raise InvalidInput(f"{LAST_WRITE_HEADER} must be the epoch milliseconds a write returned")
    return int(value)


def encode_token(last_todo_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"todoId": last_todo_id}).encode()).decode()


def decode_token(token: str) -> str:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        value = decoded["todoId"]
    except (ValueError, TypeError, KeyError, RecursionError):
        value = None
    if not isinstance(value, str) or not TODO_ID.fullmatch(value):
        raise InvalidInput("nextToken is not one this API returned")
    return value


def written(status: int, todo: dict | None, at: int, location: str | None = None) -> Response:
    headers = {LAST_WRITE_HEADER: str(at)}
    if location:
        headers["Location"] = location
    return Response(status, todo, headers)


# -- routes ---------------------------------------------------------------------------------------


@api.route("GET", "/todos", query=("limit", "nextToken"))
def list_todos(request: Request) -> Response:
    user = request.caller().sub
    settings = config.settings()
    limit = request.query_integer(
        "limit", default=settings.page_size, minimum=1, maximum=settings.max_page_size
    )
    token = request.query.get("nextToken")
    items, last = todos.list_page(
        user,
        limit=limit,
        after=decode_token(token) if token else None,
        last_write_ms=last_write(request),
    )
    return Response(200, {"items": items, "nextToken": encode_token(last) if last else None})


@api.route("POST", "/todos")
def create_todo(request: Request) -> Response:
    user = request.caller().sub
    todo, at = todos.create(user, request.body("create"))
    return written(201, todo, at, location=f"/todos/{todo['todoId']}")


@api.route("GET", "/todos/{todoId}")
def get_todo(request: Request) -> Response:
    user = request.caller().sub
    return Response(200, todos.get(user, todo_id(request), last_write_ms=last_write(request)))


@api.route("PUT", "/todos/{todoId}")
def update_todo(request: Request) -> Response:
    user = request.caller().sub
    key = todo_id(request)
    todo, at = todos.update(user, key, request.body("update"))
    return written(200, todo, at)


@api.route("DELETE", "/todos/{todoId}")
def delete_todo(request: Request) -> Response:
    user = request.caller().sub
    return written(204, None, todos.delete(user, todo_id(request)))
