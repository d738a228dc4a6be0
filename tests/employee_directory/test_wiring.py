"""Both front ends as their templates wire them, in moto with IAM enforced (front_ends.py): the
same journey (journey.py) through the serverless stack's functions and through the classic
stack's app answers the same, every answer as the contract says, bad requests changing nothing,
and each template's roles allow exactly what the journey needs: removing any one grant fails it.
"""

from __future__ import annotations

import re

import pytest

from blueprints.employee_directory.data import OPERATION_GRANTS, PREFIXES
from blueprints.employee_directory.stack import CLASSIC_STACK_ID, SERVERLESS_STACK_ID
from patterns.compute.web_tier import SESSION_MANAGER_CHANNELS
from tests.employee_directory.front_ends import ClassicApp, ServerlessApi
from tests.employee_directory.journey import walk
from tests.support import grant_mutation
from tests.support.iam_enforcement import enforced
from tests.support.iam_refusals import attempt
from tests.support.iam_statements import as_list
from tests.support.lambda_service import LOG_STEPS, TRACING_STEPS


def serverless(assembly, local_stack) -> ServerlessApi:
    return ServerlessApi(local_stack(assembly, SERVERLESS_STACK_ID))


def classic(assembly, local_stack) -> ClassicApp:
    return ClassicApp(local_stack(assembly, CLASSIC_STACK_ID))


def test_both_front_ends_answer_the_journey_alike_and_as_the_contract_says(assembly, local_stack):
    first = walk(serverless(assembly, local_stack))
    second = walk(classic(assembly, local_stack))
    assert first == second


def test_every_operation_of_the_serverless_api_runs_its_own_function(assembly, local_stack):
    from blueprints.employee_directory.contract import contract, handler_module

    api = serverless(assembly, local_stack)
    functions = {api.route(o).function for o in contract.operations()}
    assert len(functions) == len(contract.operations()), "one function per operation"
    for operation_id in contract.operations():
        function = api.function(operation_id)
        assert function.module_name == handler_module(operation_id)
        assert function.lambda_service_calls() == LOG_STEPS + TRACING_STEPS


def test_the_classic_app_needs_no_sign_in_its_network_is_the_guard(assembly, local_stack):
    app = classic(assembly, local_stack)
    assert "HR_ADMIN_GROUP" not in app.environment
    from tests.employee_directory.events import NEW_EMPLOYEE

    assert app.call("createEmployee", body=NEW_EMPLOYEE, claims=None).status == 201


def test_serverless_writes_need_the_authorizer_when_hr_admin_is_on(assembly, local_stack):
    from tests.employee_directory.events import EMPLOYEE, NEW_EMPLOYEE

    api = serverless(assembly, local_stack)
    on = assembly.settings("employee-directory").hr_admin
    anonymous = api.call("createEmployee", body=NEW_EMPLOYEE, claims=None)
    staff = api.call("createEmployee", body=NEW_EMPLOYEE, claims=EMPLOYEE)
    if on:
        assert (anonymous.status, anonymous.body["code"]) == (401, "NotAuthenticated")
        assert (staff.status, staff.body["code"]) == (403, "NotHrAdmin")
    else:
        assert anonymous.status == staff.status == 201


# -- least privilege, by execution ---------------------------------------------------------------

HOUSE_LAMBDA_GRANTS = {"logs:CreateLogStream", "logs:PutLogEvents"} | {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}
DATA_GRANTS = [(o, w, a) for o, grants in OPERATION_GRANTS.items() for w, a in grants]


def where_of(statement: dict) -> str:
    """Which part of the data a statement's resource is (data.py's names)."""
    text = str(statement["Resource"])
    for where, prefix in PREFIXES.items():
        if prefix in text:
            return where
    return "index" if "/index/" in text else "table"


def mutation_of(template: dict, stack_id: str, role: str, where: str, action: str):
    (found,) = [
        m
        for m in grant_mutation.grants_of(template, stack_id, role)
        if m.action == action
        and where_of(as_list(_document(template, m)["Statement"])[m.statement_index]) == where
    ]
    return found


def _document(template: dict, mutation) -> dict:
    return template["Resources"][mutation.policy_logical_id]["Properties"]["PolicyDocument"]


def function_role(template: dict, operation_id: str) -> str:
    name = operation_id[0].upper() + operation_id[1:]
    return grant_mutation.role_of(template, grant_mutation.by_path(template, f"Api/{name}"))


def test_each_function_role_holds_its_operations_grants_and_the_house_lambdas_only(assembly):
    template = assembly.template(SERVERLESS_STACK_ID)
    for operation_id, grants in OPERATION_GRANTS.items():
        role = function_role(template, operation_id)
        held = {
            (m.action, where_of(as_list(_document(template, m)["Statement"])[m.statement_index]))
            for m in grant_mutation.grants_of(template, SERVERLESS_STACK_ID, role)
            if m.action not in HOUSE_LAMBDA_GRANTS
        }
        assert held == {(a, w) for w, a in grants}, operation_id


