"""`make export`: every blueprint's starter kit holds what it needs and nothing of the others,
checked against the synthesized templates (which files each stack deploys) and by importing the
kit's app; the index pruning, the writer and cdk.json's app launcher on their own.

The kits' own suites run in CI (.ci/run); this only checks their contents, in seconds.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from blueprints import BLUEPRINTS
from deployment.smoke import SMOKES
from starter_kit import export
from starter_kit.sources import SourceFile, imported_modules, module_name, prune_indexes
from tests.support.synth import REPO_ROOT

# -- every blueprint's kit ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inventory() -> export.Inventory:
    return export.inventory()


@pytest.fixture(scope="module")
def kit(inventory, tmp_path_factory):
    """`kit("my-blog")` -> (the plan, the folder it was written to), built on first use."""
    built: dict[str, tuple[export.Kit, Path]] = {}

    def get(key: str) -> tuple[export.Kit, Path]:
        if key not in built:
            plan = export.plan_kit(key, inventory, upstream="https://example.invalid/up.git")
            dest = tmp_path_factory.mktemp(f"kit-{key}")
            export.write(plan, dest, upstream="https://example.invalid/up.git")
            built[key] = plan, dest
        return built[key]

    return get


def deployed_files(assembly) -> dict[str, set[str]]:
    """Stack id -> the sha256 of every file its assets deploy (Lambda code and layers, image
    build contexts, site content), read from each stack's asset manifest."""
    manifest = assembly.manifest["artifacts"]
    found: dict[str, set[str]] = {}
    for artifact_id, artifact in manifest.items():
        if artifact["type"] != "cdk:asset-manifest":
            continue
        stack_id = artifact_id.removesuffix(".assets")
        assets = json.loads((assembly.outdir / artifact["properties"]["file"]).read_text())
        folders = [a["source"]["path"] for a in assets.get("files", {}).values()]
        folders += [a["source"]["directory"] for a in assets.get("dockerImages", {}).values()]
        hashes = found.setdefault(stack_id, set())
        for folder in folders:
            path = assembly.outdir / folder
            if path.is_dir():
                hashes |= {_sha(f) for f in path.rglob("*") if f.is_file()}
    return found


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def deployed_by(synth, inventory) -> dict[str, set[str]]:
    """Repository file -> the blueprints whose templates (dev or prod) deploy its content, for
    files whose content no other repository file has (an empty __init__.py proves nothing)."""
    stack_owner = {s: k for k, b in inventory.blueprints.items() for s in b.stack_ids}
    by_hash: dict[str, set[str]] = {}
    for stage in ("dev", "prod"):
        for stack_id, hashes in deployed_files(synth(stage)).items():
            for digest in hashes:
                if stack_id in stack_owner:
                    by_hash.setdefault(digest, set()).add(stack_owner[stack_id])
    files: dict[str, list[str]] = {}
    for path in export.repository_files():
        files.setdefault(_sha(REPO_ROOT / path), []).append(path)
    return {
        paths[0]: by_hash[digest]
        for digest, paths in files.items()
        if len(paths) == 1 and digest in by_hash
    }


@pytest.mark.parametrize("key", sorted(BLUEPRINTS))
def test_a_kit_deploys_what_its_blueprint_deploys_and_nothing_of_the_others(key, kit, deployed_by):
    only = os.environ.get("BLUEPRINTS")
    if only and key not in only.split(","):
        pytest.skip(f"{key} not built with BLUEPRINTS={only}")
    plan, _ = kit(key)
    mine = {path for path, owners in deployed_by.items() if key in owners}
    theirs = {path for path, owners in deployed_by.items() if key not in owners}
    assert sorted(mine - set(plan.files)) == []
    assert sorted(theirs & set(plan.files)) == []


def test_the_templates_show_which_repository_files_each_blueprint_deploys(deployed_by):
    """The check above has something to check: Lambda code, image build contexts, sites."""
    if os.environ.get("BLUEPRINTS"):
        pytest.skip("only some blueprints built (BLUEPRINTS)")
    assert any(path.startswith(f"{export.LAMBDA_SRC}/") for path in deployed_by)
    assert any(len(owners) == 1 for owners in deployed_by.values())


