"""Template assertions for every security, durability and cost property of the cluster: in the
shipped profile of each stage (`assembly` runs a test once per stage), and in every compute
profile of both stages where the property depends on the profile (`every_profile`, `profile`).
Expected values come from the settings each stack was built with, never from cdk.json."""

from __future__ import annotations

import json

import pytest

from house.types import is_graviton
from tests.eks_cluster.conftest import STACK_ID
from tests.support.iam_statements import actions_of, statements_of
from tests.support.template import only, resources


def cluster(template: dict) -> dict:
    return only(template, "AWS::EKS::Cluster")[1]


def cluster_props(template: dict) -> dict:
    return cluster(template)["Properties"]


def logical_id_of(template: dict, value: dict) -> str:
    """The logical id a Ref / GetAtt points at."""
    if "Ref" in value:
        return value["Ref"]
    return value["Fn::GetAtt"][0]


def managed_policies(template: dict, role_id: str) -> set[str]:
    found = set()
    for arn in template["Resources"][role_id]["Properties"].get("ManagedPolicyArns", []):
        text = json.dumps(arn)
        found.add(text.split(":policy/")[1].rstrip('"]}').strip())
    return found


def addons(template: dict) -> dict[str, tuple[str, dict]]:
    return {
        r["Properties"]["AddonName"]: (logical_id, r)
        for logical_id, r in resources(template, "AWS::EKS::Addon").items()
    }


def built(found) -> tuple:
    """(assembly, settings, template) of a `profile`/`every_profile` result."""
    assembly, instance, stack_id = found
    return assembly, assembly.settings(instance), assembly.template(stack_id)


# -- version and upgrade policy -----------------------------------------------------------------


def test_the_version_is_pinned_and_the_upgrade_policy_is_standard(every_profile):
    """CloudFormation's default is EXTENDED, which bills extended support once the version
    ages; the L2 has no property, so the L1 must say STANDARD."""
    _, settings, template = built(every_profile)
    props = cluster_props(template)
    assert props["UpgradePolicy"] == {"SupportType": "STANDARD"}
    assert props["Version"] == settings.kubernetes_version


def test_a_stage_that_keeps_data_protects_the_cluster_from_deletion(assembly, template):
    assert cluster_props(template)["DeletionProtection"] is assembly.stage_settings.keep_data


# -- access -------------------------------------------------------------------------------------


def test_authentication_is_by_access_entries_only_and_the_creator_is_no_admin(every_profile):
    _, _, template = built(every_profile)
    props = cluster_props(template)
    assert props["AccessConfig"] == {
        "AuthenticationMode": "API",
        "BootstrapClusterCreatorAdminPermissions": False,
    }
    # No aws-auth ConfigMap, nor anything else applied with kubectl (no kubectl Lambda).
    types = {r["Type"] for r in template["Resources"].values()}
    assert not {t for t in types if t.startswith("Custom::AWSCDK-EKS")}
    functions = resources(template, "AWS::Lambda::Function")
    assert all("RestrictDefaultSG" in lid for lid in functions), list(functions)


def test_the_admin_role_and_each_admin_principal_get_cluster_admin_entries(every_profile):
    _, settings, template = built(every_profile)
    entries = [e["Properties"] for e in resources(template, "AWS::EKS::AccessEntry").values()]
    assert len(entries) == 1 + len(settings.admin_principal_arns)  # none for nodes or Fargate
    (props,) = [e for e in entries if isinstance(e["PrincipalArn"], dict)]
    admin = logical_id_of(template, props["PrincipalArn"])
    (trust,) = template["Resources"][admin]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    principal = json.dumps(trust["Principal"]["AWS"])  # the account: IAM decides who may assume
    assert '{"Ref": "AWS::AccountId"}' in principal and principal.endswith(':root"]]}')
    assert statements_of(template, admin) == []  # its power is the access entry, not IAM
    outputs = template["Outputs"]
    assert logical_id_of(template, outputs["ClusterAdminRoleArn"]["Value"]) == admin
    assert "--role-arn" in json.dumps(outputs["KubeconfigCommand"]["Value"])
    mine = {e["PrincipalArn"]: e for e in entries if isinstance(e["PrincipalArn"], str)}
    assert set(mine) == set(settings.admin_principal_arns)
    for entry in [props, *mine.values()]:
        (policy,) = entry["AccessPolicies"]
        assert policy["AccessScope"] == {"Type": "cluster"}
        assert json.dumps(policy["PolicyArn"]).endswith('AmazonEKSClusterAdminPolicy"]]}')


