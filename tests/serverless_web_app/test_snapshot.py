"""Template snapshots of every ServerlessWebApp stack (both instances) for dev and prod (asset
hashes masked). Update deliberately: `make snapshots`, then read the diff of __snapshots__/."""

from tests.support.snapshots import assert_blueprint_matches_snapshots


def test_snapshot(assembly, snapshot):
    assert_blueprint_matches_snapshots(assembly, "serverless-web-app", snapshot)
