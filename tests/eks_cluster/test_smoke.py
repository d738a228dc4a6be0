"""The EksCluster smoke: a Stubber for EKS (moto models neither upgrade policies nor access
entries, add-ons or Pod Identity) and moto's EFS, against a cluster as the template says and
against clusters that drifted from it."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.support.smoke_fakes import StubbedSession, run, statuses

NAME = "EksCluster-dev"
ADMIN = "arn:aws:iam::123456789012:role/EksCluster-dev-AdminRole"
NODE_ROLE = "arn:aws:iam::123456789012:role/EksCluster-dev-AutoModeNodeRole"
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def template(*, auto_mode: bool = True, public: bool = True, efs: bool = True) -> dict:
    vpc = {"EndpointPrivateAccess": True, "EndpointPublicAccess": public}
    if public:
        vpc["PublicAccessCidrs"] = ["198.51.100.7/32"]
    resources = {
        "Cluster": {
            "Type": "AWS::EKS::Cluster",
            "Properties": {
                "Name": NAME,
                "Version": "1.34",
                "UpgradePolicy": {"SupportType": "STANDARD"},
                "AccessConfig": {"AuthenticationMode": "API"},
                "EncryptionConfig": [{"Resources": ["secrets"]}],
                "Logging": {"ClusterLogging": {"EnabledTypes": [{"Type": "audit"}]}},
                "ComputeConfig": {"Enabled": auto_mode},
                "ResourcesVpcConfig": vpc,
            },
        },
        "Metrics": {"Type": "AWS::EKS::Addon", "Properties": {"AddonName": "metrics-server"}},
        "Identity": {
            "Type": "AWS::EKS::PodIdentityAssociation",
            "Properties": {"Namespace": "amazon-cloudwatch", "ServiceAccount": "cloudwatch-agent"},
        },
    }
    if not auto_mode:
        resources["Nodes"] = {"Type": "AWS::EKS::Nodegroup", "Properties": {}}
    if efs:
        resources["Files"] = {"Type": "AWS::EFS::FileSystem", "Properties": {}}
    return {"Resources": resources}


def described(**changes) -> dict:
    cluster = {
        "name": NAME,
        "status": "ACTIVE",
        "version": "1.34",
        "upgradePolicy": {"supportType": "STANDARD"},
        "accessConfig": {"authenticationMode": "API"},
        "encryptionConfig": [{"resources": ["secrets"]}],
        "logging": {"clusterLogging": [{"types": ["audit"], "enabled": True}]},
        "resourcesVpcConfig": {
            "endpointPublicAccess": True,
            "endpointPrivateAccess": True,
            "publicAccessCidrs": ["198.51.100.7/32"],
        },
        "computeConfig": {
            "enabled": True,
            "nodePools": ["system", "general-purpose"],
            "nodeRoleArn": NODE_ROLE,
        },
    }
    cluster.update(changes)
    return {"cluster": cluster}


@pytest.fixture
def files(aws):
    efs = boto3.client("efs", region_name="us-east-1")
    fs = efs.create_file_system(CreationToken="smoke", Encrypted=True)["FileSystemId"]
    efs.put_file_system_policy(
        FileSystemId=fs,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )
    point = efs.create_access_point(ClientToken="smoke", FileSystemId=fs)["AccessPointId"]
    return {"FileSystemId": fs, "SharedFilesAccessPointId": point}


def outputs(files: dict | None = None) -> dict:
    return {"ClusterName": NAME, "ClusterAdminRoleArn": ADMIN, **(files or {})}


def healthy_control_plane(stub) -> None:
    stub.add_response(
        "list_access_entries", {"accessEntries": [ADMIN, NODE_ROLE]}, {"clusterName": NAME}
    )
    stub.add_response(
        "list_associated_access_policies",
        {
            "clusterName": NAME,
            "principalArn": ADMIN,
            "associatedAccessPolicies": [{"policyArn": ADMIN_POLICY}],
        },
        {"clusterName": NAME, "principalArn": ADMIN},
    )
    stub.add_response(
        "describe_access_entry",
        {"accessEntry": {"principalArn": NODE_ROLE, "type": "EC2"}},
        {"clusterName": NAME, "principalArn": NODE_ROLE},
    )
    stub.add_response("list_addons", {"addons": ["metrics-server"]}, {"clusterName": NAME})
    stub.add_response(
        "describe_addon",
        {"addon": {"addonName": "metrics-server", "status": "ACTIVE"}},
        {"clusterName": NAME, "addonName": "metrics-server"},
    )
    stub.add_response(
        "list_pod_identity_associations",
        {
            "associations": [
                {"namespace": "amazon-cloudwatch", "serviceAccount": "cloudwatch-agent"}
            ]
        },
        {"clusterName": NAME},
    )


def test_a_cluster_as_the_template_says_passes_every_step(files):
    session = StubbedSession(services=("eks",))
    stub = session.stub("eks")
    stub.add_response("describe_cluster", described(), {"name": NAME})
    healthy_control_plane(stub)
    results, lines, _ = run("EksCluster", outputs(files), session=session, template=template())
    assert statuses(results) == {
        "cluster": "PASS",
        "compute": "PASS",
        "access-entries": "PASS",
        "addons": "PASS",
        "pod-identity": "PASS",
        "shared-files": "PASS",
    }, lines
    assert "upgrade policy STANDARD" in results["cluster"].detail
    assert "Auto Mode" in results["compute"].detail
    assert "EC2 entry" in results["access-entries"].detail
    session.assert_all_called()


@pytest.mark.parametrize(
    "drift, says",
    [
        ({"upgradePolicy": {"supportType": "EXTENDED"}}, "upgrade policy EXTENDED"),
        ({"version": "1.33"}, "version 1.33, the template says 1.34"),
        ({"status": "CREATING"}, "status CREATING"),
        ({"accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"}}, "not API"),
        ({"encryptionConfig": []}, "not envelope-encrypted"),
        ({"logging": {"clusterLogging": [{"types": ["audit"], "enabled": False}]}}, "logs []"),
        (
            {
                "resourcesVpcConfig": {
                    "endpointPublicAccess": True,
                    "publicAccessCidrs": ["0.0.0.0/0"],
                }
            },
            "open to ['0.0.0.0/0']",
        ),
    ],
)
def test_a_cluster_that_drifted_from_its_template_fails(aws, drift, says):
    session = StubbedSession(services=("eks",))
    session.stub("eks").add_response("describe_cluster", described(**drift), {"name": NAME})
    results, lines, _ = run(
        "EksCluster",
        outputs(),
        session=session,
        template=template(efs=False),
        skip={"eks-control-plane"},
    )
    assert results["cluster"].status == "FAIL", lines
    assert says in results["cluster"].detail
    assert results["compute"].status == "SKIP"  # it builds on the cluster step


def test_node_groups_must_all_be_active(aws):
    session = StubbedSession(services=("eks",))
    stub = session.stub("eks")
    stub.add_response(
        "describe_cluster", described(computeConfig={"enabled": False}), {"name": NAME}
    )
    stub.add_response("list_nodegroups", {"nodegroups": ["OnDemand"]}, {"clusterName": NAME})
    stub.add_response("list_fargate_profiles", {"fargateProfileNames": []}, {"clusterName": NAME})
    stub.add_response(
        "describe_nodegroup",
        {"nodegroup": {"nodegroupName": "OnDemand", "status": "DEGRADED"}},
        {"clusterName": NAME, "nodegroupName": "OnDemand"},
    )
    results, lines, _ = run(
        "EksCluster",
        outputs(),
        session=session,
        template=template(auto_mode=False, efs=False),
        skip={"eks-control-plane"},
    )
    assert results["compute"].status == "FAIL", lines
    assert results["compute"].detail == "not ACTIVE: {'OnDemand': 'DEGRADED'}"


def test_a_missing_admin_entry_or_add_on_fails_its_step(aws):
    session = StubbedSession(services=("eks",))
    stub = session.stub("eks")
    stub.add_response("describe_cluster", described(), {"name": NAME})
    stub.add_response("list_access_entries", {"accessEntries": [NODE_ROLE]}, {"clusterName": NAME})
    stub.add_response("list_addons", {"addons": []}, {"clusterName": NAME})
    stub.add_response("list_pod_identity_associations", {"associations": []}, {"clusterName": NAME})
    results, lines, _ = run("EksCluster", outputs(), session=session, template=template(efs=False))
    assert results["access-entries"].detail == f"no access entry for ClusterAdminRoleArn {ADMIN}"
    assert results["addons"].detail == "add-ons missing: metrics-server"
    assert results["pod-identity"].detail == (
        "no Pod Identity association for amazon-cloudwatch/cloudwatch-agent"
    )


def test_a_regional_copy_runs_the_same_smoke(aws):
    session = StubbedSession(services=("eks",))
    session.stub("eks").add_response(
        "describe_cluster",
        described(name="EksClusterEuWest1-prod"),
        {"name": "EksClusterEuWest1-prod"},
    )
    results, lines, _ = run(
        "EksClusterEuWest1",
        {"ClusterName": "EksClusterEuWest1-prod", "ClusterAdminRoleArn": ADMIN},
        session=session,
        template=template(efs=False),
        skip={"eks-control-plane"},
    )
    assert results["cluster"].status == "PASS", lines
