"""Property-based bad-input tests of the subscription mail stream handler (Hypothesis, the house
profile in tests/conftest.py: bounded and derandomized).

For any batch mixing real subscriber records (new requests, confirmations, records the function
already handled, deleted subscribers, its own claims) with poison records (anything JSON can carry
where a record, an attribute or a sequence number should be; addresses outside the one address
rule), the handler
  - reports exactly the poison records, in order, by sequence number ("" if a record has none),
    and raises nothing but BatchFailed, only when every record failed (so the mapping bisects);
  - sends exactly one confirmation to each new request and one welcome to each confirmation, and
    nothing to anyone else, and no second mail when the mapping delivers the batch again;
and with throttling, timeouts and lost SES answers injected per record, no subscriber is ever
mailed twice, and one retry mails everyone whose failure left nothing ambiguous.

One moto mock per test, emptied between examples (a fresh mock per example costs ~0.4 s); the
handler module is imported once.
"""

from __future__ import annotations

import re
from unittest import mock

import boto3
from hypothesis import given
from hypothesis import strategies as st
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from house.types import EMAIL_ADDRESS
from tests.my_blog.events import stream_record
from tests.my_blog.test_handler_welcome_email import (  # noqa: F401 (fixtures)
    ENVIRONMENT,
    TABLE,
    welcome,
    welcome_module,
    welcome_resources,
)
from tests.support.strategies import (
    ANY_TEXT,
    DELIVERABLE_ADDRESSES,
    JSON_VALUES,
    NOT_OBJECTS,
    utf8,
)
from tests.support.wiring import LambdaContext


def emptied() -> None:
    """The table and SES's outbox as a fresh mock has them (the table itself stays)."""
    table = boto3.resource("dynamodb").Table(TABLE)
    with table.batch_writer() as batch:
        for entry in table.scan(ProjectionExpression="pk, sk")["Items"]:
            batch.delete_item(Key=entry)
    ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages.clear()


ADDRESSES = DELIVERABLE_ADDRESSES
# Text that can never be one: anything outside the one address rule (handler_kit/definitions.json,
# house.types.EMAIL_ADDRESS), and addresses that look right but for one character outside it.
NOT_PRINTABLE_ASCII = st.characters(exclude_categories=()).filter(lambda c: not "!" <= c <= "~")
NEAR_ADDRESSES = st.builds(
    lambda head, bad, tail, domain: f"{head}{bad}{tail}@{domain}",
    st.text("abc.+_-", max_size=4),
    NOT_PRINTABLE_ASCII,
    st.text("xyz0-9", max_size=4),
    st.from_regex(r"[a-z0-9-]{1,8}(\.[a-z]{2,4}){1,2}", fullmatch=True),
)
NOT_ADDRESSES = (NEAR_ADDRESSES | ANY_TEXT).filter(
    lambda t: not (len(t) <= 254 and re.fullmatch(EMAIL_ADDRESS, t))
)
LATER = 1_900_000_000
REQUESTED = "2026-11-23T10:00:00+00:00"


def item(email: str, **extra) -> dict:
    """A pending subscriber, as the subscriptions API stores it."""
    return {
        "pk": f"SUBSCRIBER#{email.lower()}",
        "sk": "SUBSCRIBER",
        "email": email,
        "status": "pending",
        "requestedAt": REQUESTED,
        "expiresAt": LATER,
        **extra,
    }


def confirmed(subscriber: dict) -> dict:
    new = {k: v for k, v in subscriber.items() if k != "expiresAt"}
    return {**new, "status": "confirmed", "confirmationFor": REQUESTED}


