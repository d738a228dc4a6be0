"""The employee-directory settings cdk.json ships, and why. The only tests that read cdk.json's
values themselves: every other test reads the settings the stage was built with."""

from __future__ import annotations

from tests.support.synth import shipped_settings


def test_dev_is_small_and_keeps_one_session_manager_zone():
    dev = shipped_settings("employee-directory", "dev")
    assert (dev.instance_type, dev.min_instances, dev.max_instances) == ("t4g.micro", 1, 2)
    assert dev.instance_endpoints == "one-az", "a shell for debugging at a third of the cost"
    assert (dev.waf, dev.threat_protection, dev.hr_admin_mfa) == (False, False, "OPTIONAL")


def test_prod_spans_zones_and_guards_the_writes():
    prod = shipped_settings("employee-directory", "prod")
    assert (prod.instance_type, prod.min_instances, prod.max_instances) == ("t4g.small", 2, 6)
    assert prod.instance_endpoints == "every-az"
    assert (prod.waf, prod.threat_protection, prod.hr_admin_mfa) == (True, True, "REQUIRED")
    assert (prod.api_throttle_rate, prod.api_throttle_burst) == (100, 200)


def test_both_stages_build_both_stacks_with_hr_admins_and_open_to_no_network():
    for stage in ("dev", "prod"):
        shipped = shipped_settings("employee-directory", stage)
        assert shipped.classic and shipped.serverless and shipped.hr_admin
        # Who may reach the classic app is the deployer's to say (-c ...allowed_cidrs=...).
        assert shipped.allowed_cidrs == ()
