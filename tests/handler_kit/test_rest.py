"""handler_kit.rest on its own: one place maps every failure to an answer, one body for every
error, and nothing escapes to API Gateway (which would answer 502)."""

from __future__ import annotations

import json
import socket
import sys
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.support.apigateway import header, rest_api_event
from tests.support.wiring import LambdaContext, load_function


@pytest.fixture(scope="module")
def rest():
    return load_function("layers/handler_kit", "handler_kit.rest")


@pytest.fixture(scope="module")
def errors(rest):
    """handler_kit.errors, as the REST kit imported it (the classes it maps)."""
    return sys.modules[rest.DomainError.__module__]


def throttled():
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "Query")


@pytest.fixture
def api(rest, errors):
    api = rest.RestApi(max_body_bytes=64, allowed_origins=lambda: ("https://app.example",))
    failures = {
        "invalid": errors.InvalidInput("field 'x' is wrong"),
        "anonymous": errors.NotAuthenticated("sign in"),
        "missing": errors.NotFound("no such thing"),
        "taken": errors.Conflict("it exists", code="AlreadyExists"),
        "throttled": throttled(),
        "timeout": ReadTimeoutError(endpoint_url="https://dynamodb"),
        "dns": socket.gaierror(-3, "Temporary failure in name resolution"),
        "bug": RuntimeError("secret detail"),
        "denied": ClientError({"Error": {"Code": "AccessDenied", "Message": "secret"}}, "Get"),
    }

    @api.route("GET", "/fail/{what}")
    def fail(request):
        raise failures[request.path_parameter("what")]

    @api.route("POST", "/echo", query=("n",))
    def echo(request):
        body = request.body()
        return rest.Response(
            200, {**body, "n": request.query_integer("n", default=1, minimum=1, maximum=9)}
        )

    @api.route("GET", "/numbers")
    def numbers(_request):
        return rest.Response(200, {"int": Decimal("3"), "float": Decimal("1.5"), "set": {"b", "a"}})

    @api.route("GET", "/unencodable")
    def unencodable(_request):
        return rest.Response(200, {"value": object()})

    return api


def call(api, method, path, resource, *, body=None, query=None, origin=None, parameters=None):
    headers = {"Content-Type": "application/json", **({"Origin": origin} if origin else {})}
    event = rest_api_event(
        method,
        path,
        resource=resource,
        path_parameters=parameters,
        headers=headers,
        query=query,
        body=body,
    )
    return api.handler(event, LambdaContext("rest-kit"))


@pytest.mark.parametrize(
    "what, status, code",
    [
        ("invalid", 400, "InvalidInput"),
        ("anonymous", 401, "NotAuthenticated"),
        ("missing", 404, "NotFound"),
        ("taken", 409, "AlreadyExists"),
        ("throttled", 503, "Busy"),
        ("timeout", 503, "Busy"),
        ("dns", 503, "Busy"),
        ("bug", 500, "InternalError"),
        ("denied", 500, "InternalError"),
    ],
)
def test_every_failure_is_one_answer_with_the_one_error_body(api, what, status, code):
    answer = call(api, "GET", f"/fail/{what}", "/fail/{what}", parameters={"what": what})
    assert answer["statusCode"] == status
    body = json.loads(answer["body"])
    assert set(body) == {"message", "code"} and body["code"] == code
    assert "secret" not in answer["body"] and "slow" not in answer["body"]
    assert (header(answer, "Retry-After") == "1") == (status == 503)


def test_an_answer_that_cannot_be_encoded_is_a_500_not_an_exception(api):
    answer = call(api, "GET", "/unencodable", "/unencodable")
    assert answer["statusCode"] == 500
    assert json.loads(answer["body"]) == {"message": "internal error", "code": "InternalError"}


def test_dynamodb_numbers_and_sets_are_json(api):
    answer = call(api, "GET", "/numbers", "/numbers")
    assert json.loads(answer["body"]) == {"int": 3, "float": 1.5, "set": ["a", "b"]}


@pytest.mark.parametrize(
    "body, query, status, fragment",
    [
        ({"a": 1}, {"n": "3"}, 200, None),
        ({"a": 1}, {"n": "²"}, 400, "'n' must be a whole number from 1 to 9"),
        ({"a": 1}, {"m": "1"}, 400, "unknown query parameter(s): m"),
        ("x" * 65, None, 413, "larger than 64 bytes"),
        ('{"a": NaN}', None, 400, "not valid JSON"),
        ('{"a": "\\ud800"}', None, 400, "not valid UTF-8"),
        (None, None, 400, "a body is required"),
    ],
)
def test_the_request_rules(api, body, query, status, fragment):
    answer = call(api, "POST", "/echo", "/echo", body=body, query=query)
    assert answer["statusCode"] == status, answer
    if fragment:
        assert fragment in json.loads(answer["body"])["message"]


def test_an_unknown_route_is_a_json_404_and_cors_follows_the_allowed_origins(api):
    unknown = call(api, "GET", "/nowhere", "/nowhere", origin="https://app.example")
    assert unknown["statusCode"] == 404
    assert json.loads(unknown["body"]) == {"message": "no such route", "code": "NoSuchRoute"}
    assert header(unknown, "Access-Control-Allow-Origin") == "https://app.example"
    other = call(api, "GET", "/nowhere", "/nowhere", origin="https://evil.example")
    assert header(other, "Access-Control-Allow-Origin") is None
    preflight = call(api, "OPTIONS", "/echo", "/echo", origin="https://app.example")
    assert preflight["statusCode"] == 204
    assert header(preflight, "Access-Control-Allow-Methods") == "GET,OPTIONS,POST"


@pytest.mark.parametrize("event", [None, [], "GET /", {"httpMethod": 5}, {"headers": "x"}])
def test_what_is_not_a_proxy_event_is_a_json_4xx(api, event):
    answer = api.handler(event, LambdaContext("rest-kit"))
    assert 400 <= answer["statusCode"] < 500
    assert set(json.loads(answer["body"])) == {"message", "code"}
