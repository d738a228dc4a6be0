"""The blog's REST API behind CloudFront `/api/*` (API Gateway REST, Lambda proxy integration).

    GET  /api/posts?limit=&cursor=   newest posts first (public, cached at the edge)
    GET  /api/posts/{slug}           one post (public, cached at the edge)
    POST /api/posts                  create a post            (authors: Cognito ID token)
    POST /api/subscribers            subscribe an email address (public)
    POST /api/uploads                pre-signed S3 POST for one photo (authors)

Every input is validated before anything is written; a bad request gets a 4xx JSON body
`{"error": "..."}` and changes nothing. GET answers carry `Cache-Control: public, max-age=N`
so CloudFront keeps them N seconds; everything else is `no-store`.

Data (one table): posts `pk=POST#<slug>, sk=POST` (+ `gsi1pk=POSTS, gsi1sk=<createdAt>#<slug>`
for the newest-first index), subscribers `pk=SUBSCRIBER#<email>, sk=SUBSCRIBER`. Reads and
writes go through DAX when the stack sets DAX_ENDPOINT (dynamodb_client layer), else DynamoDB.

Environment: TABLE_NAME, POSTS_INDEX, MEDIA_BUCKET, UPLOAD_PREFIX, THUMBNAIL_PREFIX,
MAX_UPLOAD_BYTES, CACHE_SECONDS, [DAX_ENDPOINT].
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import re
import uuid
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from botocore.config import Config
from botocore.exceptions import ClientError
from boto3.dynamodb.conditions import Key
from dynamodb_client import dynamodb_resource

logger = Logger(service="blog-api")
app = APIGatewayRestResolver()

TABLE = dynamodb_resource().Table(os.environ["TABLE_NAME"])
POSTS_INDEX = os.environ["POSTS_INDEX"]
MEDIA_BUCKET = os.environ["MEDIA_BUCKET"]
UPLOAD_PREFIX = os.environ["UPLOAD_PREFIX"]
THUMBNAIL_PREFIX = os.environ["THUMBNAIL_PREFIX"]
MAX_UPLOAD_BYTES = int(os.environ["MAX_UPLOAD_BYTES"])
CACHE_SECONDS = int(os.environ.get("CACHE_SECONDS", "60"))
# SigV4 is required for pre-signed POSTs to KMS/SSE buckets and in every newer region.
S3 = boto3.client("s3", config=Config(signature_version="s3v4"))

MAX_BODY_BYTES = 64 * 1024
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,29}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
UPLOAD_TYPES = {"image/jpeg": ".jpg", "image/png": ".png"}
UPLOAD_URL_SECONDS = 300
POST_FIELDS = {"title", "body", "slug", "summary", "tags"}
LIST_FIELDS = ("slug", "title", "summary", "author", "tags", "createdAt")


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# -- responses -----------------------------------------------------------------------------------

def _json(status: int, body: Any, *, cache_seconds: int = 0,
          headers: dict | None = None) -> Response:
    cache = f"public, max-age={cache_seconds}" if cache_seconds else "no-store"
    return Response(status_code=status, content_type="application/json",
                    body=json.dumps(body, default=_plain, separators=(",", ":")),
                    headers={"Cache-Control": cache, **(headers or {})})


def _plain(value: Any) -> Any:
    if hasattr(value, "is_integer"):  # Decimal from DynamoDB
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


@app.exception_handler(BadRequest)
def _bad_request(err: BadRequest) -> Response:
    return _json(err.status, {"error": str(err)})


@app.not_found
def _no_route(_err) -> Response:
    return _json(404, {"error": "no such route"})


# -- input ---------------------------------------------------------------------------------------

def _body() -> dict:
    event = app.current_event
    raw = event.decoded_body if event.is_base64_encoded else event.body
    if raw is None or raw == "":
        raise BadRequest("request body is required (JSON object)")
    if len(raw.encode() if isinstance(raw, str) else raw) > MAX_BODY_BYTES:
        raise BadRequest(f"request body is larger than {MAX_BODY_BYTES} bytes", 413)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def _string(body: dict, name: str, *, max_length: int, required: bool = True,
            pattern: re.Pattern | None = None) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string" if name in body else f"'{name}' is required")
    value = value.strip()
    if not value:
        raise BadRequest(f"'{name}' must not be empty")
    if len(value) > max_length:
        raise BadRequest(f"'{name}' is longer than {max_length} characters")
    if pattern is not None and not pattern.match(value):
        raise BadRequest(f"'{name}' has an invalid format")
    return value


def _author() -> dict:
    """Who is calling, from the claims API Gateway's Cognito authorizer verified."""
    context = app.current_event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims") or {}
    if not claims.get("sub"):
        raise BadRequest("sign in as an author (Cognito ID token in Authorization)", 401)
    return {"sub": claims["sub"],
            "name": claims.get("cognito:username") or claims.get("email") or claims["sub"]}


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80].rstrip("-")


