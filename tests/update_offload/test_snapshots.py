"""Template snapshots of both stacks in both stages (update deliberately, read the diff)."""

from __future__ import annotations

import pytest

from blueprints.update_offload.stack import APP_STACK_ID, OFFLOAD_STACK_ID
from tests.support.snapshots import assert_matches_snapshot


@pytest.mark.parametrize("stack_id", [APP_STACK_ID, OFFLOAD_STACK_ID])
def test_template_matches_snapshot(assembly, stack_id, snapshot):
    assert_matches_snapshot(assembly, stack_id, snapshot)
