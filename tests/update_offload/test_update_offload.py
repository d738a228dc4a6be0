"""The offload (UpdateOffload): origin, behaviours, cache keys, TTLs, edge security, per stage."""

from __future__ import annotations

import pytest

from blueprints.update_offload.stack import APP_STACK_ID, OFFLOAD_STACK_ID
from house.compliance import finding_name

OFFLOAD = OFFLOAD_STACK_ID

# AWS managed policies (ids fixed by CloudFront, documented in its developer guide).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def distribution_config(assembly) -> dict:
    found = [
        r
        for r in assembly.template(OFFLOAD)["Resources"].values()
        if r["Type"] == "AWS::CloudFront::Distribution"
    ]
    assert len(found) == 1
    return found[0]["Properties"]["DistributionConfig"]


def settings(assembly):
    """The update-offload settings the template was built with (cdk.json's values are checked
    in test_shipped_settings.py)."""
    return assembly.settings("update-offload")


def cache_policy(assembly, reference: dict) -> dict:
    return assembly.template(OFFLOAD)["Resources"][reference["Ref"]]["Properties"][
        "CachePolicyConfig"
    ]


def region(assembly) -> str:
    """The stage's region; a stage without one synthesizes region-agnostic (us-east-1 here)."""
    return assembly.stage_settings.region or "us-east-1"


def plain(assembly, value) -> str:
    """A synthesized string as it reads once deployed in the stage's region, imports named by
    their export (region-agnostic stages render partition, region and URL suffix as Refs)."""
    return (
        finding_name(value)
        .replace("<AWS::Partition>", "aws")
        .replace("<AWS::Region>", region(assembly))
        .replace("<AWS::URLSuffix>", "amazonaws.com")
        .replace("<AWS::AccountId>", "<account>")
    )


def server_origins(config: dict) -> list[dict]:
    """The origins that are the update server (or your origin): all but the failover origin.
    CDK renders the origin group's primary as an origin of its own, next to the default
    behaviour's; both are the same server, reached the same way."""
    (group,) = config["OriginGroups"]["Items"]
    primary, failover = (m["OriginId"] for m in group["Members"]["Items"])
    found = [o for o in config["Origins"] if o["Id"] != failover]
    assert {o["Id"] for o in found} == {primary, config["DefaultCacheBehavior"]["TargetOriginId"]}
    first, *others = found
    assert all(o | {"Id": None} == first | {"Id": None} for o in others)
    return found


def vpc_origin(assembly) -> dict:
    (found,) = [
        r
        for r in assembly.template(OFFLOAD)["Resources"].values()
        if r["Type"] == "AWS::CloudFront::VpcOrigin"
    ]
    return found["Properties"]["VpcOriginEndpointConfig"]


