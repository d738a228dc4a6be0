"""The release publisher (lambda_src/release_publisher) on uploads in moto S3, writing to a
temporary folder that stands in for its EFS access point and to the update mirror (a moto
bucket): what it publishes, and every upload it must refuse without changing what the update
servers or the mirror serve.

The module is imported once (tests/support/handlers.py); each test points `settings()` at its
own bucket and folder."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import sys

import boto3
import pytest

from tests.support.wiring import LambdaContext, fresh, load_function

BUCKET = "releases"
MIRROR = "mirror"
PLACEHOLDER_ENVIRONMENT = {
    "RELEASES_BUCKET": BUCKET,
    "RELEASES_PATH": "/mnt/releases",
    "UPDATES_PREFIX": "updates",
    "MANIFEST_NAME": "latest.json",
    "MIRROR_BUCKET": MIRROR,
}
RELEASE = b"\x1f\x8b release 1.2.3 " * 100


@pytest.fixture(scope="module")
def publisher_module():
    return load_function("release_publisher", environment=PLACEHOLDER_ENVIRONMENT)


@pytest.fixture
def publisher(aws, publisher_module, monkeypatch, tmp_path):
    """The handler module with its buckets (versioned, as the stack's) and its folder."""
    environment = {**PLACEHOLDER_ENVIRONMENT, "RELEASES_PATH": str(tmp_path)}
    module = fresh(publisher_module, monkeypatch, environment)
    s3 = boto3.client("s3")
    for bucket in (BUCKET, MIRROR):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    module.root = tmp_path
    return module


def upload(key: str, body: bytes, *, sha256: str | None = "computed", **extra) -> str:
    """Put `body` at `key` (with the sha256 metadata the PublishCommand output sets); returns
    the object's version id."""
    metadata = {}
    if sha256 == "computed":
        metadata["sha256"] = hashlib.sha256(body).hexdigest()
    elif sha256 is not None:
        metadata["sha256"] = sha256
    answer = boto3.client("s3").put_object(
        Bucket=BUCKET, Key=key, Body=body, Metadata=metadata, **extra
    )
    return answer["VersionId"]


def event(key: str, version_id: str | None = None, bucket: str = BUCKET) -> dict:
    """An EventBridge "Object Created" event as S3 sends it (the key URL-encoded)."""
    obj = {"key": key.replace(" ", "+"), "size": 1, "etag": "x", "sequencer": "1"}
    if version_id:
        obj["version-id"] = version_id
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-12-01T10:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {"version": "0", "bucket": {"name": bucket}, "object": obj},
    }


def invoke(module, payload: dict):
    return module.handler(payload, LambdaContext("release-publisher"))


