"""TodoApi: a Cognito-protected REST API over one DynamoDB table, optionally read-cached twice.

    app ──HTTPS + ID token──▶ API Gateway REST (regional or edge)      ┌──────────────┐
                              Cognito authorizer on every method        │ response     │
                              request models + validators               │ cache (GET), │
                              stage throttling, JSON access logs, X-Ray │ keyed on the │
                              error-level execution logs                │ Authorization│
                              [WAF web ACL]                             │ header       │
                                    │ Lambda proxy, as InvokeRole        └──────────────┘
                                    ▼
                              Handler (lambda_src/todo_api) + dynamodb_client layer
                                    │ [in the VPC's isolated subnets when DAX is on]
                                    ▼
                              [DAX cluster, TLS] ──▶ Table (userId, todoId), on demand, PITR

Usage:

    api = TodoApi(self, "TodoApi", user_pool=identity.user_pool,
                  options=settings,  # a TodoApiOptions (MyTodoList's settings are one)
                  log_retention_days=14, removal_policy=stage.removal_policy,
                  vpc=network)  # where DAX lives when options.dax is on
    api.url, api.table, api.handler, api.api, api.invoke (InvokeRole), api.cache (DaxCache or None)

The caches and writes: caching is enabled on the two GET methods only, so POST/PUT/DELETE always
reach the handler. The GET cache key is the `Authorization` header (one user never receives
another's cached answer), the path/query parameters, and `X-Last-Write`, which the handler returns
on every write: a client that echoes it gets a new cache key right after its own write (a miss,
then a strongly consistent read that bypasses DAX), so it never sees its pre-write list. API
Gateway's own invalidation (`Cache-Control: max-age=0`) needs IAM-signed callers; these callers
carry Cognito tokens, so the cache key does the job instead.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct
from pydantic import Field, model_validator

from house.compliance import acknowledge
from house.defaults import api_execution_log_group, log_group
from house.edge import cloudfront_web_acl
from house.lambda_function import LAMBDA_SRC, python_function, python_layer
from house.network import ISOLATED
from house.settings import require
from house.types import Origin
from patterns.data.dax_cache import DaxCache, DaxSettings
from patterns.web.rest_api import InvokeRole, access_log_format, schema_model

SCHEMAS = json.loads((LAMBDA_SRC / "todo_api" / "schemas.json").read_text())
LAST_WRITE_HEADER = "X-Last-Write"
# API Gateway cache sizes (GB). Each bills a fixed hourly rate while enabled, traffic or not;
# the rates are in docgen/prices.toml ([apigateway_cache_hour.sizes]).
CACHE_SIZES = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")


class TodoApiOptions(DaxSettings):
    """The API's settings. MyTodoList's settings model inherits these fields, so cdk.json names
    them as they are here and the stack hands its settings over as they are."""

    endpoint_type: Literal["REGIONAL", "EDGE"] = Field(
        "REGIONAL",
        description="REGIONAL: the API in its region; EDGE: behind an AWS-managed CloudFront "
        "distribution (helps callers far from the region).",
    )
    api_throttle_rate: int = Field(
        20, ge=1, le=10_000, description="Requests per second the API stage accepts (steady)."
    )
    api_throttle_burst: int = Field(
        40, ge=1, le=10_000, description="Requests the API stage accepts in a burst."
    )
    allowed_origins: tuple[Origin, ...] = Field(
        (), description="Browser origins allowed by CORS (none: no CORS headers)."
    )
    api_cache: bool = Field(
        False,
        description="API Gateway's response cache on the two GET methods, keyed per caller. "
        "Billed per hour by cache size while on.",
    )
    api_cache_size_gb: Literal[CACHE_SIZES] = Field(
        "0.5", description="Size of the API cache, in GB; larger sizes cost more per hour."
    )
    api_cache_ttl_seconds: int = Field(
        30, ge=1, le=3600, description="How long the API cache keeps a GET response, in seconds."
    )
    waf: bool = Field(
        False,
        description="A WAF web ACL on the API stage (AWS managed rules + a per-IP rate limit). "
        "Billed per web ACL, per rule and per million requests.",
    )
    waf_rate_limit: int = Field(
        1000,
        ge=100,
        le=2_000_000_000,
        description="Requests per IP per 5 minutes above which WAF blocks the IP.",
    )

    @model_validator(mode="after")
    def _api_rules(self) -> TodoApiOptions:
        require(
            self.api_throttle_rate <= self.api_throttle_burst,
            "api_throttle_burst",
            self.api_throttle_burst,
            f"allowed: {self.api_throttle_rate} (api_throttle_rate)..10000",
        )
        return self


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
        vpc: ec2.IVpc | None = None,
        dax_subnets: ec2.SubnetSelection = ISOLATED,
        stage_name: str = "v1",
        page_size: int = 25,
        max_page_size: int = 100,
    ) -> None:
        """`vpc`: where DAX and the handler live when `options.dax` is on (needed then);
        `dax_subnets`: which of its subnets (default: the isolated ones)."""
        super().__init__(scope, id)
        if options.dax and vpc is None:
            raise ValueError(f"TodoApi {id!r}: options.dax needs the vpc DAX lives in")
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
            "PAGE_SIZE": str(page_size),
            "MAX_PAGE_SIZE": str(max_page_size),
            "ALLOWED_ORIGINS": ",".join(options.allowed_origins),
            # Without DAX, DynamoDB's eventually consistent reads settle within about a second.
            "READ_YOUR_WRITES_SECONDS": str(options.dax_query_ttl_seconds if options.dax else 5),
        }
        network: dict[str, Any] = {}
        self.cache: DaxCache | None = None
        if options.dax:
            subnets = dax_subnets
            self.cache = DaxCache(
                self,
                "Cache",
                vpc=vpc,
                tables=[self.table],
                subnets=subnets,
                node_type=options.dax_node_type,
                nodes=options.dax_nodes,
                item_ttl=cdk.Duration.seconds(options.dax_item_ttl_seconds),
                query_ttl=cdk.Duration.seconds(options.dax_query_ttl_seconds),
                description="Read cache of the to-do table",
            )
            environment.update(self.cache.environment)
            self.security_group = ec2.SecurityGroup(
                self,
                "HandlerSecurityGroup",
                vpc=vpc,
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
            self.endpoint = vpc.add_gateway_endpoint(
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
                "vpc": vpc,
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

        self._build_api(options, stage_name, log_retention_days, removal_policy, user_pool)

    # -- the REST API -----------------------------------------------------------------------------

    def _build_api(
        self,
        options: TodoApiOptions,
        stage_name: str,
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
            cache_ttl=cdk.Duration.seconds(options.api_cache_ttl_seconds),
            cache_data_encrypted=True,
            logging_level=apigw.MethodLoggingLevel.ERROR,
            data_trace_enabled=False,
            metrics_enabled=True,
            throttling_rate_limit=options.api_throttle_rate,
            throttling_burst_limit=options.api_throttle_burst,
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
                stage_name=stage_name,
                throttling_rate_limit=options.api_throttle_rate,
                throttling_burst_limit=options.api_throttle_burst,
                tracing_enabled=True,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=access_log_format(),
                # Errors only: INFO would log every request again (the access log has them) and
                # data tracing would copy request bodies (users' to-dos) into the logs.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                cache_cluster_enabled=options.api_cache,
                cache_cluster_size=options.api_cache_size_gb if options.api_cache else None,
                # Stage-wide too (CT.APIGATEWAY.PR.3): a method cached later is encrypted even if
                # its own settings forget to say so.
                cache_data_encrypted=options.api_cache or None,
                method_options={"/todos/GET": cached, "/todos/{todoId}/GET": cached}
                if options.api_cache
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
            stage_name=stage_name,
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
            schema=schema_model(SCHEMAS["create"]),
        )
        update_model = self.api.add_model(
            "TodoUpdate",
            content_type="application/json",
            model_name="TodoUpdate",
            schema=schema_model(SCHEMAS["update"]),
        )

        auth = {"authorization_type": apigw.AuthorizationType.COGNITO, "authorizer": authorizer}
        caller = {"method.request.header.Authorization": True}
        read_your_writes = {f"method.request.header.{LAST_WRITE_HEADER}": False}
        todo_path = {"method.request.path.todoId": True}
        page = {
            "method.request.querystring.limit": False,
            "method.request.querystring.nextToken": False,
        }

        # API Gateway invokes the handler as this role (no resource policy on the function).
        self.invoke = InvokeRole(
            self, "InvokeRole", description="MyTodoList REST API: invokes the to-do handler"
        )

        def cache_keyed(parameters: dict[str, bool]) -> apigw.AwsIntegration:
            return self.invoke.integration(self.handler, cache_key_parameters=list(parameters))

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
            self.invoke.integration(self.handler),
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
            self.invoke.integration(self.handler),
            **auth,
            request_parameters={**caller, **todo_path},
            request_validator=body_validator,
            request_models={"application/json": update_model},
        )
        todo.add_method(
            "DELETE",
            self.invoke.integration(self.handler),
            **auth,
            request_parameters={**caller, **todo_path},
            request_validator=parameter_validator,
        )

        if options.waf:
            self.web_acl = cloudfront_web_acl(
                self,
                "WebAcl",
                rate_limit_per_5_minutes=options.waf_rate_limit,
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
                "WAF is off in this stage (waf=false saves the web ACL's monthly fees); every "
                "method needs a Cognito token and the stage is throttled. Prod sets waf=true.",
            )
