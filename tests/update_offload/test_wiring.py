"""UpdateServer wiring, dev and prod: the release publisher runs from its synthesized asset (with
the handler_kit layer the template attaches), with the environment the template sets and as the
execution role the template gives it (moto enforcing that role's policies), against the releases
bucket, the update mirror and (prod) the origin key the template declares.

Driven end to end: an upload to the releases bucket becomes the release on the file system and,
byte for byte, on the mirror, under the keys CloudFront asks the mirror for; prod's mirror is
SSE-KMS with the stack's origin key, so the publisher's writes need kms:GenerateDataKey on it,
checked as S3 would (tests/support/stubbed_services.py). The last tests remove one grant the
path needs and show the publication failing with AccessDenied (so the event is retried and
dead-lettered), and show the role cannot write the mirror outside the served prefix.

Not exercised here: EFS itself (the access point is stood in for by a temporary folder, as in
the handler tests; the role's EFS grants are pinned by test_update_server.py) and the mirror's
bucket policy (moto does not evaluate it; test_update_server.py pins the CloudFront read and the
deny of every other writer).
"""

from __future__ import annotations

import hashlib
import json

import boto3
import pytest

from blueprints.update_offload.stack import APP_STACK_ID
from tests.support.iam_enforcement import attempt
from tests.support.lambda_service import LOG_STEPS, TRACING_STEPS, VPC_STEPS
from tests.support.synth import requires
from tests.support.wiring import ACCOUNT

pytestmark = requires("update-offload")

PUBLISHER = "ReleasePublisher/Function"
RELEASE = b"\x1f\x8b release 2.0.0 " * 64


def bucket(server, name: str) -> str:
    return server.ref(server.logical_id(f"ReleasePublisher/{name}", "AWS::S3::Bucket"))


def upload(server, key: str, body: bytes) -> str:
    """As the operator's PublishCommand does (with the stated SHA-256); the version id."""
    return boto3.client("s3", region_name=server.region).put_object(
        Bucket=bucket(server, "Releases"),
        Key=key,
        Body=body,
        Metadata={"sha256": hashlib.sha256(body).hexdigest()},
    )["VersionId"]


def created_event(server, key: str, version_id: str) -> dict:
    """The EventBridge "Object Created" event S3 sends for the upload."""
    return {
        "version": "0",
        "id": "4f6bd0b2-0e0c-4c0e-9f55-6a3c2f0b9a11",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": "2026-12-06T10:00:00Z",
        "region": server.region,
        "resources": [f"arn:aws:s3:::{bucket(server, 'Releases')}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket(server, "Releases")},
            "object": {"key": key, "size": 1, "version-id": version_id},
        },
    }


def publisher(server, tmp_path):
    """The function as the template builds it, its access point stood in for by `tmp_path`."""
    function = server.function(PUBLISHER)
    function.environment["RELEASES_PATH"] = str(tmp_path)
    return function


def mirrored(server) -> dict[str, bytes]:
    s3 = boto3.client("s3", region_name=server.region)
    name = bucket(server, "Mirror")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=name).get("Contents", [])]
    return {key: s3.get_object(Bucket=name, Key=key)["Body"].read() for key in keys}


def publish(server, tmp_path, key: str = "2.0.0/app.tar.gz", body: bytes = RELEASE):
    function = publisher(server, tmp_path)
    return attempt(function.invoke, created_event(server, key, upload(server, key, body)))


def test_an_upload_is_published_on_the_file_system_and_the_mirror(assembly, local_stack, tmp_path):
    server = local_stack(assembly, APP_STACK_ID)
    published = publish(server, tmp_path)
    assert not published.failed, [str(r) for r in published.refused]
    assert published.refused == []
    manifest = (tmp_path / "latest.json").read_bytes()
    assert json.loads(manifest)["url"] == "/updates/2.0.0/app.tar.gz"
    assert mirrored(server) == {
        "updates/2.0.0/app.tar.gz": RELEASE,
        "updates/latest.json": manifest,
    }
    assert server.function(PUBLISHER).environment["MIRROR_BUCKET"] == bucket(server, "Mirror")


