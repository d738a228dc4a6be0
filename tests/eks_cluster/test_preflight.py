"""The EKS preflight checks (deployment/preflight_eks.py) and the EKS needs the general checks
read (service-linked roles, node-group instance types), each where it passes and where it
fails: moto where it has the API, botocore's Stubber where it has not (DescribeClusterVersions,
an applied EKS quota)."""

from __future__ import annotations

import datetime

import boto3
import pytest

from deployment import preflight_eks as eks_checks
from deployment.preflight import run_checks
from deployment.preflight_needs import launched_instance_types, service_linked_roles
from tests.support.preflight_fakes import StubbedSession, preflight_for, write_assembly

GET_AZ_0 = {"Fn::Select": [0, {"Fn::GetAZs": ""}]}


def resource(resource_type: str, **properties) -> dict:
    return {"Type": resource_type, "Properties": properties}


@pytest.fixture
def session(aws):
    return boto3.Session(region_name="us-east-1")


@pytest.fixture
def stubbed(aws):
    return StubbedSession()


@pytest.fixture
def assembly(tmp_path):
    """`assembly(template, **artifact)` -> the StackArtifact of a one-stack assembly."""
    return lambda body, **artifact: write_assembly(tmp_path / "cdk.out", body, **artifact)


def run(check, stack, session, fix: bool = False) -> list:
    return list(check(preflight_for(stack, session, fix)))


def cluster_template(
    version="1.34", zones=("us-east-1a", "us-east-1b"), public_cidrs=None, **extra
) -> dict:
    subnets = {
        f"Subnet{i}": resource("AWS::EC2::Subnet", AvailabilityZone=z) for i, z in enumerate(zones)
    }
    vpc_config = {"SubnetIds": [{"Ref": s} for s in subnets]}
    if public_cidrs is not None:
        vpc_config |= {"EndpointPublicAccess": True, "PublicAccessCidrs": public_cidrs}
    return {
        "Resources": {
            **subnets,
            "Cluster": resource(
                "AWS::EKS::Cluster",
                Name="Blueprint-dev",
                Version=version,
                ResourcesVpcConfig=vpc_config,
            ),
            **extra,
        }
    }


# -- eks version ------------------------------------------------------------------------------


def versions(stubbed, *answers: dict) -> None:
    stub = stubbed.stub("eks")
    stub.add_response(
        "describe_cluster_versions",
        {"clusterVersions": list(answers)},
        {"clusterVersions": ["1.34"], "includeAll": True},
    )


def in_days(days: int) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=days)


def test_a_version_in_standard_support_passes(stubbed, assembly):
    versions(
        stubbed,
        {
            "clusterVersion": "1.34",
            "versionStatus": "STANDARD_SUPPORT",
            "endOfStandardSupportDate": in_days(300),
        },
    )
    [result] = run(eks_checks.check_kubernetes_version, assembly(cluster_template()), stubbed)
    assert result.status == "PASS"
    assert result.detail.startswith("Kubernetes 1.34 is in standard support until ")


def test_a_version_leaving_standard_support_soon_is_a_note(stubbed, assembly):
    versions(
        stubbed,
        {
            "clusterVersion": "1.34",
            "versionStatus": "STANDARD_SUPPORT",
            "endOfStandardSupportDate": in_days(20),
        },
    )
    [result] = run(eks_checks.check_kubernetes_version, assembly(cluster_template()), stubbed)
    assert result.status == "NOTE"
    assert "leaves standard support in 19 days" in result.detail or "in 20 days" in result.detail
    assert "STANDARD upgrade policy" in result.detail


@pytest.mark.parametrize(
    "status, says", [("EXTENDED_SUPPORT", "bill extended support"), ("UNSUPPORTED", "refused")]
)
def test_a_version_out_of_standard_support_fails(stubbed, assembly, status, says):
    versions(stubbed, {"clusterVersion": "1.34", "versionStatus": status})
    [result] = run(eks_checks.check_kubernetes_version, assembly(cluster_template()), stubbed)
    assert result.status == "FAIL"
    assert status in result.detail and says in result.detail
    assert "kubernetes_version" in result.fix


def test_a_version_the_region_does_not_offer_fails(stubbed, assembly):
    versions(stubbed)
    [result] = run(eks_checks.check_kubernetes_version, assembly(cluster_template()), stubbed)
    assert result.status == "FAIL"
    assert result.detail == "Kubernetes 1.34 (Cluster) is not offered by EKS in us-east-1"


