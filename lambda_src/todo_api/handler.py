"""The to-do REST API: one user's to-dos in DynamoDB (through DAX when the stack has DAX).

Routes (API Gateway REST, Lambda proxy, Cognito user-pool authorizer on every method):
    GET    /todos?limit=&nextToken=   the caller's to-dos, a page at a time
    POST   /todos                      create (conditional, never overwrites; optional todoId)
    GET    /todos/{todoId}             one to-do
    PUT    /todos/{todoId}             change fields; `version` must match (optimistic locking)
    DELETE /todos/{todoId}             delete

The caller is the `sub` claim the authorizer verified; nothing in the path or body can name
another user, and a to-do that is someone else's is indistinguishable from a missing one (404).

Read-your-writes: every write answers with `X-Last-Write: <epoch ms>`. A client that sends it back
on reads gets a fresh API Gateway cache entry (the header is part of the cache key) and, while the
write is younger than READ_YOUR_WRITES_SECONDS (the DAX query-cache TTL), a strongly consistent
read, which DAX passes through to DynamoDB instead of answering from its caches.

Whatever a client sends, the answer is JSON and a 2xx or a 4xx that changes nothing. The input
rules are written once, below, and hold for every route: the request's strings must be UTF-8
(a lone surrogate cannot be stored or logged), numbers are ASCII digits (`re.fullmatch`, not
`str.isdigit`, which accepts "²"), identifiers match their whole pattern (`fullmatch`: `$` also
matches before a trailing newline), a body is `application/json` (415 otherwise: API Gateway
validates bodies against its models for that content type only), and types are checked before
use. DynamoDB/DAX failures are a 503 with `Retry-After` when a retry can succeed (throttling,
timeouts, connection errors) and a logged 500 otherwise; anything unexpected is a logged 500 too,
never the 502 API Gateway makes of an exception escaping a proxy integration.

Cold start: the module imports what every request needs and no more. Configuration is read once,
by `settings()` (tests patch it); the table is made on the first request that needs it, by
`table()`. Routing is a lookup of the resource API Gateway matched: Powertools' REST resolver
would import every resolver and event class it has, which cost as much again as creating the
DynamoDB resource. Logging stays Powertools' structured JSON.

Environment: TABLE_NAME, DAX_ENDPOINT (optional, read by the dynamodb_client layer),
READ_YOUR_WRITES_SECONDS, PAGE_SIZE, MAX_PAGE_SIZE, ALLOWED_ORIGINS (comma-separated, for CORS).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import functools
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from boto3.dynamodb.conditions import Key
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from dynamodb_client import dynamodb_resource
from todo_schema import InvalidBody, validate

MAX_BODY_BYTES = 16 * 1024
LAST_WRITE_HEADER = "X-Last-Write"
TODO_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Bounded: int() refuses more than 4300 digits, and no limit or epoch-ms value needs 16.
DIGITS = re.compile(r"[0-9]{1,15}")
PUBLIC_FIELDS = ("todoId", "title", "notes", "done", "dueDate", "createdAt", "updatedAt", "version")
CORS_ALLOW_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-Amz-Date",
    "X-Api-Key",
    "X-Amz-Security-Token",
    LAST_WRITE_HEADER,
)
CORS_EXPOSE_HEADERS = (LAST_WRITE_HEADER, "Location")

logger = Logger(service="todo-api")


# -- configuration and clients: read once, made on first use ------------------------------------


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str
    read_your_writes_ms: int
    page_size: int
    max_page_size: int
    allowed_origins: tuple[str, ...]


@functools.cache
def settings() -> Settings:
    """The function's configuration, from its environment, once per execution environment."""
    env = os.environ
    return Settings(
        table_name=env["TABLE_NAME"],
        read_your_writes_ms=int(env.get("READ_YOUR_WRITES_SECONDS", "5")) * 1000,
        page_size=int(env.get("PAGE_SIZE", "25")),
        max_page_size=int(env.get("MAX_PAGE_SIZE", "100")),
        allowed_origins=tuple(
            o.strip() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip()
        ),
    )


def table():
    """The to-do table (through DAX when the layer is given DAX_ENDPOINT), kept once made."""
    return _table(settings().table_name)


@functools.cache
def _table(name: str):
    return dynamodb_resource().Table(name)


# -- requests, answers and the input rules ------------------------------------------------------


