"""The ride-request handler against moto DynamoDB: every route, idempotent creates, every bad input
(a 4xx JSON body and nothing written), and another user's request (404, never 403, nothing
changed)."""

from __future__ import annotations

import datetime
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.serverless_web_app.events import ROOT, api_event, header, json_body, pickup_in, ride
from tests.support.wiring import LambdaContext, fresh, load_function

TABLE = "ride-requests-under-test"
ORIGIN = "https://d111111abcdef8.cloudfront.net"
ENVIRONMENT = {
    "TABLE_NAME": TABLE,
    "RETENTION_DAYS": "30",
    "MAX_DAYS_AHEAD": "90",
    "ALLOWED_ORIGINS": "",
}


@pytest.fixture(scope="module")
def api_module():
    return load_function("ride_requests", environment=ENVIRONMENT)


@pytest.fixture
def api(aws, api_module, monkeypatch):
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "userId", "KeyType": "HASH"},
            {"AttributeName": "requestId", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "userId", "AttributeType": "S"},
            {"AttributeName": "requestId", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return fresh(api_module, monkeypatch, ENVIRONMENT)


def call(api, method: str, path: str, **kwargs) -> dict:
    return api.handler(api_event(method, path, **kwargs), LambdaContext("ride-requests"))


def items() -> list[dict]:
    found = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    return sorted(found, key=lambda i: (i["userId"]["S"], i["requestId"]["S"]))


def create(api, user: str = "user-a", key: str | None = None, **fields) -> dict:
    response = call(api, "POST", ROOT, user=user, key=key or str(uuid.uuid4()), body=ride(**fields))
    assert response["statusCode"] == 201, response
    return json_body(response)


def assert_error(response: dict, status: int, fragment: str, code: str | None = None) -> None:
    assert response["statusCode"] == status, response
    body = json_body(response)
    assert set(body) == {"message", "code"}, body
    assert fragment in body["message"], body
    if code is not None:
        assert body["code"] == code


# -- create -----------------------------------------------------------------------------------


def test_create_stores_the_request_under_the_callers_sub_with_its_expiry(api):
    key = str(uuid.uuid4())
    pickup = pickup_in(days=2)
    response = call(
        api, "POST", ROOT, key=key, body=ride(pickupAt=pickup, passengers=3, notes="2 bags")
    )
    assert response["statusCode"] == 201
    created = json_body(response)
    assert created["requestId"] == key and created["status"] == "REQUESTED"
    assert created["passengers"] == 3 and created["pickupAt"] == pickup
    assert not {"userId", "fingerprint", "expiresAt"} & set(created)
    assert header(response, "Location") == f"{ROOT}/{key}"
    assert header(response, "Cache-Control") == "no-store"
    assert header(response, "Idempotent-Replayed") is None
    (stored,) = items()
    assert stored["userId"] == {"S": "user-a"} and stored["requestId"] == {"S": key}
    at = datetime.datetime.fromisoformat(pickup.replace("Z", "+00:00"))
    expected = int((at + datetime.timedelta(days=30)).timestamp())
    assert int(stored["expiresAt"]["N"]) == expected


def test_the_same_idempotency_key_again_answers_the_first_request_and_writes_nothing(api):
    key = str(uuid.uuid4())
    first = call(api, "POST", ROOT, key=key, body=ride())
    before = items()
    again = call(api, "POST", ROOT, key=key, body=json_body(first) and ride())
    assert again["statusCode"] == 201
    assert json_body(again) == json_body(first)
    assert header(again, "Idempotent-Replayed") == "true"
    assert items() == before


def test_the_same_key_for_a_different_request_is_a_conflict(api):
    key = str(uuid.uuid4())
    create(api, key=key)
    before = items()
    other = call(api, "POST", ROOT, key=key, body=ride(dropoff="Station"))
    assert_error(other, 409, "used for a different request", "IdempotencyKeyReused")
    assert items() == before


def test_one_users_key_is_free_for_another_user(api):
    key = str(uuid.uuid4())
    create(api, user="user-a", key=key)
    create(api, user="user-b", key=key, dropoff="B's own")
    assert [i["userId"]["S"] for i in items()] == ["user-a", "user-b"]


@pytest.mark.parametrize(
    "key, fragment",
    [
        (None, "Idempotency-Key header is required"),
        ("not-a-uuid", "must be a UUID"),
        ("0B7F3C9E-9D3A-4C1E-8A55-2F1D7E6B9A10", "usual 8-4-4-4-12 form"),
        ("{0b7f3c9e-9d3a-4c1e-8a55-2f1d7e6b9a10}", "usual 8-4-4-4-12 form"),
    ],
)
def test_a_create_without_a_proper_idempotency_key_is_refused(api, key, fragment):
    event = api_event("POST", ROOT, body=ride())
    if key is not None:
        event["headers"]["Idempotency-Key"] = key
    assert_error(api.handler(event, LambdaContext("x")), 400, fragment, "InvalidInput")
    assert items() == []


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ("{not json", 400, "not valid JSON"),
        ("", 400, "a body is required"),
        ("[1]", 400, "JSON object"),
        ({}, 400, "missing required field(s): pickup, dropoff, pickupAt"),
        (ride(pickup=""), 400, "must not be empty"),
        (ride(dropoff="x" * 201), 400, "longer than 200"),
        (ride(notes="n" * 501), 400, "longer than 500"),
        (ride(passengers=0), 400, "between 1 and 8"),
        (ride(passengers=9), 400, "between 1 and 8"),
        (ride(passengers="2"), 400, "must be integer"),
        (ride(passengers=True), 400, "must be integer"),
        (ride(pickupAt="tomorrow"), 400, "does not match"),
        (ride(pickupAt="2026-02-30T10:00Z"), 400, "not a date and time"),
        (ride(pickupAt="2020-01-01T10:00Z"), 400, "in the past"),
        (ride(pickupAt=pickup_in(days=91)), 400, "more than 90 days ahead"),
        (ride(userId="user-b"), 400, "unknown field(s): userId"),
        (ride(requestId="x"), 400, "unknown field(s): requestId"),
        ("x" * (8 * 1024 + 1), 413, "larger than"),
    ],
)
def test_a_bad_create_is_a_4xx_and_writes_nothing(api, body, status, fragment):
    response = call(api, "POST", ROOT, key=str(uuid.uuid4()), body=body)
    assert_error(response, status, fragment)
    assert items() == []