def test_some_profile_gives_an_admin_principal_its_entry(profile):
    """The check above has something to check."""
    assert any(
        profile(stage, compute)[0].settings(profile(stage, compute)[1]).admin_principal_arns
        for stage in ("dev", "prod")
        for compute in ("automode", "nodegroups", "fargate")
    )


# -- encryption ---------------------------------------------------------------------------------


def test_secrets_are_envelope_encrypted_with_a_rotated_key_the_role_may_use_first(template):
    props = cluster_props(template)
    ((config),) = props["EncryptionConfig"]
    assert config["Resources"] == ["secrets"]
    key_id = logical_id_of(template, config["Provider"]["KeyArn"])
    key = template["Resources"][key_id]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    role_id = logical_id_of(template, props["RoleArn"])
    granted = [
        s
        for s in statements_of(template, role_id)
        if s["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
    ]
    assert {"kms:Encrypt", "kms:Decrypt", "kms:CreateGrant"} <= actions_of(granted)
    policies = [
        lid
        for lid, p in resources(template, "AWS::IAM::Policy").items()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    assert set(policies) <= set(cluster(template)["DependsOn"])


# -- endpoint -----------------------------------------------------------------------------------


def test_the_endpoint_is_private_or_public_for_the_allow_list_only(settings, template):
    config = cluster_props(template)["ResourcesVpcConfig"]
    assert config["EndpointPrivateAccess"] is True
    if settings.endpoint_access == "public_and_private":
        assert config["EndpointPublicAccess"] is True
        assert config["PublicAccessCidrs"] == list(settings.public_access_cidrs)
        assert "0.0.0.0/0" not in config["PublicAccessCidrs"]
    else:
        assert config["EndpointPublicAccess"] is False
        assert "PublicAccessCidrs" not in config


def test_the_control_plane_and_nodes_use_the_node_subnets(every_profile):
    _, settings, template = built(every_profile)
    subnets = cluster_props(template)["ResourcesVpcConfig"]["SubnetIds"]
    kind = "private" if settings.nat_gateways else "isolated"
    assert subnets and all(kind in s["Ref"] for s in subnets), subnets
    for group in resources(template, "AWS::EKS::Nodegroup").values():
        assert all(kind in s["Ref"] for s in group["Properties"]["Subnets"])
    for fargate in resources(template, "AWS::EKS::FargateProfile").values():
        assert all(kind in s["Ref"] for s in fargate["Properties"]["Subnets"])


# -- logging ------------------------------------------------------------------------------------


def test_control_plane_logs_go_to_a_group_with_the_stages_retention(assembly, settings, template):
    props = cluster_props(template)
    enabled = [t["Type"] for t in props["Logging"]["ClusterLogging"]["EnabledTypes"]]
    assert enabled == list(settings.control_plane_logs)
    groups = {
        lid: g
        for lid, g in resources(template, "AWS::Logs::LogGroup").items()
        if g["Properties"].get("LogGroupName")
        == f"/aws/eks/{assembly.stack_name(STACK_ID)}/cluster"
    }
    ((group_id, group),) = groups.items()
    stage = assembly.stage_settings
    assert group["Properties"]["RetentionInDays"] == stage.log_retention_days
    assert group_id in cluster(template)["DependsOn"]  # else EKS makes it, without retention
    assert group["DeletionPolicy"] == ("Retain" if stage.keep_data else "Delete")


# -- network and cost ---------------------------------------------------------------------------


def endpoint_services(template: dict) -> list[str]:
    """The short service names of the interface endpoints: api, dkr, sts, eks, ..."""
    return sorted(
        json.dumps(e["Properties"]["ServiceName"]).split(".")[-1].rstrip('"]}')
        for e in resources(template, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Interface"
    )


def test_nat_gateways_and_interface_endpoints_are_what_the_settings_ask(every_profile):
    _, settings, template = built(every_profile)
    assert len(resources(template, "AWS::EC2::NatGateway")) == settings.nat_gateways
    gateway = [
        e
        for e in resources(template, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"].get("VpcEndpointType") == "Gateway"
    ]
    assert len(gateway) == 1  # S3: free, and image layers skip the NAT's per-GB charge
    services = endpoint_services(template)
    if not settings.interface_endpoints:
        assert services == []
        return
    expected = ["api", "dkr", "sts", "eks"]  # ECR API, ECR layers, pods' credentials, bootstrap
    if settings.compute != "fargate":
        expected.append("eks-auth")  # Pod Identity (not on Fargate)
    if settings.compute == "nodegroups":
        expected.append("ec2")  # the VPC CNI assigns pod addresses
    if settings.container_insights:
        expected += ["logs", "monitoring"]
    assert services == sorted(expected)
    for endpoint in resources(template, "AWS::EC2::VPCEndpoint").values():
        if endpoint["Properties"].get("VpcEndpointType") == "Interface":
            assert endpoint["Properties"]["PrivateDnsEnabled"] is True


def test_interface_endpoints_admit_https_from_the_cluster_security_group_only(profile):
    _, _, template = built(profile("prod", "nodegroups"))
    groups = resources(template, "AWS::EC2::SecurityGroup")
    (endpoint_group_id,) = [g for g in groups if g.startswith("Endpoints")]
    assert (
        groups[endpoint_group_id]["Properties"]["SecurityGroupEgress"][0]["CidrIp"]
        == "255.255.255.255/32"
    )
    ingress = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [endpoint_group_id, "GroupId"]}
    ]
    assert ingress == [
        {
            "Description": "HTTPS to AWS APIs from the cluster",
            "FromPort": 443,
            "GroupId": {"Fn::GetAtt": [endpoint_group_id, "GroupId"]},
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": {
                "Fn::GetAtt": [only(template, "AWS::EKS::Cluster")[0], "ClusterSecurityGroupId"]
            },
            "ToPort": 443,
        }
    ]


def test_vpc_has_flow_logs(template):
    assert len(resources(template, "AWS::EC2::FlowLog")) == 1


# -- compute: Auto Mode -------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_auto_mode_gets_a_minimal_node_role_and_no_access_entry_of_ours(profile, stage):
    _, _, template = built(profile(stage, "automode"))
    props = cluster_props(template)
    compute = props["ComputeConfig"]
    assert compute["Enabled"] is True
    assert compute["NodePools"] == ["system", "general-purpose"]
    assert props["StorageConfig"] == {"BlockStorage": {"Enabled": True}}
    assert props["KubernetesNetworkConfig"]["ElasticLoadBalancing"] == {"Enabled": True}
    assert props["BootstrapSelfManagedAddons"] is False
    node_role = logical_id_of(template, compute["NodeRoleArn"])
    assert managed_policies(template, node_role) == {
        "AmazonEKSWorkerNodeMinimalPolicy",
        "AmazonEC2ContainerRegistryPullOnly",
    }
    assert statements_of(template, node_role) == []
    # EKS creates the node role's EC2 access entry itself; declaring it fails the deploy.
    for entry in resources(template, "AWS::EKS::AccessEntry").values():
        assert entry["Properties"]["PrincipalArn"] != {"Fn::GetAtt": [node_role, "Arn"]}
    cluster_role = logical_id_of(template, props["RoleArn"])
    assert managed_policies(template, cluster_role) == {
        "AmazonEKSClusterPolicy",
        "AmazonEKSComputePolicy",
        "AmazonEKSBlockStoragePolicy",
        "AmazonEKSLoadBalancingPolicy",
        "AmazonEKSNetworkingPolicy",
    }
    trust = template["Resources"][cluster_role]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Action"] == ["sts:AssumeRole", "sts:TagSession"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_auto_mode_runs_only_the_addons_it_does_not_build_in(profile, stage):
    _, settings, template = built(profile(stage, "automode"))
    expected = {"metrics-server"}
    if settings.efs:
        expected.add("aws-efs-csi-driver")
    if settings.container_insights:
        expected.add("amazon-cloudwatch-observability")
    assert set(addons(template)) == expected
    for _, addon in addons(template).values():
        assert addon["Properties"]["ResolveConflicts"] == "OVERWRITE"


def test_container_insights_runs_with_its_own_pod_identity_role(every_profile):
    _, settings, template = built(every_profile)
    associations = {
        lid: a
        for lid, a in resources(template, "AWS::EKS::PodIdentityAssociation").items()
        if a["Properties"]["Namespace"] == "amazon-cloudwatch"
    }
    if not settings.container_insights:
        assert associations == {}
        assert "amazon-cloudwatch-observability" not in addons(template)
        return
    ((association_id, association),) = associations.items()
    props = association["Properties"]
    assert props["ServiceAccount"] == "cloudwatch-agent"
    role = logical_id_of(template, props["RoleArn"])
    assert managed_policies(template, role) == {"CloudWatchAgentServerPolicy"}
    trust = template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
        }
    ]
    _, addon = addons(template)["amazon-cloudwatch-observability"]
    assert association_id in addon["DependsOn"]  # credentials exist before its pods start


