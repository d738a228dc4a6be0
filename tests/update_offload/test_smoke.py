"""The UpdateServer smoke against moto (target health, the releases bucket, the failures queue)
with the release publisher's own handler answering the Lambda invoke, and the UpdateOffload
smoke against a local HTTP server standing in for the CloudFront distribution."""

from __future__ import annotations

import hashlib
import io
import json
import sys

import boto3
import pytest

from deployment.smoke_updates import SAMPLE, SAMPLE_KEY
from tests.support.smoke_fakes import json_answer, run, statuses, web  # noqa: F401 (fixtures)
from tests.support.wiring import LambdaContext
from tests.update_offload.test_handler_release_publisher import (  # noqa: F401 (fixtures)
    BUCKET,
    MIRROR,
    publisher,
    publisher_module,
)

UPDATE = b"\x1f\x8b sample update 1.0.0"
MANIFEST = {
    "version": "1.0.0",
    "url": "/updates/1.0.0/app-1.0.0.tar.gz",
    "sha256": hashlib.sha256(UPDATE).hexdigest(),
    "size": len(UPDATE),
}


@pytest.fixture
def updates(web):
    web.route("GET", "/updates/latest.json", json_answer(200, MANIFEST))
    web.route(
        "GET",
        "/updates/1.0.0/app-1.0.0.tar.gz",
        (200, {"Content-Type": "application/gzip"}, UPDATE),
    )
    return web


