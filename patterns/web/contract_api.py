"""ContractApi: a REST API generated from an OpenAPI 3 contract, one Lambda function per
operation, meant to sit behind a CloudFront distribution (the house static site's /api/*).

    CloudFront /api/*  (forwards Authorization, Content-Type and the contract's query strings;
                        the API answers Cache-Control: no-store, so nothing is cached)
        --> API Gateway REST, regional, stage v1: throttling, JSON access log, error-level
            execution log, X-Ray; resources and methods as the contract's paths; every method
            validates its parameters, and its body against the contract's schema (a model)
              operations with a security requirement: Cognito user pool authorizer (ID token)
        --> the operation's own function (Lambda proxy, invoked as the API's one InvokeRole,
            patterns/web/rest_api.py: no function policy): it holds only that operation's grants

The contract is read by the caller and handed over as plain data: `operations` (objects with
operation_id, method, path, parameters (name, where, required), body (a schema name or None)
and secured, like lambda_src/employee_api/contract.py's), `schemas` (name -> JSON Schema in the
draft-4 subset API Gateway models take) and `functions` (operation id -> function). Adding an
operation to the contract without a function fails the synth.

API Gateway's own refusals answer in the REST kit's one error body `{"message", "code"}`
(handler_kit.rest): a body or parameter the model refuses is a 400 naming the problem, a missing
or invalid token a 401, an unknown route a 404 (never API Gateway's 403 "Missing Authentication
Token"), with `Cache-Control: no-store`.

Attributes: api, stage, authorizer (or None), methods (operation id -> Method), invoke
(InvokeRole: what API Gateway may invoke), access_logs, execution_logs, origin, cache_policy,
origin_request_policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from house.compliance import acknowledge
from house.defaults import api_execution_log_group, log_group
from house.names import CLOUDFRONT_POLICY_NAME_MAX, physical_name
from patterns.web.rest_api import InvokeRole

STAGE_NAME = "v1"


class Parameter(Protocol):
    name: str
    where: str
    required: bool


class Operation(Protocol):
    operation_id: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    body: str | None
    secured: bool


class ContractApi(Construct):
    """The REST API of an OpenAPI 3 contract, one function per operation (module docstring).

    Args:
        `operations`: the contract's operations (operation id, method, path, parameters, body
            schema name, secured); each becomes a method validating its parameters and body.
            Required.
        `schemas`: schema name -> JSON Schema (API Gateway's draft-4 subset), one model each.
            Required.
        `functions`: operation id -> the function behind it (Lambda proxy); an operation
            without one fails the synth (ValueError). Required.
        `description`: the REST API's description. Required.
        `log_retention_days`: retention of the access log and execution log groups. Required.
        `removal_policy`: those log groups' (the stage's). Required.
        `throttle_rate`: the stage's steady request limit (requests per second). Required.
        `throttle_burst`: the stage's burst request limit. Required.
        `user_pool`: the pool whose ID tokens the secured operations need (Cognito
            authorizer); None: no authorizer, every operation is open. Required.
        `open_operations_reason`: why an open operation is fine, the reason of each open
            method's AwsSolutions-APIG4 and COG4 acknowledgments. Required.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        operations: Iterable[Operation],
        schemas: Mapping[str, dict],
        functions: Mapping[str, lambda_.IFunction],
        description: str,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        throttle_rate: int,
        throttle_burst: int,
        user_pool: cognito.IUserPool | None,
        open_operations_reason: str,
    ) -> None:
        super().__init__(scope, id)
        operations = list(operations)
        missing = [o.operation_id for o in operations if o.operation_id not in functions]
        if missing:
            raise ValueError(f"ContractApi {id!r}: no function for operation(s) {missing}")

        self.access_logs = log_group(
            self, "AccessLogs", retention_days=log_retention_days, removal_policy=removal_policy
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            description=description,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The account's CloudWatch Logs role is the AccountBaseline stack's.
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=throttle_rate,
                throttling_burst_limit=throttle_burst,
                tracing_enabled=True,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                # Errors only: data tracing would copy request bodies (personal data) and
                # tokens into the logs.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
            ),
        )
        self.stage = self.api.deployment_stage
        self.execution_logs = api_execution_log_group(
            self,
            "ExecutionLogs",
            rest_api_id=self.api.rest_api_id,
            stage_name=STAGE_NAME,
            retention_days=log_retention_days,
            removal_policy=removal_policy,
        )
        # Callers use the distribution's /api/ (behind its optional WAF), not execute-api.
        self.api.node.try_remove_child("Endpoint")

        self.authorizer = (
            apigw.CognitoUserPoolsAuthorizer(
                self,
                "Authorizer",
                cognito_user_pools=[user_pool],
                results_cache_ttl=cdk.Duration.minutes(5),
            )
            if user_pool is not None
            else None
        )
        validator = self.api.add_request_validator(
            "Validate", validate_request_body=True, validate_request_parameters=True
        )
        models = {
            name: self.api.add_model(
                name,
                content_type="application/json",
                model_name=name,
                schema=json_schema(schema, top=True),
            )
            for name, schema in schemas.items()
        }
        self.invoke = InvokeRole(
            self, "InvokeRole", description=f"{description}: invokes its operations' functions"
        )
        resources: dict[str, apigw.IResource] = {"": self.api.root}
        self.methods: dict[str, apigw.Method] = {}
        for operation in operations:
            resource = self._resource(resources, operation.path)
            secured = operation.secured and self.authorizer is not None
            where = {"path": "path", "query": "querystring", "header": "header"}
            method = resource.add_method(
                operation.method,
                self.invoke.integration(functions[operation.operation_id]),
                request_validator=validator,
                request_parameters={
                    f"method.request.{where[p.where]}.{p.name}": p.required
                    for p in operation.parameters
                },
                request_models={"application/json": models[operation.body]}
                if operation.body
                else None,
                authorizer=self.authorizer if secured else None,
                authorization_type=apigw.AuthorizationType.COGNITO if secured else None,
            )
            self.methods[operation.operation_id] = method
            if not secured:
                for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                    acknowledge(
                        method,
                        rule,
                        f"{operation.operation_id} is open by design: {open_operations_reason}",
                    )
        self._gateway_responses()
        acknowledge(
            self.stage,
            "AwsSolutions-APIG3",
            "The stage is published through the site's CloudFront distribution, where the "
            "optional CLOUDFRONT web ACL applies; a second, regional web ACL would bill again "
            "and the stage has its own throttling.",
        )

        query_strings = sorted(
            {p.name for o in operations for p in o.parameters if p.where == "query"}
        )
        self.origin = origins.RestApiOrigin(self.api)
        # Caching is the origin's to decide (its Cache-Control; the REST kit sends no-store):
        # the policy exists to put Authorization and the contract's query strings in the
        # request CloudFront forwards, which only a cache policy can do for Authorization.
        self.cache_policy = cloudfront.CachePolicy(
            self,
            "EdgeCache",
            cache_policy_name=physical_name(
                self, "EdgeCache", max_length=CLOUDFRONT_POLICY_NAME_MAX
            ),
            comment="API: Authorization and the contract's query strings; origin decides TTL",
            default_ttl=cdk.Duration.seconds(0),
            min_ttl=cdk.Duration.seconds(0),
            max_ttl=cdk.Duration.seconds(1),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.allow_list(*query_strings)
            if query_strings
            else cloudfront.CacheQueryStringBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization"),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
        )
        # Never Host: API Gateway routes on its own host name.
        self.origin_request_policy = cloudfront.OriginRequestPolicy(
            self,
            "OriginRequests",
            origin_request_policy_name=physical_name(
                self, "OriginRequests", max_length=CLOUDFRONT_POLICY_NAME_MAX
            ),
            comment="API: forward Content-Type; no cookies, no other query strings",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list("Content-Type"),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.none(),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
        )

    def _resource(self, resources: dict[str, apigw.IResource], path: str) -> apigw.IResource:
        parent = ""
        for part in path.strip("/").split("/"):
            here = f"{parent}/{part}"
            if here not in resources:
                resources[here] = resources[parent].add_resource(part)
            parent = here
        return resources[parent]

    def _gateway_responses(self) -> None:
        def respond(id: str, kind: apigw.ResponseType, message: str, code: str, status=None):
            self.api.add_gateway_response(
                id,
                type=kind,
                status_code=status,
                response_headers={"Cache-Control": "'no-store'"},
                templates={
                    "application/json": '{"message": ' + message + ', "code": "' + code + '"}'
                },
            )

        respond(
            "UnknownRoute",
            apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
            '"no such route"',
            "NoSuchRoute",
            "404",
        )
        respond(
            "Unauthorized",
            apigw.ResponseType.UNAUTHORIZED,
            '"sign in first: a valid Cognito ID token in Authorization"',
            "NotAuthenticated",
        )
        for id, kind in (
            ("InvalidBody", apigw.ResponseType.BAD_REQUEST_BODY),
            ("InvalidParameters", apigw.ResponseType.BAD_REQUEST_PARAMETERS),
        ):
            respond(id, kind, '"$context.error.validationErrorString"', "InvalidInput")
        for id, kind in (
            ("Other4xx", apigw.ResponseType.DEFAULT_4_XX),
            ("Other5xx", apigw.ResponseType.DEFAULT_5_XX),
        ):
            respond(id, kind, "$context.error.messageString", "$context.error.responseType")


