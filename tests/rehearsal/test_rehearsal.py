"""Deploy rehearsal: the real CDK CLI (`npx cdk bootstrap`, `npx cdk deploy`) against a local
AWS endpoint (moto in server mode), for every dev stack whose resource types it models.

    make rehearse          # = .venv/bin/python -m pytest -m rehearsal tests/rehearsal

The path is the user's (docs/deploying.md): bootstrap, the AccountBaseline stack, then for each
instance in cdk.json whose blueprint is in BLUEPRINTS, each of its stacks: `make preflight`
(its checks, with FIX=1), `make deploy` and `make smoke` (the steps the local endpoint can
answer). The local endpoint keeps API Gateway's account state (see local_endpoint.py), so a
logging API stage is refused until the baseline has set the account's CloudWatch Logs role, as
AWS refuses it: the first test shows the preflight predicting that refusal and the deploy of a
stack with such a stage (the smallest) without the baseline failing exactly so.

What it proves: the CLI can synthesize, publish the assets of, and create each stack from
scratch, in dependency order, with the template and parameters it produces; every output is
present and well formed; every function built from an asset exists with the runtime,
architecture and environment the template gives it. What it cannot prove is listed per run
(resource types moto only pretends to create, custom resources answered by the stand-in) and
in docs/deploying.md. No internet, no Docker and no AWS account are needed.
"""

from __future__ import annotations

import contextlib
import graphlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from moto.cloudformation.parsing import get_model_map

from deployment.assembly import Assembly
from deployment.preflight import format_report, run_checks
from deployment.preflight_checks import FAIL
from deployment.preflight_needs import logging_api_stages
from deployment.smoke import LOCAL_ENDPOINT_SKIP, run_smoke
from tests.rehearsal.local_endpoint import NO_CLOUDWATCH_ROLE, STAND_IN_TYPES
from tests.support.synth import REPO_ROOT, instances_in, registered

pytestmark = pytest.mark.rehearsal

ACCOUNT, REGION = "123456789012", "us-east-1"
# Blueprints the local endpoint cannot deploy, and why.
LEFT_OUT = {
    "neptune-graph": "moto has no CloudFormation support for AWS::Neptune::* (DBCluster, "
    "DBInstance, DBSubnetGroup, parameter groups)",
}


def rehearsed_instances() -> list[str]:
    """The dev instances of cdk.json that the app builds (blueprint in BLUEPRINTS) and the local
    endpoint can deploy: what a user of this repository would deploy, whatever they forked."""
    from house.settings import declared_instances

    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return [
        key
        for key, blueprint in declared_instances(context).items()
        if blueprint in registered() and blueprint not in LEFT_OUT
    ]


REHEARSED = rehearsed_instances()
# Every instance with its shipped settings: the Fargate image is built by CodeBuild during the
# deploy (no Docker here); the stand-in answers that build's custom resource with a tag.
# The EKS endpoint's allow-list is set as a user must set it (the shipped one is a documentation
# range, which the preflight refuses).
CONTEXT = {"stage": "dev", "blueprints_only": ",".join(REHEARSED)}
if "eks-cluster" in REHEARSED:
    CONTEXT["eks-cluster.public_access_cidrs"] = "198.18.0.1/32"
SECONDS_PER_DEPLOY = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cli_environment(port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")
    }
    env.update(
        {
            # localhost, not 127.0.0.1: moto resolves the template URL path-style only for a host
            # name (with an IP it looks for a bucket named "127").
            "AWS_ENDPOINT_URL": f"http://localhost:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_DEFAULT_ACCOUNT": ACCOUNT,
            "CDK_DEFAULT_REGION": REGION,
            "PATH": os.pathsep.join(
                [
                    str(REPO_ROOT / "node_modules" / ".bin"),
                    str(REPO_ROOT / ".venv" / "bin"),
                    env["PATH"],
                ]
            ),
        }
    )
    return env


