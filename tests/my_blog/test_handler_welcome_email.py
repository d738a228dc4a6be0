"""The subscription mail stream handler (lambda_src/welcome_email) against moto DynamoDB, SES and
KMS: a confirmation mail (signed, expiring link) per subscription request, the welcome mail only
after the confirmation, an unsubscribe link in both; one mail per event however often a batch is
retried; poison records reported as batch item failures; an SES failure releases the claim so
the retry sends.

The module is imported once (tests/support/handlers.py); each test gets fresh moto resources and
the handler's cached clients cleared, and patches `settings()` if it needs other configuration:
nothing is re-imported or evicted between tests."""

from __future__ import annotations

import re
import time

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.my_blog.events import stream_record
from tests.support.wiring import LambdaContext, fresh, load_function

TABLE = "subscribers"
SENDER = "welcome@example.com"
SITE = "https://d111111abcdef8.cloudfront.net"
LATER = int(time.time()) + 48 * 3600
ENVIRONMENT = {
    "TABLE_NAME": TABLE,
    "SENDER": SENDER,
    "BLOG_NAME": "Test Blog",
    "SITE_URL": SITE,
    "TOKEN_KEY_ID": "arn:aws:kms:us-east-1:123456789012:key/made-per-test",
}
LINK = re.compile(re.escape(SITE) + r"/subscription#(confirm|unsubscribe)=(\S+)")


@pytest.fixture(scope="module")
def welcome_module():
    return load_function("welcome_email", environment=ENVIRONMENT)


def welcome_resources() -> str:
    """The table, the verified sender and the link key, in the active moto mock; the key's ARN."""
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
    boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
    return boto3.client("kms").create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")[
        "KeyMetadata"
    ]["Arn"]


@pytest.fixture
def welcome(aws, welcome_module, monkeypatch):
    key = welcome_resources()
    return fresh(welcome_module, monkeypatch, {**ENVIRONMENT, "TOKEN_KEY_ID": key})


def sent() -> list:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def subscriber(email: str, **extra) -> dict:
    """A pending subscriber as the subscriptions API stores it."""
    item = {
        "pk": f"SUBSCRIBER#{email}",
        "sk": "SUBSCRIBER",
        "email": email,
        "status": "pending",
        "requestedAt": "2026-11-23T10:00:00+00:00",
        "expiresAt": LATER,
        **extra,
    }
    boto3.resource("dynamodb").Table(TABLE).put_item(Item=item)
    return item


def confirmed(item: dict) -> dict:
    """What the confirm route makes of a pending subscriber (stored, and returned as the new
    image of its MODIFY record)."""
    new = {k: v for k, v in item.items() if k != "expiresAt"}
    new.update(status="confirmed", confirmedAt="2026-11-23T11:00:00+00:00")
    boto3.resource("dynamodb").Table(TABLE).put_item(Item=new)
    return new


def confirmation(item: dict, sequence: str) -> dict:
    return stream_record("MODIFY", confirmed(item), sequence, old_image=item)


def stored(email: str) -> dict | None:
    return (
        boto3.resource("dynamodb")
        .Table(TABLE)
        .get_item(Key={"pk": f"SUBSCRIBER#{email}", "sk": "SUBSCRIBER"})
        .get("Item")
    )


def invoke(welcome, records: list[dict]) -> dict:
    return welcome.handler({"Records": records}, LambdaContext("welcome-email"))


def links(message) -> dict[str, str]:
    return dict(LINK.findall(message.body))


def verify(welcome, token: str, purpose: str):
    return welcome.signed_tokens.verify(welcome.settings().token_key_id, token, purpose)


# -- double opt-in --------------------------------------------------------------------------------


