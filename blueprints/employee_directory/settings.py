"""Employee directory's settings: `blueprints.<instance>.<stage>` in cdk.json. Defaults are the
cheap (dev) profile; docs/employee-directory.md lists every setting with the shipped dev and prod
values."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, model_validator

from house.settings import require, require_domain_in_prod, require_in_zone
from house.types import DomainName, EmailAddress, GravitonInstanceType, Ipv4Cidr, PriceClass
from patterns.web.site_domain import SiteDomainSettings, SiteFailoverSettings


class EmployeeDirectorySettings(SiteFailoverSettings, SiteDomainSettings):
    """The serverless site's domain settings (domain_names, certificate_arn, hosted_zone_id,
    hosted_zone_name, allow_tls_below_1_2) are `SiteDomainSettings`'; the classic load balancer
    has its own name (classic_domain_name) in the same hosted zone."""

    # -- which stacks ---------------------------------------------------------------------------
    classic: bool = Field(
        True,
        description="Build EmployeeDirectoryClassic (the app on EC2 behind a load balancer).",
    )
    serverless: bool = Field(
        True,
        description="Build EmployeeDirectoryServerless (CloudFront, API Gateway, one Lambda "
        "function per operation).",
    )
    # -- both: photos -----------------------------------------------------------------------------
    max_upload_mb: int = Field(
        5, ge=1, le=20, description="Largest photo S3 accepts through the pre-signed POST, in MB."
    )
    thumbnail_size: int = Field(
        256, ge=32, le=1024, description="Longest side of a photo's thumbnail, in pixels."
    )
    # -- classic: the web tier --------------------------------------------------------------------
    instance_type: GravitonInstanceType = Field(
        "t4g.micro",
        description="Instance type of the classic app (Graviton, arm64 AMI). Billed per "
        "instance-hour, idle or not.",
    )
    fallback_instance_types: tuple[GravitonInstanceType, ...] = Field(
        (),
        max_length=5,
        description="Graviton types the classic group launches, in this order, when "
        "instance_type has no capacity in an AZ (billed per instance-hour like it while they "
        "run); none = instance_type only.",
    )
    min_instances: int = Field(1, ge=1, le=100, description="Fewest classic app instances.")
    max_instances: int = Field(2, ge=1, le=100, description="Most classic app instances.")
    cpu_target_percent: int = Field(
        60, ge=10, le=90, description="Average CPU the classic Auto Scaling group keeps."
    )
    requests_per_instance_per_minute: int = Field(
        600,
        ge=10,
        le=100_000,
        description="Load balancer requests per instance per minute the group scales to keep.",
    )
    classic_domain_name: DomainName | None = Field(
        None,
        description="The classic app on this name, over HTTPS (an ACM certificate validated in "
        "hosted_zone_id's zone, ELB's TLS 1.2+ policy, an alias A record); port 80 then only "
        "redirects to it. null = plain HTTP on the load balancer's name (prod refuses that "
        "unless allow_plain_http).",
    )
    allow_plain_http: bool = Field(
        False,
        description="Prod only: true lets the classic app go without classic_domain_name, "
        "serving the directory over plain HTTP (no TLS at all) on the load balancer's name. "
        "Off, prod without it is an error.",
    )
    allowed_cidrs: tuple[Ipv4Cidr, ...] = Field(
        (),
        description="Networks whose clients may reach the classic app's load balancer: "
        "your office or VPN, e.g. 203.0.113.0/24. Empty: no one (deploys, serves nobody). "
        "0.0.0.0/0 opens the directory, writes included, to the internet.",
    )
    instance_endpoints: Literal["none", "one-az", "every-az"] = Field(
        "one-az",
        description="Interface endpoints (ssm, ssmmessages, logs) for the classic "
        "instances, which have no internet route: Session Manager shells and the app's logs in "
        "CloudWatch need them. 'one-az': in the first AZ only (cheaper; the other AZs reach it "
        "across zones); 'every-az': in each AZ; 'none': no shell, logs stay on the instance. "
        "Each endpoint bills per AZ-hour.",
    )
    alarm_email: EmailAddress | None = Field(
        None,
        description="Where the classic stack's alarms (server errors, unhealthy instances, slow "
        "answers) are mailed; SNS mails a confirmation link first. null: the alarms' topic has "
        "no subscriber (see them on the dashboard).",
    )
    # -- serverless: API and site ----------------------------------------------------------------
    hr_admin: bool = Field(
        True,
        description="A Cognito user pool with an HR admin group: creating, changing and "
        "deleting employees and uploading photos need an ID token of a member (reads stay "
        "public). false: anyone who reaches the API may write.",
    )
    hr_admin_mfa: Literal["OPTIONAL", "REQUIRED"] = Field(
        "OPTIONAL",
        description="TOTP multi-factor sign-in for HR admins: OPTIONAL lets an admin enrol, "
        "REQUIRED makes every admin use it.",
    )
    threat_protection: bool = Field(
        False,
        description="Cognito threat protection for HR admin sign-ins (the Plus plan, billed "
        "per monthly active user).",
    )
    api_throttle_rate: int = Field(
        20, ge=1, le=10_000, description="Requests per second the API stage accepts (steady)."
    )
    api_throttle_burst: int = Field(
        40, ge=1, le=10_000, description="Requests the API stage accepts in a burst."
    )
    price_class: PriceClass = Field(
        "PriceClass_100",
        description="CloudFront edges that serve the site and API: PriceClass_100 (North "
        "America and Europe) is the cheapest.",
    )
    waf: bool = Field(
        False,
        description="A WAF web ACL on the distribution (AWS managed rules + a per-IP rate "
        "limit; in us-east-1: this stack there, else its Edge companion). Billed per web ACL, "
        "rule and million requests.",
    )
    waf_rate_limit: int = Field(
        1000,
        ge=100,
        le=2_000_000_000,
        description="Requests per IP per 5 minutes above which WAF blocks the IP.",
    )

    @model_validator(mode="after")
    def _rules(self, info: ValidationInfo) -> EmployeeDirectorySettings:
        require(
            self.classic or self.serverless,
            "classic",
            self.classic,
            "at least one of classic and serverless must be true",
        )
        require(
            len(set(self.fallback_instance_types)) == len(self.fallback_instance_types)
            and self.instance_type not in self.fallback_instance_types,
            "fallback_instance_types",
            self.fallback_instance_types,
            f"each type once, and not instance_type ({self.instance_type}) itself",
        )
        require(
            self.classic_domain_name is None or self.hosted_zone_id is not None,
            "hosted_zone_id",
            self.hosted_zone_id,
            "classic_domain_name's certificate is validated, and its alias record written, in "
            "this Route 53 zone: set hosted_zone_id and hosted_zone_name",
        )
        if self.classic_domain_name is not None:
            require_in_zone(
                "classic_domain_name",
                self.classic_domain_name,
                [self.classic_domain_name],
                self.hosted_zone_name,
            )
        if self.classic:
            require_domain_in_prod(
                info,
                domain_setting="classic_domain_name",
                domain=self.classic_domain_name,
                opt_out_setting="allow_plain_http",
                opt_out=self.allow_plain_http,
                gives_up="plain HTTP, with no TLS at all",
            )
        require(
            self.min_instances <= self.max_instances,
            "min_instances",
            self.min_instances,
            f"must not exceed max_instances ({self.max_instances})",
        )
        require(
            self.api_throttle_rate <= self.api_throttle_burst,
            "api_throttle_burst",
            self.api_throttle_burst,
            f"allowed: {self.api_throttle_rate} (api_throttle_rate)..10000",
        )
        require(
            self.hr_admin or (self.hr_admin_mfa == "OPTIONAL" and not self.threat_protection),
            "hr_admin_mfa",
            self.hr_admin_mfa,
            "MFA and threat protection are settings of the HR admin sign-in: set hr_admin true",
        )
        return self

    def _builds_site(self) -> bool:
        return self.serverless

    def _site_distribution(self) -> bool:
        return self.serverless

    def _names_in_zone(self) -> tuple[str, ...]:
        return (*self.domain_names, *filter(None, [self.classic_domain_name]))
