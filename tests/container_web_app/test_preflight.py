"""`python -m deployment.preflight ContainerWebApp` end to end: the real dev template against a
moto account. moto has no CloudFormation type registry, so the check that the region offers
AWS::ECS::ExpressGatewayService is answered by a stub (tests/deployment has its other cases)."""

from __future__ import annotations

import re

import boto3
import pytest

from deployment import preflight
from deployment import preflight_checks as checks
from deployment.preflight import main
from tests.support.synth import requires, synthesize_once

pytestmark = requires("container-web-app")
CHECK_LINE = re.compile(r"^(PASS|FAIL|NOTE)  (?P<check>[a-z -]{19}) (?P<detail>\S.*)$")
# What Express Mode creates with the infrastructure role, which may not create service-linked
# roles: the preflight must (plus ECS's own and RDS's, first used inside the deploy).
ROLES = (
    "AWSServiceRoleForECS",
    "AWSServiceRoleForElasticLoadBalancing",
    "AWSServiceRoleForApplicationAutoScaling_ECSService",
    "AWSServiceRoleForRDS",
)


def report(capsys) -> tuple[list[str], str]:
    output = capsys.readouterr().out.strip().splitlines()
    return output[:-1], output[-1]


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    return synthesize_once(
        tmp_path_factory,
        "dev",
        {"blueprints_only": "container-web-app"},
    ).outdir


@pytest.fixture
def region_offers_every_type(monkeypatch):
    asked = []

    def offered(preflight):
        for resource_type in checks.REGIONAL_TYPES:
            if any(True for _ in checks.resources(preflight.template, resource_type)):
                asked.append(resource_type)
        yield checks.CheckResult(checks.PASS, "resource types", "stubbed: offered")

    offered.check_name = checks.check_resource_types.check_name
    stubbed = tuple(offered if c is checks.check_resource_types else c for c in checks.CHECKS)
    monkeypatch.setattr(preflight, "CHECKS", stubbed)
    return asked


def parsed(check_lines: list[str]) -> list[tuple[str, str]]:
    matches = [CHECK_LINE.match(line) for line in check_lines]
    assert all(matches), check_lines  # one aligned line per check
    return [(m.group(1), m.group("check").strip()) for m in matches]


def test_container_web_app_in_a_fresh_account(aws, synthesized, region_offers_every_type, capsys):
    assert main(["ContainerWebApp", "--assembly", str(synthesized)]) == 1
    check_lines, summary = report(capsys)
    found = parsed(check_lines)
    assert ("FAIL", "bootstrap") in found
    assert found.count(("FAIL", "service-linked role")) == len(ROLES)
    text = "\n".join(check_lines)
    for role in ROLES:
        assert f"{role} missing" in text
    assert not [check for status, check in found if check == "docker"], "built in CodeBuild"
    assert region_offers_every_type == ["AWS::ECS::ExpressGatewayService"]
    assert summary.startswith("preflight ContainerWebApp (ContainerWebApp-dev): ")


def test_container_web_app_is_ready_after_bootstrap_and_fix(
    aws, synthesized, region_offers_every_type, capsys
):
    boto3.client("ssm").put_parameter(
        Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String"
    )
    assert main(["ContainerWebApp", "--assembly", str(synthesized), "--fix"]) == 0
    check_lines, summary = report(capsys)
    assert sum("created (--fix)" in line for line in check_lines) == len(ROLES)
    assert "0 FAIL" in summary and "ready: make deploy STACK=ContainerWebApp" in summary