def test_a_request_gets_a_confirmation_link_that_expires_with_it_and_an_unsubscribe_link(welcome):
    item = subscriber("reader@example.com")
    assert invoke(welcome, [stream_record("INSERT", item, "1")]) == {"batchItemFailures": []}
    (message,) = sent()
    assert message.source == SENDER and message.destinations["ToAddresses"] == [item["email"]]
    assert message.subject == "Confirm your subscription to Test Blog"
    found = links(message)
    assert set(found) == {"confirm", "unsubscribe"}
    assert verify(welcome, found["confirm"], "confirm").subject == "reader@example.com"
    assert verify(welcome, found["confirm"], "confirm").expires_at == LATER
    assert verify(welcome, found["unsubscribe"], "unsubscribe").expires_at == 0
    assert time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(LATER)) in message.body
    # Claimed for this request: a redelivered batch sends nothing more.
    assert stored("reader@example.com")["confirmationFor"] == item["requestedAt"]
    assert invoke(welcome, [stream_record("INSERT", item, "1")]) == {"batchItemFailures": []}
    assert len(sent()) == 1


def test_the_welcome_follows_the_confirmation_only_and_carries_an_unsubscribe_link(welcome):
    item = subscriber("reader@example.com", confirmationFor="2026-11-23T10:00:00+00:00")
    record = confirmation(item, "2")
    assert invoke(welcome, [record]) == {"batchItemFailures": []}
    (message,) = sent()
    assert message.subject == "Welcome to Test Blog"
    assert message.destinations["ToAddresses"] == ["reader@example.com"]
    assert SITE in message.body
    found = links(message)
    assert set(found) == {"unsubscribe"}
    assert verify(welcome, found["unsubscribe"], "unsubscribe").subject == "reader@example.com"
    assert stored("reader@example.com")["welcomedAt"]
    assert invoke(welcome, [record]) == {"batchItemFailures": []}  # redelivered: no second one
    assert len(sent()) == 1


def test_a_new_request_after_the_link_expired_gets_a_new_confirmation(welcome):
    first = subscriber("reader@example.com", confirmationFor="2026-11-23T10:00:00+00:00")
    renewed = subscriber("reader@example.com", requestedAt="2026-11-26T09:00:00+00:00")
    batch = [
        stream_record("INSERT", first, "1"),  # the old request's record, delivered late
        stream_record("MODIFY", renewed, "2", old_image=first),
    ]
    assert invoke(welcome, batch) == {"batchItemFailures": []}
    (message,) = sent()  # the old record no longer matches the item: only the new one mails
    assert message.subject.startswith("Confirm")
    assert stored("reader@example.com")["confirmationFor"] == "2026-11-26T09:00:00+00:00"


@pytest.mark.parametrize(
    "event_name, new, old",
    [
        # the function's own claims
        ("MODIFY", {"confirmationFor": "2026-11-23T10:00:00+00:00"}, {}),
        ("MODIFY", {"status": "confirmed", "welcomedAt": "2026-11-23T11:00:00+00:00"}, {}),
        # a confirmed subscriber touched again (no status change)
        ("MODIFY", {"status": "confirmed"}, {"status": "confirmed"}),
        # an unknown status
        ("INSERT", {"status": "blocked"}, None),
    ],
)
def test_records_that_ask_for_no_mail_send_none(welcome, event_name, new, old):
    base = subscriber("reader@example.com")
    record = stream_record(
        event_name, {**base, **new}, "1", old_image=None if old is None else {**base, **old}
    )
    assert invoke(welcome, [record]) == {"batchItemFailures": []}
    assert sent() == []


def test_an_unsubscribe_or_expiry_removes_and_is_ignored(welcome):
    item = subscriber("reader@example.com")
    assert invoke(welcome, [stream_record("REMOVE", None, "1", old_image=item)]) == {
        "batchItemFailures": []
    }
    assert sent() == []


def test_an_unsubscribed_reader_is_not_emailed_or_written_back(welcome):
    reader = {
        "pk": "SUBSCRIBER#gone@example.com",
        "sk": "SUBSCRIBER",
        "email": "gone@example.com",
        "status": "pending",
        "requestedAt": "2026-11-23T10:00:00+00:00",
        "expiresAt": LATER,
    }
    # The item was deleted before the stream record was processed.
    assert invoke(welcome, [stream_record("INSERT", reader, "9")]) == {"batchItemFailures": []}
    assert sent() == [] and stored("gone@example.com") is None


