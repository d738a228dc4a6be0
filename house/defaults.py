"""The house defaults for buckets, log groups, queues, file systems, load balancers and keys:
one builder each, used by every pattern. (Names that must be unique per account: house/names.py.)

Secure by default (encrypted, private, TLS-only, versioned where data lives), and the stage's
removal policy decides whether data outlives the stack.

Defaults as data, one override hook: each builder writes its defaults as one dict of the L2's
properties and lays the caller's `**overrides` over it (`house_props`), like Solutions
Constructs' `consolidateProps` without the deep merge (an override replaces a default whole).
An override that is not a property of the L2 fails at synth naming the builder, the key and
what is allowed; one that replaces a house default is allowed, and leaves a warning on the
construct (`cdk synth` prints it) naming the default it replaced.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

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


def house_props(
    builder: str, construct: type, defaults: Mapping[str, Any], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """The properties `builder` passes to `construct` (an L2 class): its `defaults` with the
    caller's `overrides` laid over them. A key the L2 does not take is a ValueError naming it."""
    allowed = _properties_of(construct)
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise ValueError(
            f"house.defaults.{builder}: {', '.join(map(repr, unknown))} "
            f"{'is not a property' if len(unknown) == 1 else 'are not properties'} of "
            f"{construct.__module__}.{construct.__name__}; allowed: {', '.join(sorted(allowed))}"
        )
    return {**defaults, **overrides}


def note_overrides(
    made: Construct, builder: str, defaults: Mapping[str, Any], overrides: Mapping[str, Any]
) -> None:
    """A warning on `made` for each house default an override replaced (`cdk synth` prints it):
    a fork that turns off a safety rail does it in the open."""
    replaced = sorted(key for key in overrides if key in defaults)
    if replaced:
        cdk.Annotations.of(made).add_warning_v2(
            "house:defaultOverridden",
            f"house.defaults.{builder}: overrides the house default of "
            f"{', '.join(f'{key} (was {defaults[key]!r})' for key in replaced)}",
        )


def _properties_of(construct: type) -> set[str]:
    parameters = inspect.signature(construct.__init__).parameters.values()
    return {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def _build(builder: str, construct: type, scope: Construct, id: str, defaults, overrides):
    made = construct(scope, id, **house_props(builder, construct, defaults, overrides))
    note_overrides(made, builder, defaults, overrides)
    return made


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
    **overrides: Any,
) -> logs.LogGroup:
    """A log group with an explicit retention (nothing here keeps logs forever by accident).

    `retention_days`: one of CloudWatch Logs' values (RETENTION_DAYS), required.
    `removal_policy`: the stage's. `log_group_name`: default None, CloudFormation names it.
    `encryption_key`: default None, CloudWatch Logs' own encryption (a stage that keeps data
    encrypts every group with the stack's key: `encrypt_log_groups`).
    `**overrides`: any other logs.LogGroup property, laid over these (`house_props`).
    """
    defaults = {
        "log_group_name": log_group_name,
        "retention": retention(retention_days),
        "removal_policy": removal_policy,
        "encryption_key": encryption_key,
    }
    return _build("log_group", logs.LogGroup, scope, id, defaults, overrides)


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
    **overrides: Any,
) -> logs.LogGroup:
    """The group API Gateway writes a REST stage's execution logs to, created by the stack.

    API Gateway creates `API-Gateway-Execution-Logs_<api id>/<stage>` itself on the first log
    event, with no retention and outside the stack; creating it here first gives it the
    stage's retention and removal policy. Execution logging needs the account's CloudWatch
    Logs role, which the AccountBaseline stack sets.
    """
    defaults = {
        "log_group_name": cdk.Fn.join(
            "", ["API-Gateway-Execution-Logs_", rest_api_id, "/", stage_name]
        ),
        "retention": retention(retention_days),
        "removal_policy": removal_policy,
    }
    return _build("api_execution_log_group", logs.LogGroup, scope, id, defaults, overrides)


