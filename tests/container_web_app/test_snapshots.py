"""One snapshot per stage of the ContainerWebApp template (asset hashes masked).

Update deliberately: BLUEPRINTS=container-web-app .venv/bin/python -m pytest
tests/container_web_app/test_snapshots.py --snapshot-update, then read the diff.
"""

from tests.container_web_app.conftest import STACK_ID
from tests.support.snapshots import assert_matches_snapshot


def test_template_matches_snapshot(assembly, snapshot):
    assert_matches_snapshot(assembly, STACK_ID, snapshot)
