"""MyTodoList settings: cdk.json's profiles parse, and every bad value is a ValueError that names
the setting and says what is allowed (raised at synth, not an hour into a deploy)."""

from __future__ import annotations

import json

import pytest

from blueprints.my_todo_list.stack import SETTINGS, MyTodoListSettings
from house.settings import parse_settings
from tests.support.synth import REPO_ROOT

WHERE = "blueprints.my-todo-list.dev"


def profile(stage: str) -> MyTodoListSettings:
    raw = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["blueprints"]["my-todo-list"]
    return parse_settings(SETTINGS, raw[stage], f"blueprints.my-todo-list.{stage}")


def test_dev_is_cheap_and_prod_has_the_read_path_and_strict_sign_in():
    dev, prod = profile("dev"), profile("prod")
    assert (dev.dax_enabled, dev.api_cache_enabled, dev.waf_enabled, dev.mfa) == (
        False,
        False,
        False,
        "OPTIONAL",
    )
    assert (prod.dax_enabled, prod.api_cache_enabled, prod.waf_enabled, prod.mfa) == (
        True,
        True,
        True,
        "REQUIRED",
    )
    assert prod.threat_protection and prod.dax_nodes == 3
    assert dev.endpoint_type == prod.endpoint_type == "REGIONAL"


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        MyTodoListSettings().dax_nodes = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"mfa": "OFF"}, f"setting '{WHERE}.mfa' is 'OFF'; expected one of 'OPTIONAL', 'REQUIRED'"),
        ({"endpoint_type": "PRIVATE"}, "expected one of 'REGIONAL', 'EDGE'"),
        (
            {"dax_enabled": "maybe"},
            f"setting '{WHERE}.dax_enabled' is 'maybe'; expected true/false",
        ),
        ({"api_cache_size_gb": "2"}, "expected one of '0.5', '1.6'"),
        ({"dax_nodes": 0}, "setting 'dax_nodes' is 0; allowed: 1..11"),
        ({"dax_nodes": 12}, "setting 'dax_nodes' is 12; allowed: 1..11"),
        (
            {"dax_node_type": "dax.r4.large"},
            "setting 'dax_node_type' is 'dax.r4.large'; allowed: dax.t3.small",
        ),
        ({"dax_query_ttl_seconds": 0}, "setting 'dax_query_ttl_seconds' is 0; allowed: 1..3600"),
        (
            {"dax_item_ttl_seconds": 90_000},
            "setting 'dax_item_ttl_seconds' is 90000; allowed: 1..86400",
        ),
        ({"api_cache_ttl_seconds": 0}, "setting 'api_cache_ttl_seconds' is 0; allowed: 1..3600"),
        ({"api_cache_ttl_seconds": 3601}, "allowed: 1..3600"),
        ({"password_min_length": 6}, "setting 'password_min_length' is 6; allowed: 8..99"),
        ({"access_token_minutes": 2}, "setting 'access_token_minutes' is 2; allowed: 5..1440"),
        ({"refresh_token_days": 0}, "setting 'refresh_token_days' is 0; allowed: 1..3650"),
        ({"allowed_origins": ["localhost:8100"]}, "setting 'allowed_origins' is 'localhost:8100'"),
        (
            {"allowed_origins": ["https://app.example.com/path"]},
            "scheme://host[:port] without a path",
        ),
        ({"throttle_rate_limit": 0}, "setting 'throttle_rate_limit' is 0; allowed: 1..10000"),
        (
            {"throttle_rate_limit": 50, "throttle_burst_limit": 10},
            "setting 'throttle_burst_limit' is 10; allowed: 50",
        ),
        (
            {"waf_rate_limit_per_5_minutes": 99},
            "setting 'waf_rate_limit_per_5_minutes' is 99; allowed: 100..",
        ),
        ({"user_file_version_days": 0}, "setting 'user_file_version_days' is 0"),
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
