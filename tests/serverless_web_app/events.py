"""API Gateway REST (Lambda proxy) events of the ride-request API, as its Cognito-authorized
stage delivers them."""

from __future__ import annotations

import datetime
from typing import Any

from tests.support.apigateway import header, json_body, rest_api_event  # noqa: F401 (re-exported)

STAGE = "v1"
ROOT = "/api/requests"


def api_event(
    method: str,
    path: str,
    *,
    user: str | None = "user-a",
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    key: str | None = None,
) -> dict:
    """An event for `method path` from `user` (the authorizer's verified `sub`; None = no
    claims); `key`: the Idempotency-Key header. A `body` that is not a str is JSON-encoded."""
    request_id = path[len(ROOT) + 1 :] if path.startswith(ROOT + "/") else None
    all_headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": f"eyJ.fake-id-token-of.{user}",
        **({"Idempotency-Key": key} if key else {}),
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
        resource=ROOT + "/{requestId}" if request_id is not None else ROOT,
        path_parameters={"requestId": request_id} if request_id is not None else None,
        headers=all_headers,
        query=query,
        body=body,
        claims=claims,
        stage=STAGE,
        user_agent="Mozilla/5.0",
    )


def pickup_in(days: float = 1, hours: float = 0) -> str:
    """A pickupAt the API takes: minutes, UTC, `days` from now."""
    at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=days, hours=hours)
    return at.strftime("%Y-%m-%dT%H:%MZ")


def ride(**changes: Any) -> dict:
    return {"pickup": "Main St 1", "dropoff": "Airport", "pickupAt": pickup_in(), **changes}
