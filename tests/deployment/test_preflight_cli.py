"""`python -m deployment.preflight` end to end: real synthesized templates (one synth of the
dev FargateService and MyBlog stacks for the session) against a moto account."""

from __future__ import annotations

import re

import boto3
import pytest

from deployment import preflight_checks as checks
from deployment.assembly import Assembly
from deployment.preflight import format_report, main, run_checks
from tests.deployment.test_preflight_helpers import (
    StubbedSession,
    without_credentials,
    write_assembly,
)
from tests.support.synth import synthesize

CHECK_LINE = re.compile(r"^(PASS|FAIL|NOTE)  (?P<check>[a-z -]{19}) (?P<detail>\S.*)$")


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory):
    # A sender address, so MyBlog creates an SES identity whatever cdk.json's default is, and
    # the local Docker build of the Fargate image, so the docker check has work to do.
    return synthesize(
        "dev",
        tmp_path_factory.mktemp("preflight-cdk.out"),
        {
            "blueprints_only": "fargate-service,my-blog",
            "my-blog.sender_email": "welcome@example.com",
            "fargate-service.image": "docker",
        },
    ).outdir


@pytest.fixture
def no_docker(monkeypatch):
    monkeypatch.setattr(checks, "docker_engine_problem", lambda: "no `docker` command on PATH")


def report(capsys) -> tuple[list[str], str]:
    output = capsys.readouterr().out.strip().splitlines()
    return output[:-1], output[-1]


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


def test_my_blog_through_the_python_api(aws, synthesized):
    session = StubbedSession()  # moto 5.2.5 has no sesv2 GetAccount
    ses = session.stub("sesv2")
    ses.add_client_error(
        "get_email_identity", service_error_code="NotFoundException", http_status_code=404
    )
    ses.add_response("get_account", {"ProductionAccessEnabled": False})
    stack = Assembly(synthesized).stack("MyBlog")
    results = run_checks(stack, session)
    by_check = {result.check: result for result in results}
    assert by_check["account baseline"].status == "FAIL"
    assert by_check["account baseline"].fix == (
        "make deploy STACK=AccountBaseline STAGE=dev (`npx cdk deploy MyBlog` also deploys it "
        "first, as its dependency)"
    )
    assert by_check["ses identity"].status == "NOTE"
    assert "welcome@example.com" in by_check["ses identity"].detail
    assert by_check["ses sandbox"].status == "NOTE"
    assert (
        format_report(results, stack)
        .splitlines()[-1]
        .startswith("preflight MyBlog (MyBlog-dev): 2 FAIL, 2 NOTE, ")
    )


def test_dependencies_are_checked_first_and_the_baseline_they_create_is_a_note(
    aws, synthesized, monkeypatch, capsys
):
    """`cdk deploy MyBlog` deploys AccountBaseline first: the preflight checks both, in that
    order, and MyBlog's missing logging role is a NOTE because the baseline sets it."""

    def session(region_name="us-east-1", **_):  # moto 5.2.5 has no sesv2 GetAccount
        stubbed = StubbedSession(region_name)
        ses = stubbed.stub("sesv2")
        ses.add_client_error(
            "get_email_identity", service_error_code="NotFoundException", http_status_code=404
        )
        ses.add_response("get_account", {"ProductionAccessEnabled": True})
        return stubbed

    monkeypatch.setattr("deployment.preflight.Session", session)
    main(["MyBlog", "--assembly", str(synthesized)])
    output = capsys.readouterr().out
    assert output.index("== AccountBaseline (AccountBaseline, deployed first") < output.index(
        "== MyBlog (MyBlog-dev)"
    )
    blog = output[output.index("== MyBlog") :]
    assert re.search(
        r"^NOTE  account baseline .*AccountBaseline, which this deploy creates "
        r"first, sets it",
        blog,
        re.MULTILINE,
    )
    main(["MyBlog", "--assembly", str(synthesized), "--exclusively"])
    alone = capsys.readouterr().out
    assert "== " not in alone and re.search(r"^FAIL  account baseline", alone, re.MULTILINE)


def test_an_unknown_stack_lists_the_stacks(synthesized, capsys):
    assert main(["NoSuchStack", "--assembly", str(synthesized)]) == 2
    error = capsys.readouterr().err
    assert "no stack 'NoSuchStack'" in error and "FargateService" in error


def test_a_missing_assembly_says_to_synthesize(tmp_path, capsys):
    assert main(["MyBlog", "--assembly", str(tmp_path / "nowhere")]) == 2
    assert "synthesize first" in capsys.readouterr().err


def test_no_credentials_is_one_clean_line(tmp_path, monkeypatch, capsys):
    stack = write_assembly(tmp_path / "cdk.out", {"Resources": {}})
    without_credentials(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert main([stack.id, "--assembly", str(tmp_path / "cdk.out")]) == 1
    output = capsys.readouterr().out.strip().splitlines()
    assert output == [
        f"FAIL  credentials         no AWS credentials found -> {checks.NO_CREDENTIALS_FIX}"
    ]


def test_a_profile_that_does_not_exist_is_one_clean_line(tmp_path, monkeypatch, capsys):
    write_assembly(tmp_path / "cdk.out", {"Resources": {}})
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_PROFILE", "missing")
    assert main(["Blueprint", "--assembly", str(tmp_path / "cdk.out")]) == 1
    [line] = capsys.readouterr().out.strip().splitlines()
    assert line.startswith("FAIL  credentials") and "missing" in line


def test_credentials_only_is_silent_with_credentials_and_one_line_without(
    aws, synthesized, tmp_path, monkeypatch, capsys
):
    """What `make diff` and `make destroy` run first."""
    assert main(["MyBlog", "--assembly", str(synthesized), "--credentials-only"]) == 0
    assert capsys.readouterr().out == ""
    without_credentials(monkeypatch, tmp_path)
    assert main(["MyBlog", "--assembly", str(synthesized), "--credentials-only"]) == 1
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line.startswith("FAIL  credentials") and "docs/deploying.md" in line
