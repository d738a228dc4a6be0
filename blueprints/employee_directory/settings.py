"""Employee directory's settings: `blueprints.<instance>.<stage>` in cdk.json. Defaults are the
cheap (dev) profile; docs/employee-directory.md lists every setting with the shipped dev and prod
values."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from house.settings import Settings, require
from house.types import EmailAddress, GravitonInstanceType, Ipv4Cidr, PriceClass


class EmployeeDirectorySettings(Settings):
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
    allowed_cidrs: tuple[Ipv4Cidr, ...] = Field(
        (),
        description="Networks whose clients may reach the classic app's load balancer (HTTP): "
        "your office or VPN, e.g. 203.0.113.0/24. Empty: no one (deploys, serves nobody). "
        "0.0.0.0/0 opens the directory, writes included, to the internet.",
    )
    instance_endpoints: Literal["none", "one-az", "every-az"] = Field(
        "one-az",
        description="Interface endpoints (ssm, ssmmessages, ec2messages, logs) for the classic "
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
    def _rules(self) -> EmployeeDirectorySettings:
        require(
            self.classic or self.serverless,
            "classic",
            self.classic,
            "at least one of classic and serverless must be true",
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
