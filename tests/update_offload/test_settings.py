"""Bad settings fail the synth with a ValueError that names the setting and what is allowed."""

from __future__ import annotations

import pytest

from blueprints.update_offload.settings import STACK_REGION, UpdateOffloadSettings
from blueprints.update_offload.stack import SETTINGS
from house.settings import StageSettings, parse_settings

WHERE = "blueprints.update-offload.dev"


def settings(**raw) -> UpdateOffloadSettings:
    return parse_settings(SETTINGS, raw, WHERE)


def test_defaults_are_the_cheap_profile():
    s = settings()
    assert (s.instance_type, s.min_instances, s.instance_subnets, s.nat_gateways) == (
        "t4g.micro",
        1,
        "public",
        0,
    )
    assert s.ttl("update").minimum == 86400 and s.ttl("manifest").default == 60


@pytest.mark.parametrize(
    ("raw", "setting", "says"),
    [
        # The three: origin missing when the offload is used alone, bad path pattern,
        # TTL min > max.
        ({"update_server": False}, "origin_domain_name", "needs the DNS name of your origin"),
        (
            {"update_server": False, "origin_domain_name": "not a name"},
            "origin_domain_name",
            "DNS name",
        ),
        ({"update_path_patterns": ["updates/*"]}, "update_path_patterns", "starts with '/'"),
        ({"update_path_patterns": ["/*"]}, "update_path_patterns", "default behaviour"),
        (
            {"manifest_path_patterns": ["/updates/late st.json"]},
            "manifest_path_patterns",
            "starts with '/'",
        ),
        ({"manifest_path_patterns": ["/updates/*"]}, "update_path_patterns", "only once"),
        ({"update_path_patterns": []}, "update_path_patterns", "at least 1"),
        (
            {
                "update_min_ttl_seconds": 7200,
                "update_max_ttl_seconds": 3600,
                "update_default_ttl_seconds": 3600,
            },
            "update_min_ttl_seconds/update_default_ttl_seconds/update_max_ttl_seconds",
            "min <= default <= max",
        ),
        (
            {"manifest_default_ttl_seconds": 600},
            "manifest_min_ttl_seconds/manifest_default_ttl_seconds/manifest_max_ttl_seconds",
            "min <= default <= max",
        ),
        (
            {"update_max_ttl_seconds": 2 * 31536000},
            "update_min_ttl_seconds/update_default_ttl_seconds/update_max_ttl_seconds",
            "one year",
        ),
        # The rest of what CloudFormation or CloudFront would reject an hour into a deploy.
        (
            {"origin_domain_name": "updates.example.com"},
            "origin_domain_name",
            "set update_server false",
        ),
        ({"origin_protocol": "http"}, "origin_protocol", "is for origin_domain_name"),
        (
            {"cache_key_query_strings": [f"q{i}" for i in range(11)]},
            "cache_key_query_strings",
            "at most 10",
        ),
        ({"cache_key_query_strings": ["a b"]}, "cache_key_query_strings", "1-128 characters"),
        (
            {"origin_shield_region": "virginia"},
            "origin_shield_region",
            "expected null or an AWS region name like eu-west-1 or one of 'stack-region'",
        ),
        (
            {
                "origin_shield_region": "stack-region",
                "update_server": False,
                "origin_domain_name": "updates.example.com",
            },
            "origin_shield_region",
            "name the region it runs in",
        ),
        (
            {
                "domain_names": ["updates.example.com"],
                "certificate_arn": "arn:aws:acm:eu-central-1:123456789012:certificate/x",
            },
            "certificate_arn",
            "ACM certificate in us-east-1",
        ),
        (
            {"waf": True, "web_acl_arn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/1"},
            "waf",
            "not both",
        ),
        (
            {"web_acl_arn": "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/1"},
            "web_acl_arn",
            "CLOUDFRONT-scope",
        ),
        ({"domain_names": ["updates..example.com"]}, "domain_names", "DNS name"),
        (
            {"certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/x"},
            "certificate_arn",
            "only with domain_names",
        ),
        # The failover origin: yours only, never the origin itself.
        (
            {"failover_origin_domain_name": "standby.example.net"},
            "failover_origin_domain_name",
            "fails over to its own update mirror",
        ),
        ({"allow_single_origin": True}, "allow_single_origin", "always has its update mirror"),
        (
            {
                "update_server": False,
                "origin_domain_name": "updates.example.com",
                "failover_origin_domain_name": "updates.example.com",
            },
            "failover_origin_domain_name",
            "fails over to the same failure",
        ),
        (
            {
                "update_server": False,
                "origin_domain_name": "updates.example.com",
                "failover_origin_domain_name": "standby.example.net",
                "allow_single_origin": True,
            },
            "allow_single_origin",
            "contradicts failover_origin_domain_name",
        ),
        (
            {
                "update_server": False,
                "origin_domain_name": "updates.example.com",
                "failover_origin_domain_name": "not a name",
            },
            "failover_origin_domain_name",
            "DNS name",
        ),
        ({"instance_type": "t3.micro"}, "instance_type", "Graviton"),
        (
            {"min_instances": 3, "max_instances": 2},
            "min_instances",
            "must not exceed max_instances (2)",
        ),
        ({"cpu_target_percent": 95}, "cpu_target_percent", "10..90"),
        ({"instance_subnets": "private"}, "nat_gateways", "at least one NAT"),
        ({"nat_gateways": 1}, "nat_gateways", "no NAT gateway"),
        (
            {"fallback_instance_types": ["t4g.micro"]},
            "fallback_instance_types",
            "not instance_type (t4g.micro) itself",
        ),
        (
            {"fallback_instance_types": ["t4g.small", "t4g.small"]},
            "fallback_instance_types",
            "each type once",
        ),
        ({"fallback_instance_types": ["m7i.large"]}, "fallback_instance_types", "Graviton"),
        (
            {"domain_names": ["updates.example.com"]},
            "hosted_zone_id",
            "certificate for origin.updates.example.com",
        ),
        (
            {"domain_names": ["updates.example.com"], "hosted_zone_id": "Z0123456789ABC"},
            "hosted_zone_id",
            "together",
        ),
        (
            {"hosted_zone_id": "Z0123456789ABC", "hosted_zone_name": "example.com"},
            "hosted_zone_id",
            "set them too",
        ),
        (
            {
                "domain_names": ["updates.example.com"],
                "hosted_zone_id": "Z0123456789ABC",
                "hosted_zone_name": "example.org",
            },
            "domain_names",
            "not in the hosted zone 'example.org'",
        ),
    ],
)
def test_bad_settings_name_the_setting_and_what_is_allowed(raw, setting, says):
    with pytest.raises(ValueError) as err:
        settings(**raw)
    message = str(err.value)
    assert message.startswith(f"setting '{WHERE}.{setting}"), message
    assert says in message


