"""`make export BLUEPRINT=<key> DEST=<dir>`: one blueprint as a standalone app.

    .venv/bin/python -m starter_kit.export my-todo-list /tmp/my-todo-list
    .venv/bin/python -m starter_kit.export --list       # the blueprint keys, one a line

DEST must be new or empty, or an earlier export of the same blueprint (its `.starter-kit.json`
lists the files it wrote: those are replaced or removed, nothing else is touched), which is how a
fork pulls fixes: re-export onto the branch that holds only exports, then merge it.

What the kit holds, and why, is in this package's docstring (starter_kit/__init__.py); the
export prints what it left out that a reader might look for (test modules, linked docs).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from starter_kit.readme import kit_readme
from starter_kit.sources import (
    RepositoryPaths,
    SourceFile,
    ancestors,
    imported_modules,
    lambda_sources,
    prune_indexes,
)

ROOT = Path(__file__).resolve().parent.parent
# house/bundling.py LAMBDA_SRC: one folder per function, layers/ one folder per layer.
LAMBDA_SRC = "lambda_src"
LAYERS = f"{LAMBDA_SRC}/layers"
# Folders holding many separately chosen things: a path naming the folder itself takes nothing
# (tests/support/lambda_runner.py looks up `REPO_ROOT / "lambda_src"`, not every function;
# `REPO_ROOT / "containers" / "web"` names one sample app, not every one).
CONTAINERS = frozenset({"", LAMBDA_SRC, LAYERS, "containers", "docs", "tests"})
# The export is the library's tool; a kit does not export itself.
TOOL_ITSELF = "starter_kit"
# Lines of the Makefile between these markers are the library's only (`make export`).
LIBRARY_ONLY = ("# >>> library only", "# <<< library only")
MARKER = ".starter-kit.json"
DEPLOYING = "docs/deploying.md"


# -- what the blueprints build -----------------------------------------------------------------


@dataclass(frozen=True)
class Blueprint:
    key: str
    package: str  # blueprints/my_todo_list
    stack_ids: tuple[str, ...]  # its own stacks, in any stage or region, in build order
    dev_stack_ids: tuple[str, ...]  # those a dev synth builds, in build order
    depends_on: dict[str, tuple[str, ...]]  # dev stack id -> the stacks it depends on

    @property
    def tests(self) -> str:
        return f"tests/{self.package.rsplit('/', 1)[-1]}"


@dataclass(frozen=True)
class Inventory:
    blueprints: dict[str, Blueprint]
    shared_stack_ids: tuple[str, ...]  # built whatever the blueprint (AccountBaseline)
    instances: dict[str, str]  # cdk.json blueprints: instance -> its blueprint key

    def names(self) -> frozenset[str]:
        """Every blueprint key, instance and stack id: what an index dict is keyed by."""
        return frozenset(
            {*self.blueprints, *self.instances, *self.shared_stack_ids}
            | {i for b in self.blueprints.values() for i in b.stack_ids}
        )

    def names_of(self, key: str) -> frozenset[str]:
        blueprint = self.blueprints[key]
        own_instances = {i for i, k in self.instances.items() if k == key}
        return frozenset({key, *own_instances, *blueprint.stack_ids, *self.shared_stack_ids})


def cdk_json_context(root: Path = ROOT) -> dict:
    return json.loads((root / "cdk.json").read_text())["context"]


def instances(context: dict) -> dict[str, str]:
    """cdk.json `blueprints`: each key is an instance of the blueprint its block names
    (`"blueprint": "<key>"`), else of the blueprint with the instance's own name."""
    declared = context.get("blueprints") or {}
    return {
        name: (block.get("blueprint", name) if isinstance(block, dict) else name)
        for name, block in declared.items()
    }