class PublisherAsLambda:
    """The Lambda client's invoke, answered by the release publisher's own handler (imported
    from lambda_src, writing to a test folder), as the Lambda service would run it."""

    def __init__(self, module) -> None:
        self.module = module
        self.invoked: list[dict] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict:  # noqa: N803 (boto3's names)
        event = json.loads(Payload)
        self.invoked.append(event)
        try:
            answer = self.module.handler(event, LambdaContext(FunctionName))
        except Exception as error:  # noqa: BLE001 (what Lambda reports as a function error)
            body = {"errorMessage": str(error), "errorType": type(error).__name__}
            return {"FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(body).encode())}
        return {"Payload": io.BytesIO(json.dumps(answer).encode())}


class SessionWithPublisher:
    """moto for every service but Lambda, whose invoke runs the publisher in process."""

    def __init__(self, lambda_client) -> None:
        self.real = boto3.Session(region_name="us-east-1")
        self.region_name = "us-east-1"
        self.lambda_client = lambda_client

    def client(self, service: str, **kwargs):
        return self.lambda_client if service == "lambda" else self.real.client(service, **kwargs)


@pytest.fixture
def server(publisher):  # noqa: F811 (the fixture of test_handler_release_publisher)
    """An UpdateServer in moto: a target group with two running instances, the releases bucket
    (the publisher fixture's), the failed-publications queue; the publisher as its function."""
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instances = [
        i["InstanceId"]
        for i in ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2)["Instances"]
    ]
    elbv2 = boto3.client("elbv2")
    group = elbv2.create_target_group(Name="updates", Protocol="HTTP", Port=80, VpcId=vpc)
    group_arn = group["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=group_arn, Targets=[{"Id": i} for i in instances])
    queue = boto3.client("sqs").create_queue(QueueName="failed-publications")["QueueUrl"]
    lambda_client = PublisherAsLambda(publisher)
    return {
        "outputs": {
            "TargetGroupArn": group_arn,
            "ReleasesBucketName": BUCKET,
            "MirrorBucketName": MIRROR,
            "PublisherFunctionName": "UpdateServer-dev-publisher",
            "FailedPublicationsQueueUrl": queue,
        },
        "session": SessionWithPublisher(lambda_client),
        "lambda": lambda_client,
        "root": publisher.root,
        "queue": queue,
    }


def test_update_server_seeds_the_sample_release_when_none_exists_and_publishes_it(server):
    results, lines, _ = run("UpdateServer", server["outputs"], session=server["session"])
    assert statuses(results) == {
        "targets": "PASS",
        "publish": "PASS",
        "mirror": "PASS",
        "failed-publications": "PASS",
    }, lines
    assert results["mirror"].detail == (
        f"{MIRROR} holds updates/{SAMPLE_KEY} (SHA-256 as in the manifest) and a manifest naming it"
    )
    assert results["targets"].detail.startswith("2 instance(s) healthy")
    assert results["publish"].detail.startswith(
        f"no release yet: uploaded the sample {SAMPLE_KEY}; {SAMPLE_KEY} published: "
        f"/updates/{SAMPLE_KEY}, SHA-256 {hashlib.sha256(SAMPLE).hexdigest()}"
    )
    assert (server["root"] / SAMPLE_KEY).read_bytes() == SAMPLE
    manifest = json.loads((server["root"] / "latest.json").read_text())
    assert manifest["url"] == f"/updates/{SAMPLE_KEY}"


def test_update_server_republishes_the_newest_upload_and_never_seeds_over_releases(server):
    s3 = boto3.client("s3")
    s3.put_object(Bucket=BUCKET, Key="1.0.0/app.tar.gz", Body=b"old")
    s3.put_object(Bucket=BUCKET, Key="2.0.0/app.tar.gz", Body=b"newest")
    results, lines, _ = run("UpdateServer", server["outputs"], session=server["session"])
    assert results["publish"].status == "PASS", lines
    assert results["publish"].detail.startswith("2.0.0/app.tar.gz published")
    (event,) = server["lambda"].invoked
    assert event["detail"]["object"]["key"] == "2.0.0/app.tar.gz"
    assert event["detail"]["object"]["version-id"]  # the exact version uploaded
    assert SAMPLE_KEY not in {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}


def test_update_server_fails_when_the_mirror_lacks_the_published_release(server, monkeypatch):
    """A publisher that wrote the file system but not the mirror (an older version of the
    function, say): CloudFront's failover would not find the release."""
    publish = sys.modules["publish"]
    monkeypatch.setattr(publish, "_mirror_file", lambda *args: None)
    results, lines, _ = run("UpdateServer", server["outputs"], session=server["session"])
    assert results["publish"].status == "PASS", lines
    assert results["mirror"].status == "FAIL"
    assert f"lacks updates/{SAMPLE_KEY}" in results["mirror"].detail


def test_update_server_fails_when_the_publisher_refuses_the_newest_upload(server):
    boto3.client("s3").put_object(Bucket=BUCKET, Key="not-a-release", Body=b"x")
    results, _, _ = run("UpdateServer", server["outputs"], session=server["session"])
    assert results["publish"].status == "FAIL"
    assert "publishing not-a-release failed" in results["publish"].detail
    assert "Refused" in results["publish"].detail


def test_update_server_fails_on_unhealthy_targets_and_failed_publications(server):
    elbv2 = boto3.client("elbv2")
    arn = server["outputs"]["TargetGroupArn"]
    elbv2.deregister_targets(
        TargetGroupArn=arn,
        Targets=[
            {"Id": d["Target"]["Id"]}
            for d in elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        ],
    )
    boto3.client("sqs").send_message(QueueUrl=server["queue"], MessageBody="{}")
    results, _, _ = run("UpdateServer", server["outputs"], session=server["session"])
    assert results["targets"].status == "FAIL"
    assert "no instance is registered" in results["targets"].detail
    assert results["failed-publications"].status == "FAIL"
    assert results["failed-publications"].detail.startswith("1 failed publication(s)")


def test_update_server_publish_is_skipped_where_lambda_does_not_run(server):
    results, _, _ = run(
        "UpdateServer", server["outputs"], session=server["session"], skip={"lambda-runs"}
    )
    assert results["publish"].status == "SKIP"
    assert server["lambda"].invoked == []


def cloudfront(updates, *caches: str) -> None:
    """The update behind a distribution whose successive answers carry these x-cache values."""
    answers = list(caches)

    def answer(_request):
        headers = {"X-Cache": answers.pop(0)} if answers else {}
        return 200, {"Content-Type": "application/gzip", **headers}, UPDATE

    updates.route("GET", "/updates/1.0.0/app-1.0.0.tar.gz", answer)


def test_offload_downloads_twice_and_reports_the_cache_hit(updates):
    cloudfront(updates, "Miss from cloudfront", "Hit from cloudfront")
    outputs = {
        "UpdateBaseUrl": f"{updates.url}/",
        "ManifestUrl": f"{updates.url}/updates/latest.json",
    }
    results, lines, _ = run("UpdateOffload", outputs)
    assert statuses(results) == {
        "manifest": "PASS",
        "download": "PASS",
        "download-again": "PASS",
    }, lines
    assert results["download-again"].detail.startswith(
        "x-cache: Hit from cloudfront: served from the edge cache"
    )


def test_offload_reports_a_second_miss_without_failing(updates):
    cloudfront(updates, "Miss from cloudfront", "Miss from cloudfront")
    results, _, _ = run("UpdateOffload", {"UpdateBaseUrl": f"{updates.url}/"})
    assert results["manifest"].detail.startswith(f"{updates.url}/updates/latest.json")
    assert results["download-again"].status == "PASS"
    assert "not served from the edge cache" in results["download-again"].detail


def test_offload_fails_when_the_answer_did_not_come_through_cloudfront(updates):
    results, _, _ = run("UpdateOffload", {"UpdateBaseUrl": f"{updates.url}/"})
    assert results["download"].status == "FAIL"
    assert "no x-cache header" in results["download"].detail
    assert results["download-again"].status == "SKIP"
