"""The smoke runner: the registry, skips and missing outputs for every smoke, the deadline, the
CLI against a cloud assembly and moto's CloudFormation, and the AccountBaseline smoke."""

from __future__ import annotations

import json
import re
import signal
import sys
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
    tiny_png,
)
from tests.deployment.test_smoke_fakes import run, statuses
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


def test_every_deployable_stack_has_a_smoke():
    assert set(SMOKES) == documented_stack_ids()


def test_an_unknown_stack_is_a_clean_error_listing_the_known_ones():
    with pytest.raises(UnknownStack, match="known stacks: AccountBaseline, MyTodoList, MyBlog"):
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
            "MyBlog",
            {},
            boto3.Session(region_name="us-east-1"),
            skip={"teleport"},
            deadline=time.monotonic() + 1,
        )


@pytest.mark.parametrize("stack_id", sorted(SMOKES))
def test_without_outputs_every_step_reading_one_fails_naming_it(stack_id, aws):
    """Also with every capability skipped, as in a rehearsal: output presence is checkable."""
    results, lines, seconds = run(stack_id, {}, skip=LOCAL_ENDPOINT_SKIP, timeout=2)
    failed = [r for r in results.values() if r.status == "FAIL"]
    assert failed, lines
    for result in failed:
        assert "the stack has no output '" in result.detail, result.line
    assert not any(r.status == "PASS" for r in results.values()), lines
    assert seconds < 10


@pytest.mark.parametrize("stack_id", sorted(SMOKES))
def test_a_skipped_step_says_which_capability_and_why(stack_id, aws):
    outputs = {
        name: "https://example.invalid/x"
        for name in (
            "ApiGatewayCloudWatchRoleArn",
            "ApiUrl",
            "UserPoolId",
            "UserPoolClientId",
            "IdentityPoolId",
            "UserFilesBucketName",
            "SiteUrl",
            "ApiBaseUrl",
            "MediaBucketName",
            "SmallLoadFunctionName",
            "StagingBucketName",
            "BulkLoadStateMachineArn",
            "ServiceUrl",
            "QueueUrl",
            "ManifestUrl",
            "UpdateBaseUrl",
        )
    }
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


def test_poll_gives_up_at_its_bound_without_sleeping_long():
    smoke = Smoke("X", {}, None, skip=set(), deadline=time.monotonic() + 5, poll_interval=0.01)
    started = time.monotonic()
    with pytest.raises(StepFailed, match="the thing: still not after"):
        smoke.poll("the thing", lambda: None, interval=30, within=0.2)
    assert time.monotonic() - started < 1


def test_a_unix_time_deadline_is_understood():
    assert abs(monotonic_deadline(time.time() + 100) - (time.monotonic() + 100)) < 1
    assert monotonic_deadline(1234.5) == 1234.5


def test_the_generated_png_is_one_the_thumbnail_function_accepts():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "smoke_thumbnails", REPO_ROOT / "lambda_src" / "thumbnail" / "thumbnails.py"
    )
    thumbnails = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = thumbnails  # its dataclass looks the module up while being built
    spec.loader.exec_module(thumbnails)
    thumbnail = thumbnails.make_thumbnail(tiny_png(), 256)
    assert thumbnail.source_format == "PNG" and thumbnail.data.startswith(b"\xff\xd8")


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
    assert smoke_cli.main(["MyBlog", "--assembly", str(assembly_dir)]) == 2
    assert "no stack 'MyBlog'" in capsys.readouterr().err
    assert smoke_cli.main(["MyBlog", "--assembly", str(assembly_dir / "missing")]) == 2
    assert "synthesize first" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        smoke_cli.main(["MyBlog", "--skip", "http,teleport"])
    assert exit_info.value.code == 2
    assert "unknown capability teleport" in capsys.readouterr().err


# -- against a local endpoint, as the deploy rehearsal calls it ---------------------------------


@pytest.fixture
def moto_server(monkeypatch):
    """moto in server mode on a free port, with dummy credentials and no in-process mock: every
    client the smoke makes must go to endpoint_url or fail."""
    import socket

    from moto.server import ThreadedMotoServer

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://localhost:{port}"
    server.stop()


def test_run_smoke_against_a_local_endpoint_uses_it_for_every_call(moto_server):
    session = boto3.Session(region_name="us-east-1")
    iam = session.client("iam", endpoint_url=moto_server)
    arn = iam.create_role(
        RoleName="AccountBaseline-Logs", AssumeRolePolicyDocument=json.dumps(APIGW_TRUST)
    )["Role"]["Arn"]
    session.client("apigateway", endpoint_url=moto_server).update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": arn}]
    )
    s3 = session.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket="myblog-dev-media")
    said: list[str] = []
    for stack_id, outputs in (
        ("AccountBaseline", {"ApiGatewayCloudWatchRoleArn": arn}),
        (
            "MyBlog",
            {
                "SiteUrl": "https://d111.cloudfront.net",
                "ApiBaseUrl": "https://x/api/",
                "MediaBucketName": "myblog-dev-media",
            },
        ),
    ):
        results = run_smoke(
            stack_id,
            outputs,
            session,
            skip=LOCAL_ENDPOINT_SKIP,
            deadline=time.time() + 30,
            endpoint_url=moto_server,
            say=said.append,
        )
        assert not [r for r in results if r.status == "FAIL"], said
    assert "PASS upload-photo: s3://myblog-dev-media/uploads/smoke-" in "\n".join(said)
    assert s3.list_objects_v2(Bucket="myblog-dev-media").get("KeyCount") == 0


# -- the real templates (the reviewed snapshots of the stacks) ------------------------------------


def snapshot_templates() -> list[tuple[str, str, dict]]:
    """(stack id, stage, template) for every stack snapshot the blueprint tests keep."""
    found = []
    for path in sorted(REPO_ROOT.glob("tests/*/__snapshots__/*/*.json")):
        match = re.search(r"\[(\w+)-(dev|prod)\]\.json$", path.name)
        if match and match[1] in SMOKES:
            found.append((match[1], match[2], json.loads(path.read_text())))
    return found


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
    assert covered == set(SMOKES) - {"AccountBaseline", "MyBlogEdge", "UpdateOffloadEdge"}
    source = (REPO_ROOT / "house" / "account_baseline.py").read_text()
    assert '"ApiGatewayCloudWatchRoleArn"' in source


def test_the_template_readers_find_what_the_real_templates_say():
    from deployment.smoke_blog import DEFAULT_PREFIXES
    from deployment.smoke_support import lambda_environment, resource_properties

    for stack_id, _, template in snapshot_templates():
        if stack_id == "MyBlog":
            assert lambda_environment(template, *DEFAULT_PREFIXES) == DEFAULT_PREFIXES
        if stack_id == "FargateService":
            paths = [
                p.get("HealthCheckPath")
                for p in resource_properties(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
            ]
            assert paths == ["/health"]
