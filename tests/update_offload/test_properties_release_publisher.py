"""Property-based bad-input tests of the release publisher (EventBridge S3 events; Hypothesis,
the house profile in tests/conftest.py: bounded and derandomized).

For any event (non-events, events of other buckets or kinds, uploads under arbitrary Unicode
keys with arbitrary bytes and stated checksums) it never writes outside its folder and never
leaves a temporary file; it either publishes exactly `<version>/<file>` with the manifest naming
it, on the file system and byte for byte on the update mirror, or ignores the event, or refuses
the upload with a domain error and changes neither.

One moto mock and one folder per test, emptied between examples; the module is imported once.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import boto3
from hypothesis import given
from hypothesis import strategies as st

from tests.support.strategies import ANY_TEXT, JSON_VALUES, utf8
from tests.update_offload.test_handler_release_publisher import (  # noqa: F401 (fixtures)
    BUCKET,
    MIRROR,
    event,
    invoke,
    mirrored,
    publisher,
    publisher_module,
    served,
    tree,
)

SAFE = st.text("abcXYZ019._-", min_size=1, max_size=12).filter(lambda t: t[0].isalnum())
KEYS = st.one_of(
    st.builds(lambda v, f: f"{v}/{f}", SAFE, SAFE),  # well-formed
    ANY_TEXT.filter(lambda k: utf8(k) and 0 < len(k.encode()) <= 1024),
    st.builds(lambda v, f: f"{v}/{f}", ANY_TEXT, ANY_TEXT).filter(
        lambda k: utf8(k) and len(k.encode()) <= 1024
    ),
)
STATED = st.one_of(st.none(), st.just("right"), st.text("0123456789abcdef", max_size=64))


def empty(root) -> None:
    """The folder and the mirror as before the first publication."""
    for path in root.iterdir():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    s3 = boto3.client("s3")
    for version in s3.list_object_versions(Bucket=MIRROR).get("Versions", []):
        s3.delete_object(Bucket=MIRROR, Key=version["Key"], VersionId=version["VersionId"])


@given(payload=JSON_VALUES)
def test_any_non_event_is_ignored_and_writes_nothing(publisher, payload):
    assert invoke(publisher, payload) == {"published": None}
    assert tree(publisher.root) == {}


@given(key=KEYS, body=st.binary(max_size=64), stated=STATED)
def test_an_upload_is_published_whole_or_refused_without_a_trace(publisher, key, body, stated):
    empty(publisher.root)
    metadata = {}
    if stated == "right":
        metadata["sha256"] = hashlib.sha256(body).hexdigest()
    elif stated is not None:
        metadata["sha256"] = stated
    version_id = boto3.client("s3").put_object(
        Bucket=BUCKET, Key=key, Body=body, Metadata=metadata
    )["VersionId"]
    try:
        answer = invoke(publisher, event(key.replace(" ", "%20"), version_id))
    except Exception as refused:  # noqa: BLE001 (the property: only a domain error)
        assert type(refused).__name__ in ("Refused", "Conflict"), repr(refused)
        assert tree(publisher.root) == {}
        assert mirrored() == {}
        return
    manifest = answer["published"]
    version, file = key.split("/")
    assert manifest["url"] == f"/updates/{version}/{file}"
    assert manifest["sha256"] == hashlib.sha256(body).hexdigest() and body
    assert tree(publisher.root) == {
        f"{version}/{file}": body,
        "latest.json": (json.dumps(manifest, indent=2) + "\n").encode(),
    }
    assert mirrored() == served(publisher.root)