class HttpError(Exception):
    """An answer for the client: a 4xx status and a message that names the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclasses.dataclass(frozen=True)
class Request:
    """What a route may read of an API Gateway REST proxy event, type- and UTF-8-checked."""

    method: str
    resource: str
    path: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive
    body: str | None
    base64: bool
    claims: dict

    @classmethod
    def of(cls, event: Any) -> Request:
        if not isinstance(event, dict):
            raise HttpError(400, "the request is not an API Gateway proxy event")
        body = event.get("body")
        if body is not None and not isinstance(body, str):
            raise HttpError(400, "the request body must be text")
        context = event.get("requestContext")
        authorizer = context.get("authorizer") if isinstance(context, dict) else None
        claims = authorizer.get("claims") if isinstance(authorizer, dict) else None
        return cls(
            method=_text(event.get("httpMethod"), "the method"),
            resource=_text(event.get("resource"), "the resource"),
            path=_strings(event, "pathParameters", "path parameter"),
            query=_strings(event, "queryStringParameters", "query parameter"),
            headers={
                name.lower(): value for name, value in _strings(event, "headers", "header").items()
            },
            body=body,
            base64=bool(event.get("isBase64Encoded")),
            claims=claims if isinstance(claims, dict) else {},
        )


@dataclasses.dataclass
class Response:
    status: int
    body: Any = None  # JSON-encoded; None: no body and no Content-Type (204)
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: JSON can carry one, UTF-8 cannot
        raise HttpError(400, f"{what} is not valid UTF-8 text") from None


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise HttpError(400, f"{what} must be text")
    _utf8(value, what)
    return value


def _strings(event: dict, field: str, what: str) -> dict[str, str]:
    values = event.get(field) or {}
    if not isinstance(values, dict):
        raise HttpError(400, f"the request's {field} must be an object of strings")
    for name, value in values.items():
        _text(name, f"a {what} name")
        if not isinstance(value, str):
            raise HttpError(400, f"{what} {name!r} must be text")
        _utf8(value, f"{what} {name!r}")
    return values


def _number(text: str) -> int | None:
    """`text` as an int if it is ASCII digits only, else None."""
    return int(text) if DIGITS.fullmatch(text) else None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # json.loads accepts NaN and Infinity; JSON does not


def _is_json(content_type: str | None) -> bool:
    if content_type is None:  # API Gateway then treats the body as application/json too
        return True
    media_type, *parameters = content_type.split(";")
    if media_type.strip().lower() != "application/json":
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            return False
    return True


def body(request: Request, schema_name: str) -> dict:
    """The request's JSON object, checked against `schemas.json[schema_name]`."""
    if not _is_json(request.headers.get("content-type")):
        raise HttpError(415, "Content-Type must be application/json (UTF-8)")
    raw = request.body or ""
    if request.base64:
        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error, non-ASCII text and UnicodeDecodeError all are
            raise HttpError(400, "the body is not valid base64-encoded UTF-8") from None
    if len(_utf8(raw, "the body")) > MAX_BODY_BYTES:
        raise HttpError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        parsed = json.loads(raw, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than ~1000
        raise HttpError(400, "the body is not valid JSON") from None
    _check_strings(parsed)
    validate(parsed, schema_name)
    if parsed.get("dueDate"):
        try:
            datetime.date.fromisoformat(parsed["dueDate"])
        except ValueError:
            raise HttpError(400, "field 'dueDate' is not a calendar date (YYYY-MM-DD)") from None
    return parsed


def _check_strings(parsed: Any) -> None:
    """Every string in the body, names included, must encode to UTF-8 (iteratively: the JSON
    may nest almost as deep as the recursion limit)."""
    pending = [("the body", parsed)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, str):
            _utf8(value, where)
        elif isinstance(value, list):
            pending.extend((where, item) for item in value)
        elif isinstance(value, dict):
            for name, item in value.items():
                named = f"field {name!r}" if where == "the body" else where
                pending += [(f"a field name in {where}", name), (named, item)]


def caller(request: Request) -> str:
    """The user-pool `sub` the Cognito authorizer verified; the only source of identity."""
    subject = request.claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise HttpError(401, "no verified caller identity")
    return subject


def todo_id(value: Any) -> str:
    if not isinstance(value, str) or not TODO_ID.fullmatch(value):
        raise HttpError(400, "todoId must be a lowercase UUID")
    return value


def consistent_read(request: Request) -> bool:
    """True while the caller's own last write is younger than the caches' TTL."""
    value = request.headers.get(LAST_WRITE_HEADER.lower())
    if value is None:
        return False
    at = _number(value)
    if at is None:
        raise HttpError(400, f"{LAST_WRITE_HEADER} must be the epoch milliseconds a write returned")
    return now_ms() - at <= settings().read_your_writes_ms


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int) -> str:
    at = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return at.isoformat(timespec="milliseconds")


