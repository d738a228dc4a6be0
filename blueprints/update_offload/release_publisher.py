"""ReleasePublisher: the one writer of the update files, separate from the servers that serve them.

    operator / pipeline --s3 cp (SHA-256 checksum)--> releases bucket: <version>/<file>
        --Object Created (EventBridge)--> publisher function (its own role; isolated subnets)
        --EFS access point /updates, uid 1001, read-write--> /updates/<version>/<file>
                                                             /updates/latest.json (the manifest)
        failed events --> dead-letter queue (after EventBridge's and Lambda's retries)

The update servers mount the same file system read-only and cannot write it; the publisher's
role is the only principal with `elasticfilesystem:ClientWrite`, and only through its access
point (`/updates`). The function (lambda_src/release_publisher) copies a release in as a
temporary file and renames it into place, refuses to replace a published file with different
bytes (clients and CloudFront cache update files for a year), checks the bytes against the
SHA-256 the uploader sent with the object, and then rewrites the manifest atomically with the
release's version, URL, SHA-256 and size.
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
from house.defaults import dead_letter_queue, secure_bucket
from house.lambda_function import python_function

# The POSIX user the publisher writes as, through its access point (the servers read the files
# as anyone: they are world-readable, 0644 in 0755 directories).
PUBLISHER_UID = "1001"
# Where Lambda mounts the access point in the function (Lambda requires /mnt/...).
FUNCTION_MOUNT_PATH = "/mnt/releases"


class ReleasePublisher(Construct):
    """Attributes: bucket (where releases are uploaded), access_point, function, role,
    security_group, failures (dead-letter queue), rule (EventBridge)."""

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
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"], resources=[self.bucket.arn_for_objects("*")]
            )
        )
        acknowledge_wildcard_resources(
            self.role,
            {"s3:GetObject"},
            "The publisher reads the releases uploaded to its own releases bucket, whatever "
            "their version and file name: every object of that one bucket, nothing else.",
            exactly=True,
        )
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
