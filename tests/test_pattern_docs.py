"""Every reusable construct documents its props the way aws-ecs-patterns does: each keyword
argument of `__init__` in an `Args:` section of the class docstring, with what it does and, when
it may be left out, `Default:` and what that means (a required one says "Required.").

Imports `patterns` only: no synth, so this runs in seconds.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from constructs import Construct

import patterns
from tests.support.synth import starter_kit

# `name`: text, at the section's indentation; continuation lines are indented deeper.
_ENTRY = re.compile(r"^`(?P<name>\w+)`:\s*(?P<text>.*)$")


def public_constructs() -> list[type[Construct]]:
    """The public Construct subclasses defined in the modules under patterns/."""
    found = []
    for info in pkgutil.walk_packages(patterns.__path__, f"{patterns.__name__}."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and value.__module__ == module.__name__
                and issubclass(value, Construct)
                and not name.startswith("_")
            ):
                found.append(value)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def keyword_parameters(cls: type) -> dict[str, inspect.Parameter]:
    parameters = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def args_section(docstring: str) -> dict[str, str]:
    """`Args:` entries of a (cleaned) docstring: name -> its whole text, continuation included.
    The section ends at the first non-blank line indented no deeper than `Args:` itself."""
    lines = docstring.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == "Args:"]
    if len(starts) != 1:
        return {}
    header = lines[starts[0]]
    base = len(header) - len(header.lstrip())
    entries: dict[str, str] = {}
    entry_indent = None
    current = None
    for line in lines[starts[0] + 1 :]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= base:
            break
        if entry_indent is None:
            entry_indent = indent
        match = _ENTRY.match(line.strip()) if indent == entry_indent else None
        if match:
            current = match["name"]
            assert current not in entries, f"{current} documented twice"
            entries[current] = match["text"]
        elif current is not None and indent > entry_indent:
            entries[current] += " " + line.strip()
        else:
            raise AssertionError(f"not an `Args:` entry: {line.strip()!r}")
    return entries


CONSTRUCTS = public_constructs()


def test_the_walk_finds_the_reusable_constructs():
    # A walk that found nothing would make every test below pass vacuously.
    # Every class a patterns/ file declares directly on Construct is among those walked (a
    # starter kit holds fewer files, so the expected set is read from the files, not fixed).
    declared = {
        name
        for path in (Path(patterns.__file__).parent).rglob("*.py")
        for name in re.findall(r"^class ([A-Z]\w*)\(Construct\):", path.read_text(), re.M)
    }
    names = {cls.__name__ for cls in CONSTRUCTS}
    assert declared <= names
    # The library's patterns/ declares constructs; a starter kit's may hold only helpers (the
    # update-offload kit: web_tier.py's launch options, no construct of it).
    assert declared or starter_kit(), "the walk found no construct in patterns/"


@pytest.mark.parametrize("cls", CONSTRUCTS, ids=lambda cls: cls.__name__)
def test_every_keyword_argument_is_documented_with_its_default(cls):
    parameters = keyword_parameters(cls)
    entries = args_section(inspect.getdoc(cls) or "")
    assert entries, f"{cls.__name__}: the class docstring has no `Args:` section"
    undocumented = sorted(set(parameters) - set(entries))
    assert not undocumented, f"{cls.__name__}: `Args:` does not document {undocumented}"
    unknown = sorted(set(entries) - set(parameters))
    assert not unknown, f"{cls.__name__}: `Args:` documents no such argument {unknown}"
    for name, parameter in parameters.items():
        text = entries[name]
        optional = parameter.default is not inspect.Parameter.empty
        what = text.split("Default:")[0].replace("Required.", "").strip()
        assert len(what) >= 10, f"{cls.__name__}.{name}: say what it does, not only {text!r}"
        if optional:
            default = text.partition("Default:")[2].strip()
            assert default, f"{cls.__name__}.{name} is optional: give `Default:` and its meaning"
        else:
            assert "Required." in text, f"{cls.__name__}.{name} has no default: say `Required.`"
            assert "Default:" not in text, f"{cls.__name__}.{name} has no default to describe"


def test_the_section_parser_reads_continuations_and_stops_at_the_next_paragraph():
    doc = inspect.cleandoc(
        """Summary.

        Args:
            `a`: first line
                continued. Required.
            `b`: optional. Default: 3.

        Attributes: x."""
    )
    assert args_section(doc) == {
        "a": "first line continued. Required.",
        "b": "optional. Default: 3.",
    }
    assert args_section("Summary only.") == {}


# --- attributes: always there, optional ones typed as optional on the class -------------------


def _self_targets(node: ast.stmt) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = set()
    for target in targets:
        for item in target.elts if isinstance(target, ast.Tuple) else [target]:
            if isinstance(item, ast.Attribute) and getattr(item.value, "id", None) == "self":
                names.add(item.attr)
    return names


def _calls_own_method(node: ast.AST, methods: dict[str, ast.FunctionDef]) -> str | None:
    call = node.value if isinstance(node, ast.Expr | ast.Assign | ast.AnnAssign) else None
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
        if getattr(call.func.value, "id", None) == "self" and call.func.attr in methods:
            return call.func.attr
    return None


def _always_assigned(body: list[ast.stmt], methods: dict[str, ast.FunctionDef]) -> set[str]:
    """Attributes every run of `body` assigns: straight-line assignments, both branches of an
    if, and what an own method called at this level always assigns."""
    assigned: set[str] = set()
    for node in body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            assigned |= _self_targets(node)
        elif isinstance(node, ast.If):
            assigned |= _always_assigned(node.body, methods) & _always_assigned(
                node.orelse, methods
            )
        method = _calls_own_method(node, methods)
        if method:
            assigned |= _always_assigned(methods[method].body, methods)
    return assigned


def _class_node(cls: type) -> ast.ClassDef:
    module = ast.parse(inspect.getsource(inspect.getmodule(cls)))
    return next(
        node for node in module.body if isinstance(node, ast.ClassDef) and node.name == cls.__name__
    )


@pytest.mark.parametrize("cls", CONSTRUCTS, ids=lambda cls: cls.__name__)
def test_every_attribute_exists_whatever_the_arguments(cls):
    """No `hasattr` needed: an attribute some branch leaves out is set (to None) up front, and
    one that may be None says so on the class (`certificate: acm.ICertificate | None`)."""
    node = _class_node(cls)
    methods = {m.name: m for m in node.body if isinstance(m, ast.FunctionDef)}
    everywhere: set[str] = set()
    set_to_none: set[str] = set()
    for method in methods.values():
        for statement in ast.walk(method):
            if isinstance(statement, ast.Assign | ast.AnnAssign) and statement.value is not None:
                everywhere |= _self_targets(statement)
                value = statement.value
                if isinstance(value, ast.Constant) and value.value is None:
                    set_to_none |= _self_targets(statement)
    always = _always_assigned(methods["__init__"].body, methods)
    sometimes = sorted(everywhere - always)
    assert not sometimes, f"{cls.__name__}: only some constructions set {sometimes}"
    annotations = inspect.get_annotations(cls)
    untyped = sorted(name for name in set_to_none if "None" not in str(annotations.get(name, "")))
    assert not untyped, f"{cls.__name__}: annotate {untyped} as `X | None` on the class"