def public(item: dict) -> dict:
    """The item as the API shows it: no userId, DynamoDB numbers as ints."""
    shown = {k: item[k] for k in PUBLIC_FIELDS if k in item}
    shown["version"] = int(shown["version"])
    shown.setdefault("done", False)
    return shown


def written(status: int, item: dict | None, at: int, location: str | None = None) -> Response:
    headers = {LAST_WRITE_HEADER: str(at)}
    if location:
        headers["Location"] = location
    return Response(status, None if item is None else public(item), headers)


def failed_condition(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


# -- routes -------------------------------------------------------------------------------------

ROUTES: dict[tuple[str, str], Callable[[Request], Response]] = {}


def route(method: str, resource: str):
    """Register a function for API Gateway's `method resource` (e.g. "GET", "/todos/{todoId}")."""

    def register(function: Callable[[Request], Response]) -> Callable[[Request], Response]:
        ROUTES[(method, resource)] = function
        return function

    return register


@route("GET", "/todos")
def list_todos(request: Request) -> Response:
    user = caller(request)
    params = request.query
    unknown = sorted(set(params) - {"limit", "nextToken"})
    if unknown:
        raise HttpError(400, f"unknown query parameter(s): {', '.join(unknown)}")
    config = settings()
    limit = _number(params.get("limit", str(config.page_size)))
    if limit is None or not 1 <= limit <= config.max_page_size:
        raise HttpError(400, f"limit must be an integer from 1 to {config.max_page_size}")
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("userId").eq(user),
        "Limit": limit,
        "ConsistentRead": consistent_read(request),
    }
    if params.get("nextToken"):
        query["ExclusiveStartKey"] = {"userId": user, "todoId": _decode_token(params["nextToken"])}
    page = table().query(**query)
    last = page.get("LastEvaluatedKey")
    return Response(
        200,
        {
            "items": [public(item) for item in page.get("Items", [])],
            "nextToken": _encode_token(last["todoId"]) if last else None,
        },
    )


@route("POST", "/todos")
def create_todo(request: Request) -> Response:
    user = caller(request)
    fields = body(request, "create")
    at = now_ms()
    item = {
        **fields,
        "userId": user,
        "todoId": fields.get("todoId") or str(uuid.uuid4()),
        "done": fields.get("done", False),
        "createdAt": iso(at),
        "updatedAt": iso(at),
        "version": 1,
    }
    try:
        table().put_item(Item=item, ConditionExpression="attribute_not_exists(todoId)")
    except ClientError as err:
        if failed_condition(err):
            raise HttpError(409, "a to-do with this todoId already exists") from None
        raise
    logger.info("to-do created", extra={"todoId": item["todoId"]})
    return written(201, item, at, location=f"/todos/{item['todoId']}")


@route("GET", "/todos/{todoId}")
def get_todo(request: Request) -> Response:
    user = caller(request)
    found = (
        table()
        .get_item(
            Key={"userId": user, "todoId": todo_id(request.path.get("todoId"))},
            ConsistentRead=consistent_read(request),
        )
        .get("Item")
    )
    if not found:
        raise HttpError(404, "to-do not found")
    return Response(200, public(found))


@route("PUT", "/todos/{todoId}")
def update_todo(request: Request) -> Response:
    user = caller(request)
    key = {"userId": user, "todoId": todo_id(request.path.get("todoId"))}
    fields = body(request, "update")
    expected = fields.pop("version")
    at = now_ms()
    names = {"#version": "version", "#updatedAt": "updatedAt"}
    values: dict[str, Any] = {":expected": expected, ":one": 1, ":updatedAt": iso(at)}
    sets = ["#version = #version + :one", "#updatedAt = :updatedAt"]
    removes = []
    for index, (name, value) in enumerate(sorted(fields.items())):
        names[f"#f{index}"] = name
        if value is None:
            removes.append(f"#f{index}")
        else:
            values[f":v{index}"] = value
            sets.append(f"#f{index} = :v{index}")
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    try:
        updated = table().update_item(
            Key=key,
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(todoId) AND #version = :expected",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as err:
        if not failed_condition(err):
            raise
        current = table().get_item(Key=key, ConsistentRead=True).get("Item")
        if not current:
            raise HttpError(404, "to-do not found") from None
        raise HttpError(
            409,
            f"version {expected} is stale: the to-do is at version {int(current['version'])}; "
            "read it again and reapply your change",
        ) from None
    logger.info("to-do updated", extra={"todoId": key["todoId"]})
    return written(200, updated, at)


@route("DELETE", "/todos/{todoId}")
def delete_todo(request: Request) -> Response:
    user = caller(request)
    key = {"userId": user, "todoId": todo_id(request.path.get("todoId"))}
    try:
        table().delete_item(Key=key, ConditionExpression="attribute_exists(todoId)")
    except ClientError as err:
        if failed_condition(err):
            raise HttpError(404, "to-do not found") from None
        raise
    logger.info("to-do deleted", extra={"todoId": key["todoId"]})
    return written(204, None, now_ms())


def _encode_token(last_todo_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"todoId": last_todo_id}).encode()).decode()


