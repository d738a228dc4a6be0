"""The contract (lambda_src/employee_api/openapi.json) as the tests check answers against it: the
status must be one the operation declares, the body must match the declared schema (OpenAPI 3.0
semantics: nullable, formats), declared headers must be there. Both stacks' answers go through
the same checks, so "the same shapes" is a checked property, not a belief."""

from __future__ import annotations

import functools
import json
from typing import Any

import openapi_schema_validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.support.synth import REPO_ROOT

OPENAPI = REPO_ROOT / "lambda_src" / "employee_api" / "openapi.json"
URN = "urn:employee-directory:contract"


@functools.cache
def spec() -> dict:
    return json.loads(OPENAPI.read_text())


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(
        URN, Resource.from_contents(spec(), default_specification=DRAFT4)
    )


def _validator(pointer: str):
    return openapi_schema_validator.OAS30Validator(
        {"$ref": f"{URN}#{pointer}"},
        registry=_registry(),
        format_checker=openapi_schema_validator.oas30_format_checker,
    )


def operation(operation_id: str) -> tuple[str, str, dict]:
    """(method, path, the operation object) of `operation_id`."""
    for path, item in spec()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return method.upper(), path, op
    raise LookupError(operation_id)


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def response_problems(
    operation_id: str, status: int, body: Any, headers: dict[str, str]
) -> list[str]:
    """What is wrong with an answer to `operation_id`, by the contract (empty: nothing)."""
    _, _, op = operation(operation_id)
    declared = op["responses"].get(str(status))
    if declared is None:
        return [
            f"{operation_id} does not declare status {status} (declares {list(op['responses'])})"
        ]
    declared = _resolve(declared)
    problems = []
    lower = {k.lower(): v for k, v in headers.items()}
    for name in declared.get("headers", {}):
        if name.lower() not in lower:
            problems.append(f"{operation_id} {status}: header {name} missing")
    content = declared.get("content", {}).get("application/json")
    if content is None:
        if body not in (None, ""):
            problems.append(f"{operation_id} {status}: a body where the contract has none")
        return problems
    if "application/json" not in lower.get("content-type", ""):
        problems.append(f"{operation_id} {status}: Content-Type {lower.get('content-type')!r}")
    ref = content["schema"]["$ref"].removeprefix("#")
    problems += [
        f"{operation_id} {status}: {error.message}" for error in _validator(ref).iter_errors(body)
    ]
    return problems


def request_problems(schema_name: str, body: Any) -> list[str]:
    return [e.message for e in _validator(f"/components/schemas/{schema_name}").iter_errors(body)]
