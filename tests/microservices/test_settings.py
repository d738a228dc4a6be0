"""Microservices settings: every bad value is one error naming the setting and what is allowed."""

from __future__ import annotations

import pytest

from blueprints.microservices.stack import SETTINGS
from house.settings import StageSettings, parse_settings

WHERE = "blueprints.microservices.dev"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"api_throttle_rate": 0}, f"setting '{WHERE}.api_throttle_rate' is 0; allowed: 1..10000"),
        (
            {"api_throttle_rate": 50, "api_throttle_burst": 10},
            f"setting '{WHERE}.api_throttle_burst' is 10; allowed: 50",
        ),
        (
            {"consumer_max_concurrency": 1},
            f"setting '{WHERE}.consumer_max_concurrency' is 1; allowed: 2..1000",
        ),
        ({"reserved_concurrency": 0}, f"setting '{WHERE}.reserved_concurrency' is 0"),
        ({"kinesis_shards": 0}, f"setting '{WHERE}.kinesis_shards' is 0"),
        ({"event_archive_days": 0}, f"setting '{WHERE}.event_archive_days' is 0; allowed: 1..3650"),
        ({"container_cpu": 300}, f"setting '{WHERE}.container_cpu' is 300"),
        (
            {"container_memory_mib": 4096},
            f"setting '{WHERE}.container_memory_mib' is 4096; with cpu 256",
        ),
        (
            {"container_min_tasks": 3, "container_max_tasks": 2},
            f"setting '{WHERE}.container_max_tasks' is 2; allowed: 3 (container_min_tasks)..100",
        ),
        (
            {"stock_api_throttle_rate": 300, "stock_api_throttle_burst": 100},
            f"setting '{WHERE}.stock_api_throttle_burst' is 100; "
            "allowed: 300 (stock_api_throttle_rate)..10000",
        ),
        ({"container_subnets": "nat"}, f"setting '{WHERE}.container_subnets' is 'nat'"),
        ({"kinesiss": True}, "did you mean 'kinesis'"),
    ],
)
def test_bad_settings_name_the_setting(raw, message):
    with pytest.raises(ValueError) as error:
        parse_settings(SETTINGS, raw, WHERE)
    assert message in str(error.value)


def test_the_defaults_are_the_cheap_profile():
    defaults = SETTINGS()
    assert defaults.kinesis is False and defaults.container_service is False
    assert defaults.reserved_concurrency is None


DOMAIN = {
    "stock_api_domain_name": "stock.shop.example.com",
    "hosted_zone_id": "Z0123456789ABCDEFGHIJ",
    "hosted_zone_name": "example.com",
}


def test_prods_stock_api_without_a_domain_names_the_setting_and_the_opt_out():
    """The hop from the VPC link to the internal load balancer is HTTPS in prod, or the stage
    says by name that it is plain HTTP; dev, and a prod with no container service, need no
    domain."""
    prod = StageSettings(name="prod", project="p", team="t", region="us-east-1")
    where = "blueprints.microservices.prod"
    with pytest.raises(ValueError) as err:
        parse_settings(SETTINGS, {"container_service": True}, where, stage=prod)
    message = str(err.value)
    assert message.startswith(f"setting '{where}.stock_api_domain_name' is None"), message
    assert "allow_plain_http" in message
    opted_out = {"container_service": True, "allow_plain_http": True}
    assert parse_settings(SETTINGS, opted_out, where, stage=prod).allow_plain_http
    with_domain = parse_settings(SETTINGS, {"container_service": True, **DOMAIN}, where, stage=prod)
    assert with_domain.stock_api_domain_name == "stock.shop.example.com"
    assert parse_settings(SETTINGS, {}, where, stage=prod).stock_api_domain_name is None
    dev = StageSettings(name="dev", project="p", team="t")
    assert parse_settings(SETTINGS, {"container_service": True}, WHERE, stage=dev)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"stock_api_domain_name": "stock.shop.example.com"},
            "give stock_api_domain_name, hosted_zone_id and hosted_zone_name together, or none",
        ),
        (
            {**DOMAIN, "hosted_zone_name": "example.org"},
            "'stock.shop.example.com' is not in the hosted zone 'example.org'",
        ),
        ({**DOMAIN, "hosted_zone_id": "zone"}, f"setting '{WHERE}.hosted_zone_id' is 'zone'"),
    ],
)
def test_the_stock_api_domain_is_whole_and_in_its_zone(raw, message):
    with pytest.raises(ValueError) as error:
        parse_settings(SETTINGS, raw, WHERE)
    assert message in str(error.value)
    assert f"'{WHERE}." in str(error.value)
