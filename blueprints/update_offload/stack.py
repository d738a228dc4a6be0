"""Software-update offload: CloudFront in front of an EC2 update server, which only CloudFront
can reach.

Two stacks, because the offload must not depend on how the app is built:

- `UpdateServer`: the application (internal ALB -> Auto Scaling group -> EFS, read-only) and its
  release publisher (S3 -> Lambda -> EFS, then the update mirror in S3). It exports its load
  balancer's ARN and DNS name and its mirror's name under fixed names whether or not anything
  uses them.
- `UpdateOffload`: the CloudFront distribution and the VPC origin through which it reaches that
  load balancer (imported by export name, so building the offload adds nothing to the app's
  template), with the mirror as the update paths' failover origin; or, with `update_server`
  false and `origin_domain_name` set, any other HTTPS origin (failing over to
  `failover_origin_domain_name`); then only the offload is built.
- `UpdateOffloadEdge` (only outside us-east-1, only with `waf` or a created certificate): the
  web ACL and certificate CloudFront reads from us-east-1 (house/edge.py).

With `domain_names`, clients use the first name over TLS 1.2+, and CloudFront reaches the load
balancer over HTTPS as `origin.<first name>` (a certificate in the app's own region, validated in
`hosted_zone_id`; the name needs no DNS record: a VPC origin is reached by its id).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from blueprints.update_offload.release_publisher import ReleasePublisher
from blueprints.update_offload.settings import UpdateOffloadSettings
from blueprints.update_offload.update_distribution import UpdateDistribution, https_origin
from blueprints.update_offload.update_server import MANIFEST_NAME, UPDATES_PREFIX, UpdateServer
from house.defaults import access_log_bucket
from house.edge import (
    cloudfront_alias_records,
    cloudfront_origin_facing_prefix_list,
    cloudfront_web_acl,
    domain_certificate,
    hosted_zone,
    origin_access_control,
    viewer_certificate,
)
from house.names import (
    CLOUDFRONT_VPC_ORIGIN_NAME_MAX,
    physical_name,
)
from house.network import ISOLATED, PRIVATE_WITH_EGRESS, PUBLIC, vpc
from house.settings import Instance, StageSettings

APP_STACK_ID = "UpdateServer"
OFFLOAD_STACK_ID = "UpdateOffload"

SETTINGS = UpdateOffloadSettings
STACK_IDS = (APP_STACK_ID, OFFLOAD_STACK_ID)


def dns_name_export(app_stack_name: str) -> str:
    """The exports the app stack always publishes and the offload imports (no cross-stack token,
    so the app's template is the same whether or not the offload exists)."""
    return f"{app_stack_name}-LoadBalancerDnsName"


def load_balancer_arn_export(app_stack_name: str) -> str:
    return f"{app_stack_name}-LoadBalancerArn"


def mirror_bucket_export(app_stack_name: str) -> str:
    return f"{app_stack_name}-MirrorBucketName"


class UpdateServerStack(cdk.Stack):
    """The application: VPC, internal ALB, Auto Scaling group, EFS, release publisher."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        settings: UpdateOffloadSettings,
        **kwargs,
    ) -> None:
        kwargs.setdefault(
            "description",
            "Update server: internal ALB (CloudFront VPC origin), Graviton Auto Scaling group, "
            "EFS read-only, release publisher",
        )
        super().__init__(scope, id, **kwargs)
        public = settings.instance_subnets == "public"
        self.vpc = vpc(
            self,
            "Network",
            availability_zones=stage.availability_zones,
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
            # Public subnets and an internet gateway in both stages: dev instances reach dnf and
            # SSM through it, prod's NAT gateways live there, and a VPC origin needs the gateway.
            public_subnets=True,
            nat_gateways=settings.nat_gateways,
        )
        # dnf repositories of Amazon Linux live in S3: a free gateway endpoint keeps that traffic
        # off the NAT gateways (billed per GB) in prod and off the internet in both stages; the
        # release publisher in the isolated subnets reaches S3 only through it.
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        self.access_logs = access_log_bucket(
            self, "AccessLogs", removal_policy=stage.removal_policy
        )
        self.origin_certificate = (
            domain_certificate(
                self,
                "OriginCertificate",
                domain_names=[settings.origin_name],
                hosted_zone_id=settings.hosted_zone_id,
                hosted_zone_name=settings.hosted_zone_name,
            )
            if settings.origin_name
            else None
        )
        logs = dict(
            log_retention_days=stage.log_retention_days, removal_policy=stage.removal_policy
        )
        self.server = UpdateServer(
            self,
            "UpdateServer",
            vpc=self.vpc,
            instance_subnets=PUBLIC if public else PRIVATE_WITH_EGRESS,
            load_balancer_subnets=ISOLATED,
            file_system_subnets=ISOLATED,
            access_logs=self.access_logs,
            instance_type=settings.instance_type,
            fallback_instance_types=settings.fallback_instance_types,
            min_instances=settings.min_instances,
            max_instances=settings.max_instances,
            cpu_target_percent=settings.cpu_target_percent,
            public_instance_ips=public,
            removal_policy=stage.removal_policy,
            cloudfront_prefix_list_id=cloudfront_origin_facing_prefix_list(
                self, "CloudFrontOriginFacing", **logs
            ),
            origin_certificate=self.origin_certificate,
        )
        self.publisher = ReleasePublisher(
            self,
            "ReleasePublisher",
            vpc=self.vpc,
            subnets=ISOLATED,
            file_system=self.server.file_system,
            updates_prefix=UPDATES_PREFIX,
            manifest_name=MANIFEST_NAME,
            access_logs=self.access_logs,
            **logs,
        )
        load_balancer = self.server.load_balancer
        cdk.CfnOutput(
            self,
            "LoadBalancerDnsName",
            value=self.server.dns_name,
            description="The update server's internal name (reachable only inside its VPC)",
            export_name=dns_name_export(self.stack_name),
        )
        cdk.CfnOutput(
            self,
            "LoadBalancerArn",
            value=load_balancer.load_balancer_arn,
            description="What the offload's CloudFront VPC origin connects to",
            export_name=load_balancer_arn_export(self.stack_name),
        )
        cdk.CfnOutput(
            self,
            "MirrorBucketName",
            value=self.publisher.mirror.bucket_name,
            description="The update mirror (written by the publisher only): the offload's "
            "failover origin for the update paths",
            export_name=mirror_bucket_export(self.stack_name),
        )
        cdk.CfnOutput(
            self,
            "ReleasesBucketName",
            value=self.publisher.bucket.bucket_name,
            description="Upload a release here as <version>/<file>: it is published and becomes "
            f"/{UPDATES_PREFIX}/{MANIFEST_NAME}'s release",
        )
        cdk.CfnOutput(
            self,
            "PublishCommand",
            value=cdk.Fn.join(
                "",
                [
                    "aws s3 cp app-1.2.3.tar.gz s3://",
                    self.publisher.bucket.bucket_name,
                    "/1.2.3/app-1.2.3.tar.gz --checksum-algorithm SHA256",
                ],
            ),
            description="Publish a release (replace the version and file); the SHA-256 is "
            "checked against the bytes written",
        )
        cdk.CfnOutput(
            self,
            "PublisherFunctionName",
            value=self.publisher.function.function_name,
            description="Publishes each upload; its failures go to FailedPublicationsQueueUrl",
        )
        cdk.CfnOutput(self, "FailedPublicationsQueueUrl", value=self.publisher.failures.queue_url)
        cdk.CfnOutput(
            self,
            "TargetGroupArn",
            value=self.server.target_group.target_group_arn,
            description="The instances' health as the load balancer sees it",
        )
        cdk.CfnOutput(
            self,
            "FileSystemId",
            value=self.server.file_system.file_system_id,
            description="EFS file system holding the update files (read-only to the servers)",
        )
        cdk.CfnOutput(
            self,
            "AutoScalingGroupName",
            value=self.server.auto_scaling_group.auto_scaling_group_name,
            description="Instances to open an SSM session on: aws ssm start-session --target <id>",
        )


class UpdateOffloadStack(cdk.Stack):
    """The CloudFront distribution in front of the update server (through a VPC origin to its
    internal load balancer), or in front of any HTTPS origin (`update_server` false)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        settings: UpdateOffloadSettings,
        app_stack_name: str,
        **kwargs,
    ) -> None:
        kwargs.setdefault("description", "CloudFront offload of software-update downloads")
        super().__init__(scope, id, **kwargs)
        logs = access_log_bucket(self, "AccessLogs", removal_policy=stage.removal_policy)
        # A created web ACL and certificate go to us-east-1: here, or UpdateOffloadEdge there.
        self.edge = stage.cloudfront_edge(self)
        web_acl_arn = settings.web_acl_arn
        if settings.waf:
            web_acl_arn = cloudfront_web_acl(self, "WebAcl", edge=self.edge).attr_arn
        certificate = (
            viewer_certificate(
                self,
                "Certificate",
                domain_names=list(settings.domain_names),
                certificate_arn=settings.certificate_arn,
                edge=self.edge,
                hosted_zone_id=settings.hosted_zone_id,
                hosted_zone_name=settings.hosted_zone_name,
            )
            if settings.domain_names
            else None
        )
        self.vpc_origin = None
        self.mirror_access = None
        origin_domain_name = settings.origin_domain_name
        failover_origin = (
            https_origin(settings.failover_origin_domain_name, settings.origin_protocol)
            if settings.failover_origin_domain_name
            else None
        )
        if settings.update_server:
            # The app's internal load balancer, reached through CloudFront's own network
            # interfaces in its VPC: over HTTPS as origin.<domain> (the name its certificate
            # carries), else over HTTP to its own name (no certificate can cover that name).
            self.vpc_origin = cloudfront.CfnVpcOrigin(
                self,
                "VpcOrigin",
                vpc_origin_endpoint_config=cloudfront.CfnVpcOrigin.VpcOriginEndpointConfigProperty(
                    arn=cdk.Fn.import_value(load_balancer_arn_export(app_stack_name)),
                    name=physical_name(
                        self, "VpcOrigin", max_length=CLOUDFRONT_VPC_ORIGIN_NAME_MAX
                    ),
                    http_port=80,
                    https_port=443,
                    origin_protocol_policy="https-only" if settings.origin_name else "http-only",
                    origin_ssl_protocols=["TLSv1.2"],
                ),
            )
            origin_domain_name = settings.origin_name or cdk.Fn.import_value(
                dns_name_export(app_stack_name)
            )
            failover_origin = self._mirror_origin(app_stack_name)
        self.offload = UpdateDistribution(
            self,
            "UpdateDistribution",
            origin_domain_name=origin_domain_name,
            vpc_origin=cloudfront.VpcOrigin.from_vpc_origin_attributes(
                self,
                "UpdateServerOrigin",
                vpc_origin_id=self.vpc_origin.attr_id,
                vpc_origin_arn=self.vpc_origin.attr_arn,
            )
            if self.vpc_origin is not None
            else None,
            failover_origin=failover_origin,
            log_bucket=logs,
            origin_protocol=settings.origin_protocol,
            update_path_patterns=settings.update_path_patterns,
            manifest_path_patterns=settings.manifest_path_patterns,
            update_ttl=settings.ttl("update"),
            manifest_ttl=settings.ttl("manifest"),
            cache_key_query_strings=settings.cache_key_query_strings,
            origin_shield_region=settings.shield_region(stage),
            price_class=getattr(cloudfront.PriceClass, _PRICE_CLASSES[settings.price_class]),
            web_acl_arn=web_acl_arn,
            domain_names=settings.domain_names,
            certificate=certificate,
        )
        if settings.hosted_zone_id:
            cloudfront_alias_records(
                self,
                distribution=self.offload.distribution,
                names=settings.domain_names,
                zone=hosted_zone(
                    self,
                    "Zone",
                    hosted_zone_id=settings.hosted_zone_id,
                    hosted_zone_name=settings.hosted_zone_name,
                ),
            )
        distribution = self.offload.distribution
        cdk.CfnOutput(
            self,
            "DistributionDomainName",
            value=distribution.distribution_domain_name,
            description="CloudFront's name for the distribution (point a CNAME here)",
        )
        cdk.CfnOutput(self, "DistributionId", value=distribution.distribution_id)
        manifest = settings.manifest_path_patterns[0] if settings.manifest_path_patterns else None
        cdk.CfnOutput(
            self,
            "UpdateBaseUrl",
            value=f"https://{self.offload.domain_name}/",
            description="The base URL clients should switch to (paths stay the same)",
        )
        if manifest and "*" not in manifest:
            cdk.CfnOutput(
                self, "ManifestUrl", value=f"https://{self.offload.domain_name}{manifest}"
            )
            cdk.CfnOutput(
                self,
                "InvalidateManifestCommand",
                value=f"aws cloudfront create-invalidation --distribution-id "
                f"{distribution.distribution_id} --paths {manifest}",
                description="Run after publishing a release so clients see it at once",
            )

    def _mirror_origin(self, app_stack_name: str) -> cloudfront.IOrigin:
        """The UpdateServer's update mirror (imported by export name), read through origin
        access control: CloudFront signs every request, and the mirror's bucket policy admits
        only CloudFront of this account, for the served prefix only."""
        self.mirror_access = origin_access_control(
            self, "MirrorAccess", description="CloudFront signs every request to the update mirror"
        )
        mirror = s3.Bucket.from_bucket_attributes(
            self,
            "Mirror",
            bucket_name=cdk.Fn.import_value(mirror_bucket_export(app_stack_name)),
            region=self.region,
        )
        return origins.S3BucketOrigin.with_bucket_defaults(
            mirror, origin_access_control_id=self.mirror_access.origin_access_control_id
        )


