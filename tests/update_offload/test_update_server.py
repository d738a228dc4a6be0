"""The existing application (UpdateServer): what makes it secure, durable and cheap, per stage."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from aws_cdk.assertions import Match

from blueprints.update_offload.stack import APP_STACK_ID
from house.compliance import finding_name
from tests.support.iam_statements import all_statements, statements_of
from tests.support.origin_key import assert_cloudfront_origins_encrypted, origin_key_id
from tests.support.template import TLS_1_2_OR_NEWER
from tests.update_offload.test_update_offload import plain

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


def instance_role(assembly) -> tuple[str, dict]:
    (found,) = [
        (lid, r)
        for lid, r in resources(assembly, "AWS::IAM::Role").items()
        if "InstanceRole" in r["Metadata"]["aws:cdk:path"]
    ]
    return found


def policy_statements_of(assembly, role_id: str) -> list[dict]:
    return [
        statement
        for policy in resources(assembly, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_session_manager_instead_of_ssh_with_only_what_sessions_need(assembly):
    """No AmazonSSMManagedInstanceCore (it reads every SSM parameter of the account): the
    instances may register with Systems Manager and open session channels, nothing else."""
    role_id, role = instance_role(assembly)
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    assert "ManagedPolicyArns" not in role["Properties"]
    statements = policy_statements_of(assembly, role_id)
    ssm = [st for st in statements if "Sid" in st]
    register = dict(ssm.pop(0))  # a copy: the session's template is shared by every test
    assert re.fullmatch(
        r"arn:(aws|<AWS::Partition>):ec2:([a-z0-9-]+|<AWS::Region>):<AWS::AccountId>:instance/\*",
        finding_name(register.pop("Resource")),
    ), "this account's and region's instances"
    assert register == {
        "Action": "ssm:UpdateInstanceInformation",
        "Effect": "Allow",
        "Sid": "RegisterWithSessionManager",
    }
    assert ssm == [
        {
            "Action": [
                "ssmmessages:CreateControlChannel",
                "ssmmessages:CreateDataChannel",
                "ssmmessages:OpenControlChannel",
                "ssmmessages:OpenDataChannel",
            ],
            "Effect": "Allow",
            "Resource": "*",
            "Sid": "SessionManagerChannels",
        },
    ]
    actions = {
        action
        for st in statements
        for action in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
    }
    assert not {a for a in actions if a.startswith(("ssm:Get", "ssm:Describe", "ec2messages:"))}
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


def origin_port(assembly) -> int:
    """HTTPS with a domain (the origin certificate), HTTP inside the VPC without one."""
    return 443 if settings(assembly).domain_names else 80


def test_only_cloudfront_reaches_the_load_balancer_which_is_internal(assembly):
    """The load balancer has private addresses only (isolated subnets, scheme internal) and its
    one ingress rule admits CloudFront's origin-facing prefix list, looked up at deploy time."""
    alb = only(assembly, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    template = assembly.template(APP)["Resources"]
    assert alb["Scheme"] == "internal"
    assert {
        template[ref_id(s)]["Metadata"]["aws:cdk:path"].split("/")[2].rstrip("0123456789")
        for s in alb["Subnets"]
    } == {"isolatedSubnet"}
    (group,) = [ref_id(g) for g in alb["SecurityGroups"]]
    assert "SecurityGroupIngress" not in template[group]["Properties"]
    (rule,) = [
        r["Properties"]
        for r in resources(assembly, "AWS::EC2::SecurityGroupIngress").values()
        if ref_id(r["Properties"]["GroupId"]) == group
    ]
    lookup = rule["SourcePrefixListId"]["Fn::GetAtt"]
    assert template[lookup[0]]["Type"] == "Custom::AWS" and lookup[1] == (
        "PrefixLists.0.PrefixListId"
    )
    update = template[lookup[0]]["Properties"]["Update"]
    call = json.loads(update if isinstance(update, str) else update["Fn::Join"][1][0])
    assert call["parameters"]["Filters"] == [
        {"Name": "prefix-list-name", "Values": ["com.amazonaws.global.cloudfront.origin-facing"]}
    ]
    assert (rule["FromPort"], rule["ToPort"]) == (origin_port(assembly),) * 2
    # Nothing in the stack admits the internet.
    for lid, r in template.items():
        for ingress in r["Properties"].get("SecurityGroupIngress", []) if "Properties" in r else []:
            assert ingress.get("CidrIp") != "0.0.0.0/0", lid
        if r["Type"] == "AWS::EC2::SecurityGroupIngress":
            assert r["Properties"].get("CidrIp") != "0.0.0.0/0", lid


def test_only_the_load_balancer_reaches_instances_and_only_instances_and_publisher_reach_efs(
    assembly,
):
    template = assembly.template(APP)["Resources"]
    groups = resources(assembly, "AWS::EC2::SecurityGroup")
    by_path = {
        r["Metadata"]["aws:cdk:path"].split("/")[-2]
        if r["Metadata"]["aws:cdk:path"].endswith("/Resource")
        else r["Metadata"]["aws:cdk:path"].split("/")[-1]: lid
        for lid, r in groups.items()
    }
    alb_sg, instance_sg, efs_sg, publisher_sg = (
        by_path["LoadBalancerSecurityGroup"],
        by_path["InstanceSecurityGroup"],
        by_path["EfsSecurityGroup"],
        by_path["SecurityGroup"],
    )
    assert "ReleasePublisher" in groups[publisher_sg]["Metadata"]["aws:cdk:path"]
    assert "SecurityGroupIngress" not in template[instance_sg]["Properties"]
    assert "SecurityGroupIngress" not in template[efs_sg]["Properties"]
    assert "SecurityGroupIngress" not in template[publisher_sg]["Properties"]
    ingress = {
        (
            ref_id(r["Properties"]["GroupId"]),
            ref_id(r["Properties"]["SourceSecurityGroupId"]),
            r["Properties"]["FromPort"],
        )
        for r in resources(assembly, "AWS::EC2::SecurityGroupIngress").values()
        if "SourceSecurityGroupId" in r["Properties"]  # (the ALB's: the test above)
    }
    assert ingress == {
        (instance_sg, alb_sg, 80),
        (efs_sg, instance_sg, 2049),
        (efs_sg, publisher_sg, 2049),
    }
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


def efs_statements(assembly) -> dict[str, list[dict]]:
    """Role path -> the statements of its policies that name an elasticfilesystem action."""
    roles = resources(assembly, "AWS::IAM::Role")
    found: dict[str, list[dict]] = {}
    for policy in resources(assembly, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            if any(a.startswith("elasticfilesystem:") for a in actions):
                for role in policy["Properties"]["Roles"]:
                    path = roles[role["Ref"]]["Metadata"]["aws:cdk:path"]
                    found.setdefault(path, []).append(statement)
    return found


def test_servers_mount_the_releases_read_only_and_only_the_publisher_writes(assembly):
    """Issue 12: a compromised web server must not change what every client downloads. The
    instance role may mount this file system with ClientMount only (read-only, root squashed);
    the publisher's role is the one principal that may write, and only through its access point
    (the file system policy grants nobody anything)."""
    fs_id = next(iter(resources(assembly, "AWS::EFS::FileSystem")))
    statements = efs_statements(assembly)
    (instance_role_path,) = [p for p in statements if "InstanceRole" in p]
    assert statements[instance_role_path] == [
        {
            "Action": "elasticfilesystem:ClientMount",
            "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [fs_id, "Arn"]},
        }
    ]
    writers = {
        path
        for path, found in statements.items()
        for statement in found
        if "elasticfilesystem:ClientWrite" in json.dumps(statement["Action"])
        or "elasticfilesystem:ClientRootAccess" in json.dumps(statement["Action"])
    }
    assert writers == {"UpdateServer/ReleasePublisher/FunctionRole/Resource"}
    # The publisher mounts only through its own access point (ClientMount is conditioned on
    # that access point's ARN), so its writes land under /updates, as uid 1001.
    mount, write = statements["UpdateServer/ReleasePublisher/FunctionRole/Resource"]
    (access_point,) = resources(assembly, "AWS::EFS::AccessPoint")
    assert (mount["Action"], write["Action"]) == (
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientWrite",
    )
    (condition,) = mount["Condition"]["StringEquals"].items()
    assert condition[0] == "elasticfilesystem:AccessPointArn"
    assert {"Ref": access_point} in condition[1]["Fn::Join"][1]
    ap = only(assembly, "AWS::EFS::AccessPoint")["Properties"]
    assert ap["RootDirectory"] == {
        "CreationInfo": {"OwnerGid": "1001", "OwnerUid": "1001", "Permissions": "755"},
        "Path": "/updates",
    }
    assert ap["PosixUser"] == {"Gid": "1001", "Uid": "1001"}
    policy = only(assembly, "AWS::EFS::FileSystem")["Properties"]["FileSystemPolicy"]
    assert [st["Effect"] for st in policy["Statement"]] == ["Deny"]


def user_data_script(assembly) -> str:
    data = only(assembly, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"][
        "UserData"
    ]
    parts = data["Fn::Base64"]["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else "fs-0123456789abcdef0" for p in parts)


def test_user_data_mounts_efs_read_only_with_tls_and_serves_it(assembly):
    script = user_data_script(assembly)
    parts = only(assembly, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"][
        "UserData"
    ]["Fn::Base64"]["Fn::Join"][1]
    fs_id = next(iter(resources(assembly, "AWS::EFS::FileSystem")))
    assert {"Ref": fs_id} in parts
    assert script.startswith("#!/bin/bash\nset -euo pipefail\n")
    assert "dnf install -y httpd amazon-efs-utils" in script
    assert "fs-0123456789abcdef0:/ /mnt/efs efs _netdev,tls,iam,ro 0 0" in script
    assert "Alias /updates/ /mnt/efs/updates/" in script
    # The servers write nothing to the releases (the publisher does).
    for line in script.splitlines():
        assert not (line.startswith(("mkdir", "mv", "tar", "printf", "cp")) and "/mnt/efs/" in line)
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


def test_one_listener_https_only_with_a_domain_else_http(assembly):
    """With a domain: HTTPS :443 with the origin certificate and a TLS 1.2+ policy, and no port
    80 at all; without (dev): HTTP :80, reached only by the VPC origin."""
    listener = only(assembly, "AWS::ElasticLoadBalancingV2::Listener")["Properties"]
    assert listener["DefaultActions"][0]["Type"] == "forward"
    if settings(assembly).domain_names:
        certificate = only(assembly, "AWS::CertificateManager::Certificate")
        assert (listener["Port"], listener["Protocol"]) == (443, "HTTPS")
        assert listener["SslPolicy"] in TLS_1_2_OR_NEWER
        (cert_id,) = resources(assembly, "AWS::CertificateManager::Certificate")
        assert listener["Certificates"] == [{"CertificateArn": {"Ref": cert_id}}]
        assert certificate["Properties"]["ValidationMethod"] == "DNS"
    else:
        assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")
        assert assembly.stage_settings.name == "dev" or settings(assembly).allow_tls_below_1_2


def test_fallback_instance_types_in_a_mixed_instances_policy(assembly):
    """CT.AUTOSCALING.PR.6: with fallback_instance_types the group launches instance_type first
    and the fallbacks, in order, when an AZ has no capacity; all on demand."""
    group = only(assembly, "AWS::AutoScaling::AutoScalingGroup")["Properties"]
    s = settings(assembly)
    if not s.fallback_instance_types:
        assert "MixedInstancesPolicy" not in group and "LaunchTemplate" in group
        return
    policy = group["MixedInstancesPolicy"]
    assert [o["InstanceType"] for o in policy["LaunchTemplate"]["Overrides"]] == [
        s.instance_type,
        *s.fallback_instance_types,
    ]
    assert policy["InstancesDistribution"] == {
        "OnDemandAllocationStrategy": "prioritized",
        "OnDemandBaseCapacity": 0,
        "OnDemandPercentageAboveBaseCapacity": 100,
    }
    (template_id,) = resources(assembly, "AWS::EC2::LaunchTemplate")
    spec = policy["LaunchTemplate"]["LaunchTemplateSpecification"]
    assert spec["LaunchTemplateId"] == {"Ref": template_id}


def test_instances_boot_only_after_the_efs_mount_targets_exist(assembly):
    group = only(assembly, "AWS::AutoScaling::AutoScalingGroup")
    assert set(resources(assembly, "AWS::EFS::MountTarget")) <= set(group["DependsOn"])


def test_alb_log_delivery_account_is_the_regions_own(assembly):
    """A stage with a region names ELB's account of that region; a region-agnostic synth looks
    the account up per region at deploy time (house/defaults.py)."""
    from aws_cdk.region_info import RegionInfo

    (policy,) = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in resources(assembly, "AWS::S3::BucketPolicy").values()
        if r["Metadata"]["aws:cdk:path"] == f"{APP}/AccessLogs/Policy/Resource"
    ]
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


def test_arn_and_dns_name_are_exported_under_fixed_names(assembly):
    outputs = assembly.template(APP)["Outputs"]
    alb_id = next(iter(resources(assembly, "AWS::ElasticLoadBalancingV2::LoadBalancer")))
    assert outputs["LoadBalancerDnsName"]["Value"] == {"Fn::GetAtt": [alb_id, "DNSName"]}
    assert outputs["LoadBalancerDnsName"]["Export"] == {
        "Name": f"{assembly.stack_name(APP)}-LoadBalancerDnsName"
    }
    assert outputs["LoadBalancerArn"]["Value"] == {"Ref": alb_id}
    assert outputs["LoadBalancerArn"]["Export"] == {
        "Name": f"{assembly.stack_name(APP)}-LoadBalancerArn"
    }


def test_s3_gateway_endpoint_keeps_package_downloads_off_nat(assembly):
    assembly.assertions(APP).has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Gateway",
            "ServiceName": Match.object_like({"Fn::Join": ["", Match.array_with([".s3"])]}),
        },
    )


