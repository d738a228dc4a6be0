"""Property-based bad-input tests of the MyBlog event handlers (Hypothesis, the house profile in
tests/conftest.py: bounded and derandomized).

Welcome email (DynamoDB stream consumer): for any batch mixing real subscriber records with
poison records (anything JSON can carry where a record, an attribute or a sequence number
should be; addresses with arbitrary Unicode), the handler
  - reports exactly the poison records, in order, by sequence number ("" if a record has none),
    and raises nothing but BatchFailed, only when every record failed (so the mapping bisects);
  - sends exactly one email to each new subscriber and none to anyone else, and no second one
    when the mapping delivers the batch again;
and with throttling, timeouts and lost SES answers injected per record, no subscriber is ever
emailed twice, and one retry welcomes everyone whose failure left nothing ambiguous.

Thumbnail function (S3 notifications): for any event (non-events, malformed records, uploads of
arbitrary bytes or of damaged photos under arbitrary Unicode keys, real photos) it never raises
while S3, DynamoDB, SNS and SQS answer; every record is counted exactly once; nothing is written
for a malformed record or a non-image upload, each of which goes to the rejected-uploads queue;
an upload is either a complete thumbnail (JPEG no larger than the size, metadata, "ready"
message) or a rejection, never half of one.

One moto mock per test, emptied between examples (a fresh mock per example costs ~0.4 s); the
handler modules are imported once.
"""

from __future__ import annotations

import io
import json
from unittest import mock

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from PIL import Image

from tests.my_blog.events import s3_event, stream_record
from tests.my_blog.test_welcome_handler import ENVIRONMENT as WELCOME_ENVIRONMENT
from tests.my_blog.test_welcome_handler import TABLE, welcome_resources
from tests.support.wiring import LambdaContext, load_handler

# -- what JSON can carry ---------------------------------------------------------------------------

# Arbitrary Unicode; one text in five holds a lone surrogate, which JSON's "\ud800" escape
# delivers to a handler and which st.characters() alone would almost never draw.
_TEXT = st.text(st.characters(exclude_categories=()), max_size=24)
_WITH_SURROGATE = st.builds(
    lambda head, lone, tail: head + lone + tail, _TEXT, st.characters(categories=["Cs"]), _TEXT
)
ANY_TEXT = st.integers(0, 4).flatmap(lambda n: _WITH_SURROGATE if n == 0 else _TEXT)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=6,
)
NOT_OBJECTS = JSON_VALUES.filter(lambda v: not isinstance(v, dict))


def utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# == welcome email ===============================================================================


@pytest.fixture(scope="module")
def welcome_module():
    with pytest.MonkeyPatch.context() as patch:
        for name, value in WELCOME_ENVIRONMENT.items():
            patch.setenv(name, value)
        return load_handler("welcome_email")


@pytest.fixture
def welcome(aws, welcome_module):
    welcome_resources()
    welcome_module.table.cache_clear()
    welcome_module.ses.cache_clear()
    yield welcome_module
    welcome_module.table.cache_clear()
    welcome_module.ses.cache_clear()


def emptied() -> None:
    """The table and SES's outbox as a fresh mock has them (the table itself stays)."""
    table = boto3.resource("dynamodb").Table(TABLE)
    with table.batch_writer() as batch:
        for entry in table.scan(ProjectionExpression="pk, sk")["Items"]:
            batch.delete_item(Key=entry)
    ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages.clear()


# Addresses SES can send to: printable ASCII local part, a dotted ASCII domain.
LOCAL = st.text("abcdefXYZ0123456789.+_-!#$%&'*/=?^`{|}~", min_size=1, max_size=12)
DOMAIN = st.from_regex(r"[a-z0-9-]{1,8}(\.[a-z]{2,4}){1,2}", fullmatch=True)
ADDRESSES = st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN)
# Text that can never be one: no "@", or a character outside printable ASCII; and addresses
# that look right but for one such character in the local part (SES has no SMTPUTF8).
NOT_PRINTABLE_ASCII = st.characters(exclude_categories=()).filter(lambda c: not "!" <= c <= "~")
NEAR_ADDRESSES = st.builds(
    lambda head, bad, tail, domain: f"{head}{bad}{tail}@{domain}",
    st.text("abc.+_-", max_size=4),
    NOT_PRINTABLE_ASCII,
    st.text("xyz0-9", max_size=4),
    DOMAIN,
)
NOT_ADDRESSES = NEAR_ADDRESSES | ANY_TEXT.filter(
    lambda t: "@" not in t or not all("!" <= c <= "~" for c in t)
)


