"""The smoke runner: the registry, skips and missing outputs for every smoke, the deadline, the
CLI against a cloud assembly and moto's CloudFormation, and the AccountBaseline smoke. (Each
blueprint's smoke is tested in its own folder, tests/<blueprint>/test_smoke.py.)"""

from __future__ import annotations

import json
import re
import signal
import time

import boto3
import pytest

from deployment import smoke as smoke_cli
from deployment.smoke import SMOKES, UnknownStack, run_smoke
from deployment.smoke_support import (
    CAPABILITIES,
    LOCAL_ENDPOINT_SKIP,
    Smoke,
    StepFailed,
    monotonic_deadline,
)
from tests.support.smoke_fakes import (  # noqa: F401 (fixtures)
    COMPANIONS,
    SteppedClock,
    moto_server,
    run,
    snapshot_templates,
    statuses,
)
from tests.support.synth import REPO_ROOT

APIGW_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def documented_stack_ids() -> set[str]:
    """Stack ids in the README's blueprint table, plus the account baseline."""
    table = (REPO_ROOT / "README.md").read_text().split("## Blueprints", 1)[1].split("##", 1)[0]
    ids = {
        i
        for row in table.splitlines()[2:]
        if row.startswith("|")
        for i in re.findall(r"`(\w+)`", row.split("|")[2])
    }
    baseline = (REPO_ROOT / "house" / "account_baseline.py").read_text()
    return ids | set(re.findall(r'^STACK_ID = "(\w+)"', baseline, re.M))


# A stack with a smoke besides the baseline (every blueprint has one).
BLUEPRINT_STACK = next(stack_id for stack_id in SMOKES if stack_id != "AccountBaseline")


def test_every_deployable_stack_has_a_smoke():
    assert set(SMOKES) == documented_stack_ids()


def test_an_unknown_stack_is_a_clean_error_listing_the_known_ones():
    with pytest.raises(UnknownStack, match=f"known stacks: {re.escape(', '.join(SMOKES))}$"):
        run_smoke(
            "MyStack",
            {},
            boto3.Session(region_name="us-east-1"),
            skip=set(),
            deadline=time.monotonic() + 1,
        )


def test_an_unknown_capability_is_refused():
    with pytest.raises(ValueError, match="unknown capability teleport"):
        run_smoke(
            BLUEPRINT_STACK,
            {},
            boto3.Session(region_name="us-east-1"),
            skip={"teleport"},
            deadline=time.monotonic() + 1,
        )


@pytest.mark.parametrize("stack_id", sorted(SMOKES))
def test_without_outputs_every_step_reading_one_fails_naming_it(stack_id, aws):
    """Also with every capability skipped, as in a rehearsal: output presence is checkable."""
    clock = SteppedClock()
    results, lines, _ = run(stack_id, {}, skip=LOCAL_ENDPOINT_SKIP, clock=clock)
    failed = [r for r in results.values() if r.status == "FAIL"]
    assert failed, lines
    for result in failed:
        assert "the stack has no output '" in result.detail, result.line
    assert not any(r.status == "PASS" for r in results.values()), lines
    assert clock.slept == 0  # nothing waited for an output that is not there


@pytest.mark.parametrize("stack_id", sorted(SMOKES))
def test_a_skipped_step_says_which_capability_and_why(stack_id, aws):
    # Every output any stack declares, so each step gets as far as its capability check.
    names = {"ApiGatewayCloudWatchRoleArn"}
    names |= {name for _, _, template in snapshot_templates() for name in template["Outputs"]}
    outputs = dict.fromkeys(names, "https://example.invalid/x")
    results, lines, _ = run(stack_id, outputs, skip=LOCAL_ENDPOINT_SKIP, timeout=2)
    for result in results.values():
        if result.status == "SKIP" and result.needs and set(result.needs) & LOCAL_ENDPOINT_SKIP:
            assert re.fullmatch(
                rf"SKIP [\w:-]+: needs ({'|'.join(CAPABILITIES)}) \(.+\)", result.line
            ), result.line
    assert [r.line for r in results.values()] == lines


def test_the_local_endpoint_skip_set_is_every_capability():
    assert LOCAL_ENDPOINT_SKIP == set(CAPABILITIES)


def test_a_step_after_the_deadline_fails_without_running_and_cleanups_still_run():
    said: list[str] = []
    smoke = Smoke("X", {}, None, skip=set(), deadline=time.monotonic() - 1, say=said.append)
    ran: list[str] = []
    smoke.cleanup("tidy", lambda: ran.append("tidy") or "tidied")
    assert smoke.step("late", lambda: ran.append("late")) is False
    smoke.finish()
    assert ran == ["tidy"]
    assert said == ["FAIL late: not started: the smoke's time is up", "PASS cleanup:tidy: tidied"]


