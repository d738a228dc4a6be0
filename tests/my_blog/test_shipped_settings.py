"""The MyBlog settings cdk.json ships, and why. The only tests that read cdk.json's my-blog
values themselves: every other test reads the settings the stage was built with, so a fork that
changes a value here changes this file (and the snapshots), nothing else."""

from __future__ import annotations

from house.domains import PLACEHOLDER_HOSTED_ZONE_ID, is_placeholder
from tests.support.site_failover import assert_ships_failover_in_prod_only
from tests.support.synth import shipped_settings


def test_dev_is_the_cheap_profile():
    dev = shipped_settings("my-blog", "dev")
    assert (dev.dax, dev.waf, dev.replica_regions) == (False, False, ())
    assert dev.price_class == "PriceClass_100", "North America and Europe edges only"
    assert not dev.lock_origin, "no secret billed per month in a disposable stage"


def test_prod_is_global_cached_and_guarded():
    prod = shipped_settings("my-blog", "prod")
    assert prod.dax and prod.dax_nodes == 3, "one DAX node per AZ, as AWS recommends"
    assert prod.dax_node_type == "dax.t3.small"
    assert prod.waf and prod.price_class == "PriceClass_All"
    assert prod.replica_regions == ("eu-west-1", "ap-southeast-2"), "readers in EU and APAC"
    assert (prod.api_throttle_rate, prod.api_throttle_burst) == (100, 200)
    assert prod.welcome_retry_attempts == 5
    assert prod.lock_origin and prod.origin_secret_generation == 1, "no way around the edge"


def test_the_welcome_email_is_off_until_you_set_a_sender():
    """No example address that SES could never verify: set your own (docs/my-blog.md)."""
    for stage in ("dev", "prod"):
        assert shipped_settings("my-blog", stage).sender_email is None


def test_thumbnails_get_the_memory_the_benchmark_measured():
    """benchmarks/thumbnail.py: the worst accepted upload peaks about 410 MB."""
    for stage in ("dev", "prod"):
        assert shipped_settings("my-blog", stage).thumbnail_memory_mb == 1024


def test_prod_ships_placeholder_domain_settings_the_preflight_refuses_until_they_are_yours():
    """Prod serves TLS 1.2+ on a domain of yours only; cdk.json cannot know yours, so it names
    example.com and a zone id that says what to put there (house/domains.py), and never turns
    the opt-out on. Dev goes without a domain."""
    prod = shipped_settings("my-blog", "prod")
    assert prod.domain_names == ("blog.example.com",)
    assert all(is_placeholder(name) for name in prod.domain_names)
    assert (prod.hosted_zone_id, prod.hosted_zone_name) == (
        PLACEHOLDER_HOSTED_ZONE_ID,
        "example.com",
    )
    assert prod.certificate_arn is None, "the stack creates and validates the certificate"
    assert not prod.allow_tls_below_1_2
    assert shipped_settings("my-blog", "dev").domain_names == ()


def test_prod_fails_the_site_over_to_us_west_2_and_dev_stays_in_one_region():
    assert_ships_failover_in_prod_only("my-blog")
