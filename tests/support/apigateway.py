"""API Gateway REST (Lambda proxy) events, as a Cognito-authorized stage delivers them, and the
invocation API Gateway makes before the handler runs (`integration_invokes`)."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.support.iam_enforcement import authorize


def rest_api_event(
    method: str,
    path: str,
    *,
    resource: str,
    path_parameters: dict | None,
    headers: dict[str, str],
    query: dict | None = None,
    body: Any = None,
    claims: dict | None = None,
    stage: str = "v1",
    user_agent: str = "curl/8.5.0",
    base64_body: bool = False,
) -> dict:
    """The proxy event for `method path` matched to API `resource` (e.g. "/todos/{todoId}").

    `claims`: what the Cognito authorizer verified (None = no authorizer claims). A `body`
    that is not a str is JSON-encoded, as a client would send it."""
    text = body if body is None or isinstance(body, str) else json.dumps(body)
    if base64_body and text is not None:
        text = base64.b64encode(text.encode()).decode()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": user_agent},
            "authorizer": {"claims": claims} if claims else None,
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


def json_body(response: dict) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def header(response: dict, name: str) -> str | None:
    """A response header, case-insensitively, from `headers` or (Powertools' REST answer)
    `multiValueHeaders` (values joined with commas, as HTTP would)."""
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return ",".join(values)
    return None


def integration_invokes(stack, credentials: Any, function_logical_id: str) -> None:
    """What API Gateway does before a Lambda proxy integration's handler runs: assume the
    integration's role (`credentials`: the method's `Integration.Credentials`, or an OpenAPI
    integration's `credentials`) and invoke the function, authorized against that role's
    policies in moto (AccessDenied if the role may not invoke it). An integration without a
    role fails: the house invokes through patterns/web/rest_api.py InvokeRole, never through a
    function policy (CT.LAMBDA.PR.2)."""
    assert credentials, "a Lambda integration without an integration role (InvokeRole)"
    role = stack.role_credentials(stack.role_id(credentials))
    authorize(role, "lambda:InvokeFunction", stack.get_att(function_logical_id, "Arn"), "Invoke")
