"""The shared file system (EFS, mounted at $SHARED_DIR): small JSON documents, written atomically.

Several tasks in several AZs read and write the same files, so a writer never leaves a
half-written file behind: it writes a temporary file and renames it (atomic on NFSv4.1).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

RESULTS = "results"
UPLOADS = "uploads"


def root() -> Path:
    return Path(os.environ["SHARED_DIR"])


def write_json(folder: str, name: str, document: dict) -> Path:
    target_dir = root() / folder
    target_dir.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target_dir, prefix=".tmp-", suffix=".json")
    with os.fdopen(handle, "w") as out:
        json.dump(document, out, sort_keys=True)
    target = target_dir / f"{name}.json"
    os.replace(temporary, target)
    return target


def read_json(folder: str, name: str) -> dict | None:
    try:
        return json.loads((root() / folder / f"{name}.json").read_text())
    except FileNotFoundError:
        return None


def list_json(folder: str, limit: int = 100) -> list[dict]:
    """The newest `limit` documents of `folder` (temporary files skipped)."""
    directory = root() / folder
    if not directory.is_dir():
        return []
    files = sorted(
        (p for p in directory.glob("*.json") if not p.name.startswith(".tmp-")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    documents = []
    for path in files[:limit]:
        try:
            documents.append(json.loads(path.read_text()))
        except (FileNotFoundError, json.JSONDecodeError):  # pruned or replaced meanwhile
            continue
    return documents


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: CloudWatch Logs Insights can query every field."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def logger(name: str) -> logging.Logger:
    log = logging.getLogger(name)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
        log.propagate = False
    return log