def item(email: str, **extra) -> dict:
    return {"pk": f"SUBSCRIBER#{email.lower()}", "sk": "SUBSCRIBER", "email": email, **extra}


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
    # Its own domain (ADDRESSES never ends in ".example"): a stored poison item never
    # overwrites the item of another record of the batch.
    good = item(f"{draw(LOCAL)}@poison.example")
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
    """A batch: records of five kinds, each with what the handler must do with it."""
    kinds = draw(st.lists(st.sampled_from(["new", "old", "gone", "modify", "poison"]), max_size=7))
    addresses = draw(
        st.lists(ADDRESSES, min_size=len(kinds), max_size=len(kinds), unique_by=str.lower)
    )
    batch = {"records": [], "stored": [], "new": [], "poison": []}
    for n, (kind, address) in enumerate(zip(kinds, addresses, strict=True), start=1):
        sequence = f"{n:021d}"
        subscriber = item(address)
        if kind == "poison":
            record, identifier, stored = draw(poison(sequence))
            batch["poison"].append(identifier)
            batch["stored"] += [stored] if stored else []
        elif kind == "new":
            record = stream_record("INSERT", subscriber, sequence)
            batch["stored"].append(subscriber)
            batch["new"].append(address)
        elif kind == "old":
            welcomed = {**subscriber, "welcomedAt": "2026-11-01T00:00:00+00:00"}
            record = stream_record("INSERT", subscriber, sequence)
            batch["stored"].append(welcomed)
        elif kind == "gone":  # unsubscribed before the record was processed
            record = stream_record("INSERT", subscriber, sequence)
        else:
            record = stream_record(
                "MODIFY", {**subscriber, "name": "x"}, sequence, old_image=subscriber
            )
            batch["stored"].append(subscriber)
        batch["records"].append(record)
    return batch


def emailed() -> list[str]:
    messages = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return sorted(m.destinations["ToAddresses"][0] for m in messages)


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
def test_welcome_reports_every_poison_record_and_emails_each_new_subscriber_once(welcome, batch):
    emptied()
    store(batch["stored"])
    records = batch["records"]
    expected = "all failed" if records and len(batch["poison"]) == len(records) else batch["poison"]
    assert outcome(welcome, {"Records": records}) == expected
    assert emailed() == sorted(batch["new"])
    # The mapping delivers the same batch again (a retry, a bisected half, a duplicate).
    assert outcome(welcome, {"Records": records}) == expected
    assert emailed() == sorted(batch["new"])
    table = boto3.resource("dynamodb").Table(TABLE)
    for address in batch["new"]:
        assert table.get_item(Key={"pk": f"SUBSCRIBER#{address.lower()}", "sk": "SUBSCRIBER"})[
            "Item"
        ]["welcomedAt"]


@given(
    event=JSON_VALUES.filter(
        lambda e: not (isinstance(e, dict) and isinstance(e.get("Records"), list))
    )
)
def test_welcome_answers_an_event_that_is_not_a_batch_with_no_failures(welcome, event):
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
def test_welcome_under_botocore_errors_never_emails_twice_and_one_retry_finishes(welcome, plan):
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
    # The mapping retries the batch once the faults have passed: everyone is welcomed,
    # nobody twice.
    assert outcome(welcome, {"Records": records}) == []
    assert emailed() == sorted(address for address, _ in plan)


# == thumbnails ==================================================================================

BUCKET = "blog-media"
THUMBNAIL_TABLE = "blog-table"


@pytest.fixture(scope="module")
def thumbnail_module():
    from tests.my_blog.test_thumbnail_handler import PLACEHOLDER_ENVIRONMENT

    with pytest.MonkeyPatch.context() as patch:
        for name, value in PLACEHOLDER_ENVIRONMENT.items():
            patch.setenv(name, value)
        return load_handler("thumbnail")


