"""The one request-body validator: the subset of JSON Schema (draft 4) that API Gateway request
models use, so one `schemas.json` beside a handler is both the gateway's model and the handler's
check (blueprints/my_todo_list/todo_api.py builds its models from the file; the blog's test
keeps its models equal to it).

The gateway rejects most bad bodies before Lambda runs; this check is the handler's own guarantee
(direct invokes, tests, a model someone loosened). Keywords: type (object, array, string,
boolean, integer, null, or a list of them), properties, required, additionalProperties: false,
minProperties, minLength, maxLength, pattern, enum, minimum, maximum, items, minItems, maxItems;
objects nested in a body (an array of order lines) are checked by the same rules. A schema using
any other keyword is refused when it is loaded, not silently half-checked.

`load` also reads an OpenAPI 3.0 document: its `components.schemas` are the schemas, so an API
described by a checked-in OpenAPI file (imported by API Gateway as it is) has one source for the
gateway's models, the generated clients and the handler's check.

`pattern` is an ECMAScript regular expression that JSON Schema applies as a search; here it is a
`re.fullmatch`. For anchored `^...$` patterns the two agree, and a string with a trailing newline
fails both (Python's `re.search` would accept it: its `$` also matches before a final newline).
The tests check every pattern is anchored.

A property may be a reference to a rule the whole library shares, and nothing else:
`{"$ref": "handler_kit/definitions.json#/EmailAddress"}` (handler_kit/definitions.json). It is
replaced by that rule when the file is loaded; house/api_models.py does the same for the API
Gateway model, so the gateway, this check and every other reader of the rule see one rule.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from handler_kit.errors import InvalidInput

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "null": lambda v: v is None,
}
KEYWORDS = {
    "$schema",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "minProperties",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
    "minimum",
    "maximum",
    "items",
    "minItems",
    "maxItems",
}
# `{"$ref": REFERENCE_PREFIX + name}`: the rule `name` of handler_kit/definitions.json.
REFERENCE_PREFIX = "handler_kit/definitions.json#/"
DEFINITIONS = Path(__file__).with_name("definitions.json")


@functools.cache
def load(path: str) -> dict[str, dict]:
    """The schemas of a `schemas.json` (name -> schema), checked for unknown keywords; read on
    first use, so a cold start that serves a GET never parses it."""
    schemas = json.loads(Path(path).read_text())
    if "openapi" in schemas:
        schemas = schemas.get("components", {}).get("schemas", {})
    definitions = json.loads(DEFINITIONS.read_text())
    for name, schema in schemas.items():
        schemas[name] = resolved(schema, definitions, name)
        _check_keywords(schemas[name], name)
    return schemas


def checked(schema: dict, name: str) -> dict:
    """`schema` (one JSON Schema document, e.g. an event's), checked for unknown keywords."""
    _check_keywords(schema, name)
    return schema


def resolved(schema: dict, definitions: dict, where: str) -> dict:
    """`schema` with every `{"$ref": "handler_kit/definitions.json#/<name>"}` property (or
    array item) replaced by that definition."""

    def rule(value: dict, at: str) -> dict:
        if "$ref" not in value:
            return resolved(value, definitions, at)
        reference = value["$ref"]
        name = reference.removeprefix(REFERENCE_PREFIX) if isinstance(reference, str) else ""
        if set(value) != {"$ref"} or not reference.startswith(REFERENCE_PREFIX):
            raise ValueError(f"schema {at}: only {{'$ref': '{REFERENCE_PREFIX}<name>'}} alone")
        if name not in definitions:
            raise ValueError(f"schema {at}: no definition {name!r} in {DEFINITIONS.name}")
        return dict(definitions[name])

    schema = dict(schema)
    if "properties" in schema:
        schema["properties"] = {
            name: rule(value, f"{where}.{name}") for name, value in schema["properties"].items()
        }
    if isinstance(schema.get("items"), dict):
        schema["items"] = rule(schema["items"], f"{where}[]")
    return schema


def _check_keywords(schema: dict, where: str) -> None:
    unknown = set(schema) - KEYWORDS
    if unknown:
        raise ValueError(f"schema {where}: keyword(s) {sorted(unknown)} are not checked here")
    for name, rule in schema.get("properties", {}).items():
        _check_keywords(rule, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        _check_keywords(schema["items"], f"{where}[]")


def validate(value: Any, schema: dict) -> Any:
    """`value` if it matches the object `schema`, else InvalidInput naming the first problem."""
    if not isinstance(value, dict):
        raise InvalidInput("the body must be a JSON object")
    return _object(value, schema, "")


def _object(value: dict, schema: dict, where: str) -> dict:
    properties = schema.get("properties", {})
    extra = sorted(set(value) - set(properties))
    if extra and schema.get("additionalProperties") is False:
        raise InvalidInput(
            f"{where}unknown field(s): {', '.join(extra)}; allowed: {', '.join(properties)}"
        )
    missing = [name for name in schema.get("required", []) if name not in value]
    if missing:
        raise InvalidInput(f"{where}missing required field(s): {', '.join(missing)}")
    if len(value) < schema.get("minProperties", 0):
        besides = ", ".join(schema.get("required", []))
        raise InvalidInput(f"give at least one field to change besides {besides}")
    for name, item in value.items():
        if name in properties:
            _check(f"{where}field '{name}'", item, properties[name])
    return value


def _check(what: str, value: Any, rule: dict) -> None:
    types = rule.get("type", [])
    types = types if isinstance(types, list) else [types]
    if types and not any(_TYPES[t](value) for t in types):
        raise InvalidInput(f"{what} must be {' or '.join(types)}")
    if "enum" in rule and value not in rule["enum"]:
        raise InvalidInput(f"{what} must be one of {', '.join(map(str, rule['enum']))}")
    if isinstance(value, str):
        if len(value) < rule.get("minLength", 0):
            raise InvalidInput(f"{what} must not be empty")
        if "maxLength" in rule and len(value) > rule["maxLength"]:
            raise InvalidInput(f"{what} is longer than {rule['maxLength']} characters")
        if "pattern" in rule and not re.fullmatch(rule["pattern"], value):
            raise InvalidInput(f"{what} does not match {rule['pattern']}")
    elif isinstance(value, int) and not isinstance(value, bool):
        if value < rule.get("minimum", value) or value > rule.get("maximum", value):
            raise InvalidInput(
                f"{what} must be between {rule.get('minimum')} and {rule.get('maximum')}"
            )
    elif isinstance(value, dict) and ("properties" in rule or "required" in rule):
        _object(value, rule, f"{what}: ")
    elif isinstance(value, list):
        if len(value) < rule.get("minItems", 0):
            raise InvalidInput(f"{what} needs at least {rule['minItems']} item(s)")
        if "maxItems" in rule and len(value) > rule["maxItems"]:
            raise InvalidInput(f"{what} has more than {rule['maxItems']} items")
        for index, item in enumerate(value):
            _check(f"{what} item {index + 1}", item, rule.get("items", {}))
