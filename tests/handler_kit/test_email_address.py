"""The one e-mail address rule (handler_kit/definitions.json): what it accepts and refuses, that
every reader gets the same rule (the settings' type, handler_kit.email_address, the schemas'
`$ref`; the API Gateway models house/api_models.py builds: tests/my_blog/test_email_rule.py),
and that an ECMAScript engine (API
Gateway models are JSON Schema with ECMAScript patterns) reads it as Python does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from house.types import EMAIL_ADDRESS, EmailAddress
from tests.support.strategies import DELIVERABLE_ADDRESSES
from tests.support.synth import REPO_ROOT
from tests.support.wiring import load_function

DEFINITIONS = REPO_ROOT / "lambda_src/layers/handler_kit/handler_kit/definitions.json"

DELIVERABLE = [
    "reader@example.com",
    "Reader.Name+blog@Sub.Example.co.uk",
    "o'brien@example.ie",
    "x@xn--bcher-kva.example",
    "a@b.io",
    "a" * 64 + "@example.com",
    "first.last@" + "d" * 63 + ".com",
]
NEVER_DELIVERED = [
    "",
    "reader",
    "reader@",
    "@example.com",
    "reader@example",  # no top-level label
    "reader@example.c0m",  # a top-level label is letters (or xn--)
    "reader@192.168.0.1",
    "reader@[192.168.0.1]",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    '"quoted"@example.com',
    "a b@example.com",
    "a@b@example.com",
    "a@-example.com",
    "a@example-.com",
    "a@exa_mple.com",
    "rëader@example.com",  # SES sends 7-bit ASCII only
    "reader\ufeff@example.com",
    "reader@example.com\n",
    " reader@example.com",
    "a" * 65 + "@example.com",
    "a@" + "d" * 64 + ".com",
    "a@" + ".".join(["d" * 60] * 5) + ".com",  # more than 254 in all
]


@pytest.fixture(scope="module")
def email_address():
    return load_function("layers/handler_kit", "handler_kit.email_address")


@pytest.fixture(scope="module")
def schema():
    return load_function("layers/handler_kit", "handler_kit.schema")


def test_the_settings_type_is_the_rule_the_layer_ships(email_address):
    rule = json.loads(DEFINITIONS.read_text())["EmailAddress"]
    assert rule["pattern"] == f"^{EMAIL_ADDRESS}$" == email_address.PATTERN
    assert rule["maxLength"] == email_address.MAX_LENGTH == 254


@pytest.mark.parametrize("address", DELIVERABLE)
def test_an_address_ses_delivers_to_is_accepted_everywhere(email_address, address):
    assert email_address.deliverable(address)
    assert TypeAdapter(EmailAddress).validate_python(address) == address


@pytest.mark.parametrize("address", NEVER_DELIVERED)
def test_an_address_ses_cannot_deliver_to_is_refused_everywhere(email_address, address):
    assert not email_address.deliverable(address)
    if len(address) <= 254:  # the settings type has the pattern; the length is the layer's too
        with pytest.raises(ValidationError):
            TypeAdapter(EmailAddress).validate_python(address)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=80), DELIVERABLE_ADDRESSES, st.emails()))
def test_the_layer_and_the_settings_type_agree_on_every_string(email_address, text):
    try:
        TypeAdapter(EmailAddress).validate_python(text)
        typed = len(text) <= 254
    except ValidationError:
        typed = False
    assert email_address.deliverable(text) == typed
    assert email_address.deliverable(text) == (
        len(text) <= 254 and re.fullmatch(EMAIL_ADDRESS, text) is not None
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to run ECMAScript")
def test_ecmascript_reads_the_pattern_as_python_does():
    """API Gateway checks models with ECMAScript-flavoured patterns: the lookahead, the
    character classes and the anchors must mean the same there."""
    rule = json.loads(DEFINITIONS.read_text())["EmailAddress"]
    samples = DELIVERABLE + NEVER_DELIVERED
    script = (
        "const re = new RegExp(process.argv[1]);"
        "const samples = JSON.parse(process.argv[2]);"
        "console.log(JSON.stringify(samples.map((s) => re.test(s))));"
    )
    result = subprocess.run(
        ["node", "-e", script, rule["pattern"], json.dumps(samples)],
        capture_output=True,
        text=True,
        check=True,
    )
    ecmascript = json.loads(result.stdout.strip().splitlines()[-1])
    # The handler's check is a fullmatch (handler_kit.schema: re.search's `$` would also match
    # before a final newline, ECMAScript's does not).
    python = [re.fullmatch(rule["pattern"], s) is not None for s in samples]
    assert ecmascript == python


@settings(max_examples=100, deadline=None)
@given(DELIVERABLE_ADDRESSES)
def test_the_address_strategy_of_the_property_tests_draws_deliverable_addresses(
    email_address, address
):
    assert email_address.deliverable(address), address
