"""One cluster per region: `regions` adds a stack per extra region (`EksCluster<Region>`),
bound to that region, sharing nothing with the home stack, synthesized without an account or
any lookup."""

from __future__ import annotations

import json

from deployment import rules
from deployment.assembly import Assembly
from deployment.smoke import smoke_for
from tests.eks_cluster.conftest import EXTRA_REGION, EXTRA_STACK_ID, STACK_ID
from tests.support.synth import region_of
from tests.support.template import only


def test_each_listed_region_gets_its_own_stack_and_cluster(profile):
    assembly = profile("prod", "nodegroups")
    assert {STACK_ID, EXTRA_STACK_ID} <= set(assembly.stacks)
    assert region_of(assembly, STACK_ID) == "us-east-1"
    assert region_of(assembly, EXTRA_STACK_ID) == EXTRA_REGION
    assert assembly.stacks[EXTRA_STACK_ID]["environment"] == f"aws://unknown-account/{EXTRA_REGION}"
    assert assembly.stack_name(EXTRA_STACK_ID) == "EksClusterEuWest1-prod"
    names = {
        stack: only(assembly.template(stack), "AWS::EKS::Cluster")[1]["Properties"]["Name"]
        for stack in (STACK_ID, EXTRA_STACK_ID)
    }
    assert names == {STACK_ID: "EksCluster-prod", EXTRA_STACK_ID: "EksClusterEuWest1-prod"}


def test_regional_stacks_share_nothing(profile):
    assembly = profile("prod", "nodegroups")
    for stack in (STACK_ID, EXTRA_STACK_ID):
        text = json.dumps(assembly.template(stack))
        assert "Fn::ImportValue" not in text and "Fn::GetStackOutput" not in text
        dependencies = [
            d for d in assembly.stacks[stack].get("dependencies", []) if not d.endswith(".assets")
        ]
        assert EXTRA_STACK_ID not in dependencies and STACK_ID not in dependencies


def test_the_extra_region_needs_no_account_or_lookup_at_synth(profile):
    assembly = profile("prod", "nodegroups")
    missing = assembly.manifest.get("missing", [])
    assert missing == [], missing  # no context lookups (AZs, AMIs) waiting for credentials
    subnets = [
        r["Properties"]["AvailabilityZone"]
        for r in assembly.template(EXTRA_STACK_ID)["Resources"].values()
        if r["Type"] == "AWS::EC2::Subnet"
    ]
    assert subnets and all("Fn::GetAZs" in json.dumps(az) for az in subnets)
    home = assembly.template(STACK_ID)
    assert any(
        r["Properties"]["AvailabilityZone"] == "us-east-1c"
        for r in home["Resources"].values()
        if r["Type"] == "AWS::EC2::Subnet"
    )


def test_regional_stacks_declare_no_unique_name_twice(profile):
    assembly = Assembly(profile("prod", "nodegroups").outdir)
    home, extra = assembly.stack(STACK_ID), assembly.stack(EXTRA_STACK_ID)
    home_names = {(t, n) for t, _, n in rules.unique_names(home, EXTRA_REGION)}
    extra_names = {(t, n) for t, _, n in rules.unique_names(extra, EXTRA_REGION)}
    assert home_names and extra_names and not home_names & extra_names


def test_a_regional_stack_has_the_home_stacks_smoke():
    assert smoke_for(EXTRA_STACK_ID) is smoke_for(STACK_ID) is not None
    assert smoke_for("EksClusterish") is None
