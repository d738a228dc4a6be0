"""EksCluster smoke (and `EksCluster<Region>` for each extra region): the deployed cluster is
what its template says, read back through the EKS API. Plain AWS API calls, nothing created,
nothing to clean up; it never talks to the Kubernetes API (prod's endpoint is private).

- `cluster`: ACTIVE, at the template's Kubernetes version, with the template's upgrade policy
  (STANDARD), access entries as the only authentication, secrets envelope-encrypted, the
  template's control-plane log types, and its endpoint access (private, or public for exactly
  the template's CIDRs).
- `compute`: Auto Mode enabled with its node role; or every managed node group ACTIVE; or every
  Fargate profile ACTIVE.
- `access-entries` (eks-control-plane): the admin role's entry holds
  AmazonEKSClusterAdminPolicy; with Auto Mode, the EC2 entry EKS made for the node role exists.
- `addons` (eks-control-plane): every add-on of the template is installed and ACTIVE.
- `pod-identity` (eks-control-plane): every Pod Identity association of the template exists.
- `shared-files`: the EFS file system is encrypted and available, its policy denies
  non-TLS access, and the access point exists on it.
"""

from __future__ import annotations

import json

from deployment.smoke_support import Smoke, StepFailed, resource_properties

CONTROL_PLANE = {
    "eks-control-plane": "access entries, add-ons and Pod Identity associations of a real EKS"
}
ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"


def _template_cluster(smoke: Smoke) -> dict:
    clusters = list(resource_properties(smoke.template, "AWS::EKS::Cluster"))
    return clusters[0] if clusters else {}


def _names(template_values, key: str) -> set[str]:
    return {p.get(key) for p in template_values if isinstance(p.get(key), str)}


