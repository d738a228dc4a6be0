"""The settings reference of each blueprint, generated from its settings model's JSON Schema:
every setting with its type and allowed values, default, the dev and prod values cdk.json ships,
and what it does. Written between the markers at the end of `docs/<blueprint>.md`:

    .venv/bin/python -m docgen.settings_reference            # print every blueprint's section
    .venv/bin/python -m docgen.settings_reference --write    # replace the sections in docs/
    .venv/bin/python -m docgen.settings_reference --check    # exit 1 if a section is stale

tests/test_settings_reference.py fails when a doc's section is not what this renders.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from docgen.markers import begin, end, read_section, replace_section
from house.types import ALLOWED

REPO_ROOT = Path(__file__).resolve().parent.parent
BEGIN = begin("settings")
END = end("settings")
STAGES = ("dev", "prod")


def doc_page(blueprint_key: str) -> Path:
    return REPO_ROOT / "docs" / f"{blueprint_key}.md"


def _value(value: Any) -> str:
    """A value as cdk.json spells it."""
    return f"`{json.dumps(value)}`"


def _kind(schema: dict) -> str:
    """What a value of `schema` may be, in words: the type, its limits, its allowed values."""
    if "anyOf" in schema:
        arms = [arm for arm in schema["anyOf"] if arm.get("type") != "null"]
        nullable = len(arms) < len(schema["anyOf"])
        kinds = [_kind(arm) for arm in arms]
        return " or ".join(kinds + (["`null`"] if nullable else []))
    if "const" in schema:
        return _value(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(_value(v) for v in schema["enum"])
    if schema.get("type") == "array":
        items = _kind(schema.get("items", {}))
        limits = []
        if "minItems" in schema:
            limits.append(f"at least {schema['minItems']}")
        if "maxItems" in schema:
            limits.append(f"at most {schema['maxItems']}")
        return f"list of {items}" + (f" ({', '.join(limits)})" if limits else "")
    if schema.get("type") == "object":
        return "object of strings"
    if ALLOWED in schema:
        return schema[ALLOWED]
    kind = {"integer": "integer", "number": "number", "boolean": "true/false", "string": "string"}
    text = kind.get(schema.get("type", ""), schema.get("type", "any"))
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        text += f" {low}..{high}"
    elif low is not None:
        text += f" ≥ {low}"
    elif high is not None:
        text += f" ≤ {high}"
    if "multipleOf" in schema:
        text += f" in steps of {schema['multipleOf']}"
    if "maxLength" in schema:
        text += f" (at most {schema['maxLength']} characters)"
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _shipped(blueprint_key: str) -> dict[str, Any]:
    """Stage -> the settings cdk.json ships for the instance named like the blueprint, as plain
    JSON values (what the model makes of the block: defaults filled in)."""
    from blueprints import BLUEPRINTS
    from house.settings import blueprint_settings, stage_from_context

    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    shipped = {}
    for stage_name in STAGES:
        read = {**context, "stage": stage_name}.get
        stage = stage_from_context(read)
        block = (context.get("blueprints") or {}).get(blueprint_key) or {}
        if stage_name in block:
            settings = blueprint_settings(
                BLUEPRINTS[blueprint_key].SETTINGS, read, blueprint_key, stage
            )
            shipped[stage_name] = settings.model_dump(mode="json")
    return shipped


def render(blueprint_key: str) -> str:
    """The settings reference of `blueprint_key` (markdown), markers not included."""
    from blueprints import BLUEPRINTS

    model = BLUEPRINTS[blueprint_key].SETTINGS
    schema = model.model_json_schema()
    shipped = _shipped(blueprint_key)
    lines = [
        "## Settings reference",
        "",
        f"Generated from `{model.__module__}.{model.__name__}` and cdk.json by "
        "`docgen/settings_reference.py`; do not edit by hand. Set a value in cdk.json "
        f"`blueprints.{blueprint_key}.<stage>` (or `blueprints.<instance>.<stage>` for another "
        f"instance), or for one run with `-c {blueprint_key}.<setting>=<value>`. dev and prod "
        "are what cdk.json ships (a value in bold differs from the default).",
        "",
        "| Setting | Allowed | Default | dev | prod | What it does |",
        "|---|---|---|---|---|---|",
    ]
    for name, field in schema["properties"].items():
        default = field.get("default")
        stages = []
        for stage_name in STAGES:
            if stage_name not in shipped:
                stages.append("—")
                continue
            value = shipped[stage_name][name]
            stages.append(_value(value) if value == default else f"**{_value(value)}**")
        lines.append(
            "| "
            + " | ".join(
                _cell(cell)
                for cell in (
                    f"`{name}`",
                    _kind(field),
                    _value(default) if "default" in field else "(required)",
                    *stages,
                    field.get("description", ""),
                )
            )
            + " |"
        )
    if model.RENAMED:
        lines += [
            "",
            "Renamed settings (an old name in cdk.json or `-c` fails the synth and names the new "
            "one): "
            + ", ".join(f"`{old}` → `{new}`" for old, new in sorted(model.RENAMED.items()))
            + ".",
        ]
    return "\n".join(lines) + "\n"


def sections(assemblies=None) -> dict[str, dict[str, str]]:
    """doc -> {"settings": markdown} for every registered blueprint: what `make docs` writes
    between the settings markers (docgen's GENERATORS). Reads the models and cdk.json only."""
    from blueprints import BLUEPRINTS

    return {key: {"settings": render(key)} for key in BLUEPRINTS}


def current(blueprint_key: str) -> str | None:
    """The section in the doc page now (markers and notice left out), or None without markers."""
    text = doc_page(blueprint_key).read_text()
    if BEGIN not in text or END not in text:
        return None
    return read_section(text, "settings", doc_page(blueprint_key))


def expected(blueprint_key: str) -> str:
    return render(blueprint_key).rstrip("\n")


def write(blueprint_key: str) -> bool:
    """Replace the section in the doc page (added at its end when it has no markers yet);
    True if the page changed."""
    page = doc_page(blueprint_key)
    text = page.read_text()
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    updated = replace_section(text, "settings", render(blueprint_key), page)
    if updated == page.read_text():
        return False
    page.write_text(updated)
    return True


def main(argv: list[str] | None = None) -> int:
    from blueprints import BLUEPRINTS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("blueprints", nargs="*", help="blueprint keys (default: every one)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="replace the sections in docs/")
    action.add_argument("--check", action="store_true", help="exit 1 if a section is stale")
    args = parser.parse_args(argv)
    keys = args.blueprints or list(BLUEPRINTS)
    stale = []
    for key in keys:
        if args.write:
            if write(key):
                print(f"wrote {doc_page(key).relative_to(REPO_ROOT)}")
        elif args.check:
            if current(key) != expected(key):
                stale.append(str(doc_page(key).relative_to(REPO_ROOT)))
        else:
            print(render(key))
    if stale:
        print(
            f"stale settings reference in {', '.join(stale)}: run "
            "`.venv/bin/python -m docgen.settings_reference --write`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
