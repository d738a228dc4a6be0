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

import dataclasses
import re
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from blueprints.update_offload.update_distribution import (
    MAX_QUERY_STRINGS,
    CacheTtl,
    UpdateDistribution,
    path_pattern_problem,
    query_string_problem,
    region_problem,
)
from blueprints.update_offload.update_server import UPDATES_PREFIX, OriginLock, UpdateServer
from house.defaults import access_log_bucket
from house.edge import cloudfront_web_acl, viewer_certificate
from house.network import ISOLATED, PRIVATE_WITH_EGRESS, PUBLIC, vpc
from house.settings import StageSettings, require

APP_STACK_ID = "UpdateServer"
OFFLOAD_STACK_ID = "UpdateOffload"

# Graviton (arm64) families only: the AMI is the arm64 Amazon Linux 2023 image.
_GRAVITON_INSTANCE_TYPE = re.compile(
    r"^[a-z]+\d+g[a-z]*\.(nano|micro|small|medium|large|\d*xlarge|metal)$"
)
_PREFIX_LIST_ID = re.compile(r"^pl-[0-9a-f]{8,17}$")
_DOMAIN_NAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?$"
)
_WEB_ACL_ARN = re.compile(r"^arn:aws:wafv2:us-east-1:\d{12}:global/webacl/.+$")
_CERTIFICATE_ARN = re.compile(r"^arn:aws:acm:us-east-1:\d{12}:certificate/.+$")
# origin_shield_region: the region of stages.<stage>.region, where UpdateServer runs.
STACK_REGION = "stack-region"


