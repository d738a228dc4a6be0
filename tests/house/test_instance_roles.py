"""Every EC2 fleet's role gives Session Manager what it needs and nothing more
(patterns/compute/web_tier.session_manager_role): never AmazonSSMManagedInstanceCore, which
also reads every SSM parameter of the account (where the fleets' neighbours keep secrets),
its documents and associations. Checked over every stack of both stages."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from tests.support.iam_statements import as_list
from tests.support.template import resources

MANAGED_CORE = "AmazonSSMManagedInstanceCore"
# What Session Manager needs on an instance (AWS's Systems Manager guide, "custom instance
# profile for Session Manager"): the agent registers, then opens a session's channels.
# Written out here, not imported, so that the test is the specification the helper meets.
SESSION_MANAGER_NEEDS = {
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
}


def instance_role_findings(template: dict) -> list[str]:
    """What is wrong with the roles EC2 instances assume in `template`."""
    found = []
    policies = resources(template, "AWS::IAM::Policy").values()
    for role_id, role in resources(template, "AWS::IAM::Role").items():
        trust = json.dumps(role["Properties"]["AssumeRolePolicyDocument"])
        if "ec2.amazonaws.com" not in trust:
            continue
        if MANAGED_CORE in json.dumps(role["Properties"].get("ManagedPolicyArns", [])):
            found.append(f"{role_id}: attaches {MANAGED_CORE}")
        for policy in policies:
            if {"Ref": role_id} not in policy["Properties"].get("Roles", []):
                continue
            for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"]):
                actions = set(as_list(statement["Action"]))
                other_ssm = {
                    a for a in actions if a.split(":")[0] in ("ssm", "ssmmessages", "ec2messages")
                }
                other_ssm -= SESSION_MANAGER_NEEDS
                if other_ssm:
                    found.append(f"{role_id}: {sorted(other_ssm)} beyond Session Manager's needs")
    return found


def test_no_fleet_in_any_stack_holds_more_than_session_manager_needs(assembly):
    fleets = 0
    for stack_id in assembly.stacks:
        template = assembly.template(stack_id)
        assert instance_role_findings(template) == [], stack_id
        fleets += "ec2.amazonaws.com" in json.dumps(resources(template, "AWS::IAM::Role"))
    if not fleets:
        pytest.skip("no EC2 fleet in this build")


def test_the_managed_policy_or_a_wider_ssm_grant_is_found(synthesized):
    def broken(stack: cdk.Stack) -> None:
        # The employee directory's fleet role as it was, and the house role with a wider grant.
        iam.Role(
            stack,
            "Core",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(MANAGED_CORE)],
        )
        wider = iam.Role(stack, "Wider", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
        for actions in (SESSION_MANAGER_NEEDS, {"ssm:GetParameter"}):
            wider.add_to_policy(iam.PolicyStatement(actions=sorted(actions), resources=["*"]))

    findings = instance_role_findings(synthesized(broken))
    assert len(findings) == 2, findings
    assert any(f.endswith(f"attaches {MANAGED_CORE}") for f in findings)
    assert any("['ssm:GetParameter'] beyond" in f for f in findings)


def test_the_house_role_passes(synthesized):
    # A starter kit of a blueprint without an EC2 fleet carries no patterns/compute.
    web_tier = pytest.importorskip("patterns.compute.web_tier", reason="no EC2 fleet here")
    template = synthesized(lambda stack: web_tier.session_manager_role(stack, "a fleet"))
    assert instance_role_findings(template) == []
    (policy,) = resources(template, "AWS::IAM::Policy").values()
    granted = {
        action
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in as_list(statement["Action"])
    }
    assert granted == SESSION_MANAGER_NEEDS
