"""Where the blueprint's container images come from.

ECR repository (scan on push, immutable tags, lifecycle, KMS)   <- `docker push` your images
image source, one of:
  "codebuild"        the sample app's folder (containers/web unless the blueprint names its
                     own) zipped to the CDK asset bucket at deploy; a CodeBuild project
                     builds it and pushes it to the repository above (no Docker on the
                     deploying machine; synth and tests only hash the folder)
  "docker"           that folder built by `cdk deploy` with the local Docker engine
                     (DockerImageAsset, pushed to the CDK bootstrap repository)
  "repository:<tag>" an image you pushed to the repository above
  anything else      an image reference, pulled as is (no build, no Docker anywhere)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from cdklabs.deploy_time_build import ContainerImageBuild
from constructs import Construct
from pydantic import AfterValidator, Field

from house.compliance import acknowledge, acknowledge_wildcard_resources
from house.defaults import log_group
from house.types import ALLOWED as ALLOWED_KEY
from house.types import pinned_image
from patterns.containers.web_service import APP_UID

CODEBUILD, DOCKER = "codebuild", "docker"
REPOSITORY_PREFIX = "repository:"
# What `image` used to accept for the local Docker build; refused by name so an old override
# does not silently become the Docker Hub image "asset".
RENAMED = {"asset": DOCKER}
# An image reference as Docker reads it: [registry/]name[:tag][@digest], lower-case names.
_REFERENCE = re.compile(
    r"^(?:[a-z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[\w][\w.-]{0,127})?"
    r"(?:@sha256:[0-9a-f]{64})?$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
# Private ECR in some account: reachable through the ECR VPC endpoints, unlike public registries.
_PRIVATE_ECR = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")

ImageSource = Literal["codebuild", "docker", "repository", "private-ecr", "public"]
ALLOWED = (
    "'codebuild' (built by CodeBuild at deploy), 'docker' (built by your local Docker at "
    "deploy), 'repository:<tag>' (your push) or an image reference like "
    "'public.ecr.aws/nginx/nginx:stable-alpine'"
)

# containers/web/Dockerfile's `USER`: the sample app never runs as root, and shared storage's
# access point enforces the same ids.
SAMPLE_APP_USER = f"{APP_UID}:{APP_UID}"

# The deploy-time-build construct's own singletons (ids from its jsii bundle, version 0.1.14):
# one Lambda function per stack that starts the build, one CodeBuild project per platform.
_BUILD_HANDLER_PREFIX = "DeployTimeBuildCustomResourceHandler"
_BUILD_PROJECT_PREFIXES = ("ContainerImageBuildAmd64", "ContainerImageBuildArm64")


def runs_sample_app(source: ImageSource) -> bool:
    """True when the image is containers/web: its commands (web, worker, process-upload, prune)
    and its read-only root filesystem exist. Anything else is only known to serve HTTP."""
    return source in (CODEBUILD, DOCKER, "repository")


def image_source(image: str) -> ImageSource:
    """Classify an `image` setting; ValueError (naming what is allowed) if it is none of them."""
    if image in (CODEBUILD, DOCKER):
        return image  # type: ignore[return-value]
    if image in RENAMED:
        raise ValueError(
            f"'{image}' is now '{RENAMED[image]}' (the local Docker build); allowed: {ALLOWED}"
        )
    if image.startswith(REPOSITORY_PREFIX):
        if not _TAG.match(image.removeprefix(REPOSITORY_PREFIX)):
            raise ValueError(
                f"'{image}' needs a tag after '{REPOSITORY_PREFIX}', e.g. "
                f"'{REPOSITORY_PREFIX}v1' (letters, digits, '_', '.', '-')"
            )
        return "repository"
    if not _REFERENCE.match(image):
        raise ValueError(f"'{image}' is none of {ALLOWED}")
    return "private-ecr" if _PRIVATE_ECR.match(image) else "public"


def _image_setting(value: str) -> str:
    source = image_source(value)  # ValueError naming what is allowed
    return pinned_image(value) if source in ("public", "private-ecr") else value


# The `image` setting of every container blueprint: one of the sources above, and an image
# reference only with a fixed tag or a digest.
ImageSetting = Annotated[
    str,
    AfterValidator(_image_setting),
    Field(json_schema_extra={ALLOWED_KEY: ALLOWED + "; never untagged or ':latest'"}),
]


CpuArchitecture = Literal["X86_64", "ARM64"]
# Docker platform and a short name per CPU architecture. Keyed by name, not by
# ecs.CpuArchitecture: jsii hands out a new Python proxy per access, so `==` on two
# `ecs.CpuArchitecture.ARM64` is False.
_PLATFORMS: dict[str, tuple[str, ecr_assets.Platform]] = {
    "X86_64": ("amd64", ecr_assets.Platform.LINUX_AMD64),
    "ARM64": ("arm64", ecr_assets.Platform.LINUX_ARM64),
}


class ContainerRegistry(Construct):
    """The ECR repository for your own images, and the image every container of the blueprint
    runs.

    The repository scans on push, keeps tags immutable and is encrypted with the AWS managed
    aws/ecr key.

    Args:
        `image`: the image setting (see the module docstring): "codebuild", "docker",
            "repository:<tag>" or an image reference; it decides what `image()` and `image_uri()`
            return, and an unknown form raises ValueError. Required.
        `keep_images`: the lifecycle rule keeps this many images (untagged layers expire after a
            day). Required.
        `removal_policy`: the stage's: the repository's (DESTROY also empties it on delete) and,
            with "codebuild", the build log group's and the build handler's log group's. Required.
        `log_retention_days`: retention of the CodeBuild project's log group and of the build
            handler's log group (image "codebuild" only). Required.
        `sample_app`: the folder "codebuild" and "docker" build (the blueprint's sample app).
            Required.
        `repository_name`: the ECR repository's name. Default: None, a name CloudFormation
            generates.

    Attributes: source, sample_app, repository, builds.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: str,
        keep_images: int,
        removal_policy: cdk.RemovalPolicy,
        log_retention_days: int,
        sample_app: Path,
        repository_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.source = image_source(image)
        self._image = image
        # The folder `codebuild`/`docker` build: each blueprint names its own sample app, so a
        # starter kit carries only its blueprint's.
        self.sample_app = sample_app
        # As the repository names it (containers/<app>), for messages and push commands.
        self._folder = f"{sample_app.parent.name}/{sample_app.name}"
        self._removal_policy = removal_policy
        self._log_retention_days = log_retention_days
        self._assets: dict[str, ecr_assets.DockerImageAsset] = {}
        self.builds: dict[str, ContainerImageBuild] = {}
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=repository_name,
            image_scan_on_push=True,
            # A tag always names the same image: what was scanned and deployed is what runs.
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            # The AWS-managed aws/ecr key: KMS at rest at no extra key cost.
            encryption=ecr.RepositoryEncryption.KMS,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1,
                    description="Expire untagged layers of failed or superseded pushes after a day",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=cdk.Duration.days(1),
                ),
                ecr.LifecycleRule(
                    rule_priority=2,
                    description=f"Keep the last {keep_images} images",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=keep_images,
                ),
            ],
            removal_policy=removal_policy,
            empty_on_delete=removal_policy == cdk.RemovalPolicy.DESTROY,
        )

    def image(self, architecture: CpuArchitecture) -> ecs.ContainerImage:
        """The container image for tasks of `architecture` (built once per platform)."""
        if self.source == "repository":
            return ecs.ContainerImage.from_ecr_repository(
                self.repository, self._image.removeprefix(REPOSITORY_PREFIX)
            )
        if self.source in ("public", "private-ecr"):
            return ecs.ContainerImage.from_registry(self._image)
        if self.source == CODEBUILD:
            return self.build(architecture).to_ecs_docker_image_code()
        return ecs.ContainerImage.from_docker_image_asset(self.asset(architecture))

    def image_uri(self, architecture: CpuArchitecture) -> str:
        """The image as a reference string, for services that take one instead of an
        `ecs.ContainerImage` (ECS Express Mode, App Runner). Always a fixed tag or a digest:
        `codebuild` builds get a fresh random tag each, `repository:<tag>` is immutable."""
        if self.source == "repository":
            return self.repository.repository_uri_for_tag(
                self._image.removeprefix(REPOSITORY_PREFIX)
            )
        if self.source in ("public", "private-ecr"):
            return self._image
        if self.source == CODEBUILD:
            return self.build(architecture).image_uri
        return self.asset(architecture).image_uri

    def grant_pull(self, grantee: iam.IGrantable, architecture: CpuArchitecture) -> None:
        """Let `grantee` pull `image_uri(architecture)`; nothing for an image elsewhere (a public
        registry needs no grant; another account's ECR is that account's policy to open)."""
        if self.source in ("repository", CODEBUILD):
            self.repository.grant_pull(grantee)
        elif self.source == DOCKER:
            self.asset(architecture).repository.grant_pull(grantee)

    def asset(self, architecture: CpuArchitecture) -> ecr_assets.DockerImageAsset:
        """`image: docker`: containers/web as a DockerImageAsset (`cdk deploy` runs docker)."""
        name, platform = _PLATFORMS[architecture]
        key = "Arm64" if name == "arm64" else "X8664"
        if key not in self._assets:
            self._assets[key] = ecr_assets.DockerImageAsset(
                self,
                f"SampleApp{key}",
                directory=str(self.sample_app),
                platform=platform,
                display_name=f"sample app ({name})",
            )
        return self._assets[key]

    def build(self, architecture: CpuArchitecture) -> ContainerImageBuild:
        """`image: codebuild`: containers/web built in CodeBuild during the deploy and pushed to
        this repository. Rebuilt only when the folder's contents (its asset hash) change."""
        name, platform = _PLATFORMS[architecture]
        if name not in self.builds:
            self.builds[name] = ContainerImageBuild(
                self,
                f"SampleApp{name.capitalize()}Build",
                directory=str(self.sample_app),
                platform=platform,
                repository=self.repository,
                # No fixed `tag`: the build handler then names each build
                # `<prefix><32 random hex>`, so a rebuild (a stack re-created over a retained
                # repository, a rollback) never pushes a tag that exists. With a fixed tag its
                # `docker push` would hit IMMUTABLE and fail the deploy.
                tag_prefix=f"sample-app-{name}-",
            )
            self._harden_build(self.builds[name])
        return self.builds[name]

    def _harden_build(self, build: ContainerImageBuild) -> None:
        """What the construct lets us fix on its stack-level singletons (the CodeBuild project
        of each platform, the function that starts builds), and the acknowledgments for the
        rest. Runs once per build; each singleton is changed only the first time."""
        resource = build.node.find_child("Resource")
        found = set()
        for child in cdk.Stack.of(self).node.children:
            if child.node.id.startswith(_BUILD_PROJECT_PREFIXES):
                resource.node.add_dependency(self._harden_project(child))
                found.add("project")
            elif child.node.id.startswith(_BUILD_HANDLER_PREFIX):
                resource.node.add_dependency(self._harden_handler(child))
                found.add("handler")
        if found != {"project", "handler"}:
            raise RuntimeError(
                "ContainerRegistry: the deploy-time-build construct no longer "
                "creates the singletons this pattern hardens; check its ids "
                "after an upgrade"
            )

    def _harden_project(self, project: codebuild.Project) -> logs.ILogGroup:
        existing = project.node.try_find_child("BuildLogs")
        if existing:
            return existing
        # CodeBuild creates /aws/codebuild/<project> on the first build, with no expiry. The
        # stack creates that group first, with the stage's retention; the build waits for it.
        build_logs = log_group(
            project,
            "BuildLogs",
            retention_days=self._log_retention_days,
            removal_policy=self._removal_policy,
            log_group_name=f"/aws/codebuild/{project.project_name}",
        )
        # Said explicitly (CT.CODEBUILD.PR.3): builds log to CloudWatch, to that default group
        # (naming it here would make the project and its group depend on each other).
        project.node.default_child.logs_config = codebuild.CfnProject.LogsConfigProperty(
            cloud_watch_logs=codebuild.CfnProject.CloudWatchLogsConfigProperty(status="ENABLED")
        )
        role = project.role
        acknowledge(
            role.node.default_child,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:"
            "policy/AmazonElasticContainerRegistryPublicReadOnly]",
            "The build logs in to ECR Public (ecr-public:GetAuthorizationToken with "
            "sts:GetServiceBearerToken) to pull the Dockerfile's public.ecr.aws base image at "
            "the authenticated rate limit; besides those two, this AWS managed policy grants "
            "only ecr-public read actions (Describe*, Get*, BatchCheckLayerAvailability).",
        )
        acknowledge_wildcard_resources(
            role,
            {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
            "CodeBuild writes each build's output to a new stream of this project's own group "
            "/aws/codebuild/<project>; the wildcard is that one group's streams.",
        )
        acknowledge_wildcard_resources(
            role,
            {
                "codebuild:BatchPutCodeCoverages",
                "codebuild:BatchPutTestCases",
                "codebuild:CreateReport",
                "codebuild:CreateReportGroup",
                "codebuild:UpdateReport",
            },
            "CDK grants every CodeBuild project its own report groups (<project>-*); this "
            "buildspec declares no reports, so they are unused, and reach no other project.",
        )
        acknowledge_wildcard_resources(
            role,
            {"ecr:GetAuthorizationToken"},
            "docker login to the blueprint's repository needs ecr:GetAuthorizationToken, which "
            "has no resource-level permissions; the push is scoped to that one repository.",
        )
        read_source = {"s3:GetBucket*", "s3:GetObject*", "s3:List*"}
        folder = self._folder
        reason = (
            f"The build downloads its source, {folder} zipped by `cdk deploy`, from "
            "the CDK bootstrap asset bucket: CDK's read grant on that one bucket."
        )
        if acknowledge_wildcard_resources(role, read_source, reason):
            for action in sorted(read_source):
                acknowledge(
                    role.node.find_child("DefaultPolicy"),
                    f"AwsSolutions-IAM5[Action::{action}]",
                    reason,
                )
        acknowledge(
            project.node.default_child,
            "AwsSolutions-CB4",
            "CDK gives this project the AWS managed alias/aws/s3 key; a customer key would "
            "protect nothing more: the project has no build artifacts (NO_ARTIFACTS), no S3 "
            "logs and no cache, what that key encrypts, and the image it pushes is encrypted "
            "at rest by the repository's KMS setting.",
        )
        return build_logs

    def _harden_handler(self, handler: lambda_.Function) -> iam.Policy:
        function = handler.node.default_child
        if function.memory_size is not None:
            return handler.node.find_child("OwnLogs")
        # One StartBuild call per image build: the smallest size is plenty, stated explicitly.
        function.memory_size = 128
        # Its CDK-managed log group keeps logs 2 years and outlives the stack; the stage decides.
        managed_logs = handler.log_group.node.default_child
        managed_logs.retention_in_days = self._log_retention_days
        managed_logs.apply_removal_policy(self._removal_policy)
        # Write access to its own log group instead of AWSLambdaBasicExecutionRole (which
        # allows every log group). A policy of its own: the function waits for its default
        # policy, and a grant there would wait for the group named after the function.
        handler.role.node.default_child.managed_policy_arns = []
        own_logs = iam.Policy(
            handler,
            "OwnLogs",
            roles=[handler.role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[handler.log_group.log_group_arn],
                )
            ],
        )
        # Revisit when deploy-time-build moves past nodejs22.x (it relies on that runtime's SDK).
        runtime = (
            "runs nodejs22.x, the runtime deploy-time-build 0.1.14 hard-codes for it "
            "(Lambda supports it until 2027-04-30); changing a third-party handler's "
            "runtime under it is not ours to test"
        )
        for rule, reason in (
            ("AwsSolutions-L1", runtime),
            ("Serverless-LambdaLatestVersion", runtime),
            (
                "Serverless-LambdaDLQ",
                "is invoked by CloudFormation for each image build and "
                "answers FAILED to CloudFormation itself on any error (or CloudFormation times the "
                "resource out), so the deploy fails with the reason; a queued event adds nothing",
            ),
            (
                "Serverless-LambdaTracing",
                "makes one codebuild:StartBuild call per image build; "
                "the outcome is in the CloudFormation events and the build's log group",
            ),
        ):
            acknowledge(function, rule, f"The deploy-time-build handler {reason}.")
        return own_logs

    @property
    def runs_our_app(self) -> bool:
        """True when the containers run the sample app (its commands and read-only root exist)."""
        return runs_sample_app(self.source)

    @property
    def app_user(self) -> str | None:
        """The unprivileged `uid:gid` the sample app's image runs as (containers/web/Dockerfile
        `USER`, the same ids the EFS access point enforces); None for another image, whose
        Dockerfile decides."""
        return SAMPLE_APP_USER if self.runs_our_app else None

    def push_commands(self, platform: str = "linux/amd64") -> str:
        """The shell lines that build the sample app and push it as `v1` (tags are immutable)."""
        folder = self._folder
        return cdk.Fn.sub(
            "aws ecr get-login-password --region ${AWS::Region} | docker login --username AWS "
            "--password-stdin ${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix} && "
            f"docker build --platform {platform} -t ${{Uri}}:v1 {folder} && "
            "docker push ${Uri}:v1",
            {"Uri": self.repository.repository_uri},
        )
