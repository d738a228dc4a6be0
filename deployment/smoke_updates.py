"""UpdateServer and UpdateOffload smokes: the manifest (`/updates/latest.json`) and the update
it names, straight from the server's load balancer, and through the CloudFront distribution,
twice, reporting whether the second download was an edge cache hit. Read-only: nothing to
clean up.
"""

from __future__ import annotations

import urllib.parse

from deployment.smoke_support import (
    HttpResponse,
    Smoke,
    StepFailed,
    expect_status,
    join_url,
    resource_properties,
)

MANIFEST_PATH = "updates/latest.json"


def origin_locked(template) -> bool:
    """`lock_origin`: the listener's default answer is a fixed 403 (only requests carrying
    CloudFront's secret header are forwarded), so a direct request is refused by design."""
    for properties in resource_properties(template, "AWS::ElasticLoadBalancingV2::Listener"):
        for action in properties.get("DefaultActions", []):
            if (
                action.get("Type") == "fixed-response"
                and str(action.get("FixedResponseConfig", {}).get("StatusCode")) == "403"
            ):
                return True
    return False


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


def server_smoke(smoke: Smoke) -> None:
    state: dict = {}
    http = {"http": "requests the update server's load balancer"}
    locked = origin_locked(smoke.template)

    def manifest() -> str:
        url = smoke.output("ManifestUrl")
        if locked:
            try:
                response = smoke.http("GET", url, timeout=10)
            except StepFailed:
                return f"{url} unreachable directly: the origin lock admits CloudFront only"
            expect_status(response, 403)
            return f"{url}: 403 directly, as the origin lock intends"
        state["manifest"] = read_manifest(smoke.http("GET", url))
        return f"{url}: version {state['manifest']['version']}"

    def download() -> str:
        url = urllib.parse.urljoin(smoke.output("ManifestUrl"), state["manifest"]["url"])
        return f"GET {url}: " + check_download(smoke.http("GET", url), state["manifest"])

    smoke.step("manifest", manifest, uses=["ManifestUrl"], needs=http)
    if not locked:
        smoke.step("download", download, needs=http, after=["manifest"])


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
