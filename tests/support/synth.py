"""Synthesize the app once per stage per test session, exactly as `cdk synth` would.

`cdk synth` reads `cdk.json`; a bare `cdk.App()` does not. So the context here is cdk.json's
`context` plus the stage, and the app is built by the same `build_app` that `app.py` runs.
cdk-nag findings make `app.synth()` raise; the templates are written anyway and the findings
are read from `validation-report.json`, never trusted from an exit code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from filelock import FileLock

REPO_ROOT = Path(__file__).resolve().parents[2]


def cdk_json_context(stage: str) -> dict:
    context = dict(json.loads((REPO_ROOT / "cdk.json").read_text())["context"])
    context["stage"] = stage
    # What the CDK CLI adds to every `cdk synth` (so tests see the template users deploy).
    context.update(
        {
            "aws:cdk:enable-path-metadata": True,
            "aws:cdk:enable-asset-metadata": True,
            # cdk.json sets "versionReporting": false, which the CLI passes on as this key.
            "aws:cdk:version-reporting": False,
            "aws:cdk:bundling-stacks": ["**"],
        }
    )
    only = os.environ.get("BLUEPRINTS")
    if only:
        context["blueprints_only"] = only
    return context


def shipped_stage(stage: str):
    """The StageSettings cdk.json ships for `stage` (no `-c` overrides, no BLUEPRINTS limit)."""
    from house.settings import stage_from_context

    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return stage_from_context({**context, "stage": stage}.get)


def shipped_settings(instance: str, stage: str):
    """The settings cdk.json ships for `instance` in `stage`: what the tests/<blueprint>/
    test_shipped_settings.py files check (every other test reads the built settings)."""
    from house.settings import blueprint_settings, declared_instances

    context = {**json.loads((REPO_ROOT / "cdk.json").read_text())["context"], "stage": stage}
    blueprint = declared_instances(context)[instance]
    if blueprint not in registered():
        pytest.skip(f"blueprint {blueprint} is not in BLUEPRINTS")
    cls = registered()[blueprint].SETTINGS
    return blueprint_settings(cls, context.get, instance, shipped_stage(stage))


def stages_with_prod_in(region: str) -> dict:
    """cdk.json's `stages`, with prod moved to `region` and its AZs a, b and c."""
    stages = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["stages"]
    stages["prod"] = {
        **stages["prod"],
        "region": region,
        "availability_zones": [f"{region}{az}" for az in "abc"],
    }
    return stages


def region_of(assembly: Synthesized, stack_id: str) -> str:
    return assembly.stacks[stack_id]["environment"].rsplit("/", 1)[-1]


def instances_in(outdir: Path) -> dict[str, dict]:
    """Instance key -> {"blueprint": key, "stacks": [stack ids]} of the cloud assembly in
    `outdir`, from the metadata app.py puts on every blueprint stack (app.INSTANCE_METADATA)."""
    from app import INSTANCE_METADATA

    manifest = json.loads((outdir / "manifest.json").read_text())
    found: dict[str, dict] = {}
    for stack_id, artifact in manifest["artifacts"].items():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        metadata = artifact.get("metadata") or {}
        if "additionalMetadataFile" in artifact:  # newer manifests keep it in a file of its own
            metadata = json.loads((outdir / artifact["additionalMetadataFile"]).read_text())
        for entries in metadata.values():
            for entry in entries:
                if entry.get("type") == INSTANCE_METADATA:
                    data = entry["data"]
                    built = found.setdefault(
                        data["instance"], {"blueprint": data["blueprint"], "stacks": []}
                    )
                    built["stacks"].append(stack_id)
    return found


def registered() -> dict:
    """BLUEPRINTS (blueprints/__init__.py): what the app can build."""
    from blueprints import BLUEPRINTS

    return BLUEPRINTS


def starter_kit() -> bool:
    """Whether this checkout is a starter kit (`make export`: one blueprint, its marker file at
    the root), where the library-wide tables (docs/compliance.md) name blueprints it left out."""
    return (REPO_ROOT / ".starter-kit.json").exists()