def smoke(smoke: Smoke) -> None:
    expected = _template_cluster(smoke)
    found: dict = {}

    def eks():
        return smoke.client("eks")

    def cluster() -> str:
        name = smoke.output("ClusterName")
        described = eks().describe_cluster(name=name)["cluster"]
        found.update(described)
        problems = []
        if described.get("status") != "ACTIVE":
            problems.append(f"status {described.get('status')}, not ACTIVE")
        version = expected.get("Version")
        if isinstance(version, str) and described.get("version") != version:
            problems.append(f"version {described.get('version')}, the template says {version}")
        support = (expected.get("UpgradePolicy") or {}).get("SupportType")
        actual = (described.get("upgradePolicy") or {}).get("supportType")
        if support and actual != support:
            problems.append(f"upgrade policy {actual}, the template says {support}")
        mode = (described.get("accessConfig") or {}).get("authenticationMode")
        if mode != "API":
            problems.append(f"authentication mode {mode}, not API (access entries only)")
        if expected.get("EncryptionConfig") and not any(
            "secrets" in config.get("resources", [])
            for config in described.get("encryptionConfig") or []
        ):
            problems.append("secrets are not envelope-encrypted")
        wanted_logs = {
            t.get("Type")
            for t in ((expected.get("Logging") or {}).get("ClusterLogging") or {}).get(
                "EnabledTypes", []
            )
        }
        enabled = {
            log_type
            for setup in (described.get("logging") or {}).get("clusterLogging", [])
            if setup.get("enabled")
            for log_type in setup.get("types", [])
        }
        if wanted_logs and enabled != wanted_logs:
            problems.append(f"control-plane logs {sorted(enabled)}, not {sorted(wanted_logs)}")
        config = expected.get("ResourcesVpcConfig") or {}
        network = described.get("resourcesVpcConfig") or {}
        public = bool(config.get("EndpointPublicAccess"))
        if bool(network.get("endpointPublicAccess")) != public:
            problems.append(
                f"public endpoint {'off' if public else 'on'}, the template says "
                f"{'on' if public else 'off'}"
            )
        if public and sorted(network.get("publicAccessCidrs") or []) != sorted(
            config.get("PublicAccessCidrs") or []
        ):
            problems.append(
                f"public endpoint open to {network.get('publicAccessCidrs')}, not "
                f"{config.get('PublicAccessCidrs')}"
            )
        if problems:
            raise StepFailed(f"cluster {name}: " + "; ".join(problems))
        endpoint = (
            "public for " + ", ".join(network.get("publicAccessCidrs") or [])
            if public
            else "private"
        )
        return (
            f"{name} ACTIVE, Kubernetes {described.get('version')}, upgrade policy "
            f"{actual}, access entries only, endpoint {endpoint}"
        )

    def compute() -> str:
        name = smoke.output("ClusterName")
        if (expected.get("ComputeConfig") or {}).get("Enabled"):
            config = found.get("computeConfig") or {}
            if not config.get("enabled") or not config.get("nodeRoleArn"):
                raise StepFailed(f"Auto Mode is not enabled on {name} with a node role: {config}")
            return f"Auto Mode, node pools {', '.join(config.get('nodePools', []))}"
        groups = eks().list_nodegroups(clusterName=name).get("nodegroups", [])
        profiles = eks().list_fargate_profiles(clusterName=name).get("fargateProfileNames", [])
        wanted_groups = len(list(resource_properties(smoke.template, "AWS::EKS::Nodegroup")))
        wanted_profiles = len(list(resource_properties(smoke.template, "AWS::EKS::FargateProfile")))
        if len(groups) != wanted_groups or len(profiles) != wanted_profiles:
            raise StepFailed(
                f"{name} has {len(groups)} node group(s) and {len(profiles)} Fargate "
                f"profile(s); the template declares {wanted_groups} and {wanted_profiles}"
            )
        states = {
            group: eks().describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"][
                "status"
            ]
            for group in groups
        }
        states |= {
            profile: eks().describe_fargate_profile(clusterName=name, fargateProfileName=profile)[
                "fargateProfile"
            ]["status"]
            for profile in profiles
        }
        bad = {k: v for k, v in states.items() if v != "ACTIVE"}
        if bad:
            raise StepFailed(f"not ACTIVE: {bad}")
        return f"{len(groups)} node group(s), {len(profiles)} Fargate profile(s), all ACTIVE"

    def access_entries() -> str:
        name = smoke.output("ClusterName")
        admin = smoke.output("ClusterAdminRoleArn")
        entries = set(eks().list_access_entries(clusterName=name).get("accessEntries", []))
        if admin not in entries:
            raise StepFailed(f"no access entry for ClusterAdminRoleArn {admin}")
        policies = eks().list_associated_access_policies(clusterName=name, principalArn=admin)
        arns = [p.get("policyArn", "") for p in policies.get("associatedAccessPolicies", [])]
        if not any(arn.endswith(f"/{ADMIN_POLICY}") for arn in arns):
            raise StepFailed(f"the admin role's entry holds {arns}, not {ADMIN_POLICY}")
        node_role = (found.get("computeConfig") or {}).get("nodeRoleArn")
        detail = f"{len(entries)} access entries; the admin role holds {ADMIN_POLICY}"
        if node_role:
            entry = eks().describe_access_entry(clusterName=name, principalArn=node_role)
            kind = entry["accessEntry"].get("type")
            if kind != "EC2":
                raise StepFailed(f"the Auto Mode node role's entry is {kind}, not EC2")
            detail += "; the Auto Mode node role has its EC2 entry"
        return detail

    def addons() -> str:
        name = smoke.output("ClusterName")
        wanted = _names(resource_properties(smoke.template, "AWS::EKS::Addon"), "AddonName")
        installed = set(eks().list_addons(clusterName=name).get("addons", []))
        missing = sorted(wanted - installed)
        if missing:
            raise StepFailed(f"add-ons missing: {', '.join(missing)}")
        states = {
            addon: eks().describe_addon(clusterName=name, addonName=addon)["addon"]["status"]
            for addon in sorted(wanted)
        }
        bad = {k: v for k, v in states.items() if v != "ACTIVE"}
        if bad:
            raise StepFailed(f"add-ons not ACTIVE: {bad}")
        return f"{len(states)} add-on(s) ACTIVE: {', '.join(states)}"

    def pod_identity() -> str:
        name = smoke.output("ClusterName")
        wanted = {
            (p.get("Namespace"), p.get("ServiceAccount"))
            for p in resource_properties(smoke.template, "AWS::EKS::PodIdentityAssociation")
        }
        have = {
            (a.get("namespace"), a.get("serviceAccount"))
            for a in eks().list_pod_identity_associations(clusterName=name).get("associations", [])
        }
        missing = sorted(f"{ns}/{sa}" for ns, sa in wanted - have)
        if missing:
            raise StepFailed(f"no Pod Identity association for {', '.join(missing)}")
        return f"{len(wanted)} Pod Identity association(s) in place"

    def shared_files() -> str:
        efs = smoke.client("efs")
        file_system_id = smoke.output("FileSystemId")
        (fs,) = efs.describe_file_systems(FileSystemId=file_system_id)["FileSystems"]
        if not fs.get("Encrypted") or fs.get("LifeCycleState") != "available":
            raise StepFailed(
                f"{file_system_id}: encrypted {fs.get('Encrypted')}, {fs.get('LifeCycleState')}"
            )
        policy = json.loads(efs.describe_file_system_policy(FileSystemId=file_system_id)["Policy"])
        if not any(
            statement.get("Effect") == "Deny"
            and (statement.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport")
            == "false"
            for statement in policy.get("Statement", [])
        ):
            raise StepFailed(f"{file_system_id}'s policy does not refuse non-TLS clients")
        access_point = smoke.output("SharedFilesAccessPointId")
        points = efs.describe_access_points(FileSystemId=file_system_id)["AccessPoints"]
        if access_point not in {p["AccessPointId"] for p in points}:
            raise StepFailed(f"access point {access_point} is not on {file_system_id}")
        return f"{file_system_id} encrypted, TLS only, access point {access_point}"

    smoke.step("cluster", cluster, uses=["ClusterName"])
    smoke.step("compute", compute, uses=["ClusterName"], after=["cluster"])
    smoke.step(
        "access-entries",
        access_entries,
        uses=["ClusterName", "ClusterAdminRoleArn"],
        needs=CONTROL_PLANE,
        after=["cluster"],
    )
    smoke.step("addons", addons, uses=["ClusterName"], needs=CONTROL_PLANE, after=["cluster"])
    smoke.step(
        "pod-identity", pod_identity, uses=["ClusterName"], needs=CONTROL_PLANE, after=["cluster"]
    )
    if any(True for _ in resource_properties(smoke.template, "AWS::EFS::FileSystem")):
        smoke.step("shared-files", shared_files, uses=["FileSystemId", "SharedFilesAccessPointId"])