def test_mixed_batch_mails_each_subscriber_once_and_reports_the_poison(welcome):
    new = subscriber("new@example.com")
    old = subscriber("old@example.com", confirmationFor="2026-11-23T10:00:00+00:00")
    poison = {"pk": "SUBSCRIBER#broken", "sk": "SUBSCRIBER", "email": "not-an-email"}
    batch = [
        stream_record("INSERT", new, "100"),
        confirmation(old, "200"),
        stream_record("INSERT", poison, "300"),
    ]
    result = invoke(welcome, batch)
    assert result == {"batchItemFailures": [{"itemIdentifier": "300"}]}
    assert sorted((m.destinations["ToAddresses"][0], m.subject[:7]) for m in sent()) == [
        ("new@example.com", "Confirm"),
        ("old@example.com", "Welcome"),
    ]
    # Lambda retries the batch from the failed record (or bisects it): still one mail each.
    assert invoke(welcome, batch) == {"batchItemFailures": [{"itemIdentifier": "300"}]}
    assert invoke(welcome, batch[:2]) == {"batchItemFailures": []}
    assert len(sent()) == 2


@pytest.mark.parametrize(
    "image",
    [
        {"pk": "SUBSCRIBER#x@example.com", "sk": "SUBSCRIBER", "status": "pending"},  # no email
        {"pk": "SUBSCRIBER#x@example.com", "sk": "SUBSCRIBER", "email": 42},  # wrong type
        {
            "pk": "SUBSCRIBER#x@example.com",
            "sk": "SUBSCRIBER",
            "email": "y@example.com",
        },  # mismatch
        {"pk": "POST#hello", "sk": "POST", "title": "not a subscriber"},  # wrong item
        {"sk": "SUBSCRIBER", "email": "x@example.com"},  # no key
        {  # a pending subscriber without its link's expiry
            "pk": "SUBSCRIBER#x@example.com",
            "sk": "SUBSCRIBER",
            "email": "x@example.com",
            "status": "pending",
            "requestedAt": "2026-11-23T10:00:00+00:00",
        },
        {  # ... or without the request it is for
            "pk": "SUBSCRIBER#x@example.com",
            "sk": "SUBSCRIBER",
            "email": "x@example.com",
            "status": "pending",
            "expiresAt": LATER,
        },
    ],
)
def test_a_poison_record_is_reported_not_dropped_and_sends_nothing(welcome, image):
    good = subscriber("good@example.com")
    result = invoke(
        welcome, [stream_record("INSERT", image, "1"), stream_record("INSERT", good, "2")]
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    assert [m.destinations["ToAddresses"] for m in sent()] == [["good@example.com"]]


def test_a_batch_of_only_poison_fails_as_a_whole_so_the_mapping_bisects_it(welcome):
    with pytest.raises(welcome.BatchFailed, match="all 1 records failed"):
        invoke(welcome, [stream_record("INSERT", {"pk": "SUBSCRIBER#a", "sk": "SUBSCRIBER"}, "1")])
    assert sent() == []


def test_an_ses_failure_releases_the_claim_and_the_retry_sends(welcome):
    reader = subscriber("reader@example.com", confirmationFor="2026-11-23T10:00:00+00:00")
    records = [confirmation(reader, "7"), stream_record("INSERT", subscriber("b@example.com"), "8")]
    boto3.client("ses").delete_identity(Identity=SENDER)  # SES now rejects the From address
    with pytest.raises(welcome.BatchFailed):  # every record failed: the whole batch is retried
        invoke(welcome, records)
    assert "welcomedAt" not in stored("reader@example.com")
    assert "confirmationFor" not in stored("b@example.com")
    boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
    assert invoke(welcome, records) == {"batchItemFailures": []}
    assert sorted((m.destinations["ToAddresses"][0], m.subject[:7]) for m in sent()) == [
        ("b@example.com", "Confirm"),
        ("reader@example.com", "Welcome"),
    ]


def test_a_kms_failure_fails_the_record_before_anything_is_claimed(welcome, monkeypatch):
    from botocore.exceptions import ClientError

    def throttled(**_):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "GenerateMac")

    item = subscriber("reader@example.com")
    monkeypatch.setattr(welcome.signed_tokens.kms(), "generate_mac", throttled)
    with pytest.raises(welcome.BatchFailed):
        invoke(welcome, [stream_record("INSERT", item, "1")])
    assert "confirmationFor" not in stored("reader@example.com") and sent() == []


