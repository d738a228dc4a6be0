"""The house defaults for buckets, log groups, queues, file systems, load balancers and keys:
one helper each, used by every pattern. (Names that must be unique per account: house/names.py.)

Secure by default (encrypted, private, TLS-only, versioned where data lives), and the stage's
removal policy decides whether data outlives the stack.
"""

from __future__ import annotations

import aws_cdk as cdk
import constructs
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import region_info
from constructs import Construct

from house.compliance import acknowledge

# The retention periods CloudWatch Logs accepts, in days, and CDK's names for them.
RETENTION_DAYS = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


def retention(days: int) -> logs.RetentionDays:
    if days not in RETENTION_DAYS:
        raise ValueError(
            f"log retention {days} days is not a CloudWatch Logs value; allowed: "
            f"{', '.join(map(str, RETENTION_DAYS))}"
        )
    return getattr(logs.RetentionDays, RETENTION_DAYS[days])


def log_group(
    scope: Construct,
    id: str,
    *,
    retention_days: int,
    removal_policy: cdk.RemovalPolicy,
    log_group_name: str | None = None,
    encryption_key: kms.IKey | None = None,
) -> logs.LogGroup:
    """A log group with an explicit retention (nothing here keeps logs forever by accident)."""
    return logs.LogGroup(
        scope,
        id,
        log_group_name=log_group_name,
        retention=retention(retention_days),
        removal_policy=removal_policy,
        encryption_key=encryption_key,
    )


def encrypt_log_groups(stack: cdk.Stack, *, keep_data: bool) -> None:
    """Every log group of `stack` encrypted with one customer-managed key of its own
    (CT.CLOUDWATCH.PR.3), in a stage that keeps data (prod: its logs are kept a year and are
    what an incident is read from). The key bills per month (see the cost tables), which a
    disposable dev stack does without (docs/compliance.md lists that exception).

    An aspect, so groups created by CDK and by third-party constructs (CodeBuild's, a custom
    resource's, VPC flow logs) are covered as well as the house `log_group`s.
    """
    if keep_data:
        cdk.Aspects.of(stack).add(_LogGroupEncryption(stack))


@jsii.implements(cdk.IAspect)
class _LogGroupEncryption:
    def __init__(self, stack: cdk.Stack) -> None:
        self._stack = stack
        self._key: kms.Key | None = None

    def visit(self, node) -> None:
        if isinstance(node, logs.CfnLogGroup) and node.kms_key_id is None:
            node.kms_key_id = self.key.key_arn

    @property
    def key(self) -> kms.Key:
        if self._key is None:
            stack = self._stack
            self._key = customer_key(
                stack,
                "LogsKey",
                description=f"Encrypts the CloudWatch log groups of {stack.stack_name}",
                # The groups outlive the stack where data is kept; their key must too.
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            # CloudWatch Logs encrypts and decrypts for the log groups of this account and
            # region, and only for them (the encryption context names the group).
            self._key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CloudWatchLogsOfThisAccount",
                    principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                    actions=[
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    resources=["*"],
                    conditions={
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                                service="logs",
                                resource="log-group",
                                resource_name="*",
                                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                            )
                        }
                    },
                )
            )
        return self._key


def api_execution_log_group(
    scope: Construct,
    id: str,
    *,
    rest_api_id: str,
    stage_name: str,
    retention_days: int,
    removal_policy: cdk.RemovalPolicy,
) -> logs.LogGroup:
    """The group API Gateway writes a REST stage's execution logs to, created by the stack.

    API Gateway creates `API-Gateway-Execution-Logs_<api id>/<stage>` itself on the first log
    event, with no retention and outside the stack; creating it here first gives it the
    stage's retention and removal policy. Execution logging needs the account's CloudWatch
    Logs role, which the AccountBaseline stack sets.
    """
    return log_group(
        scope,
        id,
        retention_days=retention_days,
        removal_policy=removal_policy,
        log_group_name=cdk.Fn.join(
            "", ["API-Gateway-Execution-Logs_", rest_api_id, "/", stage_name]
        ),
    )


