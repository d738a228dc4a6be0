"""The blog API handler (lambda_src/blog_api) against moto DynamoDB and S3: every route, and
every kind of bad input getting a 4xx JSON answer with nothing written."""

from __future__ import annotations

import base64
import dataclasses
import json
import socket

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from tests.my_blog.events import AUTHOR, api_event, header, json_body
from tests.support.wiring import LambdaContext, fresh, load_function

TABLE = "blog-table"
BUCKET = "blog-media"
ENVIRONMENT = {
    "TABLE_NAME": TABLE,
    "POSTS_INDEX": "posts-by-date",
    "MEDIA_BUCKET": BUCKET,
    "UPLOAD_PREFIX": "uploads/",
    "THUMBNAIL_PREFIX": "thumbnails/",
    "MAX_UPLOAD_BYTES": "1048576",
    "CACHE_SECONDS": "60",
}


@pytest.fixture(scope="module")
def api_module():
    return load_function("blog_api", layers=("dynamodb_client",), environment=ENVIRONMENT)


@pytest.fixture
def api(aws, api_module, monkeypatch):
    monkeypatch.delenv("DAX_ENDPOINT", raising=False)
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gsi1pk", "gsi1sk")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "posts-by-date",
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return fresh(api_module, monkeypatch, ENVIRONMENT)


def call(api, method, path, **kwargs) -> dict:
    return api.handler(api_event(method, path, **kwargs), LambdaContext("blog-api"))


def items() -> list[dict]:
    return boto3.resource("dynamodb").Table(TABLE).scan()["Items"]


def new_post(**overrides) -> dict:
    return {
        "title": "Hello, World!",
        "body": "First paragraph.\n\nSecond one.",
        "tags": ["intro", "aws"],
        **overrides,
    }


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
        table.put_item(
            Item={
                "pk": f"POST#{slug}",
                "sk": "POST",
                "gsi1pk": "POSTS",
                "gsi1sk": f"2026-11-0{day}T00:00:00+00:00#{slug}",
                "slug": slug,
                "title": slug,
                "body": "x",
                "createdAt": f"2026-11-0{day}",
            }
        )
    first = json_body(call(api, "GET", "/api/posts", query={"limit": "2"}))
    assert [p["slug"] for p in first["posts"]] == ["post-3", "post-2"]
    second = json_body(
        call(api, "GET", "/api/posts", query={"limit": "2", "cursor": first["nextCursor"]})
    )
    assert [p["slug"] for p in second["posts"]] == ["post-1"]


def test_a_missing_post_is_a_briefly_cached_404(api):
    missing = call(api, "GET", "/api/posts/nothing-here")
    assert missing["statusCode"] == 404
    assert json_body(missing) == {"message": "no post 'nothing-here'", "code": "NotFound"}
    assert header(missing, "Cache-Control") == "public, max-age=10"


@pytest.mark.parametrize(
    "query, message",
    [
        ({"limit": "0"}, "'limit'"),
        ({"limit": "51"}, "'limit'"),
        ({"limit": "ten"}, "'limit'"),
        ({"cursor": "not base64 json!"}, "'cursor'"),
        ({"cursor": base64.urlsafe_b64encode(b'{"pk": "SUBSCRIBER#a@b.c"}').decode()}, "'cursor'"),
        ({"cursor": "A" * 1100}, "'cursor'"),
    ],
)
def test_bad_list_parameters_are_400(api, query, message):
    response = call(api, "GET", "/api/posts", query=query)
    assert_error(response, 400, message)


@pytest.mark.parametrize("slug", ["Hello", "hello_world", "-x", "a" * 81, "x--y"])
def test_a_malformed_slug_is_400(api, slug):
    response = call(api, "GET", f"/api/posts/{slug}")
    assert_error(response, 400, "slug")


