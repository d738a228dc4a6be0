"""One grant removed from a template, for the mutation check (benchmarks/grant_mutations.py) and
for the wiring tests that prove a known-needed grant is needed.

A `Mutation` names a stack, a role, one statement of one of its policies and one action of that
statement. `applied(template, stack_id)` returns the template with that action removed from that
statement (the statement dropped if it was its only action). `StackInMoto` applies the active
mutation, if any, to its own copy of the template, so the moto IAM policies, the resolved
properties and every template reading of that wiring test see the grant gone.

`roles_used` records which roles were assumed (run as) per stack while a test ran, so the
mutation check re-runs a test only for the grants of roles it exercises.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

from tests.support.iam_statements import POLICY_TYPES, as_list


@dataclasses.dataclass(frozen=True)
class Mutation:
    stack_id: str
    role_logical_id: str
    policy_logical_id: str  # or "<role>.Policies[<name>]" for a role's inline Policies
    statement_index: int
    action: str

    def __str__(self) -> str:
        return (
            f"{self.stack_id}: {self.role_logical_id} without {self.action} "
            f"({self.policy_logical_id}#{self.statement_index})"
        )


_active: Mutation | None = None
roles_used: set[tuple[str, str]] = set()
templates_seen: dict[str, tuple[str, dict]] = {}  # stack name -> (stack id, unmutated template)


@contextlib.contextmanager
def active(mutation: Mutation | None) -> Iterator[None]:
    """Stacks built in this block lose the mutation's grant."""
    global _active
    saved, _active = _active, mutation
    try:
        yield
    finally:
        _active = saved


def current() -> Mutation | None:
    return _active


def record_role_used(stack_id: str, role_logical_id: str) -> None:
    roles_used.add((stack_id, role_logical_id))


def record_template(stack_id: str, stack_name: str, template: dict) -> None:
    templates_seen[stack_name] = (stack_id, template)


def applied(template: dict, stack_id: str) -> dict:
    """`template` (a copy the caller owns) without the active mutation's grant."""
    if _active is None or _active.stack_id != stack_id:
        return template
    return without(template, _active)


def without(template: dict, mutation: Mutation) -> dict:
    """`template` (modified in place) with the mutation's action removed."""
    document = _document(template, mutation)
    statements = as_list(document["Statement"])
    statement = statements[mutation.statement_index]
    actions = [a for a in as_list(statement["Action"]) if a != mutation.action]
    if len(actions) == len(as_list(statement["Action"])):
        raise LookupError(f"{mutation}: the statement has no such action")
    if actions:
        statement["Action"] = actions if len(actions) > 1 else actions[0]
    else:
        del statements[mutation.statement_index]
    document["Statement"] = statements
    return template


def _document(template: dict, mutation: Mutation) -> dict:
    resources = template["Resources"]
    if ".Policies[" in mutation.policy_logical_id:
        role_id, name = mutation.policy_logical_id.rstrip("]").split(".Policies[")
        (inline,) = [
            p for p in resources[role_id]["Properties"]["Policies"] if p["PolicyName"] == name
        ]
        return inline["PolicyDocument"]
    return resources[mutation.policy_logical_id]["Properties"]["PolicyDocument"]


def grants_of(template: dict, stack_id: str, role_logical_id: str) -> list[Mutation]:
    """Every (statement, action) the role's policies allow: one Mutation each."""
    found = []
    resources = template["Resources"]
    documents = [
        (lid, r["Properties"]["PolicyDocument"])
        for lid, r in resources.items()
        if r["Type"] in POLICY_TYPES
        and {"Ref": role_logical_id} in r["Properties"].get("Roles", [])
    ]
    documents += [
        (f"{role_logical_id}.Policies[{p['PolicyName']}]", p["PolicyDocument"])
        for p in resources[role_logical_id]["Properties"].get("Policies", [])
    ]
    for policy_id, document in documents:
        for index, statement in enumerate(as_list(document["Statement"])):
            if statement.get("Effect") != "Allow":
                continue
            for action in as_list(statement.get("Action", [])):
                found.append(Mutation(stack_id, role_logical_id, policy_id, index, action))
    return found


def role_of(template: dict, logical_id: str) -> str:
    """The role a function (Role) or task definition (TaskRoleArn) of the template runs as."""
    props = template["Resources"][logical_id]["Properties"]
    value = props.get("Role") or props.get("TaskRoleArn")
    return value["Fn::GetAtt"][0]  # CDK writes {"Fn::GetAtt": [<role>, "Arn"]}


def by_path(template: dict, path: str) -> str:
    """The logical id of the one function or task definition whose construct path ends so."""
    kinds = ("AWS::Lambda::Function", "AWS::ECS::TaskDefinition", "AWS::IAM::Role")
    found = [
        lid
        for lid, r in template["Resources"].items()
        if r["Type"] in kinds
        and r.get("Metadata", {})
        .get("aws:cdk:path", "")
        .removesuffix("/Resource")
        .endswith("/" + path)
    ]
    if len(found) != 1:
        raise LookupError(f"{len(found)} functions/task definitions/roles at {path!r}: {found}")
    return found[0]


def removing(
    template: dict, stack_id: str, path: str, action: str, role: str | None = None
) -> Mutation:
    """The mutation that removes `action` from the role of the function/task definition at
    `path` (or from the role at `path` itself); exactly one statement may grant it."""
    target = by_path(template, path)
    role_id = role or (
        target
        if template["Resources"][target]["Type"] == "AWS::IAM::Role"
        else role_of(template, target)
    )
    found = [m for m in grants_of(template, stack_id, role_id) if m.action == action]
    if len(found) != 1:
        raise LookupError(f"{len(found)} statements of {role_id} grant {action}: {found}")
    return found[0]
