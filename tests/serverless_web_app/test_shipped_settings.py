"""The ServerlessWebApp settings cdk.json ships, and why. The only tests that read cdk.json's
values for its two instances themselves: every other test reads the settings the stage was
built with."""

from __future__ import annotations

import pytest

from house.domains import PLACEHOLDER_HOSTED_ZONE_ID, is_placeholder
from tests.support.site_failover import assert_ships_failover_in_prod_only
from tests.support.synth import shipped_settings

INSTANCES = ("serverless-web-app", "serverless-web-app-amplify")


@pytest.mark.parametrize("instance", INSTANCES)
def test_dev_is_free_while_idle_and_lets_a_test_user_in_without_an_authenticator(instance):
    dev = shipped_settings(instance, "dev")
    assert (dev.waf, dev.threat_protection, dev.cross_origin_api) == (False, False, False)
    assert dev.mfa == "OPTIONAL"
    assert (dev.api_throttle_rate, dev.api_throttle_burst) == (10, 20)


@pytest.mark.parametrize("instance", INSTANCES)
def test_prod_has_waf_mfa_and_more_throughput_on_the_essentials_tier(instance):
    prod = shipped_settings(instance, "prod")
    assert prod.waf and prod.mfa == "REQUIRED"
    assert prod.threat_protection is False, "Essentials by default; Plus is a per-user price"
    assert (prod.api_throttle_rate, prod.api_throttle_burst) == (100, 200)


def test_one_instance_per_hosting_mode_the_amplify_one_deploying_its_own_files():
    for stage in ("dev", "prod"):
        assert shipped_settings("serverless-web-app", stage).hosting == "cloudfront"
        amplify = shipped_settings("serverless-web-app-amplify", stage)
        assert amplify.hosting == "amplify" and amplify.amplify_repository is None


@pytest.mark.parametrize(
    ("instance", "name"),
    [
        ("serverless-web-app", "rides.example.com"),
        ("serverless-web-app-amplify", "rides-amplify.example.com"),
    ],
)
def test_prod_ships_a_placeholder_domain_the_preflight_refuses_until_it_is_yours(instance, name):
    """Prod serves the page on a domain of yours (CloudFront: TLSv1.2_2021; Amplify Hosting: a
    domain association); cdk.json cannot know yours, so it names example.com and a zone id
    that says what to put there (house/domains.py), and never turns allow_tls_below_1_2 on."""
    prod = shipped_settings(instance, "prod")
    assert prod.domain_names == (name,) and is_placeholder(name)
    assert (prod.hosted_zone_id, prod.hosted_zone_name) == (
        PLACEHOLDER_HOSTED_ZONE_ID,
        "example.com",
    )
    assert prod.certificate_arn is None and not prod.allow_tls_below_1_2
    assert shipped_settings(instance, "dev").domain_names == ()


def test_prod_fails_the_site_over_to_us_west_2_and_dev_stays_in_one_region():
    assert_ships_failover_in_prod_only("serverless-web-app")
