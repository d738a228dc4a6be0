"""MyTodoList settings: cdk.json's profiles parse, and every bad value is a ValueError that names
the setting and says what is allowed (raised at synth, not an hour into a deploy)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from blueprints.my_todo_list.stack import SETTINGS, MyTodoListSettings
from house.settings import parse_settings

WHERE = "blueprints.my-todo-list.dev"


def test_settings_are_frozen():
    with pytest.raises(ValidationError, match="frozen"):
        MyTodoListSettings().dax_nodes = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"mfa": "OFF"}, f"setting '{WHERE}.mfa' is 'OFF'; expected one of 'OPTIONAL', 'REQUIRED'"),
        ({"endpoint_type": "PRIVATE"}, "expected one of 'REGIONAL', 'EDGE'"),
        (
            {"dax": "maybe"},
            f"setting '{WHERE}.dax' is 'maybe'; expected true/false",
        ),
        ({"api_cache_size_gb": "2"}, "expected one of '0.5', '1.6'"),
        ({"dax_nodes": 0}, f"setting '{WHERE}.dax_nodes' is 0; allowed: 1..11"),
        ({"dax_nodes": 12}, f"setting '{WHERE}.dax_nodes' is 12; allowed: 1..11"),
        (
            {"dax_node_type": "dax.r4.large"},
            f"setting '{WHERE}.dax_node_type' is 'dax.r4.large'; expected one of 'dax.t3.small'",
        ),
        (
            {"dax_query_ttl_seconds": 0},
            f"setting '{WHERE}.dax_query_ttl_seconds' is 0; allowed: 1..3600",
        ),
        (
            {"dax_item_ttl_seconds": 90_000},
            f"setting '{WHERE}.dax_item_ttl_seconds' is 90000; allowed: 1..86400",
        ),
        (
            {"api_cache_ttl_seconds": 0},
            f"setting '{WHERE}.api_cache_ttl_seconds' is 0; allowed: 1..3600",
        ),
        ({"api_cache_ttl_seconds": 3601}, "allowed: 1..3600"),
        ({"password_min_length": 6}, f"setting '{WHERE}.password_min_length' is 6; allowed: 8..99"),
        (
            {"access_token_minutes": 2},
            f"setting '{WHERE}.access_token_minutes' is 2; allowed: 5..1440",
        ),
        ({"refresh_token_days": 0}, f"setting '{WHERE}.refresh_token_days' is 0; allowed: 1..3650"),
        (
            {"refresh_token_days": 1, "access_token_minutes": 1440},
            f"setting '{WHERE}.refresh_token_days' is 1; must outlive the access token",
        ),
        (
            {"allowed_origins": ["localhost:8100"]},
            f"setting '{WHERE}.allowed_origins[0]' is 'localhost:8100'",
        ),
        (
            {"allowed_origins": ["https://app.example.com/path"]},
            "scheme://host[:port] without a path",
        ),
        (
            {"allowed_origins": ["https://app.example.com\n"]},
            "scheme://host[:port] without a path",
        ),
        ({"api_throttle_rate": 0}, f"setting '{WHERE}.api_throttle_rate' is 0; allowed: 1..10000"),
        (
            {"api_throttle_rate": 50, "api_throttle_burst": 10},
            f"setting '{WHERE}.api_throttle_burst' is 10; allowed: 50",
        ),
        ({"waf_rate_limit": 99}, f"setting '{WHERE}.waf_rate_limit' is 99; allowed: 100.."),
        ({"user_file_version_days": 0}, f"setting '{WHERE}.user_file_version_days' is 0"),
        # The old names, answered with the new ones.
        ({"waf_enabled": True}, f"{WHERE}.waf_enabled was renamed to waf"),
        ({"dax_enabled": True}, f"{WHERE}.dax_enabled was renamed to dax"),
        ({"api_cache_enabled": True}, f"{WHERE}.api_cache_enabled was renamed to api_cache"),
        (
            {"throttle_rate_limit": 9},
            f"{WHERE}.throttle_rate_limit was renamed to api_throttle_rate",
        ),
        (
            {"throttle_burst_limit": 9},
            f"{WHERE}.throttle_burst_limit was renamed to api_throttle_burst",
        ),
        (
            {"waf_rate_limit_per_5_minutes": 500},
            f"{WHERE}.waf_rate_limit_per_5_minutes was renamed to waf_rate_limit",
        ),
        ({"dax_nodez": 3}, f"unknown setting(s) {WHERE}.dax_nodez"),
    ],
)
def test_bad_values_name_the_setting_and_what_is_allowed(raw, message):
    with pytest.raises(ValueError) as error:
        parse_settings(SETTINGS, raw, WHERE)
    assert message in str(error.value)
    assert str(error.value).startswith(WHERE) or WHERE in str(error.value)


def test_good_edge_and_origins_parse():
    settings = parse_settings(
        SETTINGS,
        {
            "endpoint_type": "EDGE",
            "allowed_origins": "https://app.example.com,capacitor://localhost",
        },
        WHERE,
    )
    assert settings.endpoint_type == "EDGE"
    assert settings.allowed_origins == ("https://app.example.com", "capacitor://localhost")
