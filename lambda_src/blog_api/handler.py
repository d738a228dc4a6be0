"""The blog's REST API behind CloudFront `/api/*` (API Gateway REST, Lambda proxy integration).

    GET  /api/posts?limit=&cursor=   newest posts first (public, cached at the edge)
    GET  /api/posts/{slug}           one post (public, cached at the edge)
    POST /api/posts                  create a post            (authors: Cognito ID token)
    POST /api/subscribers            subscribe an email address (public)
    POST /api/uploads                pre-signed S3 POST for one photo (authors)

Every input is validated before anything is written; a bad request gets a 4xx JSON body
`{"error": "..."}` and changes nothing. GET answers carry `Cache-Control: public, max-age=N`
so CloudFront keeps them N seconds; everything else is `no-store`.

The input rules are written once, below, and hold for every route: the request's strings must be
UTF-8 (a lone surrogate cannot be stored or logged), numbers are ASCII digits, slugs, tags and
addresses match their whole pattern (`fullmatch`: `$` also matches before a trailing newline) as
sent, with the same pattern strings as the API Gateway models in
blueprints/my_blog/blog_api.py, a body is
`application/json` (415 otherwise: API Gateway validates bodies against its models for that
content type only), and types are checked before use. DynamoDB/DAX failures are a 503 with
`Retry-After` when a retry can succeed (throttling, timeouts, connection errors) and a logged 500
otherwise; anything unexpected is a logged 500 too, never the 502 API Gateway makes of an
exception escaping a proxy integration.

Data (one table): posts `pk=POST#<slug>, sk=POST` (+ `gsi1pk=POSTS, gsi1sk=<createdAt>#<slug>`
for the newest-first index), subscribers `pk=SUBSCRIBER#<email>, sk=SUBSCRIBER`. Reads and
writes go through DAX when the stack sets DAX_ENDPOINT (dynamodb_client layer), else DynamoDB.

Cold start: the module imports what every request needs and no more. Configuration is read once,
by `settings()` (tests patch it); the table is made on the first request that needs it, and the S3
client only by the upload route, which signs its answers (the public GETs never pay for it).
Routing is a lookup of the resource API Gateway matched: Powertools' REST resolver would import
every resolver and event class it has. Logging stays Powertools' structured JSON.

Environment: TABLE_NAME, POSTS_INDEX, MEDIA_BUCKET, UPLOAD_PREFIX, THUMBNAIL_PREFIX,
MAX_UPLOAD_BYTES, CACHE_SECONDS, [DAX_ENDPOINT].
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import json
import os
import re
import socket
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from boto3.dynamodb.conditions import Key
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from dynamodb_client import dynamodb_resource

logger = Logger(service="blog-api")

MAX_BODY_BYTES = 64 * 1024
# The API Gateway models' pattern strings (blueprints/my_blog/blog_api.py; a test keeps them equal).
SLUG = re.compile("^[a-z0-9]+(-[a-z0-9]+)*$")
TAG = re.compile("^[a-z0-9][a-z0-9-]{0,29}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
LIMIT = re.compile(r"[0-9]{1,3}")
# A cursor's index sort key: `<createdAt>#<slug>`, as create_post writes it.
SORT_KEY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.+-]{1,40}#(.+)")
UPLOAD_TYPES = {"image/jpeg": ".jpg", "image/png": ".png"}
UPLOAD_URL_SECONDS = 300
POST_FIELDS = {"title", "body", "slug", "summary", "tags"}
LIST_FIELDS = ("slug", "title", "summary", "author", "tags", "createdAt")


# -- configuration and clients: read once, made on first use ------------------------------------


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str
    posts_index: str
    media_bucket: str
    upload_prefix: str
    thumbnail_prefix: str
    max_upload_bytes: int
    cache_seconds: int


@functools.cache
def settings() -> Settings:
    """The function's configuration, from its environment, once per execution environment."""
    env = os.environ
    return Settings(
        table_name=env["TABLE_NAME"],
        posts_index=env["POSTS_INDEX"],
        media_bucket=env["MEDIA_BUCKET"],
        upload_prefix=env["UPLOAD_PREFIX"],
        thumbnail_prefix=env["THUMBNAIL_PREFIX"],
        max_upload_bytes=int(env["MAX_UPLOAD_BYTES"]),
        cache_seconds=int(env.get("CACHE_SECONDS", "60")),
    )


