"""The UpdateServer and UpdateOffload smokes against a local HTTP server standing in for the
load balancer and the CloudFront distribution."""

from __future__ import annotations

import hashlib

import pytest

from tests.support.smoke_fakes import json_answer, run, statuses, web  # noqa: F401 (fixtures)

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


def test_update_server_serves_the_manifest_and_the_update_it_names(updates):
    results, lines, _ = run("UpdateServer", {"ManifestUrl": f"{updates.url}/updates/latest.json"})
    assert statuses(results) == {"manifest": "PASS", "download": "PASS"}, lines
    assert results["download"].detail.endswith(f"{len(UPDATE)} bytes, SHA-256 as in the manifest")


def test_update_server_fails_on_a_checksum_mismatch(updates):
    updates.route("GET", "/updates/1.0.0/app-1.0.0.tar.gz", (200, {}, b"corrupted"))
    results, _, _ = run("UpdateServer", {"ManifestUrl": f"{updates.url}/updates/latest.json"})
    assert results["download"].status == "FAIL"
    assert f"the manifest says {MANIFEST['sha256']}" in results["download"].detail


def test_update_server_fails_when_the_manifest_is_not_one(updates):
    updates.route("GET", "/updates/latest.json", (200, {}, b"<html>It works!</html>"))
    results, _, _ = run("UpdateServer", {"ManifestUrl": f"{updates.url}/updates/latest.json"})
    assert "not JSON" in results["manifest"].detail


LOCKED = {
    "Resources": {
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "DefaultActions": [
                    {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "403"}}
                ]
            },
        }
    }
}


def test_a_locked_origin_must_refuse_direct_requests(updates):
    url = f"{updates.url}/updates/latest.json"
    results, lines, _ = run("UpdateServer", {"ManifestUrl": url}, template=LOCKED)
    assert results["manifest"].status == "FAIL", lines  # the fake serves it: not locked
    assert "answered 200, expected 403" in results["manifest"].detail
    updates.route("GET", "/updates/latest.json", (403, {}, b"Forbidden"))
    results, _, _ = run("UpdateServer", {"ManifestUrl": url}, template=LOCKED)
    assert statuses(results) == {"manifest": "PASS"}
    assert "403 directly, as the origin lock intends" in results["manifest"].detail


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