def test_a_retried_publication_finds_the_mirrored_file_and_carries_on(
    assembly, local_stack, tmp_path
):
    """A retry (or the same release uploaded again) meets its own file on the mirror: S3
    refuses the conditional write, and the publisher compares that object's SHA-256 (HeadObject,
    authorized as s3:GetObject) before it points both manifests at the release again."""
    server = local_stack(assembly, APP_STACK_ID)
    key = "2.0.0/app.tar.gz"
    version_id = upload(server, key, RELEASE)
    function = publisher(server, tmp_path)
    first = attempt(function.invoke, created_event(server, key, version_id))
    (tmp_path / "latest.json").unlink()  # the retry must write it again
    again = attempt(function.invoke, created_event(server, key, version_id))
    assert not first.failed and not again.failed, [str(r) for r in again.refused]
    assert again.refused == []
    assert json.loads((tmp_path / "latest.json").read_bytes())["url"] == f"/updates/{key}"
    assert mirrored(server)[f"updates/{key}"] == RELEASE


def test_an_upload_from_before_versioning_is_read_without_a_version_id(
    assembly, local_stack, tmp_path
):
    """An event without a version id (an object S3 keeps as the "null" version, e.g. uploaded
    before versioning was on; the smoke sends such events) is read with plain s3:GetObject."""
    server = local_stack(assembly, APP_STACK_ID)
    key = "1.0.0/app.tar.gz"
    upload(server, key, RELEASE)
    event = created_event(server, key, "unused")
    del event["detail"]["object"]["version-id"]
    published = attempt(publisher(server, tmp_path).invoke, event)
    assert not published.failed, [str(r) for r in published.refused]
    assert mirrored(server)[f"updates/{key}"] == RELEASE


def test_lambda_itself_does_its_part_with_the_publisher_role(assembly, local_stack):
    """Logs into the function's log group, the network interfaces of its isolated subnets, and
    the failed event into the dead-letter queue: made by Lambda with the execution role."""
    function = local_stack(assembly, APP_STACK_ID).function(PUBLISHER)
    assert function.in_vpc and not function.traced
    assert function.lambda_service_calls() == [
        *LOG_STEPS,
        *(TRACING_STEPS if function.traced else []),
        *VPC_STEPS,
        "sqs:SendMessage (dead-letter target)",
    ]


def test_without_put_object_on_the_mirror_nothing_is_published(
    assembly, stack_without_grant, tmp_path
):
    """The event fails (Lambda retries it, then the dead-letter queue has it), and the mirror and
    the manifests stay as they were; the file system's copy is taken back."""
    server = stack_without_grant(assembly, APP_STACK_ID, PUBLISHER, "s3:PutObject")
    published = publish(server, tmp_path)
    assert published.failed and published.refused_actions == {"s3:PutObject"}
    assert mirrored(server) == {}
    assert not (tmp_path / "latest.json").exists()
    assert not (tmp_path / "2.0.0" / "app.tar.gz").exists()


def test_without_a_data_key_prods_encrypted_mirror_refuses_the_write(
    assembly, stack_without_grant, tmp_path
):
    if assembly.stage_settings.name != "prod":
        pytest.skip("dev's mirror is SSE-S3: no key to grant")
    server = stack_without_grant(assembly, APP_STACK_ID, PUBLISHER, "kms:GenerateDataKey")
    published = publish(server, tmp_path)
    assert published.failed and published.refused_actions == {"kms:GenerateDataKey"}
    assert mirrored(server) == {}
    assert not (tmp_path / "latest.json").exists()


def test_the_publisher_writes_the_mirror_only_under_the_served_prefix(
    assembly, local_stack, tmp_path
):
    """Everything CloudFront may read is under updates/; the role can write nothing else there,
    nor anything into the releases bucket, where uploads are verified."""
    server = local_stack(assembly, APP_STACK_ID)
    function = publisher(server, tmp_path)
    with function.as_role() as role:
        s3 = role.client("s3")
        for name, key in (("Mirror", "elsewhere/latest.json"), ("Releases", "2.0.0/app.tar.gz")):
            written = attempt(s3.put_object, Bucket=bucket(server, name), Key=key, Body=b"x")
            assert written.failed and written.refused_actions == {"s3:PutObject"}, (name, key)
