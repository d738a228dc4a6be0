"""The to-do handler against moto DynamoDB: every route, pagination, every bad input, and the
cross-user cases (user B can neither see nor change user A's to-do, and the table is unchanged)."""

from __future__ import annotations

import base64
import dataclasses
import json
import socket
import time

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from tests.my_todo_list.events import api_event, header, json_body
from tests.support.wiring import LambdaContext, fresh, load_function

TABLE = "todos-under-test"
ORIGIN = "http://localhost:8100"
ENVIRONMENT = {
    "TABLE_NAME": TABLE,
    "READ_YOUR_WRITES_SECONDS": "60",
    "PAGE_SIZE": "25",
    "MAX_PAGE_SIZE": "100",
    "ALLOWED_ORIGINS": ORIGIN,
}


@pytest.fixture(scope="module")
def api_module():
    return load_function("todo_api", layers=("dynamodb_client",), environment=ENVIRONMENT)


@pytest.fixture
def api(aws, api_module, monkeypatch):
    monkeypatch.delenv("DAX_ENDPOINT", raising=False)
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "todoId", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "userId", "AttributeType": "S"},
            {"AttributeName": "todoId", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return fresh(api_module, monkeypatch, ENVIRONMENT)


def call(api, method: str, path: str, **kwargs) -> dict:
    return api.handler(api_event(method, path, **kwargs), LambdaContext("todo-api"))


def table_items() -> list[dict]:
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    return sorted(items, key=lambda i: (i["userId"]["S"], i["todoId"]["S"]))


def create(api, user: str = "user-a", **fields) -> dict:
    response = call(api, "POST", "/todos", user=user, body={"title": "Buy milk", **fields})
    assert response["statusCode"] == 201, response
    return json_body(response)


def assert_error(response: dict, status: int, fragment: str, code: str | None = None) -> None:
    """The one error body of every REST handler (handler_kit.rest): message and code only."""
    assert response["statusCode"] == status, response
    body = json_body(response)
    assert set(body) == {"message", "code"}, body
    assert fragment in body["message"]
    if code is not None:
        assert body["code"] == code


def store(api):
    """The DynamoDB Table the handler talks to (tests replace its methods to inject failures)."""
    return api.todos.store.table()


def raises(error: Exception):
    def call(**_kwargs):
        raise error

    return call


# -- create ---------------------------------------------------------------------------------------


def test_create_stores_the_todo_under_the_callers_sub(api):
    response = call(
        api,
        "POST",
        "/todos",
        body={"title": "Buy milk", "notes": "2 litres", "dueDate": "2026-12-01"},
    )
    assert response["statusCode"] == 201
    todo = json_body(response)
    assert todo["title"] == "Buy milk" and todo["done"] is False and todo["version"] == 1
    assert "userId" not in todo
    assert header(response, "Location") == f"/todos/{todo['todoId']}"
    assert abs(int(header(response, "X-Last-Write")) - time.time() * 1000) < 60_000
    (stored,) = table_items()
    assert stored["userId"] == {"S": "user-a"}
    assert stored["todoId"] == {"S": todo["todoId"]}
    assert stored["notes"] == {"S": "2 litres"} and stored["version"] == {"N": "1"}


def test_create_with_a_client_id_is_conditional_and_never_overwrites(api):
    todo_id = "0b7f3c9e-9d3a-4c1e-8a55-2f1d7e6b9a10"
    first = create(api, todoId=todo_id, title="Original")
    assert first["todoId"] == todo_id
    before = table_items()
    again = call(api, "POST", "/todos", body={"todoId": todo_id, "title": "Overwrite attempt"})
    assert_error(again, 409, "already exists", "AlreadyExists")
    assert table_items() == before


def test_the_same_client_id_is_free_for_another_user(api):
    todo_id = "0b7f3c9e-9d3a-4c1e-8a55-2f1d7e6b9a10"
    create(api, user="user-a", todoId=todo_id)
    create(api, user="user-b", todoId=todo_id, title="B's own")
    assert [i["userId"]["S"] for i in table_items()] == ["user-a", "user-b"]


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ("{not json", 400, "not valid JSON"),
        ("", 400, "a body is required"),
        ("[1, 2]", 400, "JSON object"),
        ('"just a string"', 400, "JSON object"),
        ({}, 400, "missing required field(s): title"),
        ({"title": ""}, 400, "must not be empty"),
        ({"title": "x" * 201}, 400, "longer than 200"),
        ({"title": "ok", "notes": "n" * 2001}, 400, "longer than 2000"),
        ({"title": 42}, 400, "'title' must be string"),
        ({"title": "ok", "done": "yes"}, 400, "'done' must be boolean"),
        ({"title": "ok", "done": 1}, 400, "'done' must be boolean"),
        ({"title": "ok", "dueDate": "tomorrow"}, 400, "'dueDate' does not match"),
        ({"title": "ok", "dueDate": "2026-02-30"}, 400, "not a calendar date"),
        ({"title": "ok", "todoId": "../../other"}, 400, "'todoId' does not match"),
        ({"title": "ok", "userId": "user-b"}, 400, "unknown field(s): userId"),
        ({"title": "ok", "version": 7}, 400, "unknown field(s): version"),
        ({"title": "ok", "pad": "x" * 17_000}, 413, "larger than 16384 bytes"),
    ],
)
def test_bad_create_bodies_are_rejected_and_nothing_is_written(api, body, status, fragment):
    assert_error(call(api, "POST", "/todos", body=body), status, fragment)
    assert table_items() == []