def test_origin_is_the_update_servers_internal_load_balancer_through_a_vpc_origin(assembly):
    """Nothing on the internet reaches the origin: CloudFront connects through a VPC origin to
    the load balancer whose ARN the app exports; the distribution's origin has no public
    (custom) origin config at all."""
    origins = server_origins(distribution_config(assembly))
    app = assembly.template(APP_STACK_ID)
    arn_export = app["Outputs"]["LoadBalancerArn"]
    assert vpc_origin(assembly)["Arn"] == {"Fn::ImportValue": arn_export["Export"]["Name"]}
    (alb,) = [
        lid
        for lid, r in app["Resources"].items()
        if r["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"
    ]
    assert arn_export["Value"] == {"Ref": alb}
    assert app["Resources"][alb]["Properties"]["Scheme"] == "internal"
    (vpc_origin_id,) = [
        lid
        for lid, r in assembly.template(OFFLOAD)["Resources"].items()
        if r["Type"] == "AWS::CloudFront::VpcOrigin"
    ]
    for origin in origins:
        assert origin["VpcOriginConfig"]["VpcOriginId"] == {"Fn::GetAtt": [vpc_origin_id, "Id"]}
        assert "CustomOriginConfig" not in origin and "S3OriginConfig" not in origin
    # Deploy order: the app (and its exports) before the offload.
    assert APP_STACK_ID in assembly.stacks[OFFLOAD]["dependencies"]


def test_the_origin_hop_is_https_with_a_domain_else_http_inside_the_vpc(assembly):
    """With domain_names CloudFront reaches the load balancer over HTTPS (TLS 1.2) as
    origin.<domain>, the name the load balancer's certificate carries; without (dev), over HTTP
    to the load balancer's own name, which no certificate can cover."""
    (origin, *_) = server_origins(distribution_config(assembly))
    config = vpc_origin(assembly)
    s = settings(assembly)
    assert config["OriginSSLProtocols"] == ["TLSv1.2"]
    if s.domain_names:
        assert config["OriginProtocolPolicy"] == "https-only"
        assert origin["DomainName"] == f"origin.{s.domain_names[0]}" == s.origin_name
        (certificate,) = [
            r["Properties"]
            for r in assembly.template(APP_STACK_ID)["Resources"].values()
            if r["Type"] == "AWS::CertificateManager::Certificate"
        ]
        assert certificate["DomainName"] == s.origin_name
        assert certificate["DomainValidationOptions"] == [
            {"DomainName": s.origin_name, "HostedZoneId": s.hosted_zone_id}
        ]
    else:
        assert config["OriginProtocolPolicy"] == "http-only"
        export = assembly.template(APP_STACK_ID)["Outputs"]["LoadBalancerDnsName"]
        assert origin["DomainName"] == {"Fn::ImportValue": export["Export"]["Name"]}


def test_viewers_get_tls_1_2_or_newer_on_the_domain_in_prod(assembly):
    """Prod serves only its own names with an ACM certificate, SNI and TLSv1.2_2021; a stage
    without a domain (dev) has CloudFront's default certificate (docs/compliance.md)."""
    config = distribution_config(assembly)
    s = settings(assembly)
    if assembly.stage_settings.name == "prod":
        assert s.domain_names and not s.allow_tls_below_1_2
    viewer = config.get("ViewerCertificate")
    if s.domain_names:
        assert config["Aliases"] == list(s.domain_names)
        assert viewer["MinimumProtocolVersion"] == "TLSv1.2_2021"
        assert viewer["SslSupportMethod"] == "sni-only"
        assert "AcmCertificateArn" in viewer and "CloudFrontDefaultCertificate" not in viewer
        records = {
            (r["Properties"]["Name"], r["Properties"]["Type"])
            for r in assembly.template(OFFLOAD)["Resources"].values()
            if r["Type"] == "AWS::Route53::RecordSet"
        }
        assert records == {(f"{n}.", t) for n in s.domain_names for t in ("A", "AAAA")}
    else:
        assert viewer is None or viewer == {"CloudFrontDefaultCertificate": True}


def test_behaviours_manifest_first_then_updates_default_uncached(assembly):
    config = distribution_config(assembly)
    behaviours = config["CacheBehaviors"]
    s = settings(assembly)
    assert [b["PathPattern"] for b in behaviours] == [
        *s.manifest_path_patterns,
        *s.update_path_patterns,
    ]
    manifests = len(s.manifest_path_patterns)
    for position, behaviour in enumerate(behaviours):
        policy = cache_policy(assembly, behaviour["CachePolicyId"])
        ttl = s.ttl("manifest" if position < manifests else "update")
        assert (policy["MinTTL"], policy["DefaultTTL"], policy["MaxTTL"]) == (
            ttl.minimum,
            ttl.default,
            ttl.maximum,
        )
    for behaviour in behaviours:
        assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
        assert "OriginRequestPolicyId" not in behaviour
    default = config["DefaultCacheBehavior"]
    assert default["CachePolicyId"] == CACHING_DISABLED
    assert default["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(default["AllowedMethods"]) == {
        "GET",
        "HEAD",
        "OPTIONS",
        "PUT",
        "PATCH",
        "POST",
        "DELETE",
    }


def test_update_and_manifest_paths_fail_over_to_the_update_mirror(assembly):
    """Issue 12 / CT.CLOUDFRONT.PR.4, and a real second origin: the cached behaviours target an
    origin group whose primary is the update server (the VPC origin) and whose second member is
    the UpdateServer's update mirror (imported by its export, never the releases bucket), read
    through an origin access control that signs every request; failover on the origin failing
    (5xx), not on its 403/404 answers."""
    config = distribution_config(assembly)
    groups = config["OriginGroups"]
    assert groups["Quantity"] == len(groups["Items"]) == 1
    (group,) = groups["Items"]
    assert group["Members"]["Quantity"] == 2
    primary, failover = (m["OriginId"] for m in group["Members"]["Items"])
    assert group["FailoverCriteria"]["StatusCodes"] == {
        "Items": [500, 502, 503, 504],
        "Quantity": 4,
    }
    for behaviour in config["CacheBehaviors"]:
        assert behaviour["TargetOriginId"] == group["Id"], behaviour["PathPattern"]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert "VpcOriginConfig" in origins[primary]
    mirror = origins[failover]
    app = assembly.template(APP_STACK_ID)
    export = app["Outputs"]["MirrorBucketName"]
    (mirror_bucket,) = [
        lid
        for lid, r in app["Resources"].items()
        if r["Metadata"]["aws:cdk:path"] == "UpdateServer/ReleasePublisher/Mirror/Resource"
    ]
    assert export["Value"] == {"Ref": mirror_bucket}
    assert plain(assembly, mirror["DomainName"]) == (
        f"{export['Export']['Name']}.s3.{region(assembly)}.amazonaws.com"
    )
    assert mirror["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    access_id = mirror["OriginAccessControlId"]["Fn::GetAtt"][0]
    access = assembly.template(OFFLOAD)["Resources"][access_id]["Properties"]
    assert access["OriginAccessControlConfig"] | {"Name": None, "Description": None} == {
        "Name": None,
        "Description": None,
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always",
        "SigningProtocol": "sigv4",
    }
    assert access["OriginAccessControlConfig"]["Name"].startswith(
        assembly.stack_name(OFFLOAD) + "-"
    )


def test_the_default_behaviour_stays_on_the_update_server_alone(assembly):
    """CloudFront accepts an origin group only where the allowed methods are GET/HEAD(/OPTIONS);
    the app's other requests (all methods) go to the update server only."""
    config = distribution_config(assembly)
    default = config["DefaultCacheBehavior"]
    groups = {g["Id"] for g in config["OriginGroups"]["Items"]}
    assert default["TargetOriginId"] not in groups
    (origin,) = [o for o in config["Origins"] if o["Id"] == default["TargetOriginId"]]
    assert "VpcOriginConfig" in origin


def test_cache_keys_have_no_cookies_headers_or_query_strings(assembly):
    for behaviour in distribution_config(assembly)["CacheBehaviors"]:
        key = cache_policy(assembly, behaviour["CachePolicyId"])[
            "ParametersInCacheKeyAndForwardedToOrigin"
        ]
        assert key["CookiesConfig"] == {"CookieBehavior": "none"}
        assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
        assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
        assert key["EnableAcceptEncodingGzip"] is True and key["EnableAcceptEncodingBrotli"] is True


def test_compression_https_http2_and_3_and_access_logs(assembly):
    config = distribution_config(assembly)
    for behaviour in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert behaviour["Compress"] is True
        assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["HttpVersion"] == "http2and3"
    bucket = config["Logging"]["Bucket"]["Fn::GetAtt"][0]
    assert assembly.template(OFFLOAD)["Resources"][bucket]["Type"] == "AWS::S3::Bucket"
    assert config["Logging"]["Prefix"] == "cloudfront/"


def test_waf_origin_shield_and_edges_follow_the_settings(assembly):
    config = distribution_config(assembly)
    (origin, *_) = server_origins(config)
    resources = assembly.template(OFFLOAD)["Resources"]
    acls = {lid: r for lid, r in resources.items() if r["Type"] == "AWS::WAFv2::WebACL"}
    s = settings(assembly)
    shield = s.shield_region(assembly.stage_settings)
    if shield is not None:
        assert origin["OriginShield"] == {"Enabled": True, "OriginShieldRegion": shield}
    else:
        assert origin["OriginShield"] == {"Enabled": False}
    assert config["PriceClass"] == s.price_class
    if s.waf and assembly.stage_settings.region == "us-east-1":
        (acl_id,) = acls
        assert acls[acl_id]["Properties"]["Scope"] == "CLOUDFRONT"
        assert config["WebACLId"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    elif not s.waf:  # (elsewhere the web ACL is in the us-east-1 companion: test_regions.py)
        assert acls == {} and "WebACLId" not in config


def test_outputs_give_the_url_clients_switch_to(assembly):
    outputs = assembly.template(OFFLOAD)["Outputs"]
    distribution = next(
        lid
        for lid, r in assembly.template(OFFLOAD)["Resources"].items()
        if r["Type"] == "AWS::CloudFront::Distribution"
    )
    cloudfront_name = {"Fn::GetAtt": [distribution, "DomainName"]}
    assert outputs["DistributionDomainName"]["Value"] == cloudfront_name
    s = settings(assembly)
    if s.domain_names:  # clients use the first name of yours
        assert outputs["UpdateBaseUrl"]["Value"] == f"https://{s.domain_names[0]}/"
        assert outputs["ManifestUrl"]["Value"] == (
            f"https://{s.domain_names[0]}/updates/latest.json"
        )
    else:
        domain = cloudfront_name
        assert outputs["UpdateBaseUrl"]["Value"] == {"Fn::Join": ["", ["https://", domain, "/"]]}
        assert outputs["ManifestUrl"]["Value"] == {
            "Fn::Join": ["", ["https://", domain, "/updates/latest.json"]]
        }
    assert outputs["InvalidateManifestCommand"]["Value"] == {
        "Fn::Join": [
            "",
            [
                "aws cloudfront create-invalidation --distribution-id ",
                {"Ref": distribution},
                " --paths /updates/latest.json",
            ],
        ]
    }


@pytest.mark.parametrize("stack_id", [APP_STACK_ID, OFFLOAD_STACK_ID])
def test_access_log_bucket_is_private_tls_only_and_expires(assembly, stack_id):
    buckets = [
        r
        for r in assembly.template(stack_id)["Resources"].values()
        if r["Type"] == "AWS::S3::Bucket"
        and r["Metadata"]["aws:cdk:path"] == f"{stack_id}/AccessLogs/Resource"
    ]
    assert len(buckets) == 1
    props = buckets[0]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 90


@pytest.mark.parametrize("stack_id", [APP_STACK_ID, OFFLOAD_STACK_ID])
def test_templates_do_not_depend_on_the_rest_of_the_app(assembly, stack_id):
    """No AWS::CDK::Metadata: its analytics list the cdk-nag packs of the whole app."""
    types = {r["Type"] for r in assembly.template(stack_id)["Resources"].values()}
    assert "AWS::CDK::Metadata" not in types


def test_cache_policy_names_carry_the_stack_name_so_dev_and_prod_differ(synth):
    """CloudFront keeps cache policy names unique per account; CDK's default comes from the
    stack id, which dev and prod share."""
    names = {}
    for stage in ("dev", "prod"):
        assembly = synth(stage)
        policies = [
            r
            for r in assembly.template(OFFLOAD)["Resources"].values()
            if r["Type"] == "AWS::CloudFront::CachePolicy"
        ]
        names[stage] = sorted(p["Properties"]["CachePolicyConfig"]["Name"] for p in policies)
        assert all(
            name.startswith(assembly.stack_name(OFFLOAD) + "-") and len(name) <= 128
            for name in names[stage]
        )
    assert names["dev"] == [
        "UpdateOffload-dev-UpdateDistribution-Manifests",
        "UpdateOffload-dev-UpdateDistribution-UpdateFiles",
    ]
    assert names["prod"] == [n.replace("-dev-", "-prod-") for n in names["dev"]]