@dataclasses.dataclass(frozen=True)
class UpdateOffloadSettings:
    # -- the existing application (UpdateServer) --------------------------------------------
    # Graviton instance type. dev: t4g.micro, the cheapest; prod: c7g.medium for its 12.5 Gbps
    # burst network (docs/update-offload.md prices both).
    instance_type: str = "t4g.micro"
    min_instances: int = 1
    max_instances: int = 2
    cpu_target_percent: int = 60
    # Where instances live. "public": public subnets, a (billed) public IPv4 address each
    # and no NAT; their security group admits only the ALB, so nothing reaches them directly.
    # "private": private subnets behind `nat_gateways` NAT gateways (each billed by the hour and
    # per GB processed, several times an address); instances have no public address at all.
    instance_subnets: Literal["public", "private"] = "public"
    nat_gateways: int = 0

    # -- the offload (UpdateOffload) --------------------------------------------------------
    # true: build UpdateServer and put the offload in front of its load balancer. false: build
    # only UpdateOffload, in front of `origin_domain_name` (your own app, deployed elsewhere).
    update_server: bool = True
    origin_domain_name: str | None = None
    # "https" only with origin_domain_name: an ALB's *.elb.amazonaws.com name never matches a
    # certificate you own, so CloudFront could not verify it.
    origin_protocol: Literal["http", "https"] = "http"
    update_path_patterns: tuple[str, ...] = (f"/{UPDATES_PREFIX}/*",)
    manifest_path_patterns: tuple[str, ...] = (f"/{UPDATES_PREFIX}/latest.json",)
    # Update files are immutable (a new release gets a new path): cached at least a day even if
    # the origin says otherwise, a year by default.
    update_min_ttl_seconds: int = 86400
    update_default_ttl_seconds: int = 31536000
    update_max_ttl_seconds: int = 31536000
    # The manifest changes on every release: a minute by default, invalidate when publishing.
    manifest_min_ttl_seconds: int = 0
    manifest_default_ttl_seconds: int = 60
    manifest_max_ttl_seconds: int = 300
    # Query strings the origin's update responses vary on; all others are left out of the cache
    # key and not sent to the origin. None by default: static files ignore them.
    cache_key_query_strings: tuple[str, ...] = ()
    # Origin Shield (billed per 10,000 requests reaching it) collapses cache misses of all
    # edge locations into one regional cache: set it to the origin's region for big rollouts.
    # "stack-region": the stage's region, where the UpdateServer built here runs, so the shield
    # follows the origin when the stage moves.
    origin_shield_region: str | None = None
    # PriceClass_100: North America + Europe edges only (cheapest); PriceClass_All: everywhere.
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_100"
    # waf: create a web ACL (billed per month, per rule and per request; in us-east-1: this stack
    # there, else the UpdateOffloadEdge companion); web_acl_arn: use an existing
    # CLOUDFRONT-scope one instead. A certificate is created the same way without certificate_arn.
    waf: bool = False
    web_acl_arn: str | None = None
    domain_names: tuple[str, ...] = ()
    certificate_arn: str | None = None
    # The one optional change on the app side: the ALB accepts only CloudFront's origin-facing
    # prefix list (its id in your region: see docs) and only requests with the secret header.
    lock_origin: bool = False
    cloudfront_prefix_list_id: str | None = None

    def __post_init__(self) -> None:
        require(
            bool(_GRAVITON_INSTANCE_TYPE.fullmatch(self.instance_type)),
            "instance_type",
            self.instance_type,
            "allowed: a Graviton (arm64) type such as t4g.micro, c7g.medium",
        )
        require(
            1 <= self.min_instances <= self.max_instances <= 100,
            "min_instances/max_instances",
            (self.min_instances, self.max_instances),
            "allowed: 1 <= min_instances <= max_instances <= 100",
        )
        require(
            10 <= self.cpu_target_percent <= 90,
            "cpu_target_percent",
            self.cpu_target_percent,
            "allowed: 10..90",
        )
        require(0 <= self.nat_gateways <= 3, "nat_gateways", self.nat_gateways, "allowed: 0..3")
        require(
            self.instance_subnets == "public" or self.nat_gateways > 0,
            "nat_gateways",
            self.nat_gateways,
            "instance_subnets 'private' needs at least one NAT gateway",
        )
        require(
            self.instance_subnets == "private" or self.nat_gateways == 0,
            "nat_gateways",
            self.nat_gateways,
            "instances in public subnets use no NAT gateway: set 0",
        )

        require(
            self.update_server or self.origin_domain_name is not None,
            "origin_domain_name",
            self.origin_domain_name,
            "update_server false (the offload alone) needs the DNS name "
            "of your origin, e.g. my-alb-123.eu-west-1.elb.amazonaws.com",
        )
        require(
            not self.update_server or self.origin_domain_name is None,
            "origin_domain_name",
            self.origin_domain_name,
            "the origin is the UpdateServer built here; set update_server "
            "false to put the offload in front of another origin",
        )
        if self.origin_domain_name is not None:
            require(
                bool(_DOMAIN_NAME.fullmatch(self.origin_domain_name)),
                "origin_domain_name",
                self.origin_domain_name,
                "allowed: a DNS name such as updates.example.com",
            )
        require(
            self.origin_protocol == "http" or self.origin_domain_name is not None,
            "origin_protocol",
            self.origin_protocol,
            "'https' needs origin_domain_name (a name the origin's certificate covers)",
        )
        require(
            bool(self.update_path_patterns),
            "update_path_patterns",
            self.update_path_patterns,
            "give at least one path pattern such as '/updates/*'",
        )
        patterns = [*self.manifest_path_patterns, *self.update_path_patterns]
        for name in ("manifest_path_patterns", "update_path_patterns"):
            for pattern in getattr(self, name):
                problem = path_pattern_problem(pattern)
                require(problem is None, name, pattern, f"allowed: {problem}")
        require(
            len(set(patterns)) == len(patterns),
            "update_path_patterns",
            patterns,
            "a pattern may appear only once across manifest_path_patterns and update_path_patterns",
        )
        for kind in ("update", "manifest"):
            ttl = self.ttl(kind)
            require(
                ttl.problem() is None,
                f"{kind}_min_ttl_seconds/{kind}_default_ttl_seconds/{kind}_max_ttl_seconds",
                (ttl.minimum, ttl.default, ttl.maximum),
                f"{ttl.problem()}",
            )
        require(
            len(self.cache_key_query_strings) <= MAX_QUERY_STRINGS,
            "cache_key_query_strings",
            self.cache_key_query_strings,
            f"allowed: at most {MAX_QUERY_STRINGS} names",
        )
        for name in self.cache_key_query_strings:
            require(
                query_string_problem(name) is None,
                "cache_key_query_strings",
                name,
                f"allowed: {query_string_problem(name)}",
            )
        if self.origin_shield_region is not None and self.origin_shield_region != STACK_REGION:
            require(
                region_problem(self.origin_shield_region) is None,
                "origin_shield_region",
                self.origin_shield_region,
                f"allowed: null, '{STACK_REGION}' or {region_problem(self.origin_shield_region)}",
            )
        require(
            self.origin_shield_region != STACK_REGION or self.update_server,
            "origin_shield_region",
            self.origin_shield_region,
            f"'{STACK_REGION}' follows the UpdateServer built here; in front of your own "
            "origin name the region it runs in, e.g. eu-west-1",
        )
        require(
            not (self.waf and self.web_acl_arn),
            "waf",
            self.waf,
            "use either waf (create a web ACL) or web_acl_arn (bring one), not both",
        )
        if self.web_acl_arn is not None:
            require(
                bool(_WEB_ACL_ARN.fullmatch(self.web_acl_arn)),
                "web_acl_arn",
                self.web_acl_arn,
                "allowed: the ARN of a CLOUDFRONT-scope web ACL "
                "(arn:aws:wafv2:us-east-1:...:global/webacl/...)",
            )
        for name in self.domain_names:
            require(
                bool(_DOMAIN_NAME.fullmatch(name)),
                "domain_names",
                name,
                "allowed: DNS names such as updates.example.com",
            )
        require(
            self.certificate_arn is None or bool(self.domain_names),
            "certificate_arn",
            self.certificate_arn,
            "a certificate is used only with domain_names",
        )
        if self.certificate_arn is not None:
            require(
                bool(_CERTIFICATE_ARN.fullmatch(self.certificate_arn)),
                "certificate_arn",
                self.certificate_arn,
                "allowed: the ARN of an ACM certificate in us-east-1 "
                "(arn:aws:acm:us-east-1:...:certificate/...), the only region CloudFront reads",
            )
        require(
            not self.lock_origin or self.update_server,
            "lock_origin",
            self.lock_origin,
            "locks the UpdateServer built here (update_server true); lock your own origin as "
            "docs/update-offload.md shows",
        )
        require(
            not self.lock_origin or self.cloudfront_prefix_list_id is not None,
            "cloudfront_prefix_list_id",
            self.cloudfront_prefix_list_id,
            "lock_origin needs the id of com.amazonaws.global.cloudfront.origin-facing in your "
            "region",
        )
        if self.cloudfront_prefix_list_id is not None:
            require(
                bool(_PREFIX_LIST_ID.fullmatch(self.cloudfront_prefix_list_id)),
                "cloudfront_prefix_list_id",
                self.cloudfront_prefix_list_id,
                "allowed: pl-<hex>",
            )

    def ttl(self, kind: Literal["update", "manifest"]) -> CacheTtl:
        return CacheTtl(
            getattr(self, f"{kind}_min_ttl_seconds"),
            getattr(self, f"{kind}_default_ttl_seconds"),
            getattr(self, f"{kind}_max_ttl_seconds"),
        )

    def shield_region(self, stage: StageSettings) -> str | None:
        """The Origin Shield region for this stage: `origin_shield_region` with "stack-region"
        replaced by the stage's region (a ValueError naming it when the stage has none)."""
        if self.origin_shield_region != STACK_REGION:
            return self.origin_shield_region
        require(
            stage.region is not None,
            f"blueprints.update-offload.{stage.name}.origin_shield_region",
            STACK_REGION,
            f"'{STACK_REGION}' needs the stage's region: set stages.{stage.name}.region",
        )
        return stage.region