def tree(root) -> dict[str, bytes]:
    """Every file under root (temporary files included), relative path -> bytes."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def mirrored() -> dict[str, bytes]:
    """Every current object of the mirror, key -> bytes."""
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=MIRROR).get("Contents", [])]
    return {key: s3.get_object(Bucket=MIRROR, Key=key)["Body"].read() for key in keys}


def served(root) -> dict[str, bytes]:
    """What the file system serves, as the mirror's keys (the clients' URL paths)."""
    return {f"updates/{path}": content for path, content in tree(root).items()}


def test_an_upload_becomes_the_published_release_and_the_manifest_names_it(publisher):
    version_id = upload("1.2.3/app-1.2.3.tar.gz", RELEASE)
    answer = invoke(publisher, event("1.2.3/app-1.2.3.tar.gz", version_id))
    manifest = answer["published"]
    assert manifest | {"published": None} == {
        "version": "1.2.3",
        "url": "/updates/1.2.3/app-1.2.3.tar.gz",
        "sha256": hashlib.sha256(RELEASE).hexdigest(),
        "size": len(RELEASE),
        "published": None,
    }
    files = tree(publisher.root)
    assert files == {
        "1.2.3/app-1.2.3.tar.gz": RELEASE,
        "latest.json": files["latest.json"],
    }, "no temporary file is left behind"
    assert json.loads(files["latest.json"]) == manifest
    # What the read-only servers (any user, root squashed) must be able to read.
    mode = os.stat(publisher.root / "1.2.3" / "app-1.2.3.tar.gz").st_mode
    assert stat.S_IMODE(mode) == 0o644
    assert stat.S_IMODE(os.stat(publisher.root / "latest.json").st_mode) == 0o644


def test_publishing_the_same_bytes_again_only_points_the_manifest_at_them(publisher):
    first = upload("1.0.0/app.tar.gz", b"one")
    invoke(publisher, event("1.0.0/app.tar.gz", first))
    second = upload("2.0.0/app.tar.gz", b"two")
    invoke(publisher, event("2.0.0/app.tar.gz", second))
    again = upload("1.0.0/app.tar.gz", b"one")  # a rollback: the same release uploaded again
    manifest = invoke(publisher, event("1.0.0/app.tar.gz", again))["published"]
    assert manifest["version"] == "1.0.0"
    assert json.loads((publisher.root / "latest.json").read_text())["version"] == "1.0.0"
    assert (publisher.root / "2.0.0" / "app.tar.gz").read_bytes() == b"two"


def test_a_published_file_is_never_replaced_by_other_bytes(publisher):
    """CloudFront and clients cache update files for a year: a second upload of one name with
    different bytes is refused, and both the file and the manifest stay as they were."""
    invoke(publisher, event("1.0.0/app.tar.gz", upload("1.0.0/app.tar.gz", b"original")))
    before = tree(publisher.root)
    tampered = upload("1.0.0/app.tar.gz", b"tampered")
    with pytest.raises(Exception, match="published already") as refused:
        invoke(publisher, event("1.0.0/app.tar.gz", tampered))
    assert (type(refused.value).__name__, refused.value.code) == ("Conflict", "ReleaseExists")
    assert tree(publisher.root) == before
    assert mirrored() == served(publisher.root)


def test_bytes_that_differ_from_the_stated_sha256_are_refused(publisher):
    version_id = upload("1.0.0/app.tar.gz", b"what was read", sha256="0" * 64)
    with pytest.raises(Exception, match="the upload stated 0000") as refused:
        invoke(publisher, event("1.0.0/app.tar.gz", version_id))
    assert type(refused.value).__name__ == "Refused"
    assert tree(publisher.root) == {}  # not even the version's folder
    assert mirrored() == {}


def test_s3s_own_sha256_checksum_is_checked_when_no_metadata_states_one(publisher):
    version_id = upload("1.0.0/app.tar.gz", RELEASE, sha256=None, ChecksumAlgorithm="SHA256")
    store = sys.modules["store"]
    source = store.open_upload(BUCKET, "1.0.0/app.tar.gz", version_id)
    assert source.stated_sha256 == hashlib.sha256(RELEASE).hexdigest()
    assert "S3's SHA-256 checksum" in source.stated_by
    unstated = upload("1.0.1/app.tar.gz", RELEASE, sha256=None)
    source = store.open_upload(BUCKET, "1.0.1/app.tar.gz", unstated)
    assert source.stated_sha256 is None and "--metadata sha256" in source.stated_by


def test_the_exact_version_the_event_names_is_published(publisher):
    """A release replaced after its event cannot slip in under its name."""
    first = upload("1.0.0/app.tar.gz", b"the upload of the event")
    upload("1.0.0/app.tar.gz", b"replaced a moment later")
    invoke(publisher, event("1.0.0/app.tar.gz", first))
    assert (publisher.root / "1.0.0" / "app.tar.gz").read_bytes() == b"the upload of the event"


@pytest.mark.parametrize(
    "key",
    [
        "latest.json",  # the manifest itself cannot be uploaded
        "app.tar.gz",
        "1.0.0/sub/app.tar.gz",
        "../1.0.0/app.tar.gz",
        "1.0.0/../app.tar.gz",
        "1.0.0/.hidden",
        "1.0.0/latest.json",
        "1.0.0/app tar.gz",
        "1.0.0/",
        "/1.0.0/app.tar.gz",
        "1.0.0/" + "a" * 129,
    ],
)
def test_keys_that_are_not_version_slash_file_are_refused(publisher, key):
    version_id = upload(key, b"bytes") if not key.endswith("/") else None
    with pytest.raises(Exception) as refused:
        invoke(publisher, event(key, version_id))
    assert type(refused.value).__name__ == "Refused"
    assert tree(publisher.root) == {}
    assert mirrored() == {}


def test_an_empty_upload_is_refused(publisher):
    with pytest.raises(Exception, match="is empty"):
        invoke(publisher, event("1.0.0/app.tar.gz", upload("1.0.0/app.tar.gz", b"")))
    assert tree(publisher.root) == {}
    assert mirrored() == {}


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "text",
        {},
        {"source": "aws.s3", "detail-type": "Object Deleted", "detail": {}},
        {"source": "aws.ec2", "detail-type": "Object Created", "detail": {}},
        event("1.0.0/app.tar.gz", bucket="someone-elses-bucket"),
        {"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": BUCKET}},
        {
            "source": "aws.s3",
            "detail-type": "Object Created",
            "detail": {"bucket": {"name": BUCKET}, "object": {"key": 7}},
        },
    ],
)
def test_events_that_are_no_upload_to_the_bucket_are_ignored(publisher, payload):
    assert invoke(publisher, payload) == {"published": None}
    assert tree(publisher.root) == {}


def test_s3_failing_raises_so_lambda_retries_and_then_dead_letters(publisher):
    """A missing object (or S3 refusing) is not the upload's fault: it raises, unchanged."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        invoke(publisher, event("1.0.0/app.tar.gz", "no-such-version"))
    assert tree(publisher.root) == {}


