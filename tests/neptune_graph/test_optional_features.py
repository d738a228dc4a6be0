"""The optional settings, synthesized once together: serverless capacity, a client security
group, the Workbench notebook and a Neptune Analytics graph. They must be cdk-nag clean too."""

from __future__ import annotations

import json

import pytest

from tests.neptune_graph.test_stack import only, resources
from tests.support.gates import nag_findings
from tests.support.synth import synthesize_once

STACK = "NeptuneGraph"
CLIENT_SG = "sg-0123456789abcdef0"


@pytest.fixture(scope="module")
def everything_on(tmp_path_factory):
    settings = {
        "capacity": "serverless",
        "serverless_min_ncu": 2.5,
        "serverless_max_ncu": 16,
        "workbench_notebook": True,
        "analytics_graph": True,
        "analytics_memory_ncu": 32,
        "client_security_group_ids": [CLIENT_SG],
    }
    return synthesize_once(
        tmp_path_factory,
        "dev",
        {
            "blueprints_only": "neptune-graph",
            "blueprints": {"neptune-graph": {"dev": settings}},
        },
    )


def test_optional_features_are_cdk_nag_clean(everything_on):
    assert nag_findings(everything_on) == []


def test_serverless_capacity(everything_on):
    t = everything_on.template(STACK)
    _, cluster = only(t, "AWS::Neptune::DBCluster")
    assert cluster["Properties"]["ServerlessScalingConfiguration"] == {
        "MinCapacity": 2.5,
        "MaxCapacity": 16,
    }
    assert {
        i["Properties"]["DBInstanceClass"]
        for i in resources(t, "AWS::Neptune::DBInstance").values()
    } == {"db.serverless"}


def test_listed_client_security_group_reaches_8182_only(everything_on):
    t = everything_on.template(STACK)
    cluster_sg = next(
        k for k in resources(t, "AWS::EC2::SecurityGroup") if k.startswith("GraphSecurity")
    )
    from_client = [
        r["Properties"]
        for r in resources(t, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"].get("SourceSecurityGroupId") == CLIENT_SG
    ]
    assert from_client == [
        {
            "Description": f"Neptune clients in {CLIENT_SG}",
            "FromPort": 8182,
            "GroupId": {"Fn::GetAtt": [cluster_sg, "GroupId"]},
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": CLIENT_SG,
            "ToPort": 8182,
        }
    ]


def test_workbench_is_private_encrypted_named_for_the_console(everything_on):
    t = everything_on.template(STACK)
    _, notebook = only(t, "AWS::SageMaker::NotebookInstance")
    props = notebook["Properties"]
    assert props["NotebookInstanceName"].startswith("aws-neptune-")
    assert props["DirectInternetAccess"] == "Disabled"
    assert props["RootAccess"] == "Disabled"
    assert props["KmsKeyId"] == {"Ref": only(t, "AWS::KMS::Key")[0]}
    assert props["SubnetId"]["Ref"].startswith("NetworkisolatedSubnet")
    _, endpoint = only(t, "AWS::EC2::VPCEndpoint")
    sids = [s["Sid"] for s in endpoint["Properties"]["PolicyDocument"]["Statement"]]
    assert sids == ["ReadGraphStaging", "ReadWorkbenchRelease"]
    role = next(k for k in resources(t, "AWS::IAM::Role") if k.startswith("WorkbenchRole"))
    policy = next(
        r
        for k, r in resources(t, "AWS::IAM::Policy").items()
        if r["Properties"]["Roles"] == [{"Ref": role}]
    )
    neptune = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "neptune-db:*"
    ]
    assert len(neptune) == 1 and "ClusterResourceId" in json.dumps(neptune[0]["Resource"])


def test_analytics_graph_has_no_public_endpoint(everything_on):
    t = everything_on.template(STACK)
    _, graph = only(t, "AWS::NeptuneGraph::Graph")
    assert graph["Properties"]["PublicConnectivity"] is False
    assert graph["Properties"]["ProvisionedMemory"] == 32
    _, endpoint = only(t, "AWS::NeptuneGraph::PrivateGraphEndpoint")
    assert len(endpoint["Properties"]["SubnetIds"]) == 2
