"""Employee directory settings: the shipped profiles parse, and every bad value is one line that
names the setting and says what is allowed (at synth, not an hour into a deploy)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from blueprints.employee_directory.stack import SETTINGS
from house.settings import StageSettings, parse_settings
from tests.support.site_failover import assert_failover_setting_rules

WHERE = "blueprints.employee-directory.dev"
ZONE = {"hosted_zone_id": "Z0123456789ABCDEFGHIJ", "hosted_zone_name": "corp.io"}
DOMAINS = {
    "domain_names": ["people.corp.io"],
    "classic_domain_name": "people-classic.corp.io",
    **ZONE,
}


# Prod's failover rule's named opt-out, so a test of another prod rule meets only that rule.
ONE_ORIGIN = {"allow_single_origin": True}


def parse(stage: StageSettings | None = None, **raw):
    return parse_settings(SETTINGS, raw, WHERE, stage=stage)


def stage(name: str) -> StageSettings:
    return StageSettings(name=name, project="p", team="t")


def test_settings_are_frozen():
    with pytest.raises(ValidationError, match="frozen"):
        SETTINGS().min_instances = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"instance_type": "t3.micro"}, "expected a Graviton (arm64) instance type"),
        ({"min_instances": 0}, f"setting '{WHERE}.min_instances' is 0; allowed: 1..100"),
        (
            {"min_instances": 3, "max_instances": 2},
            f"setting '{WHERE}.min_instances' is 3; must not exceed max_instances (2)",
        ),
        ({"allowed_cidrs": ["10.0.0.0/33"]}, f"setting '{WHERE}.allowed_cidrs[0]'"),
        ({"allowed_cidrs": ["203.0.113.7"]}, "expected an IPv4 CIDR with no host bits set"),
        ({"instance_endpoints": "two-az"}, "expected one of 'none', 'one-az', 'every-az'"),
        (
            {"classic": False, "serverless": False},
            "at least one of classic and serverless must be true",
        ),
        (
            {"api_throttle_rate": 50, "api_throttle_burst": 10},
            f"setting '{WHERE}.api_throttle_burst' is 10; allowed: 50 (api_throttle_rate)..10000",
        ),
        (
            {"hr_admin": False, "hr_admin_mfa": "REQUIRED"},
            "MFA and threat protection are settings of the HR admin sign-in",
        ),
        ({"max_upload_mb": 21}, f"setting '{WHERE}.max_upload_mb' is 21; allowed: 1..20"),
        ({"alarm_email": "not-an-address"}, "expected an e-mail address"),
        ({"hr_admins": True}, "did you mean 'hr_admin'?"),
        (
            {"fallback_instance_types": ["t4g.micro"]},
            f"setting '{WHERE}.fallback_instance_types' is ('t4g.micro',); each type once, and "
            "not instance_type (t4g.micro) itself",
        ),
        (
            {"fallback_instance_types": ["m7g.medium", "m7g.medium"]},
            "each type once",
        ),
        ({"fallback_instance_types": ["m7i.large"]}, "expected a Graviton (arm64) instance type"),
        (
            {"classic_domain_name": "people.corp.io"},
            f"setting '{WHERE}.hosted_zone_id' is None; classic_domain_name's certificate is "
            "validated",
        ),
        (
            {"classic_domain_name": "people.other.io", **ZONE},
            f"setting '{WHERE}.classic_domain_name' is 'people.other.io'; 'people.other.io' is "
            "not in the hosted zone 'corp.io'",
        ),
        (
            {"domain_names": ["people.other.io"], **ZONE},
            "'people.other.io' is not in the hosted zone 'corp.io'",
        ),
        ({**ZONE}, f"setting '{WHERE}.domain_names' is (); certificate_arn/hosted_zone_id need"),
        (
            {"domain_names": ["people.corp.io"], "hosted_zone_id": "Z0123456789ABCDEFGHIJ"},
            f"setting '{WHERE}.hosted_zone_name' is None",
        ),
        (
            {
                "domain_names": ["people.corp.io"],
                "certificate_arn": "arn:aws:acm:eu-central-1:123456789012:certificate/abc",
            },
            "us-east-1",
        ),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(raw, message):
    with pytest.raises(ValueError) as caught:
        parse(**raw)
    assert message in str(caught.value)


def test_a_command_line_list_of_networks_is_read_as_one():
    assert parse(allowed_cidrs="203.0.113.0/24, 198.51.100.7/32").allowed_cidrs == (
        "203.0.113.0/24",
        "198.51.100.7/32",
    )


def test_the_defaults_are_a_valid_profile():
    defaults = parse()
    assert defaults.classic and defaults.serverless and defaults.hr_admin
    assert defaults.allowed_cidrs == (), "no one reaches the classic app until it is said who"


def test_prod_without_domains_names_each_setting_and_its_opt_out():
    """Issue 12 item 1: prod serves the CloudFront site on domain_names (TLS 1.2+) and the
    classic app on classic_domain_name (HTTPS), or says by name what it gives up."""
    prod = stage("prod")
    with pytest.raises(ValueError) as err:
        parse(prod, classic_domain_name="people-classic.corp.io", **ZONE)
    message = str(err.value)
    assert message.startswith(f"setting '{WHERE}.domain_names' is ()"), message
    assert "set allow_tls_below_1_2 true to accept" in message and "TLS 1.0 and 1.1" in message
    with pytest.raises(ValueError) as err:
        parse(prod, domain_names=["people.corp.io"], **ZONE, **ONE_ORIGIN)
    message = str(err.value)
    assert message.startswith(f"setting '{WHERE}.classic_domain_name' is None"), message
    assert "set allow_plain_http true to accept plain HTTP, with no TLS at all" in message
    opted_out = parse(prod, allow_tls_below_1_2=True, allow_plain_http=True, **ONE_ORIGIN)
    assert opted_out.domain_names == () and opted_out.classic_domain_name is None
    assert parse(prod, **DOMAINS, **ONE_ORIGIN).classic_domain_name == "people-classic.corp.io"
    assert parse(stage("dev")).domain_names == ()


def test_a_stack_left_out_needs_no_domain_in_prod():
    prod = stage("prod")
    only_serverless = {**DOMAINS, "classic_domain_name": None, **ONE_ORIGIN}
    assert parse(prod, classic=False, **only_serverless).serverless
    # Without the CloudFront site there is nothing to fail over either.
    assert parse(prod, serverless=False, **{**DOMAINS, "domain_names": []}).classic
    with pytest.raises(ValueError, match=r"failover_region' is 'us-west-2'.*do not build"):
        parse(prod, serverless=False, failover_region="us-west-2", **DOMAINS)


def test_prod_fails_the_site_over_to_another_region_or_says_it_will_not():
    assert_failover_setting_rules(SETTINGS, WHERE, **DOMAINS)