def _encode_cursor(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def _decode_cursor(cursor: str) -> dict:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("'cursor' is not a cursor this API returned") from None
    if (not isinstance(key, dict) or set(key) != {"pk", "sk", "gsi1pk", "gsi1sk"}
            or not all(isinstance(v, str) for v in key.values()) or key["gsi1pk"] != "POSTS"):
        raise BadRequest("'cursor' is not a cursor this API returned")
    return key


# -- routes --------------------------------------------------------------------------------------

@app.get("/api/posts")
def list_posts() -> Response:
    params = app.current_event.query_string_parameters or {}
    limit_text = params.get("limit", "10")
    if not re.fullmatch(r"\d{1,3}", limit_text) or not 1 <= int(limit_text) <= 50:
        raise BadRequest("'limit' must be a whole number from 1 to 50")
    query = {
        "IndexName": POSTS_INDEX,
        "KeyConditionExpression": Key("gsi1pk").eq("POSTS"),
        "ScanIndexForward": False,
        "Limit": int(limit_text),
    }
    cursor = params.get("cursor")
    if cursor is not None:
        if len(cursor) > 1024:
            raise BadRequest("'cursor' is too long")
        query["ExclusiveStartKey"] = _decode_cursor(cursor)
    page = TABLE.query(**query)
    posts = [{k: item[k] for k in LIST_FIELDS if k in item} for item in page.get("Items", [])]
    last = page.get("LastEvaluatedKey")
    return _json(200, {"posts": posts, "nextCursor": _encode_cursor(last) if last else None},
                 cache_seconds=CACHE_SECONDS)


@app.get("/api/posts/<slug>")
def get_post(slug: str) -> Response:
    if len(slug) > 80 or not SLUG.match(slug):
        raise BadRequest("the post slug must be lowercase words joined by '-'")
    item = TABLE.get_item(Key={"pk": f"POST#{slug}", "sk": "POST"}).get("Item")
    if item is None:
        # Short edge caching for misses too: a hammered missing URL should not reach the table.
        return _json(404, {"error": f"no post '{slug}'"}, cache_seconds=min(CACHE_SECONDS, 10))
    return _json(200, _public_post(item), cache_seconds=CACHE_SECONDS)


@app.post("/api/posts")
def create_post() -> Response:
    author = _author()
    body = _body()
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
    if not isinstance(tags, list) or len(tags) > 10 or not all(
            isinstance(t, str) and TAG.match(t) for t in tags):
        raise BadRequest("'tags' must be a list of at most 10 lowercase words (a-z, 0-9, -)")

    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    item = {
        "pk": f"POST#{slug}", "sk": "POST", "gsi1pk": "POSTS", "gsi1sk": f"{now}#{slug}",
        "slug": slug, "title": title, "body": text,
        "summary": summary or (text[:197] + "..." if len(text) > 200 else text),
        "author": author["name"], "authorSub": author["sub"], "createdAt": now,
    }
    if tags:
        item["tags"] = sorted(set(tags))
    try:
        TABLE.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise BadRequest(f"a post with slug '{slug}' already exists", 409) from None
        raise
    logger.info("post created", extra={"slug": slug, "author": author["sub"]})
    return _json(201, _public_post(item), headers={"Location": f"/api/posts/{slug}"})


@app.post("/api/subscribers")
def subscribe() -> Response:
    body = _body()
    unknown = sorted(set(body) - {"email"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    email = _string(body, "email", max_length=254, pattern=EMAIL).lower()
    try:
        TABLE.put_item(
            Item={"pk": f"SUBSCRIBER#{email}", "sk": "SUBSCRIBER", "email": email,
                  "subscribedAt": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")},
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as err:
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        # Already subscribed: the same answer, so the API does not reveal who is subscribed.
    return _json(202, {"status": "subscribed", "email": email})


@app.post("/api/uploads")
def upload_url() -> Response:
    _author()
    body = _body()
    unknown = sorted(set(body) - {"contentType"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    content_type = body.get("contentType")
    if content_type not in UPLOAD_TYPES:
        raise BadRequest(f"'contentType' must be one of {', '.join(UPLOAD_TYPES)}")
    photo = uuid.uuid4().hex
    key = f"{UPLOAD_PREFIX}{photo}{UPLOAD_TYPES[content_type]}"
    # A POST policy (not a PUT URL) so S3 itself enforces the size limit and the content type.
    post = S3.generate_presigned_post(
        Bucket=MEDIA_BUCKET, Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type},
                    ["content-length-range", 1, MAX_UPLOAD_BYTES]],
        ExpiresIn=UPLOAD_URL_SECONDS,
    )
    return _json(201, {"upload": post, "key": key, "maxBytes": MAX_UPLOAD_BYTES,
                       "expiresInSeconds": UPLOAD_URL_SECONDS,
                       "thumbnailPath": f"/{THUMBNAIL_PREFIX}{photo}.jpg"})


def _public_post(item: dict) -> dict:
    return {k: item[k] for k in (*LIST_FIELDS, "body") if k in item}


@logger.inject_lambda_context
def handler(event: dict, context) -> dict:
    return app.resolve(event, context)
