"""The ride-request REST API behind the serverless web app: one user's ride requests in DynamoDB.

Routes (API Gateway REST, Lambda proxy, Cognito user-pool authorizer on every method but the
CORS preflights):
    GET    /api/requests?limit=&nextToken=   the caller's requests, newest key first
    POST   /api/requests                     book one; `Idempotency-Key: <uuid>` is required and
                                             becomes the request's id (a retry answers the same)
    GET    /api/requests/{requestId}         one request
    PATCH  /api/requests/{requestId}         change pickupAt, passengers or notes
    DELETE /api/requests/{requestId}         cancel

This module parses and answers; rides.py decides; store.py does the I/O; config.py is the
configuration. The REST kit (handler_kit.rest) does what every API does: input type and UTF-8
checks, JSON bodies against schemas.json (also the API Gateway request models), domain errors to
4xx with one error body, store failures to 503/500, CORS when the site is on another origin,
`Cache-Control: no-store` on every answer (the API sits behind CloudFront). The caller is the
`sub` the authorizer verified; nothing in the path or body can name another user.

Cold start: configuration is read at import (a misconfigured function fails its init); the table
is made by the first request that needs it; schemas.json is read by the first write.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import config
import rides
from handler_kit.errors import InvalidInput
from handler_kit.rest import Request, Response, RestApi

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
REQUEST_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_BODY_BYTES = 8 * 1024
ROOT = "/api/requests"

config.settings()

api = RestApi(
    max_body_bytes=MAX_BODY_BYTES,
    schemas=Path(__file__).with_name("schemas.json"),
    allowed_origins=lambda: config.settings().allowed_origins,
    cache_control=True,
    allow_headers=("Authorization", "Content-Type", IDEMPOTENCY_HEADER),
    expose_headers=("Location", REPLAYED_HEADER),
)
handler = api.handler


def request_id(request: Request) -> str:
    value = request.path_parameter("requestId")
    if not REQUEST_ID.fullmatch(value):
        raise InvalidInput("requestId must be a lowercase UUID")
    return value


def encode_token(last: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"requestId": last}).encode()).decode()


def decode_token(token: str) -> str:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))["requestId"]
    except (ValueError, TypeError, KeyError, RecursionError):
        value = None
    if not isinstance(value, str) or not REQUEST_ID.fullmatch(value):
        raise InvalidInput("nextToken is not one this API returned")
    return value


@api.route("GET", ROOT, query=("limit", "nextToken"))
def list_requests(request: Request) -> Response:
    user = request.caller().sub
    settings = config.settings()
    limit = request.query_integer(
        "limit", default=settings.page_size, minimum=1, maximum=settings.max_page_size
    )
    token = request.query.get("nextToken")
    items, last = rides.list_page(user, limit=limit, after=decode_token(token) if token else None)
    return Response(200, {"items": items, "nextToken": encode_token(last) if last else None})


@api.route("POST", ROOT)
def create_request(request: Request) -> Response:
    user = request.caller().sub
    key = request.header(IDEMPOTENCY_HEADER)
    if not key:
        raise InvalidInput(f"the {IDEMPOTENCY_HEADER} header is required (a UUID per new request)")
    created, replayed = rides.create(user, key, request.body("create"))
    headers = {"Location": f"{ROOT}/{created['requestId']}"}
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return Response(201, created, headers)


@api.route("GET", ROOT + "/{requestId}")
def get_request(request: Request) -> Response:
    return Response(200, rides.get(request.caller().sub, request_id(request)))


@api.route("PATCH", ROOT + "/{requestId}")
def change_request(request: Request) -> Response:
    user = request.caller().sub
    identifier = request_id(request)
    return Response(200, rides.update(user, identifier, request.body("update")))


@api.route("DELETE", ROOT + "/{requestId}")
def cancel_request(request: Request) -> Response:
    rides.delete(request.caller().sub, request_id(request))
    return Response(204)
