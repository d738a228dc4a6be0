"""MyTodoList blueprint: a mobile backend with Cognito sign-in, per-user S3 folders and a
Cognito-protected to-do REST API over DynamoDB, read-cached by DAX and API Gateway in prod.

Stack `MyTodoList` (CloudFormation name `MyTodoList-<stage>`). Doc: docs/my-todo-list.md.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

import aws_cdk as cdk
from constructs import Construct

from blueprints.my_todo_list.todo_api import CACHE_SIZES, DaxOptions, TodoApi, TodoApiOptions
from house.compliance import add_serverless_checks
from house.defaults import access_log_bucket
from house.network import vpc
from house.settings import StageSettings, require
from patterns.data.dax_cache import MAX_NODES, NODE_TYPES
from patterns.identity.user_identity import UserIdentity, UserIdentityOptions

_ORIGIN = re.compile(r"^(\*|[a-z][a-z0-9+.-]*://[A-Za-z0-9.-]+(:\d{1,5})?)$")


@dataclasses.dataclass(frozen=True)
class MyTodoListSettings:
    """`blueprints.my-todo-list.<stage>` in cdk.json. Defaults are the cheap (dev) profile."""

    # -- sign-in -------------------------------------------------------------------------------
    mfa: Literal["OPTIONAL", "REQUIRED"] = "OPTIONAL"
    threat_protection: bool = False  # Cognito Plus plan: ~$0.02 per monthly active user
    password_min_length: int = 12
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    # Browser origins of a hybrid/web build (CORS on the API and the bucket). Native apps need none.
    allowed_origins: tuple[str, ...] = ("http://localhost:8100",)
    # -- API -----------------------------------------------------------------------------------
    endpoint_type: Literal["REGIONAL", "EDGE"] = "REGIONAL"
    throttle_rate_limit: int = 20
    throttle_burst_limit: int = 40
    waf_enabled: bool = False  # ~$5/month per web ACL + $1/rule (4 rules) + $0.60/M requests
    waf_rate_limit_per_5_minutes: int = 1000
    # -- read path (the expensive part: off in dev, on in prod) ----------------------------------
    api_cache_enabled: bool = False
    api_cache_size_gb: Literal["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"] = "0.5"
    api_cache_ttl_seconds: int = 30
    dax_enabled: bool = False
    dax_node_type: str = "dax.t3.small"
    dax_nodes: int = 1
    dax_item_ttl_seconds: int = 300
    dax_query_ttl_seconds: int = 60
    user_file_version_days: int = 30

    def __post_init__(self) -> None:
        require(
            8 <= self.password_min_length <= 99,
            "password_min_length",
            self.password_min_length,
            "allowed: 8..99 (Cognito's range; 8 is the floor)",
        )
        require(
            5 <= self.access_token_minutes <= 1440,
            "access_token_minutes",
            self.access_token_minutes,
            "allowed: 5..1440 minutes",
        )
        require(
            1 <= self.refresh_token_days <= 3650,
            "refresh_token_days",
            self.refresh_token_days,
            "allowed: 1..3650 days",
        )
        require(
            self.refresh_token_days * 1440 > self.access_token_minutes,
            "refresh_token_days",
            self.refresh_token_days,
            "must outlive the access token",
        )
        for origin in self.allowed_origins:
            require(
                bool(_ORIGIN.match(origin)),
                "allowed_origins",
                origin,
                "each origin is scheme://host[:port] without a path, or *",
            )
        require(
            1 <= self.throttle_rate_limit <= 10_000,
            "throttle_rate_limit",
            self.throttle_rate_limit,
            "allowed: 1..10000 requests per second",
        )
        require(
            self.throttle_rate_limit <= self.throttle_burst_limit <= 10_000,
            "throttle_burst_limit",
            self.throttle_burst_limit,
            f"allowed: {self.throttle_rate_limit} (the rate limit)..10000",
        )
        require(
            100 <= self.waf_rate_limit_per_5_minutes <= 2_000_000_000,
            "waf_rate_limit_per_5_minutes",
            self.waf_rate_limit_per_5_minutes,
            "allowed: 100..2000000000 requests per IP per 5 minutes",
        )
        require(
            self.api_cache_size_gb in CACHE_SIZES,
            "api_cache_size_gb",
            self.api_cache_size_gb,
            f"allowed: {', '.join(CACHE_SIZES)}",
        )
        require(
            1 <= self.api_cache_ttl_seconds <= 3600,
            "api_cache_ttl_seconds",
            self.api_cache_ttl_seconds,
            "allowed: 1..3600 seconds",
        )
        require(
            self.dax_node_type in NODE_TYPES,
            "dax_node_type",
            self.dax_node_type,
            f"allowed: {', '.join(NODE_TYPES)}",
        )
        require(
            1 <= self.dax_nodes <= MAX_NODES,
            "dax_nodes",
            self.dax_nodes,
            f"allowed: 1..{MAX_NODES} (one primary + up to 10 replicas)",
        )
        require(
            1 <= self.dax_item_ttl_seconds <= 86_400,
            "dax_item_ttl_seconds",
            self.dax_item_ttl_seconds,
            "allowed: 1..86400 seconds",
        )
        require(
            1 <= self.dax_query_ttl_seconds <= 3_600,
            "dax_query_ttl_seconds",
            self.dax_query_ttl_seconds,
            "allowed: 1..3600 seconds (writes never refresh DAX's query cache: keep it short)",
        )
        require(
            1 <= self.user_file_version_days <= 3650,
            "user_file_version_days",
            self.user_file_version_days,
            "allowed: 1..3650 days",
        )


SETTINGS = MyTodoListSettings


class MyTodoListStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        settings: MyTodoListSettings,
        **kwargs,
    ) -> None:
        super().__init__(
            scope,
            id,
            description="MyTodoList: mobile backend (Cognito, REST API, "
            "DynamoDB, per-user S3 folders)",
            **kwargs,
        )
        add_serverless_checks(self)
        s = settings
        logs = access_log_bucket(self, "AccessLogs", removal_policy=stage.removal_policy)

        self.identity = UserIdentity(
            self,
            "Identity",
            options=UserIdentityOptions(
                mfa=s.mfa,
                threat_protection=s.threat_protection,
                password_min_length=s.password_min_length,
                access_token_minutes=s.access_token_minutes,
                refresh_token_days=s.refresh_token_days,
                allowed_origins=s.allowed_origins,
                noncurrent_version_days=s.user_file_version_days,
            ),
            removal_policy=stage.removal_policy,
            access_logs=logs,
        )

        dax = None
        if s.dax_enabled:
            # Isolated subnets only: the handler talks to DAX inside the VPC and to DynamoDB
            # through a free gateway endpoint, so no NAT gateway and no interface endpoint (each
            # billed every hour per AZ, idle or not) is needed. See the doc's cost table.
            self.network = vpc(
                self,
                "Network",
                availability_zones=stage.availability_zones,
                log_retention_days=stage.log_retention_days,
                removal_policy=stage.removal_policy,
            )
            dax = DaxOptions(
                vpc=self.network,
                node_type=s.dax_node_type,
                nodes=s.dax_nodes,
                item_ttl_seconds=s.dax_item_ttl_seconds,
                query_ttl_seconds=s.dax_query_ttl_seconds,
            )

        self.todo_api = TodoApi(
            self,
            "TodoApi",
            user_pool=self.identity.user_pool,
            options=TodoApiOptions(
                endpoint_type=s.endpoint_type,
                throttle_rate_limit=s.throttle_rate_limit,
                throttle_burst_limit=s.throttle_burst_limit,
                allowed_origins=s.allowed_origins,
                cache_enabled=s.api_cache_enabled,
                cache_size_gb=s.api_cache_size_gb,
                cache_ttl_seconds=s.api_cache_ttl_seconds,
                waf_enabled=s.waf_enabled,
                waf_rate_limit_per_5_minutes=s.waf_rate_limit_per_5_minutes,
            ),
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
            dax=dax,
        )

        outputs = {
            "ApiUrl": (self.todo_api.url, "Base URL of the to-do REST API (ends with the stage)"),
            "UserPoolId": (self.identity.user_pool.user_pool_id, "Cognito user pool id"),
            "UserPoolClientId": (
                self.identity.client.user_pool_client_id,
                "App client id (SRP sign-in, no secret)",
            ),
            "IdentityPoolId": (self.identity.identity_pool.ref, "Cognito identity pool id"),
            "UserFilesBucketName": (
                self.identity.user_files.bucket_name,
                "Bucket of per-user folders private/<identity id>/",
            ),
            "Region": (self.region, "Region of every resource above"),
            "ExampleClient": (
                cdk.Fn.join(
                    "",
                    [
                        "python examples/todo_client.py --stack ",
                        self.stack_name,
                        " --region ",
                        self.region,
                        " --email you@example.com",
                    ],
                ),
                "Sign up, use the API and your S3 folder (reads the outputs above)",
            ),
        }
        for name, (value, description) in outputs.items():
            cdk.CfnOutput(self, name, value=value, description=description)


def build(app: cdk.App, stage: StageSettings, settings: MyTodoListSettings) -> list[cdk.Stack]:
    return [
        MyTodoListStack(
            app, "MyTodoList", stage=stage, settings=settings, **stage.stack_kwargs("MyTodoList")
        )
    ]
