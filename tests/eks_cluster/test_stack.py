"""Template assertions for every security, durability and cost property of the cluster, in dev
and prod with the shipped Auto Mode profile (`assembly` runs each test once per stage), and in
the other compute profiles where they differ (`profile`)."""

from __future__ import annotations

import json

import pytest

from house.defaults import RETENTION_DAYS
from tests.eks_cluster.conftest import STACK_ID
from tests.support.iam_statements import actions_of, statements_of
from tests.support.template import only, resources

STAGES = {
    "dev": dict(public=True, logs=["audit"], nat=1),
    "prod": dict(public=False, logs=["api", "audit", "authenticator"], nat=0),
}


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


# -- version and upgrade policy -----------------------------------------------------------------


def test_the_version_is_pinned_and_the_upgrade_policy_is_standard(assembly, template):
    """CloudFormation's default is EXTENDED, which bills extended support once the version
    ages; the L2 has no property, so the L1 must say STANDARD."""
    props = cluster_props(template)
    assert props["UpgradePolicy"] == {"SupportType": "STANDARD"}
    from tests.eks_cluster.test_settings import shipped

    assert props["Version"] == shipped(assembly.stage)["kubernetes_version"]


def test_prod_protects_the_cluster_from_deletion_dev_does_not(assembly, template):
    assert cluster_props(template)["DeletionProtection"] is (assembly.stage == "prod")


# -- access -------------------------------------------------------------------------------------


def test_authentication_is_by_access_entries_only_and_the_creator_is_no_admin(template):
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


def test_the_admin_role_is_the_one_access_entry_with_cluster_admin(template):
    ((_, entry),) = resources(template, "AWS::EKS::AccessEntry").items()
    props = entry["Properties"]
    admin = logical_id_of(template, props["PrincipalArn"])
    (trust,) = template["Resources"][admin]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    principal = json.dumps(trust["Principal"]["AWS"])  # the account: IAM decides who may assume
    assert '{"Ref": "AWS::AccountId"}' in principal and principal.endswith(':root"]]}')
    (policy,) = props["AccessPolicies"]
    assert policy["AccessScope"] == {"Type": "cluster"}
    assert json.dumps(policy["PolicyArn"]).endswith('AmazonEKSClusterAdminPolicy"]]}')
    assert statements_of(template, admin) == []  # its power is the access entry, not IAM
    outputs = template["Outputs"]
    assert logical_id_of(template, outputs["ClusterAdminRoleArn"]["Value"]) == admin
    assert "--role-arn" in json.dumps(outputs["KubeconfigCommand"]["Value"])


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


def test_the_endpoint_is_allow_listed_in_dev_and_private_in_prod(assembly, template):
    config = cluster_props(template)["ResourcesVpcConfig"]
    assert config["EndpointPrivateAccess"] is True
    if STAGES[assembly.stage]["public"]:
        assert config["EndpointPublicAccess"] is True
        assert config["PublicAccessCidrs"] == ["192.0.2.0/24"]
    else:
        assert config["EndpointPublicAccess"] is False
        assert "PublicAccessCidrs" not in config


def test_the_control_plane_and_nodes_use_private_subnets(assembly, template):
    subnets = cluster_props(template)["ResourcesVpcConfig"]["SubnetIds"]
    kind = "private" if assembly.stage == "dev" else "isolated"
    assert subnets and all(kind in s["Ref"] for s in subnets), subnets


# -- logging ------------------------------------------------------------------------------------


def test_control_plane_logs_per_stage_into_a_group_with_retention(assembly, template):
    props = cluster_props(template)
    enabled = [t["Type"] for t in props["Logging"]["ClusterLogging"]["EnabledTypes"]]
    assert enabled == STAGES[assembly.stage]["logs"]
    groups = {
        lid: g
        for lid, g in resources(template, "AWS::Logs::LogGroup").items()
        if g["Properties"].get("LogGroupName")
        == f"/aws/eks/{assembly.stack_name(STACK_ID)}/cluster"
    }
    ((group_id, group),) = groups.items()
    assert group["Properties"]["RetentionInDays"] in RETENTION_DAYS
    expected = {"dev": 14, "prod": 365}[assembly.stage]
    assert group["Properties"]["RetentionInDays"] == expected
    assert group_id in cluster(template)["DependsOn"]  # else EKS makes it, without retention
    assert group["DeletionPolicy"] == ("Retain" if assembly.stage == "prod" else "Delete")


# -- network and cost ---------------------------------------------------------------------------