# -- eks zones --------------------------------------------------------------------------------


def test_subnets_in_zones_eks_uses_pass(session, assembly):
    [result] = run(eks_checks.check_cluster_zones, assembly(cluster_template()), session)
    assert (result.status, result.detail) == (
        "PASS",
        "EKS can place Cluster's control plane in us-east-1a, us-east-1b",
    )


def test_a_subnet_in_an_az_eks_refuses_fails(session, assembly):
    # In moto's account us-east-1e is use1-az3, where EKS places no control plane.
    body = cluster_template(zones=("us-east-1a", "us-east-1e"))
    [result] = run(eks_checks.check_cluster_zones, assembly(body), session)
    assert result.status == "FAIL"
    assert "us-east-1e (use1-az3)" in result.detail
    assert "UnsupportedAvailabilityZoneException" in result.detail
    assert "stages.dev.availability_zones" in result.fix and "us-east-1e" not in result.fix


def test_fn_get_azs_positions_are_mapped_to_zone_ids(session, assembly):
    body = cluster_template(zones=(GET_AZ_0, {"Fn::Select": [4, {"Fn::GetAZs": ""}]}))
    [result] = run(eks_checks.check_cluster_zones, assembly(body), session)
    assert result.status == "FAIL" and "us-east-1e" in result.detail


# -- eks endpoint -----------------------------------------------------------------------------


def test_an_allow_list_of_documentation_addresses_fails(session, assembly):
    body = cluster_template(public_cidrs=["192.0.2.0/24"])
    [result] = run(eks_checks.check_public_endpoint, assembly(body), session)
    assert result.status == "FAIL"
    assert "nobody has" in result.detail
    assert "blueprints.eks-cluster.dev.public_access_cidrs" in result.fix


def test_a_real_allow_list_passes_and_a_private_endpoint_is_not_checked(session, assembly):
    body = cluster_template(public_cidrs=["198.51.100.7/32", "203.0.114.0/24"])
    [result] = run(eks_checks.check_public_endpoint, assembly(body), session)
    assert (result.status, result.detail) == (
        "PASS",
        "public endpoint for 198.51.100.7/32, 203.0.114.0/24 only",
    )
    assert run(eks_checks.check_public_endpoint, assembly(cluster_template()), session) == []


# -- eks quota --------------------------------------------------------------------------------


def make_cluster(session, name: str) -> None:
    session.client("eks").create_cluster(
        name=name,
        roleArn="arn:aws:iam::123456789012:role/x",
        resourcesVpcConfig={"subnetIds": []},
    )


def no_quota_values(stubbed, *codes: str) -> None:
    """Service Quotas holds neither an applied nor a default value (moto has no EKS quotas)."""
    stub = stubbed.stub("service-quotas")
    for code in codes:
        for method in ("get_service_quota", "get_aws_default_service_quota"):
            stub.add_client_error(
                method,
                service_error_code="NoSuchResourceException",
                expected_params={"ServiceCode": "eks", "QuotaCode": code},
            )


def test_clusters_and_node_groups_within_quota_pass(stubbed, assembly):
    no_quota_values(stubbed, "L-1194D53C", "L-6D54EA21")
    make_cluster(stubbed, "someone-else")
    make_cluster(stubbed, "Blueprint-dev")  # this stack's own (an update) is not counted twice
    body = cluster_template(
        Nodes=resource("AWS::EKS::Nodegroup", ClusterName={"Ref": "Cluster"}),
        Spot=resource("AWS::EKS::Nodegroup", ClusterName={"Ref": "Cluster"}),
    )
    results = run(eks_checks.check_eks_quotas, assembly(body), stubbed)
    assert [(r.status, r.detail) for r in results] == [
        (
            "PASS",
            "EKS clusters: 1 in us-east-1 + 1 new <= 100 (documented default; Service Quotas "
            "has no value)",
        ),
        (
            "PASS",
            "managed node groups per cluster: 2 <= 30 (documented default; Service Quotas has "
            "no value)",
        ),
    ]


