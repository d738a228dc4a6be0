"""Where the blueprint's container images come from.

    ECR repository (scan on push, immutable tags, lifecycle, KMS)   <- `docker push` your images
    image source, one of:
      "asset"            containers/web built by `cdk deploy` (DockerImageAsset: only hashed at
                         synth, so synth and tests need no Docker; the deploying machine does)
      "repository:<tag>" an image you pushed to the repository above
      anything else      a public image reference, pulled as is (no build, no Docker anywhere)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from constructs import Construct

SAMPLE_APP = Path(__file__).resolve().parent.parent / "containers" / "web"
REPOSITORY_PREFIX = "repository:"
# An image reference as Docker reads it: [registry/]name[:tag][@digest], lower-case names.
_REFERENCE = re.compile(
    r"^(?:[a-z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[\w][\w.-]{0,127})?"
    r"(?:@sha256:[0-9a-f]{64})?$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
# Private ECR in some account: reachable through the ECR VPC endpoints, unlike public registries.
_PRIVATE_ECR = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")

ImageSource = Literal["asset", "repository", "private-ecr", "public"]


def image_source(image: str) -> ImageSource:
    """Classify an `image` setting; ValueError (naming what is allowed) if it is none of them."""
    if image == "asset":
        return "asset"
    if image.startswith(REPOSITORY_PREFIX):
        if not _TAG.match(image.removeprefix(REPOSITORY_PREFIX)):
            raise ValueError(f"'{image}' needs a tag after '{REPOSITORY_PREFIX}', e.g. "
                             f"'{REPOSITORY_PREFIX}v1' (letters, digits, '_', '.', '-')")
        return "repository"
    if not _REFERENCE.match(image):
        raise ValueError(f"'{image}' is neither 'asset', 'repository:<tag>' nor an image "
                         "reference like 'public.ecr.aws/nginx/nginx:stable-alpine'")
    return "private-ecr" if _PRIVATE_ECR.match(image) else "public"


class ContainerRegistry(Construct):
    """The ECR repository for your own images, and the image every container of the blueprint
    runs."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: str,
        keep_images: int,
        removal_policy: cdk.RemovalPolicy,
        repository_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.source = image_source(image)
        self._image = image
        self._assets: dict[str, ecr_assets.DockerImageAsset] = {}
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
                    description=f"Keep the last {keep_images} images (storage is $0.10/GB-month)",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=keep_images,
                ),
            ],
            removal_policy=removal_policy,
            empty_on_delete=removal_policy == cdk.RemovalPolicy.DESTROY,
        )

    def image(self, architecture: ecs.CpuArchitecture) -> ecs.ContainerImage:
        """The container image for tasks of `architecture` (an asset is built once per platform)."""
        if self.source == "repository":
            return ecs.ContainerImage.from_ecr_repository(
                self.repository, self._image.removeprefix(REPOSITORY_PREFIX))
        if self.source in ("public", "private-ecr"):
            return ecs.ContainerImage.from_registry(self._image)
        return ecs.ContainerImage.from_docker_image_asset(self.asset(architecture))

    def asset(self, architecture: ecs.CpuArchitecture) -> ecr_assets.DockerImageAsset:
        arm = architecture == ecs.CpuArchitecture.ARM64
        key = "Arm64" if arm else "X8664"
        if key not in self._assets:
            self._assets[key] = ecr_assets.DockerImageAsset(
                self, f"SampleApp{key}", directory=str(SAMPLE_APP),
                platform=ecr_assets.Platform.LINUX_ARM64 if arm
                else ecr_assets.Platform.LINUX_AMD64,
                display_name=f"sample app ({'arm64' if arm else 'amd64'})",
            )
        return self._assets[key]

    @property
    def runs_our_app(self) -> bool:
        """True when the containers run the sample app (its commands and read-only root exist)."""
        return self.source in ("asset", "repository")

    def push_commands(self, platform: str = "linux/amd64") -> str:
        """The shell lines that build containers/web and push it as `v1` (tags are immutable)."""
        return cdk.Fn.sub(
            "aws ecr get-login-password --region ${AWS::Region} | docker login --username AWS "
            "--password-stdin ${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix} && "
            f"docker build --platform {platform} -t ${{Uri}}:v1 containers/web && "
            "docker push ${Uri}:v1",
            {"Uri": self.repository.repository_uri},
        )