_TYPES = {
    "object": apigw.JsonSchemaType.OBJECT,
    "array": apigw.JsonSchemaType.ARRAY,
    "string": apigw.JsonSchemaType.STRING,
    "boolean": apigw.JsonSchemaType.BOOLEAN,
    "integer": apigw.JsonSchemaType.INTEGER,
    "number": apigw.JsonSchemaType.NUMBER,
    "null": apigw.JsonSchemaType.NULL,
}
_KEYWORDS = {
    "title": "title",
    "description": "description",
    "required": "required",
    "enum": "enum",
    "additionalProperties": "additional_properties",
    "minProperties": "min_properties",
    "maxProperties": "max_properties",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "minimum": "minimum",
    "maximum": "maximum",
    "minItems": "min_items",
    "maxItems": "max_items",
}


def json_schema(schema: dict, *, top: bool = False) -> apigw.JsonSchema:
    """A JSON Schema (draft 4, as a dict) as an API Gateway model schema. A keyword API Gateway
    models do not take, or this converter does not know, is refused: never silently dropped."""
    unknown = set(schema) - set(_KEYWORDS) - {"type", "properties", "items", "$schema"}
    if unknown:
        raise ValueError(f"json_schema: keyword(s) {sorted(unknown)} cannot go into a model")
    kwargs: dict[str, Any] = {_KEYWORDS[k]: v for k, v in schema.items() if k in _KEYWORDS}
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        kwargs["type"] = _TYPES[types[0]] if len(types) == 1 else [_TYPES[t] for t in types]
    if "properties" in schema:
        kwargs["properties"] = {n: json_schema(s) for n, s in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        kwargs["items"] = json_schema(schema["items"])
    if top:
        kwargs["schema"] = apigw.JsonSchemaVersion.DRAFT4
    return apigw.JsonSchema(**kwargs)
