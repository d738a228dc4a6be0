"""Two instances of one blueprint in one app: a user adds `"team-updates": {"blueprint":
"update-offload", ...}` to cdk.json and gets a second, independent pair of stacks. The gates
(cdk-nag, cfn-lint, the deploy rules) cover whatever `build_app` builds; this proves it with no
test code of the instance's own, on a cheap blueprint with two stacks and an export."""

from __future__ import annotations

import pytest

from deployment import rules
from deployment.assembly import Assembly
from tests.support.gates import assert_gates_pass
from tests.support.synth import Synthesized, cdk_json_context, synthesize_once

SECOND = "team-updates"


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory) -> Synthesized:
    blueprints = {
        **cdk_json_context("dev")["blueprints"],
        SECOND: {
            "blueprint": "update-offload",
            "dev": {"instance_type": "t4g.small", "max_instances": 3},
            "prod": {},
        },
    }
    return synthesize_once(
        tmp_path_factory,
        "dev",
        {"blueprints": blueprints, "blueprints_only": f"update-offload,{SECOND}"},
    )


def test_the_second_instance_has_its_own_stacks_names_and_settings(two_instances):
    assert two_instances.instances == {
        "update-offload": {
            "blueprint": "update-offload",
            "stacks": ["UpdateServer", "UpdateOffload"],
        },
        SECOND: {
            "blueprint": "update-offload",
            "stacks": ["TeamUpdatesUpdateServer", "TeamUpdatesUpdateOffload"],
        },
    }
    assert two_instances.stack_name("TeamUpdatesUpdateServer") == "TeamUpdatesUpdateServer-dev"
    assert two_instances.settings(SECOND).instance_type == "t4g.small"
    assert two_instances.settings("update-offload").instance_type != "t4g.small"
    # Its offload imports its own server's export, not the first instance's.
    export = two_instances.template("TeamUpdatesUpdateServer")["Outputs"]["LoadBalancerDnsName"]
    assert export["Export"]["Name"] == "TeamUpdatesUpdateServer-dev-LoadBalancerDnsName"
    offload = two_instances.template("TeamUpdatesUpdateOffload")
    assert {"Fn::ImportValue": export["Export"]["Name"]} in [
        origin["DomainName"]
        for resource in offload["Resources"].values()
        if resource["Type"] == "AWS::CloudFront::Distribution"
        for origin in resource["Properties"]["DistributionConfig"]["Origins"]
    ]
    # The snapshot tests cover every stack of every instance (tests/support/snapshots.py).
    assert set(two_instances.stacks_of("update-offload")) == {
        "UpdateServer",
        "UpdateOffload",
        "TeamUpdatesUpdateServer",
        "TeamUpdatesUpdateOffload",
    }


def test_the_gates_pass_over_both_instances(two_instances):
    assert_gates_pass(two_instances)
    assembly = Assembly(two_instances.outdir)
    found = [str(v) for stack in assembly.stacks.values() for v in rules.violations(stack)]
    found += map(str, rules.stacks_sharing_unique_names(assembly))
    assert not found, "\n".join(found)
