"""MyTodoList wiring: the to-do handler runs from its synthesized asset (with the layer the
template attaches), with the environment the template sets and as the execution role the template
gives it (moto enforcing that role's policies), against the table the template declares (created
in moto with the template's key schema), behind the API routes the template defines. Dev and prod.

Prod sets DAX_ENDPOINT to the cluster's discovery URL. DAX's wire protocol cannot run here, so the
DAX client class is replaced by a stand-in that records how the layer built it and serves the
same boto3 resource API from moto's DynamoDB: this proves the endpoint reaches the DAX client
(not plain boto3) and that the handler's calls are ones the DAX client's resource API carries.
The stand-in also authorizes like DAX: dax:<Operation> on the cluster for the function's role,
then DynamoDB as the cluster's service role.
"""

from __future__ import annotations

import json

import boto3
import pytest

from tests.my_todo_list.events import api_event, header, json_body
from tests.support.apigateway import integration_invokes
from tests.support.dax import DaxStandIn, dax_stand_in  # noqa: F401 (fixture)
from tests.support.iam_enforcement import attempt
from tests.support.lambda_service import LOG_STEPS, TRACING_STEPS, VPC_STEPS

STACK = "MyTodoList"


@pytest.fixture
def todo_stack(assembly, local_stack, dax_stand_in):
    return local_stack(assembly, STACK)


def api_routes(stack) -> set[tuple[str, str]]:
    """(verb, resource path) of every non-OPTIONS method, rebuilt from the template's resources."""
    parts = {
        lid: stack.resources[lid]["Properties"]
        for lid in stack.of_type("AWS::ApiGateway::Resource")
    }

    def path(ref: dict) -> str:
        if "Ref" in ref and ref["Ref"] in parts:
            props = parts[ref["Ref"]]
            return path(props["ParentId"]) + "/" + props["PathPart"]
        return ""  # the RestApi's root resource

    return {
        (m["Properties"]["HttpMethod"], path(m["Properties"]["ResourceId"]))
        for m in (stack.resources[lid] for lid in stack.of_type("AWS::ApiGateway::Method"))
        if m["Properties"]["HttpMethod"] != "OPTIONS"
    }


def test_every_route_the_template_defines_invokes_this_handler(todo_stack):
    handler_id = todo_stack.logical_id("TodoApi/Handler", "AWS::Lambda::Function")
    assert api_routes(todo_stack) == {
        ("GET", "/todos"),
        ("POST", "/todos"),
        ("GET", "/todos/{todoId}"),
        ("PUT", "/todos/{todoId}"),
        ("DELETE", "/todos/{todoId}"),
    }
    for lid in todo_stack.of_type("AWS::ApiGateway::Method"):
        method = todo_stack.resources[lid]["Properties"]
        if method["HttpMethod"] != "OPTIONS":
            assert method["Integration"]["Type"] == "AWS_PROXY"
            assert handler_id in json.dumps(method["Integration"]["Uri"])
            integration_invokes(todo_stack, method["Integration"]["Credentials"], handler_id)


def test_create_list_update_delete_for_one_user_and_refused_for_another(assembly, todo_stack):
    handler = todo_stack.function("TodoApi/Handler")
    table_name = todo_stack.ref(todo_stack.logical_id("TodoApi/Table", "AWS::DynamoDB::Table"))
    assert handler.environment["TABLE_NAME"] == table_name
    assert any((d / "dynamodb_client.py").is_file() for d in handler.layer_dirs)
    dynamodb = boto3.client("dynamodb", region_name=todo_stack.region)

    def invoke(method: str, path: str, **kwargs) -> dict:
        return handler.invoke(api_event(method, path, **kwargs))

    def stored() -> list[dict]:
        return dynamodb.scan(TableName=table_name)["Items"]

    created = invoke(
        "POST", "/todos", user="alice", body={"title": "Pay rent", "dueDate": "2026-12-01"}
    )
    assert created["statusCode"] == 201, created
    todo = json_body(created)
    path = f"/todos/{todo['todoId']}"
    # The item sits in the template's table under the key schema the template declares.
    key = {"userId": {"S": "alice"}, "todoId": {"S": todo["todoId"]}}
    assert dynamodb.get_item(TableName=table_name, Key=key)["Item"]["title"] == {"S": "Pay rent"}

    listed = invoke(
        "GET", "/todos", user="alice", headers={"X-Last-Write": header(created, "X-Last-Write")}
    )
    assert [t["todoId"] for t in json_body(listed)["items"]] == [todo["todoId"]]

    updated = invoke("PUT", path, user="alice", body={"version": 1, "done": True})
    assert updated["statusCode"] == 200 and json_body(updated)["version"] == 2

    before = stored()
    for method, body in (
        ("GET", None),
        ("PUT", {"version": 2, "title": "mine now"}),
        ("DELETE", None),
    ):
        refused = invoke(method, path, user="mallory", body=body)
        assert refused["statusCode"] == 404, (method, refused)
    assert json_body(invoke("GET", "/todos", user="mallory"))["items"] == []
    assert stored() == before

    deleted = invoke("DELETE", path, user="alice")
    assert deleted["statusCode"] == 204
    assert stored() == []
    assert json_body(invoke("GET", "/todos", user="alice"))["items"] == []

    cluster = list(todo_stack.of_type("AWS::DAX::Cluster"))
    if assembly.settings("my-todo-list").dax:
        (cluster_id,) = cluster
        endpoint = todo_stack.get_att(cluster_id, "ClusterDiscoveryEndpointURL")
        assert endpoint.startswith("daxs://")  # the template asks for a TLS-only cluster
        assert handler.environment["DAX_ENDPOINT"] == endpoint
        assert DaxStandIn.made == [
            {"resource": {"endpoint_url": endpoint, "region_name": todo_stack.region}}
        ]
    else:
        assert cluster == [] and "DAX_ENDPOINT" not in handler.environment
        assert DaxStandIn.made == []