# -- malformed events and botocore errors (issue 13) -------------------------------------------

GOOD = "good@example.com"


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"Records": None},
        {"Records": []},
        {"Records": "x"},
        [],
        None,
        "INSERT",
        {"records": [{"eventName": "INSERT"}]},
    ],
)
def test_an_event_that_is_not_a_stream_batch_is_answered_not_crashed_on(welcome, event):
    # Nothing in it can be lost: there is no record to retry, so the answer is "all done".
    assert welcome.handler(event, LambdaContext("welcome-email")) == {"batchItemFailures": []}
    assert sent() == []


@pytest.mark.parametrize(
    "record",
    [
        5,
        None,
        "INSERT",
        ["INSERT"],  # not a record at all
        {"eventName": "INSERT"},  # no dynamodb part
        {"eventName": "INSERT", "dynamodb": "SequenceNumber"},  # dynamodb not an object
        {
            "eventName": "INSERT",
            "dynamodb": {"NewImage": {"pk": {"S": "SUBSCRIBER#x@example.com"}}},
        },
        {"eventName": "INSERT", "dynamodb": {"SequenceNumber": 3, "NewImage": {}}},  # number type
        {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "", "NewImage": {}}},
    ],
)
def test_a_record_without_a_usable_sequence_number_is_reported_with_an_empty_identifier(
    welcome, record
):
    """Lambda treats an empty identifier as a failure of the whole batch and retries it from its
    start: a record that cannot be named is never skipped, and the others are still sent now."""
    good = subscriber(GOOD)
    result = invoke(welcome, [record, stream_record("INSERT", good, "2")])
    assert result == {"batchItemFailures": [{"itemIdentifier": ""}]}
    assert [m.destinations["ToAddresses"] for m in sent()] == [[GOOD]]


