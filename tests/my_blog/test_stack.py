"""Fine-grained assertions on the synthesized MyBlog stack, dev and prod: each one fails if the
security, durability or cost property it names is removed. What a setting decides is read from
the settings the stage was built with (cdk.json's values are checked in
test_shipped_settings.py), so a fork that changes them keeps these tests."""

from __future__ import annotations

import json

import pytest

from house.bundling import LAMBDA_SRC
from patterns.web.static_site import DEFAULT_CSP
from tests.my_blog.conftest import SENDER
from tests.support.iam_statements import all_statements, as_list, statements_of
from tests.support.origin_key import assert_cloudfront_origins_encrypted, roles_using_origin_key
from tests.support.photos import assert_thumbnails_start_from_eventbridge
from tests.support.site_failover import assert_site_failover
from tests.support.snapshots import assert_blueprint_matches_snapshots
from tests.support.template import only, resources

STACK = "MyBlog"
INSTANCE = "my-blog"


def by_path(t: dict, suffix: str) -> tuple[str, dict]:
    found = [
        (k, r)
        for k, r in t["Resources"].items()
        if r.get("Metadata", {}).get("aws:cdk:path", "").endswith(suffix)
    ]
    assert len(found) == 1, f"{len(found)} resources at */{suffix}"
    return found[0]


@pytest.fixture
def t(assembly) -> dict:
    return assembly.template(STACK)


@pytest.fixture
def settings(assembly):
    """The settings this stage's template was built with."""
    return assembly.settings(INSTANCE)


@pytest.fixture
def sender_t(sender_assembly) -> dict:
    """The stage's template with `sender_email` set (the welcome email on)."""
    return sender_assembly.template(STACK)


def distribution(t: dict) -> dict:
    return only(t, "AWS::CloudFront::Distribution")[1]["Properties"]["DistributionConfig"]


def behaviour(t: dict, pattern: str) -> dict:
    (found,) = [b for b in distribution(t)["CacheBehaviors"] if b["PathPattern"] == pattern]
    return found


def origin(t: dict, origin_id: str) -> dict:
    (found,) = [o for o in distribution(t)["Origins"] if o["Id"] == origin_id]
    return found


# -- static site ---------------------------------------------------------------------------------


