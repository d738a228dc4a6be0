"""Property-based bad-input tests for the blog API handler (issue 13), one per route.

Whatever a client sends (any JSON body or none, any text including lone surrogates, any headers,
query string or path parameter, base64 or not, signed in or not), the answer is JSON with a 2xx
or 4xx status, never a 5xx, and a 4xx (or any GET, or an upload URL) leaves the table and the
media bucket exactly as they were; with the origin lock, nothing without CloudFront's secret
header gets past its 403. The strategies lean towards the inputs the handler reads
(its field names, near-valid slugs, tags, addresses, cursors and numbers), so examples get past
the first check instead of all failing on the same one.

Bounded by the house Hypothesis profile (tests/conftest.py: a fixed number of derandomized
examples); each example is small. The moto table and bucket live for one test, across its
examples.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.my_blog.events import AUTHOR, api_event
from tests.my_blog.test_handler_blog_api import (  # noqa: F401 (fixtures)
    BUCKET,
    OLD_SECRET,
    SECRET,
    TABLE,
    api,
    api_module,
    locked_api,
)
from tests.support.strategies import request_bodies
from tests.support.wiring import LambdaContext

# Any code point, lone surrogates included: a Lambda event is JSON, and "\ud800" is valid JSON.
any_text = st.text(st.characters(exclude_categories=()), max_size=12)
tricky = st.sampled_from(
    [
        "",
        " ",
        "\n",
        "\ud800",
        "null",
        "hello-world",
        "hello-world\n",
        "Hello",
        "a--b",
        "-a",
        "a" * 81,
        "aws",
        "aws\n",
        "UPPER",
        "reader@example.com",
        "reader@example.com\n",
        " reader@example.com",
        "reader\ufeff@example.com",
        "two@@example.com",
        "image/png",
        "image/jpeg",
        "image/gif",
    ]
)
strings = tricky | any_text
numerals = (
    st.sampled_from(
        ["0", "1", "10", "50", "51", "-1", "+1", " 5", "5\n", "²", "١٠", "9" * 20, "9" * 5000]
    )
    | any_text
)


def _cursor(key) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


cursors = (
    st.sampled_from(
        [
            _cursor(k)
            for k in (
                {
                    "pk": "POST#seed",
                    "sk": "POST",
                    "gsi1pk": "POSTS",
                    "gsi1sk": "2026-11-01T00:00:00+00:00#seed",
                },
                {"pk": "POST#", "sk": "POST", "gsi1pk": "POSTS", "gsi1sk": ""},
                {
                    "pk": "POST#a",
                    "sk": "POST",
                    "gsi1pk": "POSTS",
                    "gsi1sk": "2026-11-01T00:00:00+00:00#b",
                },
                {"pk": "SUBSCRIBER#a@b.c", "sk": "SUBSCRIBER", "gsi1pk": "POSTS", "gsi1sk": "x"},
                {"pk": 1, "sk": [], "gsi1pk": None, "gsi1sk": {}},
                ["x"],
                "x",
            )
        ]
        + ["A" * 1100]
    )
    | strings
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | strings
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(strings, children, max_size=3)
    ),
    max_leaves=6,
)

POST_FIELDS = ("title", "body", "slug", "summary", "tags", "author")
UPLOAD_FIELDS = ("contentType", "key")
# Valid values (the mutations and the other kinds bring the invalid ones).
valid_slugs = st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)
valid_posts = st.fixed_dictionaries(
    {
        "title": st.from_regex(r"[A-Za-z][A-Za-z0-9 ,!?]{0,19}", fullmatch=True),
        "body": st.text(min_size=1, max_size=40).filter(str.strip),
    },
    optional={
        "slug": valid_slugs,
        "summary": st.text(min_size=1, max_size=20).filter(str.strip),
        "tags": st.lists(valid_slugs, max_size=3),
    },
)
valid_uploads = st.fixed_dictionaries({"contentType": st.sampled_from(["image/png", "image/jpeg"])})


def bodies(valid, fields: tuple[str, ...]):
    return request_bodies(valid, fields, text=any_text, values=json_values)


content_types = (
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/json; charset=latin-1",
            "",
        ]
    )
    | any_text
)
headers = st.fixed_dictionaries({}, optional={"Content-Type": content_types}) | st.dictionaries(
    any_text, strings, max_size=2
)
queries = st.fixed_dictionaries(
    {}, optional={"limit": numerals, "cursor": cursors}
) | st.dictionaries(any_text, strings, max_size=2)
authors = st.sampled_from([AUTHOR, AUTHOR, None])


def event(
    method: str,
    resource: str,
    *,
    slug: str | None = None,
    author=None,
    body=(None, False),
    query=None,
    extra_headers=None,
) -> dict:
    """An event API Gateway could deliver (or a direct invoke could), for any parameter values."""
    path = (
        resource
        if slug is None
        else resource.replace("{slug}", quote(slug, safe="", errors="surrogatepass"))
    )
    made = api_event(
        method,
        resource.replace("{slug}", "x"),
        author=author,
        query=query or None,
        headers=extra_headers,
    )
    made["path"], made["resource"] = path, resource
    made["pathParameters"] = {"slug": slug} if slug is not None else None
    made["body"], made["isBase64Encoded"] = body
    return made


@pytest.fixture
def contents(api):
    """`contents()` -> everything in the table and the media bucket (one pair of clients per
    test: a DynamoDB resource per call would cost more than the handler)."""
    dynamodb, s3 = boto3.client("dynamodb"), boto3.client("s3")

    def snapshot() -> tuple[list, list]:
        rows = dynamodb.scan(TableName=TABLE)["Items"]
        objects = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return (
            sorted(rows, key=lambda i: (i["pk"]["S"], i["sk"]["S"])),
            sorted(o["Key"] for o in objects),
        )

    return snapshot


def answer_is_never_5xx(api, state, event_: dict, *, writes: bool = True) -> dict:
    """Invoke; the answer is a JSON 2xx/4xx, and a 4xx (or a read) changed nothing."""
    before = state()
    response = api.handler(event_, LambdaContext("blog-api"))
    status = response["statusCode"]
    assert 200 <= status < 300 or 400 <= status < 500, response
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
    answer = json.loads(response["body"])
    assert isinstance(answer, dict)
    if status >= 400:
        assert set(answer) == {"message", "code"} and answer["message"], answer
        assert response["multiValueHeaders"]["Cache-Control"] in (
            ["no-store"],
            ["public, max-age=10"],
        )
    if status >= 400 or not writes:
        assert state() == before, (event_, response)
    return response


def seed(api, contents) -> None:
    """One post, so that examples reach the read and paging paths."""
    if not contents()[0]:
        post = json.dumps({"title": "Seed", "body": "x", "slug": "seed"})
        answer_is_never_5xx(
            api, contents, event("POST", "/api/posts", author=AUTHOR, body=(post, False))
        )


@given(query=queries, headers=headers)
def test_list_never_answers_5xx_and_never_writes(api, contents, query, headers):
    seed(api, contents)
    listed = event("GET", "/api/posts", query=query, extra_headers=headers)
    answer_is_never_5xx(api, contents, listed, writes=False)


@given(slug=st.sampled_from(["seed"]) | valid_slugs | strings, headers=headers)
def test_get_never_answers_5xx_and_never_writes(api, contents, slug, headers):
    seed(api, contents)
    read = event("GET", "/api/posts/{slug}", slug=slug, extra_headers=headers)
    answer_is_never_5xx(api, contents, read, writes=False)


@given(body=bodies(valid_posts, POST_FIELDS), headers=headers, author=authors)
def test_create_post_never_answers_5xx_and_writes_only_on_2xx(api, contents, body, headers, author):
    create = event("POST", "/api/posts", author=author, body=body, extra_headers=headers)
    created = answer_is_never_5xx(api, contents, create)
    if created["statusCode"] == 201:  # what was created can be read back by its slug
        post = json.loads(created["body"])
        read = event("GET", "/api/posts/{slug}", slug=post["slug"])
        answer = answer_is_never_5xx(api, contents, read, writes=False)
        assert answer["statusCode"] == 200 and json.loads(answer["body"]) == post


@given(body=bodies(valid_uploads, UPLOAD_FIELDS), headers=headers, author=authors)
def test_upload_url_never_answers_5xx_and_never_writes(api, contents, body, headers, author):
    upload = event("POST", "/api/uploads", author=author, body=body, extra_headers=headers)
    answer_is_never_5xx(api, contents, upload, writes=False)


@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]) | any_text,
    resource=st.sampled_from(["/api/posts", "/api/posts/{slug}", "/api/admin", "/", "/{proxy+}"])
    | any_text,
    headers=headers,
)
def test_any_other_method_or_resource_is_a_json_4xx_or_2xx(
    api, contents, method, resource, headers
):
    made = event("GET", "/api/posts/{slug}", slug="seed", extra_headers=headers)
    made["httpMethod"], made["resource"] = method, resource
    answer_is_never_5xx(
        api,
        contents,
        made,
        writes=(method, resource) == ("POST", "/api/posts"),
    )


@given(
    method=st.sampled_from(["GET", "POST", "PUT", "OPTIONS"]),
    resource=st.sampled_from(["/api/posts", "/api/posts/{slug}", "/api/uploads", "/api/x"]),
    body=bodies(valid_posts, POST_FIELDS),
    headers=st.dictionaries(
        st.sampled_from(["X-Origin-Verify", "x-origin-verify", "Via"]) | any_text,
        st.sampled_from([SECRET[:-1], SECRET + " ", SECRET.upper(), OLD_SECRET[1:]]) | strings,
        max_size=3,
    ),
    author=authors,
)
def test_with_the_origin_lock_no_request_without_the_secret_gets_past_403(
    locked_api, contents, method, resource, body, headers, author
):
    made = event(method, resource, slug="seed", author=author, body=body, extra_headers=headers)
    made["headers"] = {k: v for k, v in made["headers"].items() if k.lower() != "x-origin-verify"}
    made["headers"].update({k: v for k, v in headers.items() if k.lower() == "x-origin-verify"})
    answer = answer_is_never_5xx(locked_api, contents, made)
    assert answer["statusCode"] in (400, 403), answer  # 400: an event too broken to read
    if answer["statusCode"] == 403:
        assert json.loads(answer["body"])["code"] == "NotThroughCloudFront"
