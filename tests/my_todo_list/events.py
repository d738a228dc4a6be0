"""API Gateway REST (Lambda proxy) events as the Cognito-authorized stage delivers them."""

from __future__ import annotations

from typing import Any

from tests.support.apigateway import header, json_body, rest_api_event  # noqa: F401 (re-exported)

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
    all_headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": f"eyJ.fake-id-token-of.{user}",
        **(headers or {}),
    }
    claims = (
        {"sub": user, "email": f"{user}@example.com", "token_use": "id", "cognito:username": user}
        if user
        else None
    )
    return rest_api_event(
        method,
        path,
        resource=resource,
        path_parameters={"todoId": todo_id} if todo_id is not None else None,
        headers=all_headers,
        query=query,
        body=body,
        claims=claims,
        stage=STAGE,
        user_agent="MyTodoList/1.0 (iOS)",
    )
