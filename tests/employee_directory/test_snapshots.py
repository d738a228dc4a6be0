"""Template snapshots of both stacks of every employee-directory instance in both stages.

Update deliberately: `make snapshots`, then read the diff of __snapshots__/.
"""

from __future__ import annotations

import pytest

from blueprints.employee_directory.stack import CLASSIC_STACK_ID, SERVERLESS_STACK_ID
from tests.support.snapshots import assert_blueprint_matches_snapshots


# The serverless stack's Failover companion (the site bucket's replica) exists where
# failover_region is set (prod as shipped); elsewhere its case is skipped.
@pytest.mark.parametrize(
    "stack_id", [CLASSIC_STACK_ID, SERVERLESS_STACK_ID, f"{SERVERLESS_STACK_ID}Failover"]
)
def test_template_matches_snapshot(assembly, stack_id, snapshot):
    assert_blueprint_matches_snapshots(assembly, "employee-directory", snapshot, ending=stack_id)
