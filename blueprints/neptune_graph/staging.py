"""Where bulk loads come from: a staging bucket, the role Neptune reads it with, and the only
network path from the cluster's VPC to it (an S3 gateway endpoint that reaches nothing else).

The bucket is created by the same stack as the cluster, so it is in the cluster's region by
construction (Neptune cannot load cross-region through a VPC endpoint).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from house.compliance import acknowledge
from house.defaults import secure_bucket


class GraphStaging(Construct):
    """Attributes: `bucket`, `load_role`, `s3_endpoint` (None when the VPC already has one)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        endpoint_subnets: ec2.SubnetSelection,
        encryption_key: kms.IKey,
        access_logs: s3.IBucket,
        removal_policy: cdk.RemovalPolicy,
        add_s3_endpoint: bool = True,
    ) -> None:
        super().__init__(scope, id)
        self.bucket = secure_bucket(
            self,
            "Bucket",
            removal_policy=removal_policy,
            access_logs=access_logs,
            access_logs_prefix="s3/graph-staging/",
            encryption_key=encryption_key,
        )
        # Object-created events go to EventBridge (the automatic load trigger): secure_bucket
        # turns that on for every house bucket.
        cfn_bucket: s3.CfnBucket = self.bucket.node.default_child  # type: ignore[assignment]

        # Neptune's loader assumes this role through the RDS service principal.
        self.load_role = iam.Role(
            self,
            "LoadRole",
            assumed_by=iam.ServicePrincipal("rds.amazonaws.com"),
            description="Neptune bulk loader: read the graph staging bucket, nothing else",
        )
        self.load_role.add_to_policy(self._read_staging_statement(principal=None))
        encryption_key.grant_decrypt(self.load_role)
        acknowledge(
            self.load_role,
            f"AwsSolutions-IAM5[Resource::<{cdk.Stack.of(self).get_logical_id(cfn_bucket)}.Arn>/*]",
            "The loader reads whichever objects a load's source prefix names under the staging "
            "bucket; keys are chosen per load at run time, and the role reaches no other bucket.",
        )

        self.s3_endpoint: ec2.GatewayVpcEndpoint | None = None
        if add_s3_endpoint:
            # Gateway endpoints are free, unlike a NAT gateway (billed per AZ-hour and per GB).
            self.s3_endpoint = vpc.add_gateway_endpoint(
                "S3Endpoint",
                service=ec2.GatewayVpcEndpointAwsService.S3,
                subnets=[endpoint_subnets],
            )
            self.s3_endpoint.add_to_policy(
                self._read_staging_statement(principal=iam.AnyPrincipal())
            )

    def _read_staging_statement(self, principal: iam.IPrincipal | None) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            sid="ReadGraphStaging",
            actions=["s3:GetObject", "s3:ListBucket"],
            resources=[self.bucket.bucket_arn, self.bucket.arn_for_objects("*")],
            principals=[principal] if principal else None,
        )

    def allow_endpoint_read(self, sid: str, bucket_name: str) -> None:
        """Let the VPC read one more (AWS-owned) bucket through the endpoint, e.g. for tooling."""
        if self.s3_endpoint is None:
            return
        self.s3_endpoint.add_to_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject", "s3:ListBucket"],
                resources=[
                    f"arn:{cdk.Aws.PARTITION}:s3:::{bucket_name}",
                    f"arn:{cdk.Aws.PARTITION}:s3:::{bucket_name}/*",
                ],
            )
        )
