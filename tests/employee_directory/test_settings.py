"""Employee directory settings: the shipped profiles parse, and every bad value is one line that
names the setting and says what is allowed (at synth, not an hour into a deploy)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from blueprints.employee_directory.stack import SETTINGS
from house.settings import parse_settings

WHERE = "blueprints.employee-directory.dev"


def parse(**raw):
    return parse_settings(SETTINGS, raw, WHERE)


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