def test_a_base64_encoded_body_is_decoded(api):
    event = api_event("POST", "/todos")
    event["body"] = base64.b64encode(
        json.dumps({"title": "From a binary-safe client"}).encode()
    ).decode()
    event["isBase64Encoded"] = True
    response = api.handler(event, LambdaContext("todo-api"))
    assert response["statusCode"] == 201
    assert json_body(response)["title"] == "From a binary-safe client"


def test_no_verified_identity_is_401_and_writes_nothing(api):
    assert_error(
        call(api, "POST", "/todos", user=None, body={"title": "x"}), 401, "caller identity"
    )
    assert table_items() == []


# -- read -----------------------------------------------------------------------------------------


def test_get_returns_own_todo_and_404_for_another_users_or_a_missing_one(api):
    todo = create(api)
    own = call(api, "GET", f"/todos/{todo['todoId']}")
    assert own["statusCode"] == 200 and json_body(own) == todo
    other = call(api, "GET", f"/todos/{todo['todoId']}", user="user-b")
    missing = call(api, "GET", "/todos/00000000-0000-4000-8000-000000000000")
    assert other["statusCode"] == missing["statusCode"] == 404
    assert json_body(other) == json_body(missing)  # nothing tells "someone else's" from "none"


def test_malformed_todo_id_is_400(api):
    assert_error(call(api, "GET", "/todos/NOT-A-UUID"), 400, "lowercase UUID")


def test_list_pages_through_only_the_callers_todos(api):
    mine = {create(api, title=f"mine {i}")["todoId"] for i in range(5)}
    create(api, user="user-b", title="not yours")
    seen, token, pages = [], None, 0
    while True:
        query = {"limit": "2", **({"nextToken": token} if token else {})}
        response = call(api, "GET", "/todos", query=query)
        assert response["statusCode"] == 200
        page = json_body(response)
        assert len(page["items"]) <= 2
        seen += [t["todoId"] for t in page["items"]]
        pages += 1
        token = page["nextToken"]
        if not token:
            break
    assert sorted(seen) == sorted(mine) and len(seen) == 5
    assert pages == 3


def test_list_default_page_and_empty_list(api):
    assert json_body(call(api, "GET", "/todos")) == {"items": [], "nextToken": None}
    create(api)
    assert len(json_body(call(api, "GET", "/todos"))["items"]) == 1