def not_built_reason(context: dict) -> str | None:
    """Why an app built from `context` cannot build every blueprint the repository has, or None:
    `BLUEPRINTS=...` limits the session, or BLUEPRINTS leaves blueprints out (a fork keeping
    some). Tests of a stack that is not built then skip, with this reason."""
    from app import unregistered_blueprints

    reasons = []
    if os.environ.get("BLUEPRINTS"):
        reasons.append(f"BLUEPRINTS={os.environ['BLUEPRINTS']} limits the session")
    left_out = sorted(unregistered_blueprints())
    if left_out:
        reasons.append(f"{', '.join(left_out)} not in BLUEPRINTS (blueprints/__init__.py)")
    return "; ".join(reasons) or None


def requires(*blueprints: str) -> pytest.MarkDecorator:
    """Skip a test written about these blueprints when BLUEPRINTS leaves one out (a fork)."""
    missing = [key for key in blueprints if key not in registered()]
    return pytest.mark.skipif(
        bool(missing), reason=f"{', '.join(missing)} not in BLUEPRINTS (blueprints/__init__.py)"
    )


def unbuildable(context: dict) -> str | None:
    """Why `context` asks for an instance (in `blueprints_only` or a `-c <instance>.<setting>`)
    whose blueprint is not registered, or None."""
    from house.settings import declared_instances

    blueprint_of = declared_instances(context)
    wanted = [n.strip() for n in str(context.get("blueprints_only") or "").split(",") if n.strip()]
    wanted += [key.partition(".")[0] for key in context if "." in key and ":" not in key]
    missing = sorted(
        {n for n in wanted if n in blueprint_of and blueprint_of[n] not in registered()}
    )
    if missing:
        return f"instance(s) {', '.join(missing)}: blueprint not in BLUEPRINTS"
    return None


@dataclass
class Synthesized:
    stage: str
    outdir: Path
    error: str | None
    context: dict = field(default_factory=dict, repr=False)
    _templates: dict[str, dict] = field(default_factory=dict)

    @property
    def stage_settings(self):
        """The StageSettings the app was built with (parsed again from its context)."""
        from house.settings import stage_from_context

        return stage_from_context(self.context.get)

    def settings(self, instance: str):
        """The settings instance `instance` was built with for this stage: what a test of
        behaviour expects the template to follow (e.g. `settings("my-blog").dax_nodes`)."""
        from house.settings import blueprint_settings, declared_instances

        blueprint = declared_instances(self.context).get(instance)
        if blueprint not in registered():
            reason = not_built_reason(self.context) or "no such instance in cdk.json"
            pytest.skip(f"instance {instance} is not built: {reason}")
        cls = registered()[blueprint].SETTINGS
        return blueprint_settings(cls, self.context.get, instance, self.stage_settings)

    @property
    def instances(self) -> dict[str, dict]:
        """Instance key -> {"blueprint": key, "stacks": [stack ids]}, as the app recorded them
        in the manifest (app.INSTANCE_METADATA)."""
        return instances_in(self.outdir)

    def stacks_of(self, blueprint: str) -> list[str]:
        """Ids of every stack of every instance of `blueprint` in this assembly."""
        return [
            stack_id
            for built in self.instances.values()
            if built["blueprint"] == blueprint
            for stack_id in built["stacks"]
        ]

    def require(self, stack_id: str) -> dict:
        """The manifest entry of `stack_id`; a test of a stack that this session does not build
        (see `not_built_reason`) is skipped, and a stack missing from a full build fails."""
        if stack_id not in self.stacks:
            reason = not_built_reason(self.context)
            if reason:
                pytest.skip(f"{stack_id} is not in the {self.stage} assembly: {reason}")
            raise AssertionError(
                f"no stack {stack_id!r} in the {self.stage} assembly: {list(self.stacks)}"
            )
        return self.stacks[stack_id]

    @property
    def manifest(self) -> dict:
        return json.loads((self.outdir / "manifest.json").read_text())

    @property
    def stacks(self) -> dict[str, dict]:
        """Stack artifact id -> manifest entry, for every stack in the assembly."""
        return {
            name: artifact
            for name, artifact in self.manifest["artifacts"].items()
            if artifact["type"] == "aws:cloudformation:stack"
        }

    @property
    def validation_report(self) -> dict | None:
        path = self.outdir / "validation-report.json"
        return json.loads(path.read_text()) if path.exists() else None

    def template(self, stack_id: str) -> dict:
        self.require(stack_id)
        if stack_id not in self._templates:
            file = self.stacks[stack_id]["properties"]["templateFile"]
            self._templates[stack_id] = json.loads((self.outdir / file).read_text())
        return self._templates[stack_id]

    def assertions(self, stack_id: str) -> Template:
        return Template.from_json(self.template(stack_id))

    def stack_name(self, stack_id: str) -> str:
        return self.require(stack_id)["properties"].get("stackName", stack_id)

    def stack_output_read_by(self, reference: dict):
        """The value a `Fn::GetStackOutput` reads: that output of that stack of this assembly,
        after checking the stack name and region it names are that stack's."""
        read = reference["Fn::GetStackOutput"]
        (stack_id,) = [s for s in self.stacks if self.stack_name(s) == read["StackName"]]
        assert read.get("Region") == region_of(self, stack_id), read
        return self.template(stack_id)["Outputs"][read["OutputName"]]["Value"]