def test_s3_origins_use_origin_access_control_not_an_identity(t, settings):
    assert not resources(t, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
    oac_id, oac = only(t, "AWS::CloudFront::OriginAccessControl")
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert config["OriginAccessControlOriginType"] == "s3"
    assert config["SigningBehavior"] == "always" and config["SigningProtocol"] == "sigv4"
    s3_origins = [o for o in distribution(t)["Origins"] if "S3OriginConfig" in o]
    # The site bucket, its failover replica (with failover_region) and the media bucket.
    assert len(s3_origins) == (3 if settings.failover_region else 2)
    for o in s3_origins:
        assert o["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
        assert o["S3OriginConfig"]["OriginAccessIdentity"] == ""


def test_the_site_fails_over_to_its_replica_with_a_failover_region(assembly, settings):
    """Prod (failover_region): the site bucket's replica in MyBlogFailover serves the site when
    the bucket fails; dev (none): one origin, no companion."""
    assert_site_failover(
        assembly,
        STACK,
        failover_region=settings.failover_region,
        keep_data=assembly.stage_settings.keep_data,
    )


def test_media_paths_do_not_fail_over(t):
    """The thumbnails are linked only from posts that the API reads in this region: their
    behaviour reads the media bucket alone (docs/my-blog.md)."""
    config = distribution(t)
    groups = {g["Id"] for g in config.get("OriginGroups", {}).get("Items", [])}
    (media,) = [b for b in config["CacheBehaviors"] if b["PathPattern"].startswith("/thumb")]
    assert media["TargetOriginId"] not in groups
    assert "Media" in json.dumps(origin(t, media["TargetOriginId"])["DomainName"])


def flat(value) -> str:
    """A Join/Ref/GetAtt as one string: `arn:aws:...:${AWS::AccountId}:...${Logical.Attr}`.
    The partition is written out, whether CDK emitted it as a literal or as a Ref."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(flat(p) for p in parts)
    if "Ref" in value:
        return "aws" if value["Ref"] == "AWS::Partition" else "${" + value["Ref"] + "}"
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    raise AssertionError(f"unexpected intrinsic {value}")


def assert_only_this_distribution(t: dict, condition: dict) -> None:
    dist_id, _ = only(t, "AWS::CloudFront::Distribution")
    assert list(condition) == ["StringEquals"]
    assert list(condition["StringEquals"]) == ["AWS:SourceArn"]
    assert (
        flat(condition["StringEquals"]["AWS:SourceArn"])
        == f"arn:aws:cloudfront::${{AWS::AccountId}}:distribution/${{{dist_id}}}"
    )


def bucket_policy(t: dict, bucket_id: str) -> list[dict]:
    (policy,) = [
        p
        for p in resources(t, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_site_bucket_is_private_and_readable_only_by_this_distribution(t):
    site_id, site = by_path(t, "Site/Bucket/Resource")
    props = site["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    # Encryption: test_prod_encrypts_what_cloudfront_reads_with_the_stacks_key.
    assert "WebsiteConfiguration" not in props
    statements = bucket_policy(t, site_id)
    tls_only = {"Bool": {"aws:SecureTransport": "false"}}
    assert any(s["Effect"] == "Deny" and s["Condition"] == tls_only for s in statements)
    cloudfront = [
        s for s in statements if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert len(cloudfront) == 1
    assert cloudfront[0]["Action"] == "s3:GetObject"
    assert_only_this_distribution(t, cloudfront[0]["Condition"])
    for s in statements:  # nobody else is allowed anything, except CDK's auto-delete role in dev
        if s["Effect"] == "Allow" and s is not cloudfront[0]:
            assert "AWS" in s["Principal"] and "AutoDeleteObjects" in json.dumps(s["Principal"])


def test_media_bucket_serves_only_the_thumbnail_prefix_to_this_distribution(t, settings):
    media_id, media = by_path(t, "MyBlog/Media/Resource")
    assert media["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    cloudfront = [
        s
        for s in bucket_policy(t, media_id)
        if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert len(cloudfront) == 1
    assert cloudfront[0]["Action"] == "s3:GetObject"
    assert cloudfront[0]["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [media_id, "Arn"]}, f"/{settings.thumbnail_prefix}*"]]
    }
    assert_only_this_distribution(t, cloudfront[0]["Condition"])
    thumbnails = behaviour(t, f"/{settings.thumbnail_prefix}*")
    assert origin(t, thumbnails["TargetOriginId"])["DomainName"] == {
        "Fn::GetAtt": [media_id, "RegionalDomainName"]
    }


def test_security_headers_policy_on_every_behaviour(t):
    policy_id, policy = only(t, "AWS::CloudFront::ResponseHeadersPolicy")
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert config["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 365 * 24 * 3600
    assert config["StrictTransportSecurity"]["IncludeSubdomains"] is True
    assert config["ContentSecurityPolicy"]["ContentSecurityPolicy"] == DEFAULT_CSP
    assert "frame-ancestors 'none'" in DEFAULT_CSP and "'unsafe-inline'" not in DEFAULT_CSP
    assert config["ContentTypeOptions"]["Override"] is True
    assert config["FrameOptions"]["FrameOption"] == "DENY"
    assert config["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    every = [distribution(t)["DefaultCacheBehavior"], *distribution(t)["CacheBehaviors"]]
    assert len(every) == 3
    for b in every:
        assert b["ResponseHeadersPolicyId"] == {"Ref": policy_id}
        assert b["ViewerProtocolPolicy"] == "redirect-to-https"
        assert b["Compress"] is True


def test_spa_routing_function_and_error_handling(t):
    config = distribution(t)
    assert config["DefaultRootObject"] == "index.html"
    function_id, function = only(t, "AWS::CloudFront::Function")
    assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert config["DefaultCacheBehavior"]["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": [function_id, "FunctionARN"]}}
    ]
    for b in config["CacheBehaviors"]:  # the API and the thumbnails are never rewritten
        assert "FunctionAssociations" not in b
    # Only S3's 403 (missing object, no ListBucket) becomes the 404 page; nothing becomes a 200,
    # so an API 404 stays the API's JSON.
    assert config["CustomErrorResponses"] == [
        {
            "ErrorCode": 403,
            "ResponseCode": 404,
            "ResponsePagePath": "/404.html",
            "ErrorCachingMinTTL": 60,
        }
    ]


def test_one_access_log_bucket_receives_every_log(t):
    buckets = resources(t, "AWS::S3::Bucket")
    assert len(buckets) == 3
    log_ids = [k for k, b in buckets.items() if "LoggingConfiguration" not in b["Properties"]]
    assert len(log_ids) == 1, "exactly one bucket (the log bucket) does not log elsewhere"
    (log_id,) = log_ids
    for k, b in buckets.items():
        if k != log_id:
            logging = b["Properties"]["LoggingConfiguration"]
            assert logging["DestinationBucketName"] == {"Ref": log_id}
    assert distribution(t)["Logging"]["Bucket"] == {"Fn::GetAtt": [log_id, "RegionalDomainName"]}
    rules = buckets[log_id]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert any(r.get("ExpirationInDays") == 90 for r in rules)


def test_site_content_is_deployed_and_the_cache_invalidated(t):
    (deployment,) = resources(t, "Custom::CDKBucketDeployment").values()
    site_id, _ = by_path(t, "Site/Bucket/Resource")
    dist_id, _ = only(t, "AWS::CloudFront::Distribution")
    assert deployment["Properties"]["DestinationBucketName"] == {"Ref": site_id}
    assert deployment["Properties"]["DistributionId"] == {"Ref": dist_id}
    assert deployment["Properties"]["DistributionPaths"] == ["/*"]


def test_waf_and_price_class_follow_the_settings(assembly, t, settings):
    acls = resources(t, "AWS::WAFv2::WebACL")
    assert distribution(t)["PriceClass"] == settings.price_class
    if not settings.waf:
        assert not acls and "WebACLId" not in distribution(t)
    elif assembly.stage_settings.region == "us-east-1":  # else in MyBlogEdge: test_regions.py
        ((acl_id, acl),) = acls.items()
        assert acl["Properties"]["Scope"] == "CLOUDFRONT"
        assert distribution(t)["WebACLId"] == {"Fn::GetAtt": [acl_id, "Arn"]}
        rate = next(r for r in acl["Properties"]["Rules"] if r["Name"] == "RateLimitPerIp")
        assert rate["Statement"]["RateBasedStatement"]["Limit"] == settings.waf_rate_limit


# -- API behind the same distribution -------------------------------------------------------------


def test_api_behaviour_caches_gets_with_a_narrow_key_and_never_caches_writes(t, settings):
    api = behaviour(t, "/api/*")
    assert api["AllowedMethods"] == ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
    assert api["CachedMethods"] == ["GET", "HEAD"]
    rest_id, _ = only(t, "AWS::ApiGateway::RestApi")
    api_origin = origin(t, api["TargetOriginId"])
    assert rest_id in json.dumps(api_origin["DomainName"])
    assert api_origin["CustomOriginConfig"] == {
        "OriginProtocolPolicy": "https-only",
        "OriginSSLProtocols": ["TLSv1.2"],
    }

    cache_id, cache = only(t, "AWS::CloudFront::CachePolicy")
    assert api["CachePolicyId"] == {"Ref": cache_id}
    config = cache["Properties"]["CachePolicyConfig"]
    assert (config["MinTTL"], config["DefaultTTL"], config["MaxTTL"]) == (
        0,
        settings.api_cache_ttl_seconds,
        settings.api_cache_max_ttl_seconds,
    )
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"] == {
        "QueryStringBehavior": "whitelist",
        "QueryStrings": ["limit", "cursor"],
    }
    assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": ["Authorization"]}
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["EnableAcceptEncodingGzip"] and key["EnableAcceptEncodingBrotli"]

    request_id, request = only(t, "AWS::CloudFront::OriginRequestPolicy")
    assert api["OriginRequestPolicyId"] == {"Ref": request_id}
    forwarded = request["Properties"]["OriginRequestPolicyConfig"]
    assert forwarded["HeadersConfig"] == {
        "HeaderBehavior": "whitelist",
        "Headers": ["Content-Type"],
    }
    assert forwarded["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
    assert forwarded["CookiesConfig"] == {"CookieBehavior": "none"}


def _routes(t: dict) -> dict[tuple[str, str], dict]:
    parts = {k: r["Properties"] for k, r in resources(t, "AWS::ApiGateway::Resource").items()}

    def path(ref: dict) -> str:
        if "Ref" in ref and ref["Ref"] in parts:
            return path(parts[ref["Ref"]]["ParentId"]) + "/" + parts[ref["Ref"]]["PathPart"]
        return ""

    return {
        (m["Properties"]["HttpMethod"], path(m["Properties"]["ResourceId"])): m["Properties"]
        for m in resources(t, "AWS::ApiGateway::Method").values()
    }


SUBSCRIPTION_ROUTES = {
    ("POST", "/api/subscribers"),
    ("POST", "/api/subscribers/confirm"),
    ("POST", "/api/subscribers/unsubscribe"),
}


@pytest.mark.parametrize("sender", [False, True], ids=["no-sender", "sender"])
def test_api_routes_writes_need_an_author_and_everything_is_validated(t, sender_t, sender):
    t = sender_t if sender else t
    routes = _routes(t)
    assert set(routes) == {
        ("GET", "/api/posts"),
        ("POST", "/api/posts"),
        ("GET", "/api/posts/{slug}"),
        ("POST", "/api/uploads"),
        *(SUBSCRIPTION_ROUTES if sender else ()),
    }
    authorizer_id, authorizer = only(t, "AWS::ApiGateway::Authorizer")
    pool_id, _ = only(t, "AWS::Cognito::UserPool")
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["Properties"]["ProviderARNs"] == [{"Fn::GetAtt": [pool_id, "Arn"]}]
    validator_id, validator = only(t, "AWS::ApiGateway::RequestValidator")
    assert validator["Properties"]["ValidateRequestBody"] is True
    for (verb, path), method in routes.items():
        if (verb, path) in {("POST", "/api/posts"), ("POST", "/api/uploads")}:
            assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
            assert method["AuthorizerId"] == {"Ref": authorizer_id}
        else:
            assert method["AuthorizationType"] == "NONE"
        assert method["RequestValidatorId"] == {"Ref": validator_id}
        assert method["Integration"]["Type"] == "AWS_PROXY"
    models = {
        r["Properties"]["Name"]: json.loads(json.dumps(r["Properties"]["Schema"]))
        for r in resources(t, "AWS::ApiGateway::Model").values()
    }
    assert models["NewPost"]["additionalProperties"] is False
    upload = models["UploadRequest"]["properties"]["contentType"]
    assert upload["enum"] == ["image/jpeg", "image/png"]


def test_subscription_routes_go_to_their_own_function_with_the_one_address_rule(sender_t):
    """The gateway checks each body against the subscriptions function's own schemas.json, the
    address with handler_kit's one rule (house/api_models.py); the viewer's address is forwarded
    for the per-source limit, nothing else is added."""
    t = sender_t
    routes = _routes(t)
    fn_id, _ = by_path(t, "Subscriptions/Handler/Resource")
    for route in SUBSCRIPTION_ROUTES:
        uri = json.dumps(routes[route]["Integration"]["Uri"])
        assert fn_id in uri, route
    models = {
        r["Properties"]["Name"]: r["Properties"]["Schema"]
        for r in resources(t, "AWS::ApiGateway::Model").values()
    }
    schemas = json.loads((LAMBDA_SRC / "subscriptions" / "schemas.json").read_text())
    rule = json.loads((LAMBDA_SRC / "layers/handler_kit/handler_kit/definitions.json").read_text())[
        "EmailAddress"
    ]
    assert models["Subscription"]["properties"]["email"]["pattern"] == rule["pattern"]
    assert models["Subscription"]["properties"]["email"]["maxLength"] == rule["maxLength"]
    for name in ("Subscription", "Confirmation", "Unsubscription"):
        assert models[name]["required"] == schemas[name]["required"]
        assert models[name]["additionalProperties"] is False
    (_, request) = only(t, "AWS::CloudFront::OriginRequestPolicy")
    headers = request["Properties"]["OriginRequestPolicyConfig"]["HeadersConfig"]["Headers"]
    assert headers == ["Content-Type", "CloudFront-Viewer-Address"]


@pytest.mark.parametrize("sender", [False, True], ids=["no-sender", "sender"])
def test_the_origin_lock_where_the_setting_asks(t, sender_t, settings, sender):
    """lock_origin: CloudFront adds the current secret's value in X-Origin-Verify, every function
    behind the API gets the accepted values, and the distribution waits for those functions
    (a rotation: checkers first). Never the value itself in the template: a dynamic reference."""
    t = sender_t if sender else t
    api = behaviour(t, "/api/*")
    api_origin = origin(t, api["TargetOriginId"])
    paths = ["Api/Handler/Resource", *(["Subscriptions/Handler/Resource"] if sender else [])]
    functions = dict(by_path(t, p) for p in paths)
    secrets = resources(t, "AWS::SecretsManager::Secret")
    if not settings.lock_origin:
        assert not secrets and "OriginCustomHeaders" not in api_origin
        for fn in functions.values():
            assert "ORIGIN_VERIFY_VALUES" not in fn["Properties"]["Environment"]["Variables"]
        return
    ((secret_id, secret),) = secrets.items()  # generation 1: no previous value yet
    assert "Generation1" in secret["Metadata"]["aws:cdk:path"]
    generated = secret["Properties"]["GenerateSecretString"]
    assert (generated["PasswordLength"], generated["ExcludePunctuation"]) == (32, True)
    reference = {
        "Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": secret_id}, ":SecretString:::}}"]]
    }
    assert api_origin["OriginCustomHeaders"] == [
        {"HeaderName": "X-Origin-Verify", "HeaderValue": reference}
    ]
    for fn in functions.values():
        variables = fn["Properties"]["Environment"]["Variables"]
        assert variables["ORIGIN_VERIFY_HEADER"] == "X-Origin-Verify"
        assert variables["ORIGIN_VERIFY_VALUES"] == reference
    dist_id, dist = only(t, "AWS::CloudFront::Distribution")
    assert set(functions) <= set(dist["DependsOn"])
    assert "ApiDirectUrl" in t["Outputs"]


def test_api_is_regional_throttled_traced_and_access_logged_as_json(t, settings):
    _, api = only(t, "AWS::ApiGateway::RestApi")
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    _, stage = only(t, "AWS::ApiGateway::Stage")
    props = stage["Properties"]
    assert props["StageName"] == "v1" and props["TracingEnabled"] is True
    (method,) = props["MethodSettings"]
    assert (method["ThrottlingRateLimit"], method["ThrottlingBurstLimit"]) == (
        settings.api_throttle_rate,
        settings.api_throttle_burst,
    )
    assert json.loads(props["AccessLogSetting"]["Format"])["status"] == "$context.status"
    unknown = [
        r
        for r in resources(t, "AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == "MISSING_AUTHENTICATION_TOKEN"
    ]
    assert unknown[0]["Properties"]["StatusCode"] == "404"  # never a 403 (the 404 page)


def test_authors_pool_is_invite_only_with_mfa(assembly, t):
    _, pool = only(t, "AWS::Cognito::UserPool")
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert props["MfaConfiguration"] == "ON"
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert props["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert props["UserPoolTier"] == "PLUS"
    keep = assembly.stage_settings.keep_data
    assert props["DeletionProtection"] == ("ACTIVE" if keep else "INACTIVE")


# -- data ----------------------------------------------------------------------------------------


def test_table_has_a_stream_pitr_and_the_stage_durability(assembly, t, settings):
    table_id, table = only(t, "AWS::DynamoDB::GlobalTable")
    props = table["Properties"]
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["pk", "sk"]
    # The stack's own region is a replica too ({"Ref": "AWS::Region"} in an agnostic dev synth).
    replicas = {
        r["Region"] if isinstance(r["Region"], str) else json.dumps(r["Region"]): r
        for r in props["Replicas"]
    }
    for replica in replicas.values():
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    home = assembly.stage_settings.region or json.dumps({"Ref": "AWS::Region"})
    assert set(replicas) == {home, *settings.replica_regions}
    if assembly.stage_settings.keep_data:
        assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
        assert all(r["DeletionProtectionEnabled"] is True for r in replicas.values())
    else:
        assert table["DeletionPolicy"] == "Delete"
        assert not any(r.get("DeletionProtectionEnabled") for r in replicas.values())


def test_dax_and_its_vpc_only_with_the_setting(t, settings):
    api_fn_id, api_fn = by_path(t, "Api/Handler/Resource")
    env = api_fn["Properties"]["Environment"]["Variables"]
    layers = api_fn["Properties"]["Layers"]
    (layer_id,) = [
        k
        for k, r in resources(t, "AWS::Lambda::LayerVersion").items()
        if r["Metadata"]["aws:cdk:path"].endswith("DynamoDbClient/Resource")
    ]
    kit_id, _ = by_path(t, "HandlerKit/Resource")
    # CDK orders layers by logical id; both bundle the same boto3/botocore, so order is moot.
    assert sorted(layer["Ref"] for layer in layers) == sorted([kit_id, layer_id])
    if not settings.dax:
        for kind in ("AWS::DAX::Cluster", "AWS::EC2::VPC", "AWS::EC2::NatGateway"):
            assert not resources(t, kind), kind
        assert "DAX_ENDPOINT" not in env and "VpcConfig" not in api_fn["Properties"]
        return
    cluster_id, cluster = only(t, "AWS::DAX::Cluster")
    props = cluster["Properties"]
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["ClusterEndpointEncryptionType"] == "TLS"
    assert props["ReplicationFactor"] == settings.dax_nodes
    assert props["NodeType"] == settings.dax_node_type
    assert env["DAX_ENDPOINT"] == {"Fn::GetAtt": [cluster_id, "ClusterDiscoveryEndpointURL"]}
    assert not resources(t, "AWS::EC2::NatGateway")
    assert not resources(t, "AWS::EC2::InternetGateway")
    (endpoint,) = resources(t, "AWS::EC2::VPCEndpoint").values()
    assert endpoint["Properties"]["VpcEndpointType"] == "Gateway"
    assert ".dynamodb" in json.dumps(endpoint["Properties"]["ServiceName"])
    vpc_config = api_fn["Properties"]["VpcConfig"]
    isolated = [k for k, r in resources(t, "AWS::EC2::Subnet").items() if "isolated" in k]
    assert sorted(s["Ref"] for s in vpc_config["SubnetIds"]) == sorted(isolated)
    (api_sg,) = vpc_config["SecurityGroupIds"]
    dax_sg = props["SecurityGroupIds"][0]
    # The API function: out on 443 (only VPC endpoints are routable) and to DAX on 9111.
    api_group = t["Resources"][api_sg["Fn::GetAtt"][0]]["Properties"]
    assert [
        (e["CidrIp"], e["FromPort"], e["ToPort"]) for e in api_group["SecurityGroupEgress"]
    ] == [("0.0.0.0/0", 443, 443)]
    egress = [r["Properties"] for r in resources(t, "AWS::EC2::SecurityGroupEgress").values()]
    assert [(e["GroupId"], e["FromPort"], e["DestinationSecurityGroupId"]) for e in egress] == [
        (api_sg, 9111, dax_sg)
    ]
    # DAX: in on 9111 from the API function only; no group is open to the world inbound.
    ingress = [r["Properties"] for r in resources(t, "AWS::EC2::SecurityGroupIngress").values()]
    assert [(i["GroupId"], i["FromPort"], i["SourceSecurityGroupId"]) for i in ingress] == [
        (dax_sg, 9111, api_sg)
    ]
    for sg in resources(t, "AWS::EC2::SecurityGroup").values():
        assert not sg["Properties"].get("SecurityGroupIngress")
    dax_actions = [
        s
        for s in statements_of(t, api_fn["Properties"]["Role"]["Fn::GetAtt"][0])
        if any(a.startswith("dax:") for a in as_list(s["Action"]))
    ]
    assert [s["Resource"] for s in dax_actions] == [{"Fn::GetAtt": [cluster_id, "Arn"]}]


# -- welcome email --------------------------------------------------------------------------------


def test_no_welcome_email_until_a_sender_is_set(t, settings):
    """Without sender_email: no SES identity, no welcome function, nothing may send."""
    if settings.sender_email is not None:
        pytest.skip("this stage sets sender_email: the sender_t tests cover it")
    assert not resources(t, "AWS::SES::EmailIdentity")
    assert not resources(t, "AWS::Lambda::EventSourceMapping")
    assert not [
        k
        for k, r in resources(t, "AWS::Lambda::Function").items()
        if "WelcomeEmail" in r["Metadata"]["aws:cdk:path"]
    ]
    for _, statement in all_statements(t):
        assert not any(a.startswith("ses:") for a in as_list(statement["Action"]))
    how = t["Outputs"]["WelcomeEmail"]["Value"]
    assert how.startswith("off:") and "sender_email" in how and "-c my-blog.sender_email=" in how
    assert "SesIdentityToVerify" not in t["Outputs"]
    assert "WelcomeFailuresQueueUrl" not in t["Outputs"]


def test_stream_mapping_reports_failures_bisects_retries_boundedly_and_parks(
    sender_assembly, sender_t
):
    t = sender_t
    _, mapping = only(t, "AWS::Lambda::EventSourceMapping")
    props = mapping["Properties"]
    table_id, _ = by_path(t, "Subscriptions/Table/Resource")
    assert props["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert (
        props["MaximumRetryAttempts"] == sender_assembly.settings(INSTANCE).welcome_retry_attempts
    )
    assert props["MaximumRecordAgeInSeconds"] == 6 * 3600
    failures_id, failures = by_path(t, "WelcomeEmail/FailedRecords/Resource")
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [failures_id, "Arn"]
    }
    assert failures["Properties"]["SqsManagedSseEnabled"] is True
    assert failures["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    # A request not mailed yet, and a confirmation not welcomed yet: nothing else wakes it.
    patterns = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    subscriber = {"pk": {"S": [{"prefix": "SUBSCRIBER#"}]}}
    assert patterns == [
        {
            "eventName": ["INSERT", "MODIFY"],
            "dynamodb": {
                "NewImage": {
                    **subscriber,
                    "status": {"S": ["pending"]},
                    "confirmationFor": [{"exists": False}],
                }
            },
        },
        {
            "eventName": ["MODIFY"],
            "dynamodb": {
                "NewImage": {
                    **subscriber,
                    "status": {"S": ["confirmed"]},
                    "welcomedAt": [{"exists": False}],
                }
            },
        },
    ]
    fn_id, _ = by_path(t, "WelcomeEmail/Function/Resource")
    assert props["FunctionName"] == {"Ref": fn_id}
    # Lambda checks the role may read the stream when it creates the mapping: ListStreams has no
    # resource-level permissions, so it must be on "*" (CDK's TableV2 grant names the stream).
    role_id, _ = by_path(t, "WelcomeEmail/FunctionRole/Resource")
    reads: dict[str, list] = {}
    for statement in statements_of(t, role_id):
        for action in as_list(statement["Action"]):
            if action.startswith("dynamodb:"):
                reads.setdefault(action, []).extend(as_list(statement["Resource"]))
    assert "*" in reads["dynamodb:ListStreams"]
    stream = {"Fn::GetAtt": [table_id, "StreamArn"]}
    for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"):
        assert reads[action] == [stream], action


def test_only_the_welcome_function_may_send_and_only_as_the_verified_sender(sender_t):
    t = sender_t
    identity_id, identity = only(t, "AWS::SES::EmailIdentity")
    assert identity["Properties"]["EmailIdentity"] == SENDER
    senders = []
    for role_id in resources(t, "AWS::IAM::Role"):
        for s in statements_of(t, role_id):
            if any(a.startswith("ses:") for a in as_list(s["Action"])):
                senders.append((role_id, s))
    ((role_id, statement),) = senders
    assert by_path(t, "WelcomeEmail/FunctionRole/Resource")[0] == role_id
    assert statement["Action"] == "ses:SendEmail"
    joined = statement["Resource"]["Fn::Join"][1]
    assert joined[-1] == {"Ref": identity_id}  # the sender identity's ARN, nothing wider
    assert joined[-2].endswith(":identity/") and joined[0].startswith("arn:")
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": SENDER}}
    welcome = by_path(t, "WelcomeEmail/Function/Resource")[1]
    assert welcome["Properties"]["Environment"]["Variables"]["SENDER"] == SENDER
    assert {"SesIdentityToVerify", "WelcomeFailuresQueueUrl"} <= set(t["Outputs"])
    assert "WelcomeEmail" not in t["Outputs"]


def test_subscribers_have_their_own_table_under_a_customer_key_where_data_is_kept(
    sender_assembly, sender_t
):
    """Personal data: its own table, PITR, a TTL for what nobody confirmed; where data is kept
    (prod) a customer-managed key with yearly rotation, dev DynamoDB's own key (no key-month)."""
    t = sender_t
    keep = sender_assembly.stage_settings.keep_data
    table_id, table = by_path(t, "Subscriptions/Table/Resource")
    props = table["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    (replica,) = props["Replicas"]  # no cache, no replicas: nothing needs them
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == ("Retain" if keep else "Delete")
    keys = {
        k: r
        for k, r in resources(t, "AWS::KMS::Key").items()
        if "/Subscriptions/" in r["Metadata"]["aws:cdk:path"]
    }
    if not keep:
        assert "KMSMasterKeyId" not in json.dumps(props)
        assert props["SSESpecification"] == {"SSEEnabled": False}
        assert [k["Properties"].get("KeySpec") for k in keys.values()] == ["HMAC_256"]
        return
    key_id, key = by_path(t, "Subscriptions/TableKey/Resource")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert replica["SSESpecification"] == {"KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    # The posts table stays on DynamoDB's key: DAX cannot cache a table under a customer key.
    others = [
        r
        for r in resources(t, "AWS::DynamoDB::GlobalTable").values()
        if "/Subscriptions/" not in r["Metadata"]["aws:cdk:path"]
    ]
    assert len(others) == 1
    assert "KMS" not in json.dumps(others[0]["Properties"].get("SSESpecification", {}))


def _grants(t: dict, function_suffix: str) -> dict[str, list]:
    """action -> (resource, condition) of every statement of the function's role giving it."""
    role_id = by_path(t, function_suffix)[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    found: dict[str, list] = {}
    for s in statements_of(t, role_id):
        for action in as_list(s["Action"]):
            found.setdefault(action, []).append((s["Resource"], s.get("Condition")))
    return found


def test_subscription_grants_are_exactly_what_each_function_calls(sender_assembly, sender_t):
    """The public API function counts, adds, confirms and forgets (no read), and only checks
    links; the mailer only signs links and marks what it sent; the blog API never touches the
    subscribers table or its keys."""
    t = sender_t
    table_id, _ = by_path(t, "Subscriptions/Table/Resource")
    link_id, link_key = by_path(t, "Subscriptions/LinkKey/Resource")
    assert (link_key["Properties"]["KeySpec"], link_key["Properties"]["KeyUsage"]) == (
        "HMAC_256",
        "GENERATE_VERIFY_MAC",
    )
    table_arn = {"Fn::GetAtt": [table_id, "Arn"]}
    link_arn = {"Fn::GetAtt": [link_id, "Arn"]}
    public = _grants(t, "Subscriptions/Handler/Resource")
    data = {a: v for a, v in public.items() if a.split(":")[0] in {"dynamodb", "kms"}}
    expected = {
        "dynamodb:PutItem": [(table_arn, None)],
        "dynamodb:UpdateItem": [(table_arn, None)],
        "dynamodb:DeleteItem": [(table_arn, None)],
        "kms:VerifyMac": [(link_arn, None)],
    }
    if sender_assembly.stage_settings.keep_data:
        key_id, _ = by_path(t, "Subscriptions/TableKey/Resource")
        region = sender_assembly.stage_settings.region or "${AWS::Region}"
        ((resource, condition),) = data.pop("kms:Decrypt")  # through DynamoDB only
        assert resource == {"Fn::GetAtt": [key_id, "Arn"]}
        assert flat(condition["StringEquals"]["kms:ViaService"]) == (
            f"dynamodb.{region}.amazonaws.com"
        )
    assert data == expected
    mailer = _grants(t, "WelcomeEmail/Function/Resource")
    assert mailer["kms:GenerateMac"] == [(link_arn, None)] and "kms:VerifyMac" not in mailer
    assert mailer["dynamodb:UpdateItem"] == [(table_arn, None)]
    assert not set(mailer) & {"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:GetItem"}
    api_role = by_path(t, "Api/Handler/Resource")[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    mentioned = json.dumps(statements_of(t, api_role))
    assert table_id not in mentioned and link_id not in mentioned


# -- thumbnails -----------------------------------------------------------------------------------


def test_uploads_start_thumbnails_from_eventbridge_filtered_to_images_under_the_prefix(t, settings):
    media_id, _ = by_path(t, "MyBlog/Media/Resource")
    assert_thumbnails_start_from_eventbridge(
        t,
        bucket_id=media_id,
        scope="Thumbnails",
        upload_prefix=settings.upload_prefix,
        thumbnail_prefix=settings.thumbnail_prefix,
    )


def test_thumbnail_function_size_dead_letters_and_least_privilege(t, settings):
    fn_id, fn = by_path(t, "Thumbnails/Function/Resource")
    props = fn["Properties"]
    assert props["MemorySize"] == settings.thumbnail_memory_mb
    assert props["Architectures"] == ["arm64"] and props["Runtime"] == "python3.14"
    rejected_id, _ = by_path(t, "Thumbnails/Rejected/Resource")
    assert props["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [rejected_id, "Arn"]}}
    assert props["Environment"]["Variables"]["REJECTED_QUEUE_URL"] == {"Ref": rejected_id}
    media_id, _ = by_path(t, "MyBlog/Media/Resource")
    s3_statements = {
        tuple(as_list(s["Action"])): s["Resource"]
        for s in statements_of(t, props["Role"]["Fn::GetAtt"][0])
        if any(a.startswith("s3:") for a in as_list(s["Action"]))
    }
    arn = {"Fn::GetAtt": [media_id, "Arn"]}
    assert s3_statements == {
        ("s3:GetObject", "s3:GetObjectVersion"): {
            "Fn::Join": ["", [arn, f"/{settings.upload_prefix}*"]]
        },
        ("s3:PutObject",): {"Fn::Join": ["", [arn, f"/{settings.thumbnail_prefix}*"]]},
    }


def test_thumbnail_ready_topic_is_encrypted_with_an_sqs_subscriber(t):
    # The stack's other topic is the house operations topic (tests/house/test_operations.py).
    topic_id, topic = by_path(t, "/Thumbnails/Ready/Resource")
    assert flat(topic["Properties"]["KmsMasterKeyId"]).endswith(":alias/aws/sns")
    (subscription,) = [
        s
        for s in resources(t, "AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] == {"Ref": topic_id}
    ]
    assert subscription["Properties"]["Protocol"] == "sqs"
    assert "RedrivePolicy" in subscription["Properties"]


# -- everything -----------------------------------------------------------------------------------


@pytest.mark.parametrize("welcome", [False, True], ids=["no-sender", "sender"])
def test_every_function_is_arm64_python_314_with_stage_log_retention(
    assembly, t, sender_t, welcome
):
    days = assembly.stage_settings.log_retention_days
    template = sender_t if welcome else t
    mine = [
        r
        for r in resources(template, "AWS::Lambda::Function").values()
        if r["Properties"].get("Runtime") == "python3.14"
    ]
    # API, thumbnails (and the subscriptions API and the mailer)
    assert len(mine) == (4 if welcome else 2)
    groups = resources(template, "AWS::Logs::LogGroup")
    for fn in mine:
        assert fn["Properties"]["Architectures"] == ["arm64"]
        group_id = fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group_id]["Properties"]["RetentionInDays"] == days


def test_outputs_a_user_needs_right_after_deploy(t):
    assert {
        "SiteUrl",
        "ApiBaseUrl",
        "UploadExample",
        "WelcomeEmail",
        "AuthorsUserPoolId",
        "CreateAuthorCommand",
    } <= set(t["Outputs"])


def test_snapshot(assembly, snapshot):
    assert_blueprint_matches_snapshots(assembly, "my-blog", snapshot)


def test_grants_name_the_distribution_and_the_index_not_a_wildcard(t):
    """The cache invalidation of the site upload names this distribution, and every Query (the
    API's, DAX's where the read cache is on) names the newest-posts index, not `index/*`."""
    from blueprints.my_blog.stack import POSTS_INDEX

    dist_id, _ = only(t, "AWS::CloudFront::Distribution")
    invalidations = [
        s for _, s in all_statements(t) if "cloudfront:CreateInvalidation" in as_list(s["Action"])
    ]
    assert invalidations
    for statement in invalidations:
        assert flat(statement["Resource"]).endswith(flat({"Ref": dist_id})), statement
    queries = [s for _, s in all_statements(t) if "dynamodb:Query" in as_list(s["Action"])]
    assert queries
    for statement in queries:
        for resource in as_list(statement["Resource"]):
            assert "index/*" not in flat(resource), statement
    assert any(
        flat(resource).endswith(f"/index/{POSTS_INDEX}")
        for statement in queries
        for resource in as_list(statement["Resource"])
    )


def test_prod_encrypts_what_cloudfront_reads_with_the_stacks_key(t, assembly):
    """CT.S3.PR.10 in prod: the site and media buckets are SSE-KMS with one customer-managed key
    that CloudFront may decrypt with; dev stays on SSE-S3 (no key billed at idle)."""
    assert_cloudfront_origins_encrypted(
        t, assembly.stage_settings.keep_data, "Site/Bucket/Resource", "MyBlog/Media/Resource"
    )


def test_only_the_writers_and_readers_of_the_buckets_may_use_their_key(t, assembly):
    """The site upload writes (and prunes) the site; the API signs uploads (S3 makes their data
    key with its rights); the thumbnail function reads originals and writes thumbnails."""
    if not assembly.stage_settings.keep_data:
        assert roles_using_origin_key(t) == {}
        return
    users = roles_using_origin_key(t)
    (upload,) = [path for path in users if "CDKBucketDeployment" in path]
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= users.pop(upload)
    assert users == {
        "MyBlog/Api/HandlerRole": {"kms:GenerateDataKey"},
        "MyBlog/Thumbnails/FunctionRole": {"kms:Decrypt", "kms:GenerateDataKey"},
        # S3 replication reads the site's objects to copy them to the failover replica.
        **(
            {"MyBlog/Site/ReplicationRole": {"kms:Decrypt"}}
            if assembly.settings(INSTANCE).failover_region
            else {}
        ),
    }