def _cdk(
    env: dict,
    cwd: Path,
    *args: str,
    timeout: int = SECONDS_PER_DEPLOY,
    expect_failure: bool = False,
) -> subprocess.CompletedProcess:
    command = [str(REPO_ROOT / "node_modules" / ".bin" / "cdk"), *args]
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if expect_failure:
        assert result.returncode != 0, f"`cdk {' '.join(args)}` succeeded but should have failed"
    else:
        assert result.returncode == 0, (
            f"`cdk {' '.join(args)}` failed ({result.returncode}):\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        )
    return result


@pytest.fixture(scope="module")
def endpoint():
    """A fresh local endpoint per run (a failed stack leaves moto answering 500 afterwards),
    stopped on every exit path: the fixture finalizer runs on failure and on Ctrl-C too."""
    port = _free_port()
    (REPO_ROOT / ".cache").mkdir(exist_ok=True)
    log = open(REPO_ROOT / ".cache" / "rehearsal-endpoint.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.rehearsal.local_endpoint", str(port)],
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**_cli_environment(port), "MOTO_PORT": str(port)},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"local endpoint did not start; see {log.name}") from None
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def rehearsal(endpoint, tmp_path_factory, pytestconfig):
    """Bootstrap once, synthesize once; every stack is then deployed from that assembly."""
    env = _cli_environment(endpoint)
    started = time.monotonic()
    # The CLI runs in a scratch folder with a copy of cdk.json, so the AZ lookups it makes for
    # the fake account are cached there, not in the repository's cdk.context.json.
    workdir = tmp_path_factory.mktemp("rehearsal-cwd")
    settings = json.loads((REPO_ROOT / "cdk.json").read_text())
    settings["app"] = f"{REPO_ROOT / '.venv' / 'bin' / 'python'} {REPO_ROOT / 'app.py'}"
    (workdir / "cdk.json").write_text(json.dumps(settings))
    _cdk(env, workdir, "bootstrap", f"aws://{ACCOUNT}/{REGION}", "--no-notices")
    assembly = tmp_path_factory.mktemp("cdk.out.rehearsal")
    context = [arg for key, value in CONTEXT.items() for arg in ("-c", f"{key}={value}")]
    _cdk(env, workdir, "synth", "--quiet", "--no-notices", "--output", str(assembly), *context)
    manifest = json.loads((assembly / "manifest.json").read_text())
    state = {
        "env": env,
        "workdir": workdir,
        "assembly": assembly,
        "manifest": manifest,
        "instances": instances_in(assembly),
        "timings": {},
        "bootstrap_and_synth": time.monotonic() - started,
        "unmodelled": {},
        "functions": {},
        "preflight": [],
        "smoke": {},
    }
    yield state
    pytestconfig.rehearsal_report = _report(state)  # printed by conftest's terminal summary


def _report(state: dict) -> list[str]:
    lines = [
        "",
        "=== deploy rehearsal (real CDK CLI -> local moto endpoint) ===",
        f"bootstrap + synth: {state['bootstrap_and_synth']:.1f} s",
    ]
    if "refused_without_baseline" in state:
        lines.append(f"without AccountBaseline: {state['refused_without_baseline']}")
    lines += [
        f"deploy {stack}: {seconds:.1f} s, CREATE_COMPLETE, outputs checked, "
        f"{state['functions'].get(stack, 0)} asset-built Python functions checked"
        for stack, seconds in state["timings"].items()
    ]
    lines += [f"preflight {line.removeprefix('preflight ')}" for line in state["preflight"]]
    lines += [f"smoke {stack}: {summary}" for stack, summary in state["smoke"].items()]
    lines += [
        f"left out: {blueprint} ({why})"
        for blueprint, why in LEFT_OUT.items()
        if blueprint in registered()
    ]
    for stack, types in state["unmodelled"].items():
        lines.append(f"{stack}: not really created by the local endpoint: {', '.join(types)}")
    for stack, types in state.get("stand_ins", {}).items():
        lines.append(f"{stack}: created by stand-ins through moto's APIs: {', '.join(types)}")
    return lines


def _template(state: dict, stack_id: str) -> dict:
    artifact = state["manifest"]["artifacts"][stack_id]
    return json.loads((state["assembly"] / artifact["properties"]["templateFile"]).read_text())


def unmodelled_types(template: dict) -> list[str]:
    """Resource types moto's CloudFormation marks as created without creating anything, and
    custom resources (answered by the stand-in in local_endpoint.py without running)."""
    modelled = get_model_map()
    types = {r["Type"] for r in template["Resources"].values()}
    return sorted(t for t in types if t not in modelled and t != "AWS::CDK::Metadata")


def _deploy(rehearsal: dict, stack_id: str, **kwargs) -> subprocess.CompletedProcess:
    """`cdk deploy <stack> --exclusively`: each stack on its own, in the order the tests give."""
    return _cdk(
        rehearsal["env"],
        rehearsal["workdir"],
        "deploy",
        stack_id,
        "--exclusively",
        "--app",
        str(rehearsal["assembly"]),
        "--method=direct",
        "--require-approval",
        "never",
        "--no-notices",
        "--outputs-file",
        str(rehearsal["assembly"] / f"{stack_id}.outputs.json"),
        **kwargs,
    )


