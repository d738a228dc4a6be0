"""ReleasePublisher: the one writer of the update files, separate from the servers that serve them.

    operator / pipeline --s3 cp (SHA-256 checksum)--> releases bucket: <version>/<file>
        --Object Created (EventBridge)--> publisher function (its own role; isolated subnets)
        --EFS access point /updates, uid 1001, read-write--> /updates/<version>/<file>
                                                             /updates/latest.json (the manifest)
        --then S3 PutObject (SHA-256 checked by S3)--> update mirror: updates/<version>/<file>
                                                                      updates/latest.json
        failed events --> dead-letter queue (after EventBridge's and Lambda's retries)

The update servers mount the same file system read-only and cannot write it; the publisher's
role is the only principal with `elasticfilesystem:ClientWrite`, and only through its access
point (`/updates`). The function (lambda_src/release_publisher) copies a release in as a
temporary file and renames it into place, refuses to replace a published file with different
bytes (clients and CloudFront cache update files for a year), checks the bytes against the
SHA-256 the uploader sent with the object, and then rewrites the manifest atomically with the
release's version, URL, SHA-256 and size.

The update mirror is the same release laid out exactly as the clients' URLs, in S3: the
UpdateOffload's second origin, which CloudFront fails over to when the update server cannot
answer (blueprints/update_offload/update_distribution.py). The publisher writes it after the
file system (the primary), from the verified file, never over an object with other bytes, and
each origin's manifest only after the file is on both, so neither manifest ever names a file the
other origin lacks. The releases bucket itself is never served: it holds unverified uploads.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from house.compliance import acknowledge_wildcard_resources
from house.defaults import (
    admit_cloudfront_to_origin_key,
    dead_letter_queue,
    origin_key,
    secure_bucket,
)
from house.lambda_function import python_function

# The POSIX user the publisher writes as, through its access point (the servers read the files
# as anyone: they are world-readable, 0644 in 0755 directories).
PUBLISHER_UID = "1001"
# Where Lambda mounts the access point in the function (Lambda requires /mnt/...).
FUNCTION_MOUNT_PATH = "/mnt/releases"


class ReleasePublisher(Construct):
    """Attributes: bucket (where releases are uploaded), mirror (the update mirror CloudFront
    reads), mirror_key (its customer-managed key where the stage keeps data, else None),
    access_point, function, role, security_group, failures (dead-letter queue), rule
    (EventBridge)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        file_system: efs.FileSystem,
        updates_prefix: str,
        manifest_name: str,
        access_logs: s3.IBucket,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        # Versioned: an overwritten or deleted upload can be recovered and audited.
        self.bucket = secure_bucket(
            self, "Releases", removal_policy=removal_policy, access_logs=access_logs
        )
        # The update mirror: what the file system serves, as the clients' URLs, for CloudFront's
        # failover. CloudFront reads it through origin access control, which cannot decrypt with
        # the AWS managed aws/s3 key: SSE-KMS with the stack's origin key where data is kept,
        # SSE-S3 in dev (house secure_bucket, cloudfront_origin).
        self.mirror_key = origin_key(self, removal_policy=removal_policy)
        self.mirror = secure_bucket(
            self,
            "Mirror",
            removal_policy=removal_policy,
            access_logs=access_logs,
            encryption_key=self.mirror_key,
            cloudfront_origin=True,
        )
        self.mirror_prefix = updates_prefix
        self.access_point = file_system.add_access_point(
            "PublisherAccessPoint",
            path=f"/{updates_prefix}",
            posix_user=efs.PosixUser(uid=PUBLISHER_UID, gid=PUBLISHER_UID),
            create_acl=efs.Acl(owner_uid=PUBLISHER_UID, owner_gid=PUBLISHER_UID, permissions="755"),
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="Release publisher: NFS to the releases file system, HTTPS to S3",
        )
        # Isolated subnets have no route out but the S3 gateway endpoint's, so HTTPS "anywhere"
        # reaches S3 only (S3's addresses are a per-region prefix list unknown at synth).
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to S3 through the gateway endpoint"
        )
        self.failures = dead_letter_queue(self, "FailedPublications", removal_policy=removal_policy)
        self.function = python_function(
            self,
            "Function",
            source="release_publisher",
            description="Publishes an uploaded release to the update servers' file system and "
            "points the manifest at it",
            environment={
                "RELEASES_BUCKET": self.bucket.bucket_name,
                "RELEASES_PATH": FUNCTION_MOUNT_PATH,
                "UPDATES_PREFIX": updates_prefix,
                "MANIFEST_NAME": manifest_name,
                "MIRROR_BUCKET": self.mirror.bucket_name,
            },
            memory_size=512,
            timeout=cdk.Duration.minutes(5),
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[self.security_group],
            dead_letter_queue=self.failures,
            tracing_off_because="the function runs in isolated subnets with no route to X-Ray",
            filesystem=lambda_.FileSystem.from_efs_access_point(
                self.access_point, FUNCTION_MOUNT_PATH
            ),
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
        )
        self.role = self.function.role
        # The event names the upload's version, and S3 authorizes a GetObject of a given
        # VersionId as s3:GetObjectVersion (s3:GetObject alone is refused).
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[self.bucket.arn_for_objects("*")],
            )
        )
        # The mirror: PutObject to write, GetObject for the HeadObject that compares a file
        # already there (S3's SHA-256 checksum) before it is refused or accepted; only under
        # the served prefix. S3 asks KMS for a data key as the caller when it encrypts a write.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                sid="WriteTheMirror",
                actions=["s3:PutObject", "s3:GetObject"],
                resources=[self.mirror.arn_for_objects(f"{updates_prefix}/*")],
            )
        )
        if self.mirror_key is not None:
            self.function.add_to_role_policy(
                iam.PolicyStatement(
                    sid="EncryptTheMirror",
                    actions=["kms:GenerateDataKey"],
                    resources=[self.mirror_key.key_arn],
                )
            )
        acknowledge_wildcard_resources(
            self.role,
            {"s3:GetObject", "s3:GetObjectVersion"},
            "The publisher reads the releases uploaded to its own releases bucket, whatever "
            "their version and file name: every object of that one bucket, nothing else.",
            exactly=True,
        )
        acknowledge_wildcard_resources(
            self.role,
            {"s3:PutObject", "s3:GetObject"},
            f"The publisher writes the update mirror's copy of each published release and "
            f"manifest under {updates_prefix}/, whose names are the releases' own versions and "
            "files, and reads an existing copy's checksum before it refuses or accepts it: "
            "that prefix of that one bucket, nothing else.",
            exactly=True,
        )
        self._serve_mirror(updates_prefix)
        # S3 sends every house bucket's object events to EventBridge (house/defaults.py).
        self.rule = events.Rule(
            self,
            "OnUpload",
            description="A release uploaded to the releases bucket is published",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={"bucket": {"name": [self.bucket.bucket_name]}},
            ),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                self.function,
                dead_letter_queue=self.failures,
                retry_attempts=3,
                max_event_age=cdk.Duration.hours(2),
            )
        )

    def _serve_mirror(self, updates_prefix: str) -> None:
        """CloudFront may read the mirror's served prefix; nobody but the publisher may write.

        The distribution is in the UpdateOffload stack, which deploys after this one and reads
        the mirror's name from its export, so this policy cannot name it (a cycle between the
        stacks): it admits CloudFront for distributions of this account only (aws:SourceArn,
        aws:SourceAccount), and only for `updates/*`, which holds published releases that the
        offload serves to anyone anyway."""
        stack = cdk.Stack.of(self)
        self.mirror.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudFrontReadsPublishedReleases",
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["s3:GetObject"],
                resources=[self.mirror.arn_for_objects(f"{updates_prefix}/*")],
                conditions={
                    "ArnLike": {
                        "AWS:SourceArn": f"arn:{stack.partition}:cloudfront::{stack.account}"
                        ":distribution/*"
                    },
                    "StringEquals": {"AWS:SourceAccount": stack.account},
                },
            )
        )
        self.mirror.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyThePublisherWrites",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[self.mirror.arn_for_objects("*")],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": self.role.role_arn}},
            )
        )
        if self.mirror_key is not None:
            admit_cloudfront_to_origin_key(self.mirror_key)
