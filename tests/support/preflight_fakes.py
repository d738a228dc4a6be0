"""Helpers shared by the preflight tests (no tests of its own): small hand-written assemblies,
and a boto3 session whose clients for chosen services are botocore Stubbers, for the APIs
moto 5.2.5 does not implement (sesv2 GetAccount, Service Quotas GetAWSDefaultServiceQuota)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from botocore.stub import Stubber

from deployment.assembly import Assembly, StackArtifact
from deployment.preflight_checks import CheckResult, Preflight, connect

AGNOSTIC = "aws://unknown-account/unknown-region"
MOTO_ACCOUNT = "123456789012"


def write_assembly(
    directory: Path,
    template: dict,
    stack_id: str = "Blueprint",
    stack_name: str | None = None,
    environment: str = AGNOSTIC,
    dependencies: tuple[str, ...] = (),
    docker_images: dict | None = None,
    bootstrap_parameter: str = "/cdk-bootstrap/hnb659fds/version",
    required_bootstrap_version: int = 6,
) -> StackArtifact:
    """A one-stack cloud assembly as `cdk synth` lays it out, read back through `Assembly`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{stack_id}.template.json").write_text(json.dumps(template))
    assets = f"{stack_id}.assets"
    (directory / f"{assets}.json").write_text(
        json.dumps({"version": "55.0.0", "files": {}, "dockerImages": docker_images or {}})
    )
    artifacts = {
        assets: {
            "type": "cdk:asset-manifest",
            "properties": {"file": f"{assets}.json", "requiresBootstrapStackVersion": 6},
        },
        stack_id: {
            "type": "aws:cloudformation:stack",
            "environment": environment,
            "properties": {
                "templateFile": f"{stack_id}.template.json",
                "stackName": stack_name or f"{stack_id}-dev",
                "requiresBootstrapStackVersion": required_bootstrap_version,
                "bootstrapStackVersionSsmParameter": bootstrap_parameter,
            },
            "dependencies": [*dependencies, assets],
        },
    }
    (directory / "manifest.json").write_text(
        json.dumps({"version": "55.0.0", "artifacts": artifacts})
    )
    return Assembly(directory).stack(stack_id)


class StubbedSession:
    """A boto3 session (moto's, under the `aws` fixture) in which `stub(service)` replaces that
    service's client with one driven by a botocore Stubber."""

    def __init__(self, region_name: str | None = "us-east-1") -> None:
        self._session = boto3.Session(region_name=region_name)
        self.region_name = region_name
        self._stubbed: dict[str, object] = {}

    def stub(self, service: str) -> Stubber:
        client = self._session.client(service, region_name=self.region_name)
        stubber = Stubber(client)
        stubber.activate()
        self._stubbed[service] = client
        return stubber

    def client(self, service: str, region_name: str | None = None):
        if service in self._stubbed:
            return self._stubbed[service]
        return self._session.client(service, region_name=region_name)


def preflight_for(stack: StackArtifact, session, fix: bool = False) -> Preflight:
    results, account = connect(stack, session)
    assert account is not None, [result.line() for result in results]
    return Preflight(stack, account, fix)


def lines(results: list[CheckResult], check: str | None = None) -> list[str]:
    return [result.line() for result in results if check is None or result.check == check]


def without_credentials(monkeypatch, tmp_path: Path) -> None:
    """No credentials anywhere boto3 looks: environment, files, containers, instance metadata."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
