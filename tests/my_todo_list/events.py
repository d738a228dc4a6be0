"""API Gateway REST (Lambda proxy) events as the Cognito-authorized stage delivers them."""

from __future__ import annotations

import json
from typing import Any

STAGE = "v1"


def api_event(
    method: str,
    path: str,
    *,
    user: str | None = "user-a",
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict:
    """An event for `method path` from `user` (the authorizer's verified `sub`; None = no claims).

    `body` that is not a str is JSON-encoded, as the app would send it.
    """
    todo_id = path.split("/")[2] if path.count("/") >= 2 else None
    resource = "/todos/{todoId}" if todo_id is not None else "/todos"
    all_headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "Authorization": f"eyJ.fake-id-token-of.{user}", **(headers or {})}
    claims = {"sub": user, "email": f"{user}@example.com", "token_use": "id",
              "cognito:username": user} if user else None
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"todoId": todo_id} if todo_id is not None else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "MyTodoList/1.0 (iOS)"},
            "authorizer": {"claims": claims} if claims else None,
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def json_body(response: dict) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def header(response: dict, name: str) -> str | None:
    """A response header, case-insensitively (Powertools may set single or multi-value headers)."""
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return values[0]
    return None
