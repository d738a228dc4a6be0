"""Property-based tests of the subscriptions API (lambda_src/subscriptions, Hypothesis, the house
profile in tests/conftest.py).

Whatever a client sends to any of the three routes (any body or none, any text with lone
surrogates, any headers and query strings, genuine links, links of another purpose or for another
address, expired or forged ones, base64 or not), the answer is JSON with a 2xx or 4xx status,
never a 5xx; a 4xx changes no subscriber, and writes at most the one request count the limit
keeps (and only for a request whose body passed the schema: a count is the price of a link
check). For any sequence of requests from a few sources, no source gets more than its hourly
budget, and a 429 writes nothing at all.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json

import boto3
from hypothesis import given
from hypothesis import strategies as st

from tests.my_blog.events import api_event
from tests.my_blog.test_handler_subscriptions import (  # noqa: F401 (fixtures)
    HOUR,
    NOW,
    TABLE,
    THROUGH_CLOUDFRONT,
    api,
    key,
    module,
)
from tests.support.strategies import (
    ANY_TEXT,
    DELIVERABLE_ADDRESSES,
    JSON_VALUES,
    request_bodies,
)
from tests.support.wiring import LambdaContext

ROUTES = ("/api/subscribers", "/api/subscribers/confirm", "/api/subscribers/unsubscribe")
# Refusals that come after the request was counted (a link was checked): they may add one hit.
COUNTED_REFUSALS = {"InvalidLink", "LinkExpired", "NothingToConfirm"}
HOURS = itertools.count(1)
ADDRESSES = st.sampled_from(["reader@example.com", "Other@Example.org"]) | DELIVERABLE_ADDRESSES


@st.composite
def links(draw) -> tuple:
    """A link to sign in the test (purpose, address, expiry relative to NOW) or any text."""
    if draw(st.booleans()):
        return (
            draw(st.sampled_from(["confirm", "unsubscribe", "other"])),
            draw(ADDRESSES),
            draw(st.sampled_from([0, -HOUR, HOUR, 48 * HOUR])),
        )
    return draw(
        st.sampled_from(["", "x", "confirm.e30.0." + "A" * 43, "confirm..." + "A" * 43]) | ANY_TEXT
    )


@st.composite
def requests(draw) -> dict:
    route = draw(st.sampled_from(ROUTES))
    field = "email" if route == ROUTES[0] else "token"
    valid = (
        st.fixed_dictionaries({"email": ADDRESSES})
        if field == "email"
        else st.fixed_dictionaries({"token": links()})
    )
    kind = draw(st.sampled_from(["valid", "valid", "valid", "other"]))
    if kind == "valid":
        body, encoded = draw(valid), False
    else:
        body, encoded = draw(
            request_bodies(
                st.fixed_dictionaries({field: st.text(max_size=30)}),
                (field, "name"),
                text=ANY_TEXT,
                values=JSON_VALUES,
            )
        )
    headers = draw(
        st.sampled_from([THROUGH_CLOUDFRONT, THROUGH_CLOUDFRONT, {}])
        | st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=2).map(lambda h: {**THROUGH_CLOUDFRONT, **h})
    )
    query = draw(st.sampled_from([None, None, {"token": "x"}]))
    return {"route": route, "body": body, "base64": encoded, "headers": headers, "query": query}


def signed(api, key, body):
    """The body with a drawn link replaced by a token the welcome function would sign."""
    if not isinstance(body, dict) or not isinstance(body.get("token"), tuple):
        return body
    purpose, address, expires = body["token"]
    token = api.subscriptions.signed_tokens.sign(
        key, purpose, address.lower(), expires_at=NOW + expires if expires else 0
    )
    return {**body, "token": token}


def state() -> tuple[list, list]:
    rows = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    rows.sort(key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
    subscribers = [r for r in rows if r["pk"]["S"].startswith("SUBSCRIBER#")]
    counts = [r for r in rows if r["pk"]["S"].startswith("RATE#")]
    return subscribers, counts


def hits(counts: list) -> int:
    return sum(int(r["hits"]["N"]) for r in counts)


def invoke(api, request: dict) -> dict:
    made = api_event("POST", request["route"], headers=request["headers"], query=request["query"])
    body = request["body"]
    made["body"] = body if body is None or isinstance(body, str) else json.dumps(body)
    if request["base64"] and made["body"] is not None:
        made["body"] = base64.b64encode(made["body"].encode("utf-8", "surrogatepass")).decode()
    made["isBase64Encoded"] = request["base64"]
    return api.handler(made, LambdaContext("subscriptions"))


def roomy(api, monkeypatch):
    """A budget no example can spend: these tests are about the answers, not the limit."""
    wide = dataclasses.replace(api.config.settings(), requests_per_hour=1000)
    monkeypatch.setattr(api.config, "settings", lambda: wide)


@given(batch=st.lists(requests(), min_size=1, max_size=4))
def test_never_a_5xx_and_a_refusal_changes_no_subscriber(api, key, monkeypatch, batch):
    roomy(api, monkeypatch)
    for request in batch:
        request = {**request, "body": signed(api, key, request["body"])}
        subscribers, counts = state()
        response = invoke(api, request)
        status = response["statusCode"]
        assert 200 <= status < 300 or 400 <= status < 500, response
        assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
        assert response["multiValueHeaders"]["Cache-Control"] == ["no-store"]
        answer = json.loads(response["body"])
        after_subscribers, after_counts = state()
        if status >= 400:
            assert set(answer) == {"message", "code"} and answer["message"], answer
            assert after_subscribers == subscribers, (request, response)
            extra = 1 if answer["code"] in COUNTED_REFUSALS else 0
            assert hits(after_counts) == hits(counts) + extra, (request, response)
        else:
            assert hits(after_counts) == hits(counts) + 1
            assert answer["status"] in ("pending", "confirmed", "unsubscribed")


@given(
    sources=st.lists(
        st.sampled_from(["198.51.100.1", "198.51.100.2", "2001:db8::1", "2001:db8::2"]),
        min_size=1,
        max_size=14,
    )
)
def test_no_source_gets_more_than_its_hourly_budget(api, monkeypatch, sources):
    """REQUESTS_PER_HOUR is 5 (the fixture's environment). Two IPv6 hosts of one /64 share a
    budget. Each example runs in an hour of its own (a fresh window, nothing to clean up)."""
    hour = next(HOURS)
    monkeypatch.setattr(api.subscriptions, "clock", lambda: NOW + hour * HOUR)
    spent: dict[str, int] = {}
    for n, source in enumerate(sources):
        budget = source.rsplit(":", 1)[0] if ":" in source else source
        request = {
            "route": ROUTES[0],
            "body": {"email": f"r{n}@example.com"},
            "base64": False,
            "headers": {**THROUGH_CLOUDFRONT, "CloudFront-Viewer-Address": f"{source}:443"},
            "query": None,
        }
        if spent.get(budget, 0) < 5:
            assert invoke(api, request)["statusCode"] == 202
            spent[budget] = spent.get(budget, 0) + 1
        else:
            before = state()
            assert invoke(api, request)["statusCode"] == 429
            assert state() == before  # neither the address nor a count
