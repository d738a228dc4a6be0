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