# -- storage ------------------------------------------------------------------------------------


def test_efs_is_encrypted_tls_only_and_reached_from_the_cluster_security_group(
    assembly, settings, template
):
    file_systems = resources(template, "AWS::EFS::FileSystem")
    if not settings.efs:
        assert file_systems == {}
        return
    ((_, fs),) = file_systems.items()
    props = fs["Properties"]
    assert props["Encrypted"] is True
    statements = props["FileSystemPolicy"]["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert deny == [
        {
            "Action": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Sid": "DenyUnencryptedTransport",
        }
    ]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Condition"] == {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}}
    assert "elasticfilesystem:ClientRootAccess" not in allow["Action"]
    keep = assembly.stage_settings.keep_data
    assert fs["DeletionPolicy"] == ("Retain" if keep else "Delete")
    backups = props.get("BackupPolicy", {}).get("Status", "DISABLED")
    assert backups == ("ENABLED" if keep else "DISABLED")
    ((_, point),) = resources(template, "AWS::EFS::AccessPoint").items()
    assert point["Properties"]["PosixUser"] == {"Gid": "1000", "Uid": "1000"}
    assert point["Properties"]["RootDirectory"]["Path"] == "/shared"
    (nfs,) = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"].get("FromPort") == 2049
    ]
    assert nfs["SourceSecurityGroupId"] == {
        "Fn::GetAtt": [only(template, "AWS::EKS::Cluster")[0], "ClusterSecurityGroupId"]
    }