def inventory() -> Inventory:
    """Build (without synthesizing or bundling) each blueprint alone in dev, in prod, and in
    prod moved out of us-east-1 (where CloudFront's us-east-1 companion stacks appear), and
    record which stacks each builds."""
    import aws_cdk as cdk

    import app as cdk_app
    from blueprints import BLUEPRINTS

    context = cdk_json_context()
    prod_elsewhere = json.loads(json.dumps(context["stages"]))
    prod_elsewhere["prod"] = {
        **prod_elsewhere["prod"],
        "region": "eu-central-1",
        "availability_zones": ["eu-central-1a", "eu-central-1b", "eu-central-1c"],
    }
    variants = [{"stage": "dev"}, {"stage": "prod"}, {"stage": "prod", "stages": prod_elsewhere}]
    of = instances(context)
    # Credentials in the shell must not change what is built (as in tests/support/synth.py).
    names = ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")
    saved = {k: os.environ.pop(k) for k in names if k in os.environ}
    built: dict[str, list[list]] = {}
    try:
        for key in BLUEPRINTS:
            built[key] = []
            for variant in variants:
                app = cdk.App(
                    context={
                        **context,
                        **variant,
                        # Its instances in cdk.json (the one named like it, as shipped).
                        "blueprints_only": ",".join(i for i, k in of.items() if k == key) or key,
                        "aws:cdk:bundling-stacks": [],  # construct only: no pip, no assets
                    }
                )
                cdk_app.build_app(app)
                built[key].append([c for c in app.node.children if cdk.Stack.is_stack(c)])
    finally:
        os.environ.update(saved)
    ids = {key: [[s.node.id for s in stacks] for stacks in runs] for key, runs in built.items()}
    shared = set.intersection(*({i for run in runs for i in run} for runs in ids.values()))
    blueprints = {}
    for key, runs in ids.items():
        own = list(dict.fromkeys(i for run in runs for i in run if i not in shared))
        dev = built[key][0]
        blueprints[key] = Blueprint(
            key=key,
            package=BLUEPRINTS[key].__name__.rpartition(".")[0].replace(".", "/"),
            stack_ids=tuple(own),
            dev_stack_ids=tuple(s.node.id for s in dev if s.node.id not in shared),
            depends_on={
                s.node.id: tuple(d.node.id for d in s.dependencies if d.node.id not in shared)
                for s in dev
                if s.node.id not in shared
            },
        )
    return Inventory(blueprints, tuple(sorted(shared)), instances(context))


# -- the repository -------------------------------------------------------------------------


_SKIPPED_DIRS = {".git", ".venv", "node_modules", ".cache", "cdk.out", "__pycache__"}


def repository_files(root: Path = ROOT) -> list[str]:
    """The project's files: what git tracks or would track (untracked files that are not
    ignored included), else a walk that skips the usual caches."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others"]
            + ["--exclude-standard"],
            capture_output=True,
            check=True,
        ).stdout.decode()
        paths = [p for p in listed.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        paths = []
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS]
            paths += [Path(folder, name).relative_to(root).as_posix() for name in names]
    return sorted(
        p
        for p in paths
        if (root / p).is_file()
        and not p.endswith(".pyc")
        and "__pycache__" not in p.split("/")
        and not p.startswith((".git/", ".venv/", "node_modules/", ".cache/", "cdk.out/"))
    )


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, check=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def upstream_url() -> str:
    """Where a fork pulls fixes from: the `origin` remote, else this checkout's path."""
    return _git("remote", "get-url", "origin") or str(ROOT)


def upstream_version() -> str:
    return _git("describe", "--always", "--dirty") or "unknown"


# -- the plan -------------------------------------------------------------------------------


@dataclass
class Kit:
    blueprint: Blueprint
    # Kit path -> its new text, or None for a copy of the repository's file.
    files: dict[str, str | None] = field(default_factory=dict)
    # Repository path -> why it is not in the kit, for what a reader might look for.
    left_out: dict[str, str] = field(default_factory=dict)
    # Kit path of a Python file -> the index entries removed from it.
    pruned: dict[str, list[str]] = field(default_factory=dict)


class ExportError(ValueError):
    pass


