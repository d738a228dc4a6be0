"""The pre-destroy sweep (deployment/teardown.py) on moto: it removes the load balancers, target
groups and security groups Kubernetes controllers made for the stack's cluster (by their tags),
keeps everything else (other clusters', CloudFormation's own), lists and keeps EBS volumes, and
does nothing for a stack without a cluster."""

from __future__ import annotations

import boto3
import pytest

from deployment import teardown
from tests.support.preflight_fakes import write_assembly

CLUSTER = "EksCluster-dev"
REGION = "us-east-1"


@pytest.fixture
def account(aws):
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    return {"vpc": vpc, "subnets": subnets}


def tags(**pairs) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def security_group(account, name: str, tag_list: list[dict]) -> str:
    ec2 = boto3.client("ec2", region_name=REGION)
    group = ec2.create_security_group(
        GroupName=name,
        Description=name,
        VpcId=account["vpc"],
        TagSpecifications=[{"ResourceType": "security-group", "Tags": tag_list}],
    )["GroupId"]
    return group


def load_balancer(account, name: str, tag_list: list[dict]) -> str:
    elbv2 = boto3.client("elbv2", region_name=REGION)
    return elbv2.create_load_balancer(
        Name=name, Subnets=account["subnets"], Type="network", Tags=tag_list
    )["LoadBalancers"][0]["LoadBalancerArn"]


def target_group(account, name: str, tag_list: list[dict]) -> str:
    elbv2 = boto3.client("elbv2", region_name=REGION)
    return elbv2.create_target_group(
        Name=name, Protocol="TCP", Port=80, VpcId=account["vpc"], Tags=tag_list
    )["TargetGroups"][0]["TargetGroupArn"]


def sweep(**kwargs) -> tuple[teardown.Sweep, list[str]]:
    said: list[str] = []
    return (
        teardown.Sweep(
            boto3.Session(region_name=REGION),
            REGION,
            poll=0.01,
            timeout=5,
            say=said.append,
            sleep=lambda _s: None,
            **kwargs,
        ),
        said,
    )


def test_what_kubernetes_made_for_the_cluster_goes_and_nothing_else(account):
    auto_mode = load_balancer(account, "k8s-auto", tags(**{"eks:eks-cluster-name": CLUSTER}))
    controller = load_balancer(account, "k8s-ctrl", tags(**{"elbv2.k8s.aws/cluster": CLUSTER}))
    other = load_balancer(account, "k8s-other", tags(**{"eks:eks-cluster-name": "OtherCluster"}))
    ours_in_cfn = load_balancer(
        account,
        "cfn-lb",
        tags(
            **{"eks:eks-cluster-name": CLUSTER, "aws:cloudformation:stack-name": "EksCluster-dev"}
        ),
    )
    group_arn = target_group(account, "k8s-tg", tags(**{"elbv2.k8s.aws/cluster": CLUSTER}))
    elb = boto3.client("elb", region_name=REGION)
    elb.create_load_balancer(
        LoadBalancerName="k8s-classic",
        Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 80, "InstancePort": 30080}],
        Subnets=account["subnets"],
        Tags=tags(**{f"kubernetes.io/cluster/{CLUSTER}": "owned"}),
    )
    made = security_group(account, "k8s-elb", tags(**{f"kubernetes.io/cluster/{CLUSTER}": "owned"}))
    kept = security_group(account, "mine", tags(team="platform"))
    volume = boto3.client("ec2", region_name=REGION).create_volume(
        AvailabilityZone=f"{REGION}a",
        Size=10,
        TagSpecifications=[
            {"ResourceType": "volume", "Tags": tags(**{"eks:eks-cluster-name": CLUSTER})}
        ],
    )["VolumeId"]

    cleaner, said = sweep()
    assert cleaner.run(CLUSTER) is True

    elbv2 = boto3.client("elbv2", region_name=REGION)
    left = {lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]}
    assert left == {other, ours_in_cfn}
    assert auto_mode not in left and controller not in left
    assert group_arn not in {
        g["TargetGroupArn"] for g in elbv2.describe_target_groups()["TargetGroups"]
    }
    assert elb.describe_load_balancers()["LoadBalancerDescriptions"] == []
    groups = {
        g["GroupId"]
        for g in boto3.client("ec2", region_name=REGION).describe_security_groups()[
            "SecurityGroups"
        ]
    }
    assert made not in groups and kept in groups
    volumes = boto3.client("ec2", region_name=REGION).describe_volumes()["Volumes"]
    assert volume in {v["VolumeId"] for v in volumes}  # data: listed, never deleted
    assert any(line.startswith(f"kept    EBS volume {volume}") for line in said)


def test_a_dry_run_deletes_nothing(account):
    arn = load_balancer(account, "k8s-auto", tags(**{"eks:eks-cluster-name": CLUSTER}))
    cleaner, said = sweep(dry_run=True)
    cleaner.run(CLUSTER)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    assert [lb["LoadBalancerArn"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]] == [
        arn
    ]
    assert said == [f"would   delete load balancer {arn}"]


def test_the_command_sweeps_the_stacks_cluster_and_skips_stacks_without_one(account, tmp_path):
    load_balancer(account, "k8s-auto", tags(**{"eks:eks-cluster-name": CLUSTER}))
    cluster = {
        "Resources": {
            "Cluster": {
                "Type": "AWS::EKS::Cluster",
                "Properties": {"Name": {"Ref": "AWS::StackName"}},
            }
        }
    }
    write_assembly(
        tmp_path / "eks",
        cluster,
        stack_id="EksCluster",
        environment=f"aws://unknown-account/{REGION}",
    )
    assert teardown.main(["EksCluster", "--assembly", str(tmp_path / "eks")]) == 0
    assert (
        boto3.client("elbv2", region_name=REGION).describe_load_balancers()["LoadBalancers"] == []
    )
    write_assembly(tmp_path / "other", {"Resources": {}}, stack_id="MyBlog")
    assert teardown.main(["MyBlog", "--assembly", str(tmp_path / "other")]) == 0


def test_the_tags_that_mark_a_cluster_s_resources():
    assert teardown.made_for(tags(**{"elbv2.k8s.aws/cluster": CLUSTER}), CLUSTER)
    assert teardown.made_for(tags(**{f"kubernetes.io/cluster/{CLUSTER}": "owned"}), CLUSTER)
    assert not teardown.made_for(tags(**{"eks:eks-cluster-name": "EksCluster-prod"}), CLUSTER)
    assert not teardown.made_for(
        tags(**{"eks:eks-cluster-name": CLUSTER, "aws:cloudformation:stack-name": "x"}), CLUSTER
    )