@pytest.mark.parametrize(
    "email",
    [
        "\u00e9l\u00e8ve@example.com",  # SES takes 7-bit ASCII only
        "a\x00b@example.com",
        "a\x7fb@example.com",
        "a\tb@example.com",
        "\u0660@example.com",
        "reader@example",  # the one address rule: a top-level label
        "a..b@example.com",
    ],
)
def test_an_address_outside_the_rule_is_a_poison_record_never_claimed(welcome, email):
    reader = subscriber(email)
    result = invoke(
        welcome,
        [stream_record("INSERT", reader, "1"), stream_record("INSERT", subscriber(GOOD), "2")],
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    assert [m.destinations["ToAddresses"] for m in sent()] == [[GOOD]]
    assert "confirmationFor" not in stored(email)


def _lost_answer(real):
    """send_email that reaches SES but whose answer never arrives (a read timeout)."""
    from botocore.exceptions import ReadTimeoutError

    def send_email(**kwargs):
        real(**kwargs)
        raise ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")

    return send_email


def test_an_ses_read_timeout_keeps_the_claim_so_no_retry_sends_twice(welcome, monkeypatch):
    """SES may have sent it: releasing the claim would let the retry send a second mail."""
    records = [
        stream_record("INSERT", subscriber("reader@example.com"), "7"),
        stream_record("INSERT", subscriber(GOOD), "8"),
    ]
    with monkeypatch.context() as patch:
        patch.setattr(welcome.ses(), "send_email", _lost_answer(welcome.ses().send_email))
        first = invoke(welcome, records)
    second = invoke(welcome, records)  # the mapping retries (or redelivers) the batch
    assert first == second == {"batchItemFailures": []}
    assert sorted(m.destinations["ToAddresses"][0] for m in sent()) == [GOOD, "reader@example.com"]
    assert stored("reader@example.com")["confirmationFor"]


def test_an_ses_connect_timeout_releases_the_claim_and_the_retry_sends(welcome, monkeypatch):
    from botocore.exceptions import ConnectTimeoutError

    def unreachable(**_):
        raise ConnectTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")

    records = [
        stream_record("INSERT", subscriber("reader@example.com"), "7"),
        stream_record("INSERT", subscriber(GOOD), "8"),
    ]
    real = welcome.ses().send_email
    with monkeypatch.context() as patch:
        patch.setattr(
            welcome.ses(),
            "send_email",
            lambda **kw: (
                unreachable()
                if kw["Destination"]["ToAddresses"] == ["reader@example.com"]
                else real(**kw)
            ),
        )
        assert invoke(welcome, records) == {"batchItemFailures": [{"itemIdentifier": "7"}]}
    assert "confirmationFor" not in stored("reader@example.com")
    assert invoke(welcome, records) == {"batchItemFailures": []}
    assert sorted(m.destinations["ToAddresses"][0] for m in sent()) == [GOOD, "reader@example.com"]


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"]
)
def test_a_throttled_claim_fails_only_its_record(welcome, monkeypatch, code):
    from botocore.exceptions import ClientError

    real = welcome.table().update_item

    def update_item(**kwargs):
        if kwargs["Key"]["pk"] == "SUBSCRIBER#reader@example.com":
            raise ClientError({"Error": {"Code": code, "Message": "slow down"}}, "UpdateItem")
        return real(**kwargs)

    monkeypatch.setattr(welcome.table(), "update_item", update_item)
    records = [
        stream_record("INSERT", subscriber("reader@example.com"), "7"),
        stream_record("INSERT", subscriber(GOOD), "8"),
    ]
    assert invoke(welcome, records) == {"batchItemFailures": [{"itemIdentifier": "7"}]}
    assert [m.destinations["ToAddresses"] for m in sent()] == [[GOOD]]


def test_a_claim_that_cannot_be_released_fails_the_record_and_says_who_was_not_mailed(
    welcome, monkeypatch, caplog
):
    from botocore.exceptions import ClientError

    real_send = welcome.ses().send_email

    def refused(**kwargs):
        if kwargs["Destination"]["ToAddresses"] == ["reader@example.com"]:
            raise ClientError({"Error": {"Code": "MessageRejected", "Message": "no"}}, "SendEmail")
        return real_send(**kwargs)

    real = welcome.table().update_item

    def update_item(**kwargs):
        if kwargs["UpdateExpression"].startswith("REMOVE"):
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "x"}}, "UpdateItem"
            )
        return real(**kwargs)

    monkeypatch.setattr(welcome.ses(), "send_email", refused)
    monkeypatch.setattr(welcome.table(), "update_item", update_item)
    records = [
        stream_record("INSERT", subscriber("reader@example.com"), "7"),
        stream_record("INSERT", subscriber(GOOD), "8"),
    ]
    assert invoke(welcome, records) == {"batchItemFailures": [{"itemIdentifier": "7"}]}
    assert [m.destinations["ToAddresses"] for m in sent()] == [[GOOD]]
    (alert,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert alert.pk == "SUBSCRIBER#reader@example.com" and "will not be sent" in alert.getMessage()


def test_each_records_log_lines_carry_its_event_id(welcome, monkeypatch):
    seen = []
    real = welcome.record_handler
    monkeypatch.setattr(
        welcome,
        "record_handler",
        lambda record: seen.append(welcome.logger.get_correlation_id()) or real(record),
    )
    records = [
        stream_record("INSERT", subscriber("a@example.com"), "1"),
        stream_record("INSERT", subscriber("b@example.com"), "2"),
    ]
    invoke(welcome, records)
    assert seen == ["evt-1", "evt-2"]