class _Plan:
    """The steps of `plan_kit`, each reading what the one before decided."""

    def __init__(self, inv: Inventory, key: str) -> None:
        self.inv = inv
        self.blueprint = inv.blueprints[key]
        self.kit = Kit(self.blueprint)
        self.files = repository_files()
        self.file_set = set(self.files)
        self.dirs = {
            "/".join(p.split("/")[:n]) for p in self.files for n in range(1, p.count("/") + 1)
        }
        self.packages = {p.rpartition("/")[0] for p in self.files if p.endswith("/__init__.py")}
        others = [b for k, b in inv.blueprints.items() if k != key]
        self.foreign_dirs = tuple(f"{d}/" for b in others for d in (b.package, b.tests))
        self.original = {p: _parsed(p) for p in self.files if p.endswith(".py")}
        self.known = {s.module for s in self.original.values()}
        self.path_of = {s.module: p for p, s in self.original.items()}
        self.names = inv.names()
        self.names_of_kit = inv.names_of(key)

    def foreign(self, path: str) -> bool:
        return path.startswith(self.foreign_dirs)

    def in_package(self, path: str) -> bool:
        return path.startswith(f"{self.blueprint.package}/")

    # 1. Index dicts cut down to the kit's entries.
    def prune(self) -> None:
        self.sources: dict[str, SourceFile] = {}
        self.dropped_by_pruning: set[str] = set()
        for path, source in self.original.items():
            if self.foreign(path):
                continue
            pruned = prune_indexes(source, self.names, self.names_of_kit)
            if not pruned.removed_keys:
                self.sources[path] = source
                continue
            self.kit.pruned[path] = pruned.removed_keys
            self.sources[path] = SourceFile(path, pruned.text)
            for module, name in pruned.removed_imports:
                qualified = f"{module}.{name}"
                self.dropped_by_pruning.add(qualified if qualified in self.known else module)

    # 2. Python modules by the import graph.
    def modules(self) -> None:
        every_import = {s.module: imported_modules(s, self.known) for s in self.original.values()}
        imports = {
            s.module: every_import[s.module]
            if s is self.original[p]
            else imported_modules(s, self.known)
            for p, s in self.sources.items()
        }
        blueprint_modules = [
            s.module for p, s in self.original.items() if p.startswith("blueprints/")
        ]
        own_modules = [s.module for p, s in self.sources.items() if self.in_package(p)]
        # App code: what the whole library's app imports; the kit's: what its app imports.
        self.all_app_code = _closure(["app", *blueprint_modules], every_import)
        self.app_code = _closure(["app", *own_modules], imports)
        foreign = (self.all_app_code - self.app_code) | {
            s.module for p, s in self.original.items() if self.foreign(p)
        }
        itself = {m for m in self.known if m.split(".")[0] == TOOL_ITSELF}
        forbidden = foreign | itself | (self.dropped_by_pruning - self.app_code)
        # Generic tools: every module of the packages the Makefile runs (`-m deployment.smoke`).
        makefile = _kit_makefile((ROOT / "Makefile").read_text())
        tool_packages = {m.split(".")[0] for m in re.findall(r"-m\s+([A-Za-z_][\w.]*)", makefile)}
        tool_packages -= {TOOL_ITSELF, "tests"}
        tools = {
            s.module
            for s in self.sources.values()
            if s.module.split(".")[0] in tool_packages
            and s.module not in forbidden | self.all_app_code
        }
        tests = {s.module for p, s in self.sources.items() if p.startswith("tests/")}
        # The closure, leaving out each module that imports what the kit leaves out.
        candidates = self.app_code | tools | tests
        why: dict[str, str] = {}
        changed = True
        while changed:
            changed = False
            for module in sorted(candidates - why.keys()):
                for imported in sorted(imports.get(module, ())):
                    if imported in forbidden or imported in why:
                        why[module] = f"imports {imported}, which the kit leaves out"
                        changed = True
                        break
                    if imported not in candidates:
                        candidates.add(imported)
                        changed = True
        broken = sorted(m for m in why if m in self.app_code)
        if broken:
            raise ExportError(f"the app's own modules import what the kit leaves out: {broken}")
        kept = candidates - why.keys()
        kept |= {a for m in kept for a in ancestors(m) if a in self.path_of}
        for module, reason in why.items():
            self.kit.left_out[self.path_of[module]] = reason
        self.python = {self.path_of[m] for m in kept} | {
            p for p in self.sources if self.in_package(p)
        }

    # 3. Assets: what the kept code names, taken whole; Python among them is read in turn.
    def assets(self) -> None:
        paths = RepositoryPaths(self.original | self.sources)
        app_files = {self.path_of[m] for m in self.all_app_code if m in self.path_of}
        own = {t for p in app_files & self.python for t in self._named(paths, p)}
        theirs = {t for p in app_files - self.python for t in self._named(paths, p)} - own
        self.taken: set[str] = set()
        scanned: set[str] = set()
        pending = sorted(self.python)
        while pending:
            path = pending.pop()
            if path in scanned or path not in self.original:
                continue
            scanned.add(path)
            for target in sorted(self._named(paths, path)):
                if target in self.file_set:
                    hits = [target]
                elif target in self.dirs:
                    hits = [p for p in self.files if p.startswith(f"{target}/")]
                else:
                    continue
                for hit in hits:
                    if self.foreign(hit) or _under_any(hit, theirs) and not _under_any(hit, own):
                        self.kit.left_out.setdefault(hit, f"named by {path}; another blueprint's")
                        continue
                    self.taken.add(hit)
                    if hit.endswith(".py"):
                        pending.append(hit)

    def _named(self, paths: RepositoryPaths, path: str) -> set[str]:
        """The repository paths `path` names that stand for an asset (not a module: modules
        come by import, so a test reading one's text takes nothing)."""
        named = {"/".join(parts) for parts in paths.named_by(path)}
        for name in lambda_sources(self.sources.get(path, self.original[path])):
            named |= {f"{LAMBDA_SRC}/{name}", f"{LAYERS}/{name}"}
        return {
            target
            for target in named
            if target not in CONTAINERS
            and target not in self.packages
            and not (
                target.endswith(".py")
                and ("/" not in target or target.rpartition("/")[0] in self.packages)
            )
            and (target in self.file_set or target in self.dirs)
        }

    # 4. Everything else: data files of kept packages, docs, top-level files.
    def rest(self) -> None:
        kept_test_dirs = {p.rpartition("/")[0] for p in self.python if p.startswith("tests/")}
        self.data = {
            p
            for p in self.files
            if not p.endswith(".py")
            and not self.foreign(p)
            and (self.in_package(p) or (p.startswith("tests/") and _under_any(p, kept_test_dirs)))
        }
        self.docs = _docs(self.blueprint.key, self.inv, self.file_set, self.kit)
        self.top_level = {p for p in self.files if "/" not in p} - {"README.md"}

    def finish(self, upstream: str, version: str) -> Kit:
        kit = self.kit
        chosen = self.python | self.taken | self.data | self.docs | self.top_level
        for path in sorted(chosen):
            kit.files[path] = self.sources[path].text if path in kit.pruned else None
        kit.pruned = {p: keys for p, keys in kit.pruned.items() if p in kit.files}
        kit.files["cdk.json"] = _kit_cdk_json(self.blueprint.key)
        if DEPLOYING in kit.files:
            kit.files[DEPLOYING] = _kit_deploying(
                (ROOT / DEPLOYING).read_text(),
                {*self.blueprint.stack_ids, *self.inv.shared_stack_ids},
            )
        kit.files["Makefile"] = _kit_makefile((ROOT / "Makefile").read_text())
        kit.files["README.md"] = kit_readme(
            upstream_readme=(ROOT / "README.md").read_text(),
            blueprint=self.blueprint,
            shared_stack_ids=self.inv.shared_stack_ids,
            files=sorted(kit.files),
            upstream=upstream,
            version=version,
        )
        return kit


