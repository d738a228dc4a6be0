"""Docs generated from the synthesized templates, so they cannot drift from what deploys.

`make docs` synthesizes both stages, asks every generator in `GENERATORS` for its sections and
files, writes each section between its markers in `docs/<doc>.md`
(`<!-- generated:<name>:begin -->` ... `<!-- generated:<name>:end -->`), writes the files, and
renders the pictures. `make cost [STAGE=]` prints each stack's idle cost. The tests regenerate
everything from the session's synth and fail when a checked-in doc, DOT source or picture is stale.

A generator is a module with
    sections(assemblies: dict[str, Assembly]) -> dict[doc, dict[marker name, markdown]]
and, if it writes files besides the docs,
    files(assemblies: dict[str, Assembly]) -> dict[Path, str]
`assemblies` maps each stage ("dev", "prod") to its synthesized cloud assembly. Adding one is one
line below.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

GENERATORS = (
    "docgen.diagram",  # picture of each blueprint (generated:picture)
    "docgen.cost",  # idle-cost tables and per-request prices (generated:cost)
    "docgen.request_cost",  # per million requests, front end against front end (generated:requests)
    # every setting: type, allowed values, default, dev/prod values (generated:settings)
    "docgen.settings_reference",
    "docgen.restore",  # what prod can get back and the commands to (generated:restore)
)


def generators() -> list[ModuleType]:
    return [importlib.import_module(name) for name in GENERATORS]


def expected_sections(assemblies) -> dict[str, dict[str, str]]:
    """doc -> marker name -> the markdown every generator wants there."""
    found: dict[str, dict[str, str]] = {}
    for module in generators():
        for doc, sections in module.sections(assemblies).items():
            found.setdefault(doc, {}).update(sections)
    return found


def expected_files(assemblies) -> dict[Path, str]:
    found: dict[Path, str] = {}
    for module in generators():
        if hasattr(module, "files"):
            found.update(module.files(assemblies))
    return found