@pytest.mark.parametrize(
    "query, fragment",
    [
        ({"limit": "0"}, "'limit' must be a whole number from 1 to 100"),
        ({"limit": "101"}, "'limit' must be"),
        ({"limit": "ten"}, "'limit' must be"),
        ({"limit": "-1"}, "'limit' must be"),
        ({"nextToken": "garbage!"}, "nextToken is not one this API returned"),
        ({"nextToken": base64.urlsafe_b64encode(b'{"todoId": "x"}').decode()}, "nextToken"),
        ({"nextToken": base64.urlsafe_b64encode(b'{"userId": "user-b"}').decode()}, "nextToken"),
        ({"userId": "user-b"}, "unknown query parameter(s): userId"),
    ],
)
def test_bad_list_parameters_are_400(api, query, fragment):
    assert_error(call(api, "GET", "/todos", query=query), 400, fragment)


def test_a_forged_next_token_cannot_reach_another_users_todos(api):
    theirs = create(api, user="user-b", title="B's secret")
    token = base64.urlsafe_b64encode(
        json.dumps({"todoId": "0" * 8 + "-0000-4000-8000-" + "0" * 12}).encode()
    ).decode()
    page = json_body(call(api, "GET", "/todos", query={"nextToken": token}))
    assert theirs["todoId"] not in [t["todoId"] for t in page["items"]]
    assert page["items"] == []


def test_reads_after_own_recent_write_are_strongly_consistent(api, monkeypatch):
    seen = []
    todos = store(api)
    real_query, real_get = todos.query, todos.get_item
    monkeypatch.setattr(
        todos, "query", lambda **kw: seen.append(kw["ConsistentRead"]) or real_query(**kw)
    )
    monkeypatch.setattr(
        todos, "get_item", lambda **kw: seen.append(kw["ConsistentRead"]) or real_get(**kw)
    )
    created = call(api, "POST", "/todos", body={"title": "fresh"})
    last_write = header(created, "X-Last-Write")
    todo_id = json_body(created)["todoId"]
    call(api, "GET", "/todos", headers={"X-Last-Write": last_write})
    call(api, "GET", f"/todos/{todo_id}", headers={"x-last-write": last_write})
    long_ago = str(int(last_write) - 61_000)
    call(api, "GET", "/todos", headers={"X-Last-Write": long_ago})
    call(api, "GET", "/todos")
    assert seen == [True, True, False, False]


def test_malformed_last_write_header_is_400(api):
    assert_error(
        call(api, "GET", "/todos", headers={"X-Last-Write": "yesterday"}), 400, "X-Last-Write"
    )


# -- update ---------------------------------------------------------------------------------------


def test_update_with_the_current_version_changes_fields_and_bumps_the_version(api):
    todo = create(api, notes="old notes", dueDate="2026-12-01")
    response = call(
        api,
        "PUT",
        f"/todos/{todo['todoId']}",
        body={"version": 1, "done": True, "title": "Buy oat milk", "notes": None},
    )
    assert response["statusCode"] == 200
    updated = json_body(response)
    assert (
        updated["version"] == 2 and updated["done"] is True and updated["title"] == "Buy oat milk"
    )
    assert "notes" not in updated and updated["dueDate"] == "2026-12-01"
    assert updated["createdAt"] == todo["createdAt"] and updated["updatedAt"] >= todo["updatedAt"]
    assert header(response, "X-Last-Write")
    (stored,) = table_items()
    assert "notes" not in stored and stored["version"] == {"N": "2"}


def test_update_with_a_stale_version_is_409_and_changes_nothing(api):
    todo = create(api)
    call(api, "PUT", f"/todos/{todo['todoId']}", body={"version": 1, "done": True})
    before = table_items()
    stale = call(
        api, "PUT", f"/todos/{todo['todoId']}", body={"version": 1, "title": "lost update"}
    )
    assert_error(stale, 409, "version 1 is stale: the to-do is at version 2", "StaleVersion")
    assert table_items() == before