def test_cleanups_run_last_owed_first_and_a_failing_one_is_a_fail():
    said: list[str] = []
    smoke = Smoke("X", {}, None, skip=set(), deadline=time.monotonic() + 5, say=said.append)
    smoke.cleanup("first", lambda: "one")
    smoke.cleanup("second", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    smoke.finish()
    assert said == ["FAIL cleanup:second: RuntimeError: boom", "PASS cleanup:first: one"]


def test_poll_gives_up_at_its_bound_never_sleeping_past_it():
    clock = SteppedClock()
    smoke = Smoke("X", {}, None, skip=set(), deadline=clock() + 300, sleep=clock.sleep, clock=clock)
    checks = []
    with pytest.raises(StepFailed, match="the thing: still not after 45"):
        smoke.poll("the thing", lambda: checks.append(clock()), interval=30, within=45)
    assert len(checks) == 3  # at 0, 30 and 45 s: the last pause is what was left
    assert 44 < clock.slept <= 45


def test_a_unix_time_deadline_is_understood():
    assert abs(monotonic_deadline(time.time() + 100) - (time.monotonic() + 100)) < 1
    assert monotonic_deadline(1234.5) == 1234.5


# -- AccountBaseline ------------------------------------------------------------------------------


def baseline_role(trust=APIGW_TRUST) -> str:
    return boto3.client("iam").create_role(
        RoleName="AccountBaseline-ApiGatewayLogsRole-ABC",
        AssumeRolePolicyDocument=json.dumps(trust),
    )["Role"]["Arn"]


def point_api_gateway_at(arn: str) -> None:
    boto3.client("apigateway", region_name="us-east-1").update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": arn}]
    )


def test_account_baseline_passes_when_api_gateway_names_the_role(aws):
    arn = baseline_role()
    point_api_gateway_at(arn)
    results, lines, _ = run("AccountBaseline", {"ApiGatewayCloudWatchRoleArn": arn})
    assert statuses(results) == {"logs-role": "PASS", "api-gateway-account": "PASS"}, lines


def test_account_baseline_fails_when_api_gateway_names_another_role(aws):
    arn = baseline_role()
    point_api_gateway_at("arn:aws:iam::123456789012:role/someone-elses")
    results, lines, _ = run("AccountBaseline", {"ApiGatewayCloudWatchRoleArn": arn})
    assert results["api-gateway-account"].status == "FAIL"
    assert "someone-elses" in results["api-gateway-account"].detail


def test_account_baseline_fails_when_the_role_does_not_trust_api_gateway(aws):
    arn = baseline_role(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    point_api_gateway_at(arn)
    results, _, _ = run("AccountBaseline", {"ApiGatewayCloudWatchRoleArn": arn})
    assert results["logs-role"].status == "FAIL"
    assert "does not trust apigateway.amazonaws.com" in results["logs-role"].detail


def test_account_baseline_fails_when_the_role_is_gone(aws):
    results, _, _ = run(
        "AccountBaseline",
        {"ApiGatewayCloudWatchRoleArn": "arn:aws:iam::123456789012:role/AccountBaseline-Gone"},
    )
    assert results["logs-role"].status == "FAIL"
    assert "NoSuchEntity" in results["logs-role"].detail


# -- the CLI --------------------------------------------------------------------------------------

BASELINE_TEMPLATE = {
    "Resources": {
        "ApiGatewayLogsRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": APIGW_TRUST},
        }
    },
    "Outputs": {
        "ApiGatewayCloudWatchRoleArn": {"Value": {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}}
    },
}


@pytest.fixture
def assembly_dir(tmp_path):
    (tmp_path / "AccountBaseline.template.json").write_text(json.dumps(BASELINE_TEMPLATE))
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    "AccountBaseline": {
                        "type": "aws:cloudformation:stack",
                        "environment": "aws://unknown-account/unknown-region",
                        "properties": {
                            "templateFile": "AccountBaseline.template.json",
                            "stackName": "AccountBaseline",
                        },
                    }
                }
            }
        )
    )
    return tmp_path


@pytest.fixture
def keep_sigterm():
    handler = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, handler)


