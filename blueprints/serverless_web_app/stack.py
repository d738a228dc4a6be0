"""ServerlessWebApp blueprint: the classic serverless web application of the AWS notes ("Build a
Serverless Web Application", the Wild Rydes workshop), as one stack: users sign up and sign in
with Cognito's hosted pages, then book, list, change and cancel their own ride requests through
a REST API, from a static page that calls it on its own origin.

    browser ──HTTPS──▶ site (hosting=cloudfront: CloudFront + private S3 bucket, OAC, security
       │                     headers, [WAF]; hosting=amplify: Amplify Hosting)
       │                 /*          the page (index.html, app.js) + config.json, written at
       │                             deploy from this stack's own values
       │                 /api/*  ──▶ API Gateway REST ──▶ Lambda (Python, Powertools) ──▶ DynamoDB
       │                             Cognito authorizer      idempotent creates          per-user
       │                             throttling, [WAF]                                   keys, TTL
       └──sign-in──▶ Cognito hosted pages (authorization code + PKCE) ──ID token──▶ the page

Stack `ServerlessWebApp` (CloudFormation name `ServerlessWebApp-<stage>`). cdk.json ships two
instances of it: `serverless-web-app` (hosting=cloudfront) and `serverless-web-app-amplify`
(hosting=amplify, stack `ServerlessWebAppAmplify`). Doc: docs/serverless-web-app.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_amplify as amplify
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from blueprints.serverless_web_app.amplify_site import AmplifySite
from blueprints.serverless_web_app.requests_api import RideRequestsApi
from blueprints.serverless_web_app.settings import ServerlessWebAppSettings
from house.compliance import add_serverless_checks
from house.defaults import access_log_bucket
from house.settings import Instance
from patterns.identity.user_identity import UserIdentity, WebSignIn, domain_prefix
from patterns.web.static_site import DEFAULT_CSP, StaticSite

SETTINGS = ServerlessWebAppSettings
STACK_IDS = ("ServerlessWebApp",)
SITE_CONTENT = Path(__file__).resolve().parent / "site"
CONFIG_FILE = "config.json"

_PRICE_CLASSES = {
    "PriceClass_100": cloudfront.PriceClass.PRICE_CLASS_100,
    "PriceClass_200": cloudfront.PriceClass.PRICE_CLASS_200,
    "PriceClass_All": cloudfront.PriceClass.PRICE_CLASS_ALL,
}


@jsii.implements(cdk.IStableStringProducer)
class _Later:
    """A string known once a later construct exists (the API, for the site built before it)."""

    def __init__(self, produce: Callable[[], str]) -> None:
        self._produce = produce

    def produce(self) -> str:
        return self._produce()


class ServerlessWebAppStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        instance: Instance[ServerlessWebAppSettings],
        **kwargs,
    ) -> None:
        super().__init__(
            scope,
            id,
            description="ServerlessWebApp: Cognito sign-in, static page, REST API, DynamoDB "
            "(aws-architecture-blueprints)",
            **kwargs,
        )
        add_serverless_checks(self)
        stage, settings = instance.stage, instance.settings
        self.settings = settings
        removal = stage.removal_policy
        logs = dict(log_retention_days=stage.log_retention_days, removal_policy=removal)
        self.access_logs = access_log_bucket(self, "AccessLogs", removal_policy=removal)
        cross_origin = settings.cross_origin_api
        self.api: RideRequestsApi | None = None

        # The hosted sign-in pages' address is known before the user pool exists (its prefix
        # derives from this stack), so the site's CSP can name it; the API's only in cross-origin
        # mode, and only once the API exists (built after the site, which it must name for CORS).
        prefix = domain_prefix(self)
        sign_in_origin = cdk.Fn.join(
            "", ["https://", prefix, ".auth.", self.region, ".amazoncognito.com"]
        )
        api_origin = (
            " " + cdk.Lazy.string(_Later(lambda: self._api_origin())) if cross_origin else ""
        )
        csp = DEFAULT_CSP.replace(
            "connect-src 'self'", f"connect-src 'self' {sign_in_origin}{api_origin}"
        )

        self.edge = stage.cloudfront_edge(self)
        self.failover = None
        self.site = self.amplify = None
        if settings.hosting == "cloudfront":
            # The site bucket's replica in failover_region: <StackId>Failover there.
            if settings.failover_region:
                self.failover = stage.failover_companion(self, settings.failover_region)
            self.site = StaticSite(
                self,
                "Site",
                access_logs=self.access_logs,
                content=SITE_CONTENT,
                content_security_policy=csp,
                price_class=_PRICE_CLASSES[settings.price_class],
                domain=settings.site_domain(),
                waf=settings.waf,
                waf_rate_limit=settings.waf_rate_limit,
                comment=f"{settings.app_name} ({stage.name})",
                edge=self.edge,
                failover=self.failover,
                **logs,
            )
            site_url = self.site.url
        else:
            self.amplify = AmplifySite(
                self,
                "Site",
                app_name=settings.app_name,
                branch=settings.amplify_branch,
                content=SITE_CONTENT,
                content_security_policy=csp,
                api_url=None,  # set below, once the API exists
                repository=settings.amplify_repository,
                token_secret=settings.amplify_token_secret,
                site_folder=settings.amplify_site_folder,
            )
            if settings.domain_names:
                self.amplify.add_domain(
                    settings.domain_names,
                    zone_name=settings.hosted_zone_name,
                    certificate_arn=settings.certificate_arn,
                )
            site_url = self.amplify.url

        self.identity = UserIdentity(
            self,
            "Identity",
            options=settings,
            removal_policy=removal,
            user_files=False,
            web=WebSignIn(
                callback_urls=(site_url + "/",),
                logout_urls=(site_url + "/",),
                domain_prefix=prefix,
            ),
            mfa_optional_because=(
                "MFA is OPTIONAL (TOTP) in this stage so a test user can sign up and try the "
                "page without an authenticator app; prod sets mfa=REQUIRED."
            ),
            no_threat_protection_because=(
                "Threat protection needs the Cognito Plus plan, billed per monthly active user "
                "(threat_protection=true turns it on); this pool runs Essentials, behind the "
                "hosted pages' own throttling, with MFA in prod."
            ),
        )

        # The API is reached directly (not through the site's distribution) with Amplify or in
        # cross-origin mode: a regional web ACL guards it there when waf is on.
        direct = settings.hosting == "amplify" or cross_origin
        self.api = RideRequestsApi(
            self,
            "Api",
            user_pool=self.identity.user_pool,
            settings=settings,
            cors_origin=site_url if cross_origin else None,
            regional_waf=settings.waf and direct,
            no_regional_waf_because=(
                "WAF is off in this stage (waf=false, no web ACL fee); every method needs a "
                "Cognito token and the stage is throttled. Prod sets waf=true."
                if not settings.waf
                else "The API is published at /api/* of the site's distribution, whose "
                "CLOUDFRONT web ACL inspects every request; a second, regional web ACL would "
                "bill again for the same requests."
            ),
            **logs,
        )
        if self.site is not None and not cross_origin:
            self.site.add_dynamic_path(
                "/api/*",
                self.api.origin,
                # The answers are one user's: never cached. All viewer headers but Host go to
                # API Gateway (it routes on its own host name); that includes Authorization,
                # which an origin request policy cannot name on its own.
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            )
        if self.amplify is not None and not cross_origin:
            # Before the single-page-app fallback: Amplify applies the first rule that matches.
            self.amplify.app.custom_rules = [
                amplify.CfnApp.CustomRuleProperty(
                    source="/api/<*>", target=f"{self.api.base_url}/<*>", status="200"
                ),
                *self.amplify.app.custom_rules,
            ]

        self.config = {
            "appName": settings.app_name,
            "region": self.region,
            "userPoolId": self.identity.user_pool.user_pool_id,
            "clientId": self.identity.client.user_pool_client_id,
            "signInUrl": self.identity.sign_in_url,
            "apiUrl": self.api.base_url if cross_origin else "/api",
        }
        if self.site is not None:
            self.site.deployment.add_source(s3deploy.Source.json_data(CONFIG_FILE, self.config))
        else:
            self.amplify.publish(self.config, access_logs=self.access_logs, **logs)
        self.site_url = site_url
        self._outputs(instance)

    def _api_origin(self) -> str:
        return cdk.Fn.join(
            "",
            [
                "https://",
                self.api.api.rest_api_id,
                ".execute-api.",
                self.region,
                ".",
                self.url_suffix,
            ],
        )

    def _outputs(self, instance: Instance[ServerlessWebAppSettings]) -> None:
        api_url = (
            self.api.base_url
            if self.settings.cross_origin_api
            else cdk.Fn.join("", [self.site_url, "/api"])
        )
        outputs = {
            "SiteUrl": (self.site_url, "The app: sign up, sign in, book a ride"),
            "ApiUrl": (api_url, "The ride-request API (GET/POST /requests with an ID token)"),
            "UserPoolId": (self.identity.user_pool.user_pool_id, "Cognito user pool id"),
            "UserPoolClientId": (
                self.identity.client.user_pool_client_id,
                "App client id (authorization code + PKCE, and SRP; no secret)",
            ),
            "SignInUrl": (self.identity.sign_in_url, "Cognito's hosted sign-in pages"),
            "TableName": (self.api.table.table_name, "DynamoDB table of the ride requests"),
            "Region": (self.region, "Region of every resource above"),
            "Hosting": (self.settings.hosting, "Where the page is hosted (hosting setting)"),
        }
        for name, (value, description) in outputs.items():
            cdk.CfnOutput(self, name, value=value, description=description)


def build(app: cdk.App, instance: Instance[ServerlessWebAppSettings]) -> list[cdk.Stack]:
    """The stack, and its us-east-1 companion `<StackId>Edge` when its CloudFront web ACL must
    live there, and `<StackId>Failover` (the site bucket's replica) with failover_region."""
    (stack_id,) = instance.stack_ids(*STACK_IDS)
    stack = ServerlessWebAppStack(
        app,
        stack_id,
        instance=instance,
        **instance.stage.stack_kwargs(stack_id, cross_region_references=True),
    )
    return [stack, *stack.edge.stacks, *(stack.failover.stacks if stack.failover else [])]