def test_user_b_cannot_update_user_as_todo(api):
    todo = create(api)
    before = table_items()
    response = call(
        api,
        "PUT",
        f"/todos/{todo['todoId']}",
        user="user-b",
        body={"version": 1, "title": "hijacked"},
    )
    missing = call(
        api,
        "PUT",
        "/todos/00000000-0000-4000-8000-000000000000",
        user="user-b",
        body={"version": 1, "title": "hijacked"},
    )
    assert_error(response, 404, "to-do not found", "NotFound")
    assert json_body(response) == json_body(missing)
    assert table_items() == before


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"title": "no version"}, "missing required field(s): version"),
        ({"version": 1}, "at least one field to change"),
        ({"version": "1", "done": True}, "'version' must be integer"),
        ({"version": 0, "done": True}, "between 1 and"),
        ({"version": True, "done": True}, "'version' must be integer"),
        ({"version": 1, "userId": "user-b"}, "unknown field(s): userId"),
        (
            {"version": 1, "todoId": "0b7f3c9e-9d3a-4c1e-8a55-2f1d7e6b9a10"},
            "unknown field(s): todoId",
        ),
        ({"version": 1, "title": None}, "'title' must be string"),
        ({"version": 1, "title": "t" * 201}, "longer than 200"),
        ("{broken", "not valid JSON"),
    ],
)
def test_bad_update_bodies_are_400_and_change_nothing(api, body, fragment):
    todo = create(api)
    before = table_items()
    assert_error(call(api, "PUT", f"/todos/{todo['todoId']}", body=body), 400, fragment)
    assert table_items() == before


# -- delete ---------------------------------------------------------------------------------------


def test_delete_removes_own_todo(api):
    todo = create(api)
    response = call(api, "DELETE", f"/todos/{todo['todoId']}")
    assert response["statusCode"] == 204 and not response.get("body")
    assert header(response, "X-Last-Write")
    assert table_items() == []
    assert call(api, "GET", f"/todos/{todo['todoId']}")["statusCode"] == 404


def test_user_b_cannot_delete_user_as_todo_and_missing_is_the_same_404(api):
    todo = create(api)
    before = table_items()
    theirs = call(api, "DELETE", f"/todos/{todo['todoId']}", user="user-b")
    missing = call(api, "DELETE", "/todos/00000000-0000-4000-8000-000000000000", user="user-b")
    assert_error(theirs, 404, "to-do not found")
    assert json_body(theirs) == json_body(missing)
    assert table_items() == before


# -- failures and CORS ----------------------------------------------------------------------------


def test_throttling_is_a_retryable_503_with_no_details(api, monkeypatch):
    def throttled(**_kwargs):
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query"
        )

    monkeypatch.setattr(store(api), "query", throttled)
    response = call(api, "GET", "/todos")
    assert_error(response, 503, "retry shortly", "Busy")
    assert header(response, "Retry-After") == "1"
    assert "slow down" not in response["body"]


def test_unexpected_store_errors_are_500_without_details(api, monkeypatch):
    def broken(**_kwargs):
        raise ClientError(
            {"Error": {"Code": "ValidationException", "Message": "secret detail"}}, "GetItem"
        )

    monkeypatch.setattr(store(api), "get_item", broken)
    response = call(api, "GET", "/todos/00000000-0000-4000-8000-000000000000")
    assert_error(response, 500, "internal error", "InternalError")
    assert "secret detail" not in response["body"]


def test_cors_headers_for_the_allowed_origin_only(api):
    allowed = call(api, "GET", "/todos", headers={"Origin": ORIGIN})
    assert header(allowed, "Access-Control-Allow-Origin") == ORIGIN
    other = call(api, "GET", "/todos", headers={"Origin": "https://evil.example"})
    assert header(other, "Access-Control-Allow-Origin") is None


# -- bad input is a 4xx, never a 5xx (issue 13) ---------------------------------------------------

A_UUID = "0b7f3c9e-9d3a-4c1e-8a55-2f1d7e6b9a10"