def _kit_deploying(text: str, stack_ids: set[str]) -> str:
    """docs/deploying.md with its generated idle-cost table cut to the kit's stacks (a row
    names its stack first, `| `<id>` | ...`), as `make docs` in the kit writes it."""
    begin, end = "<!-- generated:cost:begin -->", "<!-- generated:cost:end -->"
    head, _, rest = text.partition(begin)
    table, _, tail = rest.partition(end)
    kept = [
        line
        for line in table.splitlines(keepends=True)
        if not (m := re.match(r"\| `(\w+)` \|", line)) or m.group(1) in stack_ids
    ]
    return head + begin + "".join(kept) + end + tail if rest else text


def plan_kit(
    key: str,
    inventory_: Inventory | None = None,
    *,
    upstream: str | None = None,
    version: str | None = None,
) -> Kit:
    """Which files the kit of blueprint `key` holds, and the new text of those it changes."""
    if inventory_ is None:
        from blueprints import BLUEPRINTS

        _check_key(key, BLUEPRINTS)  # before the seconds the inventory takes
    inv = inventory_ or inventory()
    _check_key(key, inv.blueprints)
    plan = _Plan(inv, key)
    plan.prune()
    plan.modules()
    plan.assets()
    plan.rest()
    return plan.finish(upstream or upstream_url(), version or upstream_version())


