"""The blog's logic: what a post is, decided here; no HTTP, no boto3.

Bodies arrive checked against schemas.json (types, lengths, patterns, unknown fields); this adds
what a schema cannot say: a title or body is not blank, a slug comes from the title when none is
given.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import config
import store
from handler_kit.errors import Conflict, InvalidInput, NotFound
from handler_kit.observability import count, logger
from handler_kit.rest import Caller

UPLOAD_TYPES = {"image/jpeg": ".jpg", "image/png": ".png"}
UPLOAD_URL_SECONDS = 300
LIST_FIELDS = ("slug", "title", "summary", "author", "tags", "createdAt")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _not_blank(fields: dict, name: str) -> str | None:
    """The field stripped; InvalidInput if it is given but blank."""
    if name not in fields:
        return None
    stripped = fields[name].strip()
    if not stripped:
        raise InvalidInput(f"field '{name}' must not be empty")
    return stripped


def slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80].rstrip("-")


def summary_of(item: dict) -> dict:
    return {k: item[k] for k in LIST_FIELDS if k in item}


def public(item: dict) -> dict:
    return {k: item[k] for k in (*LIST_FIELDS, "body") if k in item}


def newest(limit: int, start: dict | None) -> tuple[list[dict], dict | None]:
    items, last = store.newest_posts(limit, start)
    return [summary_of(item) for item in items], last


def post(slug: str) -> dict:
    item = store.post(slug)
    if item is None:
        raise NotFound(f"no post '{slug}'")
    return public(item)


def create_post(author: Caller, fields: dict) -> dict:
    title = _not_blank(fields, "title")
    text = _not_blank(fields, "body")
    summary = _not_blank(fields, "summary")
    slug = fields.get("slug") or slugify(title)
    if not slug:
        raise InvalidInput(
            "field 'title' has no letters or digits to make a slug from; give 'slug'"
        )
    now = _now()
    item = {
        "pk": f"POST#{slug}",
        "sk": "POST",
        "gsi1pk": "POSTS",
        "gsi1sk": f"{now}#{slug}",
        "slug": slug,
        "title": title,
        "body": text,
        "summary": summary or (text[:197] + "..." if len(text) > 200 else text),
        "author": author.name,
        "authorSub": author.sub,
        "createdAt": now,
    }
    if fields.get("tags"):
        item["tags"] = sorted(set(fields["tags"]))
    if not store.put_new(item):
        raise Conflict(f"a post with slug '{slug}' already exists", code="AlreadyExists")
    logger.info("post created", extra={"slug": slug, "author": author.sub})
    count("PostsCreated")
    return public(item)


def upload(content_type: str) -> dict:
    """A pre-signed POST for one photo under the upload prefix (a fresh key), and where its
    thumbnail will be served."""
    settings = config.settings()
    photo = uuid.uuid4().hex
    key = f"{settings.upload_prefix}{photo}{UPLOAD_TYPES[content_type]}"
    form = store.upload_form(key, content_type, settings.max_upload_bytes, UPLOAD_URL_SECONDS)
    count("UploadFormsSigned")
    return {
        "upload": form,
        "key": key,
        "maxBytes": settings.max_upload_bytes,
        "expiresInSeconds": UPLOAD_URL_SECONDS,
        "thumbnailPath": f"/{settings.thumbnail_prefix}{photo}.jpg",
    }