@pytest.fixture
def thumbs(aws, thumbnail_module, monkeypatch):
    from tests.my_blog.test_thumbnail_handler import fresh_clients, thumbnail_resources

    made = thumbnail_resources(thumbnail_module)
    monkeypatch.setattr(thumbnail_module, "settings", lambda: made["settings"])
    monkeypatch.setattr(thumbnail_module, "queues", made["queues"], raising=False)
    fresh_clients(thumbnail_module)
    yield thumbnail_module
    fresh_clients(thumbnail_module)


def empty_media(module) -> None:
    """Bucket, table and queues as a fresh mock has them (the resources themselves stay)."""
    s3 = boto3.client("s3")
    versions = s3.list_object_versions(Bucket=BUCKET)
    doomed = [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])
    ]
    if doomed:
        s3.delete_objects(Bucket=BUCKET, Delete={"Objects": doomed})
    table = boto3.resource("dynamodb").Table(THUMBNAIL_TABLE)
    with table.batch_writer() as batch:
        for entry in table.scan(ProjectionExpression="pk, sk")["Items"]:
            batch.delete_item(Key=entry)
    for queue in module.queues.values():  # empty unless the last example failed (shrinking)
        drain(queue)


def tiny_image(fmt: str, mode: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert(mode).save(out, fmt)
    return out.getvalue()


PHOTOS = st.builds(
    tiny_image,
    st.sampled_from(["JPEG", "PNG"]),
    st.sampled_from(["RGB", "L"]),
    st.tuples(st.integers(1, 300), st.integers(1, 300)),
)
IMAGE_MAGIC = (b"\xff\xd8", b"\x89PNG")


@st.composite
def damaged(draw) -> bytes:
    """A real photo with a few bytes overwritten or its end cut off: may or may not decode."""
    data = bytearray(draw(PHOTOS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        if draw(st.booleans()):
            data[at] = draw(st.integers(0, 255))
        else:
            del data[max(at, 2) :]
    return bytes(data)


# Key names as S3 allows them (any UTF-8, no control characters), arbitrary Unicode otherwise.
# No "/" or ".": one folder level, and the extension is the only dot (distinct names, distinct
# thumbnails).
NAMES = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="/."),
    min_size=1,
    max_size=12,
)


def _record(key: str, version=None, event_name: str = "ObjectCreated:Post") -> dict:
    (record,) = s3_event(BUCKET, key, version=version, event_name=event_name)["Records"]
    return record


@st.composite
def malformed_records(draw) -> dict | object:
    """Something in Records that is not an S3 object record this function can use."""
    kind = draw(st.sampled_from(["not-a-record", "field", "raw-key"]))
    if kind == "not-a-record":
        return draw(NOT_OBJECTS)
    record = _record("uploads/x.jpg")
    if kind == "raw-key":  # a key that never came from S3: not valid UTF-8 text
        record["s3"]["object"]["key"] = draw(ANY_TEXT.filter(lambda t: not utf8(t)))
        return record
    where = draw(
        st.sampled_from(["s3", "bucket", "object", "bucket.name", "object.key", "object.versionId"])
    )
    if where in ("s3", "bucket", "object"):  # an object expected: anything else, or nothing
        value = draw(NOT_OBJECTS)
    elif where == "object.versionId":  # a string or absent is fine (unversioned): not those
        value = draw(JSON_VALUES.filter(lambda v: v is not None and not isinstance(v, str)))
    else:  # a non-empty string expected
        value = draw(JSON_VALUES.filter(lambda v: not isinstance(v, str) or v == ""))
    container, _, name = where.rpartition(".")
    target = record if where == "s3" else record["s3"]
    if container:
        target = target[container]
    if draw(st.booleans()) and name != "versionId":
        target.pop(name)
    else:
        target[name] = value
    return record


@st.composite
def uploads(draw) -> dict:
    """An S3 event: photos, arbitrary bytes, damaged photos and malformed records."""
    kinds = draw(
        st.lists(
            st.sampled_from(["photo", "bytes", "damaged", "malformed", "outside", "deleted-event"]),
            max_size=5,
        )
    )
    names = draw(st.lists(NAMES, min_size=len(kinds), max_size=len(kinds), unique=True))
    event = {
        "records": [],
        "objects": {},
        "photos": [],
        "uncertain": [],
        "rejected": 0,
        "ignored": 0,
    }
    for kind, name in zip(kinds, names, strict=True):
        ext = draw(st.sampled_from([".jpg", ".png", ".jpeg", ""]))
        key = f"uploads/{name}{ext}"
        if kind == "malformed":
            event["records"].append(draw(malformed_records()))
            event["rejected"] += 1
            continue
        if kind == "outside":
            key = f"{draw(st.sampled_from(['thumbnails/', 'other/', '']))}{name}{ext}"
            event["ignored"] += 1
        data = {
            "photo": PHOTOS,
            "bytes": st.binary(max_size=600),
            "damaged": damaged(),
            "outside": PHOTOS,
            "deleted-event": PHOTOS,
        }[kind]
        event["objects"][key] = draw(data)
        if kind == "bytes" and not event["objects"][key].startswith(IMAGE_MAGIC):
            event["rejected"] += 1
        elif kind in ("bytes", "damaged"):
            event["uncertain"].append(key)
        elif kind == "photo":
            event["photos"].append(key)
        elif kind == "deleted-event":
            event["ignored"] += 1
        event["records"].append(
            _record(
                key,
                event_name="ObjectRemoved:Delete"
                if kind == "deleted-event"
                else "ObjectCreated:Put",
            )
        )
    return event


def listing(prefix: str) -> list[str]:
    got = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for o in got.get("Contents", []))