@pytest.mark.parametrize(
    "body, status, message",
    [
        ("{not json", 400, "not valid JSON"),
        ("", 400, "a body is required"),
        ("[1, 2]", 400, "JSON object"),
        ({"body": "text only"}, 400, "missing required field(s): title"),
        ({"title": "t"}, 400, "missing required field(s): body"),
        ({"title": 5, "body": "x"}, 400, "'title' must be string"),
        ({"title": "   ", "body": "x"}, 400, "'title' must not be empty"),
        ({"title": "t", "body": "x", "summary": " "}, 400, "'summary' must not be empty"),
        ({"title": "t" * 201, "body": "x"}, 400, "longer than 200"),
        ({"title": "t", "body": "x", "slug": "Not A Slug"}, 400, "'slug' does not match"),
        ({"title": "t", "body": "x", "tags": "aws"}, 400, "'tags'"),
        ({"title": "t", "body": "x", "tags": ["UPPER"]}, 400, "'tags'"),
        ({"title": "t", "body": "x", "tags": [f"t{i}" for i in range(11)]}, 400, "'tags'"),
        ({"title": "t", "body": "x", "author": "someone-else"}, 400, "unknown field(s): author"),
        ({"title": "!!!", "body": "x"}, 400, "no letters or digits"),
        ({"title": "t", "body": "x" * 70_000}, 413, "larger than"),
    ],
)
def test_bad_posts_are_rejected_and_nothing_is_written(api, body, status, message):
    response = call(api, "POST", "/api/posts", body=body, author=AUTHOR)
    assert_error(response, status, message)
    assert items() == []


def test_creating_a_post_needs_an_author(api):
    response = call(api, "POST", "/api/posts", body=new_post(), author=None)
    assert_error(response, 401, "sign in", "NotAuthenticated")
    assert items() == []


def test_a_second_post_with_the_same_slug_is_409_and_the_first_is_untouched(api):
    assert call(api, "POST", "/api/posts", body=new_post(), author=AUTHOR)["statusCode"] == 201
    before = items()
    again = call(api, "POST", "/api/posts", body=new_post(body="Overwritten?"), author=AUTHOR)
    assert_error(again, 409, "already exists", "AlreadyExists")
    assert items() == before


def test_a_base64_encoded_body_is_accepted(api):
    response = call(
        api, "POST", "/api/posts", body=new_post(slug="b64"), author=AUTHOR, base64=True
    )
    assert response["statusCode"] == 201 and json_body(response)["slug"] == "b64"


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


@pytest.mark.parametrize(
    "body, author, status",
    [
        ({"contentType": "image/jpeg"}, None, 401),
        ({"contentType": "image/gif"}, AUTHOR, 400),
        ({"contentType": "text/html"}, AUTHOR, 400),
        ({}, AUTHOR, 400),
        ({"contentType": "image/jpeg", "key": "thumbnails/evil.jpg"}, AUTHOR, 400),
        ("not json", AUTHOR, 400),
    ],
)
def test_bad_upload_requests_get_no_url(api, body, author, status):
    response = call(api, "POST", "/api/uploads", body=body, author=author)
    assert response["statusCode"] == status, response
    assert "upload" not in json_body(response)


def test_an_unknown_route_is_a_json_404(api):
    response = call(api, "GET", "/api/admin")
    assert response["statusCode"] == 404
    assert json_body(response) == {"message": "no such route", "code": "NoSuchRoute"}
    assert header(response, "Cache-Control") == "no-store"


# -- bad input is a 4xx, never a 5xx (issue 13) ---------------------------------------------------


def assert_error(response: dict, status: int, fragment: str, code: str | None = None) -> None:
    """The one error body of every REST handler (handler_kit.rest), never cached."""
    assert response["statusCode"] == status, response
    body = json_body(response)
    assert set(body) == {"message", "code"}, body
    assert fragment in body["message"]
    if code is not None:
        assert body["code"] == code
    assert header(response, "Cache-Control") == "no-store"


@pytest.mark.parametrize("limit", ["²", "١٠", "9" * 5000, "5\n"])
def test_limit_takes_ascii_digits_only(api, limit):
    assert_error(call(api, "GET", "/api/posts", query={"limit": limit}), 400, "'limit'")


