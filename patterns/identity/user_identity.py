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


class UserIdentityOptions(Settings):
    """How strict sign-in is. A blueprint's settings model inherits these fields (MyTodoList's
    does), so cdk.json names them as they are here. docs/my-todo-list.md has what each costs."""

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

    @model_validator(mode="after")
    def _identity_rules(self) -> UserIdentityOptions:
        require(
            self.refresh_token_days * 1440 > self.access_token_minutes,
            "refresh_token_days",
            self.refresh_token_days,
            "must outlive the access token (access_token_minutes)",
        )
        return self


class UserIdentity(Construct):
    """User pool + mobile app client + identity pool + per-user S3 folder role and bucket."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        options: UserIdentityOptions,
        removal_policy: cdk.RemovalPolicy,
        access_logs: s3.IBucket,
        self_sign_up: bool = True,
        user_files: bool = True,
        groups: Mapping[str, str] | None = None,
        password_sign_in: bool = False,
        mfa_optional_because: str = "a test user can sign up and sign in from the example "
        "client without an authenticator app",
    ) -> None:
        """`self_sign_up`: anyone may register (False: an administrator invites users).
        `user_files`: the identity pool, its role and the per-user bucket (False: none of them;
        the attributes are None). `groups`: user pool groups to create, name -> description.
        `password_sign_in`: the app client also takes USER_PASSWORD_AUTH (the password travels
        over TLS to Cognito) besides SRP. `mfa_optional_because`: finishes the sentence "MFA is
        OPTIONAL in this stage so ..." that acknowledges cdk-nag's COG2 when MFA is optional."""
        super().__init__(scope, id)
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
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG2",
                f"MFA is OPTIONAL (TOTP) in this stage so {mfa_optional_because}; prod sets "
                "mfa=REQUIRED.",
            )
        if not options.threat_protection:
            for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):
                acknowledge(
                    self.user_pool,
                    rule,
                    "Threat protection needs the Cognito Plus plan (about $0.02 per active user "
                    "per month); this stage runs Essentials with throttled, Cognito-authorized "
                    "APIs, and prod sets threat_protection=true.",
                )

        # A public client: a mobile app cannot keep a secret, so SRP proves the password
        # without sending it, and there is no client secret to leak from the app binary.
        self.client = self.user_pool.add_client(
            "MobileClient",
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=password_sign_in or None),
            generate_secret=False,
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=cdk.Duration.minutes(options.access_token_minutes),
            id_token_validity=cdk.Duration.minutes(options.access_token_minutes),
            refresh_token_validity=cdk.Duration.days(options.refresh_token_days),
            auth_session_validity=cdk.Duration.minutes(3),
        )

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
        self.user_files = self.identity_pool = self.authenticated_role = None
        if user_files:
            self._user_files(options, removal_policy, access_logs)

    def _user_files(
        self, options: UserIdentityOptions, removal_policy: cdk.RemovalPolicy, access_logs
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