def test_a_body_that_is_not_json_is_415(api):
    plain = {"Content-Type": "text/plain"}
    response = call(api, "POST", ROOT, key=str(uuid.uuid4()), body=ride(), headers=plain)
    assert_error(response, 415, "application/json", "UnsupportedMediaType")
    assert items() == []


def test_without_claims_nothing_is_read_or_written(api):
    for method, path in (("GET", ROOT), ("POST", ROOT), ("DELETE", f"{ROOT}/{uuid.uuid4()}")):
        response = call(api, method, path, user=None, key=str(uuid.uuid4()), body=ride())
        assert_error(response, 401, "sign in first", "NotAuthenticated")
    assert items() == []


# -- read, list, change, cancel -------------------------------------------------------------------


def test_list_shows_the_callers_requests_newest_key_first_a_page_at_a_time(api):
    keys = [f"0190{n:04x}-0000-7000-8000-000000000000" for n in range(5)]
    for key in keys:
        create(api, key=key)
    create(api, user="user-b")
    first = json_body(call(api, "GET", ROOT, query={"limit": "3"}))
    assert [r["requestId"] for r in first["items"]] == keys[::-1][:3]
    rest = json_body(call(api, "GET", ROOT, query={"limit": "3", "nextToken": first["nextToken"]}))
    assert [r["requestId"] for r in rest["items"]] == keys[::-1][3:]
    assert rest["nextToken"] is None