def test_dev_has_one_nat_gateway_prod_none_but_interface_endpoints(assembly, template):
    nat = len(resources(template, "AWS::EC2::NatGateway"))
    assert nat == STAGES[assembly.stage]["nat"]
    endpoints = resources(template, "AWS::EC2::VPCEndpoint")
    interface = [
        e for e in endpoints.values() if e["Properties"].get("VpcEndpointType") == "Interface"
    ]
    gateway = [e for e in endpoints.values() if e["Properties"].get("VpcEndpointType") == "Gateway"]
    assert len(gateway) == 1  # S3: free, and image layers skip the NAT's per-GB charge
    if assembly.stage == "dev":
        assert interface == []
    else:
        services = sorted(
            json.dumps(e["Properties"]["ServiceName"]).split(".")[-1].rstrip('"]}')
            for e in interface
        )
        assert services == sorted(["api", "dkr", "sts", "eks", "eks-auth", "logs", "monitoring"])
        for endpoint in interface:
            assert endpoint["Properties"]["PrivateDnsEnabled"] is True


def test_interface_endpoints_admit_https_from_the_cluster_security_group_only(profile):
    template = profile("prod", "nodegroups").template(STACK_ID)
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


# -- compute: Auto Mode (the shipped profile) ---------------------------------------------------


def test_auto_mode_gets_a_minimal_node_role_and_no_access_entry_of_ours(template):
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
        assert logical_id_of(template, entry["Properties"]["PrincipalArn"]) != node_role
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


def test_auto_mode_runs_only_the_addons_it_does_not_build_in(assembly, template):
    names = set(addons(template))
    expected = {"metrics-server", "aws-efs-csi-driver"}
    if assembly.stage == "prod":
        expected.add("amazon-cloudwatch-observability")
    assert names == expected
    for _, addon in addons(template).values():
        assert addon["Properties"]["ResolveConflicts"] == "OVERWRITE"


def test_container_insights_runs_with_its_own_pod_identity_role_in_prod(assembly, template):
    associations = resources(template, "AWS::EKS::PodIdentityAssociation")
    if assembly.stage == "dev":
        assert associations == {}
        return
    ((association_id, association),) = associations.items()
    props = association["Properties"]
    assert (props["Namespace"], props["ServiceAccount"]) == (
        "amazon-cloudwatch",
        "cloudwatch-agent",
    )
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
    addon_id, addon = addons(template)["amazon-cloudwatch-observability"]
    assert association_id in addon["DependsOn"]  # credentials exist before its pods start


# -- storage ------------------------------------------------------------------------------------


def test_efs_is_encrypted_tls_only_and_reached_from_the_cluster_security_group(assembly, template):
    ((fs_id, fs),) = resources(template, "AWS::EFS::FileSystem").items()
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
    assert fs["DeletionPolicy"] == ("Retain" if assembly.stage == "prod" else "Delete")
    ((_, point),) = resources(template, "AWS::EFS::AccessPoint").items()
    assert point["Properties"]["PosixUser"] == {"Gid": "1000", "Uid": "1000"}
    assert point["Properties"]["RootDirectory"]["Path"] == "/shared"
    ingress = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"].get("FromPort") == 2049
    ]
    (nfs,) = ingress
    assert nfs["SourceSecurityGroupId"] == {
        "Fn::GetAtt": [only(template, "AWS::EKS::Cluster")[0], "ClusterSecurityGroupId"]
    }


def test_the_storage_manifest_output_is_kubectl_ready_json(assembly, template):
    value = template["Outputs"]["StorageManifest"]["Value"]["Fn::Join"]
    text = "".join(part if isinstance(part, str) else "FS::AP" for part in value[1])
    manifest = json.loads(text)
    assert manifest["kind"] == "List"
    kinds = [(i["kind"], i["metadata"]["name"]) for i in manifest["items"]]
    assert kinds == [
        ("StorageClass", "ebs-gp3"),
        ("StorageClass", "efs"),
        ("PersistentVolume", "shared-files"),
        ("PersistentVolumeClaim", "shared-files"),
    ]
    ebs = manifest["items"][0]
    assert ebs["provisioner"] == "ebs.csi.eks.amazonaws.com"  # Auto Mode's own driver
    assert ebs["parameters"] == {"type": "gp3", "encrypted": "true"}
    volume = manifest["items"][2]["spec"]["csi"]
    assert volume["volumeHandle"] == "FS::AP"
    assert volume["volumeAttributes"] == {"encryptInTransit": "true"}
    assert "kubectl apply -f -" in json.dumps(template["Outputs"]["ApplyStorageCommand"])


