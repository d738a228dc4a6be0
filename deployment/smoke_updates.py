"""UpdateServer and UpdateOffload smokes.

UpdateServer's load balancer is internal (only CloudFront's VPC origin reaches it), so its smoke
asks AWS instead of the load balancer: every registered instance is healthy (it mounted the
releases and serves /health), the release publisher publishes the newest upload of the releases
bucket (invoked with the event that upload makes; when the bucket holds no release yet, a small
sample release `0.0.0-smoke/sample.txt` is uploaded first, and stays published), the update
mirror (CloudFront's failover origin) holds that release and a manifest naming it, with the
SHA-256 the manifest states, and no publication has failed. UpdateOffload's: the manifest
(`/updates/latest.json`) and the update it names through the CloudFront distribution, twice,
reporting whether the second download was an edge cache hit. Neither deletes anything.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse

from deployment.smoke_support import HttpResponse, Smoke, StepFailed, expect_status, join_url

MANIFEST_PATH = "updates/latest.json"
SAMPLE_KEY = "0.0.0-smoke/sample.txt"
SAMPLE = (
    b"Sample release published by the UpdateServer smoke: publish your own with PublishCommand.\n"
)


def read_manifest(response: HttpResponse) -> dict:
    expect_status(response, 200)
    manifest = response.json()
    if (
        not isinstance(manifest, dict)
        or not isinstance(manifest.get("url"), str)
        or "version" not in manifest
    ):
        raise StepFailed(
            f"{response.url} is not an update manifest (version, url): {response.body[:200]!r}"
        )
    return manifest


def check_download(response: HttpResponse, manifest: dict) -> str:
    expect_status(response, 200)
    if "sha256" in manifest and response.sha256 != manifest["sha256"]:
        raise StepFailed(
            f"{response.url}: SHA-256 {response.sha256}, the manifest says {manifest['sha256']}"
        )
    if "size" in manifest and response.size != manifest["size"]:
        raise StepFailed(
            f"{response.url}: {response.size} bytes, the manifest says {manifest['size']}"
        )
    return f"{response.size} bytes, SHA-256 as in the manifest"


def upload_event(bucket: str, key: str, version_id: str | None) -> dict:
    """The EventBridge event S3 sends for an upload (what the publisher's rule passes on)."""
    obj = {"key": urllib.parse.quote_plus(key, safe="/")}
    if version_id:
        obj["version-id"] = version_id
    return {
        "id": "smoke",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": bucket}, "object": obj},
    }


def server_smoke(smoke: Smoke) -> None:
    published: dict = {}

    def targets() -> str:
        health = smoke.client("elbv2").describe_target_health(
            TargetGroupArn=smoke.output("TargetGroupArn")
        )["TargetHealthDescriptions"]
        states = {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in health}
        if not states:
            raise StepFailed("no instance is registered with the load balancer")
        sick = {target: state for target, state in states.items() if state != "healthy"}
        if sick:
            raise StepFailed(
                f"not healthy: {', '.join(f'{t} ({s})' for t, s in sorted(sick.items()))}; an "
                "instance turns healthy only after it mounted the releases and started Apache"
            )
        return f"{len(states)} instance(s) healthy: each mounted the releases and serves /health"

    def publish() -> str:
        bucket = smoke.output("ReleasesBucketName")
        s3 = smoke.client("s3")
        newest = _newest_upload(s3, bucket)
        seeded = ""
        if newest is None:
            s3.put_object(
                Bucket=bucket,
                Key=SAMPLE_KEY,
                Body=SAMPLE,
                Metadata={"sha256": hashlib.sha256(SAMPLE).hexdigest()},
            )
            newest = _newest_upload(s3, bucket)
            seeded = f"no release yet: uploaded the sample {SAMPLE_KEY}; "
        key, version_id = newest
        answer = smoke.client("lambda", read_timeout=330).invoke(
            FunctionName=smoke.output("PublisherFunctionName"),
            Payload=json.dumps(upload_event(bucket, key, version_id)).encode(),
        )
        payload = answer["Payload"].read()
        if answer.get("FunctionError"):
            raise StepFailed(f"publishing {key} failed: {payload[:300]!r}")
        manifest = (json.loads(payload) or {}).get("published") or {}
        if not str(manifest.get("url", "")).endswith("/" + key):
            raise StepFailed(f"publishing {key} answered {payload[:300]!r}, not its manifest")
        published.update(manifest)
        return (
            f"{seeded}{key} published: {manifest['url']}, SHA-256 {manifest.get('sha256')}, "
            f"{manifest.get('size')} bytes"
        )

    def mirror() -> str:
        bucket, s3 = smoke.output("MirrorBucketName"), smoke.client("s3")
        key = published["url"].lstrip("/")
        try:
            head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
            body = s3.get_object(Bucket=bucket, Key=MANIFEST_PATH)["Body"].read()
        except s3.exceptions.ClientError as error:
            raise StepFailed(
                f"the update mirror {bucket} lacks {key} or its manifest: {error}"
            ) from error
        checksum = head.get("ChecksumSHA256") or ""
        sha256 = base64.b64decode(checksum).hex() if checksum else None
        if sha256 != published.get("sha256"):
            raise StepFailed(
                f"{bucket}/{key} has SHA-256 {sha256}, the manifest says {published.get('sha256')}"
            )
        if json.loads(body).get("url") != published["url"]:
            raise StepFailed(f"{bucket}/{MANIFEST_PATH} does not name {published['url']}")
        return f"{bucket} holds {key} (SHA-256 as in the manifest) and a manifest naming it"

    def failures() -> str:
        url = smoke.output("FailedPublicationsQueueUrl")
        attributes = smoke.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        waiting = int(attributes.get("ApproximateNumberOfMessages", "0"))
        if waiting:
            raise StepFailed(
                f"{waiting} failed publication(s) in {url}: each message holds the upload's "
                "event and the error (an upload that cannot become a release, or S3/EFS failing)"
            )
        return "no failed publication"

    smoke.step("targets", targets, uses=["TargetGroupArn"])
    smoke.step(
        "publish",
        publish,
        uses=["ReleasesBucketName", "PublisherFunctionName"],
        needs={"lambda-runs": "the publisher function writes the release to EFS"},
    )
    smoke.step("mirror", mirror, uses=["MirrorBucketName"], after=["publish"])
    smoke.step("failed-publications", failures, uses=["FailedPublicationsQueueUrl"])


def _newest_upload(s3, bucket: str) -> tuple[str, str | None] | None:
    """(key, version id) of the most recently uploaded object (current versions only; of two
    uploaded within the same second, the later key in S3's order, e.g. 2.0.0 after 1.0.0)."""
    newest = None
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            if version.get("IsLatest") and (
                newest is None or version["LastModified"] >= newest["LastModified"]
            ):
                newest = version
    if newest is None:
        return None
    version_id = newest.get("VersionId")
    return newest["Key"], None if version_id in (None, "null") else version_id


def offload_smoke(smoke: Smoke) -> None:
    state: dict = {}
    http = {"http": "requests the CloudFront distribution"}

    def manifest_url() -> str:
        # No ManifestUrl output when the manifest path pattern has a wildcard.
        return smoke.outputs.get("ManifestUrl") or join_url(
            smoke.output("UpdateBaseUrl"), MANIFEST_PATH
        )

    def manifest() -> str:
        response = smoke.http("GET", manifest_url())
        state["manifest"] = read_manifest(response)
        return (
            f"{response.url}: version {state['manifest']['version']}, x-cache: "
            f"{response.header('x-cache') or 'none'}"
        )

    def fetch() -> tuple[HttpResponse, str]:
        url = urllib.parse.urljoin(smoke.output("UpdateBaseUrl"), state["manifest"]["url"])
        response = smoke.http("GET", url)
        detail = check_download(response, state["manifest"])
        if not response.header("x-cache"):
            raise StepFailed(
                f"{url} has no x-cache header: the answer did not come through CloudFront"
            )
        return response, detail

    def download() -> str:
        response, detail = fetch()
        return f"GET {response.url}: {detail}, x-cache: {response.header('x-cache')}"

    def download_again() -> str:
        response, detail = fetch()
        cache = response.header("x-cache")
        verdict = (
            "served from the edge cache"
            if cache.lower().startswith(("hit", "refreshhit"))
            else "not served from the edge cache (another edge location, a TTL of 0 or "
            "a no-cache answer from the origin)"
        )
        return f"x-cache: {cache}: {verdict}; {detail}"

    smoke.step("manifest", manifest, uses=["UpdateBaseUrl"], needs=http)
    smoke.step("download", download, needs=http, after=["manifest"])
    smoke.step("download-again", download_again, needs=http, after=["download"])
