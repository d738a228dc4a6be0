"""MyBlog blueprint: a globally cached serverless blog with welcome emails and photo thumbnails.

    readers --HTTPS--> CloudFront (security headers, SPA routing function, optional WAF/domain;
                       outside us-east-1 the web ACL and certificate are in MyBlogEdge there)
        /*             --OAC--> site bucket (sample site from site/, deployed with the stack)
        /api/*         -------> API Gateway REST --> blog API Lambda --> DynamoDB TableV2
                       (lock_origin: a secret      (authors: Cognito)  (prod: in a VPC, DAX)
                        header; direct calls 403)  --> subscriptions Lambda (with sender_email)
        /thumbnails/*  --OAC--> media bucket, thumbnails/ prefix only
    subscribers table stream --> welcome-email Lambda --> SES: confirmation link, then welcome
                                 (double opt-in; only with sender_email set)
    media bucket uploads/*.jpg|png --> thumbnail Lambda --> thumbnails/, PHOTO# item, SNS topic
    everything that logs --> one access-log bucket

dev: one region, no replicas, no DAX, no VPC, everything DESTROYed with the stack.
prod: global-table replicas, a 3-node DAX cluster in an isolated VPC, RETAIN + deletion
protection, the origin lock, subscriber addresses under a customer-managed key. See
docs/my-blog.md.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ses as ses
from constructs import Construct

from blueprints.my_blog.blog_api import BlogApi
from blueprints.my_blog.settings import MyBlogSettings
from blueprints.my_blog.subscriptions import Subscriptions
from house.compliance import (
    add_serverless_checks,
)
from house.defaults import access_log_bucket, origin_key, secure_bucket
from house.lambda_function import python_layer
from house.network import ISOLATED
from house.network import vpc as house_vpc
from house.origin_verify import OriginVerify
from house.settings import Instance
from patterns.data.dax_cache import DaxCache
from patterns.events.photo_thumbnails import PhotoThumbnails
from patterns.web.static_site import StaticSite

STACK_ID = "MyBlog"
SITE_CONTENT = Path(__file__).resolve().parents[2] / "site"
POSTS_INDEX = "posts-by-date"
# What the newest-posts index carries, so listing never reads a post's body.
POSTS_INDEX_ATTRIBUTES = ["slug", "title", "summary", "author", "tags", "createdAt"]

_PRICE_CLASSES = {
    "PriceClass_100": cloudfront.PriceClass.PRICE_CLASS_100,
    "PriceClass_200": cloudfront.PriceClass.PRICE_CLASS_200,
    "PriceClass_All": cloudfront.PriceClass.PRICE_CLASS_ALL,
}
SETTINGS = MyBlogSettings
STACK_IDS = (STACK_ID,)


class MyBlogStack(cdk.Stack):
    def __init__(
        self, scope: Construct, id: str, *, instance: Instance[MyBlogSettings], **kwargs
    ) -> None:
        super().__init__(
            scope,
            id,
            description="MyBlog: CloudFront + S3 site, REST API, "
            "DynamoDB, welcome emails, thumbnails (aws-architecture-blueprints)",
            **kwargs,
        )
        stage, settings = instance.stage, instance.settings
        removal = stage.removal_policy
        logs = dict(log_retention_days=stage.log_retention_days, removal_policy=removal)
        self.access_logs = access_log_bucket(self, "AccessLogs", removal_policy=removal)

        self.table = self._table(instance)
        # CloudFront serves its thumbnails/ prefix (Site.add_bucket_prefix below); in prod it is
        # encrypted with the key the site bucket uses (one key per stack).
        self.media = secure_bucket(
            self,
            "Media",
            removal_policy=removal,
            access_logs=self.access_logs,
            encryption_key=origin_key(self, removal_policy=removal),
            cloudfront_origin=True,
        )
        # A created web ACL and certificate go to us-east-1: here, or MyBlogEdge there.
        self.edge = stage.cloudfront_edge(self)
        # The site bucket's replica in failover_region: MyBlogFailover there (CloudFront's second
        # origin).
        self.failover = (
            stage.failover_companion(self, settings.failover_region)
            if settings.failover_region
            else None
        )
        self.site = StaticSite(
            self,
            "Site",
            access_logs=self.access_logs,
            content=SITE_CONTENT,
            content_security_policy=settings.content_security_policy,
            price_class=_PRICE_CLASSES[settings.price_class],
            domain=settings.site_domain(),
            waf=settings.waf,
            waf_rate_limit=settings.waf_rate_limit,
            comment=f"{settings.blog_name} ({stage.name})",
            edge=self.edge,
            failover=self.failover,
            **logs,
        )
        # No failover for media: its thumbnails are linked only from posts the API reads in this
        # region, so while this region is down no page asks for them (docs/my-blog.md).
        self.site.add_bucket_prefix(self.media, settings.thumbnail_prefix)

        self.vpc = self.dax = None
        if settings.dax:
            # Isolated subnets only (no NAT gateway billing every hour): the function reaches DAX
            # inside the VPC and DynamoDB through the free gateway endpoint.
            self.vpc = house_vpc(
                self, "Network", availability_zones=stage.availability_zones, **logs
            )
            self.vpc.add_gateway_endpoint(
                "DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets=[ISOLATED]
            )
            self.dax = DaxCache(
                self,
                "ReadCache",
                vpc=self.vpc,
                tables=[self.table],
                node_type=settings.dax_node_type,
                nodes=settings.dax_nodes,
                item_ttl=cdk.Duration.seconds(settings.dax_item_ttl_seconds),
                query_ttl=cdk.Duration.seconds(settings.dax_query_ttl_seconds),
                subnets=ISOLATED,
                description=f"{settings.blog_name} posts read cache",
            )

        # Subscriptions need someone to send their mail: with sender_email only.
        self.sender = self.subscriptions = self.welcome = None
        self.sandbox_recipients = []
        if settings.sender_email is not None:
            self.sender = self._ses_identity(settings)
            self.subscriptions = Subscriptions(
                self,
                "Subscriptions",
                sender=settings.sender_email,
                sender_identity_arns=[
                    self.format_arn(
                        service="ses", resource="identity", resource_name=i.email_identity_name
                    )
                    for i in (self.sender, *self.sandbox_recipients)
                ],
                blog_name=settings.blog_name,
                site_url=self.site.url,
                confirm_link_hours=settings.confirm_link_hours,
                requests_per_hour=settings.subscribe_rate_limit,
                retry_attempts=settings.welcome_retry_attempts,
                **logs,
            )
            self.welcome = self.subscriptions.mailer

        self.origin_lock = (
            OriginVerify(
                self,
                "OriginVerify",
                generation=settings.origin_secret_generation,
                what=f"{self.stack_name}'s REST API",
            )
            if settings.lock_origin
            else None
        )
        max_upload_bytes = settings.max_upload_mb * 1024 * 1024
        self.api = BlogApi(
            self,
            "Api",
            table=self.table,
            posts_index=POSTS_INDEX,
            media_bucket=self.media,
            upload_prefix=settings.upload_prefix,
            thumbnail_prefix=settings.thumbnail_prefix,
            max_upload_bytes=max_upload_bytes,
            dynamodb_client_layer=python_layer(
                self,
                "DynamoDbClient",
                source="dynamodb_client",
                description="dynamodb_client: DynamoDB through DAX when DAX_ENDPOINT is set",
            ),
            api_cache_ttl_seconds=settings.api_cache_ttl_seconds,
            api_cache_max_ttl_seconds=settings.api_cache_max_ttl_seconds,
            api_throttle_rate=settings.api_throttle_rate,
            api_throttle_burst=settings.api_throttle_burst,
            vpc=self.vpc,
            vpc_subnets=ISOLATED if self.vpc else None,
            dax=self.dax,
            subscriptions=self.subscriptions.function if self.subscriptions else None,
            origin_lock=self.origin_lock,
            **logs,
        )
        self.site.add_dynamic_path(
            "/api/*",
            self.api.origin,
            cache_policy=self.api.cache_policy,
            origin_request_policy=self.api.origin_request_policy,
        )
        if self.origin_lock is not None:
            self.origin_lock.checkers_before(self.site.distribution, *self.api.functions)

        self.photos = PhotoThumbnails(
            self,
            "Thumbnails",
            bucket=self.media,
            table=self.table,
            upload_prefix=settings.upload_prefix,
            thumbnail_prefix=settings.thumbnail_prefix,
            thumbnail_size=settings.thumbnail_size,
            max_upload_bytes=max_upload_bytes,
            memory_size=settings.thumbnail_memory_mb,
            ready_queue=settings.thumbnail_ready_queue,
            **logs,
        )
        self._outputs(instance)
        add_serverless_checks(self)

    # -- data -------------------------------------------------------------------------------------

    def _table(self, instance: Instance[MyBlogSettings]) -> dynamodb.TableV2:
        stage, settings = instance.stage, instance.settings
        # A global table always has a replica in its own region; naming that region again would
        # fail the synth, so it is dropped (with a warning), and moving the stage to a region
        # that is on the list just works.
        replicas = [region for region in settings.replica_regions if region != self.region]
        if len(replicas) < len(settings.replica_regions):
            cdk.Annotations.of(self).add_warning_v2(
                "my-blog:replicaRegionIsHomeRegion",
                f"{instance.setting('replica_regions')} lists {self.region}, the "
                f"table's own region (stages.{stage.name}.region): dropped, the table is there "
                f"already; replicas: {', '.join(replicas) or 'none'}",
            )
        return dynamodb.TableV2(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            # On-demand: a blog is idle most of the time; no capacity to pay for while it is.
            billing=dynamodb.Billing.on_demand(),
            # Global tables replicate through the stream (nothing else reads it: subscribers
            # have their own table, blueprints/my_blog/subscriptions.py).
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=stage.keep_data,
            removal_policy=stage.removal_policy,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=POSTS_INDEX,
                    partition_key=dynamodb.Attribute(
                        name="gsi1pk", type=dynamodb.AttributeType.STRING
                    ),
                    sort_key=dynamodb.Attribute(name="gsi1sk", type=dynamodb.AttributeType.STRING),
                    projection_type=dynamodb.ProjectionType.INCLUDE,
                    non_key_attributes=POSTS_INDEX_ATTRIBUTES,
                )
            ],
            replicas=[dynamodb.ReplicaTableProps(region=region) for region in replicas] or None,
        )

    # -- welcome email ----------------------------------------------------------------------------

    def _ses_identity(self, settings: MyBlogSettings) -> ses.EmailIdentity:
        identity = (
            ses.Identity.domain(settings.ses_domain)
            if settings.ses_domain
            else ses.Identity.email(settings.sender_email)
        )
        sender = ses.EmailIdentity(self, "SenderIdentity", identity=identity)
        self.sandbox_recipients = [
            ses.EmailIdentity(self, f"SandboxRecipient{i}", identity=ses.Identity.email(address))
            for i, address in enumerate(settings.ses_sandbox_recipients)
        ]
        return sender

    # -- compliance and outputs -------------------------------------------------------------------

    def _outputs(self, instance: Instance[MyBlogSettings]) -> None:
        site = self.site.url
        cdk.CfnOutput(self, "SiteUrl", value=site, description="The blog (CloudFront)")
        cdk.CfnOutput(
            self,
            "ApiBaseUrl",
            value=cdk.Fn.join("", [site, "/api/"]),
            description="REST API through the same distribution",
        )
        if self.sender is not None:
            cdk.CfnOutput(
                self,
                "SesIdentityToVerify",
                value=self.sender.email_identity_name,
                description="SES sends a verification link to this address (or shows "
                "DKIM records for a domain); welcome emails wait until it is verified",
            )
        else:
            cdk.CfnOutput(
                self,
                "WelcomeEmail",
                description="Subscriptions by e-mail (double opt-in, SES)",
                value=f"off: set {instance.setting('sender_email')} in cdk.json (or deploy with "
                f"{instance.override('sender_email', 'welcome@your-domain')}) to turn them on",
            )
        if self.origin_lock is not None:
            cdk.CfnOutput(
                self,
                "ApiDirectUrl",
                value=self.api.api.url,
                description="API Gateway's own address: it refuses every call (403, lock_origin); "
                "readers and authors use ApiBaseUrl",
            )
        cdk.CfnOutput(self, "AuthorsUserPoolId", value=self.api.authors.user_pool_id)
        cdk.CfnOutput(self, "AuthorsClientId", value=self.api.authors_client.user_pool_client_id)
        cdk.CfnOutput(
            self,
            "CreateAuthorCommand",
            description="Invite an author (replace the address)",
            value=cdk.Fn.join(
                "",
                [
                    "aws cognito-idp admin-create-user --user-pool-id ",
                    self.api.authors.user_pool_id,
                    " --username author@example.com --user-attributes Name=email,"
                    "Value=author@example.com Name=email_verified,Value=true",
                ],
            ),
        )
        cdk.CfnOutput(
            self,
            "UploadExample",
            description="Upload a photo as an author (ID_TOKEN from docs/my-blog.md), then open "
            "SiteUrl + thumbnailPath",
            value=cdk.Fn.join(
                "",
                [
                    "curl -s -X POST ",
                    site,
                    '/api/uploads -H "Authorization: $ID_TOKEN" '
                    "-H 'Content-Type: application/json' -d '{\"contentType\":\"image/jpeg\"}' "
                    "> upload.json && curl -s $(jq -r '.upload.fields|to_entries|map(\"-F \\(.key)="
                    '\\(.value)")|join(" ")\' upload.json) -F file=@photo.jpg '
                    "$(jq -r .upload.url upload.json) && jq -r .thumbnailPath upload.json",
                ],
            ),
        )
        cdk.CfnOutput(self, "MediaBucketName", value=self.media.bucket_name)
        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
        cdk.CfnOutput(self, "RejectedUploadsQueueUrl", value=self.photos.rejected.queue_url)
        if self.subscriptions is not None:
            cdk.CfnOutput(self, "SubscribersTableName", value=self.subscriptions.table.table_name)
            cdk.CfnOutput(self, "WelcomeFailuresQueueUrl", value=self.welcome.failures.queue_url)


def build(app: cdk.App, instance: Instance[MyBlogSettings]) -> list[cdk.Stack]:
    """The MyBlog stack, its us-east-1 companion MyBlogEdge when it has one, and MyBlogFailover
    (the site bucket's replica) with failover_region."""
    (stack_id,) = instance.stack_ids(*STACK_IDS)
    stack = MyBlogStack(
        app,
        stack_id,
        instance=instance,
        **instance.stage.stack_kwargs(stack_id, cross_region_references=True),
    )
    return [stack, *stack.edge.stacks, *(stack.failover.stacks if stack.failover else [])]
