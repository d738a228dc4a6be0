"""One cluster per region: `regions` adds a stack per extra region (`<home stack id><Region>`),
bound to that region, sharing nothing with the home stack, synthesized without an account or
any lookup. Built by prod's node-group profile (conftest)."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest

from blueprints.eks_cluster import stack as eks_cluster
from deployment import rules
from deployment.assembly import Assembly
from deployment.smoke import smoke_for
from house.settings import Instance, pascal
from tests.eks_cluster.conftest import EXTRA_REGION
from tests.support.synth import region_of, shipped_stage
from tests.support.template import only


@pytest.fixture
def regional(profile) -> tuple:
    """(assembly, home stack id, the extra region's stack id) of prod's node-group profile."""
    assembly, instance, home = profile("prod", "nodegroups")
    (region,) = assembly.settings(instance).regions
    return assembly, home, home + pascal(region)


def test_each_listed_region_gets_its_own_stack_and_cluster(regional):
    assembly, home, extra = regional
    assert {home, extra} <= set(assembly.stacks)
    stage = assembly.stage_settings
    assert region_of(assembly, home) == stage.region
    assert region_of(assembly, extra) == EXTRA_REGION
    assert assembly.stacks[extra]["environment"] == f"aws://unknown-account/{EXTRA_REGION}"
    assert assembly.stack_name(extra) == stage.stack_name(extra)
    names = {
        stack: only(assembly.template(stack), "AWS::EKS::Cluster")[1]["Properties"]["Name"]
        for stack in (home, extra)
    }
    assert names == {home: stage.stack_name(home), extra: stage.stack_name(extra)}


def test_regional_stacks_share_nothing(regional):
    assembly, home, extra = regional
    for stack in (home, extra):
        text = json.dumps(assembly.template(stack))
        assert "Fn::ImportValue" not in text and "Fn::GetStackOutput" not in text
        dependencies = [
            d for d in assembly.stacks[stack].get("dependencies", []) if not d.endswith(".assets")
        ]
        assert extra not in dependencies and home not in dependencies


def test_the_extra_region_needs_no_account_or_lookup_at_synth(regional):
    assembly, home, extra = regional
    missing = assembly.manifest.get("missing", [])
    assert missing == [], missing  # no context lookups (AZs, AMIs) waiting for credentials
    subnets = [
        r["Properties"]["AvailabilityZone"]
        for r in assembly.template(extra)["Resources"].values()
        if r["Type"] == "AWS::EC2::Subnet"
    ]
    assert subnets and all("Fn::GetAZs" in json.dumps(az) for az in subnets)
    home_zones = {
        r["Properties"]["AvailabilityZone"]
        for r in assembly.template(home)["Resources"].values()
        if r["Type"] == "AWS::EC2::Subnet"
    }
    assert home_zones == set(assembly.stage_settings.availability_zones)


def test_regional_stacks_declare_no_unique_name_twice(regional):
    assembly, home, extra = regional
    stacks = Assembly(assembly.outdir)
    home_names = {(t, n) for t, _, n in rules.unique_names(stacks.stack(home), EXTRA_REGION)}
    extra_names = {(t, n) for t, _, n in rules.unique_names(stacks.stack(extra), EXTRA_REGION)}
    assert home_names and extra_names and not home_names & extra_names


def test_a_regional_stack_has_the_home_stacks_smoke():
    assert smoke_for("EksClusterEuWest1") is smoke_for("EksCluster") is not None
    assert smoke_for("EksClusterApSoutheast2") is smoke_for("EksCluster")
    assert smoke_for("EksClusterish") is None
    assert smoke_for("NoSuchStackEuWest1") is None


def test_a_region_whose_stack_id_is_taken_is_refused_naming_the_setting():
    """Another instance named like a region stack (`eks-cluster-eu-west-1`) would collide."""
    stage = shipped_stage("prod")
    settings = eks_cluster.SETTINGS(regions=(EXTRA_REGION,))
    app = cdk.App()
    cdk.Stack(app, "EksClusterEuWest1")
    with pytest.raises(
        ValueError, match=r"blueprints\.eks-cluster\.prod\.regions' lists eu-west-1"
    ):
        eks_cluster.build(app, Instance("eks-cluster", "eks-cluster", stage, settings))
