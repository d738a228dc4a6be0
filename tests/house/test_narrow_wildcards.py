"""house/compliance.narrow_wildcard_resources: a wildcard CDK grants inside its own construct is
replaced by the ARNs known here, the rest of the policy stays as CDK wrote it, and a call that
finds nothing to narrow fails the synth instead of doing nothing."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from house.compliance import acknowledge_wildcard_resources, narrow_wildcard_resources
from tests.support.template import resources

DISTRIBUTION = "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"
FUNCTION = "arn:aws:lambda:us-east-1:111122223333:function:Probe"


def role_with_cdk_style_grants(stack: cdk.Stack) -> iam.Role:
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
            resources=["*"],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["lambda:InvokeFunction"], resources=[FUNCTION, f"{FUNCTION}:*"]
        )
    )
    role.add_to_policy(iam.PolicyStatement(actions=["xray:PutTraceSegments"], resources=["*"]))
    return role


def statements(template: dict) -> list[dict]:
    (policy,) = resources(template, "AWS::IAM::Policy").values()
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_the_named_actions_get_the_arns_and_nothing_else_changes(synthesized):
    def build(stack):
        role = role_with_cdk_style_grants(stack)
        narrow_wildcard_resources(
            role, {"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"}, [DISTRIBUTION]
        )
        narrow_wildcard_resources(role, {"lambda:InvokeFunction"}, [FUNCTION])

    by_action = {str(s["Action"]): s["Resource"] for s in statements(synthesized(build))}
    # CDK merged the two "*" statements into one: the named actions are split out of it.
    assert by_action == {
        str(["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"]): DISTRIBUTION,
        "lambda:InvokeFunction": FUNCTION,
        "xray:PutTraceSegments": "*",  # not named: kept as written
    }


def test_acknowledgments_read_the_narrowed_policy(synthesized):
    acknowledged = {}

    def build(stack):
        role = role_with_cdk_style_grants(stack)
        narrow_wildcard_resources(role, {"lambda:InvokeFunction"}, [FUNCTION])
        acknowledged["rules"] = acknowledge_wildcard_resources(
            role, {"lambda:InvokeFunction"}, "nothing to acknowledge once narrowed to one ARN"
        )

    synthesized(build)
    assert acknowledged["rules"] == []


def test_nothing_left_to_narrow_fails_the_synth(synthesized):
    def build(stack):
        role = role_with_cdk_style_grants(stack)
        narrow_wildcard_resources(role, {"s3:GetObject"}, ["arn:aws:s3:::bucket/key"])

    with pytest.raises(Exception, match="no Allow statement of .*s3:GetObject"):
        synthesized(build)
