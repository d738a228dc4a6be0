"""Template snapshots (syrupy JSON), normalised so asset hashes and CurrentVersion ids don't churn.

Every stack of every instance of a blueprint that the app builds has one per stage, named
`<stack id>-<stage>`: a second instance in cdk.json gets its own the first time
`make snapshots` runs. Update deliberately: `make snapshots` (every snapshot test with
`--snapshot-update`), then read the diff of `tests/*/__snapshots__/` before committing it.
"""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.support.synth import Synthesized, normalized, not_built_reason

UPDATE = "make snapshots"


def assert_matches_snapshot(assembly: Synthesized, stack_id: str, snapshot) -> None:
    template = assembly.template(stack_id)
    named = snapshot.use_extension(JSONSnapshotExtension)(name=f"{stack_id}-{assembly.stage}")
    assert normalized(template) == named, (
        f"{stack_id}-{assembly.stage}: the template is not its reviewed snapshot. If the change "
        f"is intended, run `{UPDATE}` and review `git diff tests/*/__snapshots__`."
    )


def assert_blueprint_matches_snapshots(
    assembly: Synthesized, blueprint: str, snapshot, *, ending: str = ""
) -> None:
    """Every stack of every instance of `blueprint` in `assembly` (those whose id ends with
    `ending`, e.g. one of a two-stack blueprint's stacks) matches its snapshot."""
    stack_ids = [s for s in assembly.stacks_of(blueprint) if s.endswith(ending)]
    if not stack_ids:
        reason = not_built_reason(assembly.context) or "no instance in cdk.json"
        pytest.skip(f"no {blueprint} stack in the {assembly.stage} assembly: {reason}")
    for stack_id in sorted(stack_ids, key=len):
        assert_matches_snapshot(assembly, stack_id, snapshot)