@pytest.mark.parametrize("slug", ["hello-world\n", "hello-world\r\n"])
def test_a_path_slug_with_a_trailing_newline_is_400(api, slug):
    # `$` matches before a trailing newline; `fullmatch` does not.
    assert_error(call(api, "GET", f"/api/posts/{slug}"), 400, "slug")


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"slug": "hello-world\n"}, "'slug' does not match"),
        ({"slug": " hello-world"}, "'slug' does not match"),  # so does API Gateway's model
        ({"tags": ["aws\n"]}, "'tags'"),
        ({"tags": ["aws", "intro\n"]}, "'tags'"),
    ],
)
def test_slugs_and_tags_must_match_their_whole_pattern(api, fields, fragment):
    assert_error(
        call(api, "POST", "/api/posts", body=new_post(**fields), author=AUTHOR), 400, fragment
    )
    assert items() == []


def test_the_request_models_are_the_schemas_the_handler_checks(assembly):
    """blueprints/my_blog/blog_api.py writes the API Gateway models; lambda_src/blog_api/
    schemas.json is what the handler validates bodies with: they are the same schemas."""
    from tests.support.synth import REPO_ROOT
    from tests.support.template import resources

    models = {
        model["Properties"]["Name"]: model["Properties"]["Schema"]
        for model in resources(assembly.template("MyBlog"), "AWS::ApiGateway::Model").values()
    }
    schemas = json.loads((REPO_ROOT / "lambda_src/blog_api/schemas.json").read_text())
    assert models == schemas
    # ECMAScript `pattern` is a search, the handler's check a fullmatch: they agree when anchored.
    patterns = [
        rule.get("pattern") or rule.get("items", {}).get("pattern")
        for schema in schemas.values()
        for rule in schema["properties"].values()
    ]
    assert {p for p in patterns if p} and all(
        p.startswith("^") and p.endswith("$") for p in patterns if p
    )


@pytest.mark.parametrize(
    "route, body",
    [
        ("/api/posts", '{"title": "\\ud800", "body": "x"}'),
        ("/api/posts", '{"title": "t", "body": "half an emoji \\ud83d"}'),
        ("/api/posts", '{"title": "t", "body": "x", "summary": "\\udfff"}'),
        ("/api/posts", '{"title": "\ud800 raw", "body": "x"}'),
    ],
)
def test_strings_that_cannot_be_utf8_are_400_and_nothing_is_written(api, route, body):
    assert_error(call(api, "POST", route, body=body, author=AUTHOR), 400, "UTF-8")
    assert items() == []


@pytest.mark.parametrize("content_type", [["image/png"], {"image/png": True}, 42, None, True])
def test_an_upload_content_type_of_the_wrong_type_is_400(api, content_type):
    response = call(api, "POST", "/api/uploads", body={"contentType": content_type}, author=AUTHOR)
    assert_error(response, 400, "'contentType'")


@pytest.mark.parametrize(
    "raw", ["é", "not base64!!", base64.b64encode(b"\xff\xfe{}").decode(), "eyJ0aXRsZSI6ICJ4In0=!!"]
)
def test_a_body_that_is_not_base64_or_not_utf8_is_400(api, raw):
    event = api_event("POST", "/api/posts", author=AUTHOR)
    event["body"], event["isBase64Encoded"] = raw, True
    assert_error(api.handler(event, LambdaContext("blog-api")), 400, "base64")
    assert items() == []


def test_deeply_nested_json_is_400_not_a_recursion_error(api):
    response = call(api, "POST", "/api/posts", body="[" * 5000, author=AUTHOR)
    assert_error(response, 400, "not valid JSON")