def access_log_bucket(
    scope: Construct,
    id: str,
    *,
    removal_policy: cdk.RemovalPolicy,
    expire_after_days: int = 90,
    **overrides: Any,
) -> s3.Bucket:
    """The one bucket a stack's access logs go to (S3 server access logs, CloudFront, ALB).

    Versioned, so a log file cannot be overwritten unnoticed; an expired log's old version goes a
    day later, and so does the delete marker left behind. Where logs are kept (`removal_policy`
    not DESTROY), nobody may delete a log object or version: only the expiry rule removes them
    (docs/compliance.md says why this, not S3 Object Lock).

    `removal_policy`: the stage's (DESTROY also empties the bucket on stack deletion).
    `expire_after_days`: default 90, how long a log is kept.
    `**overrides`: any other s3.Bucket property, laid over these (`house_props`).
    """
    defaults = dict(
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
    bucket = _build("access_log_bucket", s3.Bucket, scope, id, defaults, overrides)
    if removal_policy != cdk.RemovalPolicy.DESTROY:
        # S3 applies lifecycle expiry whatever the bucket policy says, so this stops people and
        # roles with delete rights, not the expiry above. Lifting it takes s3:PutBucketPolicy,
        # a separate right, and CloudTrail records its use.
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="LogsAreNotDeleted",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                resources=[bucket.arn_for_objects("*")],
            )
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
    **overrides: Any,
) -> s3.Bucket:
    """A private data bucket: KMS-encrypted, versioned, TLS-only, no ACLs, access-logged, its
    object events on EventBridge.

    Encryption: `encryption_key` if given, else the AWS managed aws/s3 key (no monthly key fee;
    a bucket key keeps the KMS requests few), which every principal of the account that may use
    the bucket may use through S3. CloudFront cannot decrypt with aws/s3: a bucket it reads
    through origin access control says `cloudfront_origin=True` and stays on S3-managed keys
    unless it is given a key whose policy admits the distribution (`origin_key`: prod).

    Old object versions expire after `noncurrent_version_days`; in dev (DESTROY) the bucket is
    emptied on stack deletion so `cdk destroy` works, in prod (RETAIN) it stays with its data.

    `removal_policy`: the stage's. `access_logs`: the stack's log bucket (required);
    `access_logs_prefix`: default `s3/<id>/`. `encryption_key`, `cloudfront_origin`: above
    (defaults None and False). `noncurrent_version_days`: default 30.
    `**overrides`: any other s3.Bucket property (`cors`, ...), laid over these (`house_props`).
    """
    if encryption_key:
        encryption = s3.BucketEncryption.KMS
    elif cloudfront_origin:
        encryption = s3.BucketEncryption.S3_MANAGED
    else:
        encryption = s3.BucketEncryption.KMS_MANAGED
    defaults = dict(
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
    )
    bucket = _build("secure_bucket", s3.Bucket, scope, id, defaults, overrides)
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
    **overrides: Any,
) -> tuple[sqs.Queue, sqs.Queue]:
    """An encrypted, TLS-only work queue and its dead-letter queue (kept 14 days).

    `removal_policy`: the stage's. `visibility_timeout`: default 30 seconds (at least the
    consumer's timeout). `max_receive_count`: default 5 receives before a message moves to the
    dead-letter queue (`<id>DeadLetters`). `encryption_key`: default None, SQS-managed keys.
    `**overrides`: any other sqs.Queue property of the work queue, laid over these
    (`house_props`).
    """
    dlq = dead_letter_queue(
        scope, f"{id}DeadLetters", removal_policy=removal_policy, encryption_key=encryption_key
    )
    defaults = dict(
        encryption=sqs.QueueEncryption.KMS if encryption_key else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=encryption_key,
        enforce_ssl=True,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive_count),
        removal_policy=removal_policy,
    )
    queue = _build("queue_with_dlq", sqs.Queue, scope, id, defaults, overrides)
    return queue, dlq