@st.composite
def poison(draw, sequence: str) -> tuple[dict | object, str, dict | None]:
    """(record, the identifier it must be reported with, an item to store or None)."""
    kind = draw(
        st.sampled_from(
            [
                "not-a-record",
                "no-dynamodb",
                "event-name",
                "no-image",
                "pk",
                "email-text",
                "email-type",
                "mismatch",
            ]
        )
    )
    if kind == "not-a-record":
        return draw(NOT_OBJECTS), "", None
    # Its own domain (ADDRESSES' top-level labels are at most 6 letters, never "example"): a
    # stored poison item never overwrites the item of another record of the batch.
    good = item(f"{draw(st.from_regex(r'[a-z0-9]{1,12}', fullmatch=True))}@poison.example")
    record = stream_record("INSERT", good, sequence)
    stored = None
    if kind == "no-dynamodb":
        if draw(st.booleans()):
            del record["dynamodb"]
        else:
            record["dynamodb"] = draw(NOT_OBJECTS)
        return record, "", good
    if kind == "event-name":
        record["eventName"] = draw(
            JSON_VALUES.filter(lambda v: v not in ("INSERT", "MODIFY", "REMOVE"))
        )
        stored = good
    elif kind == "no-image":
        record["dynamodb"]["NewImage"] = draw(NOT_OBJECTS)
        stored = good
    elif kind == "pk":
        record["dynamodb"]["NewImage"]["pk"] = draw(
            JSON_VALUES.filter(
                lambda v: (
                    not (
                        isinstance(v, dict)
                        and isinstance(v.get("S"), str)
                        and v["S"].startswith("SUBSCRIBER#")
                    )
                )
            )
        )
    elif kind == "email-text":
        text = draw(NOT_ADDRESSES)
        record = stream_record("INSERT", item(text), sequence)
        stored = item(text) if utf8(text) else None  # a real table cannot hold the others
    elif kind == "email-type":
        record["dynamodb"]["NewImage"]["email"] = draw(
            JSON_VALUES.filter(lambda v: not (isinstance(v, dict) and isinstance(v.get("S"), str)))
        )
    else:  # the address is fine but the key names someone else
        other = draw(ADDRESSES.filter(lambda a: a.lower() != good["email"].lower()))
        record["dynamodb"]["NewImage"]["pk"] = {"S": f"SUBSCRIBER#{other.lower()}"}
        stored = good
    identifier = sequence
    if draw(st.integers(0, 3)) == 0:  # and sometimes no usable sequence number either
        broken = draw(JSON_VALUES.filter(lambda v: not isinstance(v, str)))
        record["dynamodb"]["SequenceNumber"] = broken
        identifier = ""
    return record, identifier, stored


@st.composite
def batches(draw) -> dict:
    """A batch: records of six kinds, each with what the handler must do with it."""
    kinds = draw(
        st.lists(
            st.sampled_from(["new", "old", "gone", "claim", "confirmed", "poison"]), max_size=7
        )
    )
    addresses = draw(
        st.lists(ADDRESSES, min_size=len(kinds), max_size=len(kinds), unique_by=str.lower)
    )
    batch = {"records": [], "stored": [], "mails": [], "poison": []}
    for n, (kind, address) in enumerate(zip(kinds, addresses, strict=True), start=1):
        sequence = f"{n:021d}"
        subscriber = item(address)
        if kind == "poison":
            record, identifier, stored = draw(poison(sequence))
            batch["poison"].append(identifier)
            batch["stored"] += [stored] if stored else []
        elif kind == "new":  # a new request: one confirmation
            record = stream_record("INSERT", subscriber, sequence)
            batch["stored"].append(subscriber)
            batch["mails"].append((address, "Confirm"))
        elif kind == "old":  # a request whose confirmation went out already
            record = stream_record("INSERT", subscriber, sequence)
            batch["stored"].append({**subscriber, "confirmationFor": REQUESTED})
        elif kind == "gone":  # unsubscribed before the record was processed
            record = stream_record("INSERT", subscriber, sequence)
        elif kind == "claim":  # the function's own claim: asks for nothing
            claimed = {**subscriber, "confirmationFor": REQUESTED}
            record = stream_record("MODIFY", claimed, sequence, old_image=subscriber)
            batch["stored"].append(claimed)
        else:  # the confirmation: one welcome
            record = stream_record("MODIFY", confirmed(subscriber), sequence, old_image=subscriber)
            batch["stored"].append(confirmed(subscriber))
            batch["mails"].append((address, "Welcome"))
        batch["records"].append(record)
    return batch


def emailed() -> list[tuple[str, str]]:
    """(recipient, "Confirm" or "Welcome") of every mail sent, sorted."""
    messages = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return sorted((m.destinations["ToAddresses"][0], m.subject[:7]) for m in messages)


def store(items: list[dict]) -> None:
    table = boto3.resource("dynamodb").Table(TABLE)
    for entry in items:
        table.put_item(Item=entry)