@pytest.mark.parametrize(("operation_id", "where", "action"), DATA_GRANTS)
def test_without_any_one_grant_of_a_function_the_journey_fails_there(
    synth, local_stack, operation_id, where, action
):
    assembly = synth("dev")
    template = assembly.template(SERVERLESS_STACK_ID)
    role = function_role(template, operation_id)
    mutation = mutation_of(template, SERVERLESS_STACK_ID, role, where, action)
    with grant_mutation.active(mutation):
        api = serverless(assembly, local_stack)
    outcome = attempt(walk, api)
    assert outcome.failed and action in outcome.refused_actions, (mutation, outcome.error)


def classic_needs(app: ClassicApp) -> list[tuple[str, str]]:
    """(where, action) of everything the instance role's own policies must allow: what the app
    does (every operation), the boot's read of the asset, the agent's log writes."""
    needs = sorted({(w, a) for _, w, a in DATA_GRANTS})
    needs.append(("asset", "s3:GetObject"))
    if "amazon-cloudwatch-agent" in app.user_data:
        needs += [("logs", "logs:CreateLogStream"), ("logs", "logs:PutLogEvents")]
    return needs


def boot_and_walk(app: ClassicApp) -> None:
    """What an instance does with its role: read the asset at boot (`aws s3 cp`), ship the app's
    log (the CloudWatch agent), serve the journey."""
    bucket, key = re.search(r"'s3://([^/]+)/([0-9a-f]{64}\.zip)'", app.user_data).groups()
    credentials = app.credentials  # made (IAM set up in moto) before enforcement begins
    s3 = app.stack.client("s3")
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)  # the CDK bootstrap's asset bucket, with the asset
        s3.put_object(Bucket=bucket, Key=key, Body=b"PK")
    with enforced():
        credentials.client("s3").get_object(Bucket=bucket, Key=key)
    if "amazon-cloudwatch-agent" in app.user_data:
        group = re.search(r'"log_group_name":"([^"]+)"', app.user_data)[1]
        logs = credentials.client("logs")
        with enforced():
            logs.create_log_stream(logGroupName=group, logStreamName="i-0123456789abcdef0")
            logs.put_log_events(
                logGroupName=group,
                logStreamName="i-0123456789abcdef0",
                logEvents=[{"timestamp": 1_796_000_000_000, "message": "started"}],
            )
    walk(app)


def classic_where(statement: dict) -> str:
    text = str(statement["Resource"])
    if "log-group" in text or "LogGroup" in text or "AppLogs" in text:
        return "logs"
    if "cdk-hnb659fds-assets" in text or ".zip" in text:
        return "asset"
    return where_of(statement)


SESSION_MANAGER_SIDS = ("RegisterWithSessionManager", "SessionManagerChannels")


def test_the_instance_role_holds_the_directory_asset_and_log_grants_only(synth, local_stack):
    for stage in ("dev", "prod"):
        assembly = synth(stage)
        template = assembly.template(CLASSIC_STACK_ID)
        app = classic(assembly, local_stack) if stage == "dev" else None
        role = grant_mutation.by_path(template, "Web/InstanceRole")
        statements = [
            (as_list(_document(template, m)["Statement"])[m.statement_index], m.action)
            for m in grant_mutation.grants_of(template, CLASSIC_STACK_ID, role)
        ]
        held = sorted(
            (classic_where(statement), action)
            for statement, action in statements
            if statement.get("Sid") not in SESSION_MANAGER_SIDS
        )
        if app is not None:
            assert held == sorted(classic_needs(app)), stage
        # Session Manager is the operators' shell, not the app's: no journey drives it.
        assert sorted(a for st, a in statements if st.get("Sid") in SESSION_MANAGER_SIDS) == (
            sorted(["ssm:UpdateInstanceInformation", *SESSION_MANAGER_CHANNELS])
        ), stage
        assert "ManagedPolicyArns" not in template["Resources"][role]["Properties"], stage


def test_the_classic_instance_boots_and_serves_as_its_role(synth, local_stack):
    boot_and_walk(classic(synth("dev"), local_stack))


CLASSIC_GRANTS = [
    *sorted({(w, a) for _, w, a in DATA_GRANTS}),
    ("asset", "s3:GetObject"),
    ("logs", "logs:CreateLogStream"),
    ("logs", "logs:PutLogEvents"),
]


@pytest.mark.parametrize(("where", "action"), CLASSIC_GRANTS)
def test_without_any_one_grant_of_the_instance_role_an_instance_fails(
    synth, local_stack, where, action
):
    assembly = synth("dev")
    template = assembly.template(CLASSIC_STACK_ID)
    role = grant_mutation.by_path(template, "Web/InstanceRole")
    (mutation,) = [
        m
        for m in grant_mutation.grants_of(template, CLASSIC_STACK_ID, role)
        if m.action == action
        and classic_where(as_list(_document(template, m)["Statement"])[m.statement_index]) == where
    ]
    with grant_mutation.active(mutation):
        app = classic(assembly, local_stack)
    outcome = attempt(boot_and_walk, app)
    assert outcome.failed and action in outcome.refused_actions, (mutation, outcome.error)