def test_a_failed_manifest_write_leaves_the_previous_manifest(publisher, monkeypatch):
    invoke(publisher, event("1.0.0/app.tar.gz", upload("1.0.0/app.tar.gz", b"one")))
    before = (publisher.root / "latest.json").read_bytes()

    def no_space(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sys.modules["publish"].os, "replace", no_space)
    with pytest.raises(OSError):
        invoke(publisher, event("2.0.0/app.tar.gz", upload("2.0.0/app.tar.gz", b"two")))
    assert (publisher.root / "latest.json").read_bytes() == before
    assert not [p for p in publisher.root.rglob("*") if p.name.endswith(".tmp")]


# -- the update mirror: CloudFront's second origin ------------------------------------------------


def test_the_mirror_serves_the_same_bytes_under_the_clients_paths(publisher):
    """Failover must serve what the update server serves: the same files and manifest, byte for
    byte, at the keys CloudFront asks for (the URL path without '/'), each with the SHA-256 S3
    checked on receipt."""
    invoke(publisher, event("1.0.0/app.tar.gz", upload("1.0.0/app.tar.gz", b"one")))
    invoke(publisher, event("1.2.3/app-1.2.3.tar.gz", upload("1.2.3/app-1.2.3.tar.gz", RELEASE)))
    assert set(mirrored()) == {
        "updates/1.0.0/app.tar.gz",
        "updates/1.2.3/app-1.2.3.tar.gz",
        "updates/latest.json",
    }
    assert mirrored() == served(publisher.root)
    s3 = boto3.client("s3")
    head = s3.head_object(
        Bucket=MIRROR, Key="updates/1.2.3/app-1.2.3.tar.gz", ChecksumMode="ENABLED"
    )
    assert base64.b64decode(head["ChecksumSHA256"]).hex() == hashlib.sha256(RELEASE).hexdigest()
    manifest = s3.head_object(Bucket=MIRROR, Key="updates/latest.json")
    assert manifest["ContentType"] == "application/json"
    assert json.loads(mirrored()["updates/latest.json"])["version"] == "1.2.3"


def test_the_mirror_is_written_after_the_file_system_and_each_manifest_last(publisher, monkeypatch):
    """The file system stays the primary: the file lands there first, then on the mirror; only
    then the file system's manifest, and the mirror's last. So neither origin's manifest ever
    names a file the other lacks."""
    store, publish = sys.modules["store"], sys.modules["publish"]
    steps = []
    root = publisher.root
    target = root / "2.0.0" / "app.tar.gz"

    def on_disk() -> tuple[bool, str | None]:
        manifest = root / "latest.json"
        return target.exists(), json.loads(manifest.read_text())[
            "version"
        ] if manifest.exists() else None

    put_new, put, replace = store.S3Mirror.put_new, store.S3Mirror.put, publish._replace

    def spy_put_new(self, key, path, sha256):
        steps.append(("mirror file", key, on_disk()))
        return put_new(self, key, path, sha256)

    def spy_put(self, key, content, sha256):
        steps.append(("mirror manifest", key, on_disk(), "updates/2.0.0/app.tar.gz" in mirrored()))
        return put(self, key, content, sha256)

    def spy_replace(path, content):
        steps.append(("disk manifest", path.name, "updates/2.0.0/app.tar.gz" in mirrored()))
        return replace(path, content)

    invoke(publisher, event("1.0.0/app.tar.gz", upload("1.0.0/app.tar.gz", b"one")))
    monkeypatch.setattr(store.S3Mirror, "put_new", spy_put_new)
    monkeypatch.setattr(store.S3Mirror, "put", spy_put)
    monkeypatch.setattr(publish, "_replace", spy_replace)
    invoke(publisher, event("2.0.0/app.tar.gz", upload("2.0.0/app.tar.gz", b"two")))
    assert steps == [
        ("mirror file", "updates/2.0.0/app.tar.gz", (True, "1.0.0")),
        ("disk manifest", "latest.json", True),
        ("mirror manifest", "updates/latest.json", (True, "2.0.0"), True),
    ]


