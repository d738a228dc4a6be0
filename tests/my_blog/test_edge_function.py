"""The CloudFront Function exactly as the template deploys it, run in Node (the function is
plain ECMAScript; CloudFront's runtime 2.0 adds nothing this code uses)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.support.synth import REPO_ROOT

# request URI -> what S3 is asked for
CASES = {
    "/": "/index.html",  # the default root object would do too
    "/index.html": "/index.html",
    "/post/hello-world": "/index.html",  # a deep link into the single-page app
    "/post/hello-world/": "/index.html",
    "/about": "/index.html",
    "/app.js": "/app.js",  # files keep their path
    "/styles.css": "/styles.css",
    "/robots.txt": "/robots.txt",
    "/missing.png": "/missing.png",  # -> S3 403 -> the 404 page
    "/v1.2/notes": "/index.html",  # dots in a folder are not extensions
}


def node() -> str:
    found = shutil.which(
        "node",
        path=f"{REPO_ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    if not found:
        pytest.skip("node is not installed (make synth installs the pinned one)")
    return found


def test_spa_router_rewrites_routes_and_leaves_files_alone(synth, tmp_path):
    template = synth("dev").template("MyBlog")
    (function,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::CloudFront::Function"
    ]
    script = tmp_path / "router.js"
    script.write_text(
        function["Properties"]["FunctionCode"]
        + f"\nconst uris = {json.dumps(list(CASES))};\n"
        + "const out = {};\n"
        + "for (const uri of uris) {\n"
        + "  const request = {method: 'GET', uri, querystring: {}, headers: {}, cookies: {}};\n"
        + "  out[uri] = handler({version: '1.0', context: {eventType: 'viewer-request'},"
        + " viewer: {ip: '203.0.113.10'}, request}).uri;\n"
        + "}\nconsole.log(JSON.stringify(out));\n"
    )
    result = subprocess.run([node(), str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == CASES
