"""Property-based bad-input tests of the thumbnail function (S3's object events from the
EventBridge rule; Hypothesis, the house profile in tests/conftest.py: bounded and derandomized).

For any sequence of events (non-events, malformed S3 events, uploads of arbitrary bytes or of
damaged photos under arbitrary Unicode keys, real photos) it never raises while S3, DynamoDB,
SNS and SQS answer; every event is counted exactly once; nothing is written for a malformed
event or a non-image upload, each of which goes to the rejected-uploads queue; an upload is
either a complete thumbnail (JPEG no larger than the size, metadata, "ready" message) or a
rejection, never half of one.

One moto mock per test, emptied between examples (a fresh mock per example costs ~0.4 s); the
handler module is imported once.
"""

from __future__ import annotations

import io
import json

import boto3
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from tests.my_blog.events import s3_event
from tests.my_blog.test_handler_thumbnail import (  # noqa: F401 (fixtures)
    BUCKET,
    TABLE,
    thumbnail_module,
    thumbs,
)
from tests.support.strategies import ANY_TEXT, JSON_VALUES, NOT_OBJECTS, utf8
from tests.support.wiring import LambdaContext


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
    table = boto3.resource("dynamodb").Table(TABLE)
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


def _event(key: str, version=None, detail_type: str = "Object Created") -> dict:
    return s3_event(BUCKET, key, version=version, detail_type=detail_type)


@st.composite
def malformed_events(draw) -> dict | object:
    """Something the rule could hand over that is not an S3 object event this function can use."""
    kind = draw(st.sampled_from(["not-an-event", "field", "raw-key"]))
    if kind == "not-an-event":
        return draw(NOT_OBJECTS)
    event = _event("uploads/x.jpg")
    if kind == "raw-key":  # a key that never came from S3: not valid UTF-8 text
        event["detail"]["object"]["key"] = draw(ANY_TEXT.filter(lambda t: not utf8(t)))
        return event
    where = draw(
        st.sampled_from(
            ["detail", "bucket", "object", "bucket.name", "object.key", "object.version-id"]
        )
    )
    if where in ("detail", "bucket", "object"):  # an object expected: anything else, or nothing
        value = draw(NOT_OBJECTS)
    elif where == "object.version-id":  # a string or absent is fine (unversioned): not those
        value = draw(JSON_VALUES.filter(lambda v: v is not None and not isinstance(v, str)))
    else:  # a non-empty string expected
        value = draw(JSON_VALUES.filter(lambda v: not isinstance(v, str) or v == ""))
    container, _, name = where.rpartition(".")
    target = event if where == "detail" else event["detail"]
    if container:
        target = target[container]
    if draw(st.booleans()) and name != "version-id":
        target.pop(name)
    else:
        target[name] = value
    return event


@st.composite
def uploads(draw) -> dict:
    """A run of events: photos, arbitrary bytes, damaged photos and malformed events."""
    kinds = draw(
        st.lists(
            st.sampled_from(["photo", "bytes", "damaged", "malformed", "outside", "deleted-event"]),
            max_size=5,
        )
    )
    names = draw(st.lists(NAMES, min_size=len(kinds), max_size=len(kinds), unique=True))
    event = {
        "events": [],
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
            event["events"].append(draw(malformed_events()))
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
        event["events"].append(
            _event(
                key, detail_type="Object Deleted" if kind == "deleted-event" else "Object Created"
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
def test_thumbnails_never_half_done_and_nothing_written_for_a_bad_event_or_upload(thumbs, event):
    empty_media(thumbs)
    s3 = boto3.client("s3")
    for key, data in event["objects"].items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    counts = {"thumbnails": 0, "rejected": 0, "ignored": 0}
    for one in event["events"]:
        answer = thumbs.handler(one, LambdaContext("thumbs"))
        assert sum(answer.values()) == 1
        counts = {name: counts[name] + answer[name] for name in counts}

    assert sum(counts.values()) == len(event["events"])
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
    items = boto3.resource("dynamodb").Table(TABLE).scan()["Items"]
    assert sorted(i["thumbnailKey"] for i in items) == sorted(made_now)
    for key in made_now:
        image = Image.open(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))
        assert image.format == "JPEG" and max(image.size) <= 256


@given(
    event=JSON_VALUES.filter(lambda e: not (isinstance(e, dict) and e.get("source") == "aws.s3"))
)
def test_thumbnails_send_an_event_that_is_not_an_s3_event_to_the_queue(thumbs, event):
    # Nothing to empty: the assertions below take the one message each example sends.
    assert thumbs.handler(event, LambdaContext("thumbs")) == {
        "thumbnails": 0,
        "rejected": 1,
        "ignored": 0,
    }
    (message,) = drain(thumbs.queues["rejected"])
    assert message["reason"] == "not an S3 object event from EventBridge"
