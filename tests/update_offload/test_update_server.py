"""The existing application (UpdateServer): what makes it secure, durable and cheap, per stage."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from aws_cdk.assertions import Match

from blueprints.update_offload.stack import APP_STACK_ID

APP = APP_STACK_ID


def resources(assembly, resource_type: str) -> dict[str, dict]:
    return {
        lid: r
        for lid, r in assembly.template(APP)["Resources"].items()
        if r["Type"] == resource_type
    }


def only(assembly, resource_type: str) -> dict:
    found = resources(assembly, resource_type)
    assert len(found) == 1, f"{len(found)} {resource_type} in {APP}"
    return next(iter(found.values()))


def ref_id(value) -> str:
    return value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0]


def settings(assembly):
    """What the tests expect the template to follow: the update-offload settings it was built
    with (cdk.json's values are checked in test_shipped_settings.py)."""
    return assembly.settings("update-offload")


def az_count(assembly) -> int:
    """The stage's explicit AZs, else the two CloudFormation picks (house/network.py)."""
    return len(assembly.stage_settings.availability_zones) or 2


def test_instances_spread_over_the_stage_azs_with_a_scaling_policy(assembly):
    group = only(assembly, "AWS::AutoScaling::AutoScalingGroup")["Properties"]
    subnets = assembly.template(APP)["Resources"]
    azs = {
        str(subnets[ref_id(s)]["Properties"]["AvailabilityZone"])
        for s in group["VPCZoneIdentifier"]
    }
    assert len(azs) == az_count(assembly)
    assert (int(group["MinSize"]), int(group["MaxSize"])) == (
        settings(assembly).min_instances,
        settings(assembly).max_instances,
    )
    assert group["HealthCheckType"] == "ELB" and group["HealthCheckGracePeriod"] == 300
    policy = only(assembly, "AWS::AutoScaling::ScalingPolicy")["Properties"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["TargetTrackingConfiguration"] == {
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
        "TargetValue": settings(assembly).cpu_target_percent,
    }
    assert ref_id(policy["AutoScalingGroupName"]) in resources(
        assembly, "AWS::AutoScaling::AutoScalingGroup"
    )


def test_launch_template_graviton_al2023_imdsv2_encrypted_ebs_no_ssh(assembly):
    data = only(assembly, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"] == {"HttpPutResponseHopLimit": 1, "HttpTokens": "required"}
    assert data["BlockDeviceMappings"] == [
        {
            "DeviceName": "/dev/xvda",
            "Ebs": {
                "DeleteOnTermination": True,
                "Encrypted": True,
                "VolumeSize": 8,
                "VolumeType": "gp3",
            },
        }
    ]
    assert "KeyName" not in data
    assert data["InstanceType"] == settings(assembly).instance_type
    image_parameter = data["ImageId"]["Ref"]
    assert assembly.template(APP)["Parameters"][image_parameter]["Default"] == (
        "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64"
    )


def test_ssm_instead_of_ssh(assembly):
    template = assembly.assertions(APP)
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Principal": {"Service": "ec2.amazonaws.com"}})]}
            ),
            "ManagedPolicyArns": [
                {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            ":iam::aws:policy/AmazonSSMManagedInstanceCore",
                        ],
                    ]
                }
            ],
        },
    )
    for group in resources(assembly, "AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert rule["FromPort"] != 22


def test_instances_public_without_nat_or_private_behind_nat_as_set(assembly):
    data = only(assembly, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    template = assembly.template(APP)["Resources"]
    group = only(assembly, "AWS::AutoScaling::AutoScalingGroup")["Properties"]
    subnet_paths = {
        template[ref_id(s)]["Metadata"]["aws:cdk:path"].split("/")[2]
        for s in group["VPCZoneIdentifier"]
    }
    nats = resources(assembly, "AWS::EC2::NatGateway")
    if settings(assembly).instance_subnets == "public":
        assert data["NetworkInterfaces"][0]["AssociatePublicIpAddress"] is True
        assert {p[: len("publicSubnet")] for p in subnet_paths} == {"publicSubnet"}
        assert nats == {}
    else:
        assert "NetworkInterfaces" not in data or not data["NetworkInterfaces"][0].get(
            "AssociatePublicIpAddress"
        )
        assert {p[: len("privateSubnet")] for p in subnet_paths} == {"privateSubnet"}
        assert len(nats) == min(settings(assembly).nat_gateways, az_count(assembly))


def test_only_the_load_balancer_reaches_instances_and_only_instances_reach_efs(assembly):
    template = assembly.template(APP)["Resources"]
    groups = resources(assembly, "AWS::EC2::SecurityGroup")
    by_path = {
        r["Metadata"]["aws:cdk:path"].split("/")[-2]
        if r["Metadata"]["aws:cdk:path"].endswith("/Resource")
        else r["Metadata"]["aws:cdk:path"].split("/")[-1]: lid
        for lid, r in groups.items()
    }
    alb_sg, instance_sg, efs_sg = (
        by_path["LoadBalancerSecurityGroup"],
        by_path["InstanceSecurityGroup"],
        by_path["EfsSecurityGroup"],
    )
    # The internet-facing listener is the only rule open to the world.
    assert template[alb_sg]["Properties"]["SecurityGroupIngress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTP from update clients on the internet",
            "FromPort": 80,
            "IpProtocol": "tcp",
            "ToPort": 80,
        }
    ]
    assert "SecurityGroupIngress" not in template[instance_sg]["Properties"]
    assert "SecurityGroupIngress" not in template[efs_sg]["Properties"]
    ingress = {
        (
            ref_id(r["Properties"]["GroupId"]),
            ref_id(r["Properties"]["SourceSecurityGroupId"]),
            r["Properties"]["FromPort"],
        )
        for r in resources(assembly, "AWS::EC2::SecurityGroupIngress").values()
    }
    assert ingress == {(instance_sg, alb_sg, 80), (efs_sg, instance_sg, 2049)}
    # Instances talk HTTPS out (dnf, SSM) and NFS to EFS, nothing else.
    assert template[instance_sg]["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to dnf repositories and Systems Manager",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]


def test_efs_encrypted_tls_only_backed_up_and_retained_in_prod(assembly):
    fs = only(assembly, "AWS::EFS::FileSystem")
    assert fs["Properties"]["Encrypted"] is True
    statements = fs["Properties"]["FileSystemPolicy"]["Statement"]
    assert {
        "Action": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Sid": "DenyUnencryptedTransport",
    } in statements
    if assembly.stage_settings.keep_data:
        assert fs["Properties"]["BackupPolicy"] == {"Status": "ENABLED"}
        assert fs["DeletionPolicy"] == fs["UpdateReplacePolicy"] == "Retain"
    else:
        assert fs["Properties"].get("BackupPolicy", {"Status": "DISABLED"}) == {
            "Status": "DISABLED"
        }
        assert fs["DeletionPolicy"] == "Delete"
    # Mount targets only in isolated subnets, one per AZ.
    targets = resources(assembly, "AWS::EFS::MountTarget")
    assert len(targets) == az_count(assembly)
    template = assembly.template(APP)["Resources"]
    for target in targets.values():
        assert (
            "/isolatedSubnet"
            in template[ref_id(target["Properties"]["SubnetId"])]["Metadata"]["aws:cdk:path"]
        )


def test_instance_role_may_mount_only_this_file_system(assembly):
    fs_id = next(iter(resources(assembly, "AWS::EFS::FileSystem")))
    policy = next(
        p
        for p in resources(assembly, "AWS::IAM::Policy").values()
        if "InstanceRole" in p["Properties"]["PolicyName"]
    )
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": [
                "elasticfilesystem:ClientMount",
                "elasticfilesystem:ClientRootAccess",
                "elasticfilesystem:ClientWrite",
            ],
            "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [fs_id, "Arn"]},
        }
    ]