def test_a_full_cluster_quota_fails_with_the_increase_request(stubbed, assembly):
    stub = stubbed.stub("service-quotas")
    stub.add_response(
        "get_service_quota",
        {"Quota": {"Value": 1.0}},
        {"ServiceCode": "eks", "QuotaCode": "L-1194D53C"},
    )
    make_cluster(stubbed, "someone-else")
    [result] = run(eks_checks.check_eks_quotas, assembly(cluster_template()), stubbed)
    assert result.status == "FAIL"
    assert result.detail == "EKS clusters: 1 in us-east-1 + 1 new > 1 (applied quota)"
    assert "--quota-code L-1194D53C --desired-value 2" in result.fix


# -- log groups -------------------------------------------------------------------------------


def log_group_template() -> dict:
    return {
        "Resources": {
            "Logs": resource(
                "AWS::Logs::LogGroup",
                LogGroupName={
                    "Fn::Join": ["", ["/aws/eks/", {"Ref": "AWS::StackName"}, "/cluster"]]
                },
            ),
            "Unnamed": resource("AWS::Logs::LogGroup"),
        }
    }


def test_a_free_log_group_name_passes(session, assembly):
    [result] = run(eks_checks.check_log_groups, assembly(log_group_template()), session)
    assert (result.status, result.detail) == (
        "PASS",
        "/aws/eks/Blueprint-dev/cluster is free or this stack's own",
    )


def test_a_log_group_left_by_an_earlier_stack_fails(session, assembly):
    session.client("logs").create_log_group(logGroupName="/aws/eks/Blueprint-dev/cluster")
    [result] = run(eks_checks.check_log_groups, assembly(log_group_template()), session)
    assert result.status == "FAIL"
    assert "exists already and is not a resource of Blueprint-dev" in result.detail
    assert result.fix.startswith(
        "aws logs delete-log-group --log-group-name /aws/eks/Blueprint-dev/cluster"
    )


# -- endpoint services ------------------------------------------------------------------------


def endpoint(service: str) -> dict:
    return resource(
        "AWS::EC2::VPCEndpoint",
        VpcEndpointType="Interface",
        ServiceName={"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, f".{service}"]]},
    )


def test_offered_endpoint_services_pass(session, assembly):
    body = {"Resources": {"Auth": endpoint("eks-auth"), "Ecr": endpoint("ecr.api")}}
    [result] = run(eks_checks.check_endpoint_services, assembly(body), session)
    assert (result.status, result.detail) == ("PASS", "2 interface endpoint services offered")


def test_an_endpoint_service_the_region_lacks_fails(session, assembly):
    body = {"Resources": {"Auth": endpoint("eks-auth"), "Odd": endpoint("no-such-service")}}
    [result] = run(eks_checks.check_endpoint_services, assembly(body), session)
    assert result.status == "FAIL"
    assert result.detail == "com.amazonaws.us-east-1.no-such-service not offered in us-east-1"


# -- needs the general checks read ------------------------------------------------------------


def test_eks_resources_need_their_service_linked_roles():
    body = {
        "Resources": {
            "Cluster": resource("AWS::EKS::Cluster"),
            "Nodes": resource("AWS::EKS::Nodegroup", InstanceTypes=["t4g.medium", "m7g.large"]),
            "Pods": resource("AWS::EKS::FargateProfile"),
        }
    }
    roles = {role.role_name: needed for role, needed in service_linked_roles(body).items()}
    assert roles == {
        "AWSServiceRoleForAmazonEKS": ["AWS::EKS::Cluster"],
        "AWSServiceRoleForAmazonEKSNodegroup": ["AWS::EKS::Nodegroup"],
        "AWSServiceRoleForAutoScaling": ["AWS::EKS::Nodegroup"],
        "AWSServiceRoleForAmazonEKSForFargate": ["AWS::EKS::FargateProfile"],
    }
    assert launched_instance_types(body) == {"t4g.medium": ["Nodes"], "m7g.large": ["Nodes"]}


def test_run_checks_includes_the_eks_checks(stubbed, assembly):
    no_quota_values(stubbed, "L-1194D53C")
    versions(
        stubbed,
        {
            "clusterVersion": "1.34",
            "versionStatus": "STANDARD_SUPPORT",
            "endOfStandardSupportDate": in_days(300),
        },
    )
    stack = assembly(cluster_template(public_cidrs=["192.0.2.0/24"]))
    checked = {r.check for r in run_checks(stack, stubbed)}
    assert {"eks version", "eks zones", "eks endpoint", "eks quota"} <= checked
