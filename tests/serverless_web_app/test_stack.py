"""ServerlessWebApp's template, per stage and hosting mode: the security, durability and cost
properties that matter, read against the settings each stage was built with."""

from __future__ import annotations

import json

import pytest

from blueprints.serverless_web_app.requests_api import DATA_ACTIONS, TTL_ATTRIBUTE
from tests.serverless_web_app.conftest import Built
from tests.support.iam_statements import statements_of
from tests.support.origin_key import assert_cloudfront_origins_encrypted, roles_using_origin_key
from tests.support.site_failover import assert_site_failover
from tests.support.template import assert_site_domain

# CloudFront's managed policies (fixed ids in every account).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def keeps_data(built: Built) -> bool:
    return built.assembly.stage_settings.keep_data


# -- sign-in --------------------------------------------------------------------------------------


def test_user_pool_tier_mfa_and_deletion_protection_follow_the_settings(built):
    settings = built.settings
    _, pool = built.only("AWS::Cognito::UserPool")
    p = pool["Properties"]
    assert p["UserPoolTier"] == ("PLUS" if settings.threat_protection else "ESSENTIALS")
    assert p["MfaConfiguration"] == ("ON" if settings.mfa == "REQUIRED" else "OPTIONAL")
    assert p["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"], "TOTP only: no SMS"
    assert p["DeletionProtection"] == ("ACTIVE" if keeps_data(built) else "INACTIVE")
    assert pool["DeletionPolicy"] == ("Retain" if keeps_data(built) else "Delete")
    assert p["Policies"]["PasswordPolicy"]["MinimumLength"] == settings.password_min_length


