"""ServerlessWebApp's settings: `blueprints.<instance>.<stage>` in cdk.json. Defaults are the cheap
(dev) profile; docs/serverless-web-app.md lists every setting with the shipped dev and prod
values.

The sign-in settings are the UserIdentity pattern's (`SignInOptions`): this model inherits them,
so the stack hands its settings to the pattern as they are. The domain settings (domain_names,
certificate_arn, hosted_zone_id, hosted_zone_name, allow_tls_below_1_2) are the site's
(`SiteDomainSettings`): with hosting=cloudfront on the distribution, with hosting=amplify an
Amplify Hosting domain association.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, model_validator

from house.settings import require
from house.types import OneLine, PriceClass, matching
from patterns.identity.user_identity import SignInOptions
from patterns.web.site_domain import SiteDomainSettings, SiteFailoverSettings

# A Git repository Amplify Hosting can build from: https://<host>/<owner>/<repo>.
GitRepository = matching(
    r"https://(github\.com|gitlab\.com|bitbucket\.org)/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+",
    "an https URL of a GitHub, GitLab or Bitbucket repository like "
    "https://github.com/you/your-fork",
)
SecretName = matching(
    r"[A-Za-z0-9/_+=.@-]{1,512}", "a Secrets Manager secret name like amplify/github-token"
)
GitBranch = matching(r"[A-Za-z0-9._/-]{1,255}", "a Git branch name like main")
RepositoryFolder = matching(
    r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", "a folder of the repository like site or app/public"
)
# What personal access tokens look like: a value like these is a token, not a secret's name.
_TOKEN_PREFIXES = ("ghp_", "gho_", "ghs_", "ghu_", "github_pat_", "glpat-", "ATBB")


class ServerlessWebAppSettings(SignInOptions, SiteFailoverSettings, SiteDomainSettings):
    hosting: Literal["cloudfront", "amplify"] = Field(
        "cloudfront",
        description="cloudfront: the house static site (private S3 bucket, CloudFront with OAC, "
        "security headers) with the API at /api/* of the same distribution; amplify: Amplify "
        "Hosting (what the AWS notes use), the API at /api/* through an Amplify rewrite.",
    )
    cross_origin_api: bool = Field(
        False,
        description="false: the page calls the API on its own origin (/api/*), no CORS at all; "
        "true: the page calls the API's execute-api URL, with CORS pinned to the site's origin "
        "and unauthenticated OPTIONS preflights.",
    )
    amplify_repository: GitRepository | None = Field(
        None,
        description="hosting=amplify only. null: the stack deploys the site itself (a zip of "
        "the site folder and config.json, no build); a repository: Amplify builds every push "
        "of amplify_branch and writes config.json from the stack's values.",
    )
    amplify_branch: GitBranch = Field(
        "main", description="The branch Amplify Hosting serves (and builds, with a repository)."
    )
    amplify_site_folder: RepositoryFolder = Field(
        "blueprints/serverless_web_app/site",
        description="With amplify_repository: the repository folder holding the site's files.",
    )
    amplify_token_secret: SecretName | None = Field(
        None,
        description="With amplify_repository: the name of the Secrets Manager secret holding the "
        "repository access token (GitHub: a fine-grained token the Amplify GitHub App uses; "
        "GitLab/Bitbucket: an OAuth token). The template carries only a dynamic reference, "
        "never the token.",
    )
    price_class: PriceClass = Field(
        "PriceClass_100",
        description="hosting=cloudfront: the CloudFront edges that serve the site; "
        "PriceClass_100 (North America and Europe) is the cheapest.",
    )
    waf: bool = Field(
        False,
        description="A WAF web ACL (AWS managed rules + a per-IP rate limit) where requests "
        "enter: on the distribution with hosting=cloudfront (site and /api/*), on the API "
        "stage where the API is reached directly (hosting=amplify, or cross_origin_api). Billed "
        "per web ACL, per rule and per million requests.",
    )
    waf_rate_limit: int = Field(
        1000,
        ge=100,
        le=2_000_000_000,
        description="Requests per IP per 5 minutes above which WAF blocks the IP.",
    )
    api_throttle_rate: int = Field(
        10, ge=1, le=10_000, description="Requests per second the API stage accepts (steady)."
    )
    api_throttle_burst: int = Field(
        20, ge=1, le=5_000, description="Requests the API stage accepts in a burst."
    )
    request_retention_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="Days after its pickup time that a ride request expires (DynamoDB TTL "
        "deletes it, free of charge).",
    )
    max_days_ahead: int = Field(
        90, ge=1, le=365, description="How far ahead a ride may be booked, in days."
    )
    app_name: OneLine = Field(
        "Wild Rydes", max_length=40, description="The app's name on its page and in the console."
    )

    @model_validator(mode="after")
    def _web_app_rules(self, info: ValidationInfo) -> ServerlessWebAppSettings:
        require(
            self.api_throttle_rate <= self.api_throttle_burst,
            "api_throttle_burst",
            self.api_throttle_burst,
            f"allowed: {self.api_throttle_rate} (api_throttle_rate)..5000",
        )
        require(
            self.hosting == "amplify" or self.amplify_repository is None,
            "amplify_repository",
            self.amplify_repository,
            "is for hosting=amplify; set hosting to amplify or leave it null",
        )
        require(
            (self.amplify_repository is None) == (self.amplify_token_secret is None),
            "amplify_token_secret",
            self.amplify_token_secret,
            "amplify_repository and amplify_token_secret go together: Amplify needs a token "
            "to connect the repository, and a token without a repository is unused",
        )
        require(
            self.hosting == "cloudfront" or not self.domain_names or bool(self.hosted_zone_name),
            "hosted_zone_name",
            self.hosted_zone_name,
            "hosting=amplify associates domain_names through their zone: Amplify Hosting takes "
            "the zone's apex and a prefix per name; set hosted_zone_id and hosted_zone_name",
        )
        if self.amplify_token_secret is not None:
            require(
                not self.amplify_token_secret.startswith(_TOKEN_PREFIXES)
                and not re.fullmatch(r"[0-9a-f]{40}", self.amplify_token_secret),
                "amplify_token_secret",
                "<hidden>",
                "this looks like an access token itself: store the token in Secrets Manager "
                "(aws secretsmanager create-secret --name amplify/github-token --secret-string "
                "...) and give the secret's name here, so no token is ever in cdk.json or the "
                "template",
            )
        return self

    def _without_a_domain(self) -> str:
        if self.hosting == "amplify":
            return (
                "the *.amplifyapp.com name, whose certificate and TLS policy are Amplify's and "
                "no setting of this stack can raise"
            )
        return super()._without_a_domain()

    def _site_distribution(self) -> bool:
        # Amplify Hosting serves the site from its own CloudFront distribution and storage.
        return self.hosting == "cloudfront"
