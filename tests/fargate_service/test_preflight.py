"""`python -m deployment.preflight FargateService` end to end: the real dev template (built with
the local Docker image, so the docker check has work to do) against a moto account."""

from __future__ import annotations

import re

import boto3
import pytest

from deployment import preflight_checks as checks
from deployment.preflight import main
from tests.support.synth import synthesize_once

CHECK_LINE = re.compile(r"^(PASS|FAIL|NOTE)  (?P<check>[a-z -]{19}) (?P<detail>\S.*)$")


def report(capsys) -> tuple[list[str], str]:
    output = capsys.readouterr().out.strip().splitlines()
    return output[:-1], output[-1]


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    return synthesize_once(
        tmp_path_factory,
        "dev",
        {"blueprints_only": "fargate-service", "fargate-service.image": "docker"},
    ).outdir


@pytest.fixture
def no_docker(monkeypatch):
    monkeypatch.setattr(checks, "docker_engine_problem", lambda: "no `docker` command on PATH")


def test_fargate_service_in_a_fresh_account(aws, synthesized, no_docker, capsys):
    assert main(["FargateService", "--assembly", str(synthesized)]) == 1
    check_lines, summary = report(capsys)
    parsed = [CHECK_LINE.match(line) for line in check_lines]
    assert all(parsed), check_lines  # one aligned line per check
    found = [(match.group(1), match.group("check").strip()) for match in parsed]
    assert found == [
        ("PASS", "credentials"),
        ("PASS", "region"),
        ("FAIL", "bootstrap"),
        *[("FAIL", "service-linked role")] * 4,
        ("PASS", "quota"),
        ("PASS", "quota"),
        ("FAIL", "docker"),
        ("PASS", "availability zones"),
    ]
    text = "\n".join(check_lines)
    for role in (
        "AWSServiceRoleForECS",
        "AWSServiceRoleForElasticLoadBalancing",
        "AWSServiceRoleForAmazonElasticFileSystem",
        "AWSServiceRoleForApplicationAutoScaling_ECSService",
    ):
        assert f"{role} missing" in text
    assert "-c fargate-service.image=codebuild" in text
    assert summary == (
        "preflight FargateService (FargateService-dev): 6 FAIL, 0 NOTE, 5 PASS; "
        "fix each FAIL, then run the preflight again"
    )


def test_fargate_service_is_ready_after_bootstrap_docker_and_fix(
    aws, synthesized, monkeypatch, capsys
):
    boto3.client("ssm").put_parameter(
        Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String"
    )
    monkeypatch.setattr(checks, "docker_engine_problem", lambda: None)
    assert main(["FargateService", "--assembly", str(synthesized), "--fix"]) == 0
    check_lines, summary = report(capsys)
    assert sum("created (--fix)" in line for line in check_lines) == 4
    assert summary == (
        "preflight FargateService (FargateService-dev): 0 FAIL, 0 NOTE, 11 PASS; "
        "ready: make deploy STACK=FargateService STAGE=dev"
    )
