"""How API Gateway reaches the Lambda functions, over every stack of every stage: as an
integration role (patterns/web/rest_api.py InvokeRole), never through a function policy.

AWS Control Tower's CT.LAMBDA.PR.2 refuses the `AWS::Lambda::Permission` CDK's
`LambdaIntegration` writes for API Gateway (its source is a `Fn::Join`), so no stack may hold
one; and each role an integration runs as must be assumable by API Gateway alone and allowed to
invoke exactly the functions integrated through it, by ARN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_

from tests.support.iam_statements import as_list, statements_of

_FUNCTION_TYPES = ("AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version")
APIGATEWAY = "apigateway.amazonaws.com"


def InvokeRole(*args, **kwargs):  # noqa: N802 (stands for the class)
    """patterns.web.rest_api.InvokeRole, where the kit has it: a starter kit of a blueprint with
    no REST API carries no patterns/web, and then only the stack-wide checks run."""
    rest_api = pytest.importorskip("patterns.web.rest_api", reason="no REST API pattern here")
    return rest_api.InvokeRole(*args, **kwargs)


def _functions_named(value, resources: dict) -> set[str]:
    """Logical ids of the functions (aliases, versions) a property refers to."""
    found: set[str] = set()
    if isinstance(value, dict):
        target = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
        if isinstance(target, str) and resources.get(target, {}).get("Type") in _FUNCTION_TYPES:
            found.add(target)
        for inner in value.values():
            found |= _functions_named(inner, resources)
    elif isinstance(value, list):
        for inner in value:
            found |= _functions_named(inner, resources)
    return found


def lambda_integrations(template: dict) -> Iterator[tuple[str, dict, dict]]:
    """(where, uri, credentials) of every API Gateway integration that invokes a function: REST
    methods, the integrations of an imported OpenAPI body, HTTP API integrations."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::ApiGateway::Method":
            integration = props.get("Integration", {})
            if ":lambda:path/" in json.dumps(integration.get("Uri")):
                yield logical_id, integration["Uri"], integration.get("Credentials")
        elif resource["Type"] == "AWS::ApiGateway::RestApi" and "Body" in props:
            for path, item in props["Body"].get("paths", {}).items():
                for method, operation in item.items():
                    integration = operation.get("x-amazon-apigateway-integration", {})
                    if ":lambda:path/" in json.dumps(integration.get("uri")):
                        where = f"{logical_id} {method.upper()} {path}"
                        yield where, integration["uri"], integration.get("credentials")
        elif resource["Type"] == "AWS::ApiGatewayV2::Integration":
            uri = props.get("IntegrationUri")
            if _functions_named(uri, template["Resources"]):
                yield logical_id, uri, props.get("CredentialsArn")


def test_no_function_policy_admits_api_gateway(assembly):
    for stack_id in assembly.stacks:
        template = assembly.template(stack_id)
        for logical_id, resource in template.get("Resources", {}).items():
            if resource["Type"] == "AWS::Lambda::Permission":
                principal = json.dumps(resource["Properties"]["Principal"])
                assert "apigateway" not in principal, (
                    f"{stack_id}/{logical_id}: a function policy for API Gateway (CT.LAMBDA.PR.2); "
                    "integrate through patterns.web.rest_api.InvokeRole instead"
                )


def test_each_api_invokes_its_functions_as_a_role_allowed_exactly_those(assembly):
    seen = 0
    for stack_id in assembly.stacks:
        template = assembly.template(stack_id)
        resources = template.get("Resources", {})
        integrated: dict[str, set[str]] = {}  # role -> functions integrated through it
        for where, uri, credentials in lambda_integrations(template):
            seen += 1
            assert isinstance(credentials, dict) and "Fn::GetAtt" in credentials, (
                f"{stack_id} {where}: a Lambda integration without an integration role"
            )
            role_id, attribute = credentials["Fn::GetAtt"]
            assert attribute == "Arn" and resources[role_id]["Type"] == "AWS::IAM::Role"
            functions = _functions_named(uri, resources)
            assert len(functions) == 1, (stack_id, where, uri)
            integrated.setdefault(role_id, set()).update(functions)

        for role_id, functions in integrated.items():
            trust = resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            assert [(s["Effect"], s["Action"], s["Principal"]) for s in trust] == [
                ("Allow", "sts:AssumeRole", {"Service": APIGATEWAY})
            ], f"{stack_id}/{role_id}: only API Gateway may assume an integration role"
            assert not resources[role_id]["Properties"].get("ManagedPolicyArns"), role_id
            statements = statements_of(template, role_id)
            assert {a for s in statements for a in as_list(s["Action"])} == {
                "lambda:InvokeFunction"
            }, f"{stack_id}/{role_id}: an integration role only invokes"
            assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)
            granted = [r for s in statements for r in as_list(s["Resource"])]
            assert "*" not in json.dumps(granted), f"{stack_id}/{role_id}: a wildcard {granted}"
            # Each resource is exactly one function's ARN: {"Fn::GetAtt": [function, "Arn"]}
            # or an alias/version Ref, nothing else (no `:*`, no Join).
            assert all(_functions_named(r, resources) for r in granted), granted
            assert all(set(r) in ({"Fn::GetAtt"}, {"Ref"}) for r in granted), granted
            assert sorted(_functions_named(granted, resources)) == sorted(functions), (
                f"{stack_id}/{role_id}: may invoke {sorted(_functions_named(granted, resources))}"
                f", integrates {sorted(functions)}"
            )
            assert len(granted) == len(functions), f"{stack_id}/{role_id}: {granted}"
    if not seen:
        pytest.skip("no API in this session's stacks invokes a Lambda function")


