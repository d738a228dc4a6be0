"""config.json is written at deploy from the stack's own values: nobody edits it by hand.

The page's config.json is a `Source.json_data` of the site's deployment: its asset holds the JSON
with a marker in place of each deploy-time value, and the deployment's SourceMarkers say what
CloudFormation puts there. These tests read both from the synthesized assembly and resolve the
markers, so they prove what a deploy writes: this stack's user pool, app client, hosted sign-in
domain and API, and that the upload invalidates the site's cache (or releases the Amplify
branch) whenever those values change.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.serverless_web_app.conftest import INSTANCES, Built

MARKER = re.compile(r"<<marker:0xbaba:\d+>>")


def config_sources(built: Built) -> list[tuple[dict, dict]]:
    """(deployment resource, {marker: CloudFormation value}) of each deployment that writes
    config.json, with the asset text of that file."""
    found = []
    for resource in built.resources("Custom::CDKBucketDeployment").values():
        p = resource["Properties"]
        for key, markers in zip(p["SourceObjectKeys"], p["SourceMarkers"], strict=True):
            folder = built.assembly.outdir / f"asset.{key.removesuffix('.zip')}"
            if (folder / "config.json").is_file():
                found.append((resource, markers, (folder / "config.json").read_text()))
    return found


def written_config(built: Built) -> tuple[dict, dict]:
    """The config.json a deploy writes, resolved, and its deployment's properties."""
    ((resource, markers, text),) = config_sources(built)
    resolve = built.resolver.resolve
    for marker, value in markers.items():
        text = text.replace(marker, resolve(value))
    assert not MARKER.search(text)
    return json.loads(text), resource["Properties"]


def test_config_json_names_this_stacks_pool_client_sign_in_pages_and_api(built):
    config, _ = written_config(built)
    resolver = built.resolver
    outputs = {k: resolver.resolve(v["Value"]) for k, v in built.template["Outputs"].items()}
    pool = resolver.logical_id("Identity/UserPool", "AWS::Cognito::UserPool")
    client = resolver.logical_id("Identity/UserPool/WebClient", "AWS::Cognito::UserPoolClient")
    assert config["userPoolId"] == resolver.ref(pool) == outputs["UserPoolId"]
    assert config["clientId"] == resolver.ref(client) == outputs["UserPoolClientId"]
    assert config["signInUrl"] == outputs["SignInUrl"]
    hosted = r"https://[a-z0-9-]+\.auth\.[a-z0-9-]+\.amazoncognito\.com"
    assert re.fullmatch(hosted, config["signInUrl"])
    assert config["apiUrl"] == "/api", "the page calls the API on its own origin"
    assert config["region"] == outputs["Region"]
    assert config["appName"] == built.settings.app_name


def test_every_deploy_time_value_is_a_marker_in_the_asset_never_a_synth_time_guess(built):
    ((_, markers, text),) = config_sources(built)
    raw = json.loads(MARKER.sub("0", text))
    assert set(raw) == {"appName", "region", "userPoolId", "clientId", "signInUrl", "apiUrl"}
    assert len(markers) >= 3, "pool, client and domain are only known at deploy"
    for value in markers.values():
        assert "Ref" in json.dumps(value)


def test_the_upload_refreshes_what_serves_the_page(built):
    """CloudFront: the deployment invalidates the distribution; Amplify: the release custom
    resource runs again whenever the files or the config values change (its physical id is made
    of them), after the upload."""
    _, properties = written_config(built)
    if built.settings.hosting == "cloudfront":
        distribution, _ = built.only("AWS::CloudFront::Distribution")
        assert properties["DistributionId"] == {"Ref": distribution}
        assert properties["DistributionPaths"] == ["/*"]
        assert properties["Prune"] is True
        return
    release_id, release = built.only("Custom::AWS")
    create = json.dumps(built.resolver.resolve(release["Properties"]["Create"]))
    assert '\\"action\\":\\"startDeployment\\"' in create
    assert "BUCKET_PREFIX" in create
    assert "userPoolId" in create, "the config values are part of the physical id"
    (deployment_id,) = built.resources("Custom::CDKBucketDeployment")
    assert deployment_id in json.dumps(release.get("DependsOn", []))


def test_the_amplify_staging_bucket_is_readable_by_amplify_for_this_branch_only(assembly):
    built = Built(assembly, "serverless-web-app-amplify", INSTANCES["serverless-web-app-amplify"])
    assembly.require(built.stack_id)
    staging = built.resolver.logical_id("Site/Staging", "AWS::S3::Bucket")
    (policy,) = [
        p
        for p in built.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": staging}
    ]
    statements = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "amplify.amazonaws.com"}
    ]
    assert sorted(s["Action"] for s in statements) == ["s3:GetObject", "s3:ListBucket"]
    for statement in statements:
        equals = statement["Condition"]["StringEquals"]
        source = built.resolver.resolve(equals["aws:SourceArn"])
        assert source.startswith("arn%3Aaws%3Aamplify%3A") and source.endswith("%2Fbranches%2Fmain")
        assert "aws:SourceAccount" in equals


def test_cross_origin_mode_writes_the_execute_api_url(variant):
    assembly = variant("dev", "cross-origin")
    for instance, stack_id in INSTANCES.items():
        built = Built(assembly, instance, stack_id)
        config, _ = written_config(built)
        api = built.resolver.logical_id("Api/Api", "AWS::ApiGateway::RestApi")
        assert config["apiUrl"] == (
            f"https://{built.resolver.ref(api)}.execute-api.us-east-1.amazonaws.com/v1/api"
        )


def test_amplify_from_git_gets_config_json_from_its_build_not_from_an_upload(variant):
    assembly = variant("dev", "git")
    built = Built(assembly, "serverless-web-app-amplify", INSTANCES["serverless-web-app-amplify"])
    assert built.resources("Custom::CDKBucketDeployment") == {}
    _, branch = built.only("AWS::Amplify::Branch")
    (variable,) = branch["Properties"]["EnvironmentVariables"]
    assert variable["Name"] == "SITE_CONFIG"
    config = json.loads(built.resolver.resolve(variable["Value"]))
    assert config["clientId"] == built.resolver.ref(
        built.resolver.logical_id("Identity/UserPool/WebClient", "AWS::Cognito::UserPoolClient")
    )
    _, app = built.only("AWS::Amplify::App")
    spec = json.loads(app["Properties"]["BuildSpec"])
    commands = spec["frontend"]["phases"]["build"]["commands"]
    assert any("$SITE_CONFIG" in c and "config.json" in c for c in commands)
    assert spec["frontend"]["artifacts"]["baseDirectory"] == built.settings.amplify_site_folder


@pytest.mark.parametrize("hosting", ["cloudfront", "amplify"])
def test_the_page_reads_its_config_and_names_no_pool_client_or_url_of_its_own(hosting):
    """The page's code holds no deploy-time value: everything comes from config.json."""
    from blueprints.serverless_web_app.stack import SITE_CONTENT

    script = (SITE_CONTENT / "app.js").read_text()
    assert 'fetch("/config.json"' in script
    for key in ("signInUrl", "clientId", "apiUrl"):
        assert f"config.{key}" in script
    assert not re.search(r"[a-z]{2}-[a-z]+-\d_[A-Za-z0-9]{9}", script), "a user pool id"
    assert "amazoncognito.com" not in script and "execute-api" not in script