def synthesize(stage: str, outdir: Path, extra_context: dict | None = None) -> Synthesized:
    from app import build_app  # the very function `python app.py` runs

    context = {**cdk_json_context(stage), **(extra_context or {})}
    reason = unbuildable(context)
    if reason:
        pytest.skip(f"cannot build this {stage} variant: {reason}")
    # Credentials in the shell must not change what the tests see: without these the stacks are
    # environment-agnostic (or take the region from cdk.json), as on a machine with no account.
    saved = {
        k: os.environ.pop(k)
        for k in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")
        if k in os.environ
    }
    try:
        app = cdk.App(context=context, outdir=str(outdir))
        build_app(app)
    finally:
        os.environ.update(saved)
    error = None
    try:
        app.synth()
    except RuntimeError as err:  # cdk-nag findings (ValidationFailed); templates are written
        error = str(err)
        if "ValidationFailed" not in error and "Validation failed" not in error:
            raise
    return Synthesized(stage=stage, outdir=outdir, error=error, context=context)


def synthesize_once(
    tmp_path_factory: pytest.TempPathFactory, stage: str, extra_context: dict | None = None
) -> Synthesized:
    """`synthesize()` once for the whole test session, however many xdist workers ask: the first
    to ask builds the assembly into a folder every worker shares, the others wait for it and
    read the same files. A synth of every blueprint takes ~25 s of CPU; with each of 4 workers
    building every stage and variant a test module asks for, synths took a third of `make test`.

    For fixtures that build from the app as shipped; a test that patches the app first (to show
    a gate failing on a broken construct) calls `synthesize()`, which always builds."""
    context = {**cdk_json_context(stage), **(extra_context or {})}
    key = hashlib.sha256(json.dumps(context, sort_keys=True, default=str).encode()).hexdigest()
    name = f"cdk.out-{stage}-{key[:16]}"
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return synthesize(stage, tmp_path_factory.mktemp(name), extra_context)
    outdir = tmp_path_factory.getbasetemp().parent / "shared-synth" / name
    outdir.parent.mkdir(exist_ok=True)
    built = outdir.parent / f"{name}.built.json"  # written last: the folder is complete
    with FileLock(f"{outdir}.lock"):
        if not built.exists():
            shutil.rmtree(outdir, ignore_errors=True)  # a synth that raised part-way
            error = synthesize(stage, outdir, extra_context).error
            built.write_text(json.dumps({"error": error}))
    return Synthesized(
        stage=stage,
        outdir=outdir,
        error=json.loads(built.read_text())["error"],
        context=context,
    )


_ASSET_HASH = re.compile(r"[0-9a-f]{64}")
_CURRENT_VERSION = re.compile(r"(CurrentVersion)[0-9A-F]{8}[0-9a-f]{32}")


def normalized(template: dict) -> dict:
    """The template with asset hashes and Lambda CurrentVersion ids masked, for snapshots."""
    text = json.dumps(template, indent=1, sort_keys=True)
    text = _ASSET_HASH.sub("<asset-hash>", text)
    text = _CURRENT_VERSION.sub(r"\1<hash>", text)
    return json.loads(text)
