"""Fixtures of the fargate-service tests: the stack's template per stage, a variant synth with
every optional feature on, and the sample app's modules imported fresh under moto."""

from __future__ import annotations

import importlib
import sys

import pytest

from tests.support.synth import REPO_ROOT, Synthesized, synthesize_once

STACK_ID = "FargateService"
SAMPLE_APP_DIR = REPO_ROOT / "containers" / "web"
PUBLIC_IMAGE = "public.ecr.aws/nginx/nginx:stable-alpine"

# Everything the default profiles leave off, switched on through the same `-c
# fargate-service.<setting>=...` overrides a user passes to `npx cdk synth/deploy`.
VARIANT = {
    "blueprints_only": "fargate-service",
    "fargate-service.task_subnets": "private",
    "fargate-service.nat_gateways": "1",
    "fargate-service.image": PUBLIC_IMAGE,
    "fargate-service.container_port": "80",
    "fargate-service.health_check_path": "/",
    "fargate-service.ec2_capacity": "true",
    "fargate-service.worker_capacity": "ec2",
    "fargate-service.domain_name": "app.example.com",
    "fargate-service.hosted_zone_id": "Z0123456789ABCDEFGHIJ",
    "fargate-service.hosted_zone_name": "example.com",
    "fargate-service.notification_email": "ops@example.com",
    "fargate-service.execute_command": "false",
}


# The worker on Graviton EC2 capacity while the Fargate tasks stay x86: one image per CPU
# architecture, built by CodeBuild (the default) or by local Docker (`image=docker`).
TWO_ARCHITECTURES = {
    "blueprints_only": "fargate-service",
    "fargate-service.task_subnets": "private",
    "fargate-service.ec2_capacity": "true",
    "fargate-service.worker_capacity": "ec2",
}


@pytest.fixture(scope="session")
def variant(tmp_path_factory) -> Synthesized:
    """The dev stage with VARIANT's overrides, synthesized once per session."""
    return synthesize_once(tmp_path_factory, "dev", VARIANT)


@pytest.fixture(scope="session")
def built_for_two_architectures(tmp_path_factory) -> Synthesized:
    """`image: codebuild` (the default) with an amd64 and an arm64 image."""
    return synthesize_once(tmp_path_factory, "dev", TWO_ARCHITECTURES)


@pytest.fixture(scope="session")
def docker_built(tmp_path_factory) -> Synthesized:
    """`image: docker`: the local Docker build, for an amd64 and an arm64 image."""
    return synthesize_once(
        tmp_path_factory,
        "dev",
        {**TWO_ARCHITECTURES, "fargate-service.image": "docker"},
    )


@pytest.fixture
def template(assembly):
    return assembly.assertions(STACK_ID)


@pytest.fixture
def sample_app(aws, monkeypatch, tmp_path):
    """`sample_app("web")` -> `sample_app.web` imported fresh from containers/web, so its boto3
    clients are created inside the active moto mock (as they are at container start)."""
    monkeypatch.setenv("SHARED_DIR", str(tmp_path / "shared"))

    def load(module: str):
        for name in list(sys.modules):
            if name == "sample_app" or name.startswith("sample_app."):
                del sys.modules[name]
        sys.path.insert(0, str(SAMPLE_APP_DIR))
        try:
            return importlib.import_module(f"sample_app.{module}")
        finally:
            sys.path.remove(str(SAMPLE_APP_DIR))

    yield load
    for name in list(sys.modules):
        if name == "sample_app" or name.startswith("sample_app."):
            del sys.modules[name]
