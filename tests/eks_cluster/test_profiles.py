"""Every compute profile, in dev and prod, passes every gate the shipped app passes: no
unacknowledged cdk-nag finding, no cfn-lint error, every deploy-time rule kept, no Control Tower
control failing that docs/compliance.md does not document. (The shipped profiles are covered
by tests/test_compliance.py, test_deploy_rules.py and test_control_tower.py; this covers the
other two of each stage, built as instances by conftest's `profiles`.)"""

from __future__ import annotations

import dataclasses

import pytest

from deployment import controls, rules
from deployment.assembly import Assembly
from house.settings import pascal
from tests.eks_cluster.conftest import COMPUTE, STACK_ID, instance_of
from tests.support.gates import assert_gates_pass

STAGES = ("dev", "prod")


@pytest.mark.parametrize("stage", STAGES)
def test_every_profile_is_nag_and_lint_clean(profiles, stage):
    assert_gates_pass(profiles(stage))


@pytest.mark.parametrize("stage", STAGES)
def test_every_profile_keeps_every_deploy_rule(profiles, stage):
    assembly = Assembly(profiles(stage).outdir)
    found = [str(v) for stack in assembly.stacks.values() for v in rules.violations(stack)]
    found += map(str, rules.stacks_sharing_unique_names(assembly))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("stage", STAGES)
def test_every_profile_documents_each_failing_control_tower_control(profiles, stage):
    """docs/compliance.md names the blueprint's stacks (`EksCluster*`); its rows hold for every
    instance of it, so an instance's stack (`EksFargate`, `EksNodegroupsEuWest1`) is read as
    the blueprint's (`EksCluster`, `EksClusterEuWest1`)."""
    rows = controls.documented_exceptions()
    prefixes = [pascal(instance_of(compute)) for compute in COMPUTE]
    failures = controls.assembly_failures(Assembly(profiles(stage).outdir))
    checked = 0
    for stack, found in failures.items():
        (prefix,) = [p for p in prefixes if stack.startswith(p)] or [None]
        if prefix is None:
            continue  # AccountBaseline: tests/test_control_tower.py
        checked += 1
        as_blueprint = [
            dataclasses.replace(f, stack=STACK_ID + stack.removeprefix(prefix)) for f in found
        ]
        missing = controls.undocumented(as_blueprint, stage, rows)
        assert not missing, "\n".join(map(str, missing))
    assert checked >= 2


def test_dev_and_prod_of_the_profiles_share_no_unique_name(profiles):
    dev, prod = Assembly(profiles("dev").outdir), Assembly(profiles("prod").outdir)
    found = rules.shared_unique_names(dev, prod, region="us-east-1")
    assert not found, "\n".join(map(str, found))
