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