# The EBS provisioner of each profile's default StorageClass: Auto Mode's own driver, the EBS
# CSI add-on's, none on Fargate (Fargate pods mount no EBS volumes).
EBS_PROVISIONER = {
    "automode": "ebs.csi.eks.amazonaws.com",
    "nodegroups": "ebs.csi.aws.com",
    "fargate": None,
}


def test_the_storage_manifest_output_is_kubectl_ready_json(every_profile):
    _, settings, template = built(every_profile)
    value = template["Outputs"]["StorageManifest"]["Value"]["Fn::Join"]
    text = "".join(part if isinstance(part, str) else "FS::AP" for part in value[1])
    manifest = json.loads(text)
    assert manifest["kind"] == "List"
    kinds = [(i["kind"], i["metadata"]["name"]) for i in manifest["items"]]
    provisioner = EBS_PROVISIONER[settings.compute]
    expected = [("StorageClass", "ebs-gp3")] if provisioner else []
    if settings.efs:
        expected += [
            ("StorageClass", "efs"),
            ("PersistentVolume", "shared-files"),
            ("PersistentVolumeClaim", "shared-files"),
        ]
    assert kinds == expected
    if provisioner:
        ebs = manifest["items"][0]
        assert ebs["provisioner"] == provisioner
        assert ebs["parameters"] == {"type": "gp3", "encrypted": "true"}
    if settings.efs:
        volume = manifest["items"][-2]["spec"]["csi"]
        assert volume["volumeHandle"] == "FS::AP"
        assert volume["volumeAttributes"] == {"encryptInTransit": "true"}
    assert "kubectl apply -f -" in json.dumps(template["Outputs"]["ApplyStorageCommand"])


# -- compute: managed node groups ---------------------------------------------------------------


def node_groups(template: dict) -> dict[str, dict]:
    return {
        r["Properties"]["CapacityType"]: r["Properties"]
        for r in resources(template, "AWS::EKS::Nodegroup").values()
    }


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_node_groups_on_demand_graviton_and_spot_of_several_types(profile, stage):
    _, settings, template = built(profile(stage, "nodegroups"))
    groups = node_groups(template)
    assert set(groups) == {"ON_DEMAND", "SPOT"}
    on_demand, spot = groups["ON_DEMAND"], groups["SPOT"]
    assert on_demand["InstanceTypes"] == [settings.on_demand_instance_type]
    assert spot["InstanceTypes"] == list(settings.spot_instance_types)
    arm = {"al2023": "AL2023_ARM_64_STANDARD", "bottlerocket": "BOTTLEROCKET_ARM_64"}
    x86 = {"al2023": "AL2023_x86_64_STANDARD", "bottlerocket": "BOTTLEROCKET_x86_64"}
    assert on_demand["AmiType"] == arm[settings.node_os]  # the On-Demand group is Graviton
    spot_ami = arm if is_graviton(settings.spot_instance_types[0]) else x86
    assert spot["AmiType"] == spot_ami[settings.node_os]
    assert on_demand["ScalingConfig"] == {
        "DesiredSize": settings.on_demand_nodes,
        "MinSize": settings.on_demand_nodes,
        "MaxSize": settings.on_demand_max_nodes,
    }
    assert spot["ScalingConfig"] == {
        "DesiredSize": settings.spot_nodes,
        "MinSize": 0,
        "MaxSize": settings.spot_max_nodes,
    }
    for group in (on_demand, spot):
        assert group["ForceUpdateEnabled"] is False  # node updates respect PDBs
        assert group["NodeRepairConfig"] == {"Enabled": True}
        assert "ReleaseVersion" not in group  # EKS picks the AMI release: no lookup at synth


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_node_group_launch_template_imdsv2_hop_limit_1_encrypted_disk_metrics(profile, stage):
    _, settings, template = built(profile(stage, "nodegroups"))
    ((_, launch_template),) = resources(template, "AWS::EC2::LaunchTemplate").items()
    data = launch_template["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"] == {
        "HttpEndpoint": "enabled",
        "HttpPutResponseHopLimit": 1,
        "HttpTokens": "required",
    }
    assert data["Monitoring"] == {"Enabled": True}  # CT.EC2.PR.10
    (device,) = data["BlockDeviceMappings"]
    data_device = {"al2023": "/dev/xvda", "bottlerocket": "/dev/xvdb"}[settings.node_os]
    assert device["DeviceName"] == data_device
    assert device["Ebs"] == {
        "Encrypted": True,
        "VolumeSize": settings.node_disk_gib,
        "VolumeType": "gp3",
    }
    # Managed node groups refuse a launch template with an instance profile or an AMI of ours.
    assert "IamInstanceProfile" not in data and "ImageId" not in data and "UserData" not in data


