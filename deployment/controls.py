"""AWS Control Tower proactive controls over a synthesized assembly, and the documented exceptions.

An organisation that turns Control Tower's proactive controls on has a CloudFormation hook refuse
every resource that fails one, at deploy. AWS publishes the controls as cfn-guard rules; the
PyPI package `cdklabs-cdk-validator-cfnguard` ships them (rules/control-tower/) with the
`cfn-guard` binary for Linux and macOS on x86_64 and arm64. This module runs that binary with
those rules over every stack template of an assembly and reports per stack, per control, per
resource.

A control a stack deliberately does not pass is a row of the table in docs/compliance.md (the
control, the stages, the stack, the resources' construct paths, and the reason that holds for
them). `python -m deployment.controls` (what `make synth` runs) and tests/test_control_tower.py
fail on any failing control that no row covers.

Speed: a rule reports only on the resource types its metadata lists (`EvaluatedResourceTypes`;
other types it reads only to resolve references), so each template is checked with just the
rules for the types it declares, all of them in one cfn-guard run. That gives the same result as
all 237 rules (checked over every stack of dev, prod and prod in eu-central-1) in a quarter of
the time; `--all-rules` runs every rule anyway.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import functools
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from deployment.assembly import Assembly
from deployment.preflight_checks import stage_of

REPO_ROOT = Path(__file__).resolve().parents[1]
EXCEPTIONS_DOC = REPO_ROOT / "docs" / "compliance.md"
DISTRIBUTION = "cdklabs.cdk-validator-cfnguard"
# Where the binary and the rules are unpacked from the wheel, once per package version.
CACHE = REPO_ROOT / ".cache" / "cfn-guard"

CONTROL_ID = re.compile(r"CT\.[A-Z0-9]+\.PR\.[0-9]+")
STAGES = ("dev", "prod")
EXCEPTION = "exception"
PENDING = "pending"
_MIN_REASON_WORDS = 8


# -- the rules and the binary, from the pinned package --------------------------------------------


@dataclasses.dataclass(frozen=True)
class Control:
    id: str
    title: str
    fix: str
    resource_types: frozenset[str]
    rule_file: Path
    rule_name: str


@functools.cache
def guard_home() -> Path:
    """The package's `bin/` and `rules/`, unpacked under .cache/cfn-guard/<version>/."""
    try:
        distribution = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(
            f"{DISTRIBUTION} is not installed: `make install` (requirements.txt pins it)"
        ) from None
    (tarball,) = [f for f in distribution.files or [] if str(f).endswith(".jsii.tgz")]
    home = CACHE / distribution.version
    if (home / "rules").is_dir():
        return home
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=CACHE, prefix=".unpacking-"))
    with tarfile.open(distribution.locate_file(tarball)) as archive:
        wanted = [
            member
            for member in archive.getmembers()
            if member.name.startswith(("package/bin/", "package/rules/control-tower/"))
        ]
        # The "data" filter (no links out, no device files) exists from Python 3.11.4 on.
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(staging, members=wanted, **safe)
    try:
        (staging / "package").rename(home)
    except OSError:  # another process (a test worker) unpacked the same version first
        pass
    shutil.rmtree(staging, ignore_errors=True)
    return home


def guard_binary() -> Path:
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system())
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
    architecture = machine.get(platform.machine().lower())
    if not system or not architecture:
        raise RuntimeError(
            f"cfn-guard ships for Linux and macOS on x86_64 and arm64, not "
            f"{platform.system()} {platform.machine()}"
        )
    return guard_home() / "bin" / system / architecture / "cfn-guard"


@functools.cache
def controls() -> dict[str, Control]:
    """Every Control Tower proactive control in the package, by id (e.g. CT.S3.PR.1)."""
    rules = guard_home() / "rules" / "control-tower"
    found = {}
    for metadata_file in sorted((rules / "metadata").glob("*/*.json")):
        metadata = json.loads(metadata_file.read_text())
        name = metadata_file.name.removesuffix(".json").removesuffix(".metadata")
        rule_file = rules / "cfn-guard" / metadata_file.parent.name / f"{name}.guard"
        text = rule_file.read_text()
        rule_name = re.search(r"#\s*Rule (?:Identifier|Name):\s*\n#\s*(\w+)", text)
        found[metadata["Id"]] = Control(
            id=metadata["Id"],
            title=metadata["DisplayName"],
            fix=metadata.get("RemediationMessage", ""),
            resource_types=frozenset(metadata["EvaluatedResourceTypes"]),
            rule_file=rule_file,
            rule_name=rule_name.group(1) if rule_name else "",
        )
    return found


