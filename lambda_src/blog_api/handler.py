"""The blog's REST API behind CloudFront `/api/*` (API Gateway REST, Lambda proxy integration).

    GET  /api/posts?limit=&cursor=   newest posts first (public, cached at the edge)
    GET  /api/posts/{slug}           one post (public, cached at the edge)
    POST /api/posts                  create a post            (authors: Cognito ID token)
    POST /api/uploads                pre-signed S3 POST for one photo (authors)

This module parses and answers; blog.py decides; store.py does the I/O; config.py is the
configuration. The REST kit (handler_kit.rest, a layer) does what every API does: the request's
type and UTF-8 checks, JSON bodies checked against schemas.json (kept equal to the API Gateway
models of blueprints/my_blog/blog_api.py by a test), domain errors to 4xx, store failures to
503/500, and one error body `{"message": ..., "code": ...}`. A bad request changes nothing.
With the origin lock configured (handler_kit.origin), a request that did not come through the
site's CloudFront distribution is a 403 before anything else is read. (Subscriptions are
lambda_src/subscriptions, a function of their own.)
GET answers carry `Cache-Control: public, max-age=N` so CloudFront keeps them N seconds;
everything else is `no-store`.

Cold start: configuration is read once, at import (a misconfigured function fails its init); the
table is made by the first request that needs it, the S3 client only by the upload route.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import blog
import config
from handler_kit.errors import InvalidInput, NotFound
from handler_kit.rest import Request, Response, RestApi, refusal

MAX_BODY_BYTES = 64 * 1024
SLUG = re.compile("[a-z0-9]+(-[a-z0-9]+)*")
# A cursor's index sort key: `<createdAt>#<slug>`, as blog.create_post writes it.
SORT_KEY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.+-]{1,40}#(.+)")
MAX_CURSOR_LENGTH = 1024
# A miss is cached briefly too: a hammered missing URL should not reach the table.
MISS_CACHE_SECONDS = 10

config.settings()

api = RestApi(
    max_body_bytes=MAX_BODY_BYTES,
    schemas=Path(__file__).with_name("schemas.json"),
    cache_control=True,
    origin_lock=lambda: config.settings().origin_lock,
)
handler = api.handler


# -- parsing --------------------------------------------------------------------------------------


def encode_cursor(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> dict:
    """The index key a previous page ended at; only keys this API writes (DynamoDB refuses an
    empty or malformed key with a ValidationException, which would be a 500)."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidInput("'cursor' is too long")
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
        and key["pk"].startswith("POST#")
    ):
        raise InvalidInput("'cursor' is not a cursor this API returned")
    slug = key["pk"].removeprefix("POST#")
    sort_key = SORT_KEY.fullmatch(key["gsi1sk"])
    if not SLUG.fullmatch(slug) or sort_key is None or sort_key.group(1) != slug:
        raise InvalidInput("'cursor' is not a cursor this API returned")
    return key


def slug_of(request: Request) -> str:
    slug = request.path_parameter("slug")
    if len(slug) > 80 or not SLUG.fullmatch(slug):
        raise InvalidInput("the post slug must be lowercase words joined by '-'")
    return slug


# -- routes ---------------------------------------------------------------------------------------


@api.route("GET", "/api/posts")
def list_posts(request: Request) -> Response:
    limit = request.query_integer("limit", default=10, minimum=1, maximum=50)
    cursor = request.query.get("cursor")
    posts, last = blog.newest(limit, decode_cursor(cursor) if cursor is not None else None)
    return Response(
        200,
        {"posts": posts, "nextCursor": encode_cursor(last) if last else None},
        cache_seconds=config.settings().cache_seconds,
    )


@api.route("GET", "/api/posts/{slug}")
def get_post(request: Request) -> Response:
    cache_seconds = config.settings().cache_seconds
    try:
        post = blog.post(slug_of(request))
    except NotFound as missing:
        return refusal(missing, cache_seconds=min(cache_seconds, MISS_CACHE_SECONDS))
    return Response(200, post, cache_seconds=cache_seconds)


@api.route("POST", "/api/posts")
def create_post(request: Request) -> Response:
    author = request.caller()
    post = blog.create_post(author, request.body("NewPost"))
    return Response(201, post, headers={"Location": f"/api/posts/{post['slug']}"})


@api.route("POST", "/api/uploads")
def upload_url(request: Request) -> Response:
    request.caller()
    return Response(201, blog.upload(request.body("UploadRequest")["contentType"]))