_PRICE_CLASSES = {
    "PriceClass_100": "PRICE_CLASS_100",
    "PriceClass_200": "PRICE_CLASS_200",
    "PriceClass_All": "PRICE_CLASS_ALL",
}


def build(app: cdk.App, instance: Instance[UpdateOffloadSettings]) -> list[cdk.Stack]:
    """UpdateServer + UpdateOffload, or only UpdateOffload when `update_server` is false; plus
    UpdateOffloadEdge in us-east-1 when the offload creates a web ACL or certificate elsewhere."""
    stage, settings = instance.stage, instance.settings
    app_stack_id, offload_stack_id = instance.stack_ids(*STACK_IDS)
    app_stack_name = stage.stack_name(app_stack_id)
    stacks: list[cdk.Stack] = []
    if settings.update_server:
        server = UpdateServerStack(
            app, app_stack_id, stage=stage, settings=settings, **stage.stack_kwargs(app_stack_id)
        )
        stacks.append(server)
    offload = UpdateOffloadStack(
        app,
        offload_stack_id,
        stage=stage,
        settings=settings,
        app_stack_name=app_stack_name,
        **stage.stack_kwargs(offload_stack_id, cross_region_references=True),
    )
    if stacks:
        offload.add_stack_dependency(
            stacks[0], "imports the update server's load balancer ARN and DNS name"
        )
    return [*stacks, offload, *offload.edge.stacks]
