"""Property-based bad-input tests for the to-do handler (issue 13), one per route.

Whatever a client sends (any JSON body or none, any text including lone surrogates, any headers,
query string or path parameter, base64 or not), the answer is JSON with a 2xx or 4xx status,
never a 5xx, and a 4xx (or any GET) leaves the table exactly as it was. The strategies lean
towards the inputs the handler reads (its field names, its headers, near-valid ids and numbers),
so examples get past the first check instead of all failing on the same one.

Bounded by the house Hypothesis profile (tests/conftest.py: a fixed number of derandomized
examples); each example is small. The moto table lives for one test, across its examples.
"""

from __future__ import annotations

import base64
import datetime
import json
from urllib.parse import quote

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.my_todo_list.events import api_event
from tests.my_todo_list.test_handler_todo_api import (  # noqa: F401 (fixtures)
    A_UUID,
    TABLE,
    api,
    api_module,
)
from tests.support.strategies import request_bodies
from tests.support.wiring import LambdaContext

ANOTHER_UUID = "00000000-0000-4000-8000-000000000000"

# Any code point, lone surrogates included: a Lambda event is JSON, and "\ud800" is valid JSON.
any_text = st.text(st.characters(exclude_categories=()), max_size=12)
tricky = st.sampled_from(
    [
        "",
        " ",
        "\n",
        "\ud800",
        "null",
        "true",
        "../x",
        "x" * 201,
        A_UUID,
        A_UUID + "\n",
        A_UUID.upper(),
        ANOTHER_UUID,
        "2026-12-01",
        "2026-02-30",
        "2026-12-01\n",
    ]
)
strings = tricky | any_text
# Numbers as a client might spell them: str.isdigit() is True for the superscript and the
# Arabic-Indic digits, and int() takes neither "²" nor 5000 digits.
numerals = (
    st.sampled_from(
        [
            "0",
            "1",
            "25",
            "100",
            "101",
            "-1",
            "+1",
            " 5",
            "5\n",
            "1e3",
            "0x10",
            "²",
            "١٠",
            "9" * 20,
            "9" * 5000,
            "1764000000000",
        ]
    )
    | any_text
)
tokens = (
    st.sampled_from(
        [
            base64.urlsafe_b64encode(json.dumps(v).encode()).decode()
            for v in (
                {"todoId": A_UUID},
                {"todoId": A_UUID + "\n"},
                {"todoId": 7},
                ["x"],
                {"userId": "user-b"},
            )
        ]
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


CREATE_FIELDS = ("todoId", "title", "notes", "done", "dueDate", "userId", "version")
UPDATE_FIELDS = ("version", "title", "notes", "done", "dueDate", "todoId", "userId")
todo_ids = st.sampled_from([A_UUID, A_UUID, ANOTHER_UUID]) | st.uuids(version=4).map(str) | strings
# Valid values (the mutations and the other kinds bring the invalid ones).
titles = st.text(min_size=1, max_size=20)
dates = st.dates().map(datetime.date.isoformat)
valid_creates = st.fixed_dictionaries(
    {"title": titles},
    optional={
        "notes": st.text(max_size=20),
        "done": st.booleans(),
        "dueDate": dates,
        "todoId": st.just(A_UUID) | st.uuids(version=4).map(str),
    },
)
valid_updates = st.fixed_dictionaries(
    {"version": st.integers(1, 3), "done": st.booleans()},
    optional={
        "title": titles,
        "notes": st.text(max_size=20) | st.none(),
        "dueDate": dates | st.none(),
    },
)


def bodies(valid, fields: tuple[str, ...]):
    return request_bodies(valid, fields, text=any_text, values=json_values)


content_types = (
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "text/plain",
            "application/jsonp",
            "application/json; charset=latin-1",
            "multipart/form-data",
            "",
        ]
    )
    | any_text
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": content_types,
        "X-Last-Write": numerals,
        "Origin": st.sampled_from(["http://localhost:8100", "https://evil.example"]) | any_text,
    },
) | st.dictionaries(any_text, strings, max_size=2)
queries = st.fixed_dictionaries(
    {}, optional={"limit": numerals, "nextToken": tokens}
) | st.dictionaries(any_text, strings, max_size=2)
users = st.sampled_from(["user-a", "user-a", "user-a", "user-b", None])


def event(
    method: str, todo: str | None, *, user, body=(None, False), query=None, extra_headers=None
) -> dict:
    """An event API Gateway could deliver (or a direct invoke could), for any parameter values."""
    path = "/todos" if todo is None else f"/todos/{quote(todo, safe='', errors='surrogatepass')}"
    made = api_event(
        method,
        "/todos" if todo is None else f"/todos/{A_UUID}",
        user=user,
        query=query or None,
        headers=extra_headers,
    )
    made["path"] = path
    if todo is not None:
        made["pathParameters"] = {"todoId": todo}
    made["body"], made["isBase64Encoded"] = body
    return made


