"""Storage for pods: EBS through a CSI driver (built into EKS Auto Mode, the EKS add-on
elsewhere) and one shared EFS file system, and the Kubernetes objects that use them.

    EFS file system (encrypted, TLS required, mount targets in the node subnets)
      |-- NFS (2049) from the cluster security group only (nodes and Fargate pods carry it)
      '-- access point /shared (POSIX 1000:1000, 0750): every pod mounting it is that user
    storage_manifest(): StorageClasses (EBS gp3 as the default class, EFS) and the static
      PersistentVolume + claim of the access point, as one kubectl-ready JSON list whose file
      system and access point ids CloudFormation fills in (a stack output)

Static provisioning of the access point works everywhere, Fargate included (Fargate runs the
EFS driver itself and supports no dynamic provisioning), and needs no IAM on the driver.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from constructs import Construct

from house.defaults import file_system

# Provisioner names: Auto Mode's built-in EBS driver, the EBS CSI add-on's, the EFS CSI driver's.
AUTO_MODE_EBS = "ebs.csi.eks.amazonaws.com"
EBS_CSI = "ebs.csi.aws.com"
EFS_CSI = "efs.csi.aws.com"
SHARED_FILES = "shared-files"
EFS_STORAGE_CLASS = "efs"
EBS_STORAGE_CLASS = "ebs-gp3"
POSIX_ID = "1000"


class SharedFiles(Construct):
    """The EFS file system and access point pods share (ReadWriteMany).

    Encrypted, TLS required (no IAM on mounts); every pod mounting the /shared access point is
    POSIX user 1000:1000.

    Args:
        `vpc`: the VPC of the file system. Required.
        `subnets`: the subnets of its mount targets (the nodes' subnets). Required.
        `clients`: the security group admitted on NFS (the cluster security group, which nodes and
            Fargate pods carry). Required.
        `removal_policy`: the file system's. Required.
        `backups`: True turns on AWS Backup for the file system. Required.

    Attributes: file_system, access_point.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        clients: ec2.ISecurityGroup,
        removal_policy: cdk.RemovalPolicy,
        backups: bool,
    ) -> None:
        super().__init__(scope, id)
        # The CSI node plugin and Fargate mount without an IAM identity: the security group
        # and the access point decide who mounts what; TLS stays mandatory.
        self.file_system = file_system(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnets=subnets,
            removal_policy=removal_policy,
            backups=backups,
            iam_mounts=False,
        )
        self.file_system.connections.allow_default_port_from(
            clients, "NFS from the cluster's nodes and Fargate pods"
        )
        self.access_point = self.file_system.add_access_point(
            "AccessPoint",
            path="/shared",
            create_acl=efs.Acl(owner_uid=POSIX_ID, owner_gid=POSIX_ID, permissions="750"),
            posix_user=efs.PosixUser(uid=POSIX_ID, gid=POSIX_ID),
        )


def storage_manifest(
    scope: Construct, *, ebs_provisioner: str | None, shared_files: SharedFiles | None
) -> str | None:
    """The storage objects as a kubectl-ready JSON `List` (a CloudFormation string: the ids
    are filled in at deploy), or None when there is nothing to apply."""
    items: list[dict] = []
    if ebs_provisioner:
        items.append(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": EBS_STORAGE_CLASS,
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": ebs_provisioner,
                # The volume is made in the AZ of the node its pod lands on.
                "volumeBindingMode": "WaitForFirstConsumer",
                "allowVolumeExpansion": True,
                "reclaimPolicy": "Delete",
                "parameters": {"type": "gp3", "encrypted": "true"},
            }
        )
    if shared_files is not None:
        handle = cdk.Fn.join(
            "::",
            [shared_files.file_system.file_system_id, shared_files.access_point.access_point_id],
        )
        items += [
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": EFS_STORAGE_CLASS},
                "provisioner": EFS_CSI,
            },
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": SHARED_FILES},
                "spec": {
                    # EFS has no size; Kubernetes requires a number.
                    "capacity": {"storage": "5Gi"},
                    "accessModes": ["ReadWriteMany"],
                    "persistentVolumeReclaimPolicy": "Retain",
                    "storageClassName": EFS_STORAGE_CLASS,
                    "csi": {
                        "driver": EFS_CSI,
                        "volumeHandle": handle,
                        "volumeAttributes": {"encryptInTransit": "true"},
                    },
                },
            },
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": SHARED_FILES, "namespace": "default"},
                "spec": {
                    "accessModes": ["ReadWriteMany"],
                    "storageClassName": EFS_STORAGE_CLASS,
                    "volumeName": SHARED_FILES,
                    "resources": {"requests": {"storage": "5Gi"}},
                },
            },
        ]
    if not items:
        return None
    return cdk.Stack.of(scope).to_json_string({"apiVersion": "v1", "kind": "List", "items": items})
