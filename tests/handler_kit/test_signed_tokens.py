"""handler_kit.signed_tokens against moto's KMS (HMAC_256 keys, GenerateMac/VerifyMac): a token
is valid for its purpose, subject and expiry only, under its own key; anything else is one
InvalidInput, and a malformed or expired token never reaches KMS."""

from __future__ import annotations

import sys
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.wiring import load_function


@pytest.fixture(scope="module")
def tokens():
    return load_function("layers/handler_kit", "handler_kit.signed_tokens")


@pytest.fixture(scope="module")
def errors(tokens):
    return sys.modules[tokens.InvalidInput.__module__]


def hmac_key() -> str:
    return boto3.client("kms").create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")[
        "KeyMetadata"
    ]["Arn"]


@pytest.fixture
def key(aws, tokens):
    tokens.kms.cache_clear()
    return hmac_key()


def test_a_token_carries_its_subject_back(tokens, key):
    later = int(time.time()) + 3600
    token = tokens.sign(key, "confirm", "reader@example.com", expires_at=later)
    assert tokens.verify(key, token, "confirm") == tokens.Signed("reader@example.com", later)
    forever = tokens.sign(key, "unsubscribe", "reader@example.com")
    assert tokens.verify(key, forever, "unsubscribe").expires_at == 0


def refused(tokens, errors, key, token, purpose="confirm", *, code="InvalidLink", **kwargs):
    with pytest.raises(errors.InvalidInput) as refusal:
        tokens.verify(key, token, purpose, **kwargs)
    assert refusal.value.code == code
    return refusal.value


def test_a_token_is_for_its_own_purpose_key_subject_and_expiry_only(tokens, errors, key):
    later = int(time.time()) + 3600
    token = tokens.sign(key, "confirm", "reader@example.com", expires_at=later)
    purpose, subject, expiry, mac = token.split(".")
    refused(tokens, errors, key, token, "unsubscribe")
    refused(tokens, errors, hmac_key(), token)  # another stack's key
    other = tokens.sign(key, "confirm", "other@example.com", expires_at=later).split(".")[1]
    refused(tokens, errors, key, ".".join((purpose, other, expiry, mac)))
    refused(tokens, errors, key, ".".join((purpose, subject, str(later + 1), mac)))
    refused(tokens, errors, key, ".".join((purpose, subject, "0", mac)))  # "never expires"
    refused(tokens, errors, key, ".".join((purpose, subject, expiry, mac[::-1])))


def test_an_expired_token_is_refused_before_kms_is_asked(tokens, errors, key, monkeypatch):
    token = tokens.sign(key, "confirm", "reader@example.com", expires_at=int(time.time()) + 60)
    monkeypatch.setattr(tokens.kms(), "verify_mac", lambda **_: pytest.fail("asked KMS"))
    refused(tokens, errors, key, token, code="LinkExpired", now=time.time() + 61)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.text(max_size=600), st.none(), st.integers(), st.lists(st.text())))
def test_anything_that_is_not_a_token_is_invalid_without_kms(tokens, errors, key, junk):
    kms = tokens.kms()
    real, kms.verify_mac = kms.verify_mac, None  # any KMS call would raise TypeError
    try:
        with pytest.raises(errors.InvalidInput):
            tokens.verify(key, junk, "confirm")
    finally:
        kms.verify_mac = real


def test_kms_trouble_other_than_a_wrong_mac_propagates_for_a_503(tokens, key, monkeypatch):
    token = tokens.sign(key, "confirm", "reader@example.com", expires_at=int(time.time()) + 60)

    def throttled(**_):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "VerifyMac")

    monkeypatch.setattr(tokens.kms(), "verify_mac", throttled)
    with pytest.raises(ClientError):
        tokens.verify(key, token, "confirm")


@pytest.mark.parametrize("purpose, expires_at", [("Confirm", 0), ("", 0), ("confirm", -1)])
def test_a_token_is_never_made_for_a_bad_purpose_or_expiry(tokens, key, purpose, expires_at):
    with pytest.raises(ValueError):
        tokens.sign(key, purpose, "reader@example.com", expires_at=expires_at)