def test_a_mirrored_file_is_never_replaced_by_other_bytes(publisher):
    """The mirror holds other bytes under the release's name (the file system lost it, say, and
    CloudFront may have cached the mirror's for a year): refused, and the file system's new copy
    is taken back, so neither origin changes and the manifests stay as they were."""
    invoke(publisher, event("1.0.0/app.tar.gz", upload("1.0.0/app.tar.gz", b"one")))
    boto3.client("s3").put_object(
        Bucket=MIRROR, Key="updates/2.0.0/app.tar.gz", Body=b"older", ChecksumAlgorithm="SHA256"
    )
    disk, mirror = tree(publisher.root), mirrored()
    older = hashlib.sha256(b"older").hexdigest()
    with pytest.raises(
        Exception, match=f"on the update mirror already with SHA-256 {older}"
    ) as refused:
        invoke(publisher, event("2.0.0/app.tar.gz", upload("2.0.0/app.tar.gz", b"two")))
    assert (type(refused.value).__name__, refused.value.code) == ("Conflict", "ReleaseExists")
    assert tree(publisher.root) == disk
    assert mirrored() == mirror


def test_a_file_already_mirrored_with_the_same_bytes_is_accepted(publisher):
    """A retry after a partial publication (or a release re-uploaded to fill a new mirror) finds
    the same bytes and carries on to the manifests."""
    body = b"two"
    boto3.client("s3").put_object(
        Bucket=MIRROR,
        Key="updates/2.0.0/app.tar.gz",
        Body=body,
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode(),
    )
    invoke(publisher, event("2.0.0/app.tar.gz", upload("2.0.0/app.tar.gz", body)))
    assert mirrored() == served(publisher.root)
    assert json.loads(mirrored()["updates/latest.json"])["version"] == "2.0.0"


def test_a_failing_mirror_raises_so_the_event_is_retried_and_then_dead_lettered(
    publisher, monkeypatch
):
    """S3 refusing the mirror's write is not the upload's fault: it raises, so Lambda retries
    and then parks the event in the dead-letter queue; the file system is as before (the file
    taken back, the manifest untouched), and a retry that succeeds publishes on both."""
    from botocore.exceptions import ClientError

    invoke(publisher, event("1.0.0/app.tar.gz", upload("1.0.0/app.tar.gz", b"one")))
    disk, mirror = tree(publisher.root), mirrored()
    s3 = sys.modules["store"].s3()
    put_object = s3.put_object

    def refused(**params):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "PutObject")

    version_id = upload("2.0.0/app.tar.gz", b"two")
    monkeypatch.setattr(s3, "put_object", refused)
    with pytest.raises(ClientError):
        invoke(publisher, event("2.0.0/app.tar.gz", version_id))
    assert tree(publisher.root) == disk
    assert mirrored() == mirror
    monkeypatch.setattr(s3, "put_object", put_object)
    invoke(publisher, event("2.0.0/app.tar.gz", version_id))
    assert mirrored() == served(publisher.root)


def test_a_failing_mirror_manifest_raises_and_a_retry_converges(publisher, monkeypatch):
    """The mirror's manifest is written last; if that write fails the event is retried, and the
    retry finds both files in place and points both manifests at the release."""
    from botocore.exceptions import ClientError

    store = sys.modules["store"]
    put = store.S3Mirror.put

    def unavailable(self, key, content, sha256):
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "PutObject")

    version_id = upload("1.0.0/app.tar.gz", b"one")
    monkeypatch.setattr(store.S3Mirror, "put", unavailable)
    with pytest.raises(ClientError):
        invoke(publisher, event("1.0.0/app.tar.gz", version_id))
    assert "updates/latest.json" not in mirrored()
    monkeypatch.setattr(store.S3Mirror, "put", put)
    invoke(publisher, event("1.0.0/app.tar.gz", version_id))
    assert mirrored() == served(publisher.root)
