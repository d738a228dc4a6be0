"""MyBlog's settings: `blueprints.<instance>.<stage>` in cdk.json. Defaults are the cheap (dev)
profile; docs/my-blog.md lists every setting with the shipped dev and prod values."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, model_validator

from house.settings import require
from house.types import (
    DomainName,
    EmailAddress,
    OneLine,
    PriceClass,
    Region,
    S3Folder,
)
from patterns.data.dax_cache import DaxSettings
from patterns.web.site_domain import SiteDomainSettings, SiteFailoverSettings
from patterns.web.static_site import DEFAULT_CSP


class MyBlogSettings(DaxSettings, SiteFailoverSettings, SiteDomainSettings):
    """The site's domain settings (domain_names, certificate_arn, hosted_zone_id,
    hosted_zone_name, allow_tls_below_1_2) are `SiteDomainSettings`'."""

    RENAMED = {
        "api_cache_seconds": "api_cache_ttl_seconds",
        "api_max_cache_seconds": "api_cache_max_ttl_seconds",
        "welcome_max_retries": "welcome_retry_attempts",
    }

    blog_name: OneLine = Field(
        "MyBlog", max_length=60, description="The blog's name, in welcome emails and the console."
    )
    # -- welcome email (SES) --
    sender_email: EmailAddress | None = Field(
        None,
        description="From address of the welcome emails; null = none (no SES identity, no "
        "welcome function). SES must verify it: the stack creates the identity and SES sends a "
        "verification link. An SES identity is unique per account and region: dev and prod "
        "there need different addresses (welcome+dev@...) or one left null.",
    )
    ses_domain: DomainName | None = Field(
        None,
        description="Verify this whole domain in SES instead of one address (needs DKIM CNAMEs "
        "in its DNS); sender_email must be an address at it.",
    )
    ses_sandbox_recipients: tuple[EmailAddress, ...] = Field(
        (),
        description="While the account is in the SES sandbox, SES sends only to verified "
        "addresses: list your test recipients here (each gets an SES identity).",
    )
    welcome_retry_attempts: int = Field(
        3,
        ge=0,
        le=10,
        description="Retries of a failing stream batch before its records go to the failures "
        "queue.",
    )
    # -- subscriptions (on with sender_email) --
    confirm_link_hours: int = Field(
        48,
        ge=1,
        le=168,
        description="How long a confirmation link works; an address nobody confirms is deleted "
        "then (double opt-in: the welcome mail follows the confirmation only).",
    )
    subscribe_rate_limit: int = Field(
        10,
        ge=1,
        le=100,
        description="Subscription requests (subscribe, confirm, unsubscribe) one source address "
        "may make per hour; more are refused with 429 and change nothing.",
    )
    # -- site (CloudFront) --
    content_security_policy: OneLine = Field(
        DEFAULT_CSP,
        description="The site's Content-Security-Policy header (one line, with a default-src).",
    )
    price_class: PriceClass = Field(
        "PriceClass_100",
        description="CloudFront edges that serve the blog: PriceClass_100 (North America and "
        "Europe) is the cheapest, PriceClass_All adds every edge at higher request and transfer "
        "prices.",
    )
    waf: bool = Field(
        False,
        description="A WAF web ACL on the distribution (AWS managed rules + a per-IP rate "
        "limit). Billed per web ACL, per rule and per million requests.",
    )
    waf_rate_limit: int = Field(
        2000,
        ge=100,
        le=2_000_000_000,
        description="Requests per IP per 5 minutes above which WAF blocks the IP.",
    )
    # -- API --
    api_cache_ttl_seconds: int = Field(
        60,
        ge=1,
        le=86_400,
        description="How long CloudFront caches an API GET response (the API's max-age), in "
        "seconds.",
    )
    api_cache_max_ttl_seconds: int = Field(
        300,
        ge=1,
        le=86_400,
        description="The longest CloudFront keeps an API response, whatever the API says.",
    )
    api_throttle_rate: int = Field(
        20, ge=1, le=10_000, description="Requests per second the API stage accepts (steady)."
    )
    api_throttle_burst: int = Field(
        40, ge=1, le=5_000, description="Requests the API stage accepts in a burst."
    )
    lock_origin: bool = Field(
        False,
        description="The API answers only requests that come through the site's CloudFront "
        "distribution (a secret header CloudFront adds, from Secrets Manager); direct calls to "
        "its execute-api URL get 403. Required where data is kept (prod). Billed per secret-month "
        "(two after the first rotation).",
    )
    origin_secret_generation: int = Field(
        1,
        ge=1,
        le=1_000_000,
        description="Bump by one and deploy to rotate the lock_origin secret: the API accepts the "
        "new and the previous value while CloudFront switches over, then the older is deleted.",
    )
    # -- data --
    replica_regions: tuple[Region, ...] = Field(
        (),
        description="Global-table replicas of the table; each bills writes, storage and "
        "replication in its region again. Needs stages.<stage>.region.",
    )
    # -- photos --
    upload_prefix: S3Folder = Field(
        "uploads/", description="Media bucket folder authors upload photos to."
    )
    thumbnail_prefix: S3Folder = Field(
        "thumbnails/", description="Media bucket folder the thumbnails are written to."
    )
    thumbnail_size: int = Field(
        256, ge=32, le=2048, description="Longest side of a thumbnail, in pixels."
    )
    max_upload_mb: int = Field(20, ge=1, le=100, description="Largest photo accepted, in MB.")
    thumbnail_memory_mb: int = Field(
        1024,
        ge=512,
        le=10_240,
        description="Memory of the thumbnail function, in MB: the worst accepted upload peaks "
        "about 410 MB (benchmarks/thumbnail.py, docs/my-blog.md). Billed per GB-second.",
    )
    thumbnail_ready_queue: bool = Field(
        True, description="Announce every new thumbnail on an SNS topic."
    )

    @model_validator(mode="after")
    def _blog_rules(self, info: ValidationInfo) -> MyBlogSettings:
        require(
            self.sender_email is not None or not (self.ses_domain or self.ses_sandbox_recipients),
            "sender_email",
            self.sender_email,
            "ses_domain and ses_sandbox_recipients are for the welcome email: set sender_email too",
        )
        if self.ses_domain is not None:
            require(
                self.sender_email.lower().endswith("@" + self.ses_domain),
                "sender_email",
                self.sender_email,
                f"must be an address at ses_domain {self.ses_domain!r}",
            )
        require(
            "default-src" in self.content_security_policy,
            "content_security_policy",
            self.content_security_policy,
            "expected one line with at least a default-src directive",
        )
        require(
            self.api_cache_ttl_seconds <= self.api_cache_max_ttl_seconds,
            "api_cache_ttl_seconds",
            self.api_cache_ttl_seconds,
            f"allowed: 1..api_cache_max_ttl_seconds ({self.api_cache_max_ttl_seconds})",
        )
        require(
            self.api_throttle_rate <= self.api_throttle_burst,
            "api_throttle_burst",
            self.api_throttle_burst,
            f"allowed: {self.api_throttle_rate} (api_throttle_rate)..5000",
        )
        require(
            len(set(self.replica_regions)) == len(self.replica_regions),
            "replica_regions",
            self.replica_regions,
            "each region at most once",
        )
        require(
            not self.upload_prefix.startswith(self.thumbnail_prefix)
            and not self.thumbnail_prefix.startswith(self.upload_prefix),
            "thumbnail_prefix",
            self.thumbnail_prefix,
            f"must not overlap upload_prefix {self.upload_prefix!r} "
            "(thumbnails would trigger the thumbnail function)",
        )
        stage = (info.context or {}).get("stage")
        if stage is not None:
            require(
                self.lock_origin or not stage.keep_data,
                "lock_origin",
                self.lock_origin,
                f"stages.{stage.name} keeps data (prod): the API must refuse calls that do not "
                "come through CloudFront; set it to true",
            )
            # The table's own region in replica_regions is dropped by the stack, with a warning.
            require(
                not self.replica_regions or stage.region is not None,
                "replica_regions",
                self.replica_regions,
                f"global-table replicas need the stack's region: set stages.{stage.name}.region",
            )
            require(
                not self.dax
                or self.dax_nodes == 1
                or len(stage.availability_zones) >= min(self.dax_nodes, 3),
                "dax_nodes",
                self.dax_nodes,
                f"spreading {self.dax_nodes} DAX nodes needs stages.{stage.name}."
                "availability_zones to list at least 3 AZs",
            )
        return self
