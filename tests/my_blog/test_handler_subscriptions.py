"""The subscriptions API (lambda_src/subscriptions) against moto DynamoDB and KMS: double opt-in
(pending until the signed link is used, the same answer whoever asks), one-click unsubscribe, a
limit per source, the origin lock; every refusal a 4xx JSON body that changes nothing."""

from __future__ import annotations

import dataclasses

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.my_blog.events import api_event, header, json_body
from tests.support.wiring import LambdaContext, fresh, load_function

TABLE = "subscribers"
NOW = 1_798_761_600  # 2027-01-01T00:00:00Z, the start of an hour
HOUR = 3600
ENVIRONMENT = {
    "TABLE_NAME": TABLE,
    "TOKEN_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/made-per-test",
    "REQUESTS_PER_HOUR": "5",
    "CONFIRM_LINK_HOURS": "48",
}
SECRET = "s" * 32
LOCKED = {
    "ORIGIN_VERIFY_HEADER": "X-Origin-Verify",
    "ORIGIN_VERIFY_VALUES": SECRET,
}
THROUGH_CLOUDFRONT = {"X-Origin-Verify": SECRET, "CloudFront-Viewer-Address": "198.51.100.7:5123"}


def subscribers_table() -> None:
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    )


@pytest.fixture(scope="module")
def module():
    return load_function("subscriptions", environment={**ENVIRONMENT, **LOCKED})


@pytest.fixture
def key(aws):
    return boto3.client("kms").create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")[
        "KeyMetadata"
    ]["Arn"]


@pytest.fixture
def api(aws, module, monkeypatch, key):
    subscribers_table()
    api = fresh(module, monkeypatch, {**ENVIRONMENT, **LOCKED, "TOKEN_KEY_ID": key})
    monkeypatch.setattr(api.subscriptions, "clock", lambda: NOW)
    return api


def at(api, monkeypatch, when: float) -> None:
    monkeypatch.setattr(api.subscriptions, "clock", lambda: when)


def call(api, path, body, *, headers=None, query=None) -> dict:
    event = api_event(
        "POST",
        path,
        body=body,
        query=query,
        headers=THROUGH_CLOUDFRONT if headers is None else headers,
    )
    return api.handler(event, LambdaContext("subscriptions"))


def subscribe(api, email, **kwargs) -> dict:
    return call(api, "/api/subscribers", {"email": email}, **kwargs)


def items(prefix: str = "") -> list[dict]:
    found = boto3.resource("dynamodb").Table(TABLE).scan()["Items"]
    return sorted((i for i in found if i["pk"].startswith(prefix)), key=lambda i: i["pk"])


def subscriber(email: str) -> dict | None:
    return (
        boto3.resource("dynamodb")
        .Table(TABLE)
        .get_item(Key={"pk": f"SUBSCRIBER#{email}", "sk": "SUBSCRIBER"})
        .get("Item")
    )


def token(api, key, purpose, email, expires_at=0) -> str:
    """A link as the welcome function signs it (handler_kit.signed_tokens, the same key)."""
    return api.subscriptions.signed_tokens.sign(key, purpose, email, expires_at=expires_at)


def assert_error(response: dict, status: int, code: str) -> dict:
    assert response["statusCode"] == status, response
    body = json_body(response)
    assert set(body) == {"message", "code"} and body["code"] == code, body
    assert header(response, "Cache-Control") == "no-store"
    return body


# -- subscribe ------------------------------------------------------------------------------------

PENDING_ANSWER = {
    "status": "pending",
    "email": "reader@example.com",
    "message": "unless this address is subscribed already, a confirmation link is on its way to it",
}


def test_subscribing_stores_a_pending_lowercased_address_that_expires_with_its_link(api):
    answer = subscribe(api, "Reader@Example.COM")
    assert answer["statusCode"] == 202 and json_body(answer) == PENDING_ANSWER
    assert header(answer, "Cache-Control") == "no-store"
    assert subscriber("reader@example.com") == {
        "pk": "SUBSCRIBER#reader@example.com",
        "sk": "SUBSCRIBER",
        "email": "reader@example.com",
        "status": "pending",
        "requestedAt": "2027-01-01T00:00:00+00:00",
        "expiresAt": NOW + 48 * HOUR,  # the table's TTL forgets it if nobody confirms
    }


