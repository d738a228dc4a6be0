"""One snapshot per stage of the ContainerWebApp template (asset hashes masked).

Update deliberately: `make snapshots`, then read the diff of __snapshots__/.
"""

from tests.support.snapshots import assert_blueprint_matches_snapshots


def test_template_matches_snapshot(assembly, snapshot):
    assert_blueprint_matches_snapshots(assembly, "container-web-app", snapshot)
