"""ServerlessWebApp's settings: what is refused at synth, naming the setting and what is allowed."""

from __future__ import annotations

import pytest

from blueprints.serverless_web_app.settings import ServerlessWebAppSettings
from house.settings import StageSettings, parse_settings
from tests.support.site_failover import assert_failover_setting_rules

WHERE = "blueprints.serverless-web-app.dev"
PROD = StageSettings(name="prod", project="p", team="t")
DOMAIN = {
    "domain_names": ["rides.corp.io"],
    "hosted_zone_id": "Z0123456789ABCDEFGHIJ",
    "hosted_zone_name": "corp.io",
}


ONE_ORIGIN = {"allow_single_origin": True}


def test_prod_fails_the_cloudfront_site_over_to_another_region_or_says_it_will_not():
    assert_failover_setting_rules(ServerlessWebAppSettings, WHERE, **DOMAIN)


def test_amplify_hosting_has_no_origin_failover_to_set():
    """Amplify Hosting serves the page from its own distribution and storage: prod needs no
    failover_region there."""
    prod = StageSettings(name="prod", project="p", team="t", region="us-east-1")
    amplify = parse_settings(
        ServerlessWebAppSettings, {"hosting": "amplify", **DOMAIN}, WHERE, stage=prod
    )
    assert amplify.failover_region is None and not amplify.allow_single_origin
    with pytest.raises(ValueError) as error:
        parse_settings(
            ServerlessWebAppSettings,
            {"hosting": "amplify", "failover_region": "us-west-2", **DOMAIN},
            WHERE,
            stage=prod,
        )
    assert str(error.value).startswith(f"setting '{WHERE}.failover_region' is 'us-west-2'")
    assert "which these settings do not build" in str(error.value)


def problem(**raw) -> str:
    with pytest.raises(ValueError) as error:
        parse_settings(ServerlessWebAppSettings, raw, WHERE)
    return str(error.value)


def test_the_defaults_are_the_cheap_same_origin_cloudfront_profile():
    settings = parse_settings(ServerlessWebAppSettings, {}, WHERE)
    assert settings.hosting == "cloudfront" and settings.cross_origin_api is False
    assert (settings.waf, settings.threat_protection) == (False, False)
    assert settings.mfa == "OPTIONAL"


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"hosting": "s3"}, f"setting '{WHERE}.hosting' is 's3'; expected one of"),
        (
            {"api_throttle_rate": 50, "api_throttle_burst": 10},
            f"setting '{WHERE}.api_throttle_burst' is 10; allowed: 50 (api_throttle_rate)..5000",
        ),
        (
            {"amplify_repository": "https://github.com/you/fork"},
            f"setting '{WHERE}.amplify_repository' is 'https://github.com/you/fork'; is for "
            "hosting=amplify",
        ),
        (
            {"hosting": "amplify", "amplify_repository": "https://github.com/you/fork"},
            f"setting '{WHERE}.amplify_token_secret' is None; amplify_repository and "
            "amplify_token_secret go together",
        ),
        (
            {"hosting": "amplify", "amplify_repository": "git@github.com:you/fork.git"},
            "an https URL of a GitHub, GitLab or Bitbucket repository",
        ),
        ({"request_retention_days": 0}, "allowed: 1..3650"),
        ({"max_days_ahead": 400}, "allowed: 1..365"),
        ({"waff": True}, "(did you mean 'waf'?)"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(raw, message):
    assert message in problem(**raw)


@pytest.mark.parametrize(
    "token",
    ["ghp_abcdefghijklmnopqrstuvwxyz0123456789", "github_pat_11ABC", "glpat-xyz", "0" * 40],
)
def test_a_token_where_the_secrets_name_belongs_is_refused_and_not_echoed(token):
    text = problem(
        hosting="amplify",
        amplify_repository="https://github.com/you/fork",
        amplify_token_secret=token,
    )
    assert "looks like an access token itself" in text
    assert token not in text, "an error message must not print the token"


@pytest.mark.parametrize("hosting", ["cloudfront", "amplify"])
def test_prod_without_a_domain_names_the_setting_and_the_opt_out(hosting):
    """Issue 12 item 1: prod serves the page on a domain of yours, or says by name what it
    gives up; dev may go without."""
    with pytest.raises(ValueError) as error:
        parse_settings(ServerlessWebAppSettings, {"hosting": hosting}, WHERE, stage=PROD)
    message = str(error.value)
    assert message.startswith(f"setting '{WHERE}.domain_names' is ()"), message
    assert "set allow_tls_below_1_2 true to accept" in message
    assert ("amplifyapp.com" if hosting == "amplify" else "TLS 1.0 and 1.1") in message
    # (allow_single_origin: prod's failover rule's opt-out, so only the domain rule is met.)
    opted_out = {"hosting": hosting, "allow_tls_below_1_2": True, **ONE_ORIGIN}
    assert parse_settings(ServerlessWebAppSettings, opted_out, WHERE, stage=PROD).domain_names == ()
    with_domain = parse_settings(
        ServerlessWebAppSettings, {"hosting": hosting, **DOMAIN, **ONE_ORIGIN}, WHERE, stage=PROD
    )
    assert with_domain.site_domain().names == ("rides.corp.io",)


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            {"hosting": "amplify", "domain_names": ["rides.corp.io"]},
            f"setting '{WHERE}.hosted_zone_name' is None; hosting=amplify associates "
            "domain_names through their zone",
        ),
        (
            {**DOMAIN, "domain_names": ["rides.other.io"]},
            "'rides.other.io' is not in the hosted zone 'corp.io'",
        ),
        (
            {"hosted_zone_id": "Z0123456789ABCDEFGHIJ", "hosted_zone_name": "corp.io"},
            "need at least one domain name",
        ),
        (
            {"certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"},
            f"setting '{WHERE}.domain_names' is (); certificate_arn/hosted_zone_id need at least "
            "one domain name",
        ),
    ],
)
def test_bad_domain_settings_are_refused_naming_the_setting(raw, message):
    assert message in problem(**raw)
