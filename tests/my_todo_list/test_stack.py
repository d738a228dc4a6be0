"""MyTodoList template assertions: each security, durability and cost property the issue lists,
written so that removing the feature makes the test fail. Both stages; what a setting decides is
read from the settings the stage was built with (cdk.json's values themselves are checked in
test_shipped_settings.py), so a fork that changes them keeps these tests."""

from __future__ import annotations

import json

import pytest

from tests.support.iam_statements import all_statements, as_list, statements_of
from tests.support.synth import REPO_ROOT
from tests.support.template import only, resources

STACK = "MyTodoList"
INSTANCE = "my-todo-list"
IDENTITY_VARIABLE = "${cognito-identity.amazonaws.com:sub}"


def logical_id(template: dict, kind: str, prefix: str) -> str:
    (match,) = [k for k in resources(template, kind) if k.startswith(prefix)]
    return match


def policy_statements(template: dict, role_prefix: str) -> list[dict]:
    """The statements of the one role whose logical id starts with `role_prefix`."""
    return statements_of(template, logical_id(template, "AWS::IAM::Role", role_prefix))


@pytest.fixture
def template(assembly) -> dict:
    return assembly.template(STACK)


@pytest.fixture
def settings(assembly):
    """The settings this stage's template was built with."""
    return assembly.settings(INSTANCE)


def stage_where(synth, dax: bool):
    """The first stage (prod, then dev) whose settings turn DAX on (or off); skipped if none."""
    for stage in ("prod", "dev"):
        built = synth(stage)
        if built.settings(INSTANCE).dax is dax:
            return built
    pytest.skip(f"dax is {not dax} in every stage's settings")


@pytest.fixture
def dax_stage(synth):
    return stage_where(synth, dax=True)


@pytest.fixture
def dax_on(dax_stage) -> dict:
    return dax_stage.template(STACK)


@pytest.fixture
def dax_off(synth) -> dict:
    return stage_where(synth, dax=False).template(STACK)


# -- API: authorization, validation, throttling, logs, tracing -------------------------------------


def test_every_non_options_method_uses_the_cognito_authorizer(template):
    authorizer_id, authorizer = only(template, "AWS::ApiGateway::Authorizer")
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"
    (pool,) = resources(template, "AWS::Cognito::UserPool")
    assert authorizer["Properties"]["ProviderARNs"] == [{"Fn::GetAtt": [pool, "Arn"]}]
    methods = [
        m["Properties"]
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] != "OPTIONS"
    ]
    assert sorted(m["HttpMethod"] for m in methods) == ["DELETE", "GET", "GET", "POST", "PUT"]
    for method in methods:
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS", method
        assert method["AuthorizerId"] == {"Ref": authorizer_id}
        assert method["RequestParameters"]["method.request.header.Authorization"] is True


