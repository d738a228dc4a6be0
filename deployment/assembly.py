"""The synthesized cloud assembly (`cdk.out/`), read the way the CDK CLI reads it.

Preflight, smoke tests and the deploy rules all start from the same question: for stack id X
in this assembly, what is its CloudFormation name, where does it go, what does its template
declare and what must exist before it deploys. This module answers it, and nothing else.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path

UNKNOWN = ("unknown-account", "unknown-region")
# A stack a blueprint repeats per extra region is named after its home stack and the region in
# Pascal case (`EksClusterEuWest1`: EksCluster in eu-west-1; house.settings.pascal).
REGION_SUFFIX = re.compile(r"(?:[A-Z][a-z]+){2,3}\d")


def home_stack_id(stack_id: str, homes: Iterable[str]) -> str | None:
    """The one of `homes` that `stack_id` is, or repeats in another region; None if none."""
    for home in sorted(homes, key=len, reverse=True):
        if stack_id == home or (
            stack_id.startswith(home) and REGION_SUFFIX.fullmatch(stack_id.removeprefix(home))
        ):
            return home
    return None


@dataclasses.dataclass(frozen=True)
class StackArtifact:
    """One `aws:cloudformation:stack` artifact of the assembly."""

    assembly_dir: Path
    id: str
    artifact: dict
    # The artifacts named in this one's `dependencies` (asset manifests, other stacks).
    related: tuple[dict, ...] = ()

    @property
    def properties(self) -> dict:
        return self.artifact.get("properties", {})

    @property
    def stack_name(self) -> str:
        return self.properties.get("stackName", self.id)

    @property
    def account(self) -> str | None:
        """The account the template is bound to, or None for an environment-agnostic stack."""
        account = self.artifact.get("environment", "aws://unknown-account/unknown-region")
        value = account.removeprefix("aws://").split("/")[0]
        return None if value in UNKNOWN else value

    @property
    def region(self) -> str | None:
        """The region the template is bound to, or None for an environment-agnostic stack."""
        value = self.artifact.get("environment", "").rsplit("/", 1)[-1]
        return None if not value or value in UNKNOWN else value

    @property
    def dependencies(self) -> list[str]:
        """Ids of the stacks this one must follow (its own asset manifest left out)."""
        return [d for d in self.artifact.get("dependencies", []) if not d.endswith(".assets")]

    @property
    def required_bootstrap_version(self) -> int:
        """The bootstrap stack version the template and its asset manifests need at least."""
        return max(
            self.properties.get("requiresBootstrapStackVersion", 0),
            *(
                a.get("properties", {}).get("requiresBootstrapStackVersion", 0)
                for a in self.asset_artifacts
            ),
        )

    @property
    def asset_artifacts(self) -> list[dict]:
        """The `cdk:asset-manifest` artifacts this stack depends on (set by `Assembly`)."""
        return [a for a in self.related if a.get("type") == "cdk:asset-manifest"]

    @property
    def bootstrap_version_parameter(self) -> str:
        return self.properties.get(
            "bootstrapStackVersionSsmParameter", "/cdk-bootstrap/hnb659fds/version"
        )

    @cached_property
    def template(self) -> dict:
        return json.loads((self.assembly_dir / self.properties["templateFile"]).read_text())

    @cached_property
    def asset_manifest(self) -> dict:
        """Files and container images the CLI publishes before it deploys the template."""
        merged: dict = {"files": {}, "dockerImages": {}}
        for artifact in self.asset_artifacts:
            manifest = json.loads((self.assembly_dir / artifact["properties"]["file"]).read_text())
            for kind in merged:
                merged[kind].update(manifest.get(kind, {}))
        return merged

    @property
    def docker_images(self) -> dict[str, dict]:
        """Container image assets the CLI must `docker build` before it can deploy."""
        return dict(self.asset_manifest.get("dockerImages", {}))

    def resources(self, *types: str) -> Iterator[tuple[str, dict]]:
        """(logical id, resource) for every resource of one of `types` (all when none given)."""
        for logical_id, resource in self.template.get("Resources", {}).items():
            if not types or resource.get("Type") in types:
                yield logical_id, resource


class Assembly:
    """A cloud assembly directory (what `cdk synth` writes)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        manifest = self.directory / "manifest.json"
        if not manifest.exists():
            raise FileNotFoundError(
                f"{manifest} not found: synthesize first (`make synth STAGE=<stage>`)"
            )
        self.manifest = json.loads(manifest.read_text())

    @property
    def stacks(self) -> dict[str, StackArtifact]:
        artifacts = self.manifest.get("artifacts", {})
        return {
            name: StackArtifact(
                self.directory,
                name,
                artifact,
                tuple(artifacts[d] for d in artifact.get("dependencies", []) if d in artifacts),
            )
            for name, artifact in artifacts.items()
            if artifact.get("type") == "aws:cloudformation:stack"
        }

    def stack(self, stack_id: str) -> StackArtifact:
        stacks = self.stacks
        if stack_id not in stacks:
            raise KeyError(
                f"no stack {stack_id!r} in {self.directory}; stacks: "
                f"{', '.join(sorted(stacks)) or 'none'}"
            )
        return stacks[stack_id]

    def deploy_order(self, stack_id: str) -> list[StackArtifact]:
        """The stacks `cdk deploy <stack_id>` deploys, in order: its dependencies (recursively,
        e.g. AccountBaseline, a us-east-1 edge companion), then the stack itself."""
        stacks, order, seen = self.stacks, [], set()

        def visit(current: str) -> None:
            if current in seen:
                return
            seen.add(current)
            for dependency in self.stack(current).dependencies:
                if dependency in stacks:
                    visit(dependency)
            order.append(stacks[current])

        visit(stack_id)
        return order
