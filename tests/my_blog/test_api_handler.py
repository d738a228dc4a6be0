"""The blog API handler (lambda_src/blog_api) against moto DynamoDB and S3: every route, and
every kind of bad input getting a 4xx JSON answer with nothing written."""

from __future__ import annotations

import base64
import json

import boto3
import pytest

from tests.my_blog.events import AUTHOR, api_event, header, json_body
from tests.support.wiring import LambdaContext, load_handler

TABLE = "blog-table"
BUCKET = "blog-media"


@pytest.fixture
def api(aws, monkeypatch):
    for name, value in {"TABLE_NAME": TABLE, "POSTS_INDEX": "posts-by-date",
                        "MEDIA_BUCKET": BUCKET, "UPLOAD_PREFIX": "uploads/",
                        "THUMBNAIL_PREFIX": "thumbnails/", "MAX_UPLOAD_BYTES": "1048576",
                        "CACHE_SECONDS": "60"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DAX_ENDPOINT", raising=False)
    boto3.client("dynamodb").create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                              for n in ("pk", "sk", "gsi1pk", "gsi1sk")],
        GlobalSecondaryIndexes=[{
            "IndexName": "posts-by-date",
            "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                          {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}])
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return load_handler("blog_api", layers=("dynamodb_client",))


def call(api, method, path, **kwargs) -> dict:
    return api.handler(api_event(method, path, **kwargs), LambdaContext("blog-api"))


def items() -> list[dict]:
    return boto3.resource("dynamodb").Table(TABLE).scan()["Items"]


def new_post(**overrides) -> dict:
    return {"title": "Hello, World!", "body": "First paragraph.\n\nSecond one.",
            "tags": ["intro", "aws"], **overrides}


# -- posts ----------------------------------------------------------------------------------------

def test_author_creates_a_post_that_readers_get_and_list(api):
    created = call(api, "POST", "/api/posts", body=new_post(), author=AUTHOR)
    assert created["statusCode"] == 201, created
    assert header(created, "Location") == "/api/posts/hello-world"
    assert header(created, "Cache-Control") == "no-store"
    post = json_body(created)
    assert post["slug"] == "hello-world" and post["author"] == "ada"
    assert post["tags"] == ["aws", "intro"]

    (stored,) = items()
    assert stored["pk"] == "POST#hello-world" and stored["sk"] == "POST"
    assert stored["gsi1pk"] == "POSTS" and stored["gsi1sk"].endswith("#hello-world")
    assert stored["authorSub"] == AUTHOR["sub"]

    got = call(api, "GET", "/api/posts/hello-world")
    assert got["statusCode"] == 200
    assert header(got, "Cache-Control") == "public, max-age=60"
    assert json_body(got)["body"] == "First paragraph.\n\nSecond one."

    listed = call(api, "GET", "/api/posts")
    assert listed["statusCode"] == 200 and header(listed, "Cache-Control") == "public, max-age=60"
    (summary,) = json_body(listed)["posts"]
    assert summary["slug"] == "hello-world" and "body" not in summary
    assert json_body(listed)["nextCursor"] is None


def test_list_is_newest_first_and_pages_with_the_cursor(api):
    table = boto3.resource("dynamodb").Table(TABLE)
    for day in range(1, 4):
        slug = f"post-{day}"
        table.put_item(Item={"pk": f"POST#{slug}", "sk": "POST", "gsi1pk": "POSTS",
                             "gsi1sk": f"2026-11-0{day}T00:00:00+00:00#{slug}", "slug": slug,
                             "title": slug, "body": "x", "createdAt": f"2026-11-0{day}"})
    first = json_body(call(api, "GET", "/api/posts", query={"limit": "2"}))
    assert [p["slug"] for p in first["posts"]] == ["post-3", "post-2"]
    second = json_body(call(api, "GET", "/api/posts",
                            query={"limit": "2", "cursor": first["nextCursor"]}))
    assert [p["slug"] for p in second["posts"]] == ["post-1"]


def test_a_missing_post_is_a_briefly_cached_404(api):
    missing = call(api, "GET", "/api/posts/nothing-here")
    assert missing["statusCode"] == 404
    assert json_body(missing) == {"error": "no post 'nothing-here'"}
    assert header(missing, "Cache-Control") == "public, max-age=10"


@pytest.mark.parametrize("query, message", [
    ({"limit": "0"}, "'limit'"), ({"limit": "51"}, "'limit'"), ({"limit": "ten"}, "'limit'"),
    ({"cursor": "not base64 json!"}, "'cursor'"),
    ({"cursor": base64.urlsafe_b64encode(b'{"pk": "SUBSCRIBER#a@b.c"}').decode()}, "'cursor'"),
    ({"cursor": "A" * 1100}, "'cursor'"),
])
def test_bad_list_parameters_are_400(api, query, message):
    response = call(api, "GET", "/api/posts", query=query)
    assert response["statusCode"] == 400 and message in json_body(response)["error"]
    assert header(response, "Cache-Control") == "no-store"


@pytest.mark.parametrize("slug", ["Hello", "hello_world", "-x", "a" * 81, "x--y"])
def test_a_malformed_slug_is_400(api, slug):
    response = call(api, "GET", f"/api/posts/{slug}")
    assert response["statusCode"] == 400 and "slug" in json_body(response)["error"]


@pytest.mark.parametrize("body, status, message", [
    ("{not json", 400, "not valid JSON"),
    ("", 400, "body is required"),
    ("[1, 2]", 400, "JSON object"),
    ({"body": "text only"}, 400, "'title' is required"),
    ({"title": "t"}, 400, "'body' is required"),
    ({"title": 5, "body": "x"}, 400, "'title' must be a string"),
    ({"title": "   ", "body": "x"}, 400, "'title' must not be empty"),
    ({"title": "t" * 201, "body": "x"}, 400, "longer than 200"),
    ({"title": "t", "body": "x", "slug": "Not A Slug"}, 400, "'slug' has an invalid format"),
    ({"title": "t", "body": "x", "tags": "aws"}, 400, "'tags'"),
    ({"title": "t", "body": "x", "tags": ["UPPER"]}, 400, "'tags'"),
    ({"title": "t", "body": "x", "tags": [f"t{i}" for i in range(11)]}, 400, "'tags'"),
    ({"title": "t", "body": "x", "author": "someone-else"}, 400, "unknown field(s): author"),
    ({"title": "!!!", "body": "x"}, 400, "no letters or digits"),
    ({"title": "t", "body": "x" * 70_000}, 413, "larger than"),
])
def test_bad_posts_are_rejected_and_nothing_is_written(api, body, status, message):
    response = call(api, "POST", "/api/posts", body=body, author=AUTHOR)
    assert response["statusCode"] == status, response
    assert message in json_body(response)["error"]
    assert items() == []


def test_creating_a_post_needs_an_author(api):
    response = call(api, "POST", "/api/posts", body=new_post(), author=None)
    assert response["statusCode"] == 401
    assert items() == []


def test_a_second_post_with_the_same_slug_is_409_and_the_first_is_untouched(api):
    assert call(api, "POST", "/api/posts", body=new_post(), author=AUTHOR)["statusCode"] == 201
    before = items()
    again = call(api, "POST", "/api/posts", body=new_post(body="Overwritten?"), author=AUTHOR)
    assert again["statusCode"] == 409 and "already exists" in json_body(again)["error"]
    assert items() == before


def test_a_base64_encoded_body_is_accepted(api):
    response = call(api, "POST", "/api/posts", body=new_post(slug="b64"), author=AUTHOR,
                    base64=True)
    assert response["statusCode"] == 201 and json_body(response)["slug"] == "b64"


# -- subscribers ----------------------------------------------------------------------------------

def test_subscribe_stores_the_lowercased_address_once(api):
    first = call(api, "POST", "/api/subscribers", body={"email": "Reader@Example.COM"})
    assert first["statusCode"] == 202
    assert json_body(first) == {"status": "subscribed", "email": "reader@example.com"}
    (item,) = items()
    assert item["pk"] == "SUBSCRIBER#reader@example.com" and item["sk"] == "SUBSCRIBER"
    assert "welcomedAt" not in item
    again = call(api, "POST", "/api/subscribers", body={"email": "reader@example.com"})
    assert again["statusCode"] == 202 and json_body(again) == json_body(first)
    assert items() == [item]


@pytest.mark.parametrize("body", [
    "{oops", "", "\"reader@example.com\"", {}, {"email": None}, {"email": 42},
    {"email": "not-an-email"}, {"email": "two@@example.com"}, {"email": "a b@example.com"},
    {"email": "x@" + "e" * 260 + ".com"}, {"email": "r@example.com", "name": "R"},
])
def test_bad_subscriptions_are_400_and_nothing_is_written(api, body):
    response = call(api, "POST", "/api/subscribers", body=body)
    assert response["statusCode"] == 400, response
    assert "error" in json_body(response)
    assert items() == []


# -- photo uploads --------------------------------------------------------------------------------

def test_an_author_gets_a_presigned_post_limited_to_one_key_type_and_size(api):
    response = call(api, "POST", "/api/uploads", body={"contentType": "image/png"}, author=AUTHOR)
    assert response["statusCode"] == 201, response
    answer = json_body(response)
    key = answer["key"]
    assert key.startswith("uploads/") and key.endswith(".png")
    photo = key.removeprefix("uploads/").removesuffix(".png")
    assert answer["thumbnailPath"] == f"/thumbnails/{photo}.jpg"
    assert answer["upload"]["url"].startswith(f"https://{BUCKET}.s3")
    fields = answer["upload"]["fields"]
    assert fields["key"] == key and fields["Content-Type"] == "image/png"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1, 1048576] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert {"key": key} in policy["conditions"]
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


@pytest.mark.parametrize("body, author, status", [
    ({"contentType": "image/jpeg"}, None, 401),
    ({"contentType": "image/gif"}, AUTHOR, 400),
    ({"contentType": "text/html"}, AUTHOR, 400),
    ({}, AUTHOR, 400),
    ({"contentType": "image/jpeg", "key": "thumbnails/evil.jpg"}, AUTHOR, 400),
    ("not json", AUTHOR, 400),
])
def test_bad_upload_requests_get_no_url(api, body, author, status):
    response = call(api, "POST", "/api/uploads", body=body, author=author)
    assert response["statusCode"] == status, response
    assert "upload" not in json_body(response)


def test_an_unknown_route_is_a_json_404(api):
    response = call(api, "GET", "/api/admin")
    assert response["statusCode"] == 404 and json_body(response) == {"error": "no such route"}
