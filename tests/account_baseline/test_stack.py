"""AccountBaseline: the API Gateway CloudWatch Logs role, owned once per account and region."""

from __future__ import annotations

import pytest

from tests.support.template import only, resources

STACK = "AccountBaseline"


@pytest.fixture
def template(assembly) -> dict:
    return assembly.template(STACK)


def test_the_account_settings_name_a_role_only_api_gateway_can_assume(template):
    role_id, role = only(template, "AWS::IAM::Role")
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    _, account = only(template, "AWS::ApiGateway::Account")
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    # API Gateway checks the role when the setting is made: the role and its policy come first.
    (policy_id,) = resources(template, "AWS::IAM::Policy")
    assert set(account["DependsOn"]) == {role_id, policy_id}


def test_the_role_writes_logs_of_this_account_and_region_only(template):
    (policy,) = resources(template, "AWS::IAM::Policy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
    }
    assert set(statement["Action"]) == {
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
    }


def test_the_role_outlives_the_stack(template):
    """CloudFormation leaves API Gateway's account setting in place on delete; without the role
    every logging API in the region would stop logging."""
    _, role = only(template, "AWS::IAM::Role")
    assert role["DeletionPolicy"] == "Retain"


def test_one_template_for_every_stage(synth):
    """Dev and prod in one account and region share this stack: deploying it from either stage
    must not change what the other deployed (same name, same template, same tags)."""
    dev, prod = synth("dev"), synth("prod")
    assert dev.stack_name(STACK) == prod.stack_name(STACK) == STACK
    assert dev.template(STACK) == prod.template(STACK)


def test_stacks_with_a_logging_api_stage_deploy_after_the_baseline(assembly):
    from deployment.preflight_needs import logging_api_stages

    logging = [s for s in assembly.stacks if logging_api_stages(assembly.template(s))]
    for stack_id in logging:
        assert STACK in assembly.stacks[stack_id]["dependencies"], stack_id