def test_cors_preflight_only_where_an_origin_is_configured(template, settings):
    preflights = [
        m["Properties"]
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    if not settings.allowed_origins:
        assert preflights == []
        return
    assert len(preflights) == 3  # /, /todos and /todos/{todoId}
    for preflight in preflights:
        assert preflight["AuthorizationType"] == "NONE"
        assert preflight["Integration"]["Type"] == "MOCK"
        headers = preflight["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        allowed = headers["method.response.header.Access-Control-Allow-Origin"]
        assert allowed == f"'{settings.allowed_origins[0]}'"


def test_request_bodies_are_validated_against_the_handlers_own_schemas(template):
    schemas = json.loads((REPO_ROOT / "lambda_src/todo_api/schemas.json").read_text())
    models = {
        m["Properties"]["Name"]: m for k, m in resources(template, "AWS::ApiGateway::Model").items()
    }
    assert models["NewTodo"]["Properties"]["Schema"] == schemas["create"]
    assert models["TodoUpdate"]["Properties"]["Schema"] == schemas["update"]
    model_ids = {
        name: k
        for k, m in resources(template, "AWS::ApiGateway::Model").items()
        for name in [m["Properties"]["Name"]]
    }
    validators = {
        k: v["Properties"]
        for k, v in resources(template, "AWS::ApiGateway::RequestValidator").items()
    }
    by_verb = {}
    for method in resources(template, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        if props["HttpMethod"] == "OPTIONS":
            continue
        validator = validators[props["RequestValidatorId"]["Ref"]]
        by_verb.setdefault(props["HttpMethod"], []).append((props, validator))
    for verb, model in (("POST", "NewTodo"), ("PUT", "TodoUpdate")):
        ((props, validator),) = by_verb[verb]
        assert props["RequestModels"] == {"application/json": {"Ref": model_ids[model]}}
        assert (
            validator["ValidateRequestBody"] is True
            and validator["ValidateRequestParameters"] is True
        )
    for verb in ("GET", "DELETE"):
        for _props, validator in by_verb[verb]:
            assert validator["ValidateRequestParameters"] is True


def test_stage_throttling_json_access_logs_with_retention_and_tracing(assembly, template, settings):
    _, stage = only(template, "AWS::ApiGateway::Stage")
    props = stage["Properties"]
    assert props["TracingEnabled"] is True
    everything = next(s for s in props["MethodSettings"] if s["ResourcePath"] == "/*")
    assert (everything["ThrottlingRateLimit"], everything["ThrottlingBurstLimit"]) == (
        settings.api_throttle_rate,
        settings.api_throttle_burst,
    )
    log_format = json.loads(props["AccessLogSetting"]["Format"])
    assert log_format["caller"] == "$context.authorizer.claims.sub"
    assert log_format["status"] == "$context.status"
    log_group = json.dumps(props["AccessLogSetting"]["DestinationArn"])
    (access_logs,) = [k for k in resources(template, "AWS::Logs::LogGroup") if k in log_group]
    retention = template["Resources"][access_logs]["Properties"]["RetentionInDays"]
    assert retention == assembly.stage_settings.log_retention_days


def test_endpoint_type_follows_the_setting(template, settings):
    _, api = only(template, "AWS::ApiGateway::RestApi")
    assert api["Properties"]["EndpointConfiguration"] == {"Types": [settings.endpoint_type]}


def test_waf_guards_the_stage_when_set(template, settings):
    if not settings.waf:
        assert not resources(template, "AWS::WAFv2::WebACL")
        return
    acl_id, acl = only(template, "AWS::WAFv2::WebACL")
    assert acl["Properties"]["Scope"] == "REGIONAL"
    rate = next(r for r in acl["Properties"]["Rules"] if r["Name"] == "RateLimitPerIp")
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == settings.waf_rate_limit
    _, association = only(template, "AWS::WAFv2::WebACLAssociation")
    stage_id, _ = only(template, "AWS::ApiGateway::Stage")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert json.dumps({"Ref": stage_id}) in json.dumps(association["Properties"]["ResourceArn"])


# -- API Gateway response cache --------------------------------------------------------------------


def test_get_cache_keys_include_the_callers_authorization_header(template):
    gets = [
        m["Properties"]
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "GET"
    ]
    assert len(gets) == 2
    for get in gets:
        keys = get["Integration"]["CacheKeyParameters"]
        assert "method.request.header.Authorization" in keys
        assert "method.request.header.X-Last-Write" in keys
        for key in keys:  # a cache key must be a declared request parameter
            assert key in get["RequestParameters"]
    single = next(g for g in gets if "method.request.path.todoId" in g["RequestParameters"])
    assert "method.request.path.todoId" in single["Integration"]["CacheKeyParameters"]


def test_the_cache_caches_only_the_get_methods_encrypted_with_a_small_ttl(template, settings):
    _, stage = only(template, "AWS::ApiGateway::Stage")
    props = stage["Properties"]
    if not settings.api_cache:
        assert props["CacheClusterEnabled"] is False
        assert "CacheClusterSize" not in props
        assert not [s for s in props.get("MethodSettings", []) if s.get("CachingEnabled")]
        return
    assert props["CacheClusterEnabled"] is True
    assert props["CacheClusterSize"] == settings.api_cache_size_gb
    cached = [s for s in props["MethodSettings"] if s.get("CachingEnabled")]
    assert sorted((s["HttpMethod"], s["ResourcePath"]) for s in cached) == [
        ("GET", "/~1todos"),
        ("GET", "/~1todos~1{todoId}"),
    ]
    for setting in cached:
        assert setting["CacheTtlInSeconds"] == settings.api_cache_ttl_seconds
        assert setting["CacheDataEncrypted"] is True
    everything = next(s for s in props["MethodSettings"] if s["ResourcePath"] == "/*")
    assert not everything.get("CachingEnabled")


# -- Cognito ---------------------------------------------------------------------------------------


def test_user_pool_sign_in_policy(assembly, template, settings):
    _, pool = only(template, "AWS::Cognito::UserPool")
    props = pool["Properties"]
    assert props["UsernameAttributes"] == ["email"] and props["AutoVerifiedAttributes"] == ["email"]
    assert props["Policies"]["PasswordPolicy"] == {
        "MinimumLength": settings.password_min_length,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "RequireUppercase": True,
        "TemporaryPasswordValidityDays": 3,
    }
    assert props["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
    }
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert props["MfaConfiguration"] == {"REQUIRED": "ON", "OPTIONAL": "OPTIONAL"}[settings.mfa]
    if settings.threat_protection:
        assert props["UserPoolTier"] == "PLUS"
        assert props["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    else:
        assert props.get("UserPoolTier", "ESSENTIALS") == "ESSENTIALS"
        assert "UserPoolAddOns" not in props
    if assembly.stage_settings.keep_data:
        assert props["DeletionProtection"] == "ACTIVE" and pool["DeletionPolicy"] == "Retain"
    else:
        assert props["DeletionProtection"] == "INACTIVE" and pool["DeletionPolicy"] == "Delete"


def test_app_client_is_a_public_srp_client_with_short_lived_tokens(template, settings):
    _, client = only(template, "AWS::Cognito::UserPoolClient")
    props = client["Properties"]
    assert props["GenerateSecret"] is False
    assert props["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert props["EnableTokenRevocation"] is True
    assert props["TokenValidityUnits"] == {
        "AccessToken": "minutes",
        "IdToken": "minutes",
        "RefreshToken": "minutes",
    }
    assert props["AccessTokenValidity"] == settings.access_token_minutes
    assert props["IdTokenValidity"] == settings.access_token_minutes
    assert props["RefreshTokenValidity"] == settings.refresh_token_days * 24 * 60
    assert props["AllowedOAuthFlowsUserPoolClient"] is False


def test_identity_pool_admits_only_authenticated_users_of_this_pool(template):
    pool_id, pool = only(template, "AWS::Cognito::IdentityPool")
    props = pool["Properties"]
    assert props["AllowUnauthenticatedIdentities"] is False
    assert props["AllowClassicFlow"] is False
    (provider,) = props["CognitoIdentityProviders"]
    client_id, _ = only(template, "AWS::Cognito::UserPoolClient")
    user_pool_id, _ = only(template, "AWS::Cognito::UserPool")
    assert provider == {
        "ClientId": {"Ref": client_id},
        "ServerSideTokenCheck": True,
        "ProviderName": {"Fn::GetAtt": [user_pool_id, "ProviderName"]},
    }
    _, attachment = only(template, "AWS::Cognito::IdentityPoolRoleAttachment")
    assert set(attachment["Properties"]["Roles"]) == {"authenticated"}
    role = logical_id(template, "AWS::IAM::Role", "IdentityAuthenticatedRole")
    assert attachment["Properties"]["Roles"]["authenticated"] == {"Fn::GetAtt": [role, "Arn"]}
    trust = template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Effect": "Allow",
            "Principal": {"Federated": "cognito-identity.amazonaws.com"},
            "Condition": {
                "StringEquals": {"cognito-identity.amazonaws.com:aud": {"Ref": pool_id}},
                "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
            },
        }
    ]


def test_authenticated_role_reaches_only_the_callers_own_folder(template):
    bucket = logical_id(template, "AWS::S3::Bucket", "IdentityUserFiles")
    statements = policy_statements(template, "IdentityAuthenticatedRole")
    assert len(statements) == 2
    objects = next(s for s in statements if s["Sid"] == "OwnFolderObjects")
    assert sorted(as_list(objects["Action"])) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert objects["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/private/{IDENTITY_VARIABLE}/*"]]
    }
    listing = next(s for s in statements if s["Sid"] == "ListOwnFolderOnly")
    assert listing["Action"] == "s3:ListBucket"
    assert listing["Resource"] == {"Fn::GetAtt": [bucket, "Arn"]}
    assert listing["Condition"] == {
        "StringLike": {
            "s3:prefix": [f"private/{IDENTITY_VARIABLE}/", f"private/{IDENTITY_VARIABLE}/*"]
        }
    }


# -- storage ---------------------------------------------------------------------------------------


def test_user_files_bucket_is_private_encrypted_versioned_tls_only(assembly, template, settings):
    bucket_id = logical_id(template, "AWS::S3::Bucket", "IdentityUserFiles")
    bucket = template["Resources"][bucket_id]
    props = bucket["Properties"]
    # SSE-KMS with the AWS managed aws/s3 key (no key named, no key fee), a bucket key for
    # fewer KMS requests: the identity-pool roles use it through S3 (CT.S3.PR.10).
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule == {
        "BucketKeyEnabled": True,
        "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rule = next(
        r for r in props["LifecycleConfiguration"]["Rules"] if r["Id"] == "expire-old-versions"
    )
    assert rule["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": settings.user_file_version_days
    }
    assert "LoggingConfiguration" in props
    policy = next(
        p
        for p in resources(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
    deny = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in deny)
    keep = assembly.stage_settings.keep_data
    assert bucket["DeletionPolicy"] == ("Retain" if keep else "Delete")
    if settings.allowed_origins:
        (cors,) = props["CorsConfiguration"]["CorsRules"]
        assert cors["AllowedOrigins"] == list(settings.allowed_origins)
        assert sorted(cors["AllowedMethods"]) == ["DELETE", "GET", "HEAD", "PUT"]
    else:
        assert "CorsConfiguration" not in props


def test_table_is_on_demand_encrypted_with_pitr_and_kept_when_the_stage_keeps_data(
    assembly, template
):
    _, table = only(template, "AWS::DynamoDB::Table")
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "userId", "KeyType": "HASH"},
        {"AttributeName": "todoId", "KeyType": "RANGE"},
    ]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    keep = assembly.stage_settings.keep_data
    assert props["DeletionProtectionEnabled"] is keep
    assert table["DeletionPolicy"] == ("Retain" if keep else "Delete")


