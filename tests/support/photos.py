"""S3's object events as the EventBridge rule hands them to Lambda, and small real images made
with Pillow: what every photo pipeline's tests feed the thumbnail function
(patterns/events/photo_thumbnails.py)."""

from __future__ import annotations

import io
from urllib.parse import quote_plus


def s3_event(
    bucket: str,
    key: str,
    *,
    size: int = 0,
    version: str | None = None,
    detail_type: str = "Object Created",
    request_id: str = "C3D13FE58DE4C810",
) -> dict:
    """What S3 sends to EventBridge for an object event (EventBridge delivery on the bucket),
    as a rule passes it to its Lambda target; the key URL-encoded, as S3 writes keys into its
    events (Powertools' S3EventBridgeNotificationEvent decodes it)."""
    obj = {
        "key": quote_plus(key, safe="/"),
        "size": size,
        "etag": "0123456789abcdef",
        "sequencer": "0055AED6DCD90281E5",
    }
    if version:
        obj["version-id"] = version
    created = detail_type == "Object Created"
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-23T10:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": obj,
            "request-id": request_id,
            "requester": "123456789012",
            "source-ip-address": "203.0.113.10",
            "reason": "POST Object" if created else "DeleteObject",
        },
    }


def jpeg_photo(
    width: int = 1200, height: int = 800, *, orientation: int | None = None, gps: bool = False
) -> bytes:
    """A small real JPEG with a gradient (and optionally EXIF orientation / a GPS tag)."""
    from PIL import Image

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def png_with_alpha(width: int = 640, height: int = 480) -> bytes:
    from PIL import Image

    image = Image.new("RGBA", (width, height), (200, 30, 30, 255))
    image.putalpha(Image.linear_gradient("L").resize((width, height)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def assert_thumbnails_start_from_eventbridge(
    template: dict, *, bucket_id: str, scope: str, upload_prefix: str, thumbnail_prefix: str
) -> None:
    """What the stack of a PhotoThumbnails (construct path `.../<scope>/...`) must say for its
    photos to become thumbnails, once, with every failure parked and watched: the bucket's own
    EventBridge delivery (Control Tower's CT.S3.PR.4), no CDK notifications custom resource, a
    rule for this bucket's uploads under the prefix that no thumbnail matches, invoking the
    function with a retry policy and a dead-letter queue that admits only this rule and that an
    alarm watches."""
    from tests.support.eventbridge import event_matches
    from tests.support.template import resources

    def by_path(suffix: str) -> tuple[str, dict]:
        (found,) = [
            (logical_id, resource)
            for logical_id, resource in template["Resources"].items()
            if resource.get("Metadata", {}).get("aws:cdk:path", "").endswith(suffix)
        ]
        return found

    bucket = template["Resources"][bucket_id]["Properties"]
    assert bucket["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    assert not resources(template, "Custom::S3BucketNotifications")
    assert not [
        path
        for resource in resources(template, "AWS::Lambda::Function").values()
        if "BucketNotificationsHandler" in (path := resource["Metadata"]["aws:cdk:path"])
    ]

    function_id, _ = by_path(f"/{scope}/Function/Resource")
    rejected_id, _ = by_path(f"/{scope}/Rejected/Resource")
    rule_id, rule = by_path(f"/{scope}/Uploaded/Resource")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"] == {"name": [{"Ref": bucket_id}]}
    assert rule["Properties"]["State"] == "ENABLED"

    # The bucket's name is known at deploy: "media" stands for it in the events below.
    pattern = {**pattern, "detail": {**pattern["detail"], "bucket": {"name": ["media"]}}}
    for key, started in (
        (f"{upload_prefix}trip/beach.jpg", True),
        (f"{upload_prefix}trip/beach.jpeg", True),
        (f"{upload_prefix}logo.png", True),
        (f"{upload_prefix}notes.txt", False),
        (f"{upload_prefix}beach.JPG", False),  # S3's own filters were case-sensitive too
        (f"{thumbnail_prefix}trip/beach.jpg", False),  # its own output: never a trigger
        (f"elsewhere/{upload_prefix}beach.jpg", False),
    ):
        assert event_matches(pattern, s3_event("media", key)) is started, key
    other_bucket = s3_event("someone-elses", f"{upload_prefix}beach.jpg")
    assert not event_matches(pattern, other_bucket)
    deleted = s3_event("media", f"{upload_prefix}beach.jpg", detail_type="Object Deleted")
    assert not event_matches(pattern, deleted)

    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [rejected_id, "Arn"]}}
    assert target["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 24 * 3600,
        "MaximumRetryAttempts": 185,
    }
    (permission,) = [
        p["Properties"]
        for p in resources(template, "AWS::Lambda::Permission").values()
        if p["Properties"].get("SourceArn") == {"Fn::GetAtt": [rule_id, "Arn"]}
    ]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}

    # EventBridge may send to the dead-letter queue only for this rule (aws:SourceArn).
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in resources(template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": rejected_id} in p["Properties"]["Queues"]
    ]
    (admitted,) = [
        s for s in policy["Statement"] if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert admitted["Effect"] == "Allow" and admitted["Action"] == "sqs:SendMessage"
    assert admitted["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}
    }
    queue = template["Resources"][rejected_id]["Properties"]
    assert "KmsMasterKeyId" not in queue and queue["SqsManagedSseEnabled"] is True

    # The house alarm on the first message waiting there (house/operations.py).
    assert [
        alarm
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and {"Name": "QueueName", "Value": {"Fn::GetAtt": [rejected_id, "QueueName"]}}
        in alarm["Properties"].get("Dimensions", [])
    ]