def access_log_bucket(
    scope: Construct, id: str, *, removal_policy: cdk.RemovalPolicy, expire_after_days: int = 90
) -> s3.Bucket:
    """The one bucket a stack's access logs go to (S3 server access logs, CloudFront, ALB).

    Versioned, so a log file cannot be overwritten unnoticed; an expired log's old version goes a
    day later, and so does the delete marker left behind.
    """
    bucket = s3.Bucket(
        scope,
        id,
        # ALB access logs accept SSE-S3 only (ELB docs, "Enable access logs"): the one
        # encryption every log source of the house log bucket can write with.
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        # CloudFront standard logging writes with ACLs, so ACLs cannot be disabled here.
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        versioned=True,
        removal_policy=removal_policy,
        auto_delete_objects=removal_policy == cdk.RemovalPolicy.DESTROY,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="expire-access-logs",
                expiration=cdk.Duration.days(expire_after_days),
                noncurrent_version_expiration=cdk.Duration.days(1),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
            ),
            s3.LifecycleRule(id="remove-expired-delete-markers", expired_object_delete_marker=True),
        ],
    )
    _events_to_eventbridge(bucket)
    acknowledge(
        bucket,
        "AwsSolutions-S1",
        "This bucket is the access-log destination itself; logging its own reads into itself "
        "would produce a log record for every log delivery, forever.",
    )
    return bucket


def secure_bucket(
    scope: Construct,
    id: str,
    *,
    removal_policy: cdk.RemovalPolicy,
    access_logs: s3.IBucket,
    access_logs_prefix: str | None = None,
    encryption_key: kms.IKey | None = None,
    cloudfront_origin: bool = False,
    noncurrent_version_days: int = 30,
    **overrides,
) -> s3.Bucket:
    """A private data bucket: KMS-encrypted, versioned, TLS-only, no ACLs, access-logged, its
    object events on EventBridge.

    Encryption: `encryption_key` if given, else the AWS managed aws/s3 key (no monthly key fee;
    a bucket key keeps the KMS requests few), which every principal of the account that may use
    the bucket may use through S3. CloudFront cannot decrypt with aws/s3: a bucket it reads
    through origin access control says `cloudfront_origin=True` and stays on S3-managed keys
    unless it is given a key whose policy admits the distribution.

    Old object versions expire after `noncurrent_version_days`; in dev (DESTROY) the bucket is
    emptied on stack deletion so `cdk destroy` works, in prod (RETAIN) it stays with its data.
    """
    if encryption_key:
        encryption = s3.BucketEncryption.KMS
    elif cloudfront_origin:
        encryption = s3.BucketEncryption.S3_MANAGED
    else:
        encryption = s3.BucketEncryption.KMS_MANAGED
    bucket = s3.Bucket(
        scope,
        id,
        encryption=encryption,
        encryption_key=encryption_key,
        bucket_key_enabled=encryption != s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        versioned=True,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=access_logs_prefix or f"s3/{id}/",
        removal_policy=removal_policy,
        auto_delete_objects=removal_policy == cdk.RemovalPolicy.DESTROY,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="expire-old-versions",
                noncurrent_version_expiration=cdk.Duration.days(noncurrent_version_days),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
            )
        ],
        **overrides,
    )
    _events_to_eventbridge(bucket)
    return bucket


def uses_aws_managed_key(bucket: s3.IBucket) -> bool:
    """True for a bucket of this app encrypted with the AWS managed aws/s3 key, which only
    principals of the account can use (CloudFront cannot: its reads would all be refused)."""
    cfn_bucket = bucket.node.default_child
    if bucket.encryption_key is not None or not isinstance(cfn_bucket, s3.CfnBucket):
        return False
    encryption = cdk.Stack.of(bucket).resolve(cfn_bucket.bucket_encryption) or {}
    return any(
        rule.get("serverSideEncryptionByDefault", {}).get("sseAlgorithm") == "aws:kms"
        and not rule["serverSideEncryptionByDefault"].get("kmsMasterKeyId")
        for rule in encryption.get("serverSideEncryptionConfiguration", [])
    )


