"""Publishing a release onto the update servers' file system: the file, then the manifest.

Both writes are a temporary file renamed into place, so a server (or CloudFront behind it)
never reads half a file. A published file is never replaced: CloudFront and clients cache
update files for a year, so a second upload of `<version>/<file>` must carry the same bytes
(it then only points the manifest at it again) or it is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterable
from pathlib import Path

from config import SAFE_NAME
from handler_kit.errors import Conflict, InvalidInput

_SAFE = re.compile(SAFE_NAME)


class Refused(InvalidInput):
    """This upload cannot become a release; retrying it cannot change that."""


def release_of(key: str) -> tuple[str, str]:
    """(version, file) of an uploaded key `<version>/<file>`; Refused for anything else."""
    parts = key.split("/")
    if len(parts) != 2 or not all(_SAFE.fullmatch(part) for part in parts):
        raise Refused(
            f"key {key[:200]!r} is not <version>/<file>, each 1-128 characters of "
            "A-Z a-z 0-9 . _ - starting with a letter or digit"
        )
    return parts[0], parts[1]


def publish(
    root: Path,
    *,
    version: str,
    file: str,
    chunks: Iterable[bytes],
    stated_sha256: str | None,
    updates_prefix: str,
    manifest_name: str,
    now: dt.datetime | None = None,
) -> dict:
    """Write `chunks` as root/<version>/<file> (unless those exact bytes are there already) and
    point root/<manifest_name> at it. Returns the manifest. Refused: no bytes, bytes that differ
    from `stated_sha256`, or a published file with other bytes; nothing is changed then."""
    if file == manifest_name:
        raise Refused(f"{file!r} is the manifest's name; name the release file otherwise")
    folder = root / version
    created = not folder.exists()
    folder.mkdir(mode=0o755, exist_ok=True)
    target = folder / file
    temporary = folder / f".{file}.{uuid.uuid4().hex}.tmp"
    published = False
    try:
        digest, size = _write(temporary, chunks)
        if size == 0:
            raise Refused(f"{version}/{file} is empty")
        if stated_sha256 is not None and digest != stated_sha256:
            raise Refused(
                f"{version}/{file}: the bytes read have SHA-256 {digest}, the upload stated "
                f"{stated_sha256}; nothing was published"
            )
        try:
            # link() creates the name only if it does not exist: two publishers of one release
            # never replace each other's file, and a published file is never changed.
            os.link(temporary, target)
        except FileExistsError:
            existing, _ = _digest(target)
            if existing != digest:
                raise Conflict(
                    f"{version}/{file} is published already with SHA-256 {existing}; release "
                    "files never change (clients cache them for a year): publish a new version",
                    code="ReleaseExists",
                ) from None
        published = True
    finally:
        temporary.unlink(missing_ok=True)
        if created and not published:
            with contextlib.suppress(OSError):  # another publisher's file may be in it now
                folder.rmdir()
    manifest = {
        "version": version,
        "url": f"/{updates_prefix}/{version}/{file}",
        "sha256": digest,
        "size": size,
        "published": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
    }
    _replace(root / manifest_name, (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def _write(path: Path, chunks: Iterable[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "xb") as out:
        os.fchmod(out.fileno(), 0o644)
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as source:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _replace(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        _write(temporary, [content])
        os.replace(temporary, path)  # atomic: readers see the old manifest or the new one
    finally:
        temporary.unlink(missing_ok=True)