def outcome(welcome, event) -> list[str] | str:
    """The identifiers the handler reported, or "all failed" if it raised BatchFailed."""
    try:
        result = welcome.handler(event, LambdaContext("welcome-email"))
    except welcome.BatchFailed:
        return "all failed"
    assert set(result) == {"batchItemFailures"}
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


@given(batch=batches())
def test_mail_reports_every_poison_record_and_mails_each_event_once(welcome, batch):
    emptied()
    store(batch["stored"])
    records = batch["records"]
    expected = "all failed" if records and len(batch["poison"]) == len(records) else batch["poison"]
    assert outcome(welcome, {"Records": records}) == expected
    assert emailed() == sorted(batch["mails"])
    # The mapping delivers the same batch again (a retry, a bisected half, a duplicate).
    assert outcome(welcome, {"Records": records}) == expected
    assert emailed() == sorted(batch["mails"])
    table = boto3.resource("dynamodb").Table(TABLE)
    for address, kind in batch["mails"]:
        stored = table.get_item(Key={"pk": f"SUBSCRIBER#{address.lower()}", "sk": "SUBSCRIBER"})
        assert stored["Item"]["confirmationFor" if kind == "Confirm" else "welcomedAt"]


@given(
    event=JSON_VALUES.filter(
        lambda e: not (isinstance(e, dict) and isinstance(e.get("Records"), list))
    )
)
def test_mail_answers_an_event_that_is_not_a_batch_with_no_failures(welcome, event):
    assert welcome.handler(event, LambdaContext("welcome-email")) == {"batchItemFailures": []}
    assert emailed() == []


def _client_error(code: str, operation: str):
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


def _timeout(kind: str):
    import botocore.exceptions

    return getattr(botocore.exceptions, kind)(endpoint_url="https://aws.example")


# A fault per subscriber, on its claim (UpdateItem) or its email (SendEmail), and whether the
# record must be reported failed. A claim fault here happens before DynamoDB applies it.
FAULTS = {
    "none": False,
    "claim-throttled": True,
    "claim-timeout": True,
    "send-throttled": True,
    "send-refused": True,
    "send-unreachable": True,
    "send-answer-lost": False,  # SES sent it; the claim is kept, nothing is resent
}


@given(
    plan=st.lists(
        st.tuples(ADDRESSES, st.sampled_from(sorted(FAULTS))),
        min_size=1,
        max_size=6,
        unique_by=lambda p: p[0].lower(),
    )
)
def test_mail_under_botocore_errors_never_mails_twice_and_one_retry_finishes(welcome, plan):
    emptied()
    store([item(address) for address, _ in plan])
    records = [
        stream_record("INSERT", item(address), f"{n:021d}")
        for n, (address, _) in enumerate(plan, start=1)
    ]
    faults = {address.lower(): fault for address, fault in plan}
    table, ses = welcome.table(), welcome.ses()
    real_update, real_send = table.update_item, ses.send_email

    def update_item(**kwargs):
        fault = faults.get(kwargs["Key"]["pk"].removeprefix("SUBSCRIBER#"), "none")
        if kwargs["UpdateExpression"].startswith("SET"):
            if fault == "claim-throttled":
                raise _client_error("ProvisionedThroughputExceededException", "UpdateItem")
            if fault == "claim-timeout":
                raise _timeout("ReadTimeoutError")
        return real_update(**kwargs)

    def send_email(**kwargs):
        fault = faults.get(kwargs["Destination"]["ToAddresses"][0].lower(), "none")
        if fault == "send-throttled":
            raise _client_error("Throttling", "SendEmail")
        if fault == "send-refused":
            raise _client_error("MessageRejected", "SendEmail")
        if fault == "send-unreachable":
            raise _timeout("ConnectTimeoutError")
        answer = real_send(**kwargs)
        if fault == "send-answer-lost":
            raise _timeout("ReadTimeoutError")
        return answer

    with (
        mock.patch.object(table, "update_item", update_item),
        mock.patch.object(ses, "send_email", send_email),
    ):
        first = outcome(welcome, {"Records": records})
    failing = [f"{n:021d}" for n, (_, fault) in enumerate(plan, start=1) if FAULTS[fault]]
    assert first == ("all failed" if len(failing) == len(plan) else failing)
    # The mapping retries the batch once the faults have passed: everyone gets a confirmation,
    # nobody twice.
    assert outcome(welcome, {"Records": records}) == []
    assert emailed() == sorted((address, "Confirm") for address, _ in plan)