def _events_to_eventbridge(bucket: s3.Bucket) -> None:
    """Object events go to EventBridge, said on the bucket itself (CT.S3.PR.4). S3's events on
    the default bus cost nothing, and a rule can start work from them without touching the bucket.

    A bucket whose notifications CDK manages (`add_event_notification`, or the L2's
    `event_bridge_enabled`) must drop this first (`without_eventbridge_property`): CDK's custom
    resource writes the bucket's whole notification configuration, and two owners would undo
    each other. The synth fails on a bucket that has both.
    """
    cfn_bucket: s3.CfnBucket = bucket.node.default_child  # type: ignore[assignment]
    cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
        event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
            event_bridge_enabled=True
        )
    )
    bucket.node.add_validation(_OneNotificationOwner(bucket))


def without_eventbridge_property(bucket: s3.IBucket) -> None:
    """Leave `bucket`'s notification configuration to CDK's notifications custom resource."""
    cfn_bucket = bucket.node.default_child
    if isinstance(cfn_bucket, s3.CfnBucket):
        cfn_bucket.notification_configuration = None


@jsii.implements(constructs.IValidation)
class _OneNotificationOwner:
    def __init__(self, bucket: s3.Bucket) -> None:
        self._bucket = bucket

    def validate(self) -> list[str]:
        cfn_bucket: s3.CfnBucket = self._bucket.node.default_child  # type: ignore[assignment]
        if cfn_bucket.notification_configuration and self._bucket.node.try_find_child(
            "Notifications"
        ):
            return [
                f"{self._bucket.node.path}: its notifications are managed by CDK's custom "
                "resource, which would overwrite the EventBridge setting on the bucket; call "
                "house.defaults.without_eventbridge_property(bucket) where the notification is "
                "added"
            ]
        return []


def queue_with_dlq(
    scope: Construct,
    id: str,
    *,
    removal_policy: cdk.RemovalPolicy,
    visibility_timeout: cdk.Duration = cdk.Duration.seconds(30),
    max_receive_count: int = 5,
    encryption_key: kms.IKey | None = None,
) -> tuple[sqs.Queue, sqs.Queue]:
    """An encrypted, TLS-only work queue and its dead-letter queue (kept 14 days)."""
    dlq = dead_letter_queue(
        scope, f"{id}DeadLetters", removal_policy=removal_policy, encryption_key=encryption_key
    )
    queue = sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.KMS if encryption_key else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=encryption_key,
        enforce_ssl=True,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive_count),
        removal_policy=removal_policy,
    )
    return queue, dlq


def dead_letter_queue(
    scope: Construct,
    id: str,
    *,
    removal_policy: cdk.RemovalPolicy,
    encryption_key: kms.IKey | None = None,
) -> sqs.Queue:
    """Where failed events end up: encrypted, TLS-only, kept for the SQS maximum of 14 days."""
    dlq = sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.KMS if encryption_key else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=encryption_key,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
        removal_policy=removal_policy,
    )
    acknowledge(
        dlq,
        "AwsSolutions-SQS3",
        "This queue is itself the dead-letter queue; a DLQ behind it would only move the same "
        "failed messages one hop further instead of keeping them here for inspection.",
    )
    acknowledge(
        dlq,
        "Serverless-SQSRedrivePolicy",
        "This queue is itself the dead-letter queue; a redrive policy on it would move failed "
        "messages away from the one place operators inspect and replay them.",
    )
    return dlq