@pytest.mark.parametrize("limit", ["²", "١٠", "9" * 5000, "5\n"])
def test_limit_takes_ascii_digits_only(api, limit):
    # "²".isdigit() and "١٠".isdigit() are True; int("²") raises, int("9" * 5000) too.
    assert_error(call(api, "GET", "/todos", query={"limit": limit}), 400, "'limit' must be")


@pytest.mark.parametrize("value", ["²", "١٧٦٤٠٠٠٠٠٠٠٠٠", "9" * 5000, "1764000000000\n"])
def test_last_write_takes_ascii_digits_only(api, value):
    for path in ("/todos", f"/todos/{A_UUID}"):
        assert_error(call(api, "GET", path, headers={"X-Last-Write": value}), 400, "X-Last-Write")


def test_a_client_todo_id_with_a_trailing_newline_is_refused(api):
    # `$` matches before a trailing newline: this to-do would be listed but never readable.
    response = call(api, "POST", "/todos", body={"title": "x", "todoId": A_UUID + "\n"})
    assert_error(response, 400, "'todoId' does not match")
    assert table_items() == []


@pytest.mark.parametrize(
    "method, body", [("GET", None), ("PUT", {"version": 1, "done": True}), ("DELETE", None)]
)
def test_a_path_todo_id_with_a_trailing_newline_is_400(api, method, body):
    create(api, todoId=A_UUID)
    before = table_items()
    assert_error(call(api, method, f"/todos/{A_UUID}\n", body=body), 400, "lowercase UUID")
    assert table_items() == before


def test_a_next_token_with_a_trailing_newline_is_400(api):
    token = base64.urlsafe_b64encode(json.dumps({"todoId": A_UUID + "\n"}).encode()).decode()
    assert_error(call(api, "GET", "/todos", query={"nextToken": token}), 400, "nextToken")


def test_every_schema_pattern_is_anchored_at_both_ends():
    """JSON Schema patterns are ECMAScript and unanchored (`search`); the handler uses
    `re.fullmatch`. The two agree only for patterns written `^...$`."""
    from tests.support.synth import REPO_ROOT

    schemas = json.loads((REPO_ROOT / "lambda_src/todo_api/schemas.json").read_text())
    patterns = [
        rule["pattern"]
        for schema in schemas.values()
        for rule in schema["properties"].values()
        if "pattern" in rule
    ]
    assert patterns and all(p.startswith("^") and p.endswith("$") for p in patterns)


@pytest.mark.parametrize(
    "body",
    [
        '{"title": "\\ud800"}',  # a lone surrogate, escaped as JSON allows
        '{"title": "ok", "notes": "tail \\udfff"}',
        '{"title": "half an emoji \\ud83d"}',
        '{"title": "\ud800 raw"}',  # the event's body string itself holds the surrogate
    ],
)
def test_strings_that_cannot_be_utf8_are_400_and_nothing_is_written(api, body):
    assert_error(call(api, "POST", "/todos", body=body), 400, "UTF-8")
    assert table_items() == []


def test_an_update_with_a_lone_surrogate_is_400_and_changes_nothing(api):
    todo = create(api)
    before = table_items()
    response = call(
        api, "PUT", f"/todos/{todo['todoId']}", body='{"version": 1, "title": "\\udc00"}'
    )
    assert_error(response, 400, "UTF-8")
    assert table_items() == before


@pytest.mark.parametrize(
    "raw", ["é", "not base64!!", base64.b64encode(b"\xff\xfe{}").decode(), "eyJ0aXRsZSI6ICJ4In0=!!"]
)
def test_a_body_that_is_not_base64_or_not_utf8_is_400(api, raw):
    event = api_event("POST", "/todos")
    event["body"], event["isBase64Encoded"] = raw, True
    assert_error(api.handler(event, LambdaContext("todo-api")), 400, "base64")
    assert table_items() == []


