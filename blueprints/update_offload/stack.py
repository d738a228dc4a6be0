"""Software-update offload: CloudFront in front of an existing EC2 update server, app untouched.

Two stacks, because the point is that the first one does not change:

- `UpdateServer`: the application a user already runs (ALB -> Auto Scaling group -> EFS). It
  exports its load balancer's DNS name under a fixed name whether or not anything uses it.
- `UpdateOffload`: the CloudFront distribution, whose origin is that DNS name (imported by export
  name, so building the offload adds nothing to the app's template), or, with `update_server`
  false and `origin_domain_name` set, any other HTTP origin; then only the offload is built.
- `UpdateOffloadEdge` (only outside us-east-1, only with `waf` or a created certificate): the
  web ACL and certificate CloudFront reads from us-east-1 (house/edge.py).

`lock_origin` is the one documented change on the app side (see update_server.py).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from blueprints.update_offload.settings import UpdateOffloadSettings
from blueprints.update_offload.update_distribution import UpdateDistribution
from blueprints.update_offload.update_server import UPDATES_PREFIX, OriginLock, UpdateServer
from house.defaults import access_log_bucket
from house.edge import cloudfront_web_acl, viewer_certificate
from house.network import ISOLATED, PRIVATE_WITH_EGRESS, PUBLIC, vpc
from house.settings import Instance, StageSettings

APP_STACK_ID = "UpdateServer"
OFFLOAD_STACK_ID = "UpdateOffload"

SETTINGS = UpdateOffloadSettings
STACK_IDS = (APP_STACK_ID, OFFLOAD_STACK_ID)


def dns_name_export(app_stack_name: str) -> str:
    """The export the app stack always publishes and the offload imports (no cross-stack token,
    so the app's template is the same whether or not the offload exists)."""
    return f"{app_stack_name}-LoadBalancerDnsName"


def origin_verify_secret_name(app_stack_name: str) -> str:
    return f"{app_stack_name}/origin-verify"


class UpdateServerStack(cdk.Stack):
    """The existing application: VPC, ALB, Auto Scaling group, EFS."""

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
            "description", "Existing update server: ALB, Graviton Auto Scaling group, EFS"
        )
        super().__init__(scope, id, **kwargs)
        public = settings.instance_subnets == "public"
        self.vpc = vpc(
            self,
            "Network",
            availability_zones=stage.availability_zones,
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
            public_subnets=True,
            nat_gateways=settings.nat_gateways,
        )
        # dnf repositories of Amazon Linux live in S3: a free gateway endpoint keeps that traffic
        # off the NAT gateways (billed per GB) in prod and off the internet in both stages.
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        self.access_logs = access_log_bucket(
            self, "AccessLogs", removal_policy=stage.removal_policy
        )
        lock = (
            OriginLock(
                prefix_list_id=settings.cloudfront_prefix_list_id,
                secret_name=origin_verify_secret_name(self.stack_name),
            )
            if settings.lock_origin
            else None
        )
        self.server = UpdateServer(
            self,
            "UpdateServer",
            vpc=self.vpc,
            instance_subnets=PUBLIC if public else PRIVATE_WITH_EGRESS,
            file_system_subnets=ISOLATED,
            access_logs=self.access_logs,
            instance_type=settings.instance_type,
            min_instances=settings.min_instances,
            max_instances=settings.max_instances,
            cpu_target_percent=settings.cpu_target_percent,
            public_instance_ips=public,
            removal_policy=stage.removal_policy,
            origin_lock=lock,
        )
        cdk.CfnOutput(
            self,
            "LoadBalancerDnsName",
            value=self.server.dns_name,
            description="The update server's own address (what clients use before the offload)",
            export_name=dns_name_export(self.stack_name),
        )
        cdk.CfnOutput(
            self,
            "ManifestUrl",
            value=f"http://{self.server.dns_name}/{UPDATES_PREFIX}/latest.json",
            description="The manifest served directly by the update server",
        )
        cdk.CfnOutput(
            self,
            "FileSystemId",
            value=self.server.file_system.file_system_id,
            description="EFS file system holding the update files (publish releases here)",
        )
        cdk.CfnOutput(
            self,
            "AutoScalingGroupName",
            value=self.server.auto_scaling_group.auto_scaling_group_name,
            description="Instances to open an SSM session on: aws ssm start-session --target <id>",
        )


class UpdateOffloadStack(cdk.Stack):
    """The CloudFront distribution in front of the update server (or any HTTP origin)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        settings: UpdateOffloadSettings,
        origin_domain_name: str,
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
            )
            if settings.domain_names
            else None
        )
        headers = None
        if settings.lock_origin:
            # Resolved by CloudFormation at deploy time from the secret the app stack created;
            # referenced by name so no export is added to the app stack.
            headers = {
                "X-Origin-Verify": cdk.SecretValue.secrets_manager(
                    origin_verify_secret_name(app_stack_name)
                ).unsafe_unwrap()
            }
        self.offload = UpdateDistribution(
            self,
            "UpdateDistribution",
            origin_domain_name=origin_domain_name,
            log_bucket=logs,
            origin_protocol=settings.origin_protocol,
            update_path_patterns=settings.update_path_patterns,
            manifest_path_patterns=settings.manifest_path_patterns,
            update_ttl=settings.ttl("update"),
            manifest_ttl=settings.ttl("manifest"),
            cache_key_query_strings=settings.cache_key_query_strings,
            origin_shield_region=settings.shield_region(stage),
            origin_custom_headers=headers,
            price_class=getattr(cloudfront.PriceClass, _PRICE_CLASSES[settings.price_class]),
            web_acl_arn=web_acl_arn,
            domain_names=settings.domain_names,
            certificate=certificate,
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
    origin = settings.origin_domain_name
    if settings.update_server:
        server = UpdateServerStack(
            app, app_stack_id, stage=stage, settings=settings, **stage.stack_kwargs(app_stack_id)
        )
        stacks.append(server)
        origin = cdk.Fn.import_value(dns_name_export(app_stack_name))
    offload = UpdateOffloadStack(
        app,
        offload_stack_id,
        stage=stage,
        settings=settings,
        origin_domain_name=origin,
        app_stack_name=app_stack_name,
        **stage.stack_kwargs(offload_stack_id, cross_region_references=True),
    )
    if stacks:
        offload.add_stack_dependency(
            stacks[0], "imports the update server's load balancer DNS name"
        )
    return [*stacks, offload, *offload.edge.stacks]
