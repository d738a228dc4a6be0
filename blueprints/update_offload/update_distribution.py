"""A CloudFront distribution that offloads software-update downloads from an existing HTTP app.

The origin is either a VPC origin (an internal load balancer, like the update server built by
this library: nothing on the internet reaches it) or a DNS name (an origin elsewhere, reached
over HTTPS). Three kinds of request, in the order CloudFront matches them:

    manifest paths (e.g. /updates/latest.json)  -> cached briefly: clients see a release quickly
    update paths   (e.g. /updates/*)            -> cached long: published files never change
    everything else                             -> not cached, forwarded as before: the app
                                                   behaves exactly as it did without CloudFront

Cache keys carry no cookies and no headers, and only the query strings the origin's responses
vary on (none by default): a client appending `?ts=...` must not turn every download into an
origin request.

With a `failover_origin` (a second origin serving the same update and manifest paths: the
update server's mirror in S3, or a second server of yours), the two cached behaviours target an
origin group: CloudFront asks the origin first, and the failover origin when the origin cannot
be reached or answers 500/502/503/504. The default behaviour stays on the origin alone:
CloudFront accepts origin groups only on behaviours that allow GET/HEAD(/OPTIONS), and the app's
other requests (logins, uploads) have no second home.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from house.compliance import acknowledge
from house.edge import VIEWER_SECURITY_POLICY
from house.names import CLOUDFRONT_POLICY_NAME_MAX, physical_name
from house.types import REGION

# CloudFront's limits: path patterns of at most 255 characters from this set; at most 10 query
# strings in a cache policy's allow list. A year is the longest TTL this library lets you ask for.
_PATH_PATTERN = re.compile(r"^/[A-Za-z0-9_\-.*$/~\"'@:+&]{1,254}$")
_QUERY_STRING = re.compile(r"^[A-Za-z0-9_\-.~]{1,128}$")
MAX_QUERY_STRINGS = 10
MAX_TTL_SECONDS = 365 * 24 * 3600
_REGION = re.compile(REGION)
# What makes CloudFront ask the failover origin (besides no connection or no answer in time):
# the origin failing, not the origin answering. A 404 or 403 from the origin is its answer: the
# publisher writes the origin first, so the mirror never holds a file the origin lacks, and
# failing over on 404 would only double every miss and turn it into the mirror's 403.
FAILOVER_STATUS_CODES = (500, 502, 503, 504)


def path_pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be a cache behaviour's path pattern here, or None if it can."""
    if pattern in ("/*", "*"):
        return "the catch-all is the default behaviour, which is never cached"
    if not _PATH_PATTERN.fullmatch(pattern):
        return (
            "a path pattern starts with '/', is at most 255 characters of "
            "A-Z a-z 0-9 _ - . * $ / ~ \" ' @ : + &"
        )
    return None


def query_string_problem(name: str) -> str | None:
    if not _QUERY_STRING.fullmatch(name):
        return "a query string name is 1-128 characters of A-Z a-z 0-9 _ - . ~"
    return None


def region_problem(region: str) -> str | None:
    if not _REGION.fullmatch(region):
        return "an AWS region name such as 'us-east-1'"
    return None


def https_origin(
    domain_name: str, protocol: Literal["http", "https"] = "https", **options
) -> origins.HttpOrigin:
    """An origin reached over the internet at `domain_name` (TLS 1.2 with "https")."""
    return origins.HttpOrigin(
        domain_name,
        # An ALB's own DNS name (*.elb.amazonaws.com) can never match a certificate you
        # own, so HTTPS to the origin needs the origin reached by a name of yours.
        protocol_policy=(
            cloudfront.OriginProtocolPolicy.HTTPS_ONLY
            if protocol == "https"
            else cloudfront.OriginProtocolPolicy.HTTP_ONLY
        ),
        origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
        **options,
    )


@dataclasses.dataclass(frozen=True)
class CacheTtl:
    """A cache policy's TTLs in seconds. CloudFront uses `default` when the origin sends no
    Cache-Control/Expires, and clamps what the origin sends into [`minimum`, `maximum`]."""

    minimum: int
    default: int
    maximum: int

    def problem(self) -> str | None:
        if not 0 <= self.minimum <= self.default <= self.maximum <= MAX_TTL_SECONDS:
            return f"TTLs must satisfy 0 <= min <= default <= max <= {MAX_TTL_SECONDS} (one year)"
        return None