def test_asking_again_while_the_link_is_valid_changes_nothing(api, monkeypatch):
    subscribe(api, "reader@example.com")
    before = subscriber("reader@example.com")
    at(api, monkeypatch, NOW + 47 * HOUR)
    again = subscribe(api, "reader@example.com")
    assert again["statusCode"] == 202 and json_body(again) == PENDING_ANSWER
    assert subscriber("reader@example.com") == before  # no new request: no second mail


def test_after_the_link_expired_a_new_request_starts_over(api, monkeypatch):
    subscribe(api, "reader@example.com")
    boto3.resource("dynamodb").Table(TABLE).update_item(
        Key={"pk": "SUBSCRIBER#reader@example.com", "sk": "SUBSCRIBER"},
        UpdateExpression="SET confirmationFor = requestedAt",  # the welcome function's claim
    )
    at(api, monkeypatch, NOW + 48 * HOUR)  # expired, and TTL has not deleted it yet
    assert subscribe(api, "reader@example.com")["statusCode"] == 202
    item = subscriber("reader@example.com")
    assert item["requestedAt"] == "2027-01-03T00:00:00+00:00"
    assert item["expiresAt"] == NOW + 96 * HOUR and "confirmationFor" not in item


def test_a_confirmed_subscriber_asking_again_gets_the_same_answer_and_no_mail(api, key):
    subscribe(api, "reader@example.com")
    call(
        api,
        "/api/subscribers/confirm",
        {"token": token(api, key, "confirm", "reader@example.com", NOW + HOUR)},
    )
    before = subscriber("reader@example.com")
    again = subscribe(api, "reader@example.com")
    assert again["statusCode"] == 202 and json_body(again) == PENDING_ANSWER  # reveals nothing
    assert subscriber("reader@example.com") == before


@pytest.mark.parametrize(
    "body",
    [
        "{oops",
        "",
        '"reader@example.com"',
        {},
        {"email": None},
        {"email": 42},
        {"email": "not-an-email"},
        {"email": "reader@example"},  # SES can never deliver to these: refused at the door
        {"email": "reader@localhost"},
        {"email": "a..b@example.com"},
        {"email": '"quoted"@example.com'},
        {"email": "rëader@example.com"},
        {"email": "reader@example.com\n"},
        {"email": "reader\ufeff@example.com"},
        {"email": "x@" + "e" * 260 + ".com"},
        {"email": "r@example.com", "name": "R"},
    ],
)
def test_bad_subscriptions_are_400_and_nothing_is_written_not_even_a_count(api, body):
    assert_error(call(api, "/api/subscribers", body), 400, "InvalidInput")
    assert items() == []


def test_an_unknown_query_parameter_is_400(api):
    response = call(api, "/api/subscribers", {"email": "a@example.com"}, query={"x": "1"})
    assert_error(response, 400, "InvalidInput")
    assert items() == []


# -- confirm --------------------------------------------------------------------------------------


def confirm(api, link) -> dict:
    return call(api, "/api/subscribers/confirm", {"token": link})


def test_the_confirmation_link_confirms_once_and_is_harmless_after(api, key, monkeypatch):
    subscribe(api, "reader@example.com")
    link = token(api, key, "confirm", "reader@example.com", NOW + 48 * HOUR)
    at(api, monkeypatch, NOW + HOUR)
    answer = confirm(api, link)
    assert answer["statusCode"] == 200
    assert json_body(answer) == {"status": "confirmed", "email": "reader@example.com"}
    item = subscriber("reader@example.com")
    assert item["status"] == "confirmed" and item["confirmedAt"] == "2027-01-01T01:00:00+00:00"
    assert "expiresAt" not in item  # a confirmed subscriber is kept until unsubscribed
    again = confirm(api, link)  # a second click, a mail scanner after the reader
    assert again["statusCode"] == 200 and subscriber("reader@example.com") == item


def test_a_link_for_an_address_nobody_waits_for_is_404(api, key):
    answer = confirm(api, token(api, key, "confirm", "ghost@example.com", NOW + HOUR))
    assert_error(answer, 404, "NothingToConfirm")
    assert items("SUBSCRIBER#") == []


