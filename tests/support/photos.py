"""S3 event notifications as Lambda receives them, and small real images made with Pillow: what
every photo pipeline's tests feed the thumbnail function (patterns/events/photo_thumbnails.py)."""

from __future__ import annotations

import io
from urllib.parse import quote_plus


def s3_event(
    bucket: str,
    key: str,
    *,
    size: int = 0,
    version: str | None = None,
    event_name: str = "ObjectCreated:Post",
) -> dict:
    """What an S3 bucket notification delivers to Lambda (keys arrive URL-encoded)."""
    obj = {
        "key": quote_plus(key),
        "size": size,
        "eTag": "0123456789abcdef",
        "sequencer": "0055AED6DCD90281E5",
    }
    if version:
        obj["versionId"] = version
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-23T10:00:00.000Z",
                "eventName": event_name,
                "userIdentity": {"principalId": "AWS:AROAEXAMPLE"},
                "requestParameters": {"sourceIPAddress": "203.0.113.10"},
                "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "thumbnails",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": obj,
                },
            }
        ]
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
