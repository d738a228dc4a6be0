"""PhotoThumbnails: uploads under one prefix of a private bucket become JPEG thumbnails under
another prefix, with their metadata in a table and a "thumbnail ready" SNS message.

    s3://media  --"Object Created" on EventBridge (the bucket's own setting, CT.S3.PR.4)-->
        rule: this bucket, keys <upload_prefix>*.jpg|.jpeg|.png only
        --async invoke (EventBridge retries a failed delivery for a day, then the rule's DLQ)-->
        thumbnail function (Pillow, reduced-scale JPEG decode, no temp files)
            --> s3://media/<thumbnail_prefix>*.jpg   (served by CloudFront at /<thumbnail_prefix>*)
            --> table item PHOTO#<id> (source size, dimensions, source key, thumbnail key)
            --> SNS "thumbnail ready" --> optional SQS queue (with its own dead-letter queue)
        not a photo / too large  --> logged, sent to the rejected-uploads queue, not retried
        S3/DynamoDB/SNS failure  --> retried twice by Lambda, then the same queue (function DLQ)
        not delivered by EventBridge --> the same queue (the rule target's DLQ)

Why a rule and not S3's own notification: the bucket's notification configuration stays the
house one (object events to EventBridge, declared on the bucket), so no CDK custom resource and
its Lambda function rewrite it at deploy, and other rules can read the same events. Why the
rule invokes the function directly and not through an SQS queue: one event is one photo, the
function is idempotent by key (the thumbnail and its record are overwritten, never added), and
Lambda's asynchronous queue already retries and dead-letters (and holds a burst the account's
concurrency cannot take yet, retrying throttled events for up to six hours). A QueueConsumer in
between would add a concurrency cap, at the price of an idempotency table, a second dead-letter
queue and batch timeouts to tune; uploads come at human pace, so the cap is not worth it here.

No recursive trigger: the rule only matches keys under `upload_prefix`, thumbnails are
written under `thumbnail_prefix`, the two may not overlap (checked here), and the handler
ignores keys outside the upload prefix. The function may write only under the thumbnail
prefix and read only under the upload prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote_plus

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from house.compliance import acknowledge
from house.defaults import dead_letter_queue, queue_with_dlq
from house.lambda_function import python_function

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class PhotoThumbnails(Construct):
    """Uploads under `upload_prefix` of `bucket` become JPEG thumbnails under `thumbnail_prefix`.

    The function reads only under the upload prefix and writes only under the thumbnail prefix;
    rejected uploads, failed invocations (after Lambda's two retries) and events EventBridge
    could not deliver (after a day of retries) go to the `rejected` queue.

    Args:
        `bucket`: the private media bucket; it must send its object events to EventBridge
            (the house buckets do: `house.defaults.secure_bucket`; ValueError otherwise). A rule
            on the default bus sends its "Object Created" events under `upload_prefix` (one
            wildcard per suffix) to the function. Required.
        `table`: the function puts one item per photo in it (dynamodb:PutItem only): sizes,
            dimensions, source and thumbnail keys. Required.
        `log_retention_days`: retention of the function's log group. Required.
        `removal_policy`: the function's log group's and the queues'. Required.
        `upload_prefix`: the folder uploads arrive in, like "uploads/" (ends with "/", no leading
            "/", no "*"); must not overlap `thumbnail_prefix` (ValueError otherwise).
            Default: "uploads/".
        `thumbnail_prefix`: the folder thumbnails are written to, same rules. Default:
            "thumbnails/".
        `suffixes`: the file extensions that invoke the function (each starting with ".").
            Default: IMAGE_SUFFIXES, ".jpg", ".jpeg" and ".png".
        `thumbnail_size`: the longest side of a thumbnail, in pixels (the handler accepts
            16..4096). Default: 256.
        `max_upload_bytes`: larger uploads are rejected (logged and sent to the rejected queue)
            without being decoded. Default: 20 MiB.
        `memory_size`: the function's memory in MB (Lambda's CPU share grows with it).
            Default: 1024.
        `ready_queue`: an SQS queue (with its own dead-letter queue, and one for failed
            deliveries) subscribed to the "thumbnail ready" topic with raw message delivery.
            Default: True; False leaves only the topic, and `ready_queue` is None.

    Attributes: bucket, function, rule (the EventBridge rule that starts it), rejected (queue),
    topic, ready_queue (None without `ready_queue`).
    """

    ready_queue: sqs.Queue | None

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket: s3.IBucket,
        table: dynamodb.ITable,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        upload_prefix: str = "uploads/",
        thumbnail_prefix: str = "thumbnails/",
        suffixes: Sequence[str] = IMAGE_SUFFIXES,
        thumbnail_size: int = 256,
        max_upload_bytes: int = 20 * 1024 * 1024,
        memory_size: int = 1024,
        ready_queue: bool = True,
    ) -> None:
        super().__init__(scope, id)
        for name, prefix in (
            ("upload_prefix", upload_prefix),
            ("thumbnail_prefix", thumbnail_prefix),
        ):
            if not prefix.endswith("/") or prefix.startswith("/") or "*" in prefix:
                raise ValueError(
                    f"PhotoThumbnails {id!r}: {name} {prefix!r} must be a folder like 'uploads/'"
                )
        if upload_prefix.startswith(thumbnail_prefix) or thumbnail_prefix.startswith(upload_prefix):
            raise ValueError(
                f"PhotoThumbnails {id!r}: thumbnail_prefix {thumbnail_prefix!r} and "
                f"upload_prefix {upload_prefix!r} overlap: thumbnails would trigger "
                "the function that writes them"
            )
        if not suffixes or any(not s.startswith(".") for s in suffixes):
            raise ValueError(
                f"PhotoThumbnails {id!r}: suffixes {suffixes!r} must be file extensions like '.jpg'"
            )
        if not sends_events_to_eventbridge(bucket):
            raise ValueError(
                f"PhotoThumbnails {id!r}: bucket {bucket.node.path} does not send its object "
                "events to EventBridge, so the rule that starts the thumbnail function would "
                "never fire; build it with house.defaults.secure_bucket (or set "
                "event_bridge_enabled on its notification configuration)"
            )
        self.bucket = bucket

        # One queue for everything that did not become a thumbnail: rejected uploads (sent by
        # the handler, with the reason) and events that failed after Lambda's retries (DLQ).
        self.rejected = dead_letter_queue(self, "Rejected", removal_policy=removal_policy)
        # SNS-managed key: encrypted at rest for free; SQS subscribers need no key grant.
        self.topic = sns.Topic(
            self,
            "Ready",
            display_name="thumbnail ready",
            enforce_ssl=True,
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
        )
        self.ready_queue = None
        if ready_queue:
            self.ready_queue, _ = queue_with_dlq(self, "ReadyQueue", removal_policy=removal_policy)
            self.topic.add_subscription(
                subscriptions.SqsSubscription(
                    self.ready_queue,
                    raw_message_delivery=True,
                    dead_letter_queue=dead_letter_queue(
                        self, "ReadyDeliveryFailures", removal_policy=removal_policy
                    ),
                )
            )

        self.function = python_function(
            self,
            "Function",
            source="thumbnail",
            description=f"Makes {thumbnail_size}-px thumbnails of s3://.../{upload_prefix} uploads",
            environment={
                "TABLE_NAME": table.table_name,
                "THUMBNAIL_BUCKET": bucket.bucket_name,
                "UPLOAD_PREFIX": upload_prefix,
                "THUMBNAIL_PREFIX": thumbnail_prefix,
                "THUMBNAIL_SIZE": str(thumbnail_size),
                "MAX_UPLOAD_BYTES": str(max_upload_bytes),
                "TOPIC_ARN": self.topic.topic_arn,
                "REJECTED_QUEUE_URL": self.rejected.queue_url,
            },
            # From benchmarks/thumbnail.py: see docs/my-blog.md for the measured peak.
            memory_size=memory_size,
            timeout=cdk.Duration.seconds(60),
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
            dead_letter_queue=self.rejected,
        )
        # Read uploads only, write thumbnails only: the function cannot overwrite an original.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[bucket.arn_for_objects(f"{upload_prefix}*")],
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[bucket.arn_for_objects(f"{thumbnail_prefix}*")]
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=[table.table_arn])
        )
        if bucket.encryption_key is not None:
            # A customer-managed key (prod): reading an upload decrypts, writing a thumbnail
            # makes a data key, both with the function's rights.
            bucket.encryption_key.grant(self.function, "kms:Decrypt", "kms:GenerateDataKey")
        # No kms: grant needed: the AWS managed aws/sns key's policy admits publishers of this
        # account via SNS (grant_publish would add kms:GenerateDataKey* on key/*).
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn])
        )
        # SendMessage only: the function is given the queue URL (grant_send_messages would add
        # GetQueueAttributes and GetQueueUrl, which nothing calls). Lambda's dead-letter delivery
        # to the same queue needs the same action.
        self.rejected.grant(self.function, "sqs:SendMessage")
        stack = cdk.Stack.of(self)
        bucket_arn = f"<{stack.get_logical_id(bucket.node.default_child)}.Arn>"
        for prefix, why in (
            (upload_prefix, "reads originals only under"),
            (thumbnail_prefix, "writes thumbnails only under"),
        ):
            acknowledge(
                self.function.role,
                f"AwsSolutions-IAM5[Resource::{bucket_arn}/{prefix}*]",
                f"The thumbnail function {why} the {prefix} prefix; object keys are chosen by the "
                "uploader at run time, so the prefix is the narrowest scope that exists.",
            )

        # The rule matches S3's "Object Created" events of this bucket under the upload prefix
        # only: thumbnails (under the other, non-overlapping prefix) never match, so the function
        # cannot start itself. The key in the event may arrive URL-encoded (as in S3's own
        # notifications), so a prefix that encoding changes is matched in both spellings.
        self.rule = events.Rule(
            self,
            "Uploaded",
            description=f"Photos put under {upload_prefix} of the media bucket to the thumbnail "
            "function",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [bucket.bucket_name]},
                    "object": {"key": key_patterns(upload_prefix, suffixes)},
                },
            ),
        )
        # EventBridge hands the event to Lambda's asynchronous queue; should that fail (throttled,
        # Lambda unavailable) it retries for up to a day, then parks the event, with the error
        # code and message as attributes, in the rejected-uploads queue (whose alarm tells).
        self.rule.add_target(
            targets.LambdaFunction(
                self.function,
                dead_letter_queue=self.rejected,
                retry_attempts=185,
                max_event_age=cdk.Duration.hours(24),
            )
        )


def sends_events_to_eventbridge(bucket: s3.IBucket) -> bool:
    """True unless `bucket` is a bucket of this app whose template does not switch S3's
    EventBridge delivery on (a bucket imported by name is taken at its word)."""
    cfn_bucket = bucket.node.default_child
    if not isinstance(cfn_bucket, s3.CfnBucket):
        return True
    configuration = cdk.Stack.of(bucket).resolve(cfn_bucket.notification_configuration) or {}
    return (configuration.get("eventBridgeConfiguration") or {}).get("eventBridgeEnabled") is True


def key_patterns(prefix: str, suffixes: Sequence[str]) -> list[dict[str, str]]:
    """EventBridge wildcard matchers for `<prefix>*<suffix>` keys (any one of them matches):
    the prefix as written and, where URL encoding changes it, as S3 encodes it."""
    spellings = dict.fromkeys((prefix, quote_plus(prefix, safe="/")))
    return [
        {"wildcard": f"{_wildcard_literal(spelling)}*{_wildcard_literal(suffix)}"}
        for spelling in spellings
        for suffix in suffixes
    ]


def _wildcard_literal(text: str) -> str:
    """`text` matched literally inside an EventBridge wildcard (`*` and `\\` escaped)."""
    return text.replace("\\", "\\\\").replace("*", "\\*")
