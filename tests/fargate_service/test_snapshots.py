"""One snapshot per stage of the FargateService template (asset hashes masked).

Update deliberately: BLUEPRINTS=fargate-service .venv/bin/python -m pytest
tests/fargate_service/test_snapshots.py --snapshot-update, then read the diff.
"""

from tests.fargate_service.conftest import STACK_ID
from tests.support.snapshots import assert_matches_snapshot


def test_template_matches_snapshot(assembly, snapshot):
    assert_matches_snapshot(assembly, STACK_ID, snapshot)