# -- the other compute profiles ----------------------------------------------------------------


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_node_groups_on_demand_graviton_and_spot_of_several_types(profile, stage):
    template = profile(stage, "nodegroups").template(STACK_ID)
    groups = {
        r["Properties"]["CapacityType"]: r["Properties"]
        for r in resources(template, "AWS::EKS::Nodegroup").values()
    }
    assert set(groups) == {"ON_DEMAND", "SPOT"}
    on_demand, spot = groups["ON_DEMAND"], groups["SPOT"]
    assert len(on_demand["InstanceTypes"]) == 1 and "g." in on_demand["InstanceTypes"][0]
    assert len(spot["InstanceTypes"]) >= 2
    ami = "BOTTLEROCKET_ARM_64" if stage == "prod" else "AL2023_ARM_64_STANDARD"
    assert on_demand["AmiType"] == spot["AmiType"] == ami
    assert on_demand["ScalingConfig"]["MinSize"] >= 1 and spot["ScalingConfig"]["MinSize"] == 0
    for group in (on_demand, spot):
        assert group["ForceUpdateEnabled"] is False  # node updates respect PDBs
        assert group["NodeRepairConfig"] == {"Enabled": True}
        assert "ReleaseVersion" not in group  # EKS picks the AMI release: no lookup at synth


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_node_group_launch_template_imdsv2_hop_limit_1_encrypted_disk(profile, stage):
    template = profile(stage, "nodegroups").template(STACK_ID)
    ((_, launch_template),) = resources(template, "AWS::EC2::LaunchTemplate").items()
    data = launch_template["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"] == {
        "HttpEndpoint": "enabled",
        "HttpPutResponseHopLimit": 1,
        "HttpTokens": "required",
    }
    (device,) = data["BlockDeviceMappings"]
    assert device["DeviceName"] == ("/dev/xvdb" if stage == "prod" else "/dev/xvda")
    assert device["Ebs"]["Encrypted"] is True and device["Ebs"]["VolumeType"] == "gp3"
    # Managed node groups refuse a launch template with an instance profile or an AMI of ours.
    assert "IamInstanceProfile" not in data and "ImageId" not in data and "UserData" not in data


def test_node_role_holds_exactly_the_managed_policies_eks_requires(profile):
    template = profile("dev", "nodegroups").template(STACK_ID)
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
    assert len(resources(template, "AWS::EKS::AccessEntry")) == 1  # the admin role's only


def test_node_groups_follow_their_networking_addons_and_precede_the_rest(profile):
    template = profile("dev", "nodegroups").template(STACK_ID)
    found = addons(template)
    assert set(found) == {
        "vpc-cni",
        "kube-proxy",
        "eks-pod-identity-agent",
        "coredns",
        "aws-ebs-csi-driver",
        "metrics-server",
        "aws-efs-csi-driver",
    }
    groups = list(resources(template, "AWS::EKS::Nodegroup"))
    for group in groups:
        depends = template["Resources"][group]["DependsOn"]
        for first in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
            assert found[first][0] in depends
        assert any("DefaultRoute" in d or "NATGateway" in d or "Nat" in d for d in depends), depends
    for later in ("coredns", "aws-ebs-csi-driver", "metrics-server", "aws-efs-csi-driver"):
        assert set(groups) <= set(found[later][1]["DependsOn"]), later
    ((_, ebs_identity),) = resources(template, "AWS::EKS::PodIdentityAssociation").items()
    assert ebs_identity["Properties"]["ServiceAccount"] == "ebs-csi-controller-sa"
    assert cluster_props(template)["ComputeConfig"] == {"Enabled": False}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_fargate_profiles_per_namespace_and_coredns_on_fargate(profile, stage):
    template = profile(stage, "fargate").template(STACK_ID)
    profiles = resources(template, "AWS::EKS::FargateProfile")
    namespaces = sorted(p["Properties"]["Selectors"][0]["Namespace"] for p in profiles.values())
    assert namespaces == sorted(["kube-system", "default"] + (["apps"] if stage == "prod" else []))
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
    manifest = json.dumps(template["Outputs"]["StorageManifest"])
    assert "ebs" not in manifest  # Fargate pods mount no EBS volumes
    assert resources(template, "AWS::EKS::PodIdentityAssociation") == {}  # not on Fargate
