"""The publisher's configuration, read once from the environment its construct sets
(blueprints/update_offload/release_publisher.py): a function without it fails its init."""

from __future__ import annotations

import dataclasses
import functools

from handler_kit.settings import environment

# A file or version name: what a URL path segment and a POSIX file name both take unquoted.
SAFE_NAME = r"[0-9A-Za-z][0-9A-Za-z._-]{0,127}"


@dataclasses.dataclass(frozen=True)
class Settings:
    releases_bucket: str  # where releases are uploaded, as <version>/<file>
    releases_path: str  # where the function mounts the file system's /<updates_prefix>
    updates_prefix: str  # the URL prefix the update servers serve that folder under
    manifest_name: str  # the manifest clients read first, e.g. latest.json
    mirror_bucket: str  # the update mirror: the same files as the clients' URLs, in S3


@functools.cache
def settings() -> Settings:
    with environment() as env:
        return Settings(
            releases_bucket=env.text("RELEASES_BUCKET"),
            releases_path=env.text("RELEASES_PATH", pattern=r"/[0-9A-Za-z._/-]+"),
            updates_prefix=env.text("UPDATES_PREFIX", pattern=SAFE_NAME),
            manifest_name=env.text("MANIFEST_NAME", pattern=SAFE_NAME),
            mirror_bucket=env.text("MIRROR_BUCKET"),
        )