def file_system(
    scope: Construct,
    id: str,
    *,
    vpc: ec2.IVpc,
    removal_policy: cdk.RemovalPolicy,
    backups: bool,
    vpc_subnets: ec2.SubnetSelection | None = None,
    encryption_key: kms.IKey | None = None,
) -> efs.FileSystem:
    """An encrypted EFS file system: no anonymous access, TLS + IAM enforced by its policy.

    Clients mount with `-o tls,iam`; the security group admits nobody until a pattern calls
    `fs.connections.allow_default_port_from(<client>)`. Backups (AWS Backup, daily) bill per
    GB-month and are what prod pays for (docgen/prices.toml has the price).
    """
    fs = efs.FileSystem(
        scope,
        id,
        vpc=vpc,
        vpc_subnets=vpc_subnets,
        encrypted=True,
        kms_key=encryption_key,
        allow_anonymous_access=False,
        enable_automatic_backups=backups,
        lifecycle_policy=efs.LifecyclePolicy.AFTER_30_DAYS,
        out_of_infrequent_access_policy=efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
        throughput_mode=efs.ThroughputMode.ELASTIC,
        removal_policy=removal_policy,
    )
    fs.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyUnencryptedTransport",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["*"],
            conditions={"Bool": {"aws:SecureTransport": "false"}},
        )
    )
    return fs


def load_balancer(
    scope: Construct,
    id: str,
    *,
    vpc: ec2.IVpc,
    access_logs: s3.IBucket,
    deletion_protection: bool,
    internet_facing: bool = True,
    security_group: ec2.ISecurityGroup | None = None,
    vpc_subnets: ec2.SubnetSelection | None = None,
) -> elbv2.ApplicationLoadBalancer:
    """An ALB that drops malformed headers and logs every request to the stack's log bucket.
    `vpc_subnets`: where it is placed (@default CDK's: public subnets when internet-facing,
    else private ones)."""
    alb = _AnyRegionLoadBalancer(
        scope,
        id,
        vpc=vpc,
        vpc_subnets=vpc_subnets,
        internet_facing=internet_facing,
        security_group=security_group,
        drop_invalid_header_fields=True,
        deletion_protection=deletion_protection,
        desync_mitigation_mode=elbv2.DesyncMitigationMode.DEFENSIVE,
    )
    alb.log_access_logs(access_logs, prefix=f"alb/{id}")
    return alb


class _AnyRegionLoadBalancer(elbv2.ApplicationLoadBalancer):
    """ALB access logs also in a region-agnostic synth (tests, `python app.py` with no region).

    CDK names the region's ELB log-delivery account in the bucket policy and refuses when the
    region is unknown at synth; here the account is looked up at deploy time from CDK's own
    region table instead (the CLI always knows the region, so its templates are unchanged).
    """

    def _resource_policy_principal(self) -> iam.IPrincipal:
        stack = cdk.Stack.of(self)
        if not cdk.Token.is_unresolved(stack.region):
            return super()._resource_policy_principal()
        account = stack.regional_fact(region_info.FactName.ELBV2_ACCOUNT)
        return iam.ArnPrincipal(f"arn:{stack.partition}:iam::{account}:root")


def customer_key(
    scope: Construct, id: str, *, description: str, removal_policy: cdk.RemovalPolicy
) -> kms.Key:
    """A customer-managed KMS key with yearly automatic rotation (billed per key-month and per
    request: a line of each stack's idle-cost table in its doc).

    Only AWS services may create grants on it (CT.KMS.PR.3): a grant is how EFS, Neptune, Lambda
    or EBS use a key for a resource they manage, and never what a person or an application needs.
    """
    key = kms.Key(
        scope, id, description=description, enable_key_rotation=True, removal_policy=removal_policy
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="GrantsOnlyForAwsServices",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={
                "BoolIfExists": {
                    "kms:GrantIsForAWSResource": "false",
                    "aws:PrincipalIsAWSService": "false",
                }
            },
        )
    )
    return key