def test_a_link_that_expired_is_400_and_confirms_nothing(api, key, monkeypatch):
    subscribe(api, "reader@example.com")
    link = token(api, key, "confirm", "reader@example.com", NOW + 48 * HOUR)
    at(api, monkeypatch, NOW + 48 * HOUR)
    body = assert_error(confirm(api, link), 400, "LinkExpired")
    assert "expired" in body["message"]
    assert subscriber("reader@example.com")["status"] == "pending"


def test_a_pending_item_whose_own_expiry_passed_is_not_confirmed(api, key, monkeypatch):
    """A link of an earlier request that outlives the item's expiry (never signed so, but the
    item's own expiry decides)."""
    subscribe(api, "reader@example.com")
    at(api, monkeypatch, NOW + 48 * HOUR + 1)
    answer = confirm(api, token(api, key, "confirm", "reader@example.com", NOW + 99 * HOUR))
    assert_error(answer, 404, "NothingToConfirm")
    assert subscriber("reader@example.com")["status"] == "pending"


@pytest.mark.parametrize(
    "forge",
    [
        lambda api, key, other: token(api, key, "unsubscribe", "reader@example.com"),
        lambda api, key, other: token(api, other, "confirm", "reader@example.com", NOW + HOUR),
        lambda api, key, other: "confirm.cmVhZGVyQGV4YW1wbGUuY29t.0." + "A" * 43,
        lambda api, key, other: "x",
        lambda api, key, other: token(api, key, "confirm", "reader@example", NOW + HOUR),
    ],
)
def test_a_forged_or_foreign_link_is_400_and_confirms_nothing(api, key, forge):
    other = boto3.client("kms").create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")[
        "KeyMetadata"
    ]["Arn"]
    subscribe(api, "reader@example.com")
    before = items("SUBSCRIBER#")
    assert_error(confirm(api, forge(api, key, other)), 400, "InvalidLink")
    assert items("SUBSCRIBER#") == before


@pytest.mark.parametrize(
    "body",
    [{}, {"token": ""}, {"token": 5}, {"token": "x" * 501}, {"token": "t", "email": "a@b.co"}],
)
def test_a_malformed_confirmation_is_400(api, body):
    assert_error(call(api, "/api/subscribers/confirm", body), 400, "InvalidInput")
    assert items() == []


# -- unsubscribe ----------------------------------------------------------------------------------


def unsubscribe(api, link) -> dict:
    return call(api, "/api/subscribers/unsubscribe", {"token": link})


@pytest.mark.parametrize("confirmed", [True, False])
def test_the_unsubscribe_link_forgets_the_address_pending_or_confirmed(api, key, confirmed):
    subscribe(api, "reader@example.com")
    if confirmed:
        confirm(api, token(api, key, "confirm", "reader@example.com", NOW + HOUR))
    link = token(api, key, "unsubscribe", "reader@example.com")
    answer = unsubscribe(api, link)
    assert answer["statusCode"] == 200
    assert json_body(answer) == {"status": "unsubscribed", "email": "reader@example.com"}
    assert subscriber("reader@example.com") is None
    assert unsubscribe(api, link)["statusCode"] == 200  # again: the same answer


def test_an_unsubscribe_link_never_expires_but_a_confirm_link_is_not_one(api, key, monkeypatch):
    subscribe(api, "reader@example.com")
    at(api, monkeypatch, NOW + 3 * 365 * 24 * HOUR)
    assert (
        unsubscribe(api, token(api, key, "unsubscribe", "reader@example.com"))["statusCode"] == 200
    )
    subscribe(api, "reader@example.com")
    link = token(api, key, "confirm", "reader@example.com", NOW + 4 * 365 * 24 * HOUR)
    assert_error(unsubscribe(api, link), 400, "InvalidLink")
    assert subscriber("reader@example.com") is not None


# -- the limit per source -------------------------------------------------------------------------