def test_handler_can_touch_only_its_table_with_the_five_data_calls(template):
    table_id, _ = only(template, "AWS::DynamoDB::Table")
    dynamo = [
        s
        for s in policy_statements(template, "TodoApiHandlerRole")
        if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
    ]
    assert dynamo == [
        {
            "Action": [
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
            ],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [table_id, "Arn"]},
        }
    ]


def test_no_wildcard_resource_where_an_arn_is_known(template):
    """Resource '*' only for X-Ray segments and the two Describe calls of Lambda's VPC attachment
    (no resource-level permissions); its network-interface actions name ARNs."""
    allowed = {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
    }
    for policy_id, statement in all_statements(template):
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= allowed, (policy_id, statement)


# -- read path: DAX where the settings turn it on (prod as shipped), nothing of it elsewhere ---


def test_dax_is_encrypted_tls_with_the_set_nodes_in_isolated_subnets(dax_on, dax_stage):
    settings = dax_stage.settings(INSTANCE)
    cluster_id, cluster = only(dax_on, "AWS::DAX::Cluster")
    props = cluster["Properties"]
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["ClusterEndpointEncryptionType"] == "TLS"
    assert props["ReplicationFactor"] == settings.dax_nodes
    assert props["NodeType"] == settings.dax_node_type
    _, subnet_group = only(dax_on, "AWS::DAX::SubnetGroup")
    subnets = subnet_group["Properties"]["SubnetIds"]
    assert len(subnets) == (len(dax_stage.stage_settings.availability_zones) or 2)
    assert all(s["Ref"].startswith("NetworkisolatedSubnet") for s in subnets)
    _, parameters = only(dax_on, "AWS::DAX::ParameterGroup")
    assert parameters["Properties"]["ParameterNameValues"] == {
        "record-ttl-millis": str(settings.dax_item_ttl_seconds * 1000),
        "query-ttl-millis": str(settings.dax_query_ttl_seconds * 1000),
    }