class UpdateDistribution(Construct):
    """CloudFront in front of `origin_domain_name`, caching only update files and manifests.

    `vpc_origin`: reach the origin through this CloudFront VPC origin (an internal load
    balancer); its own protocol policy decides HTTP or HTTPS, and `origin_domain_name` is then
    the name CloudFront sends as Host and checks the origin's certificate against. Omitted: the
    origin is reached at `origin_domain_name` over the internet with `origin_protocol`.
    `failover_origin`: a second origin serving the update and manifest paths (module doc);
    omitted, those behaviours have the one origin.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        origin_domain_name: str,
        log_bucket: s3.IBucket,
        vpc_origin: cloudfront.IVpcOrigin | None = None,
        failover_origin: cloudfront.IOrigin | None = None,
        origin_protocol: Literal["http", "https"] = "https",
        update_path_patterns: Sequence[str] = ("/updates/*",),
        manifest_path_patterns: Sequence[str] = ("/updates/latest.json",),
        update_ttl: CacheTtl = CacheTtl(86400, MAX_TTL_SECONDS, MAX_TTL_SECONDS),
        manifest_ttl: CacheTtl = CacheTtl(0, 60, 300),
        cache_key_query_strings: Sequence[str] = (),
        origin_shield_region: str | None = None,
        origin_custom_headers: Mapping[str, str] | None = None,
        price_class: cloudfront.PriceClass = cloudfront.PriceClass.PRICE_CLASS_100,
        web_acl_arn: str | None = None,
        domain_names: Sequence[str] = (),
        certificate: acm.ICertificate | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.custom_domain_names = list(domain_names)
        _check(
            origin_domain_name,
            update_path_patterns,
            manifest_path_patterns,
            update_ttl,
            manifest_ttl,
            cache_key_query_strings,
            origin_shield_region,
            domain_names,
            certificate,
        )

        shield = dict(
            origin_shield_enabled=origin_shield_region is not None,
            origin_shield_region=origin_shield_region,
            custom_headers=dict(origin_custom_headers or {}) or None,
        )
        self.origin: cloudfront.IOrigin = (
            origins.VpcOrigin.with_vpc_origin(vpc_origin, domain_name=origin_domain_name, **shield)
            if vpc_origin is not None
            else https_origin(origin_domain_name, origin_protocol, **shield)
        )
        # Update files and manifests: the origin, then the failover origin (one group for both).
        self.cached_origin: cloudfront.IOrigin = (
            origins.OriginGroup(
                primary_origin=self.origin,
                fallback_origin=failover_origin,
                fallback_status_codes=list(FAILOVER_STATUS_CODES),
            )
            if failover_origin is not None
            else self.origin
        )

        query_strings = (
            cloudfront.CacheQueryStringBehavior.allow_list(*cache_key_query_strings)
            if cache_key_query_strings
            else cloudfront.CacheQueryStringBehavior.none()
        )
        self.update_cache_policy = self._cache_policy(
            "UpdateFiles", "Immutable update files: cached long", update_ttl, query_strings
        )
        self.manifest_cache_policy = self._cache_policy(
            "Manifests", "Update manifests: cached briefly", manifest_ttl, query_strings
        )

        def cached(policy: cloudfront.ICachePolicy) -> cloudfront.BehaviorOptions:
            return cloudfront.BehaviorOptions(
                origin=self.cached_origin,
                cache_policy=policy,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                compress=True,
            )

        # Insertion order is CloudFront's match order: manifests before the update wildcard.
        behaviors = {p: cached(self.manifest_cache_policy) for p in manifest_path_patterns}
        behaviors.update({p: cached(self.update_cache_policy) for p in update_path_patterns})

        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Software-update offload for {cdk.Stack.of(self).stack_name}",
            default_behavior=cloudfront.BehaviorOptions(
                origin=self.origin,
                # The app keeps working exactly as before: nothing cached, every method, cookie,
                # header and query string forwarded; the Host header is the origin's own, so an
                # origin with name-based virtual hosts still sees its name.
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                compress=True,
            ),
            additional_behaviors=behaviors,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=price_class,
            domain_names=list(domain_names) or None,
            certificate=certificate,
            # Only a certificate of yours can raise the viewer TLS floor (see CFR4 below).
            minimum_protocol_version=VIEWER_SECURITY_POLICY if certificate else None,
            web_acl_id=web_acl_arn,
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Software updates go to every installed client wherever it is; blocking countries "
            "here would leave those clients unpatched (add a geo restriction if licensing "
            "requires).",
        )
        if certificate is None:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR4",
                "This distribution has no custom domain, so clients get the *.cloudfront.net "
                "certificate, with which CloudFront negotiates TLSv1 and TLSv1.1 too whatever the "
                "security policy says; domain_names sets TLSv1.2_2021. The blueprint builds this "
                "only in dev, or in prod when allow_tls_below_1_2 is true.",
            )
        if vpc_origin is None and origin_protocol == "http":
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR5",
                "This dev distribution reaches its origin over plain HTTP because origin_protocol "
                "says 'http' (the origin has no certificate for its name); the blueprint refuses "
                "that in prod.",
            )
        if web_acl_arn is None:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR2",
                "This stage serves public, immutable update files through cache behaviours that "
                "accept GET/HEAD only; the WAF web ACL is a setting (waf or web_acl_arn) that the "
                "prod profile turns on.",
            )

    def _cache_policy(
        self,
        id: str,
        comment: str,
        ttl: CacheTtl,
        query_strings: cloudfront.CacheQueryStringBehavior,
    ) -> cloudfront.CachePolicy:
        return cloudfront.CachePolicy(
            self,
            id,
            cache_policy_name=physical_name(self, id, max_length=CLOUDFRONT_POLICY_NAME_MAX),
            comment=comment,
            min_ttl=cdk.Duration.seconds(ttl.minimum),
            default_ttl=cdk.Duration.seconds(ttl.default),
            max_ttl=cdk.Duration.seconds(ttl.maximum),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            query_string_behavior=query_strings,
            # Needed for compression: CloudFront keeps gzip and brotli variants apart only when
            # the normalised Accept-Encoding is part of the key.
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )

    @property
    def domain_name(self) -> str:
        """The name clients should use: the first custom domain, else the cloudfront.net name."""
        return (
            self.custom_domain_names[0]
            if self.custom_domain_names
            else self.distribution.distribution_domain_name
        )


def _check(
    origin_domain_name,
    update_path_patterns,
    manifest_path_patterns,
    update_ttl,
    manifest_ttl,
    cache_key_query_strings,
    origin_shield_region,
    domain_names,
    certificate,
) -> None:
    """The pattern's own guard for forkers calling it directly (settings check the same first)."""
    if not origin_domain_name:
        raise ValueError("origin_domain_name: give the DNS name of the HTTP origin to offload")
    if not update_path_patterns:
        raise ValueError(
            "update_path_patterns: give at least one path pattern such as '/updates/*'"
        )
    patterns = [*manifest_path_patterns, *update_path_patterns]
    for pattern in patterns:
        problem = path_pattern_problem(pattern)
        if problem:
            raise ValueError(f"path pattern {pattern!r}: {problem}")
    if len(set(patterns)) != len(patterns):
        raise ValueError(f"path patterns {patterns} repeat a pattern; each behaviour needs its own")
    for name, ttl in (("update_ttl", update_ttl), ("manifest_ttl", manifest_ttl)):
        if ttl.problem():
            raise ValueError(f"{name} {ttl}: {ttl.problem()}")
    if len(cache_key_query_strings) > MAX_QUERY_STRINGS:
        raise ValueError(f"cache_key_query_strings: CloudFront allows at most {MAX_QUERY_STRINGS}")
    for name in cache_key_query_strings:
        if query_string_problem(name):
            raise ValueError(f"query string {name!r}: {query_string_problem(name)}")
    if origin_shield_region is not None and region_problem(origin_shield_region):
        raise ValueError(
            f"origin_shield_region {origin_shield_region!r}: {region_problem(origin_shield_region)}"
        )
    if bool(domain_names) != (certificate is not None):
        raise ValueError(
            "domain_names and certificate go together: a custom domain needs its certificate"
        )
