"""handler_kit.schema: the JSON Schema subset API Gateway models use, checked with fullmatch."""

from __future__ import annotations

import json

import pytest

from tests.support.wiring import load_function

POST = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 5},
        "tags": {
            "type": "array",
            "maxItems": 2,
            "items": {"type": "string", "pattern": "^[a-z]+$"},
        },
        "kind": {"type": "string", "enum": ["a", "b"]},
        "version": {"type": "integer", "minimum": 1, "maximum": 9},
        "notes": {"type": ["string", "null"]},
    },
    "required": ["title"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def schema():
    return load_function("layers/handler_kit", "handler_kit.schema")


@pytest.mark.parametrize(
    "body, complaint",
    [
        ([], "the body must be a JSON object"),
        ({}, "missing required field(s): title"),
        ({"title": "x", "author": "y"}, "unknown field(s): author; allowed: title, tags, kind"),
        ({"title": ""}, "field 'title' must not be empty"),
        ({"title": "toolong"}, "field 'title' is longer than 5 characters"),
        ({"title": 5}, "field 'title' must be string"),
        ({"title": "x", "tags": "a"}, "field 'tags' must be array"),
        ({"title": "x", "tags": ["a", "b", "c"]}, "field 'tags' has more than 2 items"),
        ({"title": "x", "tags": ["a", "b\n"]}, "field 'tags' item 2 does not match ^[a-z]+$"),
        ({"title": "x", "kind": "c"}, "field 'kind' must be one of a, b"),
        ({"title": "x", "version": True}, "field 'version' must be integer"),
        ({"title": "x", "version": 10}, "field 'version' must be between 1 and 9"),
        ({"title": "x", "notes": 3}, "field 'notes' must be string or null"),
    ],
)
def test_the_first_problem_is_named(schema, body, complaint):
    with pytest.raises(schema.InvalidInput) as raised:
        schema.validate(body, POST)
    assert str(raised.value).startswith(complaint)


def test_a_valid_body_is_returned(schema):
    body = {"title": "x", "tags": ["a"], "kind": "b", "version": 3, "notes": None}
    assert schema.validate(body, POST) is body


def test_a_schema_with_a_keyword_it_does_not_check_is_refused_when_loaded(schema, tmp_path):
    path = tmp_path / "schemas.json"
    path.write_text(json.dumps({"Post": {**POST, "properties": {"t": {"format": "email"}}}}))
    with pytest.raises(ValueError, match=r"schema Post.t: keyword\(s\) \['format'\]"):
        schema.load(str(path))


# -- nested objects, minItems, OpenAPI documents (the microservices contracts use them) -----------

LINES = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["sku"],
                "properties": {"sku": {"type": "string", "pattern": "^[A-Z]+$"}},
            },
        }
    },
}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"items": []}, "field 'items' needs at least 1 item(s)"),
        ({"items": [{}]}, "field 'items' item 1: missing required field(s): sku"),
        ({"items": [{"sku": "A", "x": 1}]}, "field 'items' item 1: unknown field(s): x"),
        ({"items": [{"sku": "a"}]}, "field 'items' item 1: field 'sku' does not match"),
    ],
)
def test_objects_in_arrays_are_checked_by_the_same_rules(schema, value, message):
    from handler_kit.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        schema.validate(value, LINES)
    assert message in error.value.message
    assert schema.validate({"items": [{"sku": "A"}]}, LINES)


def test_an_openapi_documents_component_schemas_are_loaded(schema, tmp_path):
    document = tmp_path / "api.json"
    document.write_text(json.dumps({"openapi": "3.0.3", "components": {"schemas": {"L": LINES}}}))
    assert schema.load(str(document)) == {"L": LINES}