@pytest.mark.parametrize("key", sorted(BLUEPRINTS))
def test_a_kit_holds_its_blueprint_and_no_other(key, kit, inventory):
    plan, _ = kit(key)
    blueprint = inventory.blueprints[key]
    files = set(plan.files)
    assert {f"{blueprint.package}/stack.py", f"docs/{key}.md", "docs/deploying.md"} <= files
    assert {"app.py", "app.sh", "Makefile", "cdk.json", "README.md", "requirements.txt"} <= files
    assert {"requirements-dev.txt", "package.json", "package-lock.json", "pyproject.toml"} <= files
    assert "tests/support/synth.py" in files and "tests/conftest.py" in files
    assert any(p.startswith(f"{blueprint.tests}/test_") for p in files)
    for other in inventory.blueprints.values():
        if other.key == key:
            continue
        for folder in (other.package, other.tests):
            assert not [p for p in files if p.startswith(f"{folder}/")], folder
        assert f"docs/{other.key}.md" not in files
    assert not [p for p in files if p.startswith(f"{export.TOOL_ITSELF}/")]
    # Generic test modules are all there: one left out means the kit tests less than the library.
    # (A kit whose blueprint uses no reusable construct holds no patterns/ at all, and then the
    # test of their documentation has nothing to read.)
    no_patterns = not [p for p in files if p.startswith("patterns/")]
    left_out_tests = {
        path: why
        for path, why in plan.left_out.items()
        if path.startswith("tests/")
        and f"imports {export.TOOL_ITSELF}" not in why
        and not (no_patterns and why == "imports patterns, which the kit leaves out")
    }
    assert left_out_tests == {}


@pytest.mark.parametrize("key", sorted(BLUEPRINTS))
def test_a_kit_keeps_only_its_own_settings_and_index_entries(key, kit, inventory):
    plan, dest = kit(key)
    mine = inventory.names_of(key)
    settings = json.loads((dest / "cdk.json").read_text())
    library = json.loads((REPO_ROOT / "cdk.json").read_text())
    instances = export.instances(library["context"])
    assert set(settings["context"]["blueprints"]) == {i for i, k in instances.items() if k == key}
    library["context"]["blueprints"] = settings["context"]["blueprints"]
    assert settings == library  # the feature flags, stages, tags and app command unchanged
    assert index_keys(dest / "blueprints" / "__init__.py", "BLUEPRINTS") == [key]
    kept = index_keys(dest / "deployment" / "smoke.py", "SMOKES")
    assert kept == [s for s in SMOKES if s in mine]
    assert set(SMOKES) - set(kept) <= inventory.names() - mine


def index_keys(path: Path, name: str) -> list[str]:
    for stmt in ast.parse(path.read_text()).body:
        target = (
            stmt.target if isinstance(stmt, ast.AnnAssign) else getattr(stmt, "targets", [0])[0]
        )
        if isinstance(target, ast.Name) and target.id == name:
            return [k.value for k in stmt.value.keys]
    raise AssertionError(f"no {name} in {path}")


@pytest.mark.parametrize("key", sorted(BLUEPRINTS))
def test_a_kit_imports_only_what_it_holds_and_its_app_imports(key, kit):
    plan, dest = kit(key)
    library = {module_name(p) for p in export.repository_files() if p.endswith(".py")}
    held = {module_name(p) for p in plan.files if p.endswith(".py")}
    for path in (p for p in plan.files if p.endswith(".py")):
        needed = imported_modules(SourceFile(path, (dest / path).read_text()), library)
        assert needed <= held, f"{path} imports {sorted(needed - held)}, not in the kit"
    for module in re.findall(r"-m\s+([a-z_][\w.]*)", (dest / "Makefile").read_text()):
        if module.split(".")[0] in {m.split(".")[0] for m in library}:
            assert module in held, f"the Makefile runs {module}, not in the kit"
    assert "export" not in re.findall(r"^([a-z-]+):", (dest / "Makefile").read_text(), re.M)
    result = subprocess.run(
        [sys.executable, "-c", "import app, deployment.preflight, deployment.smoke"],
        cwd=dest,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=dest, capture_output=True
    )
    assert lint.returncode == 0, lint.stdout.decode()[-3000:]
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."],
        cwd=dest,
        capture_output=True,
    )
    assert formatted.returncode == 0, formatted.stdout.decode()[-3000:]


@pytest.mark.parametrize("key", sorted(BLUEPRINTS))
def test_a_kit_readme_says_what_it_is_and_how_to_start(key, kit, inventory):
    plan, dest = kit(key)
    readme = (dest / "README.md").read_text()
    assert "make synth" in readme and "make test" in readme and "make install" in readme
    assert "(https://example.invalid/up.git)" in readme
    assert f"(docs/{key}.md)" in readme
    for other in inventory.blueprints:
        if other != key:
            assert f"docs/{other}.md" not in readme
    table = readme.split("## Blueprints", 1)[1].split("##", 1)[0]
    for stack_id in inventory.blueprints[key].stack_ids:
        assert f"`{stack_id}`" in table  # tests/deployment/test_smoke_runner.py reads these
    marker = json.loads((dest / export.MARKER).read_text())
    assert marker["blueprint"] == key and sorted(plan.files) == marker["files"]


