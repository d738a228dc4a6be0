"""The welcome-email stream handler (lambda_src/welcome_email) against moto DynamoDB and SES:
one email per new subscriber, however often a batch is retried; poison records reported as
batch item failures; an SES failure releases the claim so the retry sends."""

from __future__ import annotations

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.my_blog.events import stream_record
from tests.support.wiring import LambdaContext, load_handler

TABLE = "blog-table"
SENDER = "welcome@example.com"


@pytest.fixture
def welcome(aws, monkeypatch):
    for name, value in {"TABLE_NAME": TABLE, "SENDER": SENDER, "BLOG_NAME": "Test Blog",
                        "SITE_URL": "https://d111111abcdef8.cloudfront.net"}.items():
        monkeypatch.setenv(name, value)
    boto3.client("dynamodb").create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}])
    boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
    return load_handler("welcome_email")


def sent() -> list:
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def subscriber(email: str, **extra) -> dict:
    item = {"pk": f"SUBSCRIBER#{email}", "sk": "SUBSCRIBER", "email": email,
            "subscribedAt": "2026-11-23T10:00:00+00:00", **extra}
    boto3.resource("dynamodb").Table(TABLE).put_item(Item=item)
    return item


def stored(email: str) -> dict | None:
    return boto3.resource("dynamodb").Table(TABLE).get_item(
        Key={"pk": f"SUBSCRIBER#{email}", "sk": "SUBSCRIBER"}).get("Item")


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


@pytest.mark.parametrize("image", [
    {"pk": "SUBSCRIBER#x@example.com", "sk": "SUBSCRIBER"},                       # no email
    {"pk": "SUBSCRIBER#x@example.com", "sk": "SUBSCRIBER", "email": 42},          # wrong type
    {"pk": "SUBSCRIBER#x@example.com", "sk": "SUBSCRIBER", "email": "y@example.com"},  # mismatch
    {"pk": "POST#hello", "sk": "POST", "title": "not a subscriber"},              # wrong item
    {"sk": "SUBSCRIBER", "email": "x@example.com"},                               # no key
])
def test_a_poison_record_is_reported_not_dropped_and_sends_nothing(welcome, image):
    good = subscriber("good@example.com")
    result = invoke(welcome, [stream_record("INSERT", image, "1"),
                              stream_record("INSERT", good, "2")])
    assert result == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    assert [m.destinations["ToAddresses"] for m in sent()] == [["good@example.com"]]


def test_a_batch_of_only_poison_fails_as_a_whole_so_the_mapping_bisects_it(welcome):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        invoke(welcome, [stream_record("INSERT", {"pk": "SUBSCRIBER#a", "sk": "SUBSCRIBER"}, "1")])
    assert sent() == []


def test_an_ses_failure_releases_the_claim_and_the_retry_sends(welcome):
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    records = [stream_record("INSERT", subscriber("reader@example.com"), "7"),
               stream_record("INSERT", subscriber("b@example.com"), "8")]
    boto3.client("ses").delete_identity(Identity=SENDER)  # SES now rejects the From address
    with pytest.raises(BatchProcessingError):  # every record failed: the whole batch is retried
        invoke(welcome, records)
    assert "welcomedAt" not in stored("reader@example.com")
    assert "welcomedAt" not in stored("b@example.com")
    boto3.client("ses").verify_email_identity(EmailAddress=SENDER)
    assert invoke(welcome, records) == {"batchItemFailures": []}
    assert sorted(m.destinations["ToAddresses"][0] for m in sent()) == [
        "b@example.com", "reader@example.com"]


def test_an_unsubscribed_reader_is_not_emailed_or_written_back(welcome):
    reader = {"pk": "SUBSCRIBER#gone@example.com", "sk": "SUBSCRIBER", "email": "gone@example.com"}
    # The item was deleted before the stream record was processed.
    assert invoke(welcome, [stream_record("INSERT", reader, "9")]) == {"batchItemFailures": []}
    assert sent() == [] and stored("gone@example.com") is None
