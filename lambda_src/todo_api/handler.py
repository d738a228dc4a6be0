"""The to-do REST API: one user's to-dos in DynamoDB (through DAX when the stack has DAX).

Routes (API Gateway REST, Lambda proxy, Cognito user-pool authorizer on every method):
    GET    /todos?limit=&nextToken=   the caller's to-dos, a page at a time
    POST   /todos                      create (conditional: never overwrites; optional client todoId)
    GET    /todos/{todoId}             one to-do
    PUT    /todos/{todoId}             change fields; `version` must match (optimistic locking)
    DELETE /todos/{todoId}             delete

The caller is the `sub` claim the authorizer verified; nothing in the path or body can name
another user, and a to-do that is someone else's is indistinguishable from a missing one (404).

Read-your-writes: every write answers with `X-Last-Write: <epoch ms>`. A client that sends it back
on reads gets a fresh API Gateway cache entry (the header is part of the cache key) and, while the
write is younger than READ_YOUR_WRITES_SECONDS (the DAX query-cache TTL), a strongly consistent
read, which DAX passes through to DynamoDB instead of answering from its caches.

Environment: TABLE_NAME, DAX_ENDPOINT (optional, read by the dynamodb_client layer),
READ_YOUR_WRITES_SECONDS, PAGE_SIZE, MAX_PAGE_SIZE, ALLOWED_ORIGINS (comma-separated, for CORS).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import os
import re
import time
import uuid
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import (
    BadRequestError,
    NotFoundError,
    ServiceError,
    UnauthorizedError,
)
from aws_lambda_powertools.logging import correlation_paths
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from dynamodb_client import dynamodb_resource
from todo_schema import InvalidBody, validate

TABLE = dynamodb_resource().Table(os.environ["TABLE_NAME"])
READ_YOUR_WRITES_MS = int(os.environ.get("READ_YOUR_WRITES_SECONDS", "5")) * 1000
PAGE_SIZE = int(os.environ.get("PAGE_SIZE", "25"))
MAX_PAGE_SIZE = int(os.environ.get("MAX_PAGE_SIZE", "100"))
MAX_BODY_BYTES = 16 * 1024
LAST_WRITE_HEADER = "X-Last-Write"
TODO_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PUBLIC_FIELDS = ("todoId", "title", "notes", "done", "dueDate", "createdAt", "updatedAt", "version")

_origins = [o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o.strip()]
_cors = CORSConfig(
    allow_origin=_origins[0],
    extra_origins=_origins[1:],
    allow_headers=["Authorization", "Content-Type", LAST_WRITE_HEADER],
    expose_headers=[LAST_WRITE_HEADER, "Location"],
    max_age=600,
) if _origins else None

logger = Logger(service="todo-api")
app = APIGatewayRestResolver(cors=_cors)


# -- who is asking, and what they sent ----------------------------------------------------------

def caller() -> str:
    """The user-pool `sub` the Cognito authorizer verified; the only source of identity."""
    authorizer = app.current_event.request_context.authorizer or {}
    claims = authorizer.get("claims") or {}
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise UnauthorizedError("no verified caller identity")
    return subject


def body(schema_name: str) -> dict:
    raw = app.current_event.body or ""
    if app.current_event.is_base64_encoded:
        try:
            raw = base64.b64decode(raw).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequestError("the body is not valid base64-encoded UTF-8") from None
    if len(raw.encode("utf-8")) > MAX_BODY_BYTES:
        raise ServiceError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        parsed = json.loads(raw, parse_float=Decimal)
    except ValueError:
        raise BadRequestError("the body is not valid JSON") from None
    validate(parsed, schema_name)
    if parsed.get("dueDate"):
        try:
            datetime.date.fromisoformat(parsed["dueDate"])
        except ValueError:
            raise BadRequestError("field 'dueDate' is not a calendar date (YYYY-MM-DD)") from None
    return parsed


def todo_id(value: str) -> str:
    if not TODO_ID.match(value):
        raise BadRequestError("todoId must be a lowercase UUID")
    return value


def consistent_read() -> bool:
    """True while the caller's own last write is younger than the caches' TTL."""
    value = app.current_event.headers.get(LAST_WRITE_HEADER)  # case-insensitive in Powertools v3
    if value is None:
        return False
    if not value.isdigit():
        raise BadRequestError(f"{LAST_WRITE_HEADER} must be the epoch milliseconds a write returned")
    return now_ms() - int(value) <= READ_YOUR_WRITES_MS


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat(timespec="milliseconds")


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
    if item is None:  # 204: no body, and so no content type
        return Response(status_code=status, body="", headers=headers)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(public(item)), headers=headers)


def failed_condition(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


# -- routes -------------------------------------------------------------------------------------

@app.get("/todos")
def list_todos() -> dict:
    user = caller()
    params = app.current_event.query_string_parameters or {}
    unknown = sorted(set(params) - {"limit", "nextToken"})
    if unknown:
        raise BadRequestError(f"unknown query parameter(s): {', '.join(unknown)}")
    limit_text = params.get("limit", str(PAGE_SIZE))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE_SIZE:
        raise BadRequestError(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}")
    request: dict[str, Any] = {
        "KeyConditionExpression": Key("userId").eq(user),
        "Limit": int(limit_text),
        "ConsistentRead": consistent_read(),
    }
    if params.get("nextToken"):
        request["ExclusiveStartKey"] = {"userId": user, "todoId": _decode_token(params["nextToken"])}
    page = TABLE.query(**request)
    last = page.get("LastEvaluatedKey")
    return {
        "items": [public(item) for item in page.get("Items", [])],
        "nextToken": _encode_token(last["todoId"]) if last else None,
    }


@app.post("/todos")
def create_todo() -> Response:
    user = caller()
    fields = body("create")
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
        TABLE.put_item(Item=item, ConditionExpression="attribute_not_exists(todoId)")
    except ClientError as err:
        if failed_condition(err):
            raise ServiceError(409, "a to-do with this todoId already exists") from None
        raise
    logger.info("to-do created", extra={"todoId": item["todoId"]})
    return written(201, item, at, location=f"/todos/{item['todoId']}")


@app.get("/todos/<todo>")
def get_todo(todo: str) -> dict:
    user = caller()
    found = TABLE.get_item(Key={"userId": user, "todoId": todo_id(todo)},
                           ConsistentRead=consistent_read()).get("Item")
    if not found:
        raise NotFoundError("to-do not found")
    return public(found)


@app.put("/todos/<todo>")
def update_todo(todo: str) -> Response:
    user = caller()
    key = {"userId": user, "todoId": todo_id(todo)}
    fields = body("update")
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
        updated = TABLE.update_item(
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
        current = TABLE.get_item(Key=key, ConsistentRead=True).get("Item")
        if not current:
            raise NotFoundError("to-do not found") from None
        raise ServiceError(
            409, f"version {expected} is stale: the to-do is at version {int(current['version'])}; "
                 "read it again and reapply your change") from None
    logger.info("to-do updated", extra={"todoId": key["todoId"]})
    return written(200, updated, at)


@app.delete("/todos/<todo>")
def delete_todo(todo: str) -> Response:
    user = caller()
    key = {"userId": user, "todoId": todo_id(todo)}
    try:
        TABLE.delete_item(Key=key, ConditionExpression="attribute_exists(todoId)")
    except ClientError as err:
        if failed_condition(err):
            raise NotFoundError("to-do not found") from None
        raise
    logger.info("to-do deleted", extra={"todoId": key["todoId"]})
    return written(204, None, now_ms())


def _encode_token(last_todo_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"todoId": last_todo_id}).encode()).decode()


def _decode_token(token: str) -> str:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        return todo_id(decoded["todoId"])
    except (ValueError, TypeError, KeyError, binascii.Error, BadRequestError):
        raise BadRequestError("nextToken is not one this API returned") from None


@app.exception_handler(InvalidBody)
def invalid_body(err: InvalidBody) -> Response:
    return Response(status_code=400, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps({"statusCode": 400, "message": str(err)}))


_RETRYABLE = {"ThrottlingException", "ProvisionedThroughputExceededException",
              "RequestLimitExceeded", "InternalServerError", "InternalServerErrorException",
              "ServiceUnavailable", "NoRouteException", "ConnectionException"}


@app.exception_handler(ClientError)
def store_error(err: ClientError) -> Response:
    """DynamoDB/DAX failures: 503 (retry) when transient, else 500; details only in the log."""
    code = err.response.get("Error", {}).get("Code", "")
    logger.exception("to-do store call failed", extra={"errorCode": code})
    status = 503 if code in _RETRYABLE else 500
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    headers={"Retry-After": "1"} if status == 503 else None,
                    body=json.dumps({"statusCode": status, "message": (
                        "the to-do store is busy; retry shortly" if status == 503
                        else "internal error")}))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context: Any) -> dict:
    return app.resolve(event, context)
