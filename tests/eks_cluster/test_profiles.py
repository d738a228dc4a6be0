"""Every compute profile, in dev and prod, passes the gates the whole app passes: no
unacknowledged cdk-nag finding, no cfn-lint error, every deploy-time rule kept. (The shipped
Auto Mode profile is also covered by tests/test_compliance.py and tests/test_deploy_rules.py.)"""

from __future__ import annotations

from deployment import rules
from deployment.assembly import Assembly
from tests.eks_cluster.conftest import STACK_ID
from tests.support.gates import assert_gates_pass


def test_every_profile_is_nag_and_lint_clean(every_profile):
    assert STACK_ID in every_profile.stacks
    assert_gates_pass(every_profile)


def test_every_profile_keeps_every_deploy_rule(every_profile):
    assembly = Assembly(every_profile.outdir)
    found = [str(v) for stack in assembly.stacks.values() for v in rules.violations(stack)]
    assert not found, "\n".join(found)


def test_dev_and_prod_of_a_profile_share_no_unique_name(profile):
    for compute in ("nodegroups", "fargate"):
        dev = Assembly(profile("dev", compute).outdir)
        prod = Assembly(profile("prod", compute).outdir)
        found = rules.shared_unique_names(dev, prod, region="us-east-1")
        assert not found, "\n".join(map(str, found))