def _stack_name(rehearsal: dict, stack_id: str) -> str:
    return rehearsal["manifest"]["artifacts"][stack_id]["properties"].get("stackName", stack_id)


def _stack_dependencies(rehearsal: dict, stack_id: str) -> set[str]:
    """The stacks `stack_id` depends on (its asset artifacts left out)."""
    artifacts = rehearsal["manifest"]["artifacts"]
    return {
        d
        for d in artifacts[stack_id].get("dependencies", [])
        if artifacts[d]["type"] == "aws:cloudformation:stack"
    }


def _logging_stack(rehearsal: dict) -> str:
    """The smallest rehearsed stack with a logging API stage (the baseline's reason to be) that
    needs no stack but the baseline (one that reads another's SSM parameters cannot be created
    before that other exists, whatever the baseline)."""
    candidates = [
        stack_id
        for built in rehearsal["instances"].values()
        for stack_id in built["stacks"]
        if logging_api_stages(_template(rehearsal, stack_id))
        and _stack_dependencies(rehearsal, stack_id) <= {"AccountBaseline"}
    ]
    if not candidates:
        pytest.skip("no rehearsed stack has an API stage that logs")
    return min(candidates, key=lambda s: len(_template(rehearsal, s)["Resources"]))


def test_a_logging_api_stage_is_refused_before_the_account_baseline(rehearsal):
    """Leaving out the baseline fails the way a real first deploy fails: API Gateway refuses
    the stage, CloudFormation rolls the stack back, the CLI prints API Gateway's message."""
    stack_id = _logging_stack(rehearsal)
    assert "AccountBaseline" in rehearsal["manifest"]["artifacts"][stack_id]["dependencies"]
    predicted = [r for r in _preflight(rehearsal, stack_id, exclusively=True) if r.status == FAIL]
    assert [r.check for r in predicted] == ["account baseline"], [r.line() for r in predicted]
    result = _deploy(rehearsal, stack_id, expect_failure=True)
    assert NO_CLOUDWATCH_ROLE in result.stdout + result.stderr
    cloudformation = _client(rehearsal, "cloudformation")
    (stack,) = cloudformation.describe_stacks(StackName=_stack_name(rehearsal, stack_id))["Stacks"]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cloudformation.describe_stack_events(StackName=stack["StackName"])["StackEvents"]
    (failed,) = [e for e in events if e.get("ResourceStatus") == "CREATE_FAILED"]
    assert failed["ResourceType"] == "AWS::ApiGateway::Stage"
    rehearsal["refused_without_baseline"] = (
        f"{stack_id} ROLLBACK_COMPLETE, {failed['LogicalResourceId']}: "
        f"{failed['ResourceStatusReason']}"
    )


def test_account_baseline_sets_the_api_gateway_logging_role(rehearsal):
    failed = [r.line() for r in _preflight(rehearsal, "AccountBaseline") if r.status == FAIL]
    assert not failed, failed
    started = time.monotonic()
    _deploy(rehearsal, "AccountBaseline")
    rehearsal["timings"]["AccountBaseline"] = time.monotonic() - started
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in _client(rehearsal, "cloudformation").describe_stacks(StackName="AccountBaseline")[
            "Stacks"
        ][0]["Outputs"]
    }
    account = _client(rehearsal, "apigateway").get_account()
    assert account["cloudwatchRoleArn"] == outputs["ApiGatewayCloudWatchRoleArn"]
    failed = [r.line for r in _smoke(rehearsal, "AccountBaseline") if r.status == "FAIL"]
    assert not failed, failed


@pytest.mark.parametrize("instance", REHEARSED)
def test_instance_deploys_with_the_real_cli(rehearsal, instance):
    assert instance in rehearsal["instances"], f"{instance} is not in the dev assembly"
    stacks = rehearsal["instances"][instance]["stacks"]
    # Dependencies first (UpdateServer before the UpdateOffload that imports its export; the
    # bus, then Inventory, then the stock API, then Orders when the shop has its stock API).
    graph = {s: _stack_dependencies(rehearsal, s) & set(stacks) for s in stacks}
    for stack_id in graphlib.TopologicalSorter(graph).static_order():
        _deploy_and_check(rehearsal, stack_id)


