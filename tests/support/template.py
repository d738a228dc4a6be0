"""Small readers of a synthesized template (a dict), shared by every blueprint's assertions."""

from __future__ import annotations


def resources(template: dict, kind: str) -> dict[str, dict]:
    """Logical id -> resource, for every resource of CloudFormation type `kind`."""
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def only(template: dict, kind: str) -> tuple[str, dict]:
    """The one resource of type `kind` (fails if there are none or several)."""
    found = resources(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {list(found)}"
    return next(iter(found.items()))
