"""API Gateway request models from a function's `schemas.json`, so the gateway and the handler
check bodies against one file (handler_kit.schema is the handler's side).

    SCHEMAS = request_schemas("subscriptions")          # lambda_src/subscriptions/schemas.json
    api.add_model("Subscription", content_type="application/json", model_name="Subscription",
                  schema=json_schema(SCHEMAS["Subscription"]))

A property written `{"$ref": "handler_kit/definitions.json#/<Rule>"}` is replaced by that rule of
the handler_kit layer (e.g. the one e-mail address rule), exactly as handler_kit.schema replaces
it when the handler loads the file: API Gateway models cannot refer to a file, so the gateway
gets the rule itself.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import aws_apigateway as apigw

from house.bundling import LAMBDA_SRC

DEFINITIONS = LAMBDA_SRC / "layers" / "handler_kit" / "handler_kit" / "definitions.json"
REFERENCE_PREFIX = "handler_kit/definitions.json#/"

_TYPES = {
    "object": apigw.JsonSchemaType.OBJECT,
    "array": apigw.JsonSchemaType.ARRAY,
    "string": apigw.JsonSchemaType.STRING,
    "boolean": apigw.JsonSchemaType.BOOLEAN,
    "integer": apigw.JsonSchemaType.INTEGER,
    "null": apigw.JsonSchemaType.NULL,
}
_KEYWORDS = {
    "title": "title",
    "description": "description",
    "required": "required",
    "enum": "enum",
    "minProperties": "min_properties",
    "additionalProperties": "additional_properties",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "minimum": "minimum",
    "maximum": "maximum",
    "maxItems": "max_items",
}


def definitions() -> dict[str, dict]:
    return json.loads(DEFINITIONS.read_text())


def resolved(schema: dict, rules: dict[str, dict] | None = None) -> dict:
    """`schema` with each `$ref` property or item replaced by its handler_kit rule."""
    rules = definitions() if rules is None else rules

    def rule(value: dict) -> dict:
        if "$ref" not in value:
            return resolved(value, rules)
        name = str(value["$ref"]).removeprefix(REFERENCE_PREFIX)
        if set(value) != {"$ref"} or not str(value["$ref"]).startswith(REFERENCE_PREFIX):
            raise ValueError(f"schemas.json: a $ref must be {REFERENCE_PREFIX}<name>, alone")
        if name not in rules:
            raise ValueError(f"schemas.json: no rule {name!r} in {DEFINITIONS}")
        return dict(rules[name])

    schema = dict(schema)
    if "properties" in schema:
        schema["properties"] = {name: rule(v) for name, v in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        schema["items"] = rule(schema["items"])
    return schema


def request_schemas(source: str) -> dict[str, dict]:
    """`lambda_src/<source>/schemas.json`, every reference resolved."""
    schemas = json.loads((LAMBDA_SRC / source / "schemas.json").read_text())
    rules = definitions()
    return {name: resolved(schema, rules) for name, schema in schemas.items()}


def json_schema(schema: dict) -> apigw.JsonSchema:
    """One (resolved) schema of schemas.json as an API Gateway model schema."""
    unknown = set(schema) - set(_KEYWORDS) - {"$schema", "type", "properties", "items"}
    if unknown:
        raise ValueError(f"schemas.json uses keywords this converter does not know: {unknown}")
    kwargs: dict[str, Any] = {_KEYWORDS[k]: v for k, v in schema.items() if k in _KEYWORDS}
    if "$schema" in schema:
        kwargs["schema"] = apigw.JsonSchemaVersion.DRAFT4
    if "properties" in schema:
        kwargs["properties"] = {n: json_schema(s) for n, s in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        kwargs["items"] = json_schema(schema["items"])
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        kwargs["type"] = _TYPES[types[0]] if len(types) == 1 else [_TYPES[t] for t in types]
    return apigw.JsonSchema(**kwargs)