def test_the_web_client_has_no_secret_and_only_the_code_flow_back_to_the_site(built):
    (client,) = built.resources("AWS::Cognito::UserPoolClient").values()
    p = client["Properties"]
    assert p["GenerateSecret"] is False
    assert p["AllowedOAuthFlows"] == ["code"], "no implicit grant: tokens never in a URL"
    assert p["AllowedOAuthFlowsUserPoolClient"] is True
    assert sorted(p["AllowedOAuthScopes"]) == ["email", "openid"]
    assert p["SupportedIdentityProviders"] == ["COGNITO"]
    assert sorted(p["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    assert p["PreventUserExistenceErrors"] == "ENABLED"
    resolve = built.resolver.resolve
    site = resolve(built.template["Outputs"]["SiteUrl"]["Value"])
    assert resolve(p["CallbackURLs"]) == [site + "/"]
    assert resolve(p["LogoutURLs"]) == [site + "/"]
    assert site.startswith("https://")


def test_the_hosted_sign_in_domain_is_the_stack_name_and_a_random_part_of_the_stack_id(built):
    _, domain = built.only("AWS::Cognito::UserPoolDomain")
    p = domain["Properties"]
    assert p["ManagedLoginVersion"] == 1, "the classic hosted UI needs no branding resource"
    name = built.assembly.stack_name(built.stack_id).lower()
    assert p["Domain"]["Fn::Join"][1][0] == name
    assert "AWS::StackId" in json.dumps(p["Domain"])


# -- the site --------------------------------------------------------------------------------------


def csp_of(built: Built) -> str:
    if built.settings.hosting == "cloudfront":
        _, policy = built.only("AWS::CloudFront::ResponseHeadersPolicy")
        security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
        return built.resolver.resolve(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    _, app = built.only("AWS::Amplify::App")
    headers = built.resolver.resolve(app["Properties"]["CustomHeaders"])
    (line,) = [line for line in headers.splitlines() if "default-src" in line]
    return line.split("value: '", 1)[1].rstrip("'").replace("''", "'")


def test_the_pages_csp_allows_only_itself_and_the_hosted_sign_in_domain(built):
    csp = csp_of(built)
    sign_in = built.resolver.resolve(built.template["Outputs"]["SignInUrl"]["Value"])
    assert f"connect-src 'self' {sign_in};" in csp
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp


def test_cloudfront_hosting_serves_the_api_at_slash_api_uncached_on_the_same_distribution(
    built,
):
    if built.settings.hosting != "cloudfront":
        pytest.skip("Amplify hosting: see the rewrite test")
    _, distribution = built.only("AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    (api,) = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert set(api["AllowedMethods"]) >= {"GET", "POST", "PATCH", "DELETE", "OPTIONS"}
    assert api["ViewerProtocolPolicy"] == "redirect-to-https"
    (origin,) = [o for o in config["Origins"] if o["Id"] == api["TargetOriginId"]]
    assert built.resolver.resolve(origin["OriginPath"]) == "/v1"
    assert "execute-api" in json.dumps(origin["DomainName"])
    assert ("WebACLId" in config) is built.settings.waf


def test_amplify_hosting_proxies_slash_api_before_the_single_page_fallback(built):
    if built.settings.hosting != "amplify":
        pytest.skip("CloudFront hosting: see the behaviour test")
    _, app = built.only("AWS::Amplify::App")
    rules = built.resolver.resolve(app["Properties"]["CustomRules"])
    assert rules[0]["Source"] == "/api/<*>" and rules[0]["Status"] == "200"
    api_id = built.resolver.ref(built.resolver.logical_id("Api/Api", "AWS::ApiGateway::RestApi"))
    assert rules[0]["Target"].startswith(f"https://{api_id}.execute-api.")
    assert rules[0]["Target"].endswith("/v1/api/<*>")
    assert rules[1]["Target"] == "/index.html" and rules[1]["Status"] == "200"
    headers = built.resolver.resolve(app["Properties"]["CustomHeaders"])
    for name in ("Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options"):
        assert f"key: '{name}'" in headers
    assert "Repository" not in app["Properties"], "shipped: the stack deploys the files"


def test_waf_guards_where_requests_enter(built):
    """CloudFront hosting: a CLOUDFRONT web ACL on the distribution (it sees /api/* too);
    Amplify hosting: a regional web ACL on the API stage, where the API is reached."""
    waf = built.settings.waf
    acls = built.resources("AWS::WAFv2::WebACL")
    associations = built.resources("AWS::WAFv2::WebACLAssociation")
    if built.settings.hosting == "amplify":
        assert len(acls) == len(associations) == int(waf)
        for acl in acls.values():
            assert acl["Properties"]["Scope"] == "REGIONAL"
    else:
        assert associations == {}
        region = built.assembly.stage_settings.region
        edge = built.assembly.stacks.get(f"{built.stack_id}Edge")
        total = len(acls) + (
            len(
                [
                    r
                    for r in built.assembly.template(f"{built.stack_id}Edge")["Resources"].values()
                    if r["Type"] == "AWS::WAFv2::WebACL"
                ]
            )
            if edge
            else 0
        )
        assert total == int(waf), region


# -- the API ---------------------------------------------------------------------------------------


def test_the_stage_is_throttled_traced_and_logs_errors_only(built):
    settings = built.settings
    _, stage = built.only("AWS::ApiGateway::Stage")
    p = stage["Properties"]
    (everything,) = [m for m in p["MethodSettings"] if m["HttpMethod"] == "*"]
    assert everything["ThrottlingRateLimit"] == settings.api_throttle_rate
    assert everything["ThrottlingBurstLimit"] == settings.api_throttle_burst
    assert everything["LoggingLevel"] == "ERROR" and everything["DataTraceEnabled"] is False
    assert p["TracingEnabled"] is True and p["StageName"] == "v1"
    assert "caller" in p["AccessLogSetting"]["Format"]


def test_the_api_refuses_in_the_handlers_one_error_body_and_never_with_403(built):
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in built.resources("AWS::ApiGateway::GatewayResponse").values()
    }
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert responses["ACCESS_DENIED"]["StatusCode"] == "401"
    for response in responses.values():
        assert '"code"' in response["ResponseTemplates"]["application/json"]


def test_the_create_requires_an_idempotency_key_and_the_model_of_the_handlers_schema(built):
    resolver = built.resolver
    methods = [
        r["Properties"]
        for r in built.resources("AWS::ApiGateway::Method").values()
        if r["Properties"]["HttpMethod"] == "POST"
    ]
    (create,) = methods
    assert create["RequestParameters"]["method.request.header.Idempotency-Key"] is True
    model_id = resolver.referenced_id(create["RequestModels"]["application/json"])
    schema = built.template["Resources"][model_id]["Properties"]["Schema"]
    from blueprints.serverless_web_app.requests_api import SCHEMAS

    assert schema["required"] == SCHEMAS["create"]["required"]
    assert schema["additionalProperties"] is False


# -- data ------------------------------------------------------------------------------------------


def test_the_table_is_on_demand_per_user_with_ttl_pitr_and_prod_protection(built):
    _, table = built.only("AWS::DynamoDB::Table")
    p = table["Properties"]
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["KeySchema"] == [
        {"AttributeName": "userId", "KeyType": "HASH"},
        {"AttributeName": "requestId", "KeyType": "RANGE"},
    ]
    assert p["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert p["DeletionProtectionEnabled"] is keeps_data(built)
    assert table["DeletionPolicy"] == ("Retain" if keeps_data(built) else "Delete")
    assert p["SSESpecification"]["SSEEnabled"] is True


def test_the_function_may_use_exactly_its_five_data_actions_on_this_table_only(built):
    resolver = built.resolver
    function_id = resolver.logical_id("Api/Handler", "AWS::Lambda::Function")
    role = built.template["Resources"][function_id]["Properties"]["Role"]
    role_id = resolver.referenced_id(role, "AWS::IAM::Role")
    table_id, _ = built.only("AWS::DynamoDB::Table")
    dynamodb = [
        s
        for s in statements_of(built.template, role_id)
        if any(a.startswith("dynamodb:") for a in _as_list(s["Action"]))
    ]
    assert len(dynamodb) == 1
    (statement,) = dynamodb
    assert sorted(_as_list(statement["Action"])) == sorted(f"dynamodb:{a}" for a in DATA_ACTIONS)
    assert _as_list(statement["Resource"]) == [{"Fn::GetAtt": [table_id, "Arn"]}], (
        "the table itself: no index, no wildcard"
    )
    assert "Condition" not in statement, (
        "no dynamodb:LeadingKeys: the function's own role reaches every item, so the per-user "
        "guarantee is the handler's (test_wiring.py)"
    )


def test_the_page_is_served_on_its_domain_with_tls_1_2(built):
    """Issue 12 item 1: with domain_names, CloudFront hosting serves them with an ACM
    certificate, SNI and TLSv1.2_2021 (alias records in the zone); Amplify Hosting associates
    them (the zone's apex, a prefix per name, a managed certificate). Without (dev), the
    default names, which prod allows only with allow_tls_below_1_2. The page's URL, and so the
    sign-in callback, is the first name."""
    settings, stage = built.settings, built.assembly.stage_settings.name
    if settings.hosting == "cloudfront":
        assert_site_domain(built.template, settings, stage=stage)
    else:
        domains = built.resources("AWS::Amplify::Domain")
        if not settings.domain_names:
            assert not domains and (stage != "prod" or settings.allow_tls_below_1_2)
        else:
            (domain,) = domains.values()
            p = domain["Properties"]
            zone = settings.hosted_zone_name
            assert p["DomainName"] == zone and p["EnableAutoSubDomain"] is False
            assert [(d["Prefix"], d["BranchName"]) for d in p["SubDomainSettings"]] == [
                (name.removesuffix(zone).rstrip("."), settings.amplify_branch)
                for name in settings.domain_names
            ]
            assert p["CertificateSettings"] == (
                {"CertificateType": "CUSTOM", "CustomCertificateArn": settings.certificate_arn}
                if settings.certificate_arn
                else {"CertificateType": "AMPLIFY_MANAGED"}
            )
    site = built.resolver.resolve(built.template["Outputs"]["SiteUrl"]["Value"])
    if settings.domain_names:
        assert site == f"https://{settings.domain_names[0]}"
        (client,) = built.resources("AWS::Cognito::UserPoolClient").values()
        assert client["Properties"]["CallbackURLs"] == [site + "/"]


def test_outputs_name_the_site_the_api_and_the_sign_in(built):
    outputs = built.template["Outputs"]
    for name in ("SiteUrl", "ApiUrl", "UserPoolId", "UserPoolClientId", "SignInUrl", "Region"):
        assert name in outputs
    api_url = built.resolver.resolve(outputs["ApiUrl"]["Value"])
    site = built.resolver.resolve(outputs["SiteUrl"]["Value"])
    assert api_url == site + "/api", "the page and its API share one origin"


def _as_list(value):
    return value if isinstance(value, list) else [value]


# -- encryption of what the page is served from ---------------------------------------------------


def test_prod_encrypts_the_cloudfront_site_bucket_with_the_stacks_key(built):
    """CT.S3.PR.10: CloudFront hosting in prod reads an SSE-KMS site bucket (a key CloudFront may
    decrypt with), dev an SSE-S3 one; Amplify's staging bucket stays SSE-S3 in every stage
    (Amplify documents no key-policy statement for reading it: docs/compliance.md)."""
    t = built.template
    if built.settings.hosting == "cloudfront":
        assert_cloudfront_origins_encrypted(t, keeps_data(built), "Site/Bucket/Resource")
        users = roles_using_origin_key(t)
        if keeps_data(built):  # the site upload alone writes the bucket; CloudFront only reads
            if built.settings.failover_region:  # and S3 replication reads it for the replica
                assert users.pop(f"{built.stack_id}/Site/ReplicationRole") == {"kms:Decrypt"}
            ((upload, actions),) = users.items()
            assert "CDKBucketDeployment" in upload
            assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= actions
        else:
            assert users == {}
    elif built.settings.amplify_repository is None:  # manual deployments: a staging bucket
        assert_cloudfront_origins_encrypted(t, False, "Site/Staging/Resource")


def test_the_cloudfront_site_fails_over_to_its_replica_with_a_failover_region(built):
    """hosting=cloudfront with failover_region (prod): the site bucket's replica in
    <StackId>Failover serves the page when the bucket fails; without (dev): one origin."""
    if built.settings.hosting != "cloudfront":
        assert f"{built.stack_id}Failover" not in built.assembly.stacks
        return
    assert_site_failover(
        built.assembly,
        built.stack_id,
        failover_region=built.settings.failover_region,
        keep_data=keeps_data(built),
    )