def table():
    """The blog table (through DAX when the layer is given DAX_ENDPOINT), kept once made."""
    return _table(settings().table_name)


@functools.cache
def _table(name: str):
    return dynamodb_resource().Table(name)


@functools.cache
def s3():
    """The S3 client that signs upload POSTs, made by the first upload request."""
    from botocore.config import Config

    # SigV4 is required for pre-signed POSTs to KMS/SSE buckets and in every newer region.
    return boto3.client("s3", config=Config(signature_version="s3v4"))


# -- requests, answers and the input rules ------------------------------------------------------


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


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
            raise BadRequest("the request is not an API Gateway proxy event")
        body = event.get("body")
        if body is not None and not isinstance(body, str):
            raise BadRequest("the request body must be text")
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
    body: Any
    cache_seconds: int = 0
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: JSON can carry one, UTF-8 cannot
        raise BadRequest(f"{what} is not valid UTF-8 text") from None


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{what} must be text")
    _utf8(value, what)
    return value


def _strings(event: dict, field: str, what: str) -> dict[str, str]:
    values = event.get(field) or {}
    if not isinstance(values, dict):
        raise BadRequest(f"the request's {field} must be an object of strings")
    for name, value in values.items():
        _text(name, f"a {what} name")
        if not isinstance(value, str):
            raise BadRequest(f"{what} {name!r} must be text")
        _utf8(value, f"{what} {name!r}")
    return values


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


def _body(request: Request) -> dict:
    if not _is_json(request.headers.get("content-type")):
        raise BadRequest("Content-Type must be application/json (UTF-8)", 415)
    raw = request.body
    if request.base64 and raw:
        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except ValueError:  # binascii.Error, non-ASCII text and UnicodeDecodeError all are
            raise BadRequest("request body is not valid base64-encoded UTF-8") from None
    if raw is None or raw == "":
        raise BadRequest("request body is required (JSON object)")
    if len(_utf8(raw, "request body")) > MAX_BODY_BYTES:
        raise BadRequest(f"request body is larger than {MAX_BODY_BYTES} bytes", 413)
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than ~1000
        raise BadRequest("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    _check_strings(body)
    return body


def _check_strings(body: dict) -> None:
    """Every string in the body, names included, must encode to UTF-8 (iteratively: the JSON
    may nest almost as deep as the recursion limit)."""
    pending: list[tuple[str, Any]] = [("request body", body)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, str):
            _utf8(value, where)
        elif isinstance(value, list):
            pending.extend((where, item) for item in value)
        elif isinstance(value, dict):
            for name, item in value.items():
                named = f"'{name}'" if where == "request body" else where
                pending += [(f"a field name in {where}", name), (named, item)]


def _string(
    body: dict,
    name: str,
    *,
    max_length: int,
    required: bool = True,
    pattern: re.Pattern | None = None,
    ascii_only: bool = False,
) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string" if name in body else f"'{name}' is required")
    stripped = value.strip()
    if not stripped:
        raise BadRequest(f"'{name}' must not be empty")
    # Length and pattern of the value as sent, as the API Gateway model checks it.
    if len(value) > max_length:
        raise BadRequest(f"'{name}' is longer than {max_length} characters")
    if (pattern is not None and not pattern.fullmatch(value)) or (
        ascii_only and not value.isascii()
    ):
        raise BadRequest(f"'{name}' has an invalid format")
    return stripped


def _author(request: Request) -> dict:
    """Who is calling, from the claims API Gateway's Cognito authorizer verified."""
    claims = request.claims
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise BadRequest("sign in as an author (Cognito ID token in Authorization)", 401)
    name = claims.get("cognito:username") or claims.get("email") or claims["sub"]
    return {"sub": claims["sub"], "name": name if isinstance(name, str) else claims["sub"]}


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80].rstrip("-")


