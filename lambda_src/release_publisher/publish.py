"""Publishing a release onto the update servers' file system and the update mirror: the file,
then the manifest.

    file system /<version>/<file>   (verified; the primary origin)
    mirror      updates/<version>/<file>   (the same bytes; CloudFront's failover origin)
    file system /latest.json, then mirror updates/latest.json

Each manifest is written only once the file is on both, so neither origin's manifest ever names
a file the other lacks, whichever of them CloudFront asks. Both file-system writes are a
temporary file renamed into place, so a server (or CloudFront behind it) never reads half a
file; S3 writes an object whole. A published file is never replaced, on either: CloudFront and
clients cache update files for a year, so a second upload of `<version>/<file>` must carry the
same bytes (it then only points the manifest at it again) or it is refused, and a file this
call placed on the file system is taken back when the mirror refuses it or fails.
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
from typing import Protocol

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


class Mirror(Protocol):
    """Where the served files are copied (store.S3Mirror): keys are the URL paths without '/'."""

    def put_new(self, key: str, path: Path, sha256: str) -> str | None:
        """Write the file at `path` as `key` unless `key` exists; None when written, else the
        existing object's SHA-256 (lower-case hex; '' when it states none)."""

    def put(self, key: str, content: bytes, sha256: str) -> None:
        """Write (or replace) `key` with `content`."""


def publish(
    root: Path,
    *,
    version: str,
    file: str,
    chunks: Iterable[bytes],
    stated_sha256: str | None,
    updates_prefix: str,
    manifest_name: str,
    mirror: Mirror | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """Write `chunks` as root/<version>/<file> (unless those exact bytes are there already),
    copy that file to `mirror` as <updates_prefix>/<version>/<file> (likewise), then point
    root/<manifest_name> and the mirror's manifest at it. Returns the manifest. Refused: no
    bytes, bytes that differ from `stated_sha256`, or a file published on either with other
    bytes; nothing is changed then."""
    if file == manifest_name:
        raise Refused(f"{file!r} is the manifest's name; name the release file otherwise")
    folder = root / version
    created = not folder.exists()
    folder.mkdir(mode=0o755, exist_ok=True)
    target = folder / file
    temporary = folder / f".{file}.{uuid.uuid4().hex}.tmp"
    published = placed_here = False
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
            placed_here = True
        except FileExistsError:
            existing, _ = _digest(target)
            if existing != digest:
                raise Conflict(
                    f"{version}/{file} is published already with SHA-256 {existing}; release "
                    "files never change (clients cache them for a year): publish a new version",
                    code="ReleaseExists",
                ) from None
        temporary.unlink(missing_ok=True)
        if mirror is not None:
            _mirror_file(mirror, f"{updates_prefix}/{version}/{file}", target, digest)
        published = True
    finally:
        temporary.unlink(missing_ok=True)
        if placed_here and not published:
            # The mirror refused or failed: the file system holds nothing the mirror lacks.
            target.unlink(missing_ok=True)
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
    content = manifest_bytes(manifest)
    _replace(root / manifest_name, content)
    if mirror is not None:
        mirror.put(f"{updates_prefix}/{manifest_name}", content, _sha256(content))
    return manifest


def manifest_bytes(manifest: dict) -> bytes:
    """The manifest as both origins serve it, byte for byte."""
    return (json.dumps(manifest, indent=2) + "\n").encode()


def _mirror_file(mirror: Mirror, key: str, path: Path, digest: str) -> None:
    existing = mirror.put_new(key, path, digest)
    if existing is not None and existing != digest:
        raise Conflict(
            f"{key} is on the update mirror already with SHA-256 {existing or 'unknown'}; "
            "release files never change (clients cache them for a year): publish a new version",
            code="ReleaseExists",
        )


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


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
