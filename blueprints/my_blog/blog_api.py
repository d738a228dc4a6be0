"""BlogApi: the blog's REST API, meant to sit behind the site's CloudFront distribution at /api/*.

    CloudFront /api/*  (cache key: path + ?limit&cursor + Authorization; GET/HEAD cached;
        |               origin lock: adds the secret X-Origin-Verify header)
        --> API Gateway REST, regional, stage v1 (request validation, throttling, JSON access log)
              GET  /api/posts, /api/posts/{slug}      public
              POST /api/posts, /api/uploads           Cognito user pool "authors" (ID token)
              POST /api/subscribers{,/confirm,/unsubscribe}  public, with `subscriptions`
        --> Lambda (lambda_src/blog_api), invoked as the API's InvokeRole (no function policy)
                                         --> DynamoDB table, optionally through DAX (in the VPC)
                                         --> pre-signed S3 POSTs for s3://media/<upload_prefix>
        --> the subscriptions function (blueprints/my_blog/subscriptions.py), if given

Direct calls, decided: with `origin_lock` every function behind the API refuses (403, before
anything else) a request without the header CloudFront adds (handler_kit.origin; the secret and
its rotation: house/origin_verify.py). A check in the handlers, not in front of them: a REST API
resource policy cannot test a header, a Lambda authorizer would replace the Cognito one on the
authors' routes, and a regional WAF web ACL on the stage bills per month, per rule and per
request. The price: a direct call still reaches a function (throttled by the stage like any
other request) and is refused there, in microseconds.

Authentication for writing, decided: a Cognito user pool of authors, not IAM. An IAM (SigV4)
signature covers the Host header, and through CloudFront the host the author signs is not the
host API Gateway checks, so IAM auth cannot work behind the distribution. Cognito ID tokens
travel in `Authorization`, which CloudFront forwards only when it is part of the cache key; it
is (see `cache_policy`), so an author's response can never be served to a reader. The pool has
no self sign-up (an admin invites authors), requires TOTP MFA and a strong password, and uses
the Plus plan's threat protection (billed per monthly active author).

Cache key for GET /api/*, decided: the path, the two query strings the API reads (`limit`,
`cursor`, so `?utm_source=...` cannot split the cache or reach the origin), the `Authorization`
header (absent for readers: they all share one entry), and the normalised Accept-Encoding. No
cookies. TTLs: the origin's `Cache-Control: max-age` (the API sets `api_cache_ttl_seconds`), capped
at `api_cache_max_ttl_seconds`; POST/other methods are never cached by CloudFront.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from house.api_models import json_schema, request_schemas
from house.compliance import acknowledge
from house.defaults import api_execution_log_group, log_group
from house.lambda_function import python_function
from house.names import CLOUDFRONT_POLICY_NAME_MAX, physical_name
from house.origin_verify import OriginVerify
from house.settings import keeps_data
from patterns.data.dax_cache import DaxCache
from patterns.web.rest_api import InvokeRole, one_error_body

STAGE_NAME = "v1"
# Query strings the list route reads; anything else is neither cached on nor forwarded.
CACHED_QUERY_STRINGS = ("limit", "cursor")
SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
TAG_PATTERN = "^[a-z0-9][a-z0-9-]{0,29}$"
# What CloudFront adds for the subscriptions' per-source limit (handler_kit.rest Request.source).
VIEWER_ADDRESS_HEADER = "CloudFront-Viewer-Address"
SUBSCRIPTION_ROUTES = {  # resource below /api/subscribers -> schemas.json model
    "": "Subscription",
    "confirm": "Confirmation",
    "unsubscribe": "Unsubscription",
}

_NO_XRAY_IN_VPC = (
    "with DAX it runs in isolated subnets with no route to the X-Ray API; an X-Ray interface "
    "endpoint would bill per AZ-hour, and API Gateway still traces every request"
)


class BlogApi(Construct):
    """Attributes: authors (user pool), authors_client, function, functions (every function
    behind the API), api, invoke (InvokeRole: API Gateway may invoke exactly `functions`),
    origin, cache_policy, origin_request_policy, access_logs, security_group (with a VPC, else
    None), origin_lock (or None)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table: dynamodb.ITable,
        posts_index: str,
        media_bucket: s3.IBucket,
        upload_prefix: str,
        thumbnail_prefix: str,
        max_upload_bytes: int,
        dynamodb_client_layer: lambda_.ILayerVersion,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        api_cache_ttl_seconds: int = 60,
        api_cache_max_ttl_seconds: int = 300,
        api_throttle_rate: int = 50,
        api_throttle_burst: int = 100,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        dax: DaxCache | None = None,
        subscriptions: lambda_.Function | None = None,
        origin_lock: OriginVerify | None = None,
    ) -> None:
        """`subscriptions`: the function behind POST /api/subscribers{,/confirm,/unsubscribe}
        (lambda_src/subscriptions); None: no such routes. `origin_lock`: every function here
        refuses requests without CloudFront's secret header."""
        super().__init__(scope, id)
        self.origin_lock = origin_lock
        if dax is not None and vpc is None:
            raise ValueError(
                f"BlogApi {id!r}: a DAX cluster is reached from inside its VPC; pass vpc"
            )
        if not 0 < api_cache_ttl_seconds <= api_cache_max_ttl_seconds <= 31_536_000:
            raise ValueError(
                f"BlogApi {id!r}: need 0 < api_cache_ttl_seconds ({api_cache_ttl_seconds}) <= "
                f"api_cache_max_ttl_seconds ({api_cache_max_ttl_seconds})"
            )

        self.authors, self.authors_client = self._authors(removal_policy)

        self.security_group = None
        if vpc is not None:
            self.security_group = ec2.SecurityGroup(
                self,
                "SecurityGroup",
                vpc=vpc,
                allow_all_outbound=False,
                description="Blog API function: HTTPS to the DynamoDB gateway endpoint, DAX port",
            )
            # Isolated subnets have no internet route: 443 reaches only the VPC's endpoints.
            self.security_group.add_egress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs via VPC endpoints only"
            )
        environment = {
            "TABLE_NAME": table.table_name,
            "POSTS_INDEX": posts_index,
            "MEDIA_BUCKET": media_bucket.bucket_name,
            "UPLOAD_PREFIX": upload_prefix,
            "THUMBNAIL_PREFIX": thumbnail_prefix,
            "MAX_UPLOAD_BYTES": str(max_upload_bytes),
            "CACHE_SECONDS": str(api_cache_ttl_seconds),
            **(dax.environment if dax is not None else {}),
        }
        self.function = python_function(
            self,
            "Handler",
            source="blog_api",
            description="MyBlog REST API: posts, subscribers, photo upload URLs",
            environment=environment,
            memory_size=512,
            timeout=cdk.Duration.seconds(10),
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
            layers=[dynamodb_client_layer],
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=[self.security_group] if self.security_group else None,
            invoked_synchronously_by="API Gateway, which returns its error to the caller",
            tracing_off_because=_NO_XRAY_IN_VPC if vpc is not None else None,
        )
        self.functions = [self.function, *([subscriptions] if subscriptions else [])]
        if origin_lock is not None:
            for function in self.functions:
                for name, value in origin_lock.function_environment.items():
                    function.add_environment(name, value)
        self._grant_data(table, posts_index, media_bucket, upload_prefix)
        if dax is not None:
            dax.allow_client(self.function)
            # Exactly what the handler calls through DAX (the wiring tests run it under this role).
            dax.grant(self.function, "dax:GetItem", "dax:PutItem", "dax:Query")

        self.access_logs = log_group(
            self, "AccessLogs", retention_days=log_retention_days, removal_policy=removal_policy
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            description="MyBlog REST API (served at /api/* of the site's distribution)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=api_throttle_rate,
                throttling_burst_limit=api_throttle_burst,
                tracing_enabled=True,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                # Errors only; data tracing would copy request bodies (subscribers' addresses,
                # authors' tokens) into the logs. Both need the AccountBaseline's role.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
            ),
        )
        self.execution_logs = api_execution_log_group(
            self,
            "ExecutionLogs",
            rest_api_id=self.api.rest_api_id,
            stage_name=STAGE_NAME,
            retention_days=log_retention_days,
            removal_policy=removal_policy,
        )
        # RestApi adds an output with the execute-api URL; readers and authors use the
        # distribution's /api/ (cached, behind the optional WAF), so the stack does not print it.
        self.api.node.try_remove_child("Endpoint")
        self.invoke = InvokeRole(
            self, "InvokeRole", description="MyBlog REST API: invokes the blog's functions"
        )
        self._routes(max_upload_bytes)
        self.subscribe = self.confirm = self.unsubscribe = None
        if subscriptions is not None:
            self._subscription_routes(subscriptions)
        self._gateway_responses()
        self._acknowledge_api()

        self.origin = origins.RestApiOrigin(
            self.api, custom_headers=origin_lock.origin_headers if origin_lock else None
        )
        self.cache_policy = cloudfront.CachePolicy(
            self,
            "EdgeCache",
            cache_policy_name=physical_name(
                self, "EdgeCache", max_length=CLOUDFRONT_POLICY_NAME_MAX
            ),
            comment="MyBlog API GETs: path + limit/cursor + Authorization; origin max-age",
            default_ttl=cdk.Duration.seconds(api_cache_ttl_seconds),
            min_ttl=cdk.Duration.seconds(0),
            max_ttl=cdk.Duration.seconds(api_cache_max_ttl_seconds),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.allow_list(
                *CACHED_QUERY_STRINGS
            ),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization"),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            enable_accept_encoding_gzip=True,
            enable_accept_encoding_brotli=True,
        )
        # Cache-key values are forwarded anyway; this adds only what a POST needs. Never Host
        # (API Gateway routes on its own host name). The viewer's address only for the
        # subscriptions' per-source limit.
        forwarded = ["Content-Type", *([VIEWER_ADDRESS_HEADER] if subscriptions else [])]
        self.origin_request_policy = cloudfront.OriginRequestPolicy(
            self,
            "OriginRequests",
            origin_request_policy_name=physical_name(
                self, "OriginRequests", max_length=CLOUDFRONT_POLICY_NAME_MAX
            ),
            comment=f"MyBlog API: forward {', '.join(forwarded)}; no cookies, no other query "
            "strings",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(*forwarded),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.none(),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
        )

    # -- authors --------------------------------------------------------------------------------

    def _authors(self, removal_policy: cdk.RemovalPolicy):
        pool = cognito.UserPool(
            self,
            "Authors",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=keeps_data(removal_policy),
            removal_policy=removal_policy,
        )
        client = pool.add_client(
            "Cli",
            # USER_PASSWORD_AUTH lets an author get a token with the AWS CLI (docs/my-blog.md);
            # the password travels over TLS to Cognito only, and TOTP is still required.
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            id_token_validity=cdk.Duration.hours(1),
            access_token_validity=cdk.Duration.hours(1),
            refresh_token_validity=cdk.Duration.days(7),
        )
        return pool, client

    # -- data access ----------------------------------------------------------------------------

    def _grant_data(
        self, table: dynamodb.ITable, posts_index: str, bucket: s3.IBucket, upload_prefix: str
    ) -> None:
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:PutItem"], resources=[table.table_arn]
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/{posts_index}"]
            )
        )
        # Pre-signed POSTs are signed with the function's credentials: they can upload only
        # what this role may put, i.e. under the upload prefix.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[bucket.arn_for_objects(f"{upload_prefix}*")]
            )
        )
        if bucket.encryption_key is not None:
            # S3 makes the upload's data key with the signer's rights (a customer-managed key).
            bucket.encryption_key.grant(self.function, "kms:GenerateDataKey")
        bucket_id = cdk.Stack.of(self).get_logical_id(bucket.node.default_child)
        acknowledge(
            self.function.role,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{upload_prefix}*]",
            "s3:PutObject under the upload prefix only, for the pre-signed POSTs this function "
            "signs; each upload's key is a fresh UUID chosen at run time.",
        )

    # -- routes ---------------------------------------------------------------------------------

    def _routes(self, max_upload_bytes: int) -> None:
        integration = self.invoke.integration(self.function)
        authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "AuthorsAuthorizer",
            cognito_user_pools=[self.authors],
            results_cache_ttl=cdk.Duration.minutes(5),
        )
        self.validator = validator = self.api.add_request_validator(
            "Validate", validate_request_body=True, validate_request_parameters=True
        )
        authors_only = dict(
            authorizer=authorizer, authorization_type=apigw.AuthorizationType.COGNITO
        )

        root = self.api.root.add_resource("api")
        posts = root.add_resource("posts")
        self.list_posts = posts.add_method(
            "GET",
            integration,
            request_validator=validator,
            request_parameters={
                f"method.request.querystring.{q}": False for q in CACHED_QUERY_STRINGS
            },
        )
        self.create_post = posts.add_method(
            "POST",
            integration,
            request_validator=validator,
            request_models={
                "application/json": self._model(
                    "NewPost",
                    {
                        "title": _string(max_length=200, min_length=1),
                        "body": _string(max_length=50_000, min_length=1),
                        "summary": _string(max_length=500),
                        "slug": _string(max_length=80, pattern=SLUG_PATTERN),
                        "tags": apigw.JsonSchema(
                            type=apigw.JsonSchemaType.ARRAY,
                            max_items=10,
                            items=_string(max_length=30, pattern=TAG_PATTERN),
                        ),
                    },
                    required=["title", "body"],
                )
            },
            **authors_only,
        )
        self.get_post = posts.add_resource("{slug}").add_method(
            "GET",
            integration,
            request_validator=validator,
            request_parameters={"method.request.path.slug": True},
        )
        self.upload_url = root.add_resource("uploads").add_method(
            "POST",
            integration,
            request_validator=validator,
            request_models={
                "application/json": self._model(
                    "UploadRequest",
                    {
                        "contentType": apigw.JsonSchema(
                            type=apigw.JsonSchemaType.STRING, enum=["image/jpeg", "image/png"]
                        )
                    },
                    required=["contentType"],
                )
            },
            **authors_only,
        )

    def _subscription_routes(self, function: lambda_.Function) -> None:
        """POST /api/subscribers, .../confirm, .../unsubscribe: public, each body checked by a
        model built from lambda_src/subscriptions/schemas.json (the handler's own schemas, the
        address rule resolved from handler_kit/definitions.json)."""
        integration = self.invoke.integration(function)
        schemas = request_schemas("subscriptions")
        resource = self.api.root.get_resource("api").add_resource("subscribers")
        methods = {}
        for path, model in SUBSCRIPTION_ROUTES.items():
            target = resource.add_resource(path) if path else resource
            methods[path] = target.add_method(
                "POST",
                integration,
                request_validator=self.validator,
                request_models={
                    "application/json": self.api.add_model(
                        model,
                        content_type="application/json",
                        model_name=model,
                        schema=json_schema(schemas[model]),
                    )
                },
            )
        self.subscribe, self.confirm, self.unsubscribe = (
            methods[""],
            methods["confirm"],
            methods["unsubscribe"],
        )

    def _model(self, name: str, properties: dict, *, required: list[str]) -> apigw.Model:
        return self.api.add_model(
            name,
            content_type="application/json",
            model_name=name,
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                title=name,
                type=apigw.JsonSchemaType.OBJECT,
                properties=properties,
                required=required,
                additional_properties=False,
            ),
        )

    def _gateway_responses(self) -> None:
        """API Gateway's own errors in the handler's one error body (patterns/web/rest_api.py);
        the distribution maps 403 to the site's 404 page, so nothing that comes through
        CloudFront is answered 403 (only a direct call, refused by the origin lock)."""
        one_error_body(
            self.api, not_authenticated="sign in as an author (Cognito ID token in Authorization)"
        )

    def _acknowledge_api(self) -> None:
        stage = self.api.deployment_stage
        acknowledge(
            stage,
            "AwsSolutions-APIG3",
            "The stage is published through the site's CloudFront distribution, where the "
            "optional CLOUDFRONT web ACL applies; a second, regional web ACL would bill its "
            "monthly fees again and the stage has its own throttling.",
        )
        for method, what in (
            (self.list_posts, "lists published posts"),
            (self.get_post, "reads one published post"),
            (self.subscribe, "takes an address to send a confirmation link to (double opt-in)"),
            (self.confirm, "confirms a subscription with the signed link from its mail"),
            (self.unsubscribe, "forgets an address with the signed link from any of its mails"),
        ):
            if method is None:
                continue
            for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                acknowledge(
                    method,
                    rule,
                    f"This public blog route {what} for anonymous readers by design; it is "
                    "validated, throttled and, for GETs, cached at the edge.",
                )


def _string(
    *, max_length: int, min_length: int | None = None, pattern: str | None = None
) -> apigw.JsonSchema:
    return apigw.JsonSchema(
        type=apigw.JsonSchemaType.STRING,
        max_length=max_length,
        min_length=min_length,
        pattern=pattern,
    )