def _decode_token(token: str) -> str:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        return todo_id(decoded["todoId"])
    except (ValueError, TypeError, KeyError, RecursionError, HttpError):
        raise HttpError(400, "nextToken is not one this API returned") from None


# -- failures: never an exception out of the handler (API Gateway would answer 502) ------------

_RETRYABLE = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalServerErrorException",
    "ServiceUnavailable",
    "NoRouteException",
    "ConnectionException",
}
# Timeouts and broken connections: botocore's, and the DAX client's, which talks over its own
# sockets and raises TimeoutError or the socket's OSError once its retries are spent.
_TRANSIENT = (BotoConnectionError, HTTPClientError, ConnectionError, TimeoutError, socket.gaierror)


def _failed(err: Exception) -> Response:
    """503 (retry) when the store is throttled or unreachable, else 500; details only logged."""
    if isinstance(err, ClientError):
        code = err.response.get("Error", {}).get("Code", "")
        retry = code in _RETRYABLE
    else:
        code = type(err).__name__
        retry = isinstance(err, _TRANSIENT)
    store = isinstance(err, (ClientError, BotoCoreError)) or retry
    logger.exception(
        "to-do store call failed" if store else "unexpected error", extra={"errorCode": code}
    )
    if retry:
        return Response(
            503,
            {"statusCode": 503, "message": "the to-do store is busy; retry shortly"},
            {"Retry-After": "1"},
        )
    return Response(500, {"statusCode": 500, "message": "internal error"})


def _cors(origin: Any) -> dict[str, str]:
    allowed = settings().allowed_origins
    if not isinstance(origin, str) or not origin or not allowed:
        return {}
    if origin not in allowed:
        if "*" not in allowed:
            return {}
        origin = "*"
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Headers": ",".join(sorted(CORS_ALLOW_HEADERS)),
        "Access-Control-Expose-Headers": ",".join(CORS_EXPOSE_HEADERS),
        "Access-Control-Max-Age": "600",
    }


def _origin(event: Any) -> Any:
    headers = event.get("headers") if isinstance(event, dict) else None
    if not isinstance(headers, dict):
        return None
    return next(
        (v for k, v in headers.items() if isinstance(k, str) and k.lower() == "origin"), None
    )


def _preflight() -> Response:
    methods = sorted({"OPTIONS", *(method for method, _ in ROUTES)})
    return Response(204, None, {"Access-Control-Allow-Methods": ",".join(methods)})


def _dispatch(event: Any) -> Response:
    try:
        request = Request.of(event)
        function = ROUTES.get((request.method, request.resource))
        if function is not None:
            return function(request)
        if request.method == "OPTIONS" and settings().allowed_origins:
            return _preflight()  # API Gateway answers preflights itself; direct invokes land here
        return Response(404, {"statusCode": 404, "message": "Not found"})
    except HttpError as err:
        return Response(err.status, {"statusCode": err.status, "message": err.message})
    except InvalidBody as err:
        return Response(400, {"statusCode": 400, "message": str(err)})
    except Exception as err:  # noqa: BLE001 (the last line of defence against a 502)
        return _failed(err)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context: Any) -> dict:
    response = _dispatch(event)
    try:
        return _proxy_answer(response, _cors(_origin(event)))
    except Exception:  # noqa: BLE001 (an answer that cannot be encoded, broken configuration)
        logger.exception("unexpected error")
        return _proxy_answer(Response(500, {"statusCode": 500, "message": "internal error"}), {})


def _proxy_answer(response: Response, cors: dict[str, str]) -> dict:
    """The Lambda proxy answer, shaped as Powertools' REST resolver shaped it."""
    headers = {**response.headers, **cors}
    if response.body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "statusCode": response.status,
        "body": "" if response.body is None else json.dumps(response.body, separators=(",", ":")),
        "isBase64Encoded": False,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
    }
