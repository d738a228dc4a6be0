"""The thumbnail function (lambda_src/thumbnail) on real small JPEG and PNG uploads in moto S3,
started by S3's "Object Created" event as the EventBridge rule delivers it, and on the uploads
and events it must refuse: corrupt, not an image, too large, too many pixels, not an S3 event.

The module is imported once (tests/support/handlers.py); each test clears its cached clients and
points `settings()` at its own moto resources: nothing is re-imported or evicted between tests."""

from __future__ import annotations

import dataclasses
import io
import json

import boto3
import pytest
from PIL import Image

from tests.my_blog.events import jpeg_photo, png_with_alpha, s3_event
from tests.support.wiring import LambdaContext, fresh, load_function

BUCKET = "blog-media"
TABLE = "blog-table"


# What the stack sets, for the one import; every test then patches settings() with its own.
PLACEHOLDER_ENVIRONMENT = {
    "TABLE_NAME": TABLE,
    "THUMBNAIL_BUCKET": BUCKET,
    "UPLOAD_PREFIX": "uploads/",
    "THUMBNAIL_PREFIX": "thumbnails/",
    "THUMBNAIL_SIZE": "256",
    "MAX_UPLOAD_BYTES": "1",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:unset",
    "REJECTED_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/unset",
}


@pytest.fixture(scope="module")
def thumbnail_module():
    return load_function("thumbnail", environment=PLACEHOLDER_ENVIRONMENT)