_PARSED: dict[tuple[str, str], SourceFile] = {}


def _parsed(path: str) -> SourceFile:
    """The repository's Python file, parsed once per process (every kit reads every file)."""
    text = (ROOT / path).read_text()
    if (path, text) not in _PARSED:
        _PARSED[(path, text)] = SourceFile(path, text)
    return _PARSED[(path, text)]


def _check_key(key: str, blueprints: Iterable[str]) -> None:
    if key not in blueprints:
        close = difflib.get_close_matches(key, blueprints, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ExportError(f"no blueprint {key!r}{hint}; blueprints: {', '.join(blueprints)}")


def _closure(roots: Iterable[str], graph: dict[str, set[str]]) -> set[str]:
    seen, pending = set(), list(roots)
    while pending:
        module = pending.pop()
        if module not in seen:
            seen.add(module)
            pending += graph.get(module, ())
    return seen


def _under_any(path: str, folders: Iterable[str]) -> bool:
    return any(path == folder or path.startswith(f"{folder}/") for folder in folders)


def _docs(key: str, inv: Inventory, files: set[str], kit: Kit) -> set[str]:
    """The blueprint's page and docs/deploying.md, and what they link to (not another
    blueprint's page: those are left out, and named in the report)."""
    page = f"docs/{key}.md"
    if page not in files:
        raise ExportError(f"{page} is missing: every blueprint has its doc page")
    foreign_pages = {f"docs/{k}.md" for k in inv.blueprints if k != key}
    taken, pending = set(), [page, DEPLOYING]
    while pending:
        doc = pending.pop()
        if doc in taken or doc not in files:
            continue
        taken.add(doc)
        if not doc.endswith(".md"):
            continue
        for link in re.findall(r"\]\(([^)\s]+)\)", (ROOT / doc).read_text()):
            target = link.split("#", 1)[0]
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue
            resolved = os.path.normpath(os.path.join(os.path.dirname(doc), target))
            if resolved in foreign_pages:
                kit.left_out.setdefault(resolved, f"linked from {doc}; another blueprint's page")
            elif resolved in files:
                pending.append(resolved)
    return taken


def _kit_cdk_json(key: str) -> str:
    settings = json.loads((ROOT / "cdk.json").read_text())
    context = settings["context"]
    of = instances(context)
    context["blueprints"] = {
        name: block for name, block in (context.get("blueprints") or {}).items() if of[name] == key
    }
    return json.dumps(settings, indent=2) + "\n"


def _kit_makefile(text: str) -> str:
    start, end = LIBRARY_ONLY
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith(start):
            skipping = True
        elif line.startswith(end):
            skipping = False
        elif not skipping:
            kept.append(line)
    return "".join(kept)


# -- writing it -----------------------------------------------------------------------------


def write(kit: Kit, dest: Path, *, upstream: str | None = None, version: str | None = None) -> None:
    """Write the kit into `dest` (new, empty, or an earlier export of the same blueprint)."""
    dest = dest.resolve()
    previous = earlier_export(dest, kit.blueprint.key)
    for path in previous:
        if path not in kit.files and (dest / path).is_file():
            (dest / path).unlink()
    for path, text in kit.files.items():
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            shutil.copy2(ROOT / path, target)  # the date too, so make sees the same age
        else:
            target.write_text(text)
            if (ROOT / path).exists():
                shutil.copymode(ROOT / path, target)
    for folder in sorted({(dest / p).parent for p in previous}, key=lambda d: -len(d.parts)):
        if folder != dest and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    (dest / MARKER).write_text(
        json.dumps(
            {
                "blueprint": kit.blueprint.key,
                "upstream": upstream or upstream_url(),
                "version": version or upstream_version(),
                "files": sorted(kit.files),
            },
            indent=2,
        )
        + "\n"
    )


def earlier_export(dest: Path, key: str) -> list[str]:
    """The files an earlier export of `key` wrote into `dest` ([] for a new or empty folder);
    an error for a folder inside the library or holding anything else."""
    dest = dest.resolve()
    if dest == ROOT or ROOT in dest.parents:
        raise ExportError(f"DEST {dest} is inside the library: export somewhere else")
    if not dest.exists() or not any(dest.iterdir()):
        return []
    marker = dest / MARKER
    earlier = json.loads(marker.read_text()) if marker.is_file() else None
    if not earlier or earlier.get("blueprint") != key:
        raise ExportError(
            f"DEST {dest} is not empty and holds no earlier export of {key} ({MARKER}): "
            "give a new or empty folder"
        )
    return earlier.get("files", [])


def summary(kit: Kit, dest: Path) -> str:
    tops: dict[str, int] = {}
    for path in kit.files:
        top = path.split("/", 1)[0] if "/" in path else "(top level)"
        tops[top] = tops.get(top, 0) + 1
    lines = [
        f"export {kit.blueprint.key} -> {dest}: {len(kit.files)} files ("
        + ", ".join(f"{top} {n}" for top, n in sorted(tops.items()))
        + ")",
        f"stacks: {', '.join(kit.blueprint.stack_ids)} (+ the account baseline)",
    ]
    for path, keys in sorted(kit.pruned.items()):
        lines.append(f"index entries left out of {path}: {', '.join(keys)}")
    for path, reason in sorted(kit.left_out.items()):
        lines.append(f"left out {path}: {reason}")
    lines.append(f"next: cd {dest} && make synth && make test")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m starter_kit.export",
        description="Write one blueprint as a standalone app (a starter kit).",
    )
    parser.add_argument("blueprint", nargs="?", help="the blueprint key, as in cdk.json and docs/")
    parser.add_argument("dest", nargs="?", type=Path, help="a new or empty folder")
    parser.add_argument("--list", action="store_true", help="list the blueprint keys and exit")
    parser.add_argument("--upstream", help="where forks pull fixes from (default: git origin)")
    args = parser.parse_args(argv)
    if args.list:
        from blueprints import BLUEPRINTS

        print("\n".join(BLUEPRINTS))
        return 0
    if not args.blueprint or not args.dest:
        parser.error("usage: make export BLUEPRINT=<key> DEST=<dir>")
    try:
        earlier_export(args.dest, args.blueprint)  # before the planning, which takes seconds
        kit = plan_kit(args.blueprint, upstream=args.upstream)
        write(kit, args.dest, upstream=args.upstream)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(summary(kit, args.dest.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
