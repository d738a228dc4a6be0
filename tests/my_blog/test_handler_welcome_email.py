"""The welcome-email stream handler (lambda_src/welcome_email) against moto DynamoDB and SES:
one email per new subscriber, however often a batch is retried; poison records reported as
batch item failures; an SES failure releases the claim so the retry sends.

The module is imported once (tests/support/handlers.py); each test gets fresh moto resources and
the handler's cached clients cleared, and patches `settings()` if it needs other configuration:
nothing is re-imported or evicted between tests."""

from __future__ import annotations

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.my_blog.events import stream_record
from tests.support.wiring import LambdaContext, fresh, load_function

TABLE = "blog-table"
SENDER = "welcome@example.com"
ENVIRONMENT = {
    "TABLE_NAME": TABLE,
    "SENDER": SENDER,
    "BLOG_NAME": "Test Blog",
    "SITE_URL": "https://d111111abcdef8.cloudfront.net",
}


@pytest.fixture(scope="module")
def welcome_module():
    return load_function("welcome_email", environment=ENVIRONMENT)


def welcome_resources() -> None:
    """The table and the verified sender, in the active moto mock."""
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


@pytest.fixture
def welcome(aws, welcome_module, monkeypatch):
    welcome_resources()
    return fresh(welcome_module, monkeypatch, ENVIRONMENT)  # clients made in this test's mock


def sent() -> list:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def subscriber(email: str, **extra) -> dict:
    item = {
        "pk": f"SUBSCRIBER#{email}",
        "sk": "SUBSCRIBER",
        "email": email,
        "subscribedAt": "2026-11-23T10:00:00+00:00",
        **extra,
    }
    boto3.resource("dynamodb").Table(TABLE).put_item(Item=item)
    return item


def stored(email: str) -> dict | None:
    return (
        boto3.resource("dynamodb")
        .Table(TABLE)
        .get_item(Key={"pk": f"SUBSCRIBER#{email}", "sk": "SUBSCRIBER"})
        .get("Item")
    )


def invoke(welcome, records: list[dict]) -> dict:
    return welcome.handler({"Records": records}, LambdaContext("welcome-email"))


def test_mixed_batch_emails_only_the_new_subscriber_once_and_reports_the_poison(welcome):
    new = subscriber("new@example.com")
    old = subscriber("old@example.com", welcomedAt="2026-11-01T00:00:00+00:00")
    poison = {"pk": "SUBSCRIBER#broken", "sk": "SUBSCRIBER", "email": "not-an-email"}
    batch = [
        stream_record("INSERT", new, "100"),
        stream_record("MODIFY", {**old, "name": "Old Reader"}, "200", old_image=old),
        stream_record("INSERT", poison, "300"),
    ]
    result = invoke(welcome, batch)
    assert result == {"batchItemFailures": [{"itemIdentifier": "300"}]}
    (message,) = sent()
    assert message.source == SENDER
    assert message.destinations["ToAddresses"] == ["new@example.com"]
    assert message.subject == "Welcome to Test Blog"
    assert "https://d111111abcdef8.cloudfront.net" in message.body
    assert stored("new@example.com")["welcomedAt"]
    assert stored("old@example.com")["welcomedAt"] == "2026-11-01T00:00:00+00:00"

    # Lambda retries the batch from the failed record (or bisects it): still one email.
    assert invoke(welcome, batch) == {"batchItemFailures": [{"itemIdentifier": "300"}]}
    assert invoke(welcome, batch[:1]) == {"batchItemFailures": []}
    assert len(sent()) == 1


@pytest.mark.parametrize(
    "image",
    [
        {"pk": "SUBSCRIBER#x@example.com", "sk": "SUBSCRIBER"},  # no email
        {"pk": "SUBSCRIBER#x@example.com", "sk": "SUBSCRIBER", "email": 42},  # wrong type
        {
            "pk": "SUBSCRIBER#x@example.com",
            "sk": "SUBSCRIBER",
            "email": "y@example.com",
        },  # mismatch
        {"pk": "POST#hello", "sk": "POST", "title": "not a subscriber"},  # wrong item
        {"sk": "SUBSCRIBER", "email": "x@example.com"},  # no key
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
    records = [
        stream_record("INSERT", subscriber("reader@example.com"), "7"),
        stream_record("INSERT", subscriber("b@example.com"), "8"),
    ]
    boto3.client("ses").delete_identity(Identity=SENDER)  # SES now rejects the From address
    with pytest.raises(welcome.BatchFailed):  # every record failed: the whole batch is retried
        invoke(welcome, records)
    assert "welcomedAt" not in stored("reader@example.com")
    assert "welcomedAt" not in stored("b@example.com")
    boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
    assert invoke(welcome, records) == {"batchItemFailures": []}
    assert sorted(m.destinations["ToAddresses"][0] for m in sent()) == [
        "b@example.com",
        "reader@example.com",
    ]


def test_an_unsubscribed_reader_is_not_emailed_or_written_back(welcome):
    reader = {"pk": "SUBSCRIBER#gone@example.com", "sk": "SUBSCRIBER", "email": "gone@example.com"}
    # The item was deleted before the stream record was processed.
    assert invoke(welcome, [stream_record("INSERT", reader, "9")]) == {"batchItemFailures": []}
    assert sent() == [] and stored("gone@example.com") is None


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
    ],
)
def test_an_address_ses_can_never_send_to_is_a_poison_record_never_claimed(welcome, email):
    reader = subscriber(email)
    result = invoke(
        welcome,
        [stream_record("INSERT", reader, "1"), stream_record("INSERT", subscriber(GOOD), "2")],
    )
    assert result == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    assert [m.destinations["ToAddresses"] for m in sent()] == [[GOOD]]
    assert "welcomedAt" not in stored(email)


def _lost_answer(real):
    """send_email that reaches SES but whose answer never arrives (a read timeout)."""
    from botocore.exceptions import ReadTimeoutError

    def send_email(**kwargs):
        real(**kwargs)
        raise ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")

    return send_email


def test_an_ses_read_timeout_keeps_the_claim_so_no_retry_sends_twice(welcome, monkeypatch):
    """SES may have sent it: releasing the claim would let the retry send a second welcome."""
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
    assert stored("reader@example.com")["welcomedAt"]


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
    assert "welcomedAt" not in stored("reader@example.com")
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


def test_a_claim_that_cannot_be_released_fails_the_record_and_says_who_was_not_welcomed(
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
    assert alert.pk == "SUBSCRIBER#reader@example.com" and "not be welcomed" in alert.getMessage()


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