def thumbnail_resources(module) -> dict:
    """Bucket, table, topic and queues in the active moto mock; the settings that name them."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
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
    topic = boto3.client("sns").create_topic(Name="thumbnail-ready")["TopicArn"]
    sqs = boto3.client("sqs")
    rejected = sqs.create_queue(QueueName="rejected")["QueueUrl"]
    listener = sqs.create_queue(QueueName="listener")["QueueUrl"]
    listener_arn = sqs.get_queue_attributes(QueueUrl=listener, AttributeNames=["QueueArn"])
    boto3.client("sns").subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=listener_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    return {
        "settings": module.Settings(
            table_name=TABLE,
            thumbnail_bucket=BUCKET,
            upload_prefix="uploads/",
            thumbnail_prefix="thumbnails/",
            thumbnail_size=256,
            max_upload_bytes=2 * 1024 * 1024,
            topic_arn=topic,
            rejected_queue_url=rejected,
        ),
        "queues": {"rejected": rejected, "listener": listener},
    }


@pytest.fixture
def thumbs(aws, monkeypatch, thumbnail_module):
    made = thumbnail_resources(thumbnail_module)
    fresh(thumbnail_module, monkeypatch, PLACEHOLDER_ENVIRONMENT)  # clients made in this mock
    monkeypatch.setattr(thumbnail_module, "settings", lambda: made["settings"])
    monkeypatch.setattr(thumbnail_module, "queues", made["queues"], raising=False)
    return thumbnail_module


def upload(key: str, data: bytes) -> str | None:
    return boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=data).get("VersionId")


def run(thumbs, key: str, data: bytes | None = None, **event) -> dict:
    version = upload(key, data) if data is not None else None
    return thumbs.handler(s3_event(BUCKET, key, version=version, **event), LambdaContext("thumbs"))


def messages(thumbs, queue: str) -> list[dict]:
    got = boto3.client("sqs").receive_message(QueueUrl=thumbs.queues[queue], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def thumbnail(key: str) -> tuple[Image.Image, dict]:
    obj = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)
    image = Image.open(io.BytesIO(obj["Body"].read()))
    image.load()
    return image, obj


def keys() -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=BUCKET)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def test_a_jpeg_upload_becomes_an_upright_256px_thumbnail_with_metadata(thumbs):
    # 1200x800 stored sideways (EXIF orientation 6 = rotate 90 degrees to view), with GPS.
    result = run(thumbs, "uploads/trip/beach.jpg", jpeg_photo(1200, 800, orientation=6, gps=True))
    assert result == {"thumbnails": 1, "rejected": 0, "ignored": 0}
    image, obj = thumbnail("thumbnails/trip/beach.jpg")
    assert image.format == "JPEG" and image.size == (171, 256)  # upright: portrait
    assert obj["ContentType"] == "image/jpeg"
    assert not image.getexif(), "camera metadata (GPS!) must not reach the public thumbnail"

    item = (
        boto3.resource("dynamodb")
        .Table(TABLE)
        .get_item(Key={"pk": "PHOTO#trip/beach", "sk": "THUMBNAIL"})["Item"]
    )
    assert item["sourceKey"] == "uploads/trip/beach.jpg"
    assert (item["width"], item["height"]) == (1200, 800)
    assert (item["thumbnailWidth"], item["thumbnailHeight"]) == (171, 256)
    assert item["thumbnailPath"] == "/thumbnails/trip/beach.jpg"
    assert item["sourceBytes"] > 0 and item["thumbnailBytes"] == obj["ContentLength"]
    assert item["sourceVersionId"]

    (ready,) = messages(thumbs, "listener")
    assert ready["thumbnailKey"] == "thumbnails/trip/beach.jpg"
    assert messages(thumbs, "rejected") == []


def test_a_png_with_transparency_becomes_a_jpeg_on_white(thumbs):
    assert run(thumbs, "uploads/logo.png", png_with_alpha(640, 480))["thumbnails"] == 1
    image, _ = thumbnail("thumbnails/logo.jpg")
    assert image.size == (256, 192) and image.mode == "RGB"
    assert min(image.getpixel((128, 0))) > 240  # fully transparent top row -> white, not black
    red, green, blue = image.getpixel((128, 191))  # opaque bottom row keeps its colour
    assert red > 150 and green < 80 and blue < 80


def test_a_url_encoded_key_and_a_small_photo_that_is_not_enlarged(thumbs):
    assert run(thumbs, "uploads/my photo+1.jpg", jpeg_photo(120, 90))["thumbnails"] == 1
    image, _ = thumbnail("thumbnails/my photo+1.jpg")
    assert image.size == (120, 90)


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\xff\xd8\xff\xe0 this is not really a jpeg", "unreadable"),  # JPEG magic, no JPEG
        (jpeg_photo(800, 600)[:2000], "unreadable"),  # truncated upload
        (b"<html><script>alert(1)</script></html>", "cannot identify image file"),
    ],
)
def test_corrupt_or_non_image_uploads_are_rejected_to_the_queue_not_retried(thumbs, data, reason):
    result = run(thumbs, "uploads/broken.jpg", data)  # returns normally: no Lambda retry
    assert result == {"thumbnails": 0, "rejected": 1, "ignored": 0}
    (message,) = messages(thumbs, "rejected")
    assert message["key"] == "uploads/broken.jpg" and reason in message["reason"]
    assert keys() == ["uploads/broken.jpg"]


def test_a_gif_is_refused_even_though_pillow_could_read_it(thumbs):
    out = io.BytesIO()
    Image.new("RGB", (64, 64)).save(out, "GIF")
    assert run(thumbs, "uploads/anim.png", out.getvalue())["rejected"] == 1
    assert "cannot identify image file" in messages(thumbs, "rejected")[0]["reason"]


def test_an_upload_over_the_size_limit_is_rejected_without_decoding(thumbs, monkeypatch):
    small_limit = dataclasses.replace(thumbs.settings(), max_upload_bytes=1000)
    monkeypatch.setattr(thumbs, "settings", lambda: small_limit)
    assert run(thumbs, "uploads/big.jpg", jpeg_photo(400, 300))["rejected"] == 1
    assert "upload limit" in messages(thumbs, "rejected")[0]["reason"]


def test_a_decompression_bomb_is_rejected_from_its_header(thumbs):
    # A 9000x9000 (81 MP) PNG compresses to a few hundred kB; it must not be decoded.
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, "PNG")
    assert run(thumbs, "uploads/bomb.png", out.getvalue())["rejected"] == 1
    assert "pixels" in messages(thumbs, "rejected")[0]["reason"]


def test_objects_outside_the_upload_prefix_never_trigger_work(thumbs):
    """The recursion guard: even if a trigger fired for a thumbnail, nothing is written."""
    assert run(thumbs, "thumbnails/beach.jpg", jpeg_photo(300, 200)) == {
        "thumbnails": 0,
        "rejected": 0,
        "ignored": 1,
    }
    assert keys() == ["thumbnails/beach.jpg"]


def test_a_deleted_upload_and_a_delete_event_are_ignored(thumbs):
    assert run(thumbs, "uploads/gone.jpg")["ignored"] == 1  # never uploaded / already deleted
    assert run(thumbs, "uploads/x.jpg", jpeg_photo(50, 50), detail_type="Object Deleted") == {
        "thumbnails": 0,
        "rejected": 0,
        "ignored": 1,
    }
    assert messages(thumbs, "rejected") == []


def test_a_real_eventbridge_object_created_event_makes_the_thumbnail(thumbs):
    """The event exactly as S3 sends it to EventBridge (AWS's documented example, with this
    bucket and a key with a space, URL-encoded as S3 writes it), untouched by a test helper."""
    version = upload("uploads/summer trip/pier.jpg", jpeg_photo(640, 480))
    event = {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "111122223333",
        "time": "2021-11-12T00:00:00Z",
        "region": "ca-central-1",
        "resources": [f"arn:aws:s3:::{BUCKET}"],
        "detail": {
            "version": "0",
            "bucket": {"name": BUCKET},
            "object": {
                "key": "uploads/summer+trip/pier.jpg",
                "size": 5,
                "etag": "b1946ac92492d2347c6235b4d2611184",
                "version-id": version,
                "sequencer": "617f08299329d189",
            },
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "source-ip-address": "1.2.3.4",
            "reason": "PutObject",
        },
    }
    assert thumbs.handler(event, LambdaContext("thumbs")) == {
        "thumbnails": 1,
        "rejected": 0,
        "ignored": 0,
    }
    image, _ = thumbnail("thumbnails/summer trip/pier.jpg")
    assert image.size == (256, 192)
    assert thumbs.logger.get_correlation_id() == "N4N7GDK58NMKJ12R"


@pytest.mark.parametrize(
    "event",
    [
        {"hello": "world"},
        {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": BUCKET}}}]},
        {**s3_event(BUCKET, "uploads/a.jpg"), "source": "aws.ec2"},
        "not even an object",
    ],
    ids=["not-an-event", "s3-notification-shape", "another-source", "a-string"],
)
def test_something_that_is_not_an_s3_eventbridge_event_goes_to_the_queue(thumbs, event):
    """A malformed event returns normally (a Lambda retry cannot fix it) and is parked in the
    rejected-uploads queue (the function's DLQ) with the reason and the event itself."""
    assert thumbs.handler(event, LambdaContext("thumbs")) == {
        "thumbnails": 0,
        "rejected": 1,
        "ignored": 0,
    }
    (message,) = messages(thumbs, "rejected")
    assert message["reason"] == "not an S3 object event from EventBridge"
    assert message["event"] == event
    assert keys() == []


@pytest.mark.parametrize("failure", ["throttled", "read-timeout"])
def test_transient_s3_errors_raise_so_lambda_retries_then_dead_letters(
    thumbs, monkeypatch, failure
):
    from botocore.exceptions import ClientError, ReadTimeoutError

    def failing(**_):
        if failure == "throttled":
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "reduce"}}, "GetObject")
        raise ReadTimeoutError(endpoint_url="https://s3.amazonaws.com")

    monkeypatch.setattr(thumbs.s3(), "get_object", failing)
    with pytest.raises((ClientError, ReadTimeoutError)):
        thumbs.handler(s3_event(BUCKET, "uploads/a.jpg"), LambdaContext("thumbs"))
    assert messages(thumbs, "rejected") == []
    assert keys() == []