def _deploy_and_check(rehearsal: dict, stack_id: str) -> None:
    template = _template(rehearsal, stack_id)
    failed = [r.line() for r in _preflight(rehearsal, stack_id) if r.status == FAIL]
    assert not failed, "preflight (with FIX=1) failed:\n" + "\n".join(failed)
    started = time.monotonic()
    _deploy(rehearsal, stack_id)
    rehearsal["timings"][stack_id] = time.monotonic() - started
    rehearsal["unmodelled"][stack_id] = unmodelled_types(template)
    stand_ins = sorted({r["Type"] for r in template["Resources"].values()} & set(STAND_IN_TYPES))
    if stand_ins:
        rehearsal.setdefault("stand_ins", {})[stack_id] = stand_ins

    stack_name = _stack_name(rehearsal, stack_id)
    cloudformation = _client(rehearsal, "cloudformation")
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    _check_outputs(stack, template, rehearsal["unmodelled"][stack_id])
    rehearsal["functions"][stack_id] = _check_functions(rehearsal, stack_name, template)
    failed = [r.line for r in _smoke(rehearsal, stack_id) if r.status == "FAIL"]
    assert not failed, "smoke failed:\n" + "\n".join(failed)


@pytest.mark.skipif("eks-cluster" not in REHEARSED, reason="eks-cluster is not rehearsed")
@pytest.mark.parametrize("compute", ["nodegroups", "fargate"])
def test_the_other_eks_compute_profiles_deploy_and_destroy(rehearsal, compute):
    """EksCluster with node groups, then with Fargate (each replacing the one before: one
    cluster name per stage), synthesized by the CLI with `-c eks-cluster.compute=...`: the
    preflight creates their service-linked roles, the deploy completes, the smoke reads the
    node groups / profiles back, and `cdk destroy` (after the teardown sweep) removes it."""
    assert "EksCluster" in rehearsal["timings"], "the Auto Mode profile is rehearsed first"
    env, workdir = rehearsal["env"], rehearsal["workdir"]
    variant = workdir.parent / f"cdk.out.eks-{compute}"
    context = {**CONTEXT, "blueprints_only": "eks-cluster", "eks-cluster.compute": compute}
    args = [arg for key, value in context.items() for arg in ("-c", f"{key}={value}")]
    _cdk(env, workdir, "synth", "--quiet", "--no-notices", "--output", str(variant), *args)
    previous = rehearsal.get("eks_assembly", rehearsal["assembly"])
    _teardown_and_destroy(rehearsal, previous)
    state = {
        **rehearsal,
        "assembly": variant,
        "manifest": json.loads((variant / "manifest.json").read_text()),
    }
    failed = [r.line() for r in _preflight(state, "EksCluster") if r.status == FAIL]
    assert not failed, "preflight (with FIX=1) failed:\n" + "\n".join(failed)
    started = time.monotonic()
    _deploy(state, "EksCluster")
    name = f"EksCluster ({compute})"
    rehearsal["timings"][name] = time.monotonic() - started
    template = json.loads((variant / "EksCluster.template.json").read_text())
    rehearsal["unmodelled"][name] = unmodelled_types(template)
    types = {r["Type"] for r in template["Resources"].values()}
    rehearsal.setdefault("stand_ins", {})[name] = sorted(types & set(STAND_IN_TYPES))
    rehearsal["eks_assembly"] = variant
    shipped = rehearsal["smoke"].get("EksCluster")
    results = _smoke(state, "EksCluster")
    rehearsal["smoke"][name] = rehearsal["smoke"].pop("EksCluster")
    if shipped:
        rehearsal["smoke"]["EksCluster"] = shipped
    failed = [r.line for r in results if r.status == "FAIL"]
    assert not failed, "smoke failed:\n" + "\n".join(failed)
    (compute_step,) = [r for r in results if r.step == "compute"]
    kind = "node group(s)" if compute == "nodegroups" else "Fargate profile(s)"
    assert compute_step.status == "PASS" and kind in compute_step.detail, compute_step.line


SHOP_STOCK = ("MicroservicesStock", "MicroservicesOrders")