def test_wrong_type_and_unknown_setting_are_rejected():
    with pytest.raises(
        ValueError, match=r"setting 'blueprints.update-offload.dev.min_instances' is 'two'"
    ):
        settings(min_instances="two")
    with pytest.raises(
        ValueError, match=r"unknown setting\(s\) blueprints.update-offload.dev.origin_dns"
    ):
        settings(origin_dns="x.example.com")
    with pytest.raises(
        ValueError, match=r"origin_protocol' is 'ftp'; expected one of 'http', 'https'"
    ):
        settings(origin_protocol="ftp")


def stage(name: str = "prod", region: str | None = "eu-central-1") -> StageSettings:
    return StageSettings(name=name, project="p", team="t", region=region)


def test_stack_region_shield_follows_the_stage():
    follows = settings(origin_shield_region=STACK_REGION)
    for region in ("us-east-1", "eu-central-1", "ap-southeast-2"):
        assert follows.shield_region(stage(region=region)) == region
    assert settings(origin_shield_region="eu-west-1").shield_region(stage()) == "eu-west-1"
    assert settings().shield_region(stage()) is None


def test_stack_region_shield_in_an_environment_agnostic_stage_names_the_region_setting():
    with pytest.raises(
        ValueError,
        match=r"blueprints\.update-offload\.dev\.origin_shield_region"
        r".*set stages\.dev\.region",
    ):
        parse_settings(
            SETTINGS, {"origin_shield_region": STACK_REGION}, WHERE, stage=stage("dev", None)
        )