def drain(queue_url: str) -> list[dict]:
    """Take every message off the queue (moto answers with up to 10, all it has)."""
    sqs, bodies = boto3.client("sqs"), []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if got:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)
                ],
            )
        bodies += [json.loads(message["Body"]) for message in got]
        if len(got) < 10:
            return bodies


@given(event=uploads())
def test_thumbnails_never_half_done_and_nothing_written_for_a_bad_record_or_upload(thumbs, event):
    empty_media(thumbs)
    s3 = boto3.client("s3")
    for key, data in event["objects"].items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    counts = thumbs.handler({"Records": event["records"]}, LambdaContext("thumbs"))

    assert sum(counts.values()) == len(event["records"])
    assert counts["ignored"] == event["ignored"]
    written = listing("thumbnails/")
    expected = {thumbs.thumbnail_key(k) for k in event["photos"]}
    maybe = {thumbs.thumbnail_key(k) for k in event["uncertain"]}
    assert expected <= set(written) <= expected | maybe | set(event["objects"])
    made_now = [k for k in written if k not in event["objects"]]  # not a pre-existing upload
    assert counts["thumbnails"] == len(made_now)
    assert counts["rejected"] == event["rejected"] + len(event["uncertain"]) - (
        len(made_now) - len(expected)
    )
    rejected = drain(thumbs.queues["rejected"])
    assert len(rejected) == counts["rejected"] and all(r["reason"] for r in rejected)
    ready = drain(thumbs.queues["listener"])
    assert sorted(r["thumbnailKey"] for r in ready) == sorted(made_now)
    items = boto3.resource("dynamodb").Table(THUMBNAIL_TABLE).scan()["Items"]
    assert sorted(i["thumbnailKey"] for i in items) == sorted(made_now)
    for key in made_now:
        image = Image.open(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))
        assert image.format == "JPEG" and max(image.size) <= 256


@given(
    event=JSON_VALUES.filter(
        lambda e: not (isinstance(e, dict) and isinstance(e.get("Records"), list))
    )
)
def test_thumbnails_send_an_event_that_is_not_a_notification_to_the_queue(thumbs, event):
    # Nothing to empty: the assertions below take the one message each example sends.
    assert thumbs.handler(event, LambdaContext("thumbs")) == {
        "thumbnails": 0,
        "rejected": 1,
        "ignored": 0,
    }
    (message,) = drain(thumbs.queues["rejected"])
    assert message["reason"] == "not an S3 event notification"