# -- the update mirror: CloudFront's failover origin for the update paths --------------------------

MIRROR_PATH = "ReleasePublisher/Mirror/Resource"


def by_path(assembly, suffix: str) -> tuple[str, dict]:
    (found,) = [
        (lid, r)
        for lid, r in assembly.template(APP)["Resources"].items()
        if r.get("Metadata", {}).get("aws:cdk:path", "").endswith("/" + suffix)
    ]
    return found


def test_the_mirror_is_encrypted_versioned_logged_private_and_kept_where_data_is(assembly):
    """House secure_bucket for a CloudFront origin: SSE-KMS with the stack's origin key in prod
    (CT.S3.PR.10; CloudFront may decrypt, for this account's distributions), SSE-S3 in dev (no
    key billed per month); versioned, access-logged, no public access, no ACLs; kept with the
    stack in prod."""
    keep = assembly.stage_settings.keep_data
    template = assembly.template(APP)
    assert_cloudfront_origins_encrypted(template, keep, MIRROR_PATH)
    mirror_id, mirror = by_path(assembly, MIRROR_PATH)
    properties = mirror["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    logs_id, _ = by_path(assembly, "AccessLogs/Resource")
    assert properties["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    assert mirror["DeletionPolicy"] == ("Retain" if keep else "Delete")
    # Never the releases bucket: that one holds unverified uploads and no CloudFront reads it.
    releases_id, _ = by_path(assembly, "ReleasePublisher/Releases/Resource")
    assert mirror_id != releases_id
    outputs = assembly.template(APP)["Outputs"]
    assert outputs["MirrorBucketName"]["Value"] == {"Ref": mirror_id}
    assert outputs["MirrorBucketName"]["Export"] == {
        "Name": f"{assembly.stack_name(APP)}-MirrorBucketName"
    }


def bucket_statements(assembly, bucket_id: str) -> list[dict]:
    (policy,) = [
        r
        for r in resources(assembly, "AWS::S3::BucketPolicy").values()
        if r["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_cloudfront_reads_only_the_served_prefix_and_only_the_publisher_writes(assembly):
    """The distribution is in UpdateOffload, deployed later, so the policy cannot name it: it
    admits CloudFront for this account's distributions (aws:SourceArn, aws:SourceAccount), only
    s3:GetObject under updates/; every principal but the publisher's role is denied PutObject.
    Nothing admits CloudFront to the releases bucket."""
    mirror_id, _ = by_path(assembly, MIRROR_PATH)
    role_id, _ = by_path(assembly, "ReleasePublisher/FunctionRole/Resource")
    statements = bucket_statements(assembly, mirror_id)
    (read,) = [s for s in statements if s.get("Sid") == "CloudFrontReadsPublishedReleases"]
    assert read["Effect"] == "Allow"
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    assert read["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [mirror_id, "Arn"]}, "/updates/*"]]
    }
    assert {op: list(c) for op, c in read["Condition"].items()} == {
        "ArnLike": ["AWS:SourceArn"],
        "StringEquals": ["AWS:SourceAccount"],
    }
    source = read["Condition"]["ArnLike"]["AWS:SourceArn"]
    assert plain(assembly, source) == "arn:aws:cloudfront::<account>:distribution/*"
    assert read["Condition"]["StringEquals"]["AWS:SourceAccount"] == {"Ref": "AWS::AccountId"}
    (deny,) = [s for s in statements if s.get("Sid") == "OnlyThePublisherWrites"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == (
        "Deny",
        {"AWS": "*"},
        "s3:PutObject",
    )
    assert deny["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": [role_id, "Arn"]}}
    }
    releases_id, _ = by_path(assembly, "ReleasePublisher/Releases/Resource")
    assert "cloudfront" not in json.dumps(bucket_statements(assembly, releases_id))


def test_the_publisher_writes_the_mirror_with_exactly_what_it_needs(assembly):
    """s3:PutObject and s3:GetObject (HeadObject of a copy already there) on the mirror's
    updates/* only; in prod kms:GenerateDataKey on the origin key (S3 encrypting its writes),
    nothing else of the key. No other role of the stack may write the mirror."""
    template = assembly.template(APP)
    mirror_id, _ = by_path(assembly, MIRROR_PATH)
    role_id, _ = by_path(assembly, "ReleasePublisher/FunctionRole/Resource")
    mirror_arn = {"Fn::GetAtt": [mirror_id, "Arn"]}
    on_mirror = [
        s for s in statements_of(template, role_id) if json.dumps(mirror_arn) in json.dumps(s)
    ]
    assert on_mirror == [
        {
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [mirror_arn, "/updates/*"]]},
            "Sid": "WriteTheMirror",
        }
    ]
    key_id = origin_key_id(template)
    on_key = [
        s
        for s in statements_of(template, role_id)
        if key_id and json.dumps({"Fn::GetAtt": [key_id, "Arn"]}) in json.dumps(s)
    ]
    if assembly.stage_settings.keep_data:
        assert on_key == [
            {
                "Action": "kms:GenerateDataKey",
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
                "Sid": "EncryptTheMirror",
            }
        ]
    else:
        assert key_id is None and on_key == []
    writers = {
        policy
        for policy, statement in all_statements(template)
        if json.dumps(mirror_arn) in json.dumps(statement)
        and "s3:PutObject" in json.dumps(statement.get("Action"))
    }
    assert len(writers) == 1
    (policy,) = writers
    assert template["Resources"][policy]["Properties"]["Roles"] == [{"Ref": role_id}]
    function = next(
        r["Properties"]
        for r in resources(assembly, "AWS::Lambda::Function").values()
        if r["Properties"]["Role"] == {"Fn::GetAtt": [role_id, "Arn"]}
    )
    assert function["Environment"]["Variables"]["MIRROR_BUCKET"] == {"Ref": mirror_id}


def test_the_publisher_reads_the_uploads_exact_version(assembly):
    """The event names the upload's version; S3 authorizes GetObject of a VersionId as
    s3:GetObjectVersion (the wiring test shows it refused without)."""
    template = assembly.template(APP)
    releases_id, _ = by_path(assembly, "ReleasePublisher/Releases/Resource")
    role_id, _ = by_path(assembly, "ReleasePublisher/FunctionRole/Resource")
    releases_arn = json.dumps({"Fn::GetAtt": [releases_id, "Arn"]})
    (on_releases,) = [s for s in statements_of(template, role_id) if releases_arn in json.dumps(s)]
    assert on_releases["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
