"""UserIdentity: who the mobile app's users are, and what AWS lets each of them touch directly.

    user ──SRP sign-in──▶ User pool ──ID token──▶ API Gateway (Cognito authorizer)
                              │
                              └─ID token─▶ Identity pool ──STS──▶ temporary credentials of
                                           (authenticated only)   AuthenticatedRole:
                                                                  s3 Get/Put/DeleteObject on
                                                                  private/<identity id>/* only

Usage:

    identity = UserIdentity(self, "Identity", options=settings,  # a UserIdentityOptions
                            removal_policy=stage.removal_policy, access_logs=log_bucket)
    identity.user_pool, identity.client, identity.identity_pool, identity.authenticated_role,
    identity.user_files, identity.groups

A pool of invited staff instead of self-registered app users (e.g. HR admins who may write to
a directory) is the same pattern with `self_sign_up=False, user_files=False` (no identity pool,
role or bucket), `groups={"hr-admin": "..."}` and `password_sign_in=True` for a web page or the
CLI that cannot do SRP.

The per-user folder is `private/${cognito-identity.amazonaws.com:sub}/`: the *identity pool*
identity id (e.g. `us-east-1:0f7c...`), not the user pool `sub`. IAM substitutes it from the
caller's STS session, so no user can name another user's folder in a request that IAM allows.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct
from pydantic import Field, model_validator

from house.compliance import acknowledge
from house.defaults import secure_bucket
from house.settings import Settings, require
from house.types import Origin

IDENTITY_ID = "${cognito-identity.amazonaws.com:sub}"
USER_FOLDER = f"private/{IDENTITY_ID}/"


class SignInOptions(Settings):
    """How strict sign-in is. A blueprint's settings model inherits these fields (MyTodoList's
    and ServerlessWebApp's do), so cdk.json names them as they are here. docs/my-todo-list.md
    has what each costs."""

    mfa: Literal["OPTIONAL", "REQUIRED"] = Field(
        "OPTIONAL",
        description="OPTIONAL: users may enrol an authenticator app; REQUIRED: every user must "
        "(TOTP only: no SMS, so no SNS spend and no SIM-swap exposure).",
    )
    threat_protection: bool = Field(
        False,
        description="Cognito threat protection (compromised-credential and risky sign-in "
        "blocking). Needs the Cognito Plus feature plan, billed per monthly active user at a "
        "higher rate than Essentials.",
    )
    password_min_length: int = Field(
        12, ge=8, le=99, description="Shortest password accepted (Cognito allows 8..99)."
    )
    access_token_minutes: int = Field(
        15, ge=5, le=1440, description="Lifetime of the access and ID tokens, in minutes."
    )
    refresh_token_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="Lifetime of the refresh token (how long a user stays signed in), in days.",
    )

    @model_validator(mode="after")
    def _identity_rules(self) -> SignInOptions:
        require(
            self.refresh_token_days * 1440 > self.access_token_minutes,
            "refresh_token_days",
            self.refresh_token_days,
            "must outlive the access token (access_token_minutes)",
        )
        return self


class UserIdentityOptions(SignInOptions):
    """Sign-in plus the per-user S3 folders of a mobile app (MyTodoList)."""

    allowed_origins: tuple[Origin, ...] = Field(
        (),
        description="Browser origins a hybrid/web build of the app uses (CORS on the API and the "
        "user-files bucket). Native apps need none.",
    )
    user_file_version_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="How long old versions of a user's files are kept after being overwritten "
        "or deleted. Stored versions are billed as S3 storage.",
    )


@dataclasses.dataclass(frozen=True)
class WebSignIn:
    """Sign-in for a browser app through Cognito's hosted pages: the authorization code flow
    with PKCE (RFC 7636), no client secret (a page cannot keep one).

    `callback_urls`/`logout_urls`: where Cognito may send the browser back (exact URLs, https
    except for http://localhost); `domain_prefix`: the hosted pages' domain,
    `https://<prefix>.auth.<region>.amazoncognito.com`, unique per region across every AWS
    account, and without the words aws, amazon or cognito (Cognito refuses them). Each may be a
    token (`domain_prefix(stack)` builds one that is unique per stack).
    """

    callback_urls: tuple[str, ...]
    logout_urls: tuple[str, ...]
    domain_prefix: str


# Cognito refuses a hosted-UI domain prefix containing these ("Domain cannot contain reserved
# word"); deployment/rules.py checks every template for them.
RESERVED_DOMAIN_WORDS = ("aws", "amazon", "cognito")
# The longest prefix Cognito takes, and the part domain_prefix() appends (- and 8 hex digits).
DOMAIN_PREFIX_MAX = 63
_STACK_SUFFIX = 9


def domain_prefix(stack: cdk.Stack) -> str:
    """A hosted-UI domain prefix unique to this stack: its name (lower case, letters, digits and
    hyphens) and the first 8 hex digits of the stack's own id, which CloudFormation draws at
    random when it creates the stack, so two accounts deploying the same stack name do not
    collide. Raises ValueError when the stack name holds a word Cognito refuses."""
    name = re.sub(r"[^a-z0-9-]+", "-", stack.stack_name.lower()).strip("-")
    name = name[: DOMAIN_PREFIX_MAX - _STACK_SUFFIX].strip("-")
    refused = [word for word in RESERVED_DOMAIN_WORDS if word in name]
    if refused:
        raise ValueError(
            f"stack name {stack.stack_name!r}: its Cognito sign-in domain prefix {name!r} would "
            f"contain {', '.join(refused)}, which Cognito refuses; choose an instance key "
            "without them"
        )
    stack_uuid = cdk.Fn.select(2, cdk.Fn.split("/", stack.stack_id))
    return cdk.Fn.join("-", [name, cdk.Fn.select(0, cdk.Fn.split("-", stack_uuid))])


class UserIdentity(Construct):
    """User pool + one app client; for a mobile app (default) also an identity pool and the
    per-user S3 folder role and bucket, for a browser app (`web`) the hosted sign-in pages.

    Users sign up themselves (unless `self_sign_up` is off) and sign in with their email
    (verified); passwords need lower and upper case, digits and symbols; the second factor is
    TOTP only; the app client has no secret.

    Args:
        `options`: how strict sign-in is (SignInOptions; UserIdentityOptions with `user_files`):
            MFA, threat protection (the Plus feature plan), password length, token lifetimes, and
            for user files the CORS origins and how long old versions are kept. Required.
        `removal_policy`: the user pool's and the user-files bucket's; RETAIN also turns on the
            user pool's deletion protection. Required.
        `access_logs`: the bucket the user-files bucket writes its access logs to; needed with
            `user_files` (ValueError otherwise). Default: None, which only fits `user_files=False`.
        `user_files`: an identity pool for signed-in users only, the AuthenticatedRole its users
            assume, and a bucket where each user reaches only their own `private/<identity id>/`
            folder; needs UserIdentityOptions and `access_logs` (ValueError otherwise). Default:
            True; False leaves `identity_pool`, `authenticated_role` and `user_files` None.
        `self_sign_up`: anyone may register. Default: True; False: an administrator invites
            users (a pool of staff, not of the public).
        `groups`: user pool groups to create, name -> description (`groups` attribute: name ->
            CfnUserPoolGroup). Default: None, no groups.
        `password_sign_in`: the app client also takes USER_PASSWORD_AUTH (the password travels
            over TLS to Cognito) besides SRP, for a page or a CLI that cannot do SRP. Default:
            False, SRP only.
        `web`: a browser client signing in through Cognito's classic hosted pages (authorization
            code + PKCE, no client secret) on a Cognito domain (WebSignIn). Default: None, a mobile
            client (SRP, no OAuth); `domain` and `sign_in_url` are then None.
        `mfa_optional_because`: the reason of the AwsSolutions-COG2 acknowledgment on the pool
            when `options.mfa` is not REQUIRED. Default: a dev-stage reason (TOTP optional so a test
            user can sign up from the example client; prod requires it).
        `no_threat_protection_because`: the reason of the AwsSolutions-COG3 and COG8
            acknowledgments when `options.threat_protection` is off. Default: a reason for a stage
            on the Essentials plan (the Plus plan bills per active user; prod turns it on).

    Attributes: user_pool, client, groups, identity_pool / authenticated_role / user_files (None
    without `user_files`), domain and sign_in_url (None without `web`).
    """

    domain: cognito.UserPoolDomain | None
    sign_in_url: str | None
    identity_pool: cognito.CfnIdentityPool | None
    authenticated_role: iam.Role | None
    user_files: s3.Bucket | None

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        options: SignInOptions,
        removal_policy: cdk.RemovalPolicy,
        access_logs: s3.IBucket | None = None,
        user_files: bool = True,
        self_sign_up: bool = True,
        groups: Mapping[str, str] | None = None,
        password_sign_in: bool = False,
        web: WebSignIn | None = None,
        mfa_optional_because: str = (
            "MFA is OPTIONAL (TOTP) in this stage so a test user can sign up and sign in from "
            "the example client without an authenticator app; prod sets mfa=REQUIRED."
        ),
        no_threat_protection_because: str = (
            "Threat protection needs the Cognito Plus plan (billed per monthly active "
            "user); this stage runs Essentials with throttled, Cognito-authorized "
            "APIs, and prod sets threat_protection=true."
        ),
    ) -> None:
        super().__init__(scope, id)
        if user_files and (access_logs is None or not isinstance(options, UserIdentityOptions)):
            raise ValueError(
                f"UserIdentity {id!r}: user_files needs access_logs and UserIdentityOptions"
            )
        keep = removal_policy == cdk.RemovalPolicy.RETAIN

        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=self_sign_up,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=options.password_min_length,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED if options.mfa == "REQUIRED" else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=(
                cognito.FeaturePlan.PLUS
                if options.threat_protection
                else cognito.FeaturePlan.ESSENTIALS
            ),
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION
                if options.threat_protection
                else None
            ),
            deletion_protection=keep,
            removal_policy=removal_policy,
        )
        if options.mfa != "REQUIRED":
            acknowledge(self.user_pool, "AwsSolutions-COG2", mfa_optional_because)
        if not options.threat_protection:
            for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):
                acknowledge(self.user_pool, rule, no_threat_protection_because)

        # A public client: an app cannot keep a secret, so SRP proves the password without
        # sending it, and there is no client secret to leak from the app binary or the page.
        tokens = dict(
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=password_sign_in or None),
            generate_secret=False,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=cdk.Duration.minutes(options.access_token_minutes),
            id_token_validity=cdk.Duration.minutes(options.access_token_minutes),
            refresh_token_validity=cdk.Duration.days(options.refresh_token_days),
            auth_session_validity=cdk.Duration.minutes(3),
        )
        self.domain = self.sign_in_url = None
        if web is None:
            self.client = self.user_pool.add_client("MobileClient", disable_o_auth=True, **tokens)
        else:
            self.client = self._web_client(web, tokens)

        self.groups = {
            name: cognito.CfnUserPoolGroup(
                self,
                f"Group{''.join(part.title() for part in name.split('-'))}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=name,
                description=description,
            )
            for name, description in (groups or {}).items()
        }
        self.identity_pool = self.authenticated_role = self.user_files = None
        if user_files:
            self._user_files(options, removal_policy, access_logs)

    def _web_client(self, web: WebSignIn, tokens: dict) -> cognito.UserPoolClient:
        # The classic hosted UI: sign-up, email verification, password reset and TOTP
        # enrolment are Cognito's pages, so the browser app holds no password logic at all.
        # (Managed login, version 2, would also need a branding resource per client.)
        self.domain = self.user_pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=web.domain_prefix),
            managed_login_version=cognito.ManagedLoginVersion.CLASSIC_HOSTED_UI,
        )
        self.sign_in_url = self.domain.base_url()
        # Authorization code only (no implicit grant: tokens never travel in a URL); Cognito
        # checks the PKCE verifier against the challenge the page sent with the code request.
        return self.user_pool.add_client(
            "WebClient",
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                callback_urls=list(web.callback_urls),
                logout_urls=list(web.logout_urls),
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            **tokens,
        )

    def _user_files(
        self,
        options: UserIdentityOptions,
        removal_policy: cdk.RemovalPolicy,
        access_logs: s3.IBucket,
    ) -> None:
        self.user_files = secure_bucket(
            self,
            "UserFiles",
            removal_policy=removal_policy,
            access_logs=access_logs,
            noncurrent_version_days=options.user_file_version_days,
            cors=[
                s3.CorsRule(
                    allowed_origins=list(options.allowed_origins),
                    allowed_methods=[
                        s3.HttpMethods.GET,
                        s3.HttpMethods.PUT,
                        s3.HttpMethods.DELETE,
                        s3.HttpMethods.HEAD,
                    ],
                    allowed_headers=[
                        "Authorization",
                        "Content-Type",
                        "Content-MD5",
                        "Content-Length",
                        "x-amz-*",
                    ],
                    exposed_headers=["ETag", "x-amz-version-id"],
                    max_age=3000,
                )
            ]
            if options.allowed_origins
            else None,
        )

        # Only users who signed in to this user pool, through this app client, get an identity:
        # no guest (unauthenticated) identities, and no "classic" flow that skips the role rules.
        self.identity_pool = cognito.CfnIdentityPool(
            self,
            "IdentityPool",
            allow_unauthenticated_identities=False,
            allow_classic_flow=False,
            cognito_identity_providers=[
                cognito.CfnIdentityPool.CognitoIdentityProviderProperty(
                    client_id=self.client.user_pool_client_id,
                    provider_name=self.user_pool.user_pool_provider_name,
                    server_side_token_check=True,
                )
            ],
        )

        self.authenticated_role = iam.Role(
            self,
            "AuthenticatedRole",
            description=(
                "Signed-in app users: their own folder of the user-files bucket, nothing else"
            ),
            max_session_duration=cdk.Duration.hours(1),
            assumed_by=iam.FederatedPrincipal(
                "cognito-identity.amazonaws.com",
                conditions={
                    "StringEquals": {"cognito-identity.amazonaws.com:aud": self.identity_pool.ref},
                    "ForAnyValue:StringLike": {
                        "cognito-identity.amazonaws.com:amr": "authenticated"
                    },
                },
                assume_role_action="sts:AssumeRoleWithWebIdentity",
            ),
        )
        self.authenticated_role.add_to_policy(
            iam.PolicyStatement(
                sid="OwnFolderObjects",
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resources=[self.user_files.arn_for_objects(f"{USER_FOLDER}*")],
            )
        )
        self.authenticated_role.add_to_policy(
            iam.PolicyStatement(
                sid="ListOwnFolderOnly",
                actions=["s3:ListBucket"],
                resources=[self.user_files.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [USER_FOLDER, f"{USER_FOLDER}*"]}},
            )
        )
        bucket_id = cdk.Stack.of(self).get_logical_id(self.user_files.node.default_child)
        acknowledge(
            self.authenticated_role,
            # cdk-nag writes the policy variable ${x} as <x> in the finding id.
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/private/<{IDENTITY_ID[2:-1]}>/*]",
            "The wildcard is below the caller's own folder: IAM substitutes the identity-pool id "
            "of the signed-in user, so each user reaches their own objects and no one else's.",
        )
        cognito.CfnIdentityPoolRoleAttachment(
            self,
            "Roles",
            identity_pool_id=self.identity_pool.ref,
            roles={"authenticated": self.authenticated_role.role_arn},
        )
