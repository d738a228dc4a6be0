"""MyBlog smoke: the site and the API answer through CloudFront with the security headers, and
a PNG put under the media bucket's upload prefix becomes a JPEG thumbnail under the thumbnail
prefix, which the distribution then serves. The upload, the thumbnail (every version: the
bucket is versioned) and the photo's table item are deleted at the end.

The prefixes come from the thumbnail function's environment in the synthesized template
(`upload_prefix` / `thumbnail_prefix` settings), or the defaults `uploads/` / `thumbnails/`.
"""

from __future__ import annotations

import posixpath

from botocore.exceptions import ClientError

from deployment.smoke_support import (
    Smoke,
    StepFailed,
    delete_object_versions,
    expect_status,
    join_url,
    lambda_environment,
    tiny_png,
)

DEFAULT_PREFIXES = {"UPLOAD_PREFIX": "uploads/", "THUMBNAIL_PREFIX": "thumbnails/"}
# The response headers policy puts these on every behaviour (docs/my-blog.md).
SECURITY_HEADERS = (
    "strict-transport-security",
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
)
# S3 event -> Lambda start -> resize -> put: seconds; a cold start with Pillow adds a few.
THUMBNAIL_WAIT = 120.0
THUMBNAIL_POLL = 2.0


def missing_headers(response, names=SECURITY_HEADERS) -> list[str]:
    return [name for name in names if not response.header(name)]


def smoke(smoke: Smoke) -> None:
    prefixes = lambda_environment(smoke.template, *DEFAULT_PREFIXES) or DEFAULT_PREFIXES
    photo = f"smoke-{smoke.run_id}"
    upload_key = f"{prefixes['UPLOAD_PREFIX']}{photo}.png"
    # The thumbnail function's naming: same path below the other prefix, always .jpg.
    thumbnail_key = f"{prefixes['THUMBNAIL_PREFIX']}{posixpath.splitext(photo)[0]}.jpg"

    def site() -> str:
        response = smoke.http("GET", smoke.output("SiteUrl"), headers={"Accept": "text/html"})
        expect_status(response, 200)
        kind = response.header("content-type") or ""
        if not kind.startswith("text/html") or b"<html" not in response.body[:4096].lower():
            raise StepFailed(f"{response.url} is not an HTML page (Content-Type {kind!r})")
        missing = missing_headers(response)
        if missing:
            raise StepFailed(f"{response.url} lacks security header(s) {', '.join(missing)}")
        return f"200 HTML with {', '.join(SECURITY_HEADERS)}"

    def api_posts() -> str:
        url = join_url(smoke.output("ApiBaseUrl"), "posts")
        response = smoke.http("GET", url, headers={"Accept": "application/json"})
        expect_status(response, 200)
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("posts"), list):
            raise StepFailed(f"{url} answered JSON without a 'posts' list: {body!r:.200}")
        missing = missing_headers(response, ("strict-transport-security",))
        if missing:
            raise StepFailed(f"{url} lacks security header(s) {', '.join(missing)}")
        cache = response.header("x-cache")
        return f"GET {url}: 200 JSON, {len(body['posts'])} post(s)" + (
            f", x-cache: {cache}" if cache else ""
        )

    def upload() -> str:
        bucket = smoke.output("MediaBucketName")
        smoke.cleanup("delete-test-photo", delete_photo)
        data = tiny_png()
        smoke.client("s3").put_object(
            Bucket=bucket, Key=upload_key, Body=data, ContentType="image/png"
        )
        return f"s3://{bucket}/{upload_key} ({len(data)} bytes)"

    def thumbnail() -> str:
        bucket = smoke.output("MediaBucketName")
        s3 = smoke.client("s3")
        refused: list[str] = []

        def appeared():
            try:
                return s3.head_object(Bucket=bucket, Key=thumbnail_key)
            except ClientError as err:
                code = err.response["Error"]["Code"]
                if code in ("404", "NoSuchKey", "NotFound"):
                    return None
                if code in ("403", "AccessDenied"):
                    # Also what a missing key looks like without s3:ListBucket: keep waiting.
                    refused.append(code)
                    return None
                raise

        try:
            head = smoke.poll(
                f"s3://{bucket}/{thumbnail_key}",
                appeared,
                interval=THUMBNAIL_POLL,
                within=THUMBNAIL_WAIT,
            )
        except StepFailed as err:
            hint = (
                " (S3 answered 403: the smoke's role needs s3:ListBucket and s3:GetObject"
                " on the bucket)"
                if refused
                else " (see RejectedUploadsQueueUrl and the thumbnail function's logs)"
            )
            raise StepFailed(f"no thumbnail: {err}{hint}") from None
        body = s3.get_object(Bucket=bucket, Key=thumbnail_key)["Body"].read()
        if head.get("ContentType") != "image/jpeg" or not body.startswith(b"\xff\xd8"):
            raise StepFailed(
                f"{thumbnail_key} is not a JPEG (Content-Type "
                f"{head.get('ContentType')!r}, starts {body[:4]!r})"
            )
        return f"s3://{bucket}/{thumbnail_key}: JPEG, {len(body)} bytes"

    def thumbnail_via_site() -> str:
        url = join_url(smoke.output("SiteUrl"), thumbnail_key)
        response = smoke.http("GET", url)
        expect_status(response, 200)
        if (response.header("content-type") or "") != "image/jpeg":
            raise StepFailed(f"{url} answered Content-Type {response.header('content-type')!r}")
        return f"GET {url}: 200 image/jpeg, {response.size} bytes"

    def delete_photo() -> str:
        s3, bucket = smoke.client("s3"), smoke.output("MediaBucketName")
        count = sum(
            delete_object_versions(s3, bucket, key, exact=True)
            for key in (upload_key, thumbnail_key)
        )
        detail = f"{count} object version(s) deleted"
        table = smoke.outputs.get("TableName")
        if table:
            smoke.client("dynamodb").delete_item(
                TableName=table, Key={"pk": {"S": f"PHOTO#{photo}"}, "sk": {"S": "THUMBNAIL"}}
            )
            detail += f", item PHOTO#{photo} deleted"
        return detail

    thumbnail_runs = {"lambda-runs": "the thumbnail function makes it from the upload"}
    smoke.step("site", site, uses=["SiteUrl"], needs={"http": "GETs SiteUrl through CloudFront"})
    smoke.step(
        "api-posts",
        api_posts,
        uses=["ApiBaseUrl"],
        needs={"http": "GETs ApiBaseUrl/posts through CloudFront"},
    )
    smoke.step("upload-photo", upload, uses=["MediaBucketName"])
    smoke.step("thumbnail", thumbnail, needs=thumbnail_runs, after=["upload-photo"])
    smoke.step(
        "thumbnail-via-site",
        thumbnail_via_site,
        uses=["SiteUrl"],
        after=["thumbnail"],
        needs={**thumbnail_runs, "http": "GETs the thumbnail through CloudFront"},
    )