def _encode_cursor(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str) -> dict:
    """The index key a previous page ended at; only keys this API writes (DynamoDB refuses an
    empty or malformed key with a ValidationException, which would be our 500)."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, RecursionError):
        key = None
    if not (
        isinstance(key, dict)
        and set(key) == {"pk", "sk", "gsi1pk", "gsi1sk"}
        and all(isinstance(v, str) for v in key.values())
        and key["sk"] == "POST"
        and key["gsi1pk"] == "POSTS"
    ):
        raise BadRequest("'cursor' is not a cursor this API returned")
    slug = key["pk"].removeprefix("POST#")
    sort_key = SORT_KEY.fullmatch(key["gsi1sk"])
    if (
        not key["pk"].startswith("POST#")
        or not SLUG.fullmatch(slug)
        or sort_key is None
        or sort_key.group(1) != slug
    ):
        raise BadRequest("'cursor' is not a cursor this API returned")
    return key


# -- routes --------------------------------------------------------------------------------------

ROUTES: dict[tuple[str, str], Callable[[Request], Response]] = {}


def route(method: str, resource: str):
    """Register a function for API Gateway's `method resource` (e.g. "GET", "/api/posts/{slug}")."""

    def register(function: Callable[[Request], Response]) -> Callable[[Request], Response]:
        ROUTES[(method, resource)] = function
        return function

    return register


@route("GET", "/api/posts")
def list_posts(request: Request) -> Response:
    params = request.query
    limit_text = params.get("limit", "10")
    if not LIMIT.fullmatch(limit_text) or not 1 <= int(limit_text) <= 50:
        raise BadRequest("'limit' must be a whole number from 1 to 50")
    config = settings()
    query = {
        "IndexName": config.posts_index,
        "KeyConditionExpression": Key("gsi1pk").eq("POSTS"),
        "ScanIndexForward": False,
        "Limit": int(limit_text),
    }
    cursor = params.get("cursor")
    if cursor is not None:
        if len(cursor) > 1024:
            raise BadRequest("'cursor' is too long")
        query["ExclusiveStartKey"] = _decode_cursor(cursor)
    page = table().query(**query)
    posts = [{k: item[k] for k in LIST_FIELDS if k in item} for item in page.get("Items", [])]
    last = page.get("LastEvaluatedKey")
    return Response(
        200,
        {"posts": posts, "nextCursor": _encode_cursor(last) if last else None},
        cache_seconds=config.cache_seconds,
    )


@route("GET", "/api/posts/{slug}")
def get_post(request: Request) -> Response:
    slug = request.path.get("slug", "")
    if len(slug) > 80 or not SLUG.fullmatch(slug):
        raise BadRequest("the post slug must be lowercase words joined by '-'")
    item = table().get_item(Key={"pk": f"POST#{slug}", "sk": "POST"}).get("Item")
    cache_seconds = settings().cache_seconds
    if item is None:
        # Short edge caching for misses too: a hammered missing URL should not reach the table.
        return Response(404, {"error": f"no post '{slug}'"}, cache_seconds=min(cache_seconds, 10))
    return Response(200, _public_post(item), cache_seconds=cache_seconds)


@route("POST", "/api/posts")
def create_post(request: Request) -> Response:
    author = _author(request)
    body = _body(request)
    unknown = sorted(set(body) - POST_FIELDS)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    title = _string(body, "title", max_length=200)
    text = _string(body, "body", max_length=50_000)
    summary = _string(body, "summary", max_length=500, required=False)
    slug = _string(body, "slug", max_length=80, required=False, pattern=SLUG) or slugify(title)
    if not slug:
        raise BadRequest("'title' has no letters or digits to make a slug from; give 'slug'")
    tags = body.get("tags", [])
    if (
        not isinstance(tags, list)
        or len(tags) > 10
        or not all(isinstance(t, str) and TAG.fullmatch(t) for t in tags)
    ):
        raise BadRequest("'tags' must be a list of at most 10 lowercase words (a-z, 0-9, -)")

    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    item = {
        "pk": f"POST#{slug}",
        "sk": "POST",
        "gsi1pk": "POSTS",
        "gsi1sk": f"{now}#{slug}",
        "slug": slug,
        "title": title,
        "body": text,
        "summary": summary or (text[:197] + "..." if len(text) > 200 else text),
        "author": author["name"],
        "authorSub": author["sub"],
        "createdAt": now,
    }
    if tags:
        item["tags"] = sorted(set(tags))
    try:
        table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise BadRequest(f"a post with slug '{slug}' already exists", 409) from None
        raise
    logger.info("post created", extra={"slug": slug, "author": author["sub"]})
    return Response(201, _public_post(item), headers={"Location": f"/api/posts/{slug}"})