@pytest.mark.skipif("microservices" not in REHEARSED, reason="microservices is not rehearsed")
def test_the_shops_stock_api_deploys_orders_calls_it_and_it_is_destroyed(rehearsal):
    """Dev ships no container service, so the instance test deploys no MicroservicesStock. Here
    the CLI synthesizes the shop with `-c microservices.container_service=true` (the stock API
    on Fargate, plain HTTP from its VPC link to the internal ALB: dev has no domain), deploys
    MicroservicesStock beside the dev Bus and Inventory already deployed, then updates Orders
    to the version that reads the stock API's SSM parameters and may call its route; both
    pass the preflight and the smoke steps the local endpoint answers. Orders then goes back
    to the shipped dev version and `cdk destroy` removes the stock API."""
    assert {"MicroservicesInventory", "MicroservicesOrders"} <= set(rehearsal["timings"]), (
        "the shipped dev shop is rehearsed first"
    )
    env, workdir = rehearsal["env"], rehearsal["workdir"]
    variant = workdir.parent / "cdk.out.microservices-stock"
    context = {
        **CONTEXT,
        "blueprints_only": "microservices",
        "microservices.container_service": "true",
    }
    args = [arg for key, value in context.items() for arg in ("-c", f"{key}={value}")]
    _cdk(env, workdir, "synth", "--quiet", "--no-notices", "--output", str(variant), *args)
    state = {
        **rehearsal,
        "assembly": variant,
        "manifest": json.loads((variant / "manifest.json").read_text()),
    }
    assert "MicroservicesStock" in _stack_dependencies(state, "MicroservicesOrders")
    cloudformation = _client(rehearsal, "cloudformation")
    for stack_id in SHOP_STOCK:
        name = f"{stack_id} (container_service)"
        template = _template(state, stack_id)
        failed = [r.line() for r in _preflight(state, stack_id) if r.status == FAIL]
        assert not failed, "preflight (with FIX=1) failed:\n" + "\n".join(failed)
        started = time.monotonic()
        _deploy(state, stack_id)
        rehearsal["timings"][name] = time.monotonic() - started
        rehearsal["unmodelled"][name] = unmodelled_types(template)
        (stack,) = cloudformation.describe_stacks(StackName=_stack_name(state, stack_id))["Stacks"]
        created = "CREATE_COMPLETE" if stack_id == "MicroservicesStock" else "UPDATE_COMPLETE"
        assert stack["StackStatus"] == created
        _check_outputs(stack, template, rehearsal["unmodelled"][name])
        rehearsal["functions"][name] = _check_functions(state, stack["StackName"], template)
        shipped = rehearsal["smoke"].pop(stack_id, None)
        results = _smoke(state, stack_id)
        rehearsal["smoke"][name] = rehearsal["smoke"].pop(stack_id)
        if shipped:
            rehearsal["smoke"][stack_id] = shipped
        failed = [r.line for r in results if r.status == "FAIL"]
        assert not failed, "smoke failed:\n" + "\n".join(failed)
    # Orders holds the stock API's URL only as read at its deploy: back to the shipped version
    # (no stock check) first, then the stock API can go.
    _deploy(rehearsal, "MicroservicesOrders")
    _cdk(
        env,
        workdir,
        "destroy",
        "MicroservicesStock",
        "--exclusively",
        "--app",
        str(variant),
        "--force",
        "--no-notices",
    )
    stacks = cloudformation.list_stacks(StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE"])
    assert _stack_name(state, "MicroservicesStock") not in {
        s["StackName"] for s in stacks["StackSummaries"]
    }


def _teardown_and_destroy(rehearsal: dict, assembly: Path) -> None:
    """`make destroy STACK=EksCluster`: the teardown sweep, then `cdk destroy`."""
    from deployment import teardown

    with _local_aws(rehearsal):
        assert teardown.main(["EksCluster", "--assembly", str(assembly), "--timeout", "30"]) == 0
    _cdk(
        rehearsal["env"],
        rehearsal["workdir"],
        "destroy",
        "EksCluster",
        "--app",
        str(assembly),
        "--force",
        "--no-notices",
    )
    cloudformation = _client(rehearsal, "cloudformation")
    stacks = cloudformation.list_stacks(StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE"])
    assert "EksCluster-dev" not in {s["StackName"] for s in stacks["StackSummaries"]}


@contextlib.contextmanager
def _local_aws(rehearsal: dict):
    """boto3 in this process talks to the local endpoint, as the CLI does (AWS_ENDPOINT_URL)."""
    keys = (
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
    )
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: rehearsal["env"][k] for k in keys if k in rehearsal["env"]})
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    try:
        yield boto3.Session(region_name=REGION)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _preflight(rehearsal: dict, stack_id: str, *, exclusively: bool = False) -> list:
    """`make preflight STACK=<id> FIX=1`: the stacks the deploy would create, dependencies
    first; returns every result and keeps the report for the run's summary."""
    assembly = Assembly(rehearsal["assembly"])
    stacks = [assembly.stack(stack_id)] if exclusively else assembly.deploy_order(stack_id)
    results = []
    with _local_aws(rehearsal) as session:
        for position, stack in enumerate(stacks):
            checked = run_checks(
                stack, session, fix=True, deployed_first=frozenset(s.id for s in stacks[:position])
            )
            rehearsal["preflight"].append(format_report(checked, stack).splitlines()[-1])
            results += checked
    return results


