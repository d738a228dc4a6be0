"""Deploy-time rules (deployment/rules.py) over every stack of every stage, and proof that each
rule fails on a construct that breaks it the way a real first deploy breaks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ses as ses
from aws_cdk import aws_wafv2 as wafv2

from deployment import rules
from deployment.assembly import Assembly
from house.account_baseline import AccountBaselineStack, require_baseline
from house.backup import protect_data
from house.network import limit_endpoints_to_account
from house.operations import watch_failures
from tests.conftest import ANOTHER_REGION


def test_every_stack_keeps_every_deploy_rule(every_assembly):
    assembly = Assembly(every_assembly.outdir)
    found = [str(v) for stack in assembly.stacks.values() for v in rules.violations(stack)]
    assert not found, "\n".join(found)


def test_no_two_stacks_of_an_app_share_a_unique_name(every_assembly):
    """Two instances of a blueprint (or two blueprints) in one account never collide."""
    found = rules.stacks_sharing_unique_names(Assembly(every_assembly.outdir))
    assert not found, "\n".join(map(str, found))


def test_dev_and_prod_in_one_account_and_region_share_no_unique_name(synth):
    dev, prod = Assembly(synth("dev").outdir), Assembly(synth("prod").outdir)
    region = synth("prod").stage_settings.region or "us-east-1"
    found = rules.shared_unique_names(dev, prod, region=region)
    assert not found, "\n".join(map(str, found))


def test_prod_elsewhere_shares_no_unique_name_with_dev_there(synth, prod_in_another_region):
    dev, prod = Assembly(synth("dev").outdir), Assembly(prod_in_another_region.outdir)
    found = rules.shared_unique_names(dev, prod, region=ANOTHER_REGION)
    assert not found, "\n".join(map(str, found))


# -- each rule, shown failing on a broken construct ----------------------------------------------


def synthesized(tmp_path: Path, build: Callable[[cdk.App], None]) -> Assembly:
    """A small app of its own: `build(app)` adds stacks, the assembly is written to tmp_path."""
    app = cdk.App(outdir=str(tmp_path), context={"aws:cdk:version-reporting": False})
    build(app)
    app.synth()
    return Assembly(tmp_path)


def broken(assembly: Assembly, stack_id: str) -> set[str]:
    return {v.rule for v in rules.violations(assembly.stack(stack_id))}


def logging_api(stack: cdk.Stack) -> apigw.RestApi:
    api = apigw.RestApi(
        stack,
        "Api",
        cloud_watch_role=False,
        deploy_options=apigw.StageOptions(
            access_log_destination=apigw.LogGroupLogDestination(
                cdk.aws_logs.LogGroup(stack, "AccessLogs")
            ),
            access_log_format=apigw.AccessLogFormat.clf(),
        ),
    )
    api.root.add_method("GET", apigw.MockIntegration())
    return api


def test_a_logging_stage_without_the_baseline_breaks_a_rule(tmp_path):
    def build(app):
        baseline = AccountBaselineStack(app)
        logging_api(cdk.Stack(app, "Forgot", stack_name="Forgot-dev"))
        with_baseline = cdk.Stack(app, "Remembered", stack_name="Remembered-dev")
        logging_api(with_baseline)
        require_baseline(baseline, [with_baseline])

    assembly = synthesized(tmp_path, build)
    assert "logging-stage-needs-baseline" in broken(assembly, "Forgot")
    assert "logging-stage-needs-baseline" not in broken(assembly, "Remembered")


def test_a_second_owner_of_api_gateway_account_settings_breaks_a_rule(tmp_path):
    def build(app):
        stack = cdk.Stack(app, "Blueprint", stack_name="Blueprint-dev")
        apigw.CfnAccount(stack, "Account", cloud_watch_role_arn="arn:aws:iam::1:role/x")
        AccountBaselineStack(app)

    assembly = synthesized(tmp_path, build)
    assert "api-gateway-account-only-in-baseline" in broken(assembly, "Blueprint")
    assert not broken(assembly, "AccountBaseline")


def test_a_service_linked_role_in_a_template_breaks_a_rule(tmp_path):
    def build(app):
        iam.CfnServiceLinkedRole(
            cdk.Stack(app, "Blueprint", stack_name="Blueprint-dev"),
            "EcsRole",
            aws_service_name="ecs.amazonaws.com",
        )

    assert "no-service-linked-role-in-template" in broken(synthesized(tmp_path, build), "Blueprint")


@pytest.mark.parametrize("name", [None, "fixed-name"], ids=["cdk-derived", "hard-coded"])
def test_a_unique_name_without_the_stack_name_breaks_a_rule(tmp_path, name):
    """CDK derives a cache policy's name from the stack *id*: MyBlog-dev and MyBlog-prod would
    both create `MyBlog...`; a hard-coded name collides the same way."""

    def build(app):
        stack = cdk.Stack(app, "Blog", stack_name="Blog-dev")
        cloudfront.CachePolicy(stack, "Cache", cache_policy_name=name)
        cloudfront.CachePolicy(stack, "Named", cache_policy_name=f"{stack.stack_name}-named")

    violations = rules.violations(synthesized(tmp_path, build).stack("Blog"))
    assert [v.rule for v in violations] == ["unique-names-carry-the-stack-name"]
    assert violations[0].resource.startswith("Cache")


@pytest.mark.parametrize(
    "region, refused", [("eu-central-1", True), (None, True), ("us-east-1", False)]
)
def test_a_cloudfront_web_acl_outside_us_east_1_breaks_a_rule(tmp_path, region, refused):
    def build(app):
        stack = cdk.Stack(
            app,
            "Edge",
            stack_name="Edge-dev",
            env=cdk.Environment(region=region) if region else None,
        )
        visibility = wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name="acl", sampled_requests_enabled=True
        )
        wafv2.CfnWebACL(
            stack,
            "Acl",
            scope="CLOUDFRONT",
            visibility_config=visibility,
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        )

    found = broken(synthesized(tmp_path, build), "Edge")
    assert ("cloudfront-scope-in-us-east-1" in found) is refused


def test_a_container_image_asset_breaks_a_rule(tmp_path, tmp_path_factory):
    image = tmp_path_factory.mktemp("image")
    (image / "Dockerfile").write_text("FROM public.ecr.aws/docker/library/busybox:stable\n")

    def build(app):
        ecr_assets.DockerImageAsset(
            cdk.Stack(app, "Service", stack_name="Service-dev"), "Image", directory=str(image)
        )

    assert "deploys-without-docker" in broken(synthesized(tmp_path, build), "Service")


def test_an_ecs_service_racing_its_capacity_providers_breaks_a_rule(tmp_path):
    def build(app):
        for id, wait in (("Racing", False), ("Waiting", True)):
            stack = cdk.Stack(app, id, stack_name=f"{id}-dev")
            vpc = ec2.Vpc(
                stack,
                "Vpc",
                max_azs=2,
                nat_gateways=0,
                subnet_configuration=[
                    ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)
                ],
            )
            cluster = ecs.Cluster(stack, "Cluster", vpc=vpc, enable_fargate_capacity_providers=True)
            task = ecs.FargateTaskDefinition(stack, "Task")
            task.add_container("App", image=ecs.ContainerImage.from_registry("nginx"))
            service = ecs.FargateService(
                stack,
                "Service",
                cluster=cluster,
                task_definition=task,
                assign_public_ip=True,
                capacity_provider_strategies=[
                    ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)
                ],
            )
            if wait:  # the whole cluster, so the association CDK adds at synth is included
                service.node.add_dependency(cluster)

    assembly = synthesized(tmp_path, build)
    assert "ecs-service-waits-for-capacity-providers" in broken(assembly, "Racing")
    assert "ecs-service-waits-for-capacity-providers" not in broken(assembly, "Waiting")


def test_an_auto_scaling_group_from_a_launch_configuration_breaks_a_rule(tmp_path):
    """What the copied samples do (an Auto Scaling group given an instance type and an image,
    CDK's default without the feature flag) emits a launch configuration; with the flag, or
    `launch_template=`, the group launches from a launch template."""
    flag = "@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig"

    def build(app):
        for id, templated in (("Sample", False), ("Templated", True)):
            stack = cdk.Stack(app, id, stack_name=f"{id}-dev")
            stack.node.set_context(flag, templated)
            vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
            autoscaling.AutoScalingGroup(
                stack,
                "Group",
                vpc=vpc,
                vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
                instance_type=ec2.InstanceType("t4g.micro"),
                machine_image=ec2.MachineImage.latest_amazon_linux2023(
                    cpu_type=ec2.AmazonLinuxCpuType.ARM_64
                ),
            )

    assembly = synthesized(tmp_path, build)
    assert "no-launch-configuration" in broken(assembly, "Sample")
    assert "no-launch-configuration" not in broken(assembly, "Templated")


@pytest.mark.parametrize(
    "regions, collide",
    [
        (("eu-west-1", "eu-west-1"), True),
        (("eu-west-1", None), True),
        (("eu-west-1", "us-east-1"), False),
    ],
)
def test_two_stacks_of_an_app_declaring_one_unique_name_break_a_rule(tmp_path, regions, collide):
    """Regional names collide within a region (an agnostic stack may land in any); a role name
    is one per account, whatever the regions."""

    def build(app):
        for id, region in zip(("First", "Second"), regions, strict=True):
            stack = cdk.Stack(app, id, stack_name=f"{id}-dev", env=cdk.Environment(region=region))
            cdk.aws_sqs.Queue(stack, "Jobs", queue_name="jobs")
            iam.Role(
                stack,
                "Role",
                role_name="shared-role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            )

    found = rules.stacks_sharing_unique_names(synthesized(tmp_path, build))
    clashes = {(v.stack, v.message.split(" name ")[0]) for v in found}
    assert ("Second", "AWS::IAM::Role") in clashes
    assert (("Second", "AWS::SQS::Queue") in clashes) is collide
    assert all(v.rule == "stacks-share-no-unique-name" for v in found)


def test_dev_and_prod_declaring_one_ses_identity_break_the_cross_stage_rule(tmp_path):
    def build_stage(stage: str, sender: str) -> Callable[[cdk.App], None]:
        def build(app):
            stack = cdk.Stack(app, "Blog", stack_name=f"Blog-{stage}")
            ses.EmailIdentity(stack, "Sender", identity=ses.Identity.email(sender))

        return build

    dev = synthesized(tmp_path / "dev", build_stage("dev", "welcome@example.com"))
    prod = synthesized(tmp_path / "prod", build_stage("prod", "welcome@example.com"))
    (violation,) = rules.shared_unique_names(dev, prod, region="us-east-1")
    assert "welcome@example.com" in violation.message
    other = synthesized(tmp_path / "other", build_stage("prod", "welcome+prod@example.com"))
    assert not rules.shared_unique_names(dev, other, region="us-east-1")


def express_service(stack: cdk.Stack, *, wait: bool, image: str) -> ecs.CfnExpressGatewayService:
    """A bare L1 Express service whose execution role has a grant in its own policy."""
    infrastructure = iam.Role(
        stack, "Infrastructure", assumed_by=iam.ServicePrincipal("ecs.amazonaws.com")
    )
    infrastructure.add_to_principal_policy(
        iam.PolicyStatement(actions=["elasticloadbalancing:DescribeLoadBalancers"], resources=["*"])
    )
    execution = iam.Role(
        stack, "Execution", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com")
    )
    execution.add_to_principal_policy(
        iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
    )
    service = ecs.CfnExpressGatewayService(
        stack,
        "Express",
        infrastructure_role_arn=infrastructure.role_arn,
        execution_role_arn=execution.role_arn,
        primary_container=ecs.CfnExpressGatewayService.ExpressGatewayContainerProperty(image=image),
    )
    if wait:
        service.node.add_dependency(infrastructure, execution)
    return service


def test_an_express_service_not_waiting_for_its_roles_policies_breaks_a_rule(tmp_path):
    def build(app):
        for id, wait in (("Racing", False), ("Waiting", True)):
            stack = cdk.Stack(app, id, stack_name=f"{id}-dev")
            express_service(stack, wait=wait, image="public.ecr.aws/nginx/nginx:1.27")

    assembly = synthesized(tmp_path, build)
    found = [v for v in rules.violations(assembly.stack("Racing"))]
    waits = [v for v in found if v.rule == "managed-service-waits-for-role-policies"]
    # One per role: the infrastructure role's and the execution role's policies.
    assert len(waits) == 2, found
    assert "managed-service-waits-for-role-policies" not in broken(assembly, "Waiting")


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("public.ecr.aws/nginx/nginx:latest", False),
        ("public.ecr.aws/nginx/nginx", False),
        ("public.ecr.aws/nginx/nginx:1.27", True),
        ("registry.example.com:5000/app@sha256:" + "a" * 64, True),
    ],
)
def test_an_express_service_on_latest_breaks_a_rule(tmp_path, image, pinned):
    def build(app):
        express_service(cdk.Stack(app, "Service", stack_name="Service-dev"), wait=True, image=image)

    found = broken(synthesized(tmp_path, build), "Service")
    assert ("service-image-is-pinned" not in found) == pinned


def test_app_runner_automatic_deployments_break_a_rule(tmp_path):
    from aws_cdk import aws_apprunner as apprunner

    def build(app):
        for id, automatic in (("Automatic", True), ("Deployed", False)):
            stack = cdk.Stack(app, id, stack_name=f"{id}-dev")
            apprunner.CfnService(
                stack,
                "Service",
                source_configuration=apprunner.CfnService.SourceConfigurationProperty(
                    auto_deployments_enabled=automatic,
                    image_repository=apprunner.CfnService.ImageRepositoryProperty(
                        image_identifier="public.ecr.aws/nginx/nginx:1.27",
                        image_repository_type="ECR_PUBLIC",
                    ),
                ),
            )

    assembly = synthesized(tmp_path, build)
    assert "service-image-is-pinned" in broken(assembly, "Automatic")
    assert "service-image-is-pinned" not in broken(assembly, "Deployed")


@pytest.mark.parametrize(
    "stack_name, refused",
    [("WildRydes-dev", False), ("AwsShop-dev", True), ("MyCognitoApp-prod", True)],
)
def test_a_cognito_domain_prefix_with_a_reserved_word_breaks_a_rule(tmp_path, stack_name, refused):
    """Built at deploy from the stack name, as a template that names itself would: CDK cannot
    check such a prefix, Cognito refuses it ("Domain cannot contain reserved word")."""
    from aws_cdk import aws_cognito as cognito

    def build(app):
        stack = cdk.Stack(app, "Web", stack_name=stack_name)
        pool = cognito.UserPool(stack, "Pool")
        pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=cdk.Fn.join("-", [stack_name.lower(), cdk.Aws.ACCOUNT_ID])
            ),
        )

    found = broken(synthesized(tmp_path, build), "Web")
    assert ("cognito-domain-prefix-allowed" in found) is refused


@pytest.mark.parametrize(
    "token, refused",
    [("ghp_plaintextTOKEN0123456789", True), (None, False)],
    ids=["plain-text-token", "secrets-manager-reference"],
)
def test_an_amplify_token_in_plain_text_breaks_a_rule(tmp_path, token, refused):
    from aws_cdk import aws_amplify as amplify

    def build(app):
        stack = cdk.Stack(app, "Site", stack_name="Site-dev")
        amplify.CfnApp(
            stack,
            "App",
            name="site",
            repository="https://github.com/you/site",
            access_token=token
            or cdk.SecretValue.secrets_manager("amplify/github-token").unsafe_unwrap(),
        )

    found = broken(synthesized(tmp_path, build), "Site")
    assert ("amplify-token-only-by-reference" in found) is refused


# -- the house mechanisms' rules, each shown failing without the mechanism ----------------------


def test_a_dead_letter_queue_or_stream_without_an_alarm_breaks_a_rule(tmp_path):
    """Failed work parked unseen: a queue's DLQ, an asynchronous function's DLQ, a stream
    mapping (iterator age and its on-failure queue). house/operations.py fixes all four."""

    def failing(stack: cdk.Stack) -> None:
        dlq = cdk.aws_sqs.Queue(stack, "DeadLetters")
        cdk.aws_sqs.Queue(
            stack,
            "Work",
            dead_letter_queue=cdk.aws_sqs.DeadLetterQueue(queue=dlq, max_receive_count=3),
        )
        table = cdk.aws_dynamodb.Table(
            stack,
            "Table",
            partition_key=cdk.aws_dynamodb.Attribute(
                name="pk", type=cdk.aws_dynamodb.AttributeType.STRING
            ),
            stream=cdk.aws_dynamodb.StreamViewType.NEW_IMAGE,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        consumer = cdk.aws_lambda.Function(
            stack,
            "Consumer",
            runtime=cdk.aws_lambda.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=cdk.aws_lambda.Code.from_inline("def handler(e, c): pass"),
            dead_letter_queue=cdk.aws_sqs.Queue(stack, "AsyncDeadLetters"),
        )
        consumer.add_event_source(
            cdk.aws_lambda_event_sources.DynamoEventSource(
                table,
                starting_position=cdk.aws_lambda.StartingPosition.LATEST,
                on_failure=cdk.aws_lambda_event_sources.SqsDlq(
                    cdk.aws_sqs.Queue(stack, "FailedRecords")
                ),
            )
        )

    def build(app):
        failing(cdk.Stack(app, "Unwatched", stack_name="Unwatched-dev"))
        watched = cdk.Stack(app, "Watched", stack_name="Watched-dev")
        failing(watched)
        watch_failures(watched, keep_data=False, email=None)

    assembly = synthesized(tmp_path, build)
    found = rules.violations(assembly.stack("Unwatched"))
    assert {v.rule for v in found} == {"failures-raise-an-alarm"}
    assert sorted(v.resource.rstrip("0123456789ABCDEF") for v in found) == [
        "AsyncDeadLetters",
        "ConsumerDynamoDBEventSourceUnwatchedTable",
        "DeadLetters",
        "FailedRecords",
    ]
    assert not broken(assembly, "Watched")


def test_an_alarm_that_notifies_nobody_does_not_count(tmp_path):
    def build(app):
        stack = cdk.Stack(app, "Silent", stack_name="Silent-dev")
        dlq = cdk.aws_sqs.Queue(stack, "DeadLetters")
        cdk.aws_sqs.Queue(
            stack,
            "Work",
            dead_letter_queue=cdk.aws_sqs.DeadLetterQueue(queue=dlq, max_receive_count=3),
        )
        dlq.metric_approximate_number_of_messages_visible().create_alarm(
            stack, "Alarm", threshold=1, evaluation_periods=1
        )

    assert "failures-raise-an-alarm" in broken(synthesized(tmp_path, build), "Silent")


def test_a_kept_store_without_a_backup_breaks_a_rule(tmp_path):
    """A table kept on stack deletion is protected from `cdk destroy`, not from a bad write: it
    must be in a backup plan (house/backup.py), a disposable one need not."""

    def tables(stack: cdk.Stack) -> None:
        for id, removal in (
            ("Kept", cdk.RemovalPolicy.RETAIN),
            ("Scratch", cdk.RemovalPolicy.DESTROY),
        ):
            cdk.aws_dynamodb.Table(
                stack,
                id,
                partition_key=cdk.aws_dynamodb.Attribute(
                    name="pk", type=cdk.aws_dynamodb.AttributeType.STRING
                ),
                removal_policy=removal,
            )

    def build(app):
        tables(cdk.Stack(app, "Unprotected", stack_name="Unprotected-prod"))
        protected = cdk.Stack(app, "Protected", stack_name="Protected-prod")
        tables(protected)
        protect_data(protected, keep_data=True, retention_days=35, copy_to_vault_arn=None)

    assembly = synthesized(tmp_path, build)
    (violation,) = rules.violations(assembly.stack("Unprotected"))
    assert violation.rule == "kept-data-is-backed-up" and violation.resource.startswith("Kept")
    assert not broken(assembly, "Protected")


@pytest.mark.parametrize("policy", ["none", "allow-all"])
def test_a_vpc_endpoint_open_to_every_account_breaks_a_rule(tmp_path, policy):
    def endpoint(stack: cdk.Stack) -> None:
        vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
        s3 = vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        if policy == "allow-all":
            s3.add_to_policy(
                iam.PolicyStatement(principals=[iam.AnyPrincipal()], actions=["*"], resources=["*"])
            )

    def build(app):
        endpoint(cdk.Stack(app, "Open", stack_name="Open-dev"))
        limited = cdk.Stack(app, "Limited", stack_name="Limited-dev")
        endpoint(limited)
        if policy == "none":
            limit_endpoints_to_account(limited)

    assembly = synthesized(tmp_path, build)
    assert broken(assembly, "Open") == {"endpoints-have-policies"}
    if policy == "none":  # the house policy is given only where a construct wrote none
        assert not broken(assembly, "Limited")


def test_two_stages_naming_one_backup_vault_break_the_cross_stage_rule(tmp_path):
    """Backup vault names are unique per account and region: the house names carry the stack."""

    def build_stage(stage: str, name: str) -> Callable[[cdk.App], None]:
        def build(app):
            stack = cdk.Stack(app, "Data", stack_name=f"Data-{stage}")
            cdk.aws_backup.BackupVault(stack, "Vault", backup_vault_name=name)

        return build

    dev = synthesized(tmp_path / "dev", build_stage("dev", "Backups"))
    prod = synthesized(tmp_path / "prod", build_stage("prod", "Backups"))
    assert rules.shared_unique_names(dev, prod, region="us-east-1")
    assert "unique-names-carry-the-stack-name" in broken(dev, "Data")


@pytest.mark.parametrize(
    ("bucket_key", "origin", "refused"),
    [
        ("customer", "oac", False),  # CDK's OAC origin writes CloudFront's key statement
        ("customer", "oac-id-only", True),  # an OAC id on a plain origin: no key statement
        ("customer", "unscoped", True),  # a statement for any distribution of any account
        ("aws-managed", "oac", True),  # aws/s3: its policy can admit no distribution
        ("s3-managed", "oac-id-only", False),  # SSE-S3 needs no key policy
    ],
)
def test_an_origin_cloudfront_cannot_decrypt_breaks_a_rule(tmp_path, bucket_key, origin, refused):
    """CloudFront reads an SSE-KMS origin with its service principal: only a key-policy
    statement for cloudfront.amazonaws.com, scoped to the distribution, lets it decrypt."""
    from aws_cdk import aws_cloudfront_origins as origins
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    def site(stack: cdk.Stack) -> None:
        key = kms.Key(stack, "Key") if bucket_key == "customer" else None
        encryption = {
            "customer": s3.BucketEncryption.KMS,
            "aws-managed": s3.BucketEncryption.KMS_MANAGED,
            "s3-managed": s3.BucketEncryption.S3_MANAGED,
        }[bucket_key]
        bucket = s3.Bucket(stack, "Bucket", encryption=encryption, encryption_key=key)
        oac = cloudfront.S3OriginAccessControl(stack, "Access")
        if origin == "oac":
            default = origins.S3BucketOrigin.with_origin_access_control(
                bucket, origin_access_control=oac
            )
        else:
            default = origins.S3BucketOrigin.with_bucket_defaults(
                bucket, origin_access_control_id=oac.origin_access_control_id
            )
        if origin == "unscoped":
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                    actions=["kms:Decrypt"],
                    resources=["*"],
                )
            )
        cloudfront.Distribution(
            stack, "Distribution", default_behavior=cloudfront.BehaviorOptions(origin=default)
        )

    def build(app):
        site(cdk.Stack(app, "Site", stack_name="Site-prod"))

    violations = rules.violations(synthesized(tmp_path, build).stack("Site"))
    found = [v for v in violations if v.rule == "cloudfront-can-decrypt-its-origins"]
    assert bool(found) is refused
    if refused:
        assert found[0].resource.startswith("Bucket")


# -- EventBridge: S3 events and queue targets ----------------------------------------------------


def _s3_rule(stack: cdk.Stack, bucket: cdk.aws_s3.IBucket) -> None:
    cdk.aws_events.Rule(
        stack,
        "Uploaded",
        event_pattern=cdk.aws_events.EventPattern(
            source=["aws.s3"],
            detail_type=["Object Created"],
            detail={"bucket": {"name": [bucket.bucket_name]}},
        ),
    )


def test_a_rule_on_a_bucket_that_sends_no_events_to_eventbridge_breaks_a_rule(tmp_path):
    """S3 sends a bucket's events to EventBridge only when its notification configuration says
    so: without it the rule deploys and never fires."""

    def build(app):
        blind = cdk.Stack(app, "Blind", stack_name="Blind-dev")
        _s3_rule(blind, cdk.aws_s3.Bucket(blind, "Uploads"))
        on_bucket = cdk.Stack(app, "OnBucket", stack_name="OnBucket-dev")
        bucket = cdk.aws_s3.Bucket(on_bucket, "Uploads")
        bucket.node.default_child.notification_configuration = {
            "eventBridgeConfiguration": {"eventBridgeEnabled": True}
        }
        _s3_rule(on_bucket, bucket)
        by_cdk = cdk.Stack(app, "ByCdk", stack_name="ByCdk-dev")
        _s3_rule(by_cdk, cdk.aws_s3.Bucket(by_cdk, "Uploads", event_bridge_enabled=True))

    assembly = synthesized(tmp_path, build)
    (violation,) = rules.violations(assembly.stack("Blind"))
    assert violation.rule == "s3-rules-see-bucket-events"
    assert violation.resource.startswith("Uploaded") and "never fire" in violation.message
    assert not broken(assembly, "OnBucket")
    assert not broken(assembly, "ByCdk")


def test_a_queue_eventbridge_may_not_write_to_breaks_a_rule(tmp_path):
    """A target or dead-letter queue without a policy for EventBridge, one open to every
    account's rules, or one whose key EventBridge cannot use: deploys, then every delivery
    fails."""
    sqs, events, targets = cdk.aws_sqs, cdk.aws_events, cdk.aws_events_targets
    every_minute = events.Schedule.rate(cdk.Duration.minutes(1))

    def raw_rule(stack: cdk.Stack, queue: sqs.IQueue) -> events.CfnRule:
        return events.CfnRule(
            stack,
            "Rule",
            schedule_expression="rate(1 minute)",
            targets=[events.CfnRule.TargetProperty(id="Queue", arn=queue.queue_arn)],
        )

    def build(app):
        # The flag cdk.json sets: CDK limits a KMS queue's policy to the account.
        app.node.set_context("@aws-cdk/aws-events:eventsTargetQueueSameAccount", True)
        stack = cdk.Stack(app, "NoPolicy", stack_name="NoPolicy-dev")
        raw_rule(stack, sqs.Queue(stack, "Work"))

        stack = cdk.Stack(app, "Open", stack_name="Open-dev")
        queue = sqs.Queue(stack, "Work")
        raw_rule(stack, queue)
        queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[queue.queue_arn],
            )
        )

        stack = cdk.Stack(app, "ManagedKey", stack_name="ManagedKey-dev")
        managed = sqs.Queue(stack, "Work", encryption=sqs.QueueEncryption.KMS_MANAGED)
        events.Rule(stack, "Rule", schedule=every_minute, targets=[targets.SqsQueue(managed)])

        stack = cdk.Stack(app, "KeyWithoutGrant", stack_name="KeyWithoutGrant-dev")
        key = cdk.aws_kms.Key(stack, "Key")
        locked = sqs.Queue(stack, "Work", encryption_master_key=key)
        rule = raw_rule(stack, locked)
        locked.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[locked.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": rule.attr_arn}},
            )
        )

        stack = cdk.Stack(app, "DeadLetterWithoutPolicy", stack_name="DeadLetterWithoutPolicy-dev")
        work, parked = sqs.Queue(stack, "Work"), sqs.Queue(stack, "Parked")
        events.Rule(stack, "Rule", schedule=every_minute, targets=[targets.SqsQueue(work)])
        rule = stack.node.find_child("Rule").node.default_child
        rule.add_property_override("Targets.0.DeadLetterConfig.Arn", parked.queue_arn)

        stack = cdk.Stack(app, "Fine", stack_name="Fine-dev")
        events.Rule(
            stack,
            "Rule",
            schedule=every_minute,
            targets=[
                targets.SqsQueue(
                    sqs.Queue(stack, "Work"), dead_letter_queue=sqs.Queue(stack, "Parked")
                )
            ],
        )
        own_key = sqs.Queue(stack, "Sealed", encryption_master_key=cdk.aws_kms.Key(stack, "Key"))
        events.Rule(stack, "SealedRule", schedule=every_minute, targets=[targets.SqsQueue(own_key)])

    assembly = synthesized(tmp_path, build)

    def messages(stack_id: str) -> list[str]:
        # (These stacks have no house alarms: their dead-letter queues break that rule too.)
        found = rules.violations(assembly.stack(stack_id))
        assert {v.rule for v in found} - {"failures-raise-an-alarm"} == {
            "eventbridge-can-send-to-queues"
        }, found
        return [v.message for v in found if v.rule == "eventbridge-can-send-to-queues"]

    (no_policy,) = messages("NoPolicy")
    assert "no queue policy" in no_policy
    (open_policy,) = messages("Open")
    assert "without an aws:SourceArn condition" in open_policy
    (managed,) = messages("ManagedKey")
    assert "alias/aws/sqs" in managed
    (locked_key,) = messages("KeyWithoutGrant")
    assert "kms:GenerateDataKey and kms:Decrypt" in locked_key
    (dead_letters,) = messages("DeadLetterWithoutPolicy")
    assert dead_letters.startswith("its dead-letter queue Parked")
    assert broken(assembly, "Fine") <= {"failures-raise-an-alarm"}


# -- CloudFront origin groups --------------------------------------------------------------------


def _failover_site(stack: cdk.Stack, methods: cloudfront.AllowedMethods) -> cloudfront.Distribution:
    from aws_cdk import aws_cloudfront_origins as origins

    group = origins.OriginGroup(
        primary_origin=origins.HttpOrigin("primary.example.com"),
        fallback_origin=origins.HttpOrigin("second.example.com"),
    )
    return cloudfront.Distribution(
        stack,
        "Distribution",
        default_behavior=cloudfront.BehaviorOptions(
            origin=origins.HttpOrigin("app.example.com"),
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
        ),
        additional_behaviors={
            "/downloads/*": cloudfront.BehaviorOptions(origin=group, allowed_methods=methods)
        },
    )


# -- S3 replication and CloudFront origin groups (origin failover) -------------------------------


def test_replication_without_versioning_on_either_bucket_breaks_a_rule(tmp_path):
    """S3 refuses a replication configuration on an unversioned bucket, and to an unversioned
    destination, here in a companion stack of another region (read through Fn::GetStackOutput)."""
    from aws_cdk import aws_s3 as s3

    def build(app):
        replicas = cdk.Stack(
            app, "Replicas", stack_name="Replicas-prod", env=cdk.Environment(region="us-west-2")
        )
        versioned = s3.Bucket(replicas, "Versioned", versioned=True)
        unversioned = s3.Bucket(replicas, "Unversioned")
        sources = cdk.Stack(
            app,
            "Sources",
            stack_name="Sources-prod",
            env=cdk.Environment(region="us-east-1"),
            cross_region_references=True,
        )
        role = iam.Role(sources, "Role", assumed_by=iam.ServicePrincipal("s3.amazonaws.com"))
        for name, destination in (
            ("Fine", versioned),
            ("ToUnversioned", unversioned),
            ("UnversionedSource", versioned),
        ):
            bucket = s3.Bucket(
                sources,
                name,
                versioned=True,
                replication_role=role,
                replication_rules=[s3.ReplicationRule(destination=destination, priority=1)],
            )
            if name == "UnversionedSource":
                bucket.node.default_child.add_property_deletion_override("VersioningConfiguration")

    # As this app has it (cdk.json): a cross-region value is Fn::GetStackOutput, no custom resource.
    app = cdk.App(
        outdir=str(tmp_path),
        context={
            "aws:cdk:version-reporting": False,
            "@aws-cdk/core:defaultCrossStackReferences": "weak",
        },
    )
    build(app)
    app.synth()
    found = {
        v.resource.rstrip("0123456789ABCDEF"): v.message
        for v in rules.violations(Assembly(tmp_path).stack("Sources"))
        if v.rule == "replication-needs-versioning"
    }
    assert set(found) == {"ToUnversioned", "UnversionedSource"}, found
    assert "Replicas-prod/Unversioned" in found["ToUnversioned"]
    assert "without versioning" in found["UnversionedSource"]


@pytest.mark.parametrize(
    ("broken_by", "complaint"),
    [
        (None, None),
        ("no-priority", "Priority must be specified"),
        ("kms-objects-skipped", "S3 skips every SSE-KMS object"),
        ("no-replica-key", "ReplicaKmsKeyID"),
        ("role-for-lambda", "does not trust s3.amazonaws.com"),
        ("delete-markers-without-filter", "only a rule with a Filter"),
    ],
)
def test_replication_s3_refuses_or_skips_breaks_a_rule(tmp_path, broken_by, complaint):
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    def build(app):
        stack = cdk.Stack(app, "Site", stack_name="Site-prod")
        replica_key = kms.Key(stack, "ReplicaKey")
        replica = s3.Bucket(
            stack, "Replica", versioned=True, encryption_key=replica_key, bucket_key_enabled=True
        )
        role = iam.Role(
            stack,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "lambda.amazonaws.com" if broken_by == "role-for-lambda" else "s3.amazonaws.com"
            ),
        )
        bucket = s3.Bucket(
            stack,
            "Source",
            versioned=True,
            encryption_key=kms.Key(stack, "SourceKey"),
            replication_role=role,
            replication_rules=[
                s3.ReplicationRule(
                    destination=replica,
                    priority=None if broken_by == "no-priority" else 1,
                    delete_marker_replication=True,
                    sse_kms_encrypted_objects=broken_by != "kms-objects-skipped",
                    kms_key=None if broken_by == "no-replica-key" else replica_key,
                )
            ],
        )
        if broken_by == "delete-markers-without-filter":
            bucket.node.default_child.add_property_deletion_override(
                "ReplicationConfiguration.Rules.0.Filter"
            )

    found = [
        v.message
        for v in rules.violations(synthesized(tmp_path, build).stack("Site"))
        if v.rule == "replication-is-deployable"
    ]
    if complaint is None:
        assert found == []
    else:
        assert any(complaint in message for message in found), found


@pytest.mark.parametrize(
    ("methods", "refused"),
    [
        (cloudfront.AllowedMethods.ALLOW_ALL, True),
        (cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS, False),
        (cloudfront.AllowedMethods.ALLOW_GET_HEAD, False),
    ],
)
def test_an_origin_group_behind_a_behaviour_allowing_post_breaks_a_rule(tmp_path, methods, refused):
    """CloudFront fails over only GET/HEAD/OPTIONS and refuses an origin group on a behaviour
    that allows more (the default behaviour here allows everything, on a single origin)."""

    def build(app):
        _failover_site(cdk.Stack(app, "Site", stack_name="Site-prod"), methods)

    found = [
        v
        for v in rules.violations(synthesized(tmp_path, build).stack("Site"))
        if v.rule == "origin-group-methods"
    ]
    assert bool(found) is refused
    if refused:
        assert "/downloads/*" in found[0].message and "POST" in found[0].message


@pytest.mark.parametrize(
    ("override", "says"),
    [
        (None, None),
        ({"Members.Quantity": 1}, "has 2 members (Quantity 1)"),
        (
            {"Members.Items": [{"OriginId": "NoSuchOrigin"}, {"OriginId": "NoSuchOrigin2"}]},
            "no such origin",
        ),
        (
            {"FailoverCriteria.StatusCodes": {"Items": [500, 429], "Quantity": 2}},
            "fails over on [429]",
        ),
        ({"FailoverCriteria.StatusCodes": {"Items": [500, 502], "Quantity": 4}}, "(Quantity 4)"),
    ],
)
def test_an_origin_group_cloudfront_refuses_breaks_a_rule(tmp_path, override, says):
    """Two origins of the distribution, failing over on codes CloudFront accepts: anything
    else fails the deploy."""

    def build(app):
        stack = cdk.Stack(app, "Site", stack_name="Site-prod")
        distribution = _failover_site(stack, cloudfront.AllowedMethods.ALLOW_GET_HEAD)
        for path, value in (override or {}).items():
            distribution.node.default_child.add_property_override(
                f"DistributionConfig.OriginGroups.Items.0.{path}", value
            )

    found = [
        v
        for v in rules.violations(synthesized(tmp_path, build).stack("Site"))
        if v.rule == "origin-groups-are-whole"
    ]
    if says is None:
        assert found == []
    else:
        assert found and says in " ".join(v.message for v in found)


@pytest.mark.parametrize("admitted", [True, False])
def test_a_failover_replica_cloudfront_cannot_decrypt_breaks_a_rule(tmp_path, admitted):
    """The replica of a site bucket lives in a companion stack of another region; its key's
    policy there must admit CloudFront too, or every failed-over request answers 403."""
    from aws_cdk import aws_cloudfront_origins as origins
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    app = cdk.App(
        outdir=str(tmp_path),
        context={
            "aws:cdk:version-reporting": False,
            "@aws-cdk/core:defaultCrossStackReferences": "weak",
        },
    )
    companion = cdk.Stack(
        app, "SiteFailover", stack_name="SiteFailover-prod", env=cdk.Environment(region="us-west-2")
    )
    key = kms.Key(companion, "Key")
    if admitted:
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "AWS:SourceArn": f"arn:aws:cloudfront::{cdk.Aws.ACCOUNT_ID}:distribution/*"
                    }
                },
            )
        )
    replica = s3.Bucket(companion, "Replica", encryption_key=key)
    stack = cdk.Stack(
        app,
        "Site",
        stack_name="Site-prod",
        env=cdk.Environment(region="us-east-1"),
        cross_region_references=True,
    )
    oac = cloudfront.S3OriginAccessControl(stack, "Access")
    group = origins.OriginGroup(
        primary_origin=origins.S3BucketOrigin.with_origin_access_control(
            s3.Bucket(stack, "Bucket"), origin_access_control=oac
        ),
        fallback_origin=origins.S3BucketOrigin.with_bucket_defaults(
            replica, origin_access_control_id=oac.origin_access_control_id
        ),
    )
    cloudfront.Distribution(
        stack, "Distribution", default_behavior=cloudfront.BehaviorOptions(origin=group)
    )
    app.synth()
    found = [
        v
        for v in rules.violations(Assembly(tmp_path).stack("Site"))
        if v.rule == "cloudfront-can-decrypt-its-origins"
    ]
    assert bool(found) is not admitted, found
    if found:
        assert found[0].resource.startswith("Replica")
