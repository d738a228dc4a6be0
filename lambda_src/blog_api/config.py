"""The blog API's configuration, read once from the environment its construct sets
(blueprints/my_blog/blog_api.py). Tests patch `settings()`."""

from __future__ import annotations

import dataclasses
import functools

from handler_kit import origin
from handler_kit.settings import environment


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str
    posts_index: str
    media_bucket: str
    upload_prefix: str
    thumbnail_prefix: str
    max_upload_bytes: int
    cache_seconds: int  # CloudFront keeps GET answers this long
    origin_lock: origin.OriginLock | None  # requests must come through CloudFront


@functools.cache
def settings() -> Settings:
    with environment() as env:
        values = dict(
            table_name=env.text("TABLE_NAME"),
            posts_index=env.text("POSTS_INDEX"),
            media_bucket=env.text("MEDIA_BUCKET"),
            upload_prefix=env.text("UPLOAD_PREFIX"),
            thumbnail_prefix=env.text("THUMBNAIL_PREFIX"),
            max_upload_bytes=env.integer("MAX_UPLOAD_BYTES", minimum=1),
            cache_seconds=env.integer("CACHE_SECONDS", default=60, minimum=1),
        )
    return Settings(**values, origin_lock=origin.from_environment())
