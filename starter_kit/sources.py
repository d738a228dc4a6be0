"""Reading the repository's Python source for the export: which modules a file imports, which
repository paths it names, and index dicts cut down to a kit's entries.

Everything here works on source text (`ast`), never by importing the module, so a module that
would fail to import still gets a precise answer about what it needs.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import cached_property

# Where a path is kept as parts relative to the repository root: () is the root itself.
Parts = tuple[str, ...]


def module_name(path: str) -> str:
    """`patterns/data/dax_cache.py` -> `patterns.data.dax_cache`, `house/__init__.py` -> `house`.
    (Folders without `__init__.py` are namespace packages, as `benchmarks/` is.)"""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def ancestors(module: str) -> Iterator[str]:
    """`a.b.c` -> `a`, `a.b`: the packages Python runs before the module itself."""
    parts = module.split(".")
    for end in range(1, len(parts)):
        yield ".".join(parts[:end])


@dataclass
class SourceFile:
    path: str  # relative to the repository root, with "/"
    text: str
    tree: ast.Module = field(init=False)

    def __post_init__(self) -> None:
        self.tree = ast.parse(self.text, filename=self.path)

    @property
    def module(self) -> str:
        return module_name(self.path)

    @cached_property
    def nodes(self) -> dict[type, list[ast.AST]]:
        """The import statements, `/` operations and calls of the file, found in one walk."""
        found: dict[type, list[ast.AST]] = {ast.Import: [], ast.ImportFrom: [], ast.BinOp: []}
        found[ast.Call] = []
        for node in ast.walk(self.tree):
            if type(node) in found:
                found[type(node)].append(node)
        return found

    @property
    def is_package(self) -> bool:
        return self.path.endswith("/__init__.py")


def imported_modules(source: SourceFile, known: Collection[str]) -> set[str]:
    """Every module of `known` an import statement in `source` loads (module-level or inside a
    function: both run), with the packages above it."""
    found: set[str] = set()

    def add(module: str) -> None:
        for name in (*ancestors(module), module):
            if name in known:
                found.add(name)

    package = source.module if source.is_package else source.module.rpartition(".")[0]
    for node in source.nodes[ast.Import] + source.nodes[ast.ImportFrom]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            add(target)
            for alias in node.names:
                if f"{target}.{alias.name}" in known:
                    add(f"{target}.{alias.name}")
    found.discard(source.module)
    return found


# -- repository paths a file names ---------------------------------------------------------


class RepositoryPaths:
    """Evaluates the path expressions of the repository's Python files, statically:
    `Path(__file__)`, `.resolve()`, `.parent`, `.parents[n]`, `/ "constant"`, and names bound at
    module level to such an expression or imported from a module that binds one
    (`REPO_ROOT` from tests/support/synth.py, `LAMBDA_SRC` from house/bundling.py)."""

    def __init__(self, sources: dict[str, SourceFile]) -> None:
        self._sources = sources
        self._by_module = {s.module: s for s in sources.values()}
        self._bindings: dict[str, dict[str, ast.expr]] = {}
        self._imports: dict[str, dict[str, tuple[str, str]]] = {}
        self._resolving: set[tuple[str, str]] = set()

    def named_by(self, path: str) -> set[Parts]:
        """Every path `path`'s code builds from the repository root (inner parts of a longer
        expression included: `ROOT / "a" / "b"` names `a` and `a/b`)."""
        found = set()
        for node in self._sources[path].nodes[ast.BinOp]:
            if isinstance(node.op, ast.Div):
                parts = self.evaluate(path, node)
                if parts is not None:
                    found.add(parts)
        return found

    def evaluate(self, path: str, node: ast.expr) -> Parts | None:
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("Path", "PurePath", "PurePosixPath"):
                if len(node.args) == 1 and _is_name(node.args[0], "__file__"):
                    return tuple(path.split("/"))
                return None
            if isinstance(func, ast.Attribute) and func.attr in ("resolve", "absolute"):
                return self.evaluate(path, func.value)
            return None
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            parts = self.evaluate(path, node.value)
            return parts[:-1] if parts else None
        if isinstance(node, ast.Subscript) and _is_attribute(node.value, "parents"):
            parts = self.evaluate(path, node.value.value)
            index = node.slice
            if parts is None or not isinstance(index, ast.Constant):
                return None
            if not isinstance(index.value, int) or index.value >= len(parts):
                return None
            return parts[: len(parts) - index.value - 1]
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            parts = self.evaluate(path, node.left)
            right = node.right
            if parts is None or not isinstance(right, ast.Constant):
                return None
            if not isinstance(right.value, str):
                return None
            for part in right.value.split("/"):
                if part == "..":
                    if not parts:
                        return None
                    parts = parts[:-1]
                elif part not in ("", "."):
                    parts = (*parts, part)
            return parts
        if isinstance(node, ast.Name):
            return self._resolve_name(path, node.id)
        return None

    def _resolve_name(self, path: str, name: str) -> Parts | None:
        key = (path, name)
        if key in self._resolving:
            return None
        self._resolving.add(key)
        try:
            bindings, imports = self._scope(path)
            if name in bindings:
                return self.evaluate(path, bindings[name])
            if name in imports:
                module, original = imports[name]
                source = self._by_module.get(module)
                return self._resolve_name(source.path, original) if source else None
            return None
        finally:
            self._resolving.discard(key)

    def _scope(self, path: str) -> tuple[dict[str, ast.expr], dict[str, tuple[str, str]]]:
        if path not in self._bindings:
            tree = self._sources[path].tree
            bindings: dict[str, ast.expr] = {}
            for stmt in tree.body:
                if isinstance(stmt, ast.Assign):
                    for target in stmt.targets:
                        if isinstance(target, ast.Name):
                            bindings[target.id] = stmt.value
                elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                    if isinstance(stmt.target, ast.Name):
                        bindings[stmt.target.id] = stmt.value
            imports = {
                alias.asname or alias.name: (node.module, alias.name)
                for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module and not node.level
                for alias in node.names
            }
            self._bindings[path], self._imports[path] = bindings, imports
        return self._bindings[path], self._imports[path]


def lambda_sources(source: SourceFile) -> set[str]:
    """The `source="..."` keyword arguments of `source`'s calls: how the house Lambda names a
    function's folder (`python_function(source="todo_api")` -> lambda_src/todo_api/) and a
    layer's (`python_layer(source="dynamodb_client")` -> lambda_src/layers/dynamodb_client/),
    also when a pattern passes it on (`StreamConsumer(source="welcome_email")`)."""
    return {
        keyword.value.value
        for node in source.nodes[ast.Call]
        for keyword in node.keywords
        if keyword.arg == "source"
        and isinstance(keyword.value, ast.Constant)
        and isinstance(keyword.value.value, str)
    }


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_attribute(node: ast.expr, attr: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == attr


# -- index dicts ---------------------------------------------------------------------------

LINE_LENGTH = 100  # pyproject.toml [tool.ruff] line-length: pruned imports must still pass ruff
_ENTRY_TAIL = re.compile(r"\s*,?\s*(#.*)?$")


@dataclass
class Pruned:
    text: str
    removed_keys: list[str]
    removed_imports: list[tuple[str, str]]  # (module the name came from, name)


def prune_indexes(source: SourceFile, names: Collection[str], keep: Collection[str]) -> Pruned:
    """`source` with its index dicts cut down to the entries whose key is in `keep`, and the
    import names that only the removed entries used, removed.

    An index dict is a module-level assignment of a dict literal whose keys are all string
    constants from `names` (every blueprint key and stack id), e.g. `BLUEPRINTS` and `SMOKES`.
    Entries are removed line by line, so comments and formatting stay; a comment heading
    entries that are all removed goes with them. Returns the text unchanged if nothing goes."""
    lines = source.text.splitlines(keepends=True)
    drop: set[int] = set()  # 0-based line numbers
    edits: list[tuple[ast.Dict, str]] = []
    removed_keys: list[str] = []
    used_by_removed: set[str] = set()
    for stmt in source.tree.body:
        value = stmt.value if isinstance(stmt, ast.Assign | ast.AnnAssign) else None
        if not isinstance(value, ast.Dict) or not value.keys:
            continue
        keys = value.keys
        if not all(
            isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value in names
            for k in keys
        ):
            continue
        gone = [i for i, key in enumerate(keys) if key.value not in keep]
        if not gone:
            continue
        for i in gone:
            removed_keys.append(keys[i].value)
            used_by_removed |= {n.id for n in ast.walk(value.values[i]) if isinstance(n, ast.Name)}
        kept = [i for i in range(len(keys)) if i not in gone]
        if value.lineno == value.end_lineno or not kept:
            segments = [
                f"{ast.get_source_segment(source.text, keys[i])}: "
                f"{ast.get_source_segment(source.text, value.values[i])}"
                for i in kept
            ]
            edits.append((value, "{" + ", ".join(segments) + "}"))
            continue
        drop |= _entry_lines(source, lines, value, gone)
    if not removed_keys:
        return Pruned(source.text, [], [])
    for node, replacement in edits:
        first, last = node.lineno - 1, node.end_lineno - 1
        lines[first] = (
            _before(lines[first], node.col_offset)
            + replacement
            + _after(lines[last], node.end_col_offset)
        )
        drop |= set(range(first + 1, last + 1))
    text = "".join(line for n, line in enumerate(lines) if n not in drop)
    text, removed_imports = _drop_unused_imports(text, source.path, used_by_removed)
    ast.parse(text, filename=source.path)  # what was cut must still be Python
    return Pruned(text, removed_keys, removed_imports)


def _entry_lines(
    source: SourceFile, lines: list[str], value: ast.Dict, gone: list[int]
) -> set[int]:
    """The lines of the removed entries of a multi-line dict, and of the comments heading only
    removed entries."""
    drop: set[int] = set()
    entry_of_line: dict[int, int] = {}
    for i, (key, item) in enumerate(zip(value.keys, value.values, strict=True)):
        first, last = key.lineno - 1, item.end_lineno - 1
        before = _before(lines[first], key.col_offset)
        after = _after(lines[last], item.end_col_offset)
        if i in gone and (before.strip() or not _ENTRY_TAIL.fullmatch(after.rstrip("\n"))):
            raise ValueError(
                f"{source.path}:{first + 1}: cannot remove the entry {key.value!r} "
                "(put each entry of the dict on lines of its own)"
            )
        for n in range(first, last + 1):
            entry_of_line[n] = i
        if i in gone:
            drop |= set(range(first, last + 1))
    # A comment block heads the entries after it, up to the next comment block.
    heading: list[int] = []
    governed: list[int] = []
    for n in range(value.lineno, value.end_lineno - 1):
        if n in entry_of_line:
            governed.append(entry_of_line[n])
        elif lines[n].strip().startswith("#"):
            if heading and governed and all(i in gone for i in governed):
                drop |= set(heading)
            if governed:
                heading, governed = [], []
            heading.append(n)
    if heading and governed and all(i in gone for i in governed):
        drop |= set(heading)
    return drop


def _before(line: str, offset: int) -> str:
    """The text before a node: `ast` offsets count UTF-8 bytes, not characters."""
    return line.encode()[:offset].decode()


def _after(line: str, offset: int) -> str:
    return line.encode()[offset:].decode()


def _drop_unused_imports(text: str, path: str, candidates: set[str]) -> tuple[str, list]:
    tree = ast.parse(text, filename=path)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for stmt in tree.body:  # names listed in __all__ are used too
        if isinstance(stmt, ast.Assign) and any(_is_name(t, "__all__") for t in stmt.targets):
            used |= {e.value for e in ast.walk(stmt.value) if isinstance(e, ast.Constant)}
    unused = candidates - used
    lines = text.splitlines(keepends=True)
    removed: list[tuple[str, str]] = []
    for stmt in reversed(tree.body):
        if not isinstance(stmt, ast.Import | ast.ImportFrom):
            continue
        names = stmt.names
        gone = [a for a in names if (a.asname or a.name.split(".")[0]) in unused]
        if not gone:
            continue
        origin = stmt.module if isinstance(stmt, ast.ImportFrom) else ""
        removed += [(origin or a.name, a.name) for a in gone]
        kept = [a for a in names if a not in gone]
        first, last = stmt.lineno - 1, stmt.end_lineno - 1
        replacement = [_import_statement(stmt, kept)] if kept else []
        lines[first : last + 1] = replacement
    return "".join(lines), removed


def _import_statement(stmt: ast.Import | ast.ImportFrom, names: list[ast.alias]) -> str:
    spelled = [f"{a.name} as {a.asname}" if a.asname else a.name for a in names]
    if isinstance(stmt, ast.Import):
        return "".join(f"import {name}\n" for name in spelled)
    head = f"from {'.' * stmt.level}{stmt.module or ''} import "
    one_line = head + ", ".join(spelled)
    if len(one_line) <= LINE_LENGTH:
        return one_line + "\n"
    return head + "(\n" + "".join(f"    {name},\n" for name in spelled) + ")\n"
