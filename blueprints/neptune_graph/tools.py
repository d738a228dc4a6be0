"""Optional tools beside a Neptune cluster: the Neptune Workbench notebook and a Neptune
Analytics graph with a private endpoint. Both are off by default (they cost money idle).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_neptunegraph as neptunegraph
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from blueprints.neptune_graph.cluster import NeptuneCluster
from house.compliance import acknowledge
from house.settings import keeps_data

# Neptune Analytics provisioned memory sizes, in m-NCUs.
ANALYTICS_MEMORY_SIZES = (16, 32, 64, 128, 256, 384, 512, 768, 1024, 2048, 3072, 4096)


def workbench_bucket_name() -> str:
    """AWS's per-region bucket holding the graph-notebook release the workbench installs."""
    return f"aws-neptune-notebook-{cdk.Aws.REGION}"


class NeptuneWorkbench(Construct):
    """A SageMaker notebook instance named `aws-neptune-<name>`, which the Neptune console lists
    as the cluster's workbench. It lives in the cluster's isolated subnets with no direct
    internet access; what it reaches is: the cluster on 8182 (its security group), and the
    graph-notebook release bucket through the S3 gateway endpoint (the caller allows it).
    You open Jupyter through SageMaker's presigned URL, which needs no path into the VPC.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        graph: NeptuneCluster,
        vpc: ec2.IVpc,
        subnet: ec2.ISubnet,
        instance_type: str,
        encryption_key: kms.IKey,
        load_role: iam.IRole,
    ) -> None:
        super().__init__(scope, id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="Neptune workbench: cluster on 8182 and S3 (gateway endpoint) on 443",
        )
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(443),
            "graph-notebook release via the S3 gateway endpoint",
        )
        graph.allow_clients_from(self.security_group, "Neptune workbench")

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Neptune workbench {name}: this cluster only",
        )
        graph.grant_data_actions(self.role, "*")
        bucket = workbench_bucket_name()
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:ListBucket"],
                resources=[
                    f"arn:{cdk.Aws.PARTITION}:s3:::{bucket}",
                    f"arn:{cdk.Aws.PARTITION}:s3:::{bucket}/*",
                ],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:"
                    "log-group:/aws/sagemaker/NotebookInstances:*"
                ],
            )
        )

        lifecycle = sagemaker.CfnNotebookInstanceLifecycleConfig(
            self,
            "Lifecycle",
            on_start=[
                sagemaker.CfnNotebookInstanceLifecycleConfig.NotebookInstanceLifecycleHookProperty(
                    content=cdk.Fn.base64(
                        cdk.Fn.sub(
                            _ON_START,
                            {
                                "Endpoint": graph.endpoint,
                                "Port": str(graph.port),
                                "LoadRoleArn": load_role.role_arn,
                                "Bucket": bucket,
                            },
                        )
                    )
                )
            ],
        )
        self.notebook = sagemaker.CfnNotebookInstance(
            self,
            "Notebook",
            notebook_instance_name=f"aws-neptune-{name}",
            instance_type=instance_type,
            role_arn=self.role.role_arn,
            subnet_id=subnet.subnet_id,
            security_group_ids=[self.security_group.security_group_id],
            direct_internet_access="Disabled",
            root_access="Disabled",
            kms_key_id=encryption_key.key_id,
            lifecycle_config_name=lifecycle.attr_notebook_instance_lifecycle_config_name,
            platform_identifier="notebook-al2-v3",
            instance_metadata_service_configuration=sagemaker.CfnNotebookInstance.InstanceMetadataServiceConfigurationProperty(
                minimum_instance_metadata_service_version="2"
            ),
            tags=[
                cdk.CfnTag(key="aws-neptune-cluster-id", value=graph.cluster.cluster_identifier),
                cdk.CfnTag(
                    key="aws-neptune-resource-id", value=graph.cluster.cluster_resource_identifier
                ),
            ],
        )
        cluster_id = cdk.Stack.of(self).get_logical_id(graph.cluster.node.default_child)
        for finding, reason in {
            "Action::neptune-db:*": "the workbench runs whatever query its user types (read, "
            "write, load, status), "
            "so it needs every data action, but only on this one cluster's resource ARN",
            f"Resource::arn:<AWS::Partition>:neptune-db:<AWS::Region>:<AWS::AccountId>:"
            f"<{cluster_id}.ClusterResourceId>/*": "neptune-db data-plane ARNs are always "
            "'<cluster resource id>/*'; this names "
            "the one cluster the workbench is for",
            "Resource::arn:<AWS::Partition>:s3:::aws-neptune-notebook-<AWS::Region>/*": "read-only "
            "access to AWS's graph-notebook release bucket for this region, which "
            "the start script downloads the workbench software from",
            "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
            "/aws/sagemaker/NotebookInstances:*": "SageMaker writes notebook logs to streams it "
            "names at run time inside this "
            "one log group",
        }.items():
            acknowledge(self.role, f"AwsSolutions-IAM5[{finding}]", f"Workbench role: {reason}.")


# The workbench's start script: point graph-notebook at this cluster with IAM auth, then install
# the graph-notebook release AWS publishes per region (fetched through the S3 endpoint).
_ON_START = """#!/bin/bash
set -euo pipefail
sudo -u ec2-user -i <<'SCRIPT'
cat >> ~/.bashrc <<'ENV'
export GRAPH_NOTEBOOK_AUTH_MODE=IAM
export GRAPH_NOTEBOOK_SSL=True
export GRAPH_NOTEBOOK_SERVICE=neptune-db
export GRAPH_NOTEBOOK_HOST=${Endpoint}
export GRAPH_NOTEBOOK_PORT=${Port}
export NEPTUNE_LOAD_FROM_S3_ROLE_ARN=${LoadRoleArn}
export AWS_REGION=${AWS::Region}
ENV
aws s3 cp s3://${Bucket}/graph_notebook.tar.gz /tmp/graph_notebook.tar.gz
rm -rf /tmp/graph_notebook && tar -xzf /tmp/graph_notebook.tar.gz -C /tmp
/tmp/graph_notebook/install.sh
SCRIPT
"""


class NeptuneAnalyticsGraph(Construct):
    """An in-memory Neptune Analytics graph, reachable only through a private endpoint in the VPC
    (no public connectivity); encrypted with the given key."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        vpc: ec2.IVpc,
        vpc_subnets: ec2.SubnetSelection,
        memory_ncu: int,
        replicas: int,
        removal_policy: cdk.RemovalPolicy,
        encryption_key: kms.IKey,
        client_security_groups: list[ec2.ISecurityGroup],
    ) -> None:
        super().__init__(scope, id)
        if memory_ncu not in ANALYTICS_MEMORY_SIZES:
            raise ValueError(
                f"Neptune Analytics memory {memory_ncu} m-NCU is not allowed; "
                f"allowed: {', '.join(map(str, ANALYTICS_MEMORY_SIZES))}"
            )
        self.graph = neptunegraph.CfnGraph(
            self,
            "Graph",
            graph_name=name,
            provisioned_memory=memory_ncu,
            replica_count=replicas,
            public_connectivity=False,
            deletion_protection=keeps_data(removal_policy),
            kms_key_identifier=encryption_key.key_arn,
        )
        self.graph.apply_removal_policy(removal_policy)
        self.security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description=f"Neptune Analytics {name} private endpoint: HTTPS from listed clients",
        )
        for client in client_security_groups:
            self.security_group.add_ingress_rule(
                client, ec2.Port.tcp(443), "Neptune Analytics clients"
            )
        self.endpoint = neptunegraph.CfnPrivateGraphEndpoint(
            self,
            "PrivateEndpoint",
            graph_identifier=self.graph.attr_graph_id,
            vpc_id=vpc.vpc_id,
            subnet_ids=vpc.select_subnets(subnet_type=vpc_subnets.subnet_type).subnet_ids,
            security_group_ids=[self.security_group.security_group_id],
        )
