"""OpenApiRestApi: a REST API imported from a checked-in OpenAPI 3.0 document (`SpecRestApi`),
every operation a Lambda proxy integration, validated, throttled, metered and logged.

    client --SigV4 (IAM) + x-api-key--> API Gateway REST (regional)
        request validator "all" on every operation: body against the document's schema,
        required parameters present (a bad request is a 400 JSON body; the function never runs)
        gateway responses: every 4xx/5xx the gateway makes is {"message", "code"} JSON, the
        body handler_kit.rest gives the function's own refusals
        stage: throttling, JSON access logs, error-level execution logs, X-Ray, metrics
        usage plan: per-key throttling and a daily quota; one key made for the first client
            --Lambda proxy, as the API's invoke role--> function (patterns/web/rest_api.py
              InvokeRole: lambda:InvokeFunction on this function only; no function policy)

The checked-in document stays clean (it is what clients are generated from); this construct
adds the `x-amazon-apigateway-*` extensions to a copy: the integration of each operation (the
function's ARN as a CloudFormation token, the invoke role's ARN as its `credentials`), its
validator, the gateway responses. What the
document says about security is kept: a `awsSigv4` scheme makes the methods AWS_IAM, an
apiKey scheme on `x-api-key` makes them require a key. `operations` lists (method, path) as the
document has them, for the tests that compare the deployed methods.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from house.compliance import acknowledge
from house.defaults import api_execution_log_group, log_group
from patterns.web.rest_api import InvokeRole

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
VALIDATOR = "all"
# The gateway's own refusals in the house error body (handler_kit.rest.error_response).
ERROR_TEMPLATE = json.dumps(
    {"message": "$context.error.messageString", "code": "$context.error.responseType"}
).replace('"$context.error.messageString"', "$context.error.messageString")


def operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, path) of every operation of an OpenAPI document, in document order."""
    return [
        (method.upper(), path)
        for path, item in document.get("paths", {}).items()
        for method in item
        if method in HTTP_METHODS
    ]


def integrated(document: dict[str, Any], uri: str, credentials: str) -> dict[str, Any]:
    """A copy of `document` with the API Gateway extensions: a Lambda proxy integration (`uri`,
    invoked as the role `credentials`, an ARN) and the request validator on every operation,
    the gateway responses."""
    body = copy.deepcopy(document)
    for item in body.get("paths", {}).values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            operation["x-amazon-apigateway-request-validator"] = VALIDATOR
            operation["x-amazon-apigateway-integration"] = {
                "type": "aws_proxy",
                "httpMethod": "POST",
                "uri": uri,
                "credentials": credentials,
                "passthroughBehavior": "when_no_match",
            }
    body["x-amazon-apigateway-request-validators"] = {
        VALIDATOR: {"validateRequestBody": True, "validateRequestParameters": True}
    }
    body["x-amazon-apigateway-gateway-responses"] = {
        kind: {
            "responseTemplates": {"application/json": ERROR_TEMPLATE},
        }
        for kind in ("DEFAULT_4XX", "DEFAULT_5XX")
    }
    return body


def _requires_key(document: dict[str, Any]) -> bool:
    schemes = document.get("components", {}).get("securitySchemes", {})
    keys = {
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "apiKey" and scheme.get("name", "").lower() == "x-api-key"
    }
    return any(keys & set(requirement) for requirement in document.get("security", []))


