"""The MyBlog smoke against moto's S3 and DynamoDB, a local HTTP server standing in for the
CloudFront distribution, and a thumbnail "function" that runs while the smoke waits."""

from __future__ import annotations

import importlib.util
import sys
import time

import boto3
import pytest

from deployment.smoke import run_smoke
from deployment.smoke_blog import DEFAULT_PREFIXES
from deployment.smoke_support import LOCAL_ENDPOINT_SKIP, lambda_environment, tiny_png
from tests.support.smoke_fakes import (  # noqa: F401 (fixtures)
    RUN_ID,
    SteppedClock,
    fixed_run_id,
    json_answer,
    moto_server,
    run,
    snapshot_templates,
    statuses,
    web,
)
from tests.support.synth import REPO_ROOT

BUCKET, TABLE = "myblog-dev-media", "MyBlog-dev-Table"
SECURITY = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
JPEG = b"\xff\xd8\xff\xe0fake jpeg"


@pytest.fixture
def blog(aws, web, fixed_run_id):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    )
    web.route(
        "GET",
        "/",
        (
            200,
            {"Content-Type": "text/html", **SECURITY},
            b"<!doctype html><html><body>MyBlog</body></html>",
        ),
    )
    web.route(
        "GET",
        "/api/posts",
        json_answer(
            200, {"posts": [], "nextCursor": None}, {**SECURITY, "X-Cache": "Miss from cloudfront"}
        ),
    )
    web.route("GET", "/thumbnails/*", (200, {"Content-Type": "image/jpeg", **SECURITY}, JPEG))
    outputs = {
        "SiteUrl": web.url,
        "ApiBaseUrl": f"{web.url}/api/",
        "MediaBucketName": BUCKET,
        "TableName": TABLE,
    }
    return {"outputs": outputs, "s3": s3, "dynamodb": dynamodb, "web": web}


def thumbnail_function(blog, upload_prefix="uploads/", thumbnail_prefix="thumbnails/"):
    """A `sleep` under which the thumbnail function runs: the upload becomes a thumbnail and a
    table item, as lambda_src/thumbnail does, the first time the smoke waits."""

    def sleep(seconds):
        uploads = blog["s3"].list_objects_v2(Bucket=BUCKET, Prefix=upload_prefix)
        for upload in uploads.get("Contents", []):
            photo = upload["Key"][len(upload_prefix) :].rsplit(".", 1)[0]
            blog["s3"].put_object(
                Bucket=BUCKET,
                Key=f"{thumbnail_prefix}{photo}.jpg",
                Body=JPEG,
                ContentType="image/jpeg",
            )
            blog["dynamodb"].put_item(
                TableName=TABLE, Item={"pk": {"S": f"PHOTO#{photo}"}, "sk": {"S": "THUMBNAIL"}}
            )
        time.sleep(min(seconds, 0.01))

    return sleep


def assert_nothing_left(blog) -> None:
    listed = blog["s3"].list_object_versions(Bucket=BUCKET)
    assert not listed.get("Versions") and not listed.get("DeleteMarkers"), listed
    assert blog["dynamodb"].scan(TableName=TABLE)["Items"] == []


def test_site_api_and_a_thumbnail_pass_and_everything_is_deleted(blog):
    results, lines, _ = run("MyBlog", blog["outputs"], sleep=thumbnail_function(blog))
    assert statuses(results) == {
        "site": "PASS",
        "api-posts": "PASS",
        "upload-photo": "PASS",
        "thumbnail": "PASS",
        "thumbnail-via-site": "PASS",
        "cleanup:delete-test-photo": "PASS",
    }, "\n".join(lines)
    assert results["thumbnail"].detail == (
        f"s3://{BUCKET}/thumbnails/smoke-{RUN_ID}.jpg: JPEG, {len(JPEG)} bytes"
    )
    requested = [r["path"] for r in blog["web"].requests]
    assert f"/thumbnails/smoke-{RUN_ID}.jpg" in requested
    assert "x-cache: Miss from cloudfront" in results["api-posts"].detail
    assert results["cleanup:delete-test-photo"].detail == (
        f"2 object version(s) deleted, item PHOTO#smoke-{RUN_ID} deleted"
    )
    assert_nothing_left(blog)


def test_the_upload_is_a_real_png_with_the_right_content_type(blog):
    seen = {}

    def sleep(seconds):
        key = f"uploads/smoke-{RUN_ID}.png"
        got = blog["s3"].get_object(Bucket=BUCKET, Key=key)
        seen["type"], seen["head"] = got["ContentType"], got["Body"].read()[:8]
        thumbnail_function(blog)(seconds)

    run("MyBlog", blog["outputs"], sleep=sleep)
    assert seen == {"type": "image/png", "head": b"\x89PNG\r\n\x1a\n"}


def test_a_thumbnail_that_never_appears_fails_within_the_timeout_and_the_upload_is_deleted(blog):
    results, lines, seconds = run("MyBlog", blog["outputs"], timeout=60, clock=SteppedClock())
    assert results["thumbnail"].status == "FAIL", lines
    assert results["thumbnail"].detail.startswith(
        f"no thumbnail: s3://{BUCKET}/thumbnails/smoke-{RUN_ID}.jpg: still not after"
    )
    assert "RejectedUploadsQueueUrl" in results["thumbnail"].detail
    assert results["thumbnail-via-site"].line == (
        "SKIP thumbnail-via-site: needs thumbnail (that step failed)"
    )
    assert results["cleanup:delete-test-photo"].status == "PASS"
    assert 60 <= seconds < 60 + 60  # the deadline, then the clean-ups' grace at most
    assert_nothing_left(blog)


