"""The employee-directory settings cdk.json ships, and why. The only tests that read cdk.json's
values themselves: every other test reads the settings the stage was built with."""

from __future__ import annotations

from house.domains import PLACEHOLDER_HOSTED_ZONE_ID, is_placeholder
from tests.support.site_failover import assert_ships_failover_in_prod_only
from tests.support.synth import shipped_settings


def test_dev_is_small_and_keeps_one_session_manager_zone():
    dev = shipped_settings("employee-directory", "dev")
    assert (dev.instance_type, dev.min_instances, dev.max_instances) == ("t4g.micro", 1, 2)
    assert dev.fallback_instance_types == (), (
        "t4g is not a Nitro type with encryption in transit, the only fallbacks Control Tower "
        "accepts (CT.AUTOSCALING.PR.11): dev's one cheap type has none (docs/compliance.md)"
    )
    assert dev.instance_endpoints == "one-az", "a shell for debugging at a third of the cost"
    assert (dev.waf, dev.threat_protection, dev.hr_admin_mfa) == (False, False, "OPTIONAL")


def test_prod_spans_zones_and_guards_the_writes():
    prod = shipped_settings("employee-directory", "prod")
    assert (prod.instance_type, prod.min_instances, prod.max_instances) == ("c7g.medium", 2, 6)
    assert prod.fallback_instance_types == ("m7g.medium", "c7gd.medium"), (
        "CT.AUTOSCALING.PR.6/PR.11: Graviton Nitro types with encryption in transit, the same "
        "vCPU, when an AZ runs out of c7g.medium (no CPU credits to run out of either)"
    )
    assert prod.instance_endpoints == "every-az"
    assert (prod.waf, prod.threat_protection, prod.hr_admin_mfa) == (True, True, "REQUIRED")
    assert (prod.api_throttle_rate, prod.api_throttle_burst) == (100, 200)


def test_both_stages_build_both_stacks_with_hr_admins_and_open_to_no_network():
    for stage in ("dev", "prod"):
        shipped = shipped_settings("employee-directory", stage)
        assert shipped.classic and shipped.serverless and shipped.hr_admin
        # Who may reach the classic app is the deployer's to say (-c ...allowed_cidrs=...).
        assert shipped.allowed_cidrs == ()


def test_prod_ships_placeholder_domains_the_preflight_refuses_until_they_are_yours():
    """Prod serves the site on domain_names (TLS 1.2+) and the classic app over HTTPS on
    classic_domain_name; cdk.json cannot know yours, so it names example.com and a zone id
    that says what to put there (house/domains.py), and never turns an opt-out on. Dev goes
    without (its *.cloudfront.net and load-balancer names)."""
    prod = shipped_settings("employee-directory", "prod")
    assert prod.domain_names == ("directory.example.com",)
    assert prod.classic_domain_name == "directory-classic.example.com"
    assert all(is_placeholder(n) for n in (*prod.domain_names, prod.classic_domain_name))
    assert (prod.hosted_zone_id, prod.hosted_zone_name) == (
        PLACEHOLDER_HOSTED_ZONE_ID,
        "example.com",
    )
    assert prod.certificate_arn is None, "the stack creates and validates the certificates"
    assert not prod.allow_tls_below_1_2 and not prod.allow_plain_http
    dev = shipped_settings("employee-directory", "dev")
    assert dev.domain_names == () and dev.classic_domain_name is None


def test_prod_fails_the_site_over_to_us_west_2_and_dev_stays_in_one_region():
    assert_ships_failover_in_prod_only("employee-directory")