class OpenApiRestApi(Construct):
    """A regional REST API imported from an OpenAPI document, every operation a Lambda proxy.

    Args:
        `document`: the OpenAPI document; every operation gets the request validator (body and
            parameters) and a proxy integration with `function`. A document without operations
            raises ValueError; one whose security requires an `x-api-key` key gets a first API key
            (`api_key`) in the usage plan. Required.
        `function`: the function behind every operation; API Gateway invokes it as the API's
            invoke role (`invoke`), which may invoke this function and nothing else. Required.
        `description`: the API's, the usage plan's and the API key's description. Required.
        `throttle_rate`: steady requests per second, on the stage and per key in the usage plan.
            Required.
        `throttle_burst`: the burst above `throttle_rate`, on the stage and per key. Required.
        `quota_per_day`: requests per API key per day (the usage plan's quota). Required.
        `log_retention_days`: retention of the access and execution log groups. Required.
        `removal_policy`: the access and execution log groups'. Required.
        `stage_name`: the stage, which is also the first segment of the URL path. Default: "v1".

    Attributes: api (SpecRestApi), stage, operations, invoke (InvokeRole), usage_plan, api_key
    (None unless the document requires a key), access_logs, execution_logs, url.
    """

    api_key: apigw.IApiKey | None

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        document: dict[str, Any],
        function: lambda_.IFunction,
        description: str,
        throttle_rate: int,
        throttle_burst: int,
        quota_per_day: int,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        stage_name: str = "v1",
    ) -> None:
        super().__init__(scope, id)
        self.operations = operations(document)
        if not self.operations:
            raise ValueError(f"OpenApiRestApi {id!r}: the document has no operations")
        self.access_logs = log_group(
            self, "AccessLogs", retention_days=log_retention_days, removal_policy=removal_policy
        )
        self.invoke = InvokeRole(
            self, "InvokeRole", description=f"{description}: invokes its function"
        )
        self.api = apigw.SpecRestApi(
            self,
            "Api",
            api_definition=apigw.ApiDefinition.from_inline(
                integrated(document, self.invoke.uri(function), self.invoke.role.role_arn)
            ),
            description=description,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The account's CloudWatch Logs role belongs to the AccountBaseline stack.
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=stage_name,
                throttling_rate_limit=throttle_rate,
                throttling_burst_limit=throttle_burst,
                tracing_enabled=True,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=_access_log_format(),
                # Errors only: the access log has every request; data tracing would copy bodies.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
            ),
        )
        self.stage = self.api.deployment_stage
        self.url = self.api.url
        self.execution_logs = api_execution_log_group(
            self,
            "ExecutionLogs",
            rest_api_id=self.api.rest_api_id,
            stage_name=stage_name,
            retention_days=log_retention_days,
            removal_policy=removal_policy,
        )
        self.usage_plan = self.api.add_usage_plan(
            "UsagePlan",
            description=f"{description}: per-key throttling and daily quota",
            throttle=apigw.ThrottleSettings(rate_limit=throttle_rate, burst_limit=throttle_burst),
            quota=apigw.QuotaSettings(limit=quota_per_day, period=apigw.Period.DAY),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.stage)],
        )
        self.api_key = None
        if _requires_key(document):
            self.api_key = self.api.add_api_key("FirstClientKey", description=description)
            self.usage_plan.add_api_key(self.api_key)

        acknowledge(
            self.stage,
            "AwsSolutions-APIG3",
            "No WAF on this stage: every method requires a SigV4 signature by an IAM principal "
            "of the account (AWS_IAM) and, where the document says so, an API key; the stage and "
            "the usage plan throttle, and the request validator refuses malformed bodies before "
            "the function runs.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "Request validation is in the imported OpenAPI document: the "
            "x-amazon-apigateway-request-validators 'all' validator (body and parameters) is set "
            "on every operation by OpenApiRestApi (cdk-nag looks for RequestValidator resources "
            "only).",
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
                "caller": f.context_identity_caller(),
                "apiKeyId": f.context_identity_api_key_id(),
                "httpMethod": f.context_http_method(),
                "resourcePath": f.context_resource_path(),
                "status": f.context_status(),
                "protocol": f.context_protocol(),
                "responseLength": f.context_response_length(),
                "responseLatency": f.context_response_latency(),
                "integrationLatency": f.context_integration_latency(),
                "integrationStatus": f.context_integration_status(),
                "errorMessage": f.context_error_message(),
                "errorType": f.context_error_response_type(),
                "validationError": f.context_error_validation_error_string(),
                "xrayTraceId": f.context_xray_trace_id(),
            }
        )
    )
