"""Synthesize the app once per stage per test session, exactly as `cdk synth` would.

`cdk synth` reads `cdk.json`; a bare `cdk.App()` does not. So the context here is cdk.json's
`context` plus the stage, and the app is built by the same `build_app` that `app.py` runs.
cdk-nag findings make `app.synth()` raise; the templates are written anyway and the findings
are read from `validation-report.json`, never trusted from an exit code.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

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


@dataclass
class Synthesized:
    stage: str
    outdir: Path
    error: str | None
    _templates: dict[str, dict] = field(default_factory=dict)

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
        if stack_id not in self.stacks:
            if os.environ.get("BLUEPRINTS"):
                pytest.skip(f"{stack_id} not built with BLUEPRINTS={os.environ['BLUEPRINTS']}")
            raise AssertionError(
                f"no stack {stack_id!r} in the {self.stage} assembly: {list(self.stacks)}"
            )
        if stack_id not in self._templates:
            file = self.stacks[stack_id]["properties"]["templateFile"]
            self._templates[stack_id] = json.loads((self.outdir / file).read_text())
        return self._templates[stack_id]

    def assertions(self, stack_id: str) -> Template:
        return Template.from_json(self.template(stack_id))

    def stack_name(self, stack_id: str) -> str:
        return self.stacks[stack_id]["properties"].get("stackName", stack_id)

    def stack_output_read_by(self, reference: dict):
        """The value a `Fn::GetStackOutput` reads: that output of that stack of this assembly,
        after checking the stack name and region it names are that stack's."""
        read = reference["Fn::GetStackOutput"]
        (stack_id,) = [s for s in self.stacks if self.stack_name(s) == read["StackName"]]
        assert read.get("Region") == region_of(self, stack_id), read
        return self.template(stack_id)["Outputs"][read["OutputName"]]["Value"]


def synthesize(stage: str, outdir: Path, extra_context: dict | None = None) -> Synthesized:
    from app import build_app  # the very function `python app.py` runs

    # Credentials in the shell must not change what the tests see: without these the stacks are
    # environment-agnostic (or take the region from cdk.json), as on a machine with no account.
    saved = {
        k: os.environ.pop(k)
        for k in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")
        if k in os.environ
    }
    try:
        app = cdk.App(
            context={**cdk_json_context(stage), **(extra_context or {})}, outdir=str(outdir)
        )
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
    return Synthesized(stage=stage, outdir=outdir, error=error)


_ASSET_HASH = re.compile(r"[0-9a-f]{64}")
_CURRENT_VERSION = re.compile(r"(CurrentVersion)[0-9A-F]{8}[0-9a-f]{32}")


def normalized(template: dict) -> dict:
    """The template with asset hashes and Lambda CurrentVersion ids masked, for snapshots."""
    text = json.dumps(template, indent=1, sort_keys=True)
    text = _ASSET_HASH.sub("<asset-hash>", text)
    text = _CURRENT_VERSION.sub(r"\1<hash>", text)
    return json.loads(text)
