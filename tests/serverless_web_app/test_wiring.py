"""ServerlessWebApp wiring: the ride-request handler runs from its synthesized asset with the
environment the template sets and as the execution role the template gives it (moto enforcing
that role's policies), against the table the template declares, behind the routes the template
defines. Both hosting modes, dev and prod.

Two users, one table, one role that may reach every item: the per-user guarantee is the
handler's. So the tests drive user B against user A's request by id (404 on GET, PATCH and
DELETE, nothing changed), and record every DynamoDB call the handler makes to check that its
key, or its key condition, names the caller's own partition and nobody else's.
"""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from tests.serverless_web_app.conftest import INSTANCES
from tests.serverless_web_app.events import ROOT, api_event, json_body, ride
from tests.support.apigateway import integration_invokes
from tests.support.iam_enforcement import attempt
from tests.support.lambda_service import LOG_STEPS, TRACING_STEPS

ALICE, BOB = "11111111-aaaa-4aaa-8aaa-111111111111", "22222222-bbbb-4bbb-8bbb-222222222222"


@pytest.fixture(params=sorted(INSTANCES))
def webapp(request, assembly, local_stack):
    return local_stack(assembly, INSTANCES[request.param])


class Calls:
    """Every DynamoDB call a role session's clients make: (operation, the caller's partition
    it names), as the handler asked for it (before boto3 serializes it)."""

    def __init__(self, session: boto3.Session) -> None:
        self.made: list[tuple[str, str]] = []
        session.events.register("provide-client-params.dynamodb", self._record)

    def _record(self, params, model, **_kwargs) -> None:
        if model.name in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
            key = params.get("Key") or params["Item"]
            self.made.append((model.name, key["userId"]))
        elif model.name == "Query":
            condition = params["KeyConditionExpression"].get_expression()
            attribute, value = condition["values"]
            assert (attribute.name, condition["operator"]) == ("userId", "=")
            start = params.get("ExclusiveStartKey")
            assert start is None or start["userId"] == value
            self.made.append((model.name, value))
        else:
            self.made.append((model.name, "<no key>"))


def test_every_route_the_template_defines_invokes_this_handler(webapp):
    handler_id = webapp.logical_id("Api/Handler", "AWS::Lambda::Function")
    seen = set()
    for lid in webapp.of_type("AWS::ApiGateway::Method"):
        method = webapp.resources[lid]["Properties"]
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert handler_id in json.dumps(method["Integration"]["Uri"])
        integration_invokes(webapp, method["Integration"]["Credentials"], handler_id)
        seen.add(method["HttpMethod"])
    assert seen == {"GET", "POST", "PATCH", "DELETE"}


def test_two_users_one_table_each_reaches_only_their_own_requests(webapp):
    handler = webapp.function("Api/Handler")
    table = webapp.ref(webapp.logical_id("Api/Table", "AWS::DynamoDB::Table"))
    assert handler.environment["TABLE_NAME"] == table
    calls = Calls(handler.credentials.session())
    dynamodb = boto3.client("dynamodb", region_name=webapp.region)

    def invoke(method: str, path: str, user: str, **kwargs) -> dict:
        return handler.invoke(api_event(method, path, user=user, **kwargs))

    key = str(uuid.uuid4())
    created = invoke("POST", ROOT, ALICE, key=key, body=ride())
    assert created["statusCode"] == 201, created
    again = invoke(
        "POST", ROOT, ALICE, key=key, body=ride() | {"pickupAt": json_body(created)["pickupAt"]}
    )
    assert again["statusCode"] == 201 and json_body(again) == json_body(created)
    stored = dynamodb.get_item(
        TableName=table, Key={"userId": {"S": ALICE}, "requestId": {"S": key}}
    )
    assert stored["Item"]["dropoff"] == {"S": "Airport"}
    assert "expiresAt" in stored["Item"]
    before = dynamodb.scan(TableName=table)["Items"]

    path = f"{ROOT}/{key}"
    for method in ("GET", "PATCH", "DELETE"):
        refused = invoke(method, path, BOB, body={"notes": "mine now"})
        assert refused["statusCode"] == 404, (method, refused)
        assert json_body(refused)["code"] == "NotFound"
    assert json_body(invoke("GET", ROOT, BOB))["items"] == []
    assert dynamodb.scan(TableName=table)["Items"] == before

    assert [r["requestId"] for r in json_body(invoke("GET", ROOT, ALICE))["items"]] == [key]
    assert invoke("PATCH", path, ALICE, body={"passengers": 2})["statusCode"] == 200
    assert invoke("DELETE", path, ALICE)["statusCode"] == 204
    assert dynamodb.scan(TableName=table)["Items"] == []

    # Every call, in order, names the caller's partition: the replay is answered from the failed
    # condition itself (no second read), Bob's four attempts stay in Bob's partition.
    assert calls.made == [
        ("PutItem", ALICE),
        ("PutItem", ALICE),
        ("GetItem", BOB),
        ("UpdateItem", BOB),
        ("DeleteItem", BOB),
        ("Query", BOB),
        ("Query", ALICE),
        ("UpdateItem", ALICE),
        ("DeleteItem", ALICE),
    ]


def test_a_bad_request_through_the_deployed_wiring_writes_nothing(webapp):
    handler = webapp.function("Api/Handler")
    table = webapp.ref(webapp.logical_id("Api/Table", "AWS::DynamoDB::Table"))
    for body, key in (
        ("{oops", str(uuid.uuid4())),
        (ride(userId=BOB), str(uuid.uuid4())),
        (ride(), None),
    ):
        response = handler.invoke(api_event("POST", ROOT, user=ALICE, body=body, key=key))
        assert response["statusCode"] == 400 and json_body(response)["message"]
    assert boto3.client("dynamodb", region_name=webapp.region).scan(TableName=table)["Items"] == []


def test_lambda_itself_does_its_part_with_the_function_role(webapp):
    handler = webapp.function("Api/Handler")
    assert not handler.in_vpc
    assert handler.lambda_service_calls() == LOG_STEPS + (TRACING_STEPS if handler.traced else [])


@pytest.mark.parametrize("action", ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"])
def test_without_one_data_grant_its_route_fails_with_access_denied(
    assembly, stack_without_grant, action
):
    stack = stack_without_grant(assembly, "ServerlessWebApp", "Api/Handler", action)
    handler = stack.function("Api/Handler")
    route = {
        "dynamodb:PutItem": ("POST", ROOT),
        "dynamodb:Query": ("GET", ROOT),
        "dynamodb:DeleteItem": ("DELETE", f"{ROOT}/{uuid.uuid4()}"),
    }[action]
    result = attempt(
        handler.invoke, api_event(*route, user=ALICE, body=ride(), key=str(uuid.uuid4()))
    )
    assert result.failed and result.refused_actions == {action}