PROD = "blueprints.update-offload.prod"


def prod_settings(**raw) -> UpdateOffloadSettings:
    return parse_settings(SETTINGS, raw, PROD, stage=stage("prod", "us-east-1"))


def test_prod_without_a_domain_names_the_setting_and_the_opt_out():
    """Issue 12 item 1: prod serves TLS 1.2+ on a domain of yours, or says by name that it
    accepts TLS 1.0/1.1 on *.cloudfront.net and HTTP to the origin."""
    with pytest.raises(ValueError) as err:
        prod_settings()
    message = str(err.value)
    assert message.startswith(f"setting '{PROD}.domain_names' is ()"), message
    assert "set allow_tls_below_1_2 true to accept" in message and "TLS 1.0" in message
    assert prod_settings(allow_tls_below_1_2=True).domain_names == ()
    assert settings().domain_names == ()  # dev may go without


def test_prod_reaches_an_origin_of_yours_over_https_only():
    with pytest.raises(ValueError, match=rf"setting '{PROD}.origin_protocol' is 'http'; prod"):
        prod_settings(
            update_server=False,
            origin_domain_name="updates.example.com",
            origin_protocol="http",
            allow_tls_below_1_2=True,
        )
    dev = settings(
        update_server=False, origin_domain_name="updates.example.com", origin_protocol="http"
    )
    assert dev.origin_protocol == "http"


def test_a_domain_gives_the_update_server_an_origin_name_below_it():
    s = prod_settings(
        domain_names=["updates.example.com", "dl.example.com"],
        hosted_zone_id="Z0123456789ABC",
        hosted_zone_name="example.com.",
    )
    assert s.origin_name == "origin.updates.example.com"
    assert settings().origin_name is None


def test_offload_alone_with_https_origin_is_accepted():
    s = settings(
        update_server=False,
        origin_domain_name="updates.example.com",
        origin_protocol="https",
        cache_key_query_strings=["arch"],
        origin_shield_region="eu-west-1",
    )
    assert s.origin_domain_name == "updates.example.com"


def test_prod_in_front_of_an_origin_of_yours_needs_a_second_origin_or_says_what_it_gives_up():
    """Issue 12 / CT.CLOUDFRONT.PR.4: the update paths fail over to a second origin. The
    UpdateServer built here brings its mirror; an origin of yours needs
    failover_origin_domain_name, or allow_single_origin naming what is given up. Dev may go
    without."""
    yours = dict(update_server=False, origin_domain_name="updates.example.com")
    tls = dict(allow_tls_below_1_2=True)
    with pytest.raises(ValueError) as err:
        prod_settings(**yours, **tls)
    message = str(err.value)
    assert message.startswith(f"setting '{PROD}.failover_origin_domain_name' is None"), message
    assert "set allow_single_origin true to accept" in message
    assert "no cache miss is answered" in message
    failover = prod_settings(**yours, **tls, failover_origin_domain_name="standby.example.net")
    assert failover.failover_origin_domain_name == "standby.example.net"
    assert prod_settings(**yours, **tls, allow_single_origin=True).allow_single_origin
    assert settings(**yours).failover_origin_domain_name is None  # dev
    assert prod_settings(**tls).failover_origin_domain_name is None  # the mirror is built here
