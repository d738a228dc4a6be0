"""handler_kit.origin and the REST kit's origin lock: behind CloudFront, a request without the
secret header CloudFront adds is a 403 whatever its route, nothing else is read; the current and
the previous value are both accepted; the per-source limit reads the viewer's address only from
a request that passed the lock."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.apigateway import header, json_body, rest_api_event
from tests.support.wiring import LambdaContext, load_function

CURRENT, PREVIOUS = "c" * 32, "p" * 32
HEADER = "X-Origin-Verify"


@pytest.fixture(scope="module")
def rest():
    return load_function("layers/handler_kit", "handler_kit.rest")


@pytest.fixture(scope="module")
def origin(rest):
    return sys.modules[rest.OriginLock.__module__]


@pytest.fixture(scope="module")
def errors(rest):
    return sys.modules[rest.DomainError.__module__]


@pytest.fixture
def seen():
    return []


@pytest.fixture
def api(rest, origin, errors, seen):
    lock = origin.OriginLock.of(HEADER, [CURRENT, PREVIOUS])
    api = rest.RestApi(max_body_bytes=64, origin_lock=lambda: lock)

    @api.route("POST", "/things")
    def things(request):
        seen.append(request.source)
        return rest.Response(201, request.body())

    @api.route("GET", "/limited")
    def limited(_request):
        raise errors.TooManyRequests("slow down", retry_after=42)

    return api


def call(api, method="POST", path="/things", *, headers=None, source_ip="203.0.113.10", **kw):
    event = rest_api_event(
        method,
        path,
        resource=path,
        path_parameters=None,
        headers={"Content-Type": "application/json", **(headers or {})},
        body=kw.get("body", {"a": 1}),
    )
    event["requestContext"]["identity"]["sourceIp"] = source_ip
    return api.handler(event, LambdaContext("locked"))


@pytest.mark.parametrize("value", [CURRENT, PREVIOUS])
def test_the_current_and_the_previous_value_pass(api, value, seen):
    answer = call(api, headers={HEADER: value})
    assert answer["statusCode"] == 201, answer
    assert len(seen) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {HEADER: ""},
        {HEADER: CURRENT[:-1]},
        {HEADER: CURRENT + "x"},
        {HEADER: CURRENT.upper()},
        {HEADER: f"{CURRENT},{PREVIOUS}"},
        {"X-Origin-Verify-Other": CURRENT},
        {HEADER: "\u00e9" * 32},
    ],
)
def test_a_request_without_an_accepted_value_is_403_and_reaches_no_route(api, headers, seen):
    answer = call(api, headers=headers, body="not even json")
    assert answer["statusCode"] == 403
    assert json_body(answer) == {
        "message": "this API answers through its site's CloudFront distribution only "
        "(<site>/api/...), not at its own execute-api address",
        "code": "NotThroughCloudFront",
    }
    assert seen == []


def test_an_unknown_route_is_403_too_so_a_direct_caller_learns_no_routes(api):
    assert call(api, "GET", "/no/such/route")["statusCode"] == 403
    assert call(api, "GET", "/no/such/route", headers={HEADER: CURRENT})["statusCode"] == 404


def test_the_header_name_is_case_insensitive(api):
    assert call(api, headers={HEADER.lower(): CURRENT})["statusCode"] == 201


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_no_other_value_passes(api, value):
    if value in (CURRENT, PREVIOUS):
        return
    assert call(api, headers={HEADER: value})["statusCode"] == 403


def test_the_viewer_address_counts_only_behind_the_lock(rest, api, seen):
    viewer = {"CloudFront-Viewer-Address": "198.51.100.7:46532"}
    call(api, headers={HEADER: CURRENT, **viewer})
    call(api, headers={HEADER: CURRENT, "CloudFront-Viewer-Address": "2001:db8:1:2:3:4:5:6:443"})
    call(api, headers={HEADER: CURRENT, "CloudFront-Viewer-Address": "[2001:db8::9]:443"})
    call(api, headers={HEADER: CURRENT, "CloudFront-Viewer-Address": "nonsense"})
    call(api, headers={HEADER: CURRENT})
    assert seen == [
        "198.51.100.7",
        "2001:db8:1:2::/64",  # one host has a whole /64 to rotate through
        "2001:db8::/64",
        "203.0.113.10",  # unreadable or no viewer header: API Gateway's source address
        "203.0.113.10",
    ]
    # Without a lock, the header is anybody's to forge: the connection's address counts.
    unlocked = rest.RestApi(max_body_bytes=64)
    unlocked.route("POST", "/things")(lambda r: seen.append(r.source) or rest.Response(204))
    call(unlocked, headers=viewer, source_ip="192.0.2.55")
    call(unlocked, headers=viewer, source_ip="not an address")
    assert seen[-2:] == ["192.0.2.55", "unknown"]


def test_too_many_requests_is_a_429_with_retry_after(api):
    answer = call(api, "GET", "/limited", headers={HEADER: CURRENT}, body=None)
    assert answer["statusCode"] == 429
    assert header(answer, "Retry-After") == "42"
    assert json_body(answer)["code"] == "TooManyRequests"


@pytest.mark.parametrize(
    "environment, lock",
    [
        ({}, None),
        ({"ORIGIN_VERIFY_HEADER": HEADER, "ORIGIN_VERIFY_VALUES": f"{CURRENT},{PREVIOUS}"}, 2),
        ({"ORIGIN_VERIFY_HEADER": HEADER, "ORIGIN_VERIFY_VALUES": CURRENT}, 1),
    ],
)
def test_the_lock_comes_from_the_environment(origin, monkeypatch, environment, lock):
    for name in ("ORIGIN_VERIFY_HEADER", "ORIGIN_VERIFY_VALUES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    found = origin.from_environment()
    if lock is None:
        assert found is None
    else:
        assert found.header == HEADER.lower() and len(found.values) == lock


@pytest.mark.parametrize(
    "environment",
    [
        {"ORIGIN_VERIFY_HEADER": HEADER},
        {"ORIGIN_VERIFY_VALUES": CURRENT},
        {"ORIGIN_VERIFY_HEADER": HEADER, "ORIGIN_VERIFY_VALUES": "short"},
        {"ORIGIN_VERIFY_HEADER": HEADER, "ORIGIN_VERIFY_VALUES": f"{CURRENT},tiny"},
    ],
)
def test_half_a_lock_or_a_weak_value_fails_the_init(origin, monkeypatch, environment):
    for name in ("ORIGIN_VERIFY_HEADER", "ORIGIN_VERIFY_VALUES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(origin.ConfigurationError, match="origin lock"):
        origin.from_environment()