# -- the resize function on its own ------------------------------------------------------------


@pytest.fixture(scope="module")
def resize():
    return load_function("thumbnail", "thumbnails")


@pytest.mark.parametrize(
    "mode, fmt", [("CMYK", "JPEG"), ("L", "JPEG"), ("P", "PNG"), ("I;16", "PNG"), ("LA", "PNG")]
)
def test_every_mode_jpeg_and_png_come_in_ends_as_an_rgb_jpeg(resize, mode, fmt):
    out = io.BytesIO()
    Image.new(mode, (1000, 500)).save(out, fmt)
    thumb = resize.make_thumbnail(out.getvalue(), 256)
    image = Image.open(io.BytesIO(thumb.data))
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (256, 128))
    assert (thumb.source_width, thumb.source_height, thumb.source_format) == (1000, 500, fmt)


def test_jpeg_is_decoded_at_reduced_scale(resize, monkeypatch):
    """draft() must shrink a 4000x3000 JPEG to 500x375 (1/8) before any pixel is resampled."""
    sizes = []
    real_resize = Image.Image.resize

    def spy(self, size, *args, **kwargs):
        sizes.append(self.size)
        return real_resize(self, size, *args, **kwargs)

    photo = jpeg_photo(4000, 3000)
    monkeypatch.setattr(Image.Image, "resize", spy)
    resize.make_thumbnail(photo, 256)
    assert sizes == [(500, 375)]