@pytest.fixture
def contents(api):
    """`contents()` -> every item in the table (one client per test: a new client per call
    would cost more than the handler)."""
    dynamodb = boto3.client("dynamodb")

    def snapshot() -> list[dict]:
        items = dynamodb.scan(TableName=TABLE)["Items"]
        return sorted(items, key=lambda i: (i["userId"]["S"], i["todoId"]["S"]))

    return snapshot


def answer_is_never_5xx(api, contents, event_: dict, *, writes: bool = True) -> dict:
    """Invoke; the answer is a JSON 2xx/4xx, and a 4xx (or a read) changed nothing."""
    before = contents()
    response = api.handler(event_, LambdaContext("todo-api"))
    status = response["statusCode"]
    assert 200 <= status < 300 or 400 <= status < 500, response
    if response["body"]:
        assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
        answer = json.loads(response["body"])
        assert isinstance(answer, dict)
        if status >= 400:  # the one error body (handler_kit.rest)
            assert set(answer) == {"message", "code"} and answer["message"], answer
    else:
        assert status == 204, response
    if status >= 400 or not writes:
        assert contents() == before, (event_, response)
    return response


def seed(api, contents) -> None:
    """One to-do of user-a at A_UUID, so that examples reach the read/update/delete paths."""
    if not any(item["todoId"]["S"] == A_UUID for item in contents()):
        todo = json.dumps({"title": "seed", "todoId": A_UUID})
        answer_is_never_5xx(api, contents, event("POST", None, user="user-a", body=(todo, False)))


@given(query=queries, headers=headers, user=users)
def test_list_never_answers_5xx_and_never_writes(api, contents, query, headers, user):
    seed(api, contents)
    listed = event("GET", None, user=user, query=query, extra_headers=headers)
    answer_is_never_5xx(api, contents, listed, writes=False)


@given(body=bodies(valid_creates, CREATE_FIELDS), headers=headers, user=users)
def test_create_never_answers_5xx_and_writes_only_on_2xx(api, contents, body, headers, user):
    create = event("POST", None, user=user, body=body, extra_headers=headers)
    created = answer_is_never_5xx(api, contents, create)
    if created["statusCode"] == 201:  # what was created can be read back by its id
        todo = json.loads(created["body"])
        read = answer_is_never_5xx(
            api, contents, event("GET", todo["todoId"], user=user), writes=False
        )
        assert read["statusCode"] == 200 and json.loads(read["body"]) == todo


@given(todo=todo_ids, headers=headers, user=users)
def test_get_never_answers_5xx_and_never_writes(api, contents, todo, headers, user):
    seed(api, contents)
    read = event("GET", todo, user=user, extra_headers=headers)
    answer_is_never_5xx(api, contents, read, writes=False)


@given(todo=todo_ids, body=bodies(valid_updates, UPDATE_FIELDS), headers=headers, user=users)
def test_update_never_answers_5xx_and_writes_only_on_2xx(api, contents, todo, body, headers, user):
    seed(api, contents)
    update = event("PUT", todo, user=user, body=body, extra_headers=headers)
    updated = answer_is_never_5xx(api, contents, update)
    if updated["statusCode"] == 200:  # the stored to-do is the one the answer shows
        read = answer_is_never_5xx(api, contents, event("GET", todo, user=user), writes=False)
        assert json.loads(read["body"]) == json.loads(updated["body"])


@given(todo=todo_ids, headers=headers, user=users)
def test_delete_never_answers_5xx_and_writes_only_on_2xx(api, contents, todo, headers, user):
    seed(api, contents)
    answer_is_never_5xx(api, contents, event("DELETE", todo, user=user, extra_headers=headers))


@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]) | any_text,
    resource=st.sampled_from(["/todos", "/todos/{todoId}", "/", "/{proxy+}"]) | any_text,
    headers=headers,
)
def test_any_other_method_or_resource_is_a_json_4xx_or_2xx(
    api, contents, method, resource, headers
):
    made = event("GET", A_UUID, user="user-a", extra_headers=headers)
    made["httpMethod"], made["resource"] = method, resource
    answer_is_never_5xx(
        api,
        contents,
        made,
        writes=(method, resource)
        in {("POST", "/todos"), ("PUT", "/todos/{todoId}"), ("DELETE", "/todos/{todoId}")},
    )
