"""The one e-mail address rule as MyBlog's API Gateway models get it: house/api_models.py
resolves a schema's `$ref` to handler_kit/definitions.json into the same rule the handler
validates with (here, beside the blueprint that imports api_models, so a starter kit without
MyBlog keeps the generic handler_kit tests)."""

from __future__ import annotations

import json

import pytest

from house import api_models
from tests.support.synth import REPO_ROOT
from tests.support.wiring import load_function

DEFINITIONS = REPO_ROOT / "lambda_src/layers/handler_kit/handler_kit/definitions.json"


@pytest.fixture(scope="module")
def schema():
    return load_function("layers/handler_kit", "handler_kit.schema")


def test_a_reference_to_the_rule_is_the_rule_in_the_handler_and_in_the_api_model(schema, tmp_path):
    file = tmp_path / "schemas.json"
    file.write_text(
        json.dumps(
            {
                "Signup": {
                    "type": "object",
                    "properties": {"email": {"$ref": "handler_kit/definitions.json#/EmailAddress"}},
                    "required": ["email"],
                }
            }
        )
    )
    rule = json.loads(DEFINITIONS.read_text())["EmailAddress"]
    handler_side = schema.load(str(file))["Signup"]["properties"]["email"]
    gateway_side = api_models.resolved(json.loads(file.read_text())["Signup"])
    assert handler_side == gateway_side["properties"]["email"] == rule
    schema.validate({"email": "reader@example.com"}, schema.load(str(file))["Signup"])
    with pytest.raises(Exception, match="does not match"):
        schema.validate({"email": "reader@example"}, schema.load(str(file))["Signup"])


@pytest.mark.parametrize(
    "reference",
    [
        {"$ref": "handler_kit/definitions.json#/NoSuchRule"},
        {"$ref": "https://example.com/schema.json"},
        {"$ref": "handler_kit/definitions.json#/EmailAddress", "maxLength": 5},
    ],
)
def test_a_reference_to_anything_else_is_refused_when_loaded(schema, tmp_path, reference):
    file = tmp_path / "schemas.json"
    file.write_text(json.dumps({"S": {"type": "object", "properties": {"x": reference}}}))
    with pytest.raises(ValueError, match=r"\$ref|definition|rule"):
        schema.load(str(file))
    with pytest.raises(ValueError):
        api_models.resolved(json.loads(file.read_text())["S"])
