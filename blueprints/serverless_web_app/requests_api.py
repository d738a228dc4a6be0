"""RideRequestsApi: the app's REST API over one DynamoDB table, behind the site's own origin.

    browser ──HTTPS + ID token──▶ site origin /api/* (CloudFront behaviour or Amplify rewrite)
                                   │      (cross_origin_api: the execute-api URL, CORS pinned)
                                   ▼
                                 API Gateway REST, regional, stage v1
                                   Cognito authorizer on every method (not on CORS preflights)
                                   request models from schemas.json, validators, throttling,
                                   JSON access logs, error-level execution logs, X-Ray
                                   [regional WAF web ACL where the API is reached directly]
                                   │ Lambda proxy
                                   ▼
                                 Handler (lambda_src/ride_requests)
                                   │ GetItem/PutItem/UpdateItem/DeleteItem/Query, this table
                                   ▼
                                 Table (userId, requestId), on demand, TTL expiresAt, PITR

Per-user isolation, decided: the function runs with its own role, which may reach every item of
the table; `dynamodb:LeadingKeys` would only help if it ran with each caller's credentials. So
the guarantee is in the code: every key the handler builds starts with the `sub` the authorizer
verified (lambda_src/ride_requests/store.py), and the wiring tests drive two users against the
deployed wiring and check each call's key.

Usage:

    api = RideRequestsApi(self, "Api", user_pool=identity.user_pool, settings=settings,
                          log_retention_days=14, removal_policy=stage.removal_policy,
                          cors_origin=None)  # or the site's origin (cross_origin_api)
    api.api, api.table, api.handler, api.origin (for a CloudFront behaviour), api.base_url
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from blueprints.serverless_web_app.settings import ServerlessWebAppSettings
from house.compliance import acknowledge
from house.defaults import api_execution_log_group, log_group
from house.edge import cloudfront_web_acl
from house.lambda_function import LAMBDA_SRC, python_function
from house.settings import keeps_data
from patterns.web.rest_api import InvokeRole, access_log_format, one_error_body, schema_model

SCHEMAS = json.loads((LAMBDA_SRC / "ride_requests" / "schemas.json").read_text())
STAGE_NAME = "v1"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TTL_ATTRIBUTE = "expiresAt"
# What the data actions of the handler are, exactly (the wiring tests run it under this grant).
DATA_ACTIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query")


# A rider's list of requests: this many per page unless ?limit= asks for up to MAX_PAGE_SIZE.
PAGE_SIZE = 20
MAX_PAGE_SIZE = 50


class RideRequestsApi(Construct):
    """Attributes: table, handler, api, authorizer, methods (verb, path) -> Method, invoke
    (InvokeRole: what API Gateway may invoke), origin, base_url (the execute-api URL of /api),
    web_acl (or None)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        user_pool: cognito.IUserPool,
        settings: ServerlessWebAppSettings,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        cors_origin: str | None = None,
        regional_waf: bool = False,
        no_regional_waf_because: str = "",
    ) -> None:
        """`cors_origin`: the one browser origin allowed to call the API directly (the site's),
        or None when the API is reached through the site's own origin; `regional_waf`: a
        REGIONAL web ACL on the stage (where the API is reached directly), else
        `no_regional_waf_because` says why none (the AwsSolutions-APIG3 acknowledgment)."""
        super().__init__(scope, id)
        # On demand: idle costs nothing. The TTL attribute lets DynamoDB delete requests after
        # their pickup, free of charge; PITR keeps 35 days of restorable history.
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="userId", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="requestId", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=keeps_data(removal_policy),
            removal_policy=removal_policy,
        )
        self.handler = python_function(
            self,
            "Handler",
            source="ride_requests",
            description="Ride-request REST API: one user's requests, identity from the Cognito "
            "authorizer",
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
            environment={
                "TABLE_NAME": self.table.table_name,
                "RETENTION_DAYS": str(settings.request_retention_days),
                "MAX_DAYS_AHEAD": str(settings.max_days_ahead),
                "PAGE_SIZE": str(PAGE_SIZE),
                "MAX_PAGE_SIZE": str(MAX_PAGE_SIZE),
                "ALLOWED_ORIGINS": cors_origin or "",
            },
            invoked_synchronously_by="API Gateway",
        )
        self.table.grant(self.handler, *(f"dynamodb:{action}" for action in DATA_ACTIONS))
        self._build_api(settings, log_retention_days, removal_policy, user_pool, cors_origin)
        self.web_acl = None
        stage = self.api.deployment_stage
        if regional_waf:
            self.web_acl = cloudfront_web_acl(
                self, "WebAcl", rate_limit_per_5_minutes=settings.waf_rate_limit, regional=True
            )
            wafv2.CfnWebACLAssociation(
                self,
                "WebAclAssociation",
                resource_arn=stage.stage_arn,
                web_acl_arn=self.web_acl.attr_arn,
            )
        else:
            acknowledge(stage, "AwsSolutions-APIG3", no_regional_waf_because)

    def _build_api(
        self,
        settings: ServerlessWebAppSettings,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        user_pool: cognito.IUserPool,
        cors_origin: str | None,
    ) -> None:
        access_logs = log_group(
            self, "AccessLogs", retention_days=log_retention_days, removal_policy=removal_policy
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            description="ServerlessWebApp ride-request API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The account-wide CloudWatch role belongs to the AccountBaseline stack.
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=settings.api_throttle_rate,
                throttling_burst_limit=settings.api_throttle_burst,
                tracing_enabled=True,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=access_log_format(),
                # Errors only: request bodies (pickup addresses) stay out of the logs.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
            ),
        )
        # The site shows where the API is; RestApi's own output would repeat it.
        self.api.node.try_remove_child("Endpoint")
        self.execution_logs = api_execution_log_group(
            self,
            "ExecutionLogs",
            rest_api_id=self.api.rest_api_id,
            stage_name=STAGE_NAME,
            retention_days=log_retention_days,
            removal_policy=removal_policy,
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
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
        models = {
            name: self.api.add_model(
                title,
                content_type="application/json",
                model_name=title,
                schema=schema_model(SCHEMAS[name]),
            )
            for name, title in (("create", "NewRideRequest"), ("update", "RideRequestChange"))
        }
        # CORS only where the page calls the API cross-origin: preflights (OPTIONS) carry no
        # token by the browser's rules, so they are answered by API Gateway itself (MOCK) with
        # no authorizer, for the site's one origin; every other method needs the authorizer.
        cors = (
            apigw.CorsOptions(
                allow_origins=[cors_origin],
                allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", IDEMPOTENCY_HEADER],
                expose_headers=["Location", "Idempotent-Replayed"],
                max_age=cdk.Duration.minutes(10),
            )
            if cors_origin
            else None
        )
        api_root = self.api.root.add_resource("api", default_cors_preflight_options=cors)
        requests = api_root.add_resource("requests", default_cors_preflight_options=cors)
        one = requests.add_resource("{requestId}", default_cors_preflight_options=cors)
        auth = {
            "authorization_type": apigw.AuthorizationType.COGNITO,
            "authorizer": self.authorizer,
        }
        caller = {"method.request.header.Authorization": True}
        path = {"method.request.path.requestId": True}
        page = {
            "method.request.querystring.limit": False,
            "method.request.querystring.nextToken": False,
        }
        # API Gateway invokes the handler as this role (no resource policy on the function).
        self.invoke = InvokeRole(
            self, "InvokeRole", description="Ride requests API: invokes the requests handler"
        )
        integration = self.invoke.integration(self.handler)
        self.methods = {
            ("GET", "/api/requests"): requests.add_method(
                "GET",
                integration,
                **auth,
                request_parameters={**caller, **page},
                request_validator=parameter_validator,
            ),
            ("POST", "/api/requests"): requests.add_method(
                "POST",
                integration,
                **auth,
                request_parameters={
                    **caller,
                    f"method.request.header.{IDEMPOTENCY_HEADER}": True,
                },
                request_validator=body_validator,
                request_models={"application/json": models["create"]},
            ),
            ("GET", "/api/requests/{requestId}"): one.add_method(
                "GET",
                integration,
                **auth,
                request_parameters={**caller, **path},
                request_validator=parameter_validator,
            ),
            ("PATCH", "/api/requests/{requestId}"): one.add_method(
                "PATCH",
                integration,
                **auth,
                request_parameters={**caller, **path},
                request_validator=body_validator,
                request_models={"application/json": models["update"]},
            ),
            ("DELETE", "/api/requests/{requestId}"): one.add_method(
                "DELETE",
                integration,
                **auth,
                request_parameters={**caller, **path},
                request_validator=parameter_validator,
            ),
        }
        # A refusal a browser on another origin cannot read looks like a network error to the
        # page (the classic "CORS error" that is really a 401): refusals carry the origin too.
        one_error_body(
            self.api,
            not_authenticated="sign in first (Cognito ID token in Authorization)",
            headers={"Access-Control-Allow-Origin": f"'{cors_origin}'"} if cors_origin else None,
        )
        self.origin = origins.RestApiOrigin(self.api)
        self.base_url = self.api.url_for_path("/api")