def test_deeply_nested_json_is_400_not_a_recursion_error(api):
    assert_error(call(api, "POST", "/todos", body="[" * 5000), 400, "not valid JSON")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=iso-8859-1",
        "application/jsonp",
        "text/json",
        "",
    ],
)
def test_a_body_that_is_not_json_is_415_and_writes_nothing(api, content_type):
    # API Gateway validates bodies against the models for application/json only.
    headers = {"Content-Type": content_type}
    assert_error(
        call(api, "POST", "/todos", body={"title": "x"}, headers=headers), 415, "Content-Type"
    )
    assert table_items() == []
    todo = create(api)
    before = table_items()
    assert_error(
        call(
            api,
            "PUT",
            f"/todos/{todo['todoId']}",
            body={"version": 1, "done": True},
            headers=headers,
        ),
        415,
        "Content-Type",
    )
    assert table_items() == before


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON; charset=UTF-8", None]
)
def test_json_or_no_content_type_is_accepted(api, content_type):
    # No Content-Type: API Gateway treats the body as application/json (and validates it).
    event = api_event("POST", "/todos", body={"title": "x"})
    del event["headers"]["Content-Type"], event["multiValueHeaders"]["Content-Type"]
    if content_type is not None:
        event["headers"]["content-type"] = content_type
        event["multiValueHeaders"]["content-type"] = [content_type]
    assert api.handler(event, LambdaContext("todo-api"))["statusCode"] == 201


DYNAMODB = "https://dynamodb.us-east-1.amazonaws.com/"


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url=DYNAMODB),
        ConnectTimeoutError(endpoint_url=DYNAMODB),
        EndpointConnectionError(endpoint_url=DYNAMODB),
        ConnectionClosedError(endpoint_url=DYNAMODB),
        ConnectionResetError(104, "Connection reset by peer"),  # DAX speaks over its own sockets
        TimeoutError("timed out"),
        socket.gaierror(-3, "Temporary failure in name resolution"),
        ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem"),
    ],
    ids=type,
)
def test_timeouts_and_connection_errors_are_a_retryable_503(api, monkeypatch, error):
    monkeypatch.setattr(store(api), "query", raises(error))
    monkeypatch.setattr(store(api), "put_item", raises(error))
    for response in (call(api, "GET", "/todos"), call(api, "POST", "/todos", body={"title": "x"})):
        assert_error(response, 503, "retry shortly")
        assert header(response, "Retry-After") == "1"


@pytest.mark.parametrize(
    "error",
    [
        NoCredentialsError(),
        RuntimeError("a bug, secret detail"),
        ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "secret detail"}}, "Query"
        ),
    ],
    ids=type,
)
def test_any_other_failure_is_a_logged_json_500_without_details(api, monkeypatch, caplog, error):
    monkeypatch.setattr(store(api), "query", raises(error))
    response = call(api, "GET", "/todos")
    assert_error(response, 500, "internal error")
    assert "secret" not in response["body"]
    assert any(r.levelname == "ERROR" and r.exc_info for r in caplog.records)  # with the traceback


# -- cold start: nothing made at import, configuration read once through settings() -------------


def test_importing_the_handler_creates_no_client_and_the_first_request_makes_the_table(api):
    assert api.todos.store._table.cache_info().currsize == 0
    assert call(api, "GET", "/todos")["statusCode"] == 200
    assert api.todos.store._table.cache_info().currsize == 1
    assert store(api) is store(api)


def test_configuration_is_one_function_a_test_can_patch(api, monkeypatch):
    narrow = dataclasses.replace(api.config.settings(), max_page_size=2, allowed_origins=())
    monkeypatch.setattr(api.config, "settings", lambda: narrow)
    assert_error(call(api, "GET", "/todos", query={"limit": "3"}), 400, "from 1 to 2")
    no_cors = call(api, "GET", "/todos", headers={"Origin": ORIGIN})
    assert header(no_cors, "Access-Control-Allow-Origin") is None


def test_the_correlation_id_of_the_log_lines_is_the_api_gateway_request_id(api):
    event = api_event("GET", "/todos")
    api.handler(event, LambdaContext("todo-api"))
    assert api.todos.logger.get_correlation_id() == event["requestContext"]["requestId"]