def test_dax_security_group_admits_only_the_handler_on_the_tls_port(dax_on):
    cache_sg = logical_id(dax_on, "AWS::EC2::SecurityGroup", "TodoApiCacheSecurityGroup")
    handler_sg = logical_id(dax_on, "AWS::EC2::SecurityGroup", "TodoApiHandlerSecurityGroup")
    inline = dax_on["Resources"][cache_sg]["Properties"].get("SecurityGroupIngress", [])
    assert inline == []
    ingress = [
        r["Properties"]
        for r in resources(dax_on, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [cache_sg, "GroupId"]}
    ]
    assert ingress == [
        {
            "Description": "DAX client on TLS port 9111",
            "FromPort": 9111,
            "ToPort": 9111,
            "IpProtocol": "tcp",
            "GroupId": {"Fn::GetAtt": [cache_sg, "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": [handler_sg, "GroupId"]},
        }
    ]
    for sg in resources(dax_on, "AWS::EC2::SecurityGroup").values():
        for rule in sg["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") not in ("0.0.0.0/0",) and rule.get("CidrIpv6") != "::/0"


def test_dax_role_and_handler_grants_are_scoped_to_the_table_and_cluster(dax_on):
    table_id, _ = only(dax_on, "AWS::DynamoDB::Table")
    cluster_id, cluster = only(dax_on, "AWS::DAX::Cluster")
    role_id = logical_id(dax_on, "AWS::IAM::Role", "TodoApiCacheServiceRole")
    assert cluster["Properties"]["IAMRoleARN"] == {"Fn::GetAtt": [role_id, "Arn"]}
    trust = dax_on["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "dax.amazonaws.com"}]
    for statement in policy_statements(dax_on, "TodoApiCacheServiceRole"):
        assert statement["Resource"] == {"Fn::GetAtt": [table_id, "Arn"]}
    dax = [
        s
        for s in policy_statements(dax_on, "TodoApiHandlerRole")
        if any(a.startswith("dax:") for a in as_list(s["Action"]))
    ]
    assert dax == [
        {
            "Action": [
                "dax:DeleteItem",
                "dax:GetItem",
                "dax:PutItem",
                "dax:Query",
                "dax:UpdateItem",
            ],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [cluster_id, "Arn"]},
        }
    ]


def test_handler_runs_in_isolated_subnets_and_reaches_dax_by_its_discovery_url(dax_on, dax_stage):
    cluster_id, _ = only(dax_on, "AWS::DAX::Cluster")
    handler = dax_on["Resources"][logical_id(dax_on, "AWS::Lambda::Function", "TodoApiHandler")]
    props = handler["Properties"]
    assert props["Environment"]["Variables"]["DAX_ENDPOINT"] == {
        "Fn::GetAtt": [cluster_id, "ClusterDiscoveryEndpointURL"]
    }
    assert props["Environment"]["Variables"]["READ_YOUR_WRITES_SECONDS"] == str(
        dax_stage.settings(INSTANCE).dax_query_ttl_seconds
    )
    assert all(
        s["Ref"].startswith("NetworkisolatedSubnet") for s in props["VpcConfig"]["SubnetIds"]
    )
    assert props["TracingConfig"] == {"Mode": "Active"}
    handler_sg = logical_id(dax_on, "AWS::EC2::SecurityGroup", "TodoApiHandlerSecurityGroup")
    assert props["VpcConfig"]["SecurityGroupIds"] == [{"Fn::GetAtt": [handler_sg, "GroupId"]}]
    egress = dax_on["Resources"][handler_sg]["Properties"]["SecurityGroupEgress"]
    assert [(e["IpProtocol"], e["FromPort"], e["ToPort"]) for e in egress] == [("tcp", 443, 443)]


def test_the_vpc_has_no_nat_and_only_the_free_dynamodb_gateway_endpoint(dax_on):
    assert not resources(dax_on, "AWS::EC2::NatGateway")
    assert not resources(dax_on, "AWS::EC2::InternetGateway")
    _, endpoint = only(dax_on, "AWS::EC2::VPCEndpoint")
    props = endpoint["Properties"]
    assert props["VpcEndpointType"] == "Gateway"
    assert props["ServiceName"] == {
        "Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".dynamodb"]]
    }
    table_id, _ = only(dax_on, "AWS::DynamoDB::Table")
    (statement,) = props["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {"Fn::GetAtt": [table_id, "Arn"]}


def test_without_dax_no_vpc_and_a_plain_dynamodb_handler(dax_off):
    assert not [k for k, r in dax_off["Resources"].items() if r["Type"].startswith("AWS::DAX::")]
    assert not resources(dax_off, "AWS::EC2::VPC")
    handler = dax_off["Resources"][logical_id(dax_off, "AWS::Lambda::Function", "TodoApiHandler")]
    assert "VpcConfig" not in handler["Properties"]
    assert "DAX_ENDPOINT" not in handler["Properties"]["Environment"]["Variables"]
    assert handler["Properties"]["TracingConfig"] == {"Mode": "Active"}


def test_handler_is_arm64_python_with_the_kit_and_the_dynamodb_layer(template):
    handler = template["Resources"][logical_id(template, "AWS::Lambda::Function", "TodoApiHandler")]
    kit = logical_id(template, "AWS::Lambda::LayerVersion", "HandlerKit")
    dynamodb = logical_id(template, "AWS::Lambda::LayerVersion", "TodoApiDynamoDbClient")
    assert handler["Properties"]["Architectures"] == ["arm64"]
    assert handler["Properties"]["Runtime"].startswith("python3.")
    # CDK orders layers by logical id; both bundle the same boto3/botocore, so order is moot.
    assert sorted(layer["Ref"] for layer in handler["Properties"]["Layers"]) == [kit, dynamodb]
    for layer in (kit, dynamodb):
        assert template["Resources"][layer]["Properties"]["CompatibleArchitectures"] == ["arm64"]


# -- outputs ---------------------------------------------------------------------------------------


def test_outputs_a_user_needs_right_after_deploy(template):
    outputs = template["Outputs"]
    for name in (
        "ApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "IdentityPoolId",
        "UserFilesBucketName",
        "Region",
        "ExampleClient",
    ):
        assert name in outputs, name
    assert outputs["IdentityPoolId"]["Value"] == {
        "Ref": only(template, "AWS::Cognito::IdentityPool")[0]
    }
    assert outputs["UserFilesBucketName"]["Value"] == {
        "Ref": logical_id(template, "AWS::S3::Bucket", "IdentityUserFiles")
    }