def test_a_missing_security_header_fails_naming_it(blog):
    headers = {k: v for k, v in SECURITY.items() if k != "Strict-Transport-Security"}
    blog["web"].route("GET", "/", (200, {"Content-Type": "text/html", **headers}, b"<html></html>"))
    results, _, _ = run("MyBlog", blog["outputs"], sleep=thumbnail_function(blog))
    assert results["site"].status == "FAIL"
    assert "lacks security header(s) strict-transport-security" in results["site"].detail
    assert results["api-posts"].status == "PASS"


def test_an_api_error_or_a_non_json_answer_fails(blog):
    blog["web"].route("GET", "/api/posts", json_answer(502, {"message": "bad gateway"}))
    results, _, _ = run("MyBlog", blog["outputs"], sleep=thumbnail_function(blog))
    assert "answered 502, expected 200" in results["api-posts"].detail
    blog["web"].route("GET", "/api/posts", (200, SECURITY, b"<html>the site, not the API</html>"))
    results, _, _ = run("MyBlog", blog["outputs"], sleep=thumbnail_function(blog))
    assert "a body that is not JSON" in results["api-posts"].detail


def test_a_site_that_is_down_fails_in_bounded_time(blog):
    def slow(_request):
        time.sleep(3)
        return 200, {}, b""

    blog["web"].route("GET", "/", slow)
    results, _, _ = run("MyBlog", blog["outputs"], timeout=0.5, skip={"lambda-runs"})
    # Had the request not been bounded by the time left, the 200 would have come after 3 s.
    assert results["site"].status == "FAIL"
    assert "no answer (timed out)" in results["site"].detail


def test_prefixes_come_from_the_thumbnail_function_in_the_template(blog):
    template = {
        "Resources": {
            "Thumbnail": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Environment": {
                        "Variables": {
                            "UPLOAD_PREFIX": "incoming/photos/",
                            "THUMBNAIL_PREFIX": "small/",
                            "TABLE_NAME": {"Ref": "T"},
                        }
                    }
                },
            }
        }
    }
    results, lines, _ = run(
        "MyBlog",
        blog["outputs"],
        template=template,
        sleep=thumbnail_function(blog, "incoming/photos/", "small/"),
        skip={"http"},
    )
    assert results["upload-photo"].detail.startswith(
        f"s3://{BUCKET}/incoming/photos/smoke-{RUN_ID}.png"
    ), lines
    assert results["thumbnail"].status == "PASS"
    assert_nothing_left(blog)


def test_with_only_plain_aws_calls_the_upload_is_made_and_deleted(blog):
    """What a deploy rehearsal on moto gets: the bucket takes the upload, the rest is skipped."""
    from deployment.smoke import LOCAL_ENDPOINT_SKIP

    results, lines, _ = run("MyBlog", blog["outputs"], skip=LOCAL_ENDPOINT_SKIP)
    assert statuses(results) == {
        "site": "SKIP",
        "api-posts": "SKIP",
        "upload-photo": "PASS",
        "thumbnail": "SKIP",
        "thumbnail-via-site": "SKIP",
        "cleanup:delete-test-photo": "PASS",
    }, lines
    assert results["thumbnail"].line == (
        "SKIP thumbnail: needs lambda-runs (the thumbnail function makes it from the upload)"
    )
    assert_nothing_left(blog)


def test_the_generated_png_is_one_the_thumbnail_function_accepts():
    spec = importlib.util.spec_from_file_location(
        "smoke_thumbnails", REPO_ROOT / "lambda_src" / "thumbnail" / "thumbnails.py"
    )
    thumbnails = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = thumbnails  # its dataclass looks the module up while being built
    spec.loader.exec_module(thumbnails)
    thumbnail = thumbnails.make_thumbnail(tiny_png(), 256)
    assert thumbnail.source_format == "PNG" and thumbnail.data.startswith(b"\xff\xd8")


def test_the_prefixes_read_from_the_real_templates_are_the_defaults():
    templates = [t for stack_id, _, t in snapshot_templates() if stack_id == "MyBlog"]
    assert templates
    for template in templates:
        assert lambda_environment(template, *DEFAULT_PREFIXES) == DEFAULT_PREFIXES


def test_against_a_local_endpoint_every_call_goes_there(moto_server):
    """As the deploy rehearsal runs it: the photo upload and its clean-up reach the endpoint
    (there is no in-process mock to catch a client that ignored it)."""
    session = boto3.Session(region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket=BUCKET)
    said: list[str] = []
    results = run_smoke(
        "MyBlog",
        {
            "SiteUrl": "https://d111.cloudfront.net",
            "ApiBaseUrl": "https://x/api/",
            "MediaBucketName": BUCKET,
        },
        session,
        skip=LOCAL_ENDPOINT_SKIP,
        deadline=time.time() + 30,
        endpoint_url=moto_server,
        say=said.append,
    )
    assert not [r for r in results if r.status == "FAIL"], said
    assert f"PASS upload-photo: s3://{BUCKET}/uploads/smoke-" in "\n".join(said)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