def test_a_source_gets_its_hourly_budget_then_429_and_nothing_is_written(api, monkeypatch):
    for n in range(5):
        assert subscribe(api, f"r{n}@example.com")["statusCode"] == 202
    before = items()
    refused = subscribe(api, "r5@example.com")
    body = assert_error(refused, 429, "TooManyRequests")
    assert "5 subscription requests an hour" in body["message"]
    assert header(refused, "Retry-After") == str(HOUR)
    assert items() == before  # neither the address nor another count
    # Another viewer is not limited by this one ...
    other = {**THROUGH_CLOUDFRONT, "CloudFront-Viewer-Address": "198.51.100.8:4000"}
    assert subscribe(api, "r6@example.com", headers=other)["statusCode"] == 202
    # ... and the next hour starts afresh (Retry-After counts down to it).
    at(api, monkeypatch, NOW + HOUR - 10)
    assert header(subscribe(api, "r5@example.com"), "Retry-After") == "10"
    at(api, monkeypatch, NOW + HOUR)
    assert subscribe(api, "r5@example.com")["statusCode"] == 202


def test_every_subscription_route_spends_the_same_budget(api, key):
    subscribe(api, "reader@example.com")
    for _ in range(2):
        confirm(api, token(api, key, "confirm", "reader@example.com", NOW + HOUR))
    for _ in range(2):
        unsubscribe(api, "x")  # forged links count too: each one cost a check
    assert_error(subscribe(api, "other@example.com"), 429, "TooManyRequests")
    assert_error(confirm(api, "x"), 429, "TooManyRequests")


def test_the_counts_expire_by_ttl_and_name_no_address(api):
    subscribe(api, "reader@example.com")
    (count,) = items("RATE#")
    assert count == {
        "pk": "RATE#198.51.100.7",
        "sk": "WINDOW#2027-01-01T00:00:00+00:00",
        "hits": 1,
        "expiresAt": NOW + 2 * HOUR,
    }


# -- the origin lock ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/subscribers", {"email": "reader@example.com"}),
        ("/api/subscribers/confirm", {"token": "x"}),
        ("/api/subscribers/unsubscribe", {"token": "x"}),
    ],
)
def test_a_direct_call_is_403_and_writes_nothing_not_even_a_count(api, path, body):
    for headers in ({}, {"X-Origin-Verify": "wrong" * 8, "CloudFront-Viewer-Address": "1.2.3.4:5"}):
        assert_error(call(api, path, body, headers=headers), 403, "NotThroughCloudFront")
    assert items() == []


def test_without_the_lock_the_connections_address_counts_not_a_forgeable_header(
    aws, module, monkeypatch, key
):
    subscribers_table()
    api = fresh(module, monkeypatch, {**ENVIRONMENT, "TOKEN_KEY_ID": key})
    for name in LOCKED:
        monkeypatch.delenv(name, raising=False)
    api.config.settings.cache_clear()
    monkeypatch.setattr(api.subscriptions, "clock", lambda: NOW)
    forged = {"CloudFront-Viewer-Address": "10.9.8.7:1"}
    assert subscribe(api, "reader@example.com", headers=forged)["statusCode"] == 202
    (count,) = items("RATE#")
    assert count["pk"] == "RATE#203.0.113.10"  # API Gateway's sourceIp (the test event's)


# -- failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError"]
)
def test_a_throttled_table_is_a_retryable_503(api, monkeypatch, code):
    def throttled(**_):
        raise ClientError({"Error": {"Code": code, "Message": "slow down"}}, "UpdateItem")

    monkeypatch.setattr(api.subscriptions.store.table(), "update_item", throttled)
    response = subscribe(api, "reader@example.com")
    assert_error(response, 503, "Busy")
    assert header(response, "Retry-After") == "1"


@pytest.mark.parametrize("code", ["ThrottlingException", "KMSInternalException"])
def test_kms_trouble_is_a_retryable_503_and_confirms_nothing(api, key, monkeypatch, code):
    subscribe(api, "reader@example.com")
    link = token(api, key, "confirm", "reader@example.com", NOW + HOUR)

    def trouble(**_):
        raise ClientError({"Error": {"Code": code, "Message": "x"}}, "VerifyMac")

    monkeypatch.setattr(api.subscriptions.signed_tokens.kms(), "verify_mac", trouble)
    assert_error(confirm(api, link), 503, "Busy")
    assert subscriber("reader@example.com")["status"] == "pending"


def test_configuration_is_one_function_a_test_can_patch(api, monkeypatch):
    tighter = dataclasses.replace(api.config.settings(), requests_per_hour=1)
    monkeypatch.setattr(api.config, "settings", lambda: tighter)
    assert subscribe(api, "a@example.com")["statusCode"] == 202
    assert_error(subscribe(api, "b@example.com"), 429, "TooManyRequests")