def dead_letter_queue(
    scope: Construct,
    id: str,
    *,
    removal_policy: cdk.RemovalPolicy,
    encryption_key: kms.IKey | None = None,
    **overrides: Any,
) -> sqs.Queue:
    """Where failed events end up: encrypted, TLS-only, kept for the SQS maximum of 14 days.

    `removal_policy`: the stage's. `encryption_key`: default None, SQS-managed keys.
    `**overrides`: any other sqs.Queue property, laid over these (`house_props`).
    """
    defaults = dict(
        encryption=sqs.QueueEncryption.KMS if encryption_key else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=encryption_key,
        enforce_ssl=True,
        retention_period=cdk.Duration.days(14),
        removal_policy=removal_policy,
    )
    dlq = _build("dead_letter_queue", sqs.Queue, scope, id, defaults, overrides)
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
    iam_mounts: bool = True,
    **overrides: Any,
) -> efs.FileSystem:
    """An encrypted EFS file system: TLS enforced by its policy and, by default, every client
    authorised by IAM.

    Clients mount with `-o tls,iam`; the security group admits nobody until a pattern calls
    `fs.connections.allow_default_port_from(<client>)`. The file system policy allows nothing
    and denies non-TLS access: each client gets exactly its IAM grant (`grant_read`:
    ClientMount, a read-only mount with root squashed; `grant_read_write` adds ClientWrite;
    root only with ClientRootAccess), and a client without IAM (anonymous) none. CDK's own
    "no anonymous access" statement is left out on purpose: it allows ClientWrite and
    ClientRootAccess to every principal that mounts, which would turn any read-only grant into
    root read-write. Backups (AWS Backup, daily) bill per GB-month and are what prod pays for
    (docgen/prices.toml has the price).

    `iam_mounts=False` is for clients that cannot present an IAM identity when they mount (the
    Kubernetes EFS CSI driver's node plugin, pods on EKS Fargate): then the policy allows
    mounting and writing through a mount target, the security group and the access point are
    what limit who mounts, and TLS is still required.

    `vpc`, `removal_policy` (the stage's), `backups` (AWS Backup's daily plan): required.
    `vpc_subnets`: default None, the VPC's private subnets (CDK's default). `encryption_key`:
    default None, EFS's AWS managed key. `**overrides`: any other efs.FileSystem property
    (`transition_to_archive_policy`, ...), laid over these (`house_props`).
    """
    defaults = dict(
        vpc=vpc,
        vpc_subnets=vpc_subnets,
        encrypted=True,
        kms_key=encryption_key,
        # True only keeps CDK from adding its allow-write-and-root-to-everyone statement; the
        # policy below allows nothing unless `iam_mounts` is off, so an anonymous client
        # cannot even mount.
        allow_anonymous_access=True,
        enable_automatic_backups=backups,
        lifecycle_policy=efs.LifecyclePolicy.AFTER_30_DAYS,
        out_of_infrequent_access_policy=efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
        throughput_mode=efs.ThroughputMode.ELASTIC,
        removal_policy=removal_policy,
    )
    fs = _build("file_system", efs.FileSystem, scope, id, defaults, overrides)
    fs.add_to_resource_policy(
        iam.PolicyStatement(
            sid="DenyUnencryptedTransport",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["*"],
            conditions={"Bool": {"aws:SecureTransport": "false"}},
        )
    )
    if not iam_mounts:
        # A file system policy replaces EFS's default "anyone who reaches a mount target";
        # without this allowance the Deny above would be the only statement and no client
        # without an IAM identity could mount at all. No ClientRootAccess: clients go through
        # an access point, which sets the POSIX user.
        fs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowMountThroughMountTargets",
                principals=[iam.AnyPrincipal()],
                actions=["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                conditions={"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
            )
        )
    return fs