# -- malformed events and botocore errors (issue 13) -------------------------------------------


def _event(upload_key: str, **s3_object) -> dict:
    event = s3_event(BUCKET, upload_key)
    event["detail"]["object"].update(s3_object)
    return event


def _with_bucket(bucket) -> dict:
    event = _event("uploads/a.jpg")
    event["detail"]["bucket"]["name"] = bucket
    return event


def _without(*path: str) -> dict:
    event = _event("uploads/a.jpg")
    *parents, name = path
    target = event
    for parent in parents:
        target = target[parent]
    del target[name]
    return event


@pytest.mark.parametrize(
    "bad",
    [
        _with_bucket(5),
        _with_bucket({"name": BUCKET}),
        _with_bucket(""),
        _with_bucket(None),
        _event("uploads/a.jpg", key=5),
        _event("uploads/a.jpg", key=""),
        _event("uploads/a.jpg", key=["uploads/a.jpg"]),
        _event("uploads/a.jpg", **{"version-id": 7}),
        _event("uploads/a.jpg", **{"version-id": ["v1"]}),
        _event("uploads/a.jpg", key="uploads/\ud800.jpg"),  # a lone surrogate: not a valid key
        _without("detail"),
        _without("detail", "object"),
        _without("detail", "object", "key"),
        {**_event("uploads/a.jpg"), "detail": ["a", "list"]},
    ],
    ids=[
        "bucket-int",
        "bucket-object",
        "bucket-empty",
        "bucket-null",
        "key-int",
        "key-empty",
        "key-list",
        "version-int",
        "version-list",
        "key-surrogate",
        "no-detail",
        "no-object",
        "no-key",
        "detail-list",
    ],
)
def test_an_event_with_wrongly_typed_or_missing_fields_is_rejected_with_the_reason(thumbs, bad):
    upload("uploads/a.jpg", jpeg_photo(300, 200))
    assert thumbs.handler(bad, LambdaContext("thumbs")) == {
        "thumbnails": 0,
        "rejected": 1,
        "ignored": 0,
    }
    (message,) = messages(thumbs, "rejected")
    assert message["reason"] == "not an S3 object event from EventBridge"
    assert keys() == ["uploads/a.jpg"]


def test_an_event_for_another_bucket_is_rejected_not_retried(thumbs):
    """The function can read only its media bucket: retrying could never succeed."""
    assert thumbs.handler(_with_bucket("someone-elses-bucket"), LambdaContext("thumbs")) == {
        "thumbnails": 0,
        "rejected": 1,
        "ignored": 0,
    }
    (message,) = messages(thumbs, "rejected")
    assert message["bucket"] == "someone-elses-bucket"
    assert "not the media bucket" in message["reason"]


def test_the_log_lines_carry_the_s3_request_id(thumbs):
    run(thumbs, "uploads/a.jpg", jpeg_photo(64, 48))
    assert thumbs.logger.get_correlation_id() == "C3D13FE58DE4C810"
