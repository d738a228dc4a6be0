"""The shop's contracts: each OpenAPI document is valid OpenAPI 3.0 (openapi-spec-validator),
each event schema valid draft-4 JSON Schema, and every schema a handler checks with uses only
what its validator checks (handler_kit.schema refuses unknown keywords). The deployed methods'
equality with the document is in test_stack.py; each emitted event is checked against its
schema in the handler tests (shop.assert_valid_event)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from openapi_spec_validator import validate

from blueprints.microservices.common import CONTRACTS, openapi
from tests.support.lambda_runner import import_from

DOCUMENTS = sorted(p.stem for p in (CONTRACTS / "openapi").glob("*.json"))
EVENTS = sorted(p.stem for p in (CONTRACTS / "events").glob("*.json"))


@pytest.fixture(scope="module")
def schema_module():
    return import_from(CONTRACTS.parent.parent / "handler_kit", "handler_kit.schema")


def test_there_are_documents_and_events():
    assert DOCUMENTS == ["inventory", "orders"]
    assert EVENTS == ["OrderPlaced", "StockImport", "StockReserved", "StockShortage"]


@pytest.mark.parametrize("service", DOCUMENTS)
def test_each_openapi_document_is_valid(service):
    validate(openapi(service))


@pytest.mark.parametrize("service", DOCUMENTS)
def test_each_documents_schemas_are_what_the_handler_checks(service, schema_module):
    schemas = schema_module.load(str(CONTRACTS / "openapi" / f"{service}.json"))
    assert schemas == openapi(service)["components"]["schemas"]


@pytest.mark.parametrize("name", EVENTS)
def test_each_event_schema_is_valid_draft_4_and_fully_checked(name, schema_module):
    document = json.loads((CONTRACTS / "events" / f"{name}.json").read_text())
    jsonschema.Draft4Validator.check_schema(document)
    assert schema_module.checked(document, name) is document
    assert document["title"] == name


def test_every_pattern_is_anchored():
    """handler_kit.schema matches patterns whole; an unanchored one would mean something else to
    API Gateway and the generated clients."""
    text = "".join(p.read_text() for p in CONTRACTS.rglob("*.json"))
    patterns = [
        json.loads(f'"{p}"')
        for p in __import__("re").findall(r'"pattern": "((?:[^"\\]|\\.)*)"', text)
    ]
    assert patterns and all(p.startswith("^") and p.endswith("$") for p in patterns)


def test_a_schema_with_a_keyword_the_handler_cannot_check_is_refused(schema_module):
    with pytest.raises(ValueError, match="format"):
        schema_module.checked({"type": "object", "properties": {"a": {"format": "email"}}}, "X")