@pytest.mark.parametrize(
    "query, fragment",
    [
        ({"limit": "0"}, "from 1 to 50"),
        ({"limit": "51"}, "from 1 to 50"),
        ({"limit": "²"}, "from 1 to 50"),
        ({"nextToken": "garbage"}, "not one this API returned"),
        ({"sort": "desc"}, "unknown query parameter(s): sort"),
    ],
)
def test_a_bad_list_query_is_a_400(api, query, fragment):
    assert_error(call(api, "GET", ROOT, query=query), 400, fragment, "InvalidInput")


def test_get_change_and_cancel_one_request(api):
    created = create(api)
    path = f"{ROOT}/{created['requestId']}"
    assert json_body(call(api, "GET", path)) == created
    later = pickup_in(days=3)
    changed = call(api, "PATCH", path, body={"pickupAt": later, "passengers": 2, "notes": None})
    assert changed["statusCode"] == 200
    assert json_body(changed)["pickupAt"] == later and json_body(changed)["passengers"] == 2
    (stored,) = items()
    at = datetime.datetime.fromisoformat(later.replace("Z", "+00:00"))
    assert int(stored["expiresAt"]["N"]) == int((at + datetime.timedelta(days=30)).timestamp())
    assert call(api, "DELETE", path)["statusCode"] == 204
    assert items() == []
    assert_error(call(api, "GET", path), 404, "not found", "NotFound")


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({}, "at least one field"),
        ({"status": "DONE"}, "unknown field(s): status"),
        ({"pickup": "elsewhere"}, "unknown field(s): pickup"),
        ({"pickupAt": "2020-01-01T00:00Z"}, "in the past"),
        ({"passengers": 0}, "between 1 and 8"),
    ],
)
def test_a_bad_change_is_a_400_and_changes_nothing(api, body, fragment):
    created = create(api)
    before = items()
    response = call(api, "PATCH", f"{ROOT}/{created['requestId']}", body=body)
    assert_error(response, 400, fragment, "InvalidInput")
    assert items() == before


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_malformed_request_id_is_a_400(api, method):
    response = call(api, method, f"{ROOT}/not-a-uuid", body={"notes": "x"})
    assert_error(response, 400, "lowercase UUID", "InvalidInput")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_another_users_request_is_a_404_not_a_403_and_stays_as_it_was(api, method):
    created = create(api, user="user-a")
    before = items()
    response = call(
        api, method, f"{ROOT}/{created['requestId']}", user="user-b", body={"notes": "mine"}
    )
    assert_error(response, 404, "ride request not found", "NotFound")
    assert items() == before
    assert json_body(call(api, "GET", ROOT, user="user-b"))["items"] == []


def test_an_unknown_route_is_a_404(api):
    event = api_event("PUT", ROOT)
    assert_error(api.handler(event, LambdaContext("x")), 404, "no such route", "NoSuchRoute")


# -- failures of the store ------------------------------------------------------------------------


def test_a_throttled_table_is_a_503_with_retry_after(api, monkeypatch):
    table = api.rides.store.table()

    def throttled(**_kwargs):
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
            "PutItem",
        )

    monkeypatch.setattr(table, "put_item", throttled)
    response = call(api, "POST", ROOT, key=str(uuid.uuid4()), body=ride())
    assert response["statusCode"] == 503 and header(response, "Retry-After") == "1"


# -- CORS, when the site calls the API from another origin ---------------------------------------


def test_cross_origin_answers_carry_the_sites_origin_only(api, monkeypatch):
    environment = {**ENVIRONMENT, "ALLOWED_ORIGINS": ORIGIN}
    fresh(api, monkeypatch, environment)
    own = call(api, "GET", ROOT, headers={"Origin": ORIGIN})
    assert header(own, "Access-Control-Allow-Origin") == ORIGIN
    assert "Idempotency-Key" in header(own, "Access-Control-Allow-Headers")
    other = call(api, "GET", ROOT, headers={"Origin": "https://evil.example"})
    assert header(other, "Access-Control-Allow-Origin") is None


def test_same_origin_answers_carry_no_cors_headers(api):
    response = call(api, "GET", ROOT, headers={"Origin": ORIGIN})
    assert header(response, "Access-Control-Allow-Origin") is None
