"""house/network.limit_endpoints_to_account: every endpoint without a policy gets the house one."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam

from house.network import AWS_OWNED_BUCKETS, limit_endpoints_to_account
from tests.support.template import resources


def endpoints(stack) -> None:
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
    vpc.add_interface_endpoint("Sqs", service=ec2.InterfaceVpcEndpointAwsService.SQS)
    ssm = vpc.add_interface_endpoint("Ssm", service=ec2.InterfaceVpcEndpointAwsService.SSM)
    own = vpc.add_gateway_endpoint("Table", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
    own.add_to_policy(
        iam.PolicyStatement(
            principals=[iam.AnyPrincipal()],
            actions=["dynamodb:GetItem"],
            resources=["arn:aws:dynamodb:us-east-1:111122223333:table/Todo"],
        )
    )
    del ssm
    limit_endpoints_to_account(stack)


def policies(template: dict) -> dict[str, dict]:
    return {
        logical_id[:-8]: endpoint["Properties"]["PolicyDocument"]
        for logical_id, endpoint in resources(template, "AWS::EC2::VPCEndpoint").items()
    }


def test_principals_and_resources_of_this_account_only(synthesized):
    found = policies(synthesized(endpoints))
    for name in ("VpcS3", "VpcSqs", "VpcSsm"):
        first, services = found[name]["Statement"][:2]
        assert first["Condition"] == {
            "StringEquals": {
                "aws:PrincipalAccount": {"Ref": "AWS::AccountId"},
                "aws:ResourceAccount": {"Ref": "AWS::AccountId"},
            }
        }
        assert (first["Action"], first["Resource"], first["Principal"]) == ("*", "*", {"AWS": "*"})
        assert services["Condition"] == {"Bool": {"aws:PrincipalIsAWSService": "true"}}


def test_s3_also_reads_the_aws_owned_buckets_and_ssm_the_aws_owned_documents(synthesized):
    found = policies(synthesized(endpoints))
    (_, _, buckets) = found["VpcS3"]["Statement"]
    assert buckets["Action"] == "s3:GetObject" and "Condition" not in buckets
    assert len(buckets["Resource"]) == len(AWS_OWNED_BUCKETS)
    assert any("starport-layer-bucket" in str(r) for r in buckets["Resource"])  # ECR layers
    (_, _, documents) = found["VpcSsm"]["Statement"]
    assert documents["Condition"] == {
        "StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}
    }
    assert len(found["VpcSqs"]["Statement"]) == 2


def test_an_endpoint_with_a_policy_of_its_own_keeps_it(synthesized):
    (statement,) = policies(synthesized(endpoints))["VpcTable"]["Statement"]
    assert statement["Action"] == "dynamodb:GetItem"
