"""TodoApi: a Cognito-protected REST API over one DynamoDB table, optionally read-cached twice.

    app ──HTTPS + ID token──▶ API Gateway REST (regional or edge)      ┌──────────────┐
                              Cognito authorizer on every method        │ response     │
                              request models + validators               │ cache (GET), │
                              stage throttling, JSON access logs, X-Ray │ keyed on the │
                              error-level execution logs                │ Authorization│
                              [WAF web ACL]                             │ header       │
                                    │ Lambda proxy                      └──────────────┘
                                    ▼
                              Handler (lambda_src/todo_api) + dynamodb_client layer
                                    │ [in the VPC's isolated subnets when DAX is on]
                                    ▼
                              [DAX cluster, TLS] ──▶ Table (userId, todoId), on demand, PITR

Usage:

    api = TodoApi(self, "TodoApi", user_pool=identity.user_pool, options=TodoApiOptions(...),
                  log_retention_days=14, removal_policy=stage.removal_policy,
                  dax=DaxOptions(vpc=network) or None)
    api.url, api.table, api.handler, api.api, api.cache (DaxCache or None)

The caches and writes: caching is enabled on the two GET methods only, so POST/PUT/DELETE always
reach the handler. The GET cache key is the `Authorization` header (one user never receives
another's cached answer), the path/query parameters, and `X-Last-Write`, which the handler returns
on every write: a client that echoes it gets a new cache key right after its own write (a miss,
then a strongly consistent read that bypasses DAX), so it never sees its pre-write list. API
Gateway's own invalidation (`Cache-Control: max-age=0`) needs IAM-signed callers; these callers
carry Cognito tokens, so the cache key does the job instead.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any, Literal

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from house.compliance import acknowledge
from house.defaults import api_execution_log_group, log_group
from house.edge import cloudfront_web_acl
from house.lambda_function import LAMBDA_SRC, python_function, python_layer
from house.network import ISOLATED
from patterns.data.dax_cache import DaxCache

SCHEMAS = json.loads((LAMBDA_SRC / "todo_api" / "schemas.json").read_text())
LAST_WRITE_HEADER = "X-Last-Write"
# API Gateway cache sizes (GB). Each bills a fixed hourly rate while enabled, traffic or not;
# the rates are in docgen/prices.toml ([apigateway_cache_hour.sizes]).
CACHE_SIZES = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")


@dataclasses.dataclass(frozen=True)
class TodoApiOptions:
    endpoint_type: Literal["REGIONAL", "EDGE"] = "REGIONAL"
    stage_name: str = "v1"
    throttle_rate_limit: int = 50
    throttle_burst_limit: int = 100
    allowed_origins: Sequence[str] = ()
    cache_enabled: bool = False
    cache_size_gb: str = "0.5"
    cache_ttl_seconds: int = 30
    waf_enabled: bool = False
    waf_rate_limit_per_5_minutes: int = 1000
    page_size: int = 25
    max_page_size: int = 100


@dataclasses.dataclass(frozen=True)
class DaxOptions:
    """Put the handler in `vpc` and read/write through a DAX cluster there."""

    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection | None = None  # None: the VPC's isolated subnets
    node_type: str = "dax.t3.small"
    nodes: int = 1
    item_ttl_seconds: int = 300
    query_ttl_seconds: int = 60


class TodoApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        user_pool: cognito.IUserPool,
        options: TodoApiOptions,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        dax: DaxOptions | None = None,
    ) -> None:
        super().__init__(scope, id)
        keep = removal_policy == cdk.RemovalPolicy.RETAIN

        # On demand: a to-do app's traffic is spiky and mostly idle, and on-demand costs nothing
        # while idle. PITR keeps 35 days of restorable history (billed per GB-month).
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="userId", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="todoId", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=keep,
            removal_policy=removal_policy,
        )

        self.layer = python_layer(
            self,
            "DynamoDbClient",
            source="dynamodb_client",
            description="dynamodb_client: DynamoDB through DAX when DAX_ENDPOINT is set",
        )

        environment = {
            "TABLE_NAME": self.table.table_name,
            "PAGE_SIZE": str(options.page_size),
            "MAX_PAGE_SIZE": str(options.max_page_size),
            "ALLOWED_ORIGINS": ",".join(options.allowed_origins),
            # Without DAX, DynamoDB's eventually consistent reads settle within about a second.
            "READ_YOUR_WRITES_SECONDS": str(dax.query_ttl_seconds if dax else 5),
        }
        network: dict[str, Any] = {}
        self.cache: DaxCache | None = None
        if dax is not None:
            subnets = dax.subnets or ISOLATED
            self.cache = DaxCache(
                self,
                "Cache",
                vpc=dax.vpc,
                tables=[self.table],
                subnets=subnets,
                node_type=dax.node_type,
                nodes=dax.nodes,
                item_ttl=cdk.Duration.seconds(dax.item_ttl_seconds),
                query_ttl=cdk.Duration.seconds(dax.query_ttl_seconds),
                description="Read cache of the to-do table",
            )
            environment.update(self.cache.environment)
            self.security_group = ec2.SecurityGroup(
                self,
                "HandlerSecurityGroup",
                vpc=dax.vpc,
                allow_all_outbound=False,
                description=(
                    "To-do handler: out to DAX (TLS) and the DynamoDB gateway endpoint only"
                ),
            )
            # Isolated subnets route nowhere but the VPC and the DynamoDB gateway endpoint, so
            # HTTPS "anywhere" reaches DynamoDB only: the break-glass path if DAX is unhealthy
            # (set DAX_ENDPOINT to "" and the layer uses plain DynamoDB).
            self.security_group.add_egress_rule(
                ec2.Peer.any_ipv4(),
                ec2.Port.tcp(443),
                "HTTPS to DynamoDB through the gateway endpoint (no other route exists)",
            )
            self.endpoint = dax.vpc.add_gateway_endpoint(
                "DynamoDbEndpoint",
                service=ec2.GatewayVpcEndpointAwsService.DYNAMODB,
                subnets=[subnets],
            )
            self.endpoint.add_to_policy(
                iam.PolicyStatement(
                    sid="ToDoTableOnly",
                    principals=[iam.AnyPrincipal()],
                    actions=[
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:Query",
                        "dynamodb:DescribeTable",
                        "dynamodb:Scan",
                        "dynamodb:BatchGetItem",
                        "dynamodb:BatchWriteItem",
                        "dynamodb:ConditionCheckItem",
                    ],
                    resources=[self.table.table_arn],
                )
            )
            network = {
                "vpc": dax.vpc,
                "vpc_subnets": subnets,
                "security_groups": [self.security_group],
            }

        self.handler = python_function(
            self,
            "Handler",
            source="todo_api",
            description="To-do REST API: one user's to-dos, identity from the Cognito authorizer",
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
            environment=environment,
            invoked_synchronously_by="API Gateway",
            layers=[self.layer],
            **network,
        )
        data_actions = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query")
        self.table.grant(self.handler, *(f"dynamodb:{a}" for a in data_actions))
        if self.cache is not None:
            self.cache.grant(self.handler, *(f"dax:{a}" for a in data_actions))
            self.cache.allow_client(self.handler)

        self._build_api(options, log_retention_days, removal_policy, user_pool)

    # -- the REST API -----------------------------------------------------------------------------

    def _build_api(
        self,
        options: TodoApiOptions,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        user_pool: cognito.IUserPool,
    ) -> None:
        access_logs = log_group(
            self, "AccessLogs", retention_days=log_retention_days, removal_policy=removal_policy
        )
        # A method's own settings replace the stage-wide ones for that method, so the cached
        # GETs repeat the stage's logging, metrics and throttling.
        cached = apigw.MethodDeploymentOptions(
            caching_enabled=True,
            cache_ttl=cdk.Duration.seconds(options.cache_ttl_seconds),
            cache_data_encrypted=True,
            logging_level=apigw.MethodLoggingLevel.ERROR,
            data_trace_enabled=False,
            metrics_enabled=True,
            throttling_rate_limit=options.throttle_rate_limit,
            throttling_burst_limit=options.throttle_burst_limit,
        )
        origins = list(options.allowed_origins)
        self.api = apigw.RestApi(
            self,
            "Api",
            description="MyTodoList REST API",
            endpoint_types=[apigw.EndpointType[options.endpoint_type]],
            # The account-wide CloudWatch role is a per-region singleton that the AccountBaseline
            # stack owns; both access and execution logging need it.
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=options.stage_name,
                throttling_rate_limit=options.throttle_rate_limit,
                throttling_burst_limit=options.throttle_burst_limit,
                tracing_enabled=True,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=_access_log_format(),
                # Errors only: INFO would log every request again (the access log has them) and
                # data tracing would copy request bodies (users' to-dos) into the logs.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                cache_cluster_enabled=options.cache_enabled,
                cache_cluster_size=options.cache_size_gb if options.cache_enabled else None,
                # Stage-wide too (CT.APIGATEWAY.PR.3): a method cached later is encrypted even if
                # its own settings forget to say so.
                cache_data_encrypted=options.cache_enabled or None,
                method_options={"/todos/GET": cached, "/todos/{todoId}/GET": cached}
                if options.cache_enabled
                else None,
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=origins,
                allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", LAST_WRITE_HEADER],
                expose_headers=[LAST_WRITE_HEADER, "Location"],
                max_age=cdk.Duration.minutes(10),
            )
            if origins
            else None,
        )
        self.url = self.api.url
        stage = self.api.deployment_stage
        self.execution_logs = api_execution_log_group(
            self,
            "ExecutionLogs",
            rest_api_id=self.api.rest_api_id,
            stage_name=options.stage_name,
            retention_days=log_retention_days,
            removal_policy=removal_policy,
        )

        authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[user_pool],
            results_cache_ttl=cdk.Duration.minutes(5),
        )
        body_validator = self.api.add_request_validator(
            "BodyAndParameters", validate_request_body=True, validate_request_parameters=True
        )
        parameter_validator = self.api.add_request_validator(
            "ParametersOnly", validate_request_body=False, validate_request_parameters=True
        )
        create_model = self.api.add_model(
            "NewTodo",
            content_type="application/json",
            model_name="NewTodo",
            schema=_json_schema(SCHEMAS["create"]),
        )
        update_model = self.api.add_model(
            "TodoUpdate",
            content_type="application/json",
            model_name="TodoUpdate",
            schema=_json_schema(SCHEMAS["update"]),
        )

        auth = {"authorization_type": apigw.AuthorizationType.COGNITO, "authorizer": authorizer}
        caller = {"method.request.header.Authorization": True}
        read_your_writes = {f"method.request.header.{LAST_WRITE_HEADER}": False}
        todo_path = {"method.request.path.todoId": True}
        page = {
            "method.request.querystring.limit": False,
            "method.request.querystring.nextToken": False,
        }

        def cache_keyed(parameters: dict[str, bool]) -> apigw.LambdaIntegration:
            return apigw.LambdaIntegration(self.handler, cache_key_parameters=list(parameters))

        todos = self.api.root.add_resource("todos")
        todo = todos.add_resource("{todoId}")
        list_parameters = {**caller, **read_your_writes, **page}
        todos.add_method(
            "GET",
            cache_keyed(list_parameters),
            **auth,
            request_parameters=list_parameters,
            request_validator=parameter_validator,
        )
        todos.add_method(
            "POST",
            apigw.LambdaIntegration(self.handler),
            **auth,
            request_parameters=caller,
            request_validator=body_validator,
            request_models={"application/json": create_model},
        )
        get_parameters = {**caller, **read_your_writes, **todo_path}
        todo.add_method(
            "GET",
            cache_keyed(get_parameters),
            **auth,
            request_parameters=get_parameters,
            request_validator=parameter_validator,
        )
        todo.add_method(
            "PUT",
            apigw.LambdaIntegration(self.handler),
            **auth,
            request_parameters={**caller, **todo_path},
            request_validator=body_validator,
            request_models={"application/json": update_model},
        )
        todo.add_method(
            "DELETE",
            apigw.LambdaIntegration(self.handler),
            **auth,
            request_parameters={**caller, **todo_path},
            request_validator=parameter_validator,
        )

        if options.waf_enabled:
            self.web_acl = cloudfront_web_acl(
                self,
                "WebAcl",
                rate_limit_per_5_minutes=options.waf_rate_limit_per_5_minutes,
                regional=True,
            )
            wafv2.CfnWebACLAssociation(
                self,
                "WebAclAssociation",
                resource_arn=stage.stage_arn,
                web_acl_arn=self.web_acl.attr_arn,
            )
        else:
            acknowledge(
                stage,
                "AwsSolutions-APIG3",
                "WAF is off in this stage (waf_enabled=false saves about $9/month); every method "
                "needs a Cognito token and the stage is throttled. Prod sets waf_enabled=true.",
            )


def _access_log_format() -> apigw.AccessLogFormat:
    f = apigw.AccessLogField
    return apigw.AccessLogFormat.custom(
        json.dumps(
            {
                "requestId": f.context_request_id(),
                "extendedRequestId": f.context_extended_request_id(),
                "requestTime": f.context_request_time(),
                "ip": f.context_identity_source_ip(),
                "userAgent": f.context_identity_user_agent(),
                "caller": f.context_authorizer_claims("sub"),
                "httpMethod": f.context_http_method(),
                "resourcePath": f.context_resource_path(),
                "status": f.context_status(),
                "protocol": f.context_protocol(),
                "responseLength": f.context_response_length(),
                "responseLatency": f.context_response_latency(),
                "integrationLatency": f.context_integration_latency(),
                "integrationStatus": f.context_integration_status(),
                "integrationError": f.context_integration_error_message(),
                "authorizerError": f.context_authorizer_error(),
                "wafStatus": f.context_waf_response_code(),
                "errorMessage": f.context_error_message(),
                "errorType": f.context_error_response_type(),
                "xrayTraceId": f.context_xray_trace_id(),
            }
        )
    )


_SCHEMA_TYPES = {
    "object": apigw.JsonSchemaType.OBJECT,
    "string": apigw.JsonSchemaType.STRING,
    "boolean": apigw.JsonSchemaType.BOOLEAN,
    "integer": apigw.JsonSchemaType.INTEGER,
    "null": apigw.JsonSchemaType.NULL,
}
_SCHEMA_KEYWORDS = {
    "title": "title",
    "required": "required",
    "minProperties": "min_properties",
    "additionalProperties": "additional_properties",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "minimum": "minimum",
    "maximum": "maximum",
}


def _json_schema(schema: dict) -> apigw.JsonSchema:
    """schemas.json (the handler's own validation rules) as an API Gateway model schema."""
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    kwargs: dict[str, Any] = {
        _SCHEMA_KEYWORDS[k]: v for k, v in schema.items() if k in _SCHEMA_KEYWORDS
    }
    if "$schema" in schema:
        kwargs["schema"] = apigw.JsonSchemaVersion.DRAFT4
    if "properties" in schema:
        kwargs["properties"] = {n: _json_schema(s) for n, s in schema["properties"].items()}
    unknown = set(schema) - set(_SCHEMA_KEYWORDS) - {"$schema", "type", "properties"}
    if unknown:
        raise ValueError(f"schemas.json uses keywords this converter does not know: {unknown}")
    return apigw.JsonSchema(
        type=_SCHEMA_TYPES[types[0]] if len(types) == 1 else [_SCHEMA_TYPES[t] for t in types],
        **kwargs,
    )