SETTINGS = UpdateOffloadSettings


def dns_name_export(stage: StageSettings) -> str:
    """The export the app stack always publishes and the offload imports (no cross-stack token,
    so the app's template is the same whether or not the offload exists)."""
    return f"{stage.stack_name(APP_STACK_ID)}-LoadBalancerDnsName"


def origin_verify_secret_name(stage: StageSettings) -> str:
    return f"{stage.stack_name(APP_STACK_ID)}/origin-verify"


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
                secret_name=origin_verify_secret_name(stage),
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
            keep_data=stage.keep_data,
            origin_lock=lock,
        )
        cdk.CfnOutput(
            self,
            "LoadBalancerDnsName",
            value=self.server.dns_name,
            description="The update server's own address (what clients use before the offload)",
            export_name=dns_name_export(stage),
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
                    origin_verify_secret_name(stage)
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


def build(app: cdk.App, stage: StageSettings, settings: UpdateOffloadSettings) -> list[cdk.Stack]:
    """UpdateServer + UpdateOffload, or only UpdateOffload when `update_server` is false; plus
    UpdateOffloadEdge in us-east-1 when the offload creates a web ACL or certificate elsewhere."""
    stacks: list[cdk.Stack] = []
    origin = settings.origin_domain_name
    if settings.update_server:
        server = UpdateServerStack(
            app, APP_STACK_ID, stage=stage, settings=settings, **stage.stack_kwargs(APP_STACK_ID)
        )
        stacks.append(server)
        origin = cdk.Fn.import_value(dns_name_export(stage))
    offload = UpdateOffloadStack(
        app,
        OFFLOAD_STACK_ID,
        stage=stage,
        settings=settings,
        origin_domain_name=origin,
        **stage.stack_kwargs(OFFLOAD_STACK_ID, cross_region_references=True),
    )
    if stacks:
        offload.add_stack_dependency(
            stacks[0], "imports the update server's load balancer DNS name"
        )
    return [*stacks, offload, *offload.edge.stacks]