# -- writing a kit -----------------------------------------------------------------------------


def test_export_refuses_a_folder_with_other_things_in_it(kit, tmp_path):
    plan, _ = kit(sorted(BLUEPRINTS)[0])
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(export.ExportError, match="not empty"):
        export.write(plan, tmp_path)
    with pytest.raises(export.ExportError, match="inside the library"):
        export.write(plan, REPO_ROOT / "kit")


def test_export_again_replaces_what_it_wrote_and_keeps_the_rest(kit, tmp_path):
    plan, _ = kit(sorted(BLUEPRINTS)[0])
    export.write(plan, tmp_path)
    marker = json.loads((tmp_path / export.MARKER).read_text())
    marker["files"].append("house/gone_upstream.py")
    (tmp_path / export.MARKER).write_text(json.dumps(marker))
    (tmp_path / "house" / "gone_upstream.py").write_text("# removed upstream since\n")
    (tmp_path / "mine.py").write_text("# the fork's own\n")
    (tmp_path / "app.py").write_text("# changed in the fork\n")
    export.write(plan, tmp_path)
    assert not (tmp_path / "house" / "gone_upstream.py").exists()
    assert (tmp_path / "mine.py").exists()
    assert (tmp_path / "app.py").read_text() == (REPO_ROOT / "app.py").read_text()


def test_an_unknown_blueprint_names_the_closest(inventory):
    key = sorted(BLUEPRINTS)[0]
    typo = key.replace("-", "_")
    with pytest.raises(export.ExportError, match=rf"no blueprint '{typo}' \(did you mean '{key}'"):
        export.plan_kit(typo, inventory)


# -- index pruning -------------------------------------------------------------------------------

NAMES = {"a-one", "a-two", "A", "AEdge", "B", "Base"}


def pruned(text: str, keep: set[str]) -> str:
    return prune_indexes(SourceFile("deployment/index.py", text), NAMES, keep).text


def test_pruning_removes_entries_their_imports_and_a_comment_heading_only_them():
    text = '''"""Index."""

from deployment import smoke_a, smoke_b, smoke_base, smoke_edge
from deployment.smoke_support import Smoke

SMOKES: dict[str, Smoke] = {
    "Base": smoke_base.smoke,
    "A": smoke_a.smoke,
    "B": smoke_b.smoke,
    # The us-east-1 companions.
    "AEdge": smoke_edge.smoke,
}
OTHER = {"A": 1, "unrelated": 2}
'''
    assert (
        pruned(text, {"Base", "B"})
        == '''"""Index."""

from deployment import smoke_b, smoke_base
from deployment.smoke_support import Smoke

SMOKES: dict[str, Smoke] = {
    "Base": smoke_base.smoke,
    "B": smoke_b.smoke,
}
OTHER = {"A": 1, "unrelated": 2}
'''
    )
    kept_edge = pruned(text, {"Base", "A", "AEdge"})
    assert "# The us-east-1 companions." in kept_edge
    assert not re.search(r"\bsmoke_b\b", kept_edge)


def test_pruning_rewrites_one_line_and_emptied_dicts_and_keeps_what_else_uses_an_import():
    text = """from blueprints.a_one import stack as a_one
from blueprints.a_two import stack as a_two

BLUEPRINTS = {"a-one": a_one, "a-two": a_two}
HINTS = {
    "A": "x",
}
ALSO = a_two
"""
    assert (
        pruned(text, {"a-one"})
        == """from blueprints.a_one import stack as a_one
from blueprints.a_two import stack as a_two

BLUEPRINTS = {"a-one": a_one}
HINTS = {}
ALSO = a_two
"""
    )
    assert pruned(text, set(NAMES)) == text


def test_pruning_refuses_an_entry_sharing_a_line():
    text = 'X = {\n    "A": 1, "B": 2,\n}\n'
    with pytest.raises(ValueError, match="lines of its own"):
        pruned(text, {"A"})


# -- cdk.json's app launcher ---------------------------------------------------------------------


def test_npx_cdk_before_make_install_says_to_run_it(tmp_path):
    (tmp_path / "app.sh").write_text((REPO_ROOT / "app.sh").read_text())
    result = subprocess.run(["sh", "app.sh"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "run `make install` first" in line


def test_the_launcher_runs_app_py_with_the_venv_python(tmp_path):
    (tmp_path / "app.sh").write_text((REPO_ROOT / "app.sh").read_text())
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\necho "ran $*"\n')
    python.chmod(0o755)
    result = subprocess.run(
        ["sh", "app.sh", "--flag"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ran ./app.py --flag\n"
    settings = json.loads((REPO_ROOT / "cdk.json").read_text())
    assert settings["app"] == "sh app.sh"