def user_data_script(assembly) -> str:
    data = only(assembly, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"][
        "UserData"
    ]
    parts = data["Fn::Base64"]["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "fs-0123456789abcdef0" for p in parts)


def test_user_data_mounts_efs_with_tls_and_serves_it(assembly):
    script = user_data_script(assembly)
    parts = only(assembly, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"][
        "UserData"
    ]["Fn::Base64"]["Fn::Join"][1]
    fs_id = next(iter(resources(assembly, "AWS::EFS::FileSystem")))
    assert {"Ref": fs_id} in parts
    assert script.startswith("#!/bin/bash\nset -euo pipefail\n")
    assert "dnf install -y httpd amazon-efs-utils" in script
    assert "fs-0123456789abcdef0:/ /mnt/efs efs _netdev,tls,iam 0 0" in script
    assert "Alias /updates/ /mnt/efs/updates/" in script
    assert "mv /mnt/efs/updates/latest.json.tmp /mnt/efs/updates/latest.json" in script
    assert script.index("mount /mnt/efs") < script.index("echo ok > /var/www/html/health")
    assert script.rstrip().endswith("systemctl enable --now httpd")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_user_data_is_valid_bash(synth, tmp_path):
    script = tmp_path / "user-data.sh"
    script.write_text(user_data_script(synth("dev")))
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_target_group_health_checks_the_page_written_after_the_mount(assembly):
    assembly.assertions(APP).has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "HealthCheckPath": "/health",
            "Matcher": {"HttpCode": "200"},
            "Port": 80,
            "Protocol": "HTTP",
            "TargetType": "instance",
        },
    )