def test_node_role_holds_exactly_the_managed_policies_eks_requires(profile):
    _, settings, template = built(profile("dev", "nodegroups"))
    roles = {
        logical_id_of(template, r["Properties"]["NodeRole"])
        for r in resources(template, "AWS::EKS::Nodegroup").values()
    }
    (role,) = roles
    assert managed_policies(template, role) == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryPullOnly",
    }
    assert statements_of(template, role) == []  # no wildcard of ours beyond those
    entries = resources(template, "AWS::EKS::AccessEntry")
    assert len(entries) == 1 + len(settings.admin_principal_arns)  # no entry for the nodes


def test_node_groups_follow_their_networking_addons_and_precede_the_rest(profile):
    _, settings, template = built(profile("dev", "nodegroups"))
    found = addons(template)
    expected = {
        "vpc-cni",
        "kube-proxy",
        "eks-pod-identity-agent",
        "coredns",
        "aws-ebs-csi-driver",
        "metrics-server",
    }
    if settings.efs:
        expected.add("aws-efs-csi-driver")
    assert set(found) == expected
    groups = list(resources(template, "AWS::EKS::Nodegroup"))
    for group in groups:
        depends = template["Resources"][group]["DependsOn"]
        for first in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
            assert found[first][0] in depends
    for later in expected - {"vpc-cni", "kube-proxy", "eks-pod-identity-agent"}:
        assert set(groups) <= set(found[later][1]["DependsOn"]), later
    ((_, ebs_identity),) = resources(template, "AWS::EKS::PodIdentityAssociation").items()
    assert ebs_identity["Properties"]["ServiceAccount"] == "ebs-csi-controller-sa"
    assert cluster_props(template)["ComputeConfig"] == {"Enabled": False}


# -- compute: Fargate ---------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_fargate_profiles_per_namespace_and_coredns_on_fargate(profile, stage):
    _, settings, template = built(profile(stage, "fargate"))
    profiles = resources(template, "AWS::EKS::FargateProfile")
    namespaces = sorted(p["Properties"]["Selectors"][0]["Namespace"] for p in profiles.values())
    assert namespaces == sorted(["kube-system", *settings.fargate_namespaces])
    (role,) = {
        logical_id_of(template, p["Properties"]["PodExecutionRoleArn"]) for p in profiles.values()
    }
    assert managed_policies(template, role) == {"AmazonEKSFargatePodExecutionRolePolicy"}
    trust = template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "eks-fargate-pods.amazonaws.com"}
    assert ":fargateprofile/" in json.dumps(trust["Condition"]["ArnLike"]["aws:SourceArn"])
    found = addons(template)
    assert set(found) == {"coredns", "metrics-server"}  # Fargate runs the EFS driver itself
    assert json.loads(found["coredns"][1]["Properties"]["ConfigurationValues"]) == {
        "computeType": "Fargate"
    }
    kube_system = [
        lid
        for lid, p in profiles.items()
        if p["Properties"]["Selectors"][0]["Namespace"] == "kube-system"
    ]
    assert set(kube_system) <= set(found["coredns"][1]["DependsOn"])
    assert resources(template, "AWS::EKS::PodIdentityAssociation") == {}  # not on Fargate
