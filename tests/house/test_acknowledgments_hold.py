"""Acknowledgments the house writes for a resource stay true for it: a house function's
Resource '*' reason names exactly the '*' grants its role has (an undeclared one fails the
synth), and CDK's site-upload function writes its own log group only, instead of the AWS managed
basic execution policy (every log group of the account)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy

from house.compliance import acknowledge_bucket_deployment
from tests.support.synth import REPO_ROOT
from tests.support.template import resources

BASIC_EXECUTION = "service-role/AWSLambdaBasicExecutionRole"


def function_with_grant(stack: cdk.Stack, **kwargs) -> None:
    # A starter kit of a blueprint without functions carries no house/lambda_function.py.
    lambda_function = pytest.importorskip("house.lambda_function", reason="no house functions")
    # Any function source the tree holds (a starter kit holds only its blueprint's).
    sources = sorted(p.parent.name for p in (REPO_ROOT / "lambda_src").glob("*/handler.py"))
    if not sources:
        pytest.skip("no function sources here")
    function = lambda_function.python_function(
        stack,
        "Probe",
        source=sources[0],
        description="probe",
        log_retention_days=14,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        invoked_synchronously_by="a test, which reads the error",
        **kwargs,
    )
    function.add_to_role_policy(
        iam.PolicyStatement(actions=["dynamodb:ListStreams"], resources=["*"])
    )


def test_an_undeclared_wildcard_grant_fails_the_synth(synthesized):
    with pytest.raises(Exception, match=r"dynamodb:ListStreams.*declare the grant"):
        synthesized(function_with_grant)


def test_a_declared_wildcard_grant_synthesizes(synthesized):
    template = synthesized(
        lambda stack: function_with_grant(
            stack, wildcard_grants=[({"dynamodb:ListStreams"}, "the probe lists streams")]
        )
    )
    (policy,) = resources(template, "AWS::IAM::Policy").values()
    wildcard_actions = {
        action
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Resource"] == "*"
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert wildcard_actions == {
        "dynamodb:ListStreams",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }


def site_upload(stack: cdk.Stack, *, own_log_group: bool) -> None:
    bucket = s3.Bucket(stack, "Site")
    deployment = s3deploy.BucketDeployment(
        stack,
        "Upload",
        sources=[s3deploy.Source.data("index.html", "<p>probe</p>")],
        destination_bucket=bucket,
        log_group=logs.LogGroup(stack, "UploadLogs") if own_log_group else None,
    )
    acknowledge_bucket_deployment(deployment, asset="the probe page", destination="the bucket")


def upload_role(template: dict) -> dict:
    (role,) = [
        r
        for logical_id, r in resources(template, "AWS::IAM::Role").items()
        if logical_id.startswith("CustomCDKBucketDeployment")
    ]
    return role


def test_the_site_upload_writes_only_its_own_log_group(synthesized):
    template = synthesized(lambda stack: site_upload(stack, own_log_group=True))
    assert "ManagedPolicyArns" not in upload_role(template)["Properties"]
    (own_logs,) = [
        (logical_id, p)
        for logical_id, p in resources(template, "AWS::IAM::Policy").items()
        if "OwnLogs" in logical_id
    ]
    logical_id, policy = own_logs
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    (group,) = resources(template, "AWS::Logs::LogGroup")
    assert statement["Resource"] == {"Fn::GetAtt": [group, "Arn"]}
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    # The copy waits for the grant, so its first run's logs are written too.
    (upload,) = resources(template, "Custom::CDKBucketDeployment").values()
    assert logical_id in upload["DependsOn"]


def test_without_a_log_group_of_its_own_the_managed_policy_stays(synthesized):
    template = synthesized(lambda stack: site_upload(stack, own_log_group=False))
    (arn,) = upload_role(template)["Properties"]["ManagedPolicyArns"]
    assert BASIC_EXECUTION in str(arn)