def test_load_balancer_logs_and_is_protected_when_the_stage_keeps_data(assembly):
    attributes = only(assembly, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"][
        "LoadBalancerAttributes"
    ]
    values = {a["Key"]: a["Value"] for a in attributes}
    assert values["access_logs.s3.enabled"] == "true"
    assert values["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert values["deletion_protection.enabled"] == str(assembly.stage_settings.keep_data).lower()
    listener = only(assembly, "AWS::ElasticLoadBalancingV2::Listener")["Properties"]
    assert listener["DefaultActions"][0]["Type"] == "forward"


def test_instances_boot_only_after_the_efs_mount_targets_exist(assembly):
    group = only(assembly, "AWS::AutoScaling::AutoScalingGroup")
    assert set(resources(assembly, "AWS::EFS::MountTarget")) <= set(group["DependsOn"])


def test_alb_log_delivery_account_is_the_regions_own(assembly):
    """A stage with a region names ELB's account of that region; a region-agnostic synth looks
    the account up per region at deploy time (house/defaults.py)."""
    from aws_cdk.region_info import RegionInfo

    policy = only(assembly, "AWS::S3::BucketPolicy")["Properties"]["PolicyDocument"]["Statement"]
    (alb_logs,) = [
        s for s in policy if s["Action"] == "s3:PutObject" and "AWS" in s.get("Principal", {})
    ]
    principal = alb_logs["Principal"]["AWS"]
    region = assembly.stage_settings.region
    if region is not None:
        assert principal == f"arn:aws:iam::{RegionInfo.get(region).elbv2_account}:root"
    else:
        mapping = assembly.template(APP)["Mappings"]
        (name,) = [n for n in mapping if "Elbv2Account" in n]
        assert mapping[name]["eu-west-1"] == {"value": "156460612806"}
        assert principal == {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":iam::",
                    {"Fn::FindInMap": [name, {"Ref": "AWS::Region"}, "value"]},
                    ":root",
                ],
            ]
        }


def test_dns_name_is_exported_under_a_fixed_name(assembly):
    outputs = assembly.template(APP)["Outputs"]
    alb_id = next(iter(resources(assembly, "AWS::ElasticLoadBalancingV2::LoadBalancer")))
    assert outputs["LoadBalancerDnsName"]["Value"] == {"Fn::GetAtt": [alb_id, "DNSName"]}
    assert outputs["LoadBalancerDnsName"]["Export"] == {
        "Name": f"{assembly.stack_name(APP)}-LoadBalancerDnsName"
    }


def test_s3_gateway_endpoint_keeps_package_downloads_off_nat(assembly):
    assembly.assertions(APP).has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Gateway",
            "ServiceName": Match.object_like({"Fn::Join": ["", Match.array_with([".s3"])]}),
        },
    )
