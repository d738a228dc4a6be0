"""The settings reference at the end of each blueprint's doc page is what the settings models
and cdk.json say now (docgen/settings_reference.py writes it)."""

from __future__ import annotations

import pytest

from blueprints import BLUEPRINTS
from docgen import settings_reference
from tests.support.synth import requires


@pytest.mark.parametrize("blueprint", list(BLUEPRINTS))
def test_the_doc_pages_settings_reference_is_current(blueprint):
    assert settings_reference.current(blueprint) == settings_reference.expected(blueprint), (
        f"docs/{blueprint}.md's settings reference is stale: run `make docs` "
        "(or `.venv/bin/python -m docgen.settings_reference --write`) and review the diff"
    )


def test_every_setting_has_a_description():
    for key, module in BLUEPRINTS.items():
        for name, field in module.SETTINGS.model_fields.items():
            assert field.description, f"{key}: setting {name} has no description"


@requires("my-todo-list")
def test_the_reference_lists_every_setting_its_type_and_the_shipped_values():
    text = settings_reference.render("my-todo-list")
    row = next(line for line in text.splitlines() if line.startswith("| `dax_nodes` |"))
    # allowed, default, dev (the default), prod (cdk.json: bold, differs from the default)
    assert row.split(" | ")[1:5] == ["integer 1..11", "`1`", "`1`", "**`3`**"]
    assert "`waf_enabled` → `waf`" in text