def test_bad_input_through_the_deployed_wiring_writes_nothing(todo_stack):
    handler = todo_stack.function("TodoApi/Handler")
    table_name = todo_stack.ref(todo_stack.logical_id("TodoApi/Table", "AWS::DynamoDB::Table"))
    for body in ("{oops", {"title": "x", "userId": "bob"}, {"title": "y" * 201}):
        response = handler.invoke(api_event("POST", "/todos", user="alice", body=body))
        assert response["statusCode"] == 400 and json_body(response)["message"]
    assert (
        boto3.client("dynamodb", region_name=todo_stack.region).scan(TableName=table_name)["Items"]
        == []
    )


def test_lambda_itself_does_its_part_with_the_function_role(assembly, todo_stack):
    """Logs into the function's log group, X-Ray segments, and with DAX (in the VPC) the
    network-interface calls: all made by Lambda with the function's execution role."""
    handler = todo_stack.function("TodoApi/Handler")
    assert handler.in_vpc == assembly.settings("my-todo-list").dax
    assert handler.lambda_service_calls() == LOG_STEPS + (
        TRACING_STEPS if handler.traced else []
    ) + (VPC_STEPS if handler.in_vpc else [])


# -- one grant less: the path that needs it fails with AccessDenied --------------------------------


def updated_without(assembly, stack_without_grant, path: str, action: str):
    """Create a to-do, then try to update it, in the stack without that one grant."""
    stack = stack_without_grant(assembly, STACK, path, action)
    handler = stack.function("TodoApi/Handler")
    todo = json_body(handler.invoke(api_event("POST", "/todos", user="alice", body={"title": "x"})))
    return attempt(
        handler.invoke,
        api_event(
            "PUT", f"/todos/{todo['todoId']}", user="alice", body={"version": 1, "done": True}
        ),
    )


def test_without_update_item_a_todo_cannot_be_changed(assembly, stack_without_grant, dax_stand_in):
    """Dev updates the table directly; prod through DAX, which needs dax:UpdateItem."""
    action = {"dev": "dynamodb:UpdateItem", "prod": "dax:UpdateItem"}[assembly.stage]
    updated = updated_without(assembly, stack_without_grant, "TodoApi/Handler", action)
    assert updated.failed and updated.refused_actions == {action}


def test_in_prod_the_dax_clusters_own_role_must_be_allowed_to_write_the_table(
    synth, stack_without_grant, dax_stand_in
):
    updated = updated_without(
        synth("prod"), stack_without_grant, "TodoApi/Cache/ServiceRole", "dynamodb:UpdateItem"
    )
    assert updated.failed and updated.refused_actions == {"dynamodb:UpdateItem"}


def test_prod_break_glass_dax_endpoint_off_reaches_dynamodb_with_the_functions_own_grants(
    synth, local_stack, dax_stand_in
):
    """DAX_ENDPOINT="" on the deployed function (the layer's documented switch for an unhealthy
    cluster) sends every call to DynamoDB directly: the role's dynamodb:* grants are for this."""
    stack = local_stack(synth("prod"), STACK)
    handler = stack.function("TodoApi/Handler")
    assert handler.environment["DAX_ENDPOINT"].startswith("daxs://")
    handler.environment["DAX_ENDPOINT"] = ""
    created = json_body(
        handler.invoke(api_event("POST", "/todos", user="alice", body={"title": "Pay rent"}))
    )
    path = f"/todos/{created['todoId']}"
    assert handler.invoke(api_event("GET", path, user="alice"))["statusCode"] == 200
    listed = json_body(handler.invoke(api_event("GET", "/todos", user="alice")))
    assert [t["todoId"] for t in listed["items"]] == [created["todoId"]]
    assert (
        handler.invoke(api_event("PUT", path, user="alice", body={"version": 1, "done": True}))[
            "statusCode"
        ]
        == 200
    )
    assert handler.invoke(api_event("DELETE", path, user="alice"))["statusCode"] == 204
    assert DaxStandIn.made == []
