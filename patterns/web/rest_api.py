"""What every REST API of the library (API Gateway, Lambda proxy) builds the same way: how API
Gateway invokes its functions, request models from the handler's own `schemas.json`, the JSON
access-log line, and API Gateway's own error answers in the handlers' one error body.

    invoke = InvokeRole(self, "InvokeRole")             # one per API
    method = resource.add_method("GET", invoke.integration(handler, cache_key_parameters=[...]))
    models = schema_model(SCHEMAS["create"])           # apigw.JsonSchema for api.add_model(...)
    access_log_format=access_log_format()               # StageOptions(...)
    one_error_body(api, not_authenticated="sign in first (Cognito ID token in Authorization)")

How API Gateway invokes the functions, decided: as an integration role (`InvokeRole`), never
through a resource policy on the function. CDK's `LambdaIntegration` adds an
`AWS::Lambda::Permission` for apigateway.amazonaws.com per method, whose source is the API's
execute-api ARN, a `Fn::Join` (the account is not known at synth); AWS Control Tower's proactive
control CT.LAMBDA.PR.2 accepts a service principal's permission only with a literal or locally
referenced source, so a hook-enforcing organisation refuses it at deploy. With a role there is no
function policy at all, and what API Gateway may invoke is one IAM policy naming exactly the
API's functions (tests/test_api_invoke.py checks every stack for both).

The error body is handler_kit.rest's `{"message": ..., "code": ...}`, so a client reads one shape
whether the gateway or the function refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IValidation

APIGATEWAY = "apigateway.amazonaws.com"

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


class InvokeRole(Construct):
    """The role an API's Lambda proxy integrations invoke its functions as (module docstring):
    assumable by API Gateway only, allowed `lambda:InvokeFunction` on exactly the functions
    (or aliases) integrated through it, by their ARN: no wildcard, no `:*` for versions (a
    proxy integration invokes the ARN in its URI, nothing else).

    The grant is an inline policy of the role, so it exists as soon as the role does, and every
    method (or OpenAPI integration) names the role, so CloudFormation creates the role first.
    The role's trust has no source condition: an integration can name a role only if whoever
    writes the integration may `iam:PassRole` it (the stack's CloudFormation execution role).
    A role through which nothing is integrated fails the synth.

    Args:
        `description`: the role's description (which API it serves). Default: "API Gateway
            invokes this API's Lambda functions as this role".

    Attributes: role, functions (what it may invoke, in the order first integrated).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        description: str = "API Gateway invokes this API's Lambda functions as this role",
    ) -> None:
        super().__init__(scope, id)
        self.functions: list[lambda_.IFunction] = []
        self._invoke = iam.PolicyStatement(actions=["lambda:InvokeFunction"])
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(APIGATEWAY),
            description=description,
            inline_policies={"Invoke": iam.PolicyDocument(statements=[self._invoke])},
        )
        self.node.add_validation(_Integrated(self))

    def allow(self, function: lambda_.IFunction) -> None:
        """Let API Gateway invoke `function` (once per function, however many methods)."""
        if not any(f is function for f in self.functions):
            self.functions.append(function)
            self._invoke.add_resources(function.function_arn)

    def uri(self, function: lambda_.IFunction) -> str:
        """The Lambda proxy integration URI of `function` (for an OpenAPI document's
        `x-amazon-apigateway-integration`), after allowing it."""
        self.allow(function)
        return cdk.Fn.sub(
            "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
            "${FunctionArn}/invocations",
            {"FunctionArn": function.function_arn},
        )

    def integration(self, function: lambda_.IFunction, **options: Any) -> apigw.AwsIntegration:
        """A Lambda proxy integration with `function` that runs as this role; `options`: more
        `apigw.IntegrationOptions` (e.g. `cache_key_parameters`)."""
        self.allow(function)
        return apigw.AwsIntegration(
            service="lambda",
            proxy=True,
            path=f"2015-03-31/functions/{function.function_arn}/invocations",
            options=apigw.IntegrationOptions(credentials_role=self.role, **options),
        )


@jsii.implements(IValidation)
class _Integrated:
    def __init__(self, invoke: InvokeRole) -> None:
        self._invoke = invoke

    def validate(self) -> list[str]:
        if self._invoke.functions:
            return []
        return [f"{self._invoke.node.path}: no function is integrated through this role"]


def schema_model(schema: dict) -> apigw.JsonSchema:
    """A schema of a handler's schemas.json (its own validation rules, handler_kit.schema) as an
    API Gateway model schema: one file, two checks that cannot drift apart."""
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    kwargs: dict[str, Any] = {
        _SCHEMA_KEYWORDS[k]: v for k, v in schema.items() if k in _SCHEMA_KEYWORDS
    }
    if "$schema" in schema:
        kwargs["schema"] = apigw.JsonSchemaVersion.DRAFT4
    if "properties" in schema:
        kwargs["properties"] = {n: schema_model(s) for n, s in schema["properties"].items()}
    unknown = set(schema) - set(_SCHEMA_KEYWORDS) - {"$schema", "type", "properties"}
    if unknown:
        raise ValueError(f"schemas.json uses keywords this converter does not know: {unknown}")
    return apigw.JsonSchema(
        type=_SCHEMA_TYPES[types[0]] if len(types) == 1 else [_SCHEMA_TYPES[t] for t in types],
        **kwargs,
    )


def access_log_format() -> apigw.AccessLogFormat:
    """One JSON line per request: who (the authorizer's `sub`), what, how it ended and why."""
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


def one_error_body(
    api: apigw.RestApi,
    *,
    not_authenticated: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """API Gateway's own errors in the handlers' one error body, never cached.

    An unknown route answers 404 instead of API Gateway's 403 "Missing Authentication Token",
    and a denied caller 401 instead of 403: a CloudFront distribution in front maps 403 to its
    site's 404 page, and a 403 would also tell a caller that something exists. `headers`: more
    response headers (quoted API Gateway values, e.g. `{"Access-Control-Allow-Origin":
    "'https://example.com'"}` so a browser on another origin can read the refusal)."""
    extra = {name: value for name, value in (headers or {}).items()}

    def respond(
        id: str, kind: apigw.ResponseType, message: str, code: str, status: str | None = None
    ) -> None:
        api.add_gateway_response(
            id,
            type=kind,
            status_code=status,
            response_headers={"Cache-Control": "'no-store'", **extra},
            templates={"application/json": '{"message": ' + message + ', "code": "' + code + '"}'},
        )

    respond(
        "UnknownRoute",
        apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
        '"no such route"',
        "NoSuchRoute",
        "404",
    )
    respond(
        "AccessDenied",
        apigw.ResponseType.ACCESS_DENIED,
        json.dumps(not_authenticated),
        "NotAuthenticated",
        "401",
    )
    respond(
        "InvalidBody",
        apigw.ResponseType.BAD_REQUEST_BODY,
        '"$context.error.validationErrorString"',
        "InvalidInput",
    )
    respond(
        "InvalidParameters",
        apigw.ResponseType.BAD_REQUEST_PARAMETERS,
        '"$context.error.validationErrorString"',
        "InvalidInput",
    )
    respond(
        "Other4xx",
        apigw.ResponseType.DEFAULT_4_XX,
        "$context.error.messageString",
        "$context.error.responseType",
    )
    respond(
        "Other5xx",
        apigw.ResponseType.DEFAULT_5_XX,
        "$context.error.messageString",
        "$context.error.responseType",
    )