def test_cli_reads_the_outputs_of_the_deployed_stack_and_exits_0(
    aws, assembly_dir, keep_sigterm, capsys
):
    boto3.client("cloudformation").create_stack(
        StackName="AccountBaseline", TemplateBody=json.dumps(BASELINE_TEMPLATE)
    )
    arn = boto3.client("cloudformation").describe_stacks(StackName="AccountBaseline")["Stacks"][0][
        "Outputs"
    ][0]["OutputValue"]
    point_api_gateway_at(arn)
    assert smoke_cli.main(["AccountBaseline", "--assembly", str(assembly_dir)]) == 0
    out = capsys.readouterr().out
    assert "PASS stack: AccountBaseline is CREATE_COMPLETE (1 outputs)" in out
    assert "PASS api-gateway-account" in out
    assert "AccountBaseline: 2 passed, 0 failed, 0 skipped" in out


def test_cli_exits_1_on_a_failed_step(aws, assembly_dir, keep_sigterm, capsys):
    boto3.client("cloudformation").create_stack(
        StackName="AccountBaseline", TemplateBody=json.dumps(BASELINE_TEMPLATE)
    )
    assert smoke_cli.main(["AccountBaseline", "--assembly", str(assembly_dir)]) == 1
    assert (
        "FAIL api-gateway-account: API Gateway's account settings name no role"
        in capsys.readouterr().out
    )


def test_cli_exits_1_when_the_stack_is_not_deployed(aws, assembly_dir, keep_sigterm, capsys):
    assert smoke_cli.main(["AccountBaseline", "--assembly", str(assembly_dir)]) == 1
    assert "FAIL stack: AccountBaseline:" in capsys.readouterr().out


def test_cli_usage_errors_exit_2(aws, assembly_dir, capsys):
    assert smoke_cli.main(["Nope", "--assembly", str(assembly_dir)]) == 2
    assert "known stacks: AccountBaseline" in capsys.readouterr().err
    assert smoke_cli.main([BLUEPRINT_STACK, "--assembly", str(assembly_dir)]) == 2
    assert f"no stack {BLUEPRINT_STACK!r}" in capsys.readouterr().err
    assert smoke_cli.main([BLUEPRINT_STACK, "--assembly", str(assembly_dir / "missing")]) == 2
    assert "synthesize first" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        smoke_cli.main([BLUEPRINT_STACK, "--skip", "http,teleport"])
    assert exit_info.value.code == 2
    assert "unknown capability teleport" in capsys.readouterr().err


# -- against a local endpoint, as the deploy rehearsal calls it ---------------------------------


def test_run_smoke_against_a_local_endpoint_uses_it_for_every_call(moto_server):
    """No in-process mock: a client that ignored endpoint_url would find no credentials that
    work. (tests/my_blog/test_smoke.py does the same for a smoke that writes to S3.)"""
    session = boto3.Session(region_name="us-east-1")
    iam = session.client("iam", endpoint_url=moto_server)
    arn = iam.create_role(
        RoleName="AccountBaseline-Logs", AssumeRolePolicyDocument=json.dumps(APIGW_TRUST)
    )["Role"]["Arn"]
    session.client("apigateway", endpoint_url=moto_server).update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": arn}]
    )
    said: list[str] = []
    results = run_smoke(
        "AccountBaseline",
        {"ApiGatewayCloudWatchRoleArn": arn},
        session,
        skip=LOCAL_ENDPOINT_SKIP,
        deadline=time.time() + 30,
        endpoint_url=moto_server,
        say=said.append,
    )
    assert [r.status for r in results] == ["PASS", "PASS"], said


# -- the real templates (the reviewed snapshots of the stacks) ------------------------------------


@pytest.mark.parametrize(
    "stack_id, stage, template", snapshot_templates(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_output_a_smoke_reads_is_one_the_stack_declares(stack_id, stage, template, aws):
    outputs = {name: f"https://example.invalid/{name}" for name in template["Outputs"]}
    results, lines, _ = run(
        stack_id, outputs, skip=LOCAL_ENDPOINT_SKIP, template=template, timeout=2
    )
    assert not [line for line in lines if "has no output" in line]


def test_every_blueprint_has_its_smoke_checked_against_a_real_template():
    covered = {stack_id for stack_id, _, _ in snapshot_templates()}
    # The baseline and the edge companions have no snapshot: test_smoke_edge.py covers those.
    assert covered == set(SMOKES) - {"AccountBaseline", *COMPANIONS}
    source = (REPO_ROOT / "house" / "account_baseline.py").read_text()
    assert '"ApiGatewayCloudWatchRoleArn"' in source
