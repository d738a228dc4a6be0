"""The directory's configuration, read once from the environment: the Lambda functions get it from
their construct (blueprints/employee_directory/directory_api.py), the classic app from its
systemd unit (blueprints/employee_directory/classic_app.py); both set the same variables.
Tests patch `settings()`."""

from __future__ import annotations

import dataclasses
import functools

from handler_kit.settings import environment


@dataclasses.dataclass(frozen=True)
class Settings:
    table_name: str
    name_index: str  # the index that lists employees in name order
    media_bucket: str
    upload_prefix: str  # photos are uploaded to <upload_prefix><employeeId>.<jpg|png>
    thumbnail_prefix: str  # the thumbnail function writes <thumbnail_prefix><employeeId>.jpg
    max_upload_bytes: int
    upload_url_seconds: int  # how long a pre-signed POST may be used
    photo_url_seconds: int  # how long a pre-signed thumbnail URL may be used
    page_size: int
    hr_admin_group: str  # writes need an ID token of a member; "" = writes need no sign-in


@functools.cache
def settings() -> Settings:
    with environment() as env:
        return Settings(
            table_name=env.text("TABLE_NAME"),
            name_index=env.text("NAME_INDEX"),
            media_bucket=env.text("MEDIA_BUCKET"),
            upload_prefix=env.text("UPLOAD_PREFIX", pattern=r"([A-Za-z0-9!_.'()-]+/)+"),
            thumbnail_prefix=env.text("THUMBNAIL_PREFIX", pattern=r"([A-Za-z0-9!_.'()-]+/)+"),
            max_upload_bytes=env.integer("MAX_UPLOAD_BYTES", minimum=1, maximum=5 * 1024**3),
            upload_url_seconds=env.integer(
                "UPLOAD_URL_SECONDS", default=300, minimum=10, maximum=3600
            ),
            photo_url_seconds=env.integer(
                "PHOTO_URL_SECONDS", default=300, minimum=10, maximum=3600
            ),
            page_size=env.integer("PAGE_SIZE", default=25, minimum=1, maximum=100),
            hr_admin_group=env.text("HR_ADMIN_GROUP", default=""),
        )
