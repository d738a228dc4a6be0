"""Template snapshots (syrupy JSON), normalised so asset hashes and CurrentVersion ids don't churn.

Update deliberately: `.venv/bin/python -m pytest tests/<blueprint> --snapshot-update`, then read
the diff of `__snapshots__/` before committing it.
"""

from __future__ import annotations

from syrupy.extensions.json import JSONSnapshotExtension

from tests.support.synth import Synthesized, normalized


def assert_matches_snapshot(assembly: Synthesized, stack_id: str, snapshot) -> None:
    template = assembly.template(stack_id)
    named = snapshot.use_extension(JSONSnapshotExtension)(name=f"{stack_id}-{assembly.stage}")
    assert normalized(template) == named
