"""API Gateway REST proxy events for the directory's routes, built from the contract: what the
stage delivers to an operation's function (and what the classic app hands the same routes)."""

from __future__ import annotations

from typing import Any

from tests.employee_directory.contract_checks import operation
from tests.support.apigateway import header, json_body, rest_api_event  # noqa: F401 (re-exported)

HR_ADMIN_GROUP = "hr-admin"
HR_ADMIN = {"sub": "hr-1", "email": "hr@example.com", "cognito:groups": HR_ADMIN_GROUP}
EMPLOYEE = {"sub": "staff-1", "email": "staff@example.com"}


def event(
    operation_id: str,
    *,
    employee_id: str | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
    claims: dict | None = HR_ADMIN,
    headers: dict[str, str] | None = None,
) -> dict:
    """The proxy event for `operation_id`, as the authorizer (when the operation has one)
    passes it: `claims` None = no verified caller."""
    method, resource, _ = operation(operation_id)
    path = resource.replace("{employeeId}", employee_id or "")
    return rest_api_event(
        method,
        path,
        resource=resource,
        path_parameters={"employeeId": employee_id} if "{employeeId}" in resource else None,
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            **(headers or {}),
        },
        query=query,
        body=body,
        claims=claims,
    )


NEW_EMPLOYEE = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "jobTitle": "Analyst",
    "department": "Engineering",
    "location": "London",
    "phone": "+44 20 7946 0000",
}