@pytest.mark.parametrize(
    "key",
    [
        {"pk": "POST#", "sk": "POST", "gsi1pk": "POSTS", "gsi1sk": ""},
        {"pk": "", "sk": "", "gsi1pk": "POSTS", "gsi1sk": "x"},
        {"pk": "PHOTO#a", "sk": "THUMBNAIL", "gsi1pk": "POSTS", "gsi1sk": "x"},
        {
            "pk": "POST#a",
            "sk": "POST",
            "gsi1pk": "POSTS",
            "gsi1sk": "2026-11-01T00:00:00+00:00#\ud800",
        },
    ],
)
def test_a_cursor_with_keys_this_api_never_returns_is_400(api, key):
    cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
    assert_error(call(api, "GET", "/api/posts", query={"cursor": cursor}), 400, "'cursor'")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=iso-8859-1",
        "text/json",
        "",
    ],
)
@pytest.mark.parametrize(
    "route, body",
    [
        ("/api/posts", new_post()),
        ("/api/uploads", {"contentType": "image/png"}),
    ],
)
def test_a_body_that_is_not_json_is_415_and_writes_nothing(api, content_type, route, body):
    # API Gateway validates bodies against the models for application/json only.
    response = call(
        api, "POST", route, body=body, author=AUTHOR, headers={"Content-Type": content_type}
    )
    assert_error(response, 415, "Content-Type")
    assert items() == []


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", None])
def test_json_or_no_content_type_is_accepted(api, content_type):
    event = api_event("POST", "/api/posts", body=new_post(), author=AUTHOR)
    del event["headers"]["Content-Type"], event["multiValueHeaders"]["Content-Type"]
    if content_type is not None:
        event["headers"]["content-type"] = content_type
        event["multiValueHeaders"]["content-type"] = [content_type]
    assert api.handler(event, LambdaContext("blog-api"))["statusCode"] == 201


def store(api):
    """The DynamoDB Table the handler talks to (tests replace its methods to inject failures)."""
    return api.blog.store.table()


def raises(error: Exception):
    def call(**_kwargs):
        raise error

    return call


DYNAMODB = "https://dynamodb.us-east-1.amazonaws.com/"


@pytest.mark.parametrize(
    "error",
    [
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query"),
        ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem"),
        ReadTimeoutError(endpoint_url=DYNAMODB),
        EndpointConnectionError(endpoint_url=DYNAMODB),
        ConnectionResetError(104, "Connection reset by peer"),  # DAX speaks over its own sockets
        TimeoutError("timed out"),
        socket.gaierror(-3, "Temporary failure in name resolution"),
    ],
    ids=type,
)
def test_throttling_timeouts_and_connection_errors_are_a_retryable_503(api, monkeypatch, error):
    for method in ("query", "get_item", "put_item"):
        monkeypatch.setattr(store(api), method, raises(error))
    for response in (
        call(api, "GET", "/api/posts"),
        call(api, "GET", "/api/posts/hello"),
        call(api, "POST", "/api/posts", body=new_post(), author=AUTHOR),
    ):
        assert_error(response, 503, "retry shortly", "Busy")
        assert header(response, "Retry-After") == "1"
        assert "slow down" not in response["body"]


@pytest.mark.parametrize(
    "error",
    [
        ClientError(
            {"Error": {"Code": "ValidationException", "Message": "secret detail"}}, "Query"
        ),
        NoCredentialsError(),
        RuntimeError("a bug, secret detail"),
    ],
    ids=type,
)
def test_any_other_failure_is_a_logged_json_500_without_details(api, monkeypatch, caplog, error):
    monkeypatch.setattr(store(api), "query", raises(error))
    response = call(api, "GET", "/api/posts")
    assert_error(response, 500, "internal error", "InternalError")
    assert "secret" not in response["body"]
    assert any(r.levelname == "ERROR" and r.exc_info for r in caplog.records)  # with the traceback


# -- cold start: nothing made at import, configuration read once through settings() -------------