# The TLS policy of every HTTPS listener: ELB's recommended policy, TLS 1.3 and 1.2 only with
# forward-secret ciphers (cdk.json's usePostQuantumTlsPolicy flag picks its post-quantum variant).
LOAD_BALANCER_TLS_POLICY = elbv2.SslPolicy.RECOMMENDED_TLS


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
    **overrides: Any,
) -> elbv2.ApplicationLoadBalancer:
    """An ALB that drops malformed headers and logs every request to the stack's log bucket.

    `vpc`, `access_logs` (the stack's log bucket), `deletion_protection` (prod: on): required.
    `internet_facing`: default True; False: an internal ALB (private addresses only), e.g. a
    CloudFront VPC origin. `vpc_subnets`: where it goes; default None: the public subnets for
    an internet-facing one, the private ones for an internal one, as CDK chooses.
    `security_group`: default None, one made for it. `**overrides`: any other
    elbv2.ApplicationLoadBalancer property (`idle_timeout`, ...), laid over these
    (`house_props`).
    """
    defaults = dict(
        vpc=vpc,
        vpc_subnets=vpc_subnets,
        internet_facing=internet_facing,
        security_group=security_group,
        drop_invalid_header_fields=True,
        deletion_protection=deletion_protection,
        desync_mitigation_mode=elbv2.DesyncMitigationMode.DEFENSIVE,
    )
    alb = _build("load_balancer", _AnyRegionLoadBalancer, scope, id, defaults, overrides)
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
    scope: Construct,
    id: str,
    *,
    description: str,
    removal_policy: cdk.RemovalPolicy,
    mac: bool = False,
    **overrides: Any,
) -> kms.Key:
    """A customer-managed KMS key with yearly automatic rotation (billed per key-month and per
    request: a line of each stack's idle-cost table in its doc).

    `mac=True`: an HMAC_256 key that only makes and checks MACs (GenerateMac/VerifyMac, e.g.
    handler_kit.signed_tokens); KMS rotates no HMAC key automatically, and rotating it would
    invalidate every link already sent, so it has none.

    Only AWS services may create grants on it (CT.KMS.PR.3): a grant is how EFS, Neptune, Lambda
    or EBS use a key for a resource they manage, and never what a person or an application needs.

    `description`, `removal_policy`: required. `mac`: default False (above).
    `**overrides`: any other kms.Key property
    (`alias`, `pending_window`, ...), laid over these (`house_props`).
    """
    defaults = dict(
        description=description,
        enable_key_rotation=not mac,
        key_spec=kms.KeySpec.HMAC_256 if mac else None,
        key_usage=kms.KeyUsage.GENERATE_VERIFY_MAC if mac else None,
        removal_policy=removal_policy,
    )
    key = _build("customer_key", kms.Key, scope, id, defaults, overrides)
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


ORIGIN_KEY_ID = "OriginKey"


def origin_key(scope: Construct, *, removal_policy: cdk.RemovalPolicy) -> kms.Key | None:
    """The stack's one customer-managed key for the buckets CloudFront reads through origin
    access control, in a stage that keeps data; None in one that does not.

    CloudFront cannot decrypt with the AWS managed aws/s3 key (its policy admits only principals
    of the account), so such a bucket is either SSE-S3 or SSE-KMS with a key whose policy admits
    the distribution (Control Tower CT.S3.PR.10 accepts only the latter). A key bills per
    key-month whether or not anything is read, and a dev stack idles at nothing: there the
    buckets stay SSE-S3 (docs/compliance.md). Every call in one stack returns the same key, a
    child of the stack, so the site bucket and the other buckets of one distribution share it;
    each reader and writer is admitted where it is wired (key policy for CloudFront, IAM grants
    for roles of the account, which the key's policy lets IAM decide).

    `removal_policy`: the stage's; RETAIN keeps the key with the buckets it encrypts.
    """
    from house.settings import keeps_data  # house.settings imports house.edge, which imports us

    if not keeps_data(removal_policy):
        return None
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child(ORIGIN_KEY_ID)
    if existing is not None:
        return existing  # type: ignore[return-value]
    return customer_key(
        stack,
        ORIGIN_KEY_ID,
        description=f"Encrypts the buckets CloudFront reads for {stack.stack_name}",
        removal_policy=removal_policy,
    )


def admit_cloudfront_to_origin_key(key: kms.IKey) -> None:
    """Let CloudFront decrypt, through origin access control, what `key` (the stack's
    `origin_key`) encrypts: `kms:Decrypt` for `cloudfront.amazonaws.com`, for distributions of
    this account (aws:SourceArn `arn:<partition>:cloudfront::<account>:distribution/*`).

    Why every distribution of the account, not one: a key policy naming the distribution is a
    cycle whenever the distribution's origin is a bucket this key encrypts (key -> distribution
    -> bucket -> key), or impossible when the distribution is in a stack deployed later; S3
    asks the bucket's policy first, which names what CloudFront may read there. The statement
    is the one CDK's `S3BucketOrigin.with_origin_access_control` writes, so a key that both
    admit holds it once."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
            actions=["kms:Decrypt"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "AWS:SourceArn": f"arn:{cdk.Aws.PARTITION}:cloudfront::"
                    f"{cdk.Aws.ACCOUNT_ID}:distribution/*"
                }
            },
        )
    )