def _smoke(rehearsal: dict, stack_id: str) -> list:
    """`make smoke STACK=<id>`, skipping what the local endpoint cannot answer (HTTP to
    CloudFront/ALBs, Cognito sign-in, Lambda code running, ...)."""
    stack = Assembly(rehearsal["assembly"]).stack(stack_id)
    (deployed,) = _client(rehearsal, "cloudformation").describe_stacks(StackName=stack.stack_name)[
        "Stacks"
    ]
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in deployed.get("Outputs", [])}
    with _local_aws(rehearsal) as session:
        results = run_smoke(
            stack_id,
            outputs,
            session,
            skip=LOCAL_ENDPOINT_SKIP,
            deadline=time.monotonic() + 120,
            endpoint_url=rehearsal["env"]["AWS_ENDPOINT_URL"],
            template=stack.template,
        )
    ran = [r for r in results if r.status != "SKIP"]
    rehearsal["smoke"][stack_id] = (
        f"{sum(r.status == 'PASS' for r in ran)} steps passed, "
        f"{len(results) - len(ran)} skipped (need real AWS)"
    )
    return results


def _client(rehearsal: dict, service: str):
    env = rehearsal["env"]
    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _check_outputs(stack: dict, template: dict, unmodelled: list[str]) -> None:
    """Every template output is there and non-empty; an output reading "None" is allowed only
    when it refers to a resource the endpoint does not model (it cannot give it an id)."""
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    assert set(outputs) == set(template.get("Outputs", {})), "outputs missing after deploy"
    for key, value in outputs.items():
        refers_to = _referenced_types(template["Outputs"][key]["Value"], template)
        if "None" in value.split("/") or value in ("", "None") or "None." in value:
            assert refers_to & set(unmodelled), (
                f"output {key} is {value!r} but refers only to modelled types {sorted(refers_to)}"
            )


def _referenced_types(value, template: dict) -> set[str]:
    found = set()
    if isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and arg in template["Resources"]:
                found.add(template["Resources"][arg]["Type"])
            elif key == "Fn::GetAtt":
                found.add(template["Resources"][arg[0]]["Type"])
            else:
                found |= _referenced_types(arg, template)
    elif isinstance(value, list):
        for item in value:
            found |= _referenced_types(item, template)
    return found


def _check_functions(rehearsal: dict, stack_name: str, template: dict) -> int:
    """Asset-built functions exist with the template's runtime, architecture and environment."""
    cloudformation, lambda_ = _client(rehearsal, "cloudformation"), _client(rehearsal, "lambda")
    summaries = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    deployed = {
        r["LogicalResourceId"]: r.get("PhysicalResourceId")
        for page in summaries
        for r in page["StackResourceSummaries"]
    }
    checked = 0
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] != "AWS::Lambda::Function" or "S3Key" not in props.get("Code", {}):
            continue
        if not str(props.get("Runtime", "")).startswith("python"):
            continue  # CDK's own custom-resource providers: not ours to check
        config = lambda_.get_function_configuration(FunctionName=deployed[logical_id])
        assert config["Runtime"] == props["Runtime"], logical_id
        assert config["Architectures"] == props.get("Architectures", ["x86_64"]), logical_id
        assert config["Handler"] == props["Handler"], logical_id
        expected = props.get("Environment", {}).get("Variables", {})
        actual = config.get("Environment", {}).get("Variables", {})
        assert set(actual) == set(expected), f"{logical_id}: environment keys differ"
        for key, value in expected.items():
            if isinstance(value, str):
                assert actual[key] == value, f"{logical_id}: {key}"
            else:
                assert actual[key] and actual[key] != "None", f"{logical_id}: {key} unresolved"
        checked += 1
    return checked
