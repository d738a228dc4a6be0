"""ServerlessWebApp's settings: what is refused at synth, naming the setting and what is allowed."""

from __future__ import annotations

import pytest

from blueprints.serverless_web_app.settings import ServerlessWebAppSettings
from house.settings import parse_settings

WHERE = "blueprints.serverless-web-app.dev"


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
