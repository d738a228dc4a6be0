"""UpdateOffload's settings: `blueprints.<instance>.<stage>` in cdk.json. Defaults are the cheap
(dev) profile; docs/update-offload.md lists every setting with the shipped dev and prod values."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from blueprints.update_offload.update_distribution import (
    MAX_QUERY_STRINGS,
    CacheTtl,
    path_pattern_problem,
    query_string_problem,
)
from blueprints.update_offload.update_server import UPDATES_PREFIX
from house.settings import (
    Settings,
    StageSettings,
    require,
    require_domain_in_prod,
    require_in_zone,
)
from house.types import (
    ALLOWED,
    CloudFrontCertificateArn,
    CloudFrontWebAclArn,
    DomainName,
    GravitonInstanceType,
    HostedZoneId,
    HostedZoneName,
    PriceClass,
    Region,
)

# origin_shield_region: the region of stages.<stage>.region, where UpdateServer runs.
STACK_REGION = "stack-region"


def _checked_by(problem):
    def check(value: str) -> str:
        why = problem(value)
        if why is not None:
            raise ValueError(f"allowed: {why}")
        return value

    return AfterValidator(check)


PathPattern = Annotated[
    str,
    _checked_by(path_pattern_problem),
    Field(json_schema_extra={ALLOWED: "a CloudFront path pattern starting with '/'"}),
]
QueryStringName = Annotated[
    str,
    _checked_by(query_string_problem),
    Field(json_schema_extra={ALLOWED: "1-128 characters of A-Z a-z 0-9 _ - . ~"}),
]


class UpdateOffloadSettings(Settings):
    # -- the existing application (UpdateServer) --------------------------------------------
    instance_type: GravitonInstanceType = Field(
        "t4g.micro",
        description="Instance type of the update server (Graviton, arm64 AMI). Billed per "
        "instance-hour; larger types burst more network.",
    )
    fallback_instance_types: tuple[GravitonInstanceType, ...] = Field(
        (),
        max_length=5,
        description="Graviton types the group launches, in this order, when instance_type has "
        "no capacity in an AZ (billed per instance-hour like it while they run); none = "
        "instance_type only.",
    )
    min_instances: int = Field(1, ge=1, le=100, description="Fewest update-server instances.")
    max_instances: int = Field(2, ge=1, le=100, description="Most update-server instances.")
    cpu_target_percent: int = Field(
        60, ge=10, le=90, description="Average CPU the Auto Scaling group scales to keep."
    )
    instance_subnets: Literal["public", "private"] = Field(
        "public",
        description="'public': public subnets, a public IPv4 address per instance (billed per "
        "hour) and no NAT; the security group admits only the ALB. 'private': private subnets "
        "behind nat_gateways NAT gateways, no public address at all.",
    )
    nat_gateways: int = Field(
        0,
        ge=0,
        le=3,
        description="NAT gateways for private instance subnets; each is billed per hour and "
        "per GB processed.",
    )
    # -- the offload (UpdateOffload) --------------------------------------------------------
    update_server: bool = Field(
        True,
        description="true: build UpdateServer and put the offload in front of its load "
        "balancer; false: build only UpdateOffload, in front of origin_domain_name.",
    )
    origin_domain_name: DomainName | None = Field(
        None,
        description="The DNS name of your own origin (with update_server false), e.g. "
        "my-alb-123.eu-west-1.elb.amazonaws.com.",
    )
    failover_origin_domain_name: DomainName | None = Field(
        None,
        description="With update_server false: the DNS name of a second origin of yours that "
        "serves the same update and manifest paths as origin_domain_name (reached the same "
        "way, origin_protocol). CloudFront asks it for those paths when origin_domain_name "
        "cannot be reached or answers 500/502/503/504. Prod needs it unless "
        "allow_single_origin. (The UpdateServer built here has its own second origin: the "
        "update mirror in S3.)",
    )
    allow_single_origin: bool = Field(
        False,
        description="Prod only, with update_server false: true lets the offload serve the "
        "update paths from origin_domain_name alone, so that when it fails no cache miss is "
        "answered (Control Tower CT.CLOUDFRONT.PR.4 then fails). Off, prod without "
        "failover_origin_domain_name is an error.",
    )
    origin_protocol: Literal["http", "https"] = Field(
        "https",
        description="How CloudFront reaches origin_domain_name (update_server false); 'http' "
        "only in dev. The UpdateServer built here is reached through a VPC origin: over HTTPS "
        "with domain_names (origin.<first domain name>), else HTTP inside the VPC.",
    )
    update_path_patterns: tuple[PathPattern, ...] = Field(
        (f"/{UPDATES_PREFIX}/*",),
        min_length=1,
        description="Paths of the update files: immutable, cached long.",
    )
    manifest_path_patterns: tuple[PathPattern, ...] = Field(
        (f"/{UPDATES_PREFIX}/latest.json",),
        description="Paths of the release manifest: changes on every release, cached briefly.",
    )
    update_min_ttl_seconds: int = Field(
        86400, description="Update files are cached at least this long, whatever the origin says."
    )
    update_default_ttl_seconds: int = Field(
        31536000, description="Update files' cache time when the origin says nothing."
    )
    update_max_ttl_seconds: int = Field(
        31536000, description="Update files are cached at most this long."
    )
    manifest_min_ttl_seconds: int = Field(0, description="The manifest's shortest cache time.")
    manifest_default_ttl_seconds: int = Field(
        60, description="The manifest's cache time when the origin says nothing."
    )
    manifest_max_ttl_seconds: int = Field(300, description="The manifest's longest cache time.")
    cache_key_query_strings: tuple[QueryStringName, ...] = Field(
        (),
        max_length=MAX_QUERY_STRINGS,
        description="Query strings the origin's update responses vary on; all others are left "
        "out of the cache key and not sent to the origin.",
    )
    origin_shield_region: Region | Literal["stack-region"] | None = Field(
        None,
        description="Origin Shield: one regional cache in front of the origin that collapses the "
        "cache misses of every edge (billed per request reaching it); 'stack-region' = the "
        "stage's region, where the UpdateServer built here runs; null = off.",
    )
    price_class: PriceClass = Field(
        "PriceClass_100",
        description="CloudFront edges that serve the updates: PriceClass_100 (North America and "
        "Europe) is the cheapest, PriceClass_All adds every edge at higher prices.",
    )
    waf: bool = Field(
        False,
        description="Create a WAF web ACL for the distribution (in us-east-1: this stack there, "
        "else the UpdateOffloadEdge companion). Billed per web ACL, rule and million requests.",
    )
    web_acl_arn: CloudFrontWebAclArn | None = Field(
        None, description="Use an existing CLOUDFRONT-scope web ACL instead of waf."
    )
    domain_names: tuple[DomainName, ...] = Field(
        (),
        description="Your own names for the distribution, served with TLS 1.2+ only; a "
        "certificate is created unless certificate_arn is given. With update_server, the load "
        "balancer gets a certificate for origin.<first name> and CloudFront reaches it over "
        "HTTPS. None = the *.cloudfront.net name, on which CloudFront also accepts TLS 1.0/1.1 "
        "(prod refuses that unless allow_tls_below_1_2).",
    )
    certificate_arn: CloudFrontCertificateArn | None = Field(
        None, description="An existing us-east-1 ACM certificate for domain_names."
    )
    hosted_zone_id: HostedZoneId | None = Field(
        None,
        description="Route 53 public zone of domain_names: certificate validation (the "
        "distribution's and the load balancer's) and alias records. Needed with domain_names "
        "and update_server.",
    )
    hosted_zone_name: HostedZoneName | None = Field(
        None, description="Name of the hosted_zone_id zone."
    )
    allow_tls_below_1_2: bool = Field(
        False,
        description="Prod only: true lets prod go without domain_names, on the *.cloudfront.net "
        "certificate, with which CloudFront accepts TLS 1.0 and 1.1 from clients, and with "
        "plain HTTP from CloudFront to the update server inside the VPC. Off, prod without a "
        "domain is an error.",
    )

    @model_validator(mode="after")
    def _offload_rules(self, info: ValidationInfo) -> UpdateOffloadSettings:
        require(
            self.min_instances <= self.max_instances,
            "min_instances",
            self.min_instances,
            f"must not exceed max_instances ({self.max_instances})",
        )
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
        require(
            not self.update_server or self.failover_origin_domain_name is None,
            "failover_origin_domain_name",
            self.failover_origin_domain_name,
            "is for an origin of yours (update_server false); the UpdateServer built here "
            "fails over to its own update mirror",
        )
        require(
            not self.update_server or not self.allow_single_origin,
            "allow_single_origin",
            self.allow_single_origin,
            "is for an origin of yours (update_server false); the UpdateServer built here "
            "always has its update mirror as the second origin",
        )
        require(
            self.failover_origin_domain_name is None
            or self.failover_origin_domain_name != self.origin_domain_name,
            "failover_origin_domain_name",
            self.failover_origin_domain_name,
            "must be another origin than origin_domain_name: failing over to the same "
            "origin fails over to the same failure",
        )
        require(
            self.failover_origin_domain_name is None or not self.allow_single_origin,
            "allow_single_origin",
            self.allow_single_origin,
            "contradicts failover_origin_domain_name: set one of them",
        )
        require(
            not self.update_server or self.origin_protocol == "https",
            "origin_protocol",
            self.origin_protocol,
            "is for origin_domain_name (update_server false); the UpdateServer built here is "
            "reached over HTTPS with domain_names, else over HTTP inside its VPC",
        )
        require(
            len(set(self.fallback_instance_types)) == len(self.fallback_instance_types)
            and self.instance_type not in self.fallback_instance_types,
            "fallback_instance_types",
            self.fallback_instance_types,
            f"each type once, and not instance_type ({self.instance_type}) itself",
        )
        patterns = [*self.manifest_path_patterns, *self.update_path_patterns]
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
        require(
            self.certificate_arn is None or bool(self.domain_names),
            "certificate_arn",
            self.certificate_arn,
            "a certificate is used only with domain_names",
        )
        require(
            (self.hosted_zone_id is None) == (self.hosted_zone_name is None),
            "hosted_zone_id",
            self.hosted_zone_id,
            "give hosted_zone_id and hosted_zone_name together",
        )
        require(
            self.hosted_zone_id is None or bool(self.domain_names),
            "hosted_zone_id",
            self.hosted_zone_id,
            "the zone is for domain_names: set them too",
        )
        require(
            not (self.update_server and self.domain_names) or self.hosted_zone_id is not None,
            "hosted_zone_id",
            self.hosted_zone_id,
            "with domain_names the UpdateServer's load balancer gets a certificate for "
            f"origin.{self.domain_names[0] if self.domain_names else '<name>'}, validated in "
            "this Route 53 zone: set hosted_zone_id and hosted_zone_name",
        )
        require(
            not self.update_server or not self.domain_names or len(self.origin_name) <= 253,
            "domain_names",
            self.domain_names,
            f"the origin name {self.origin_name!r} is longer than DNS allows (253)",
        )
        require_in_zone("domain_names", self.domain_names, self.domain_names, self.hosted_zone_name)
        require_domain_in_prod(
            info,
            domain_setting="domain_names",
            domain=self.domain_names,
            opt_out_setting="allow_tls_below_1_2",
            opt_out=self.allow_tls_below_1_2,
            gives_up="the *.cloudfront.net certificate, with which CloudFront accepts TLS 1.0 "
            "and 1.1, and plain HTTP from CloudFront to the update server inside its VPC",
        )
        stage = (info.context or {}).get("stage")
        if stage is not None:
            self.shield_region(stage)
            require(
                stage.name != "prod" or self.origin_protocol == "https",
                "origin_protocol",
                self.origin_protocol,
                "prod reaches your origin over HTTPS only: give it a certificate for "
                "origin_domain_name",
            )
            require(
                stage.name != "prod"
                or self.update_server
                or self.failover_origin_domain_name is not None
                or self.allow_single_origin,
                "failover_origin_domain_name",
                self.failover_origin_domain_name,
                "prod serves the update paths from two origins: name a second origin that "
                "serves the same paths as origin_domain_name, or set allow_single_origin true "
                "to accept that no cache miss is answered while origin_domain_name is down",
            )
        return self

    @property
    def origin_name(self) -> str | None:
        """The name CloudFront uses for the UpdateServer built here (TLS server name and Host),
        the one its load balancer's certificate is for: origin.<first domain name>."""
        return f"origin.{self.domain_names[0]}" if self.domain_names else None

    def ttl(self, kind: Literal["update", "manifest"]) -> CacheTtl:
        return CacheTtl(
            getattr(self, f"{kind}_min_ttl_seconds"),
            getattr(self, f"{kind}_default_ttl_seconds"),
            getattr(self, f"{kind}_max_ttl_seconds"),
        )

    def shield_region(self, stage: StageSettings) -> str | None:
        """The Origin Shield region for this stage: `origin_shield_region` with "stack-region"
        replaced by the stage's region (a SettingError naming it when the stage has none)."""
        if self.origin_shield_region != STACK_REGION:
            return self.origin_shield_region
        require(
            stage.region is not None,
            "origin_shield_region",
            STACK_REGION,
            f"'{STACK_REGION}' needs the stage's region: set stages.{stage.name}.region",
        )
        return stage.region