# -- running the controls over templates ---------------------------------------------------------


@dataclasses.dataclass(frozen=True, order=True)
class Failure:
    """One resource of one stack that fails one control."""

    stack: str
    control: str
    path: str  # the construct path below the stack, e.g. "AccessLogs" or "Api/Handler"
    logical_id: str

    def __str__(self) -> str:
        control = controls().get(self.control)
        title = f" ({control.title})" if control else ""
        return f"{self.stack}/{self.path} [{self.logical_id}]: {self.control}{title}"


def construct_path(stack_id: str, logical_id: str, resource: dict) -> str:
    """A resource's construct path below its stack, as the table names it; the logical id when
    the template carries no path metadata."""
    path = resource.get("Metadata", {}).get("aws:cdk:path")
    if not path:
        return logical_id
    return path.removeprefix(f"{stack_id}/").removesuffix("/Resource")


def _resources_in(node) -> set[str]:
    """Logical ids of the resources a cfn-guard result points at (`/Resources/<id>/...`)."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "path" and isinstance(value, str):
                match = re.match(r"/Resources/([^/]+)", value)
                if match:
                    found.add(match.group(1))
            else:
                found |= _resources_in(value)
    elif isinstance(node, list):
        for value in node:
            found |= _resources_in(value)
    return found


# Values a resource reads from another stack. CloudFormation knows them before it provisions the
# resource, so the hook gets them as values; a template shows only the intrinsic.
OTHER_STACK_VALUES = ("Fn::GetStackOutput", "Fn::ImportValue")


def deploy_time_view(template: dict) -> dict:
    """The template as Control Tower's hook sees each resource: every value read from another
    stack (`Fn::GetStackOutput`, `Fn::ImportValue`) replaced by a string naming where it comes
    from; references inside the template are left to the rules, which follow them.

    Why: the controls run as preCreate/preUpdate hooks on each resource, and the rules have two
    branches, one for a template and one for a hook's input (`<Type>.resourceProperties`). A
    hook's input has no `Resources`, so the hook branch cannot follow a `Ref` anywhere: e.g.
    CT.CLOUDFRONT.PR.6 accepts a certificate there only as a non-empty string, while its template
    branch accepts a `Ref`/`Fn::GetAtt` of a certificate in the same template. A same-template
    certificate passing at deploy therefore means the hook receives resolved values (inferred
    from the rules; tests/test_control_tower.py runs both branches). A value from another stack
    is resolved the same way at deploy, but the template branch has no rule for it, so checking
    the raw template would report as failing a distribution the hook lets through (the us-east-1
    certificate of a stack elsewhere, read from its `<Stack>Edge` companion: house/edge.py).
    """

    def resolve(node):
        if isinstance(node, dict):
            if len(node) == 1 and next(iter(node)) in OTHER_STACK_VALUES:
                ((function, argument),) = node.items()
                return f"{function} {json.dumps(argument, sort_keys=True)} (resolved at deploy)"
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return resolve(template)


def _guard(data: Path, selected: Sequence[Control]) -> subprocess.CompletedProcess:
    command = [str(guard_binary()), "validate", "--data", str(data)]
    for control in selected:
        command += ["--rules", str(control.rule_file)]
    command += ["--output-format", "json", "--show-summary", "none", "--structured"]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def evaluate(template_file: Path, stack_id: str, *, all_rules: bool = False) -> list[Failure]:
    """Every (control, resource) that fails in one template, as the hook sees it at deploy."""
    text = template_file.read_text()
    template = json.loads(text)
    resources = template.get("Resources", {})
    types = {resource.get("Type") for resource in resources.values()}
    selected = [
        control for control in controls().values() if all_rules or control.resource_types & types
    ]
    if not selected:
        return []
    by_rule_name = {control.rule_name: control.id for control in selected}
    with tempfile.TemporaryDirectory(prefix="controls-") as scratch:
        data = template_file
        if any(function in text for function in OTHER_STACK_VALUES):
            data = Path(scratch) / template_file.name
            data.write_text(json.dumps(deploy_time_view(template)))
        run = _guard(data, selected)
    # cfn-guard exits 19 when a rule fails and 0 when all pass; anything else is its own error.
    if run.returncode not in (0, 19):
        raise RuntimeError(
            f"cfn-guard failed on {template_file} (exit {run.returncode}): {run.stderr.strip()}"
        )
    failures = set()
    for report in json.loads(run.stdout):
        for entry in report.get("not_compliant", []):
            rule = entry.get("Rule", entry)
            control = by_rule_name.get(rule.get("name")) or _control_in_messages(rule)
            for logical_id in _resources_in(rule) & resources.keys():
                path = construct_path(stack_id, logical_id, resources[logical_id])
                failures.add(Failure(stack_id, control, path, logical_id))
    return sorted(failures)


def _control_in_messages(rule: dict) -> str:
    match = CONTROL_ID.search(json.dumps(rule))
    return match.group(0) if match else rule.get("name", "?")


def assembly_failures(assembly: Assembly, *, all_rules: bool = False) -> dict[str, list[Failure]]:
    """Stack id -> its failures, for every stack of the assembly (one cfn-guard per core)."""
    stacks = sorted(assembly.stacks.items())
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = pool.map(
            lambda item: evaluate(
                item[1].assembly_dir / item[1].properties["templateFile"],
                item[0],
                all_rules=all_rules,
            ),
            stacks,
        )
        return dict(zip((stack_id for stack_id, _ in stacks), results, strict=True))


# -- the documented exceptions (docs/compliance.md) ----------------------------------------------


@dataclasses.dataclass(frozen=True)
class DocumentedException:
    """One row of the table: `control` fails, on purpose or until `status` says otherwise, for
    the resources of the `stacks` whose construct path matches one of `resources` (fnmatch
    patterns, both)."""

    control: str
    stages: tuple[str, ...]
    stacks: tuple[str, ...]
    resources: tuple[str, ...]
    status: str
    reason: str
    line: int

    @property
    def pending(self) -> bool:
        return self.status.startswith(PENDING)

    def covers(self, failure: Failure, stage: str) -> bool:
        return (
            failure.control == self.control
            and stage in self.stages
            and any(fnmatch.fnmatchcase(failure.stack, pattern) for pattern in self.stacks)
            and any(fnmatch.fnmatchcase(failure.path, pattern) for pattern in self.resources)
        )

    def __str__(self) -> str:
        return (
            f"docs/compliance.md line {self.line}: {self.control} ({', '.join(self.stages)}) "
            f"{', '.join(self.stacks)}: {', '.join(self.resources)}"
        )


_HEADER = ["control", "stage", "stack", "resources", "status", "reason"]


def documented_exceptions(doc: Path = EXCEPTIONS_DOC) -> list[DocumentedException]:
    """The rows of the table whose header is `| Control | Stage | Stack | Resources | Status |
    Reason |`. A malformed row is an error naming its line, never a row silently ignored."""
    rows, in_table = [], False
    for number, line in enumerate(doc.read_text().splitlines(), start=1):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|"):
            in_table = False
            continue
        if [cell.lower() for cell in cells] == _HEADER:
            in_table = True
            continue
        if not in_table or set("".join(cells)) <= set("-: "):
            continue
        rows.append(_row(doc, number, cells))
    if not rows:
        raise ValueError(f"{doc}: no exceptions table (header {' | '.join(_HEADER)})")
    return rows


def _row(doc: Path, number: int, cells: list[str]) -> DocumentedException:
    where = f"{doc.name} line {number}"
    if len(cells) != len(_HEADER):
        raise ValueError(f"{where}: {len(cells)} cells, expected {len(_HEADER)} ({_HEADER})")
    control, stages, stacks, resources, status, reason = cells
    if not CONTROL_ID.fullmatch(control) or control not in controls():
        raise ValueError(f"{where}: {control!r} is not a Control Tower proactive control id")
    stage_list = _cell_list(stages)
    if not stage_list or not set(stage_list) <= set(STAGES):
        raise ValueError(
            f"{where}: stage {stages!r}; allowed: {', '.join(STAGES)} (comma-separated)"
        )
    stack_patterns, resource_patterns = _cell_list(stacks), _cell_list(resources)
    if not stack_patterns or not resource_patterns:
        raise ValueError(f"{where}: name the stacks and the resources' construct paths")
    if status != EXCEPTION and not (status.startswith(f"{PENDING}:") and len(status) > 10):
        raise ValueError(
            f"{where}: status {status!r}; allowed: '{EXCEPTION}' or '{PENDING}: <what resolves it>'"
        )
    if len(reason.split()) < _MIN_REASON_WORDS:
        raise ValueError(
            f"{where}: give a reason of at least {_MIN_REASON_WORDS} words that holds for "
            f"these resources, got {reason!r}"
        )
    return DocumentedException(
        control, stage_list, stack_patterns, resource_patterns, status, reason, number
    )


def _cell_list(cell: str) -> tuple[str, ...]:
    """`a`, `b` (or a, b) -> ("a", "b")."""
    return tuple(item.strip().strip("`") for item in cell.split(",") if item.strip().strip("`"))


def undocumented(
    failures: Iterable[Failure], stage: str, rows: Sequence[DocumentedException]
) -> list[Failure]:
    return [f for f in failures if not any(row.covers(f, stage) for row in rows)]


def unused_rows(
    failures_by_stage: dict[str, Iterable[Failure]], rows: Sequence[DocumentedException]
) -> list[DocumentedException]:
    """Rows that cover no failure of any stage given: fixed since, or a pattern that is wrong."""
    return [
        row
        for row in rows
        if not any(
            row.covers(failure, stage)
            for stage, failures in failures_by_stage.items()
            for failure in failures
        )
    ]


# -- the command `make synth` runs ----------------------------------------------------------------


def assembly_stage(assembly: Assembly) -> str:
    """The stage an assembly was synthesized for, read from its stack names (`MyBlog-prod`);
    stacks named without one (AccountBaseline, one per account) belong to it as well."""
    stages = {stage_of(stack) for stack in assembly.stacks.values()} - {"<stage>"}
    if len(stages) != 1:
        raise ValueError(
            f"{assembly.directory}: expected the stacks of one stage, found {sorted(stages)}"
        )
    return stages.pop()


def report(
    assembly: Assembly, *, all_rules: bool = False, verbose: bool = False
) -> tuple[str, int]:
    """The report for every stack of `assembly` (one line per stack, one per undocumented
    failure with AWS's fix, one per documented failure too when `verbose`), and how many
    failures no row of docs/compliance.md covers."""
    rows = documented_exceptions(EXCEPTIONS_DOC)
    stage = assembly_stage(assembly)
    lines, missing, failing = [], 0, []
    for stack_id, failures in assembly_failures(assembly, all_rules=all_rules).items():
        open_ = undocumented(failures, stage, rows)
        missing += len(open_)
        failing += failures
        controls_failed = sorted({failure.control for failure in failures})
        lines.append(
            f"{stack_id} ({stage}): {len(failures) - len(open_)} documented"
            + (f" ({', '.join(controls_failed)})" if controls_failed else "")
            + (f", {len(open_)} NOT DOCUMENTED" if open_ else "")
        )
        for failure in failures if verbose else open_:
            if failure in open_:
                lines.append(f"  NOT DOCUMENTED {failure}")
                lines.append(f"      fix: {controls()[failure.control].fix}")
            else:
                lines.append(f"  documented {failure}")
    lines.append(
        f"Control Tower proactive controls ({len(controls())} from {DISTRIBUTION} "
        f"{importlib.metadata.version(DISTRIBUTION)}): {len(failing)} failing resource-control "
        f"pairs ({len({failure.control for failure in failing})} controls), {missing} not "
        "documented in docs/compliance.md"
    )
    return "\n".join(lines), missing


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployment.controls",
        description="Run AWS Control Tower's proactive controls (cfn-guard) over a synthesized "
        "assembly; fail on a failing control that docs/compliance.md does not document.",
    )
    parser.add_argument(
        "--assembly", default="cdk.out", help="the synthesized cloud assembly (default: cdk.out)"
    )
    parser.add_argument(
        "--all-rules",
        action="store_true",
        help="run all rules on every template, not only those for the types it declares",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="list documented failures too, one per line"
    )
    args = parser.parse_args(argv)
    try:
        assembly = Assembly(args.assembly)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    text, missing = report(assembly, all_rules=args.all_rules, verbose=args.verbose)
    print(text)
    if missing:
        print(
            "Fix each resource, or add a row to docs/compliance.md with the reason that holds "
            "for it.",
            file=sys.stderr,
        )
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
