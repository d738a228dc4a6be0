"""The request bodies of the to-do API, checked against `schemas.json`.

The same file is the API Gateway request model (blueprints/my_todo_list/todo_api.py reads it
at synth), so the
gateway and the handler cannot disagree about what a valid to-do is. The gateway rejects most bad
bodies before Lambda runs; this check is the handler's own guarantee (direct invokes, tests, a
model someone loosened). It implements exactly the JSON-schema keywords schemas.json uses.

`pattern` is an ECMAScript regular expression that JSON Schema applies as a search; here it is a
`re.fullmatch`. For the anchored `^...$` patterns schemas.json holds the two agree, and a string
with a trailing newline fails both (Python's `re.search` would accept it: its `$` also matches
before a final newline). The schemas are read on first use: a cold start that serves a GET
never needs them.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


@functools.cache
def schemas() -> dict[str, dict]:
    return json.loads((Path(__file__).parent / "schemas.json").read_text())


class InvalidBody(ValueError):
    """The body does not match the schema; the message says which field and why."""


def validate(body: Any, schema_name: str) -> dict:
    """`body` if it matches `schemas()[schema_name]`, else InvalidBody naming the first problem."""
    schema = schemas()[schema_name]
    if not isinstance(body, dict):
        raise InvalidBody("the body must be a JSON object")
    properties = schema["properties"]
    extra = sorted(set(body) - set(properties))
    if extra and schema.get("additionalProperties") is False:
        raise InvalidBody(f"unknown field(s): {', '.join(extra)}; allowed: {', '.join(properties)}")
    missing = [name for name in schema.get("required", []) if name not in body]
    if missing:
        raise InvalidBody(f"missing required field(s): {', '.join(missing)}")
    if len(body) < schema.get("minProperties", 0):
        besides = ", ".join(schema["required"])
        raise InvalidBody(f"give at least one field to change besides {besides}")
    for name, value in body.items():
        _check(name, value, properties[name])
    return body


def _check(name: str, value: Any, rule: dict) -> None:
    types = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
    if not any(_TYPES[t](value) for t in types):
        raise InvalidBody(f"field '{name}' must be {' or '.join(types)}")
    if value is None:
        return
    if isinstance(value, str):
        if len(value) < rule.get("minLength", 0):
            raise InvalidBody(f"field '{name}' must not be empty")
        if "maxLength" in rule and len(value) > rule["maxLength"]:
            raise InvalidBody(f"field '{name}' is longer than {rule['maxLength']} characters")
        if "pattern" in rule and not re.fullmatch(rule["pattern"], value):
            raise InvalidBody(f"field '{name}' does not match {rule['pattern']}")
    if isinstance(value, int) and not isinstance(value, bool):
        if value < rule.get("minimum", value) or value > rule.get("maximum", value):
            raise InvalidBody(
                f"field '{name}' must be between {rule.get('minimum')} and {rule.get('maximum')}"
            )
