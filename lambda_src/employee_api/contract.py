"""The API contract (openapi.json beside this module), read once: its operations and the request
schemas bodies are checked against.

One file describes the API for everything built from it: the serverless stack generates its API
Gateway resources, methods, models and authorizers from it (blueprints/employee_directory/
directory_api.py reads it through this module), the handlers check request bodies against its
schemas (handler_kit.schema), the classic app serves the same routes, and the parity tests
compare both stacks with it. Nothing here imports boto3: the synth reads it too.

The schemas stay within what API Gateway request models (JSON Schema draft 4) and
handler_kit.schema both check. OpenAPI 3.0's `nullable: true` becomes a `"null"` type and `$ref`s
are resolved, so a request schema here is the gateway's model and the handler's rule at once.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

OPENAPI = Path(__file__).with_name("openapi.json")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# OpenAPI annotations with no meaning for a request check (the gateway's models refuse them).
_ANNOTATIONS = {"format", "example", "readOnly", "writeOnly", "deprecated", "xml"}


@dataclasses.dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # path, query, header
    required: bool
    schema: dict


@dataclasses.dataclass(frozen=True)
class Operation:
    """One operation of the contract, as a route: `method` on `path` (API Gateway's resource
    path syntax, `/api/employees/{employeeId}`)."""

    operation_id: str
    method: str  # upper case
    path: str
    parameters: tuple[Parameter, ...]
    body: str | None  # the request body's schema name (components.schemas), if any
    secured: bool  # names a security requirement (the HR admin operations)
    statuses: tuple[int, ...]  # the answers the contract declares

    @property
    def query(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters if p.where == "query")

    @property
    def path_parameters(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters if p.where == "path")

    @property
    def success(self) -> int:
        return min(s for s in self.statuses if s < 400)


@functools.cache
def document() -> dict:
    return json.loads(OPENAPI.read_text())


def resolve(node: Any) -> Any:
    """`node` with a top-level `$ref` (to this document) followed."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@functools.cache
def operations() -> dict[str, Operation]:
    """operationId -> Operation, in the document's order."""
    found = {}
    for path, item in document()["paths"].items():
        shared = [resolve(p) for p in item.get("parameters", [])]
        for method in METHODS:
            if method not in item:
                continue
            spec = item[method]
            parameters = {(p["name"], p["in"]): p for p in shared}
            parameters.update(
                {(p["name"], p["in"]): p for p in map(resolve, spec.get("parameters", []))}
            )
            body = spec.get("requestBody")
            schema_ref = (
                resolve(body)["content"]["application/json"]["schema"]["$ref"] if body else None
            )
            found[spec["operationId"]] = Operation(
                operation_id=spec["operationId"],
                method=method.upper(),
                path=path,
                parameters=tuple(
                    Parameter(p["name"], p["in"], bool(p.get("required")), plain(p["schema"]))
                    for p in parameters.values()
                ),
                body=schema_ref.rsplit("/", 1)[1] if schema_ref else None,
                secured=bool(spec.get("security", document().get("security"))),
                statuses=tuple(sorted(int(s) for s in spec["responses"])),
            )
    return found


def plain(schema: dict) -> dict:
    """A schema of the document as API Gateway and handler_kit.schema read it: `$ref`s resolved,
    `nullable` as a "null" type, annotations dropped."""
    schema = resolve(schema)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS or key == "nullable":
            continue
        if key == "properties":
            out[key] = {name: plain(rule) for name, rule in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = plain(value)
        else:
            out[key] = value
    if schema.get("nullable") and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
    return out


@functools.cache
def request_schema(name: str) -> dict:
    """The request body schema `name` (components.schemas) for checking a body."""
    return plain(document()["components"]["schemas"][name])