def test_the_table_is_made_on_first_use_and_the_s3_client_only_for_uploads(api):
    data = api.blog.store
    assert data._table.cache_info().currsize == 0 and data.s3.cache_info().currsize == 0
    assert call(api, "GET", "/api/posts")["statusCode"] == 200
    assert data._table.cache_info().currsize == 1 and data.s3.cache_info().currsize == 0
    upload = call(api, "POST", "/api/uploads", body={"contentType": "image/png"}, author=AUTHOR)
    assert upload["statusCode"] == 201 and data.s3.cache_info().currsize == 1


def test_configuration_is_one_function_a_test_can_patch(api, monkeypatch):
    shorter = dataclasses.replace(api.config.settings(), cache_seconds=5)
    monkeypatch.setattr(api.config, "settings", lambda: shorter)
    assert header(call(api, "GET", "/api/posts"), "Cache-Control") == "public, max-age=5"


def test_the_gateways_own_errors_have_the_handlers_error_body(assembly):
    """API Gateway's refusals (unknown route, no token, a body its model rejects, throttling)
    reach the client in the same `{"message", "code"}` body as the handler's (handler_kit.rest)."""
    import re

    from tests.support.template import resources

    responses = resources(assembly.template("MyBlog"), "AWS::ApiGateway::GatewayResponse")
    assert len(responses) == 6
    for response in responses.values():
        template = response["Properties"]["ResponseTemplates"]["application/json"]
        # What API Gateway fills in: messageString is already a quoted JSON string.
        rendered = re.sub(
            r"\$context\.[A-Za-z.]+",
            lambda m: '"x"' if m.group().endswith("messageString") else "x",
            template,
        )
        assert set(json.loads(rendered)) == {"message", "code"}, template


def test_the_correlation_id_of_the_log_lines_is_the_api_gateway_request_id(api):
    event = api_event("GET", "/api/posts")
    api.handler(event, LambdaContext("blog-api"))
    assert api.blog.logger.get_correlation_id() == event["requestContext"]["requestId"]


# -- the origin lock (lock_origin): no way around CloudFront ---------------------------------------

SECRET, OLD_SECRET = "v" * 32, "o" * 32
LOCKED = {
    **ENVIRONMENT,
    "ORIGIN_VERIFY_HEADER": "X-Origin-Verify",
    "ORIGIN_VERIFY_VALUES": f"{SECRET},{OLD_SECRET}",
}
ROUTES = [
    ("GET", "/api/posts", {}),
    ("GET", "/api/posts/hello-world", {}),
    ("POST", "/api/posts", {"body": new_post(), "author": AUTHOR}),
    ("POST", "/api/uploads", {"body": {"contentType": "image/png"}, "author": AUTHOR}),
    ("GET", "/api/nothing/here", {}),
]


@pytest.fixture
def locked_api(api, monkeypatch):
    """The API with the environment lock_origin gives it (read again: settings() was cleared)."""
    return fresh(api, monkeypatch, LOCKED)


@pytest.mark.parametrize("method, path, kwargs", ROUTES)
def test_a_direct_call_is_403_on_every_route_and_changes_nothing(locked_api, method, path, kwargs):
    """What issue 12 asks: the API answers 403 to calls that did not come through CloudFront
    (here: without the header CloudFront adds, or with a wrong value)."""
    for headers in ({}, {"X-Origin-Verify": "guess" * 8}):
        direct = call(locked_api, method, path, headers=headers, **kwargs)
        assert_error(direct, 403, "CloudFront distribution only", "NotThroughCloudFront")
        assert header(direct, "Cache-Control") == "no-store"
    assert items() == []


@pytest.mark.parametrize("value", [SECRET, OLD_SECRET])
def test_through_cloudfront_with_the_current_or_previous_value_it_works(locked_api, value):
    headers = {"X-Origin-Verify": value}
    created = call(
        locked_api, "POST", "/api/posts", body=new_post(), author=AUTHOR, headers=headers
    )
    assert created["statusCode"] == 201, created
    assert call(locked_api, "GET", "/api/posts", headers=headers)["statusCode"] == 200


def test_without_the_lock_variables_there_is_no_lock(api):
    assert call(api, "GET", "/api/posts")["statusCode"] == 200
