"""MyBlog settings: cdk.json parses for both stages, and every bad value fails at synth with a
ValueError naming the setting and what is allowed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from blueprints.my_blog.settings import MyBlogSettings
from house.settings import StageSettings, parse_settings
from tests.support.site_failover import assert_failover_setting_rules

WHERE = "blueprints.my-blog.dev"


def parse(stage: StageSettings | None = None, **raw) -> MyBlogSettings:
    return parse_settings(MyBlogSettings, raw, WHERE, stage=stage)


def stage(name: str = "dev", region: str | None = None, **extra) -> StageSettings:
    return StageSettings(name=name, project="p", team="t", region=region, **extra)


def test_the_welcome_email_is_off_by_default_and_on_with_a_sender():
    assert parse().sender_email is None
    assert parse(sender_email="welcome+dev@example.com").sender_email == "welcome+dev@example.com"
    assert parse(sender_email=None).sender_email is None


def test_settings_are_frozen():
    with pytest.raises(ValidationError, match="frozen"):
        parse().dax = True  # type: ignore[misc]


@pytest.mark.parametrize(
    "raw, setting, allowed",
    [
        ({"sender_email": "not an email"}, "sender_email", "an e-mail address"),
        ({"sender_email": "welcome@example.com\n"}, "sender_email", "an e-mail address"),
        (
            {"ses_domain": "Example.COM", "sender_email": "a@example.com"},
            "ses_domain",
            "lowercase DNS name",
        ),
        (
            {"ses_domain": "example.org", "sender_email": "a@example.com"},
            "sender_email",
            "ses_domain",
        ),
        ({"ses_domain": "example.com"}, "sender_email", "set sender_email too"),
        ({"ses_sandbox_recipients": ["me@example.com"]}, "sender_email", "set sender_email too"),
        (
            {"ses_sandbox_recipients": ["ok@example.com", "nope"], "sender_email": "a@example.com"},
            "ses_sandbox_recipients",
            "e-mail",
        ),
        ({"welcome_retry_attempts": 11}, "welcome_retry_attempts", "0..10"),
        ({"confirm_link_hours": 0}, "confirm_link_hours", "1..168"),
        ({"subscribe_rate_limit": 101}, "subscribe_rate_limit", "1..100"),
        ({"origin_secret_generation": 0}, "origin_secret_generation", "1..1000000"),
        ({"lock_origin": "maybe"}, "lock_origin", "true/false"),
        ({"welcome_max_retries": 1}, "welcome_max_retries", "renamed to welcome_retry_attempts"),
        (
            {"content_security_policy": "script-src 'self'"},
            "content_security_policy",
            "default-src",
        ),
        ({"price_class": "PriceClass_Cheap"}, "price_class", "PriceClass_100"),
        ({"domain_names": ["Blog.Example.com"]}, "domain_names", "lowercase DNS name"),
        (
            {
                "domain_names": ["blog.example.com"],
                "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
            },
            "certificate_arn",
            "us-east-1",
        ),
        ({"hosted_zone_id": "Z123"}, "domain_names", "need at least one domain"),
        (
            {"domain_names": ["blog.example.com"], "hosted_zone_id": "zone-1"},
            "hosted_zone_id",
            "Z0123",
        ),
        ({"waf_rate_limit": 10}, "waf_rate_limit", "100.."),
        (
            {"api_cache_ttl_seconds": 600, "api_cache_max_ttl_seconds": 300},
            "api_cache_ttl_seconds",
            "1..api_cache_max_ttl_seconds",
        ),
        ({"api_throttle_rate": 0}, "api_throttle_rate", "1..10000"),
        (
            {"api_throttle_rate": 50, "api_throttle_burst": 10},
            "api_throttle_burst",
            "api_throttle_rate",
        ),
        ({"replica_regions": ["eu-west-1", "mars-1"]}, "replica_regions", "AWS region name"),
        ({"replica_regions": ["eu-west-1", "eu-west-1"]}, "replica_regions", "at most once"),
        ({"dax_node_type": "cache.t3.small"}, "dax_node_type", "dax.t3.small"),
        ({"dax_nodes": 0}, "dax_nodes", "1..11"),
        ({"upload_prefix": "uploads"}, "upload_prefix", "ending in '/'"),
        ({"thumbnail_prefix": "/thumbnails/"}, "thumbnail_prefix", "ending in '/'"),
        (
            {"upload_prefix": "media/", "thumbnail_prefix": "media/small/"},
            "thumbnail_prefix",
            "must not overlap",
        ),
        ({"thumbnail_size": 4096}, "thumbnail_size", "32..2048"),
        ({"max_upload_mb": 0}, "max_upload_mb", "1..100"),
        ({"thumbnail_memory_mb": 256}, "thumbnail_memory_mb", "512..10240"),
        ({"dax": "sometimes"}, "dax", "true/false"),
        ({"replica_region": ["eu-west-1"]}, "replica_region", "allowed settings"),
    ],
)
def test_bad_values_name_the_setting_and_what_is_allowed(raw, setting, allowed):
    with pytest.raises(ValueError) as error:
        parse(**raw)
    message = str(error.value)
    assert setting in message and allowed in message, message
    assert message.startswith(WHERE) or f"{WHERE}.{setting}" in message


def test_replicas_need_the_stage_region():
    with pytest.raises(
        ValueError,
        match=r"blueprints\.my-blog\.dev\.replica_regions.*"
        r"stages\.dev\.region",
    ):
        parse(stage(), replica_regions=["eu-west-1"])


def test_waf_and_a_created_certificate_are_allowed_in_any_region():
    """They go to the us-east-1 companion stack (tests/my_blog/test_regions.py)."""
    for region in ("eu-west-1", "eu-central-1", "ap-southeast-2", "us-east-1"):
        parse(stage("prod", region), waf=True, domain_names=["blog.example.com"], **ONE_ORIGIN)
    # The table's own region in the replica list is dropped by the stack, not refused here.
    parse(
        stage("prod", "eu-west-1"),
        replica_regions=["eu-west-1", "us-east-1"],
        **DOMAIN,
        **ONE_ORIGIN,
    )


# What prod needs to serve TLS 1.2+ (the prod-without-a-domain test below).
DOMAIN = {"domain_names": ["blog.example.com"]}
# Prod's failover rule's named opt-out, so a test of another prod rule meets only that rule.
ONE_ORIGIN = {"allow_single_origin": True}


def test_prod_fails_the_site_over_to_another_region_or_says_it_will_not():
    assert_failover_setting_rules(MyBlogSettings, WHERE, **DOMAIN)


def test_prod_without_a_domain_names_the_setting_and_the_opt_out():
    """Issue 12 item 1: prod serves TLS 1.2+ with a certificate of yours, or says by name that
    it accepts TLS 1.0/1.1 on the *.cloudfront.net certificate; dev may go without."""
    with pytest.raises(ValueError) as err:
        parse(stage("prod", "us-east-1"), **ONE_ORIGIN)
    message = str(err.value)
    assert message.startswith(f"setting '{WHERE}.domain_names' is ()"), message
    assert "set allow_tls_below_1_2 true to accept" in message and "TLS 1.0 and 1.1" in message
    prod = stage("prod", "us-east-1")
    assert parse(prod, allow_tls_below_1_2=True, **ONE_ORIGIN).domain_names == ()
    assert parse(prod, **DOMAIN, **ONE_ORIGIN).domain_names == ("blog.example.com",)
    assert parse(stage("dev", "us-east-1")).domain_names == ()


def test_a_brought_certificate_must_be_in_us_east_1():
    with pytest.raises(ValueError, match=r"certificate_arn.*us-east-1"):
        parse(
            domain_names=["blog.example.com"],
            certificate_arn="arn:aws:acm:eu-central-1:123456789012:certificate/abc",
        )


def test_three_dax_nodes_need_three_azs():
    with pytest.raises(ValueError, match="dax_nodes.*availability_zones"):
        parse(stage("prod", "us-east-1"), dax=True, dax_nodes=3, **DOMAIN, **ONE_ORIGIN)
    parse(
        stage("prod", "us-east-1", availability_zones=("us-east-1a", "us-east-1b", "us-east-1c")),
        dax=True,
        dax_nodes=3,
        **DOMAIN,
        **ONE_ORIGIN,
    )


def test_a_stage_that_keeps_data_must_lock_the_origin():
    """Prod (keep_data) without the origin lock would let anyone call the API around the
    distribution's WAF and cache: a ValueError naming lock_origin and the stage."""
    keeping = stage("prod", "us-east-1", keep_data=True)
    # (Without a domain prod first asks for one: the named opt-out isolates the lock's rule.)
    with pytest.raises(ValueError, match=r"lock_origin.*stages\.prod keeps data"):
        parse(keeping, allow_tls_below_1_2=True, **ONE_ORIGIN)
    assert parse(keeping, allow_tls_below_1_2=True, lock_origin=True, **ONE_ORIGIN).lock_origin
    assert not parse(stage("dev")).lock_origin  # a disposable stage may go without
