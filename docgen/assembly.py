"""A synthesized cloud assembly (a `cdk.out` directory) as the doc generators read it.

The generators read templates, never the CDK app: what the docs say is what `cdk deploy` would
create. `synthesize_stage()` builds the app exactly as `cdk synth` does (cdk.json's context, the
same `build_app`), through the test suite's own helper, so docs, tests and users see one template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from deployment.assembly import home_stack_id

REPO_ROOT = Path(__file__).resolve().parents[1]

# Which stacks each doc describes. A test checks that every stack of every stage belongs to
# exactly one doc, so a new stack (or a renamed one) cannot go undocumented.
DOC_STACKS: dict[str, tuple[str, ...]] = {
    "deploying": ("AccountBaseline",),
    "neptune-graph": ("NeptuneGraph",),
    "fargate-service": ("FargateService",),
    "container-web-app": ("ContainerWebApp",),
    "update-offload": ("UpdateServer", "UpdateOffload", "UpdateOffloadEdge"),
    "my-todo-list": ("MyTodoList",),
    "my-blog": ("MyBlog", "MyBlogEdge", "MyBlogFailover"),
    "microservices": (
        "MicroservicesBus",
        "MicroservicesInventory",
        "MicroservicesStock",
        "MicroservicesOrders",
        "MicroservicesNotifications",
    ),
    # + EksCluster<Region> for each of `regions` (`describes`).
    "eks-cluster": ("EksCluster",),
    "serverless-web-app": (
        "ServerlessWebApp",
        "ServerlessWebAppEdge",
        "ServerlessWebAppFailover",
        "ServerlessWebAppAmplify",
    ),
    "employee-directory": (
        "EmployeeDirectoryClassic",
        "EmployeeDirectoryServerless",
        "EmployeeDirectoryServerlessEdge",
        "EmployeeDirectoryServerlessFailover",
    ),
}
# The docs that draw a picture of their stacks: every blueprint's that this checkout holds (the
# account baseline is one IAM role). A starter kit holds its own blueprint's doc only; in the
# library, tests/test_docs.py fails on a built stack whose doc is missing.
BLUEPRINT_DOCS = tuple(
    doc for doc in DOC_STACKS if doc != "deploying" and (REPO_ROOT / "docs" / f"{doc}.md").exists()
)


def doc_path(doc: str) -> Path:
    return REPO_ROOT / "docs" / f"{doc}.md"


def describes(doc: str, stack_id: str) -> bool:
    """Whether `doc` describes `stack_id`: one of its DOC_STACKS, or a copy of one in another
    region (`EksClusterEuWest1`, deployment/assembly.py)."""
    return home_stack_id(stack_id, DOC_STACKS[doc]) is not None


def doc_of(stack_id: str) -> str:
    for doc in DOC_STACKS:
        if describes(doc, stack_id):
            return doc
    raise KeyError(
        f"stack {stack_id!r} belongs to no doc: add it to DOC_STACKS in docgen/assembly.py"
    )


@dataclass
class Stack:
    id: str
    name: str
    region: str | None
    template: dict

    @property
    def resources(self) -> dict[str, dict]:
        return self.template.get("Resources", {})

    def of_type(self, *types: str) -> dict[str, dict]:
        return {k: r for k, r in self.resources.items() if r["Type"] in types}


@dataclass
class Assembly:
    """One stage's cloud assembly: its stacks in manifest order."""

    stage: str
    outdir: Path
    _stacks: dict[str, Stack] = field(default_factory=dict)

    @cached_property
    def stacks(self) -> dict[str, Stack]:
        manifest = json.loads((self.outdir / "manifest.json").read_text())
        stacks = {}
        for stack_id, artifact in manifest["artifacts"].items():
            if artifact["type"] != "aws:cloudformation:stack":
                continue
            properties = artifact["properties"]
            region = artifact.get("environment", "").rsplit("/", 1)[-1]
            stacks[stack_id] = Stack(
                id=stack_id,
                name=properties.get("stackName", stack_id),
                region=None if region in ("", "unknown-region") else region,
                template=json.loads((self.outdir / properties["templateFile"]).read_text()),
            )
        return stacks

    def of_doc(self, doc: str) -> list[Stack]:
        """The doc's stacks in DOC_STACKS order, each followed by its copies in other regions."""
        order = {home: n for n, home in enumerate(DOC_STACKS[doc])}
        found = [s for s in self.stacks.values() if describes(doc, s.id)]
        return sorted(found, key=lambda s: (order[home_stack_id(s.id, order)], len(s.id), s.id))

    def exports(self) -> dict[str, tuple[Stack, object]]:
        """Export name -> (stack, the output's value), for `Fn::ImportValue` across stacks."""
        found = {}
        for stack in self.stacks.values():
            for output in stack.template.get("Outputs", {}).values():
                name = output.get("Export", {}).get("Name")
                if isinstance(name, str):
                    found[name] = (stack, output["Value"])
        return found


def synthesize_stage(stage: str, outdir: Path, context: dict | None = None) -> Assembly:
    """Synthesize every blueprint for `stage` into `outdir`, as `cdk synth -c stage=...` would
    (with `context`, as `-c key=value` would add)."""
    from tests.support.synth import synthesize

    synthesize(stage, outdir, context)
    return Assembly(stage, outdir)
