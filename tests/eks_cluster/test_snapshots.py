"""One snapshot per stage of the EksCluster template (the shipped Auto Mode profile).

Update deliberately: BLUEPRINTS=eks-cluster .venv/bin/python -m pytest
tests/eks_cluster/test_snapshots.py --snapshot-update, then read the diff.
"""

from tests.eks_cluster.conftest import STACK_ID
from tests.support.snapshots import assert_matches_snapshot


def test_template_matches_snapshot(assembly, snapshot):
    assert_matches_snapshot(assembly, STACK_ID, snapshot)
