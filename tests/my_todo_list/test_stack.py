"""MyTodoList template assertions: each security, durability and cost property the issue lists,
written so that removing the feature makes the test fail. Both stages unless the property is
stage-specific."""

from __future__ import annotations

import json

import pytest

from tests.support.iam_statements import all_statements, as_list, statements_of
from tests.support.synth import REPO_ROOT
from tests.support.template import only, resources

STACK = "MyTodoList"
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
def prod(synth) -> dict:
    return synth("prod").template(STACK)


@pytest.fixture
def dev(synth) -> dict:
    return synth("dev").template(STACK)


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


def test_cors_preflight_only_where_an_origin_is_configured(dev, prod):
    preflights = [
        m["Properties"]
        for m in resources(dev, "AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    assert len(preflights) == 3  # /, /todos and /todos/{todoId}
    for preflight in preflights:
        assert preflight["AuthorizationType"] == "NONE"
        assert preflight["Integration"]["Type"] == "MOCK"
        headers = preflight["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        assert (
            headers["method.response.header.Access-Control-Allow-Origin"]
            == "'http://localhost:8100'"
        )
    assert not [
        m
        for m in resources(prod, "AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    ]


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


def test_stage_throttling_json_access_logs_with_retention_and_tracing(assembly, template):
    _, stage = only(template, "AWS::ApiGateway::Stage")
    props = stage["Properties"]
    assert props["TracingEnabled"] is True
    everything = next(s for s in props["MethodSettings"] if s["ResourcePath"] == "/*")
    expected = {"dev": (20, 40), "prod": (200, 400)}[assembly.stage]
    assert (everything["ThrottlingRateLimit"], everything["ThrottlingBurstLimit"]) == expected
    log_format = json.loads(props["AccessLogSetting"]["Format"])
    assert log_format["caller"] == "$context.authorizer.claims.sub"
    assert log_format["status"] == "$context.status"
    log_group = json.dumps(props["AccessLogSetting"]["DestinationArn"])
    (access_logs,) = [k for k in resources(template, "AWS::Logs::LogGroup") if k in log_group]
    retention = template["Resources"][access_logs]["Properties"]["RetentionInDays"]
    assert retention == {"dev": 14, "prod": 365}[assembly.stage]


def test_endpoint_is_regional_by_default(template):
    _, api = only(template, "AWS::ApiGateway::RestApi")
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_waf_guards_the_prod_stage_only(dev, prod):
    assert not resources(dev, "AWS::WAFv2::WebACL")
    acl_id, acl = only(prod, "AWS::WAFv2::WebACL")
    assert acl["Properties"]["Scope"] == "REGIONAL"
    rate = next(r for r in acl["Properties"]["Rules"] if r["Name"] == "RateLimitPerIp")
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == 1000
    _, association = only(prod, "AWS::WAFv2::WebACLAssociation")
    stage_id, _ = only(prod, "AWS::ApiGateway::Stage")
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


def test_prod_caches_only_the_get_methods_encrypted_with_a_small_ttl(prod):
    _, stage = only(prod, "AWS::ApiGateway::Stage")
    props = stage["Properties"]
    assert props["CacheClusterEnabled"] is True and props["CacheClusterSize"] == "0.5"
    cached = [s for s in props["MethodSettings"] if s.get("CachingEnabled")]
    assert sorted((s["HttpMethod"], s["ResourcePath"]) for s in cached) == [
        ("GET", "/~1todos"),
        ("GET", "/~1todos~1{todoId}"),
    ]
    for setting in cached:
        assert setting["CacheTtlInSeconds"] == 30 and setting["CacheDataEncrypted"] is True
    everything = next(s for s in props["MethodSettings"] if s["ResourcePath"] == "/*")
    assert not everything.get("CachingEnabled")


def test_dev_has_no_cache_cluster(dev):
    _, stage = only(dev, "AWS::ApiGateway::Stage")
    assert stage["Properties"]["CacheClusterEnabled"] is False
    assert "CacheClusterSize" not in stage["Properties"]
    assert not [s for s in stage["Properties"].get("MethodSettings", []) if s.get("CachingEnabled")]


# -- Cognito ---------------------------------------------------------------------------------------


def test_user_pool_sign_in_policy(assembly, template):
    _, pool = only(template, "AWS::Cognito::UserPool")
    props = pool["Properties"]
    assert props["UsernameAttributes"] == ["email"] and props["AutoVerifiedAttributes"] == ["email"]
    assert props["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 12,
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
    if assembly.stage == "prod":
        assert props["MfaConfiguration"] == "ON"
        assert props["UserPoolTier"] == "PLUS"
        assert props["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
        assert props["DeletionProtection"] == "ACTIVE" and pool["DeletionPolicy"] == "Retain"
    else:
        assert props["MfaConfiguration"] == "OPTIONAL"
        assert props["DeletionProtection"] == "INACTIVE" and pool["DeletionPolicy"] == "Delete"


def test_app_client_is_a_public_srp_client_with_short_lived_tokens(template):
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
    assert props["AccessTokenValidity"] == props["IdTokenValidity"] == 15
    assert props["RefreshTokenValidity"] == 30 * 24 * 60
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


def test_user_files_bucket_is_private_encrypted_versioned_tls_only(assembly, template):
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
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert "LoggingConfiguration" in props
    policy = next(
        p
        for p in resources(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
    deny = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in deny)
    assert bucket["DeletionPolicy"] == {"dev": "Delete", "prod": "Retain"}[assembly.stage]
    if assembly.stage == "dev":
        (cors,) = props["CorsConfiguration"]["CorsRules"]
        assert cors["AllowedOrigins"] == ["http://localhost:8100"]
        assert sorted(cors["AllowedMethods"]) == ["DELETE", "GET", "HEAD", "PUT"]
    else:
        assert "CorsConfiguration" not in props


def test_table_is_on_demand_encrypted_with_pitr_and_kept_in_prod(assembly, template):
    _, table = only(template, "AWS::DynamoDB::Table")
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "userId", "KeyType": "HASH"},
        {"AttributeName": "todoId", "KeyType": "RANGE"},
    ]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    keep = assembly.stage == "prod"
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
    """Resource '*' only for X-Ray segments and Lambda's VPC ENI calls (no resource-level ARNs)."""
    allowed = {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    }
    for policy_id, statement in all_statements(template):
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= allowed, (policy_id, statement)


# -- read path: DAX in prod, nothing of it in dev --------------------------------------------------


def test_prod_dax_is_encrypted_tls_multi_node_in_isolated_subnets(prod):
    cluster_id, cluster = only(prod, "AWS::DAX::Cluster")
    props = cluster["Properties"]
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["ClusterEndpointEncryptionType"] == "TLS"
    assert props["ReplicationFactor"] == 3 and props["NodeType"] == "dax.t3.medium"
    _, subnet_group = only(prod, "AWS::DAX::SubnetGroup")
    subnets = subnet_group["Properties"]["SubnetIds"]
    assert len(subnets) == 3 and all(s["Ref"].startswith("NetworkisolatedSubnet") for s in subnets)
    _, parameters = only(prod, "AWS::DAX::ParameterGroup")
    assert parameters["Properties"]["ParameterNameValues"] == {
        "record-ttl-millis": "300000",
        "query-ttl-millis": "60000",
    }


def test_dax_security_group_admits_only_the_handler_on_the_tls_port(prod):
    cache_sg = logical_id(prod, "AWS::EC2::SecurityGroup", "TodoApiCacheSecurityGroup")
    handler_sg = logical_id(prod, "AWS::EC2::SecurityGroup", "TodoApiHandlerSecurityGroup")
    inline = prod["Resources"][cache_sg]["Properties"].get("SecurityGroupIngress", [])
    assert inline == []
    ingress = [
        r["Properties"]
        for r in resources(prod, "AWS::EC2::SecurityGroupIngress").values()
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
    for sg in resources(prod, "AWS::EC2::SecurityGroup").values():
        for rule in sg["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") not in ("0.0.0.0/0",) and rule.get("CidrIpv6") != "::/0"


def test_dax_role_and_handler_grants_are_scoped_to_the_table_and_cluster(prod):
    table_id, _ = only(prod, "AWS::DynamoDB::Table")
    cluster_id, cluster = only(prod, "AWS::DAX::Cluster")
    role_id = logical_id(prod, "AWS::IAM::Role", "TodoApiCacheServiceRole")
    assert cluster["Properties"]["IAMRoleARN"] == {"Fn::GetAtt": [role_id, "Arn"]}
    trust = prod["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "dax.amazonaws.com"}]
    for statement in policy_statements(prod, "TodoApiCacheServiceRole"):
        assert statement["Resource"] == {"Fn::GetAtt": [table_id, "Arn"]}
    dax = [
        s
        for s in policy_statements(prod, "TodoApiHandlerRole")
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


def test_prod_handler_runs_in_isolated_subnets_and_reaches_dax_by_its_discovery_url(prod):
    cluster_id, _ = only(prod, "AWS::DAX::Cluster")
    handler = prod["Resources"][logical_id(prod, "AWS::Lambda::Function", "TodoApiHandler")]
    props = handler["Properties"]
    assert props["Environment"]["Variables"]["DAX_ENDPOINT"] == {
        "Fn::GetAtt": [cluster_id, "ClusterDiscoveryEndpointURL"]
    }
    assert props["Environment"]["Variables"]["READ_YOUR_WRITES_SECONDS"] == "60"
    assert all(
        s["Ref"].startswith("NetworkisolatedSubnet") for s in props["VpcConfig"]["SubnetIds"]
    )
    assert props["TracingConfig"] == {"Mode": "Active"}
    handler_sg = logical_id(prod, "AWS::EC2::SecurityGroup", "TodoApiHandlerSecurityGroup")
    assert props["VpcConfig"]["SecurityGroupIds"] == [{"Fn::GetAtt": [handler_sg, "GroupId"]}]
    egress = prod["Resources"][handler_sg]["Properties"]["SecurityGroupEgress"]
    assert [(e["IpProtocol"], e["FromPort"], e["ToPort"]) for e in egress] == [("tcp", 443, 443)]


def test_prod_vpc_has_no_nat_and_only_the_free_dynamodb_gateway_endpoint(prod):
    assert not resources(prod, "AWS::EC2::NatGateway")
    assert not resources(prod, "AWS::EC2::InternetGateway")
    _, endpoint = only(prod, "AWS::EC2::VPCEndpoint")
    props = endpoint["Properties"]
    assert props["VpcEndpointType"] == "Gateway"
    assert props["ServiceName"] == {
        "Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".dynamodb"]]
    }
    table_id, _ = only(prod, "AWS::DynamoDB::Table")
    (statement,) = props["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {"Fn::GetAtt": [table_id, "Arn"]}


def test_dev_has_no_dax_no_vpc_and_a_plain_dynamodb_handler(dev):
    assert not [k for k, r in dev["Resources"].items() if r["Type"].startswith("AWS::DAX::")]
    assert not resources(dev, "AWS::EC2::VPC")
    handler = dev["Resources"][logical_id(dev, "AWS::Lambda::Function", "TodoApiHandler")]
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