@route("POST", "/api/subscribers")
def subscribe(request: Request) -> Response:
    body = _body(request)
    unknown = sorted(set(body) - {"email"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    # ASCII only: SES sends to ASCII addresses, and the model's ECMAScript `\s` and Python's
    # disagree outside ASCII (U+FEFF is whitespace to ECMAScript only).
    email = _string(body, "email", max_length=254, pattern=EMAIL, ascii_only=True).lower()
    try:
        table().put_item(
            Item={
                "pk": f"SUBSCRIBER#{email}",
                "sk": "SUBSCRIBER",
                "email": email,
                "subscribedAt": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        # Already subscribed: the same answer, so the API does not reveal who is subscribed.
    return Response(202, {"status": "subscribed", "email": email})


@route("POST", "/api/uploads")
def upload_url(request: Request) -> Response:
    _author(request)
    body = _body(request)
    unknown = sorted(set(body) - {"contentType"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    content_type = body.get("contentType")
    if not isinstance(content_type, str) or content_type not in UPLOAD_TYPES:
        raise BadRequest(f"'contentType' must be one of {', '.join(UPLOAD_TYPES)}")
    config = settings()
    photo = uuid.uuid4().hex
    key = f"{config.upload_prefix}{photo}{UPLOAD_TYPES[content_type]}"
    # A POST policy (not a PUT URL) so S3 itself enforces the size limit and the content type.
    post = s3().generate_presigned_post(
        Bucket=config.media_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", 1, config.max_upload_bytes],
        ],
        ExpiresIn=UPLOAD_URL_SECONDS,
    )
    return Response(
        201,
        {
            "upload": post,
            "key": key,
            "maxBytes": config.max_upload_bytes,
            "expiresInSeconds": UPLOAD_URL_SECONDS,
            "thumbnailPath": f"/{config.thumbnail_prefix}{photo}.jpg",
        },
    )


def _public_post(item: dict) -> dict:
    return {k: item[k] for k in (*LIST_FIELDS, "body") if k in item}


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
        "blog store call failed" if store else "unexpected error", extra={"errorCode": code}
    )
    if retry:
        return Response(
            503, {"error": "the blog is busy; retry shortly"}, headers={"Retry-After": "1"}
        )
    return Response(500, {"error": "internal error"})


def _dispatch(event: Any) -> Response:
    try:
        request = Request.of(event)
        function = ROUTES.get((request.method, request.resource))
        if function is None:
            return Response(404, {"error": "no such route"})
        return function(request)
    except BadRequest as err:
        return Response(err.status, {"error": str(err)})
    except Exception as err:  # noqa: BLE001 (the last line of defence against a 502)
        return _failed(err)


def _plain(value: Any) -> Any:
    if hasattr(value, "is_integer"):  # Decimal from DynamoDB
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _proxy_answer(response: Response) -> dict:
    """The Lambda proxy answer, shaped as Powertools' REST resolver shaped it."""
    cache = f"public, max-age={response.cache_seconds}" if response.cache_seconds else "no-store"
    headers = {"Cache-Control": cache, **response.headers, "Content-Type": "application/json"}
    return {
        "statusCode": response.status,
        "body": json.dumps(response.body, default=_plain, separators=(",", ":")),
        "isBase64Encoded": False,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
    }


@logger.inject_lambda_context
def handler(event: dict, context) -> dict:
    response = _dispatch(event)
    try:
        return _proxy_answer(response)
    except Exception:  # noqa: BLE001 (an answer that cannot be encoded)
        logger.exception("unexpected error")
        return _proxy_answer(Response(500, {"error": "internal error"}))
