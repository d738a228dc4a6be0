"""IAM statements of a template, one way for every blueprint test: which statements a role's
policies hold, which actions they allow, and whether a statement allows an action on a resource
(template-level; for conditions and other things moto cannot enforce, see iam_enforcement.py).

Works on the raw template (`{"Ref": role}` in a policy's `Roles`) and on resolved properties
(the role's name there), so test_stack.py assertions and wiring tests read grants the same way.
"""

from __future__ import annotations

import fnmatch
from typing import Any

POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def policies_of(template: dict, role_logical_id: str) -> dict[str, dict]:
    """Logical id -> resource of every AWS::IAM::Policy / ManagedPolicy attached to the role."""
    found = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource["Type"] in POLICY_TYPES and {"Ref": role_logical_id} in resource[
            "Properties"
        ].get("Roles", []):
            found[logical_id] = resource
    return found


def statements_of(template: dict, role_logical_id: str) -> list[dict]:
    """Every statement of every policy attached to the role (and of its inline `Policies`)."""
    statements = []
    for policy in policies_of(template, role_logical_id).values():
        statements += as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    role = template["Resources"][role_logical_id]["Properties"]
    for inline in role.get("Policies", []):
        statements += as_list(inline["PolicyDocument"]["Statement"])
    return statements


def all_statements(template: dict) -> list[tuple[str, dict]]:
    """(policy logical id, statement) for every statement of every identity policy."""
    return [
        (logical_id, statement)
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] in POLICY_TYPES
        for statement in as_list(resource["Properties"]["PolicyDocument"]["Statement"])
    ]


def actions_of(statements: list[dict]) -> set[str]:
    return {action for statement in statements for action in as_list(statement.get("Action", []))}


def statement_allows(statement: dict, action: str, resource: str) -> bool:
    """An Allow statement naming `action` (or a wildcard of it) on `resource` (glob match, as
    IAM matches `*` and `?`); conditions are ignored: check them separately."""
    return (
        statement.get("Effect") == "Allow"
        and any(fnmatch.fnmatchcase(action, a) for a in as_list(statement.get("Action", [])))
        and any(fnmatch.fnmatchcase(resource, r) for r in as_list(statement.get("Resource", [])))
    )


def allows(statements: list[dict], action: str, resource: str) -> bool:
    return any(statement_allows(s, action, resource) for s in statements)


def resolved_statements(stack, role_name: str) -> list[dict]:
    """Statements of the (resolved) policies of a `StackInMoto` that name the role `role_name`."""
    statements = []
    for logical_id in [
        *stack.of_type("AWS::IAM::Policy"),
        *stack.of_type("AWS::IAM::ManagedPolicy"),
    ]:
        policy = stack.properties(logical_id)
        if role_name in [str(r) for r in policy.get("Roles", [])]:
            statements += as_list(policy["PolicyDocument"]["Statement"])
    return statements
