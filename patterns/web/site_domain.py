"""SiteDomainSettings: the settings of a StaticSite's own domain (issue 12 item 1), and
SiteFailoverSettings: those of its origin failover (CT.CLOUDFRONT.PR.4), for a blueprint settings
model to inherit, so each site blueprint states the same fields with the same rules.

Prod serves only HTTPS with a certificate of yours, TLS 1.2+ (`house.settings.
require_domain_in_prod`): without `domain_names` a prod stage is a SettingError naming it, unless
`allow_tls_below_1_2` is true. The shipped prod profiles name `example.com` placeholders that the
synth accepts and `make preflight` refuses (house/domains.py).
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, model_validator

from house.settings import Settings, require, require_domain_in_prod, require_in_zone
from house.types import (
    CloudFrontCertificateArn,
    DomainName,
    HostedZoneId,
    HostedZoneName,
    Region,
)
from patterns.web.static_site import CustomDomain


class SiteDomainSettings(Settings):
    domain_names: tuple[DomainName, ...] = Field(
        (),
        description="Your own names for the site (CloudFront), served with TLS 1.2+ only "
        "(TLSv1.2_2021, SNI); none = the *.cloudfront.net name, with which CloudFront also "
        "accepts TLS 1.0/1.1 (prod refuses that unless allow_tls_below_1_2).",
    )
    certificate_arn: CloudFrontCertificateArn | None = Field(
        None,
        description="An existing us-east-1 ACM certificate for domain_names; null = one is "
        "created (validated in hosted_zone_id's zone; outside us-east-1 in the stack's Edge "
        "companion there).",
    )
    hosted_zone_id: HostedZoneId | None = Field(
        None,
        description="Route 53 public zone of domain_names: certificate validation and alias "
        "A/AAAA records; null = you add both to your DNS yourself.",
    )
    hosted_zone_name: HostedZoneName | None = Field(
        None, description="Name of the hosted_zone_id zone."
    )
    allow_tls_below_1_2: bool = Field(
        False,
        description="Prod only: true lets prod go without domain_names, on the *.cloudfront.net "
        "certificate, with which CloudFront accepts TLS 1.0 and 1.1 from viewers whatever the "
        "security policy says. Off, prod without a domain is an error.",
    )

    @model_validator(mode="after")
    def _site_domain_rules(self, info: ValidationInfo) -> SiteDomainSettings:
        require(
            bool(self.domain_names)
            or (
                self.certificate_arn is None
                and (self.hosted_zone_id is None or self._names_in_zone())
            ),
            "domain_names",
            self.domain_names,
            "certificate_arn/hosted_zone_id need at least one domain name",
        )
        require(
            (self.hosted_zone_id is None) == (self.hosted_zone_name is None),
            "hosted_zone_name",
            self.hosted_zone_name,
            "names the hosted_zone_id zone: give hosted_zone_id and hosted_zone_name together",
        )
        require_in_zone("domain_names", self.domain_names, self.domain_names, self.hosted_zone_name)
        if not self._builds_site():
            return self
        require_domain_in_prod(
            info,
            domain_setting="domain_names",
            domain=self.domain_names,
            opt_out_setting="allow_tls_below_1_2",
            opt_out=self.allow_tls_below_1_2,
            gives_up=self._without_a_domain(),
        )
        return self

    def _names_in_zone(self) -> tuple[str, ...]:
        """Every name of these settings that hosted_zone_id's zone holds."""
        return self.domain_names

    def _builds_site(self) -> bool:
        """Whether these settings build the site at all (a blueprint that may leave it out
        says so here: prod then needs no domain for it)."""
        return True

    def _without_a_domain(self) -> str:
        """What the site serves without domain_names, in the words of the prod error."""
        return "the *.cloudfront.net certificate, with which CloudFront accepts TLS 1.0 and 1.1"

    def site_domain(self) -> CustomDomain | None:
        """The StaticSite `domain` these settings give (None without domain_names)."""
        if not self.domain_names:
            return None
        return CustomDomain(
            names=self.domain_names,
            certificate_arn=self.certificate_arn,
            hosted_zone_id=self.hosted_zone_id,
            hosted_zone_name=self.hosted_zone_name,
        )


class SiteFailoverSettings(Settings):
    """Origin failover for the site's distribution: a replica of the site bucket in
    `failover_region` (companion stack `<StackId>Failover`) that CloudFront asks when the site
    bucket fails (patterns/web/static_site.py). Prod requires it unless `allow_single_origin`;
    dev goes without by default (one region, no extra stack)."""

    failover_region: Region | None = Field(
        None,
        description="Region of the site bucket's replica (companion stack <StackId>Failover), "
        "which CloudFront serves the site from when the site bucket answers 5xx or cannot be "
        "reached; must differ from the stage's region. null = one origin, no failover (prod "
        "refuses that unless allow_single_origin).",
    )
    allow_single_origin: bool = Field(
        False,
        description="Prod only: true lets prod go without failover_region, serving the site "
        "from its one bucket only, so a regional S3 outage takes the site down. Off, prod "
        "without failover_region is an error.",
    )

    @model_validator(mode="after")
    def _site_failover_rules(self, info: ValidationInfo) -> SiteFailoverSettings:
        if not self._site_distribution():
            require(
                self.failover_region is None,
                "failover_region",
                self.failover_region,
                "fails over the site's CloudFront distribution, which these settings do not "
                "build: leave it null",
            )
            return self
        stage = (info.context or {}).get("stage")
        if stage is None:
            return self
        if self.failover_region is not None:
            require(
                stage.region is not None,
                "failover_region",
                self.failover_region,
                f"a replica in another region needs the stage's own region: set "
                f"stages.{stage.name}.region",
            )
            require(
                self.failover_region != stage.region,
                "failover_region",
                self.failover_region,
                f"must differ from the stage's region ({stage.region}, "
                f"stages.{stage.name}.region): a replica in the same region fails with the "
                "site bucket",
            )
        elif stage.name == "prod":
            require(
                self.allow_single_origin,
                "failover_region",
                self.failover_region,
                "prod serves the site from two regions (CloudFront origin failover, Control "
                "Tower CT.CLOUDFRONT.PR.4): set failover_region to a region other than the "
                "stage's, or set allow_single_origin true to accept a site that a regional S3 "
                "outage takes down",
            )
        return self

    def _site_distribution(self) -> bool:
        """Whether these settings build the site's CloudFront distribution (a blueprint that may
        host it elsewhere or leave it out says so here: failover then does not apply)."""
        return True