def _app_with_api() -> tuple[cdk.Stack, apigw.RestApi, list[lambda_.Function]]:
    app = cdk.App()
    stack = cdk.Stack(app, "Api")
    functions = [
        lambda_.Function(
            stack,
            name,
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context): pass"),
        )
        for name in ("One", "Two", "NotBehindTheApi")
    ]
    api = apigw.RestApi(stack, "RestApi", cloud_watch_role=False, deploy=False)
    return stack, api, functions


def test_invoke_role_integrates_its_functions_and_grants_each_once():
    stack, api, (one, two, _) = _app_with_api()
    invoke = InvokeRole(stack, "InvokeRole")
    api.root.add_method(
        "GET", invoke.integration(one, cache_key_parameters=["method.request.path.x"])
    )
    api.root.add_method("POST", invoke.integration(one))
    api.root.add_resource("two").add_method("GET", invoke.integration(two))
    template = cdk.assertions.Template.from_stack(stack).to_json()
    test_each_api_invokes_its_functions_as_a_role_allowed_exactly_those(_Single(template))
    test_no_function_policy_admits_api_gateway(_Single(template))
    methods = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Method"
    ]
    assert {m["Integration"]["Type"] for m in methods} == {"AWS_PROXY"}
    assert {m["Integration"]["IntegrationHttpMethod"] for m in methods} == {"POST"}
    cached = [m for m in methods if m["Integration"].get("CacheKeyParameters")]
    assert cached[0]["Integration"]["CacheKeyParameters"] == ["method.request.path.x"]
    assert invoke.functions == [one, two]


def test_an_api_still_using_lambda_integration_fails_the_checks():
    """Proof the stack-wide checks above can fail: CDK's own integration."""
    stack, api, (one, _, _) = _app_with_api()
    api.root.add_method("GET", apigw.LambdaIntegration(one))
    template = cdk.assertions.Template.from_stack(stack).to_json()
    with pytest.raises(AssertionError, match="CT.LAMBDA.PR.2"):
        test_no_function_policy_admits_api_gateway(_Single(template))
    with pytest.raises(AssertionError, match="without an integration role"):
        test_each_api_invokes_its_functions_as_a_role_allowed_exactly_those(_Single(template))


def test_a_role_that_may_invoke_a_function_no_integration_names_fails_the_checks():
    stack, api, (one, _, other) = _app_with_api()
    invoke = InvokeRole(stack, "InvokeRole")
    api.root.add_method("GET", invoke.integration(one))
    invoke.allow(other)
    template = cdk.assertions.Template.from_stack(stack).to_json()
    with pytest.raises(AssertionError, match="may invoke"):
        test_each_api_invokes_its_functions_as_a_role_allowed_exactly_those(_Single(template))


def test_an_invoke_role_nothing_is_integrated_through_fails_the_synth():
    stack, api, (one, _, _) = _app_with_api()
    InvokeRole(stack, "Unused")
    api.root.add_method("GET", apigw.MockIntegration())
    with pytest.raises(Exception, match="no function is integrated through this role"):
        cdk.assertions.Template.from_stack(stack)


class _Single:
    """One template in the shape of a session assembly (what the checks above read)."""

    def __init__(self, template: dict) -> None:
        self.stacks = {"Api": {}}
        self._template = template

    def template(self, stack_id: str) -> dict:
        return self._template
