"""Every method of the API but the CORS preflight requires the Cognito authorizer, in both hosting
modes and both API modes. Shipped (same origin) there is no preflight at all; with
cross_origin_api the OPTIONS methods are unauthenticated (a browser sends no token with a
preflight: an authorizer there is the classic "401 on OPTIONS"), answered by API Gateway itself,
for the site's one origin; API Gateway's own refusals carry that origin too."""

from __future__ import annotations

import json

import pytest

from tests.serverless_web_app.conftest import INSTANCES, Built
from tests.support.gates import assert_gates_pass


def methods(built: Built) -> list[dict]:
    return [r["Properties"] for r in built.resources("AWS::ApiGateway::Method").values()]


def assert_every_other_method_needs_the_authorizer(built: Built) -> None:
    authorizer_id, authorizer = built.only("AWS::ApiGateway::Authorizer")
    pool_id, _ = built.only("AWS::Cognito::UserPool")
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert pool_id in json.dumps(authorizer["Properties"]["ProviderARNs"])
    guarded = [m for m in methods(built) if m["HttpMethod"] != "OPTIONS"]
    assert {m["HttpMethod"] for m in guarded} == {"GET", "POST", "PATCH", "DELETE"}
    for method in guarded:
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS", method["HttpMethod"]
        assert method["AuthorizerId"] == {"Ref": authorizer_id}


def test_shipped_every_method_needs_the_authorizer_and_there_is_no_preflight(built):
    assert_every_other_method_needs_the_authorizer(built)
    assert [m for m in methods(built) if m["HttpMethod"] == "OPTIONS"] == []
    function_id = built.resolver.logical_id("Api/Handler", "AWS::Lambda::Function")
    environment = built.template["Resources"][function_id]["Properties"]["Environment"]
    assert environment["Variables"]["ALLOWED_ORIGINS"] == ""


@pytest.fixture(params=sorted(INSTANCES))
def cross(request, variant) -> Built:
    return Built(variant("dev", "cross-origin"), request.param, INSTANCES[request.param])


def test_cross_origin_preflights_are_unauthenticated_and_pinned_to_the_site(cross):
    assert_every_other_method_needs_the_authorizer(cross)
    resolve = cross.resolver.resolve
    site = resolve(cross.template["Outputs"]["SiteUrl"]["Value"])
    preflights = [m for m in methods(cross) if m["HttpMethod"] == "OPTIONS"]
    assert len(preflights) == 3, "/api, /api/requests, /api/requests/{requestId}"
    for method in preflights:
        assert method["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in method
        assert method["Integration"]["Type"] == "MOCK"
        (answer,) = method["Integration"]["IntegrationResponses"]
        headers = answer["ResponseParameters"]
        assert resolve(headers["method.response.header.Access-Control-Allow-Origin"]) == (
            f"'{site}'"
        )
        assert "Idempotency-Key" in headers["method.response.header.Access-Control-Allow-Headers"]


def test_cross_origin_refusals_carry_the_sites_origin_so_the_page_can_read_them(cross):
    site = cross.resolver.resolve(cross.template["Outputs"]["SiteUrl"]["Value"])
    for response in cross.resources("AWS::ApiGateway::GatewayResponse").values():
        headers = response["Properties"]["ResponseParameters"]
        origin = headers["gatewayresponse.header.Access-Control-Allow-Origin"]
        assert cross.resolver.resolve(origin) == f"'{site}'"


def test_cross_origin_the_function_and_the_csp_name_each_other_only(cross):
    resolve = cross.resolver.resolve
    site = resolve(cross.template["Outputs"]["SiteUrl"]["Value"])
    function_id = cross.resolver.logical_id("Api/Handler", "AWS::Lambda::Function")
    environment = cross.template["Resources"][function_id]["Properties"]["Environment"]
    assert resolve(environment["Variables"]["ALLOWED_ORIGINS"]) == site
    api = cross.resolver.ref(cross.resolver.logical_id("Api/Api", "AWS::ApiGateway::RestApi"))
    from tests.serverless_web_app.test_stack import csp_of

    assert f" https://{api}.execute-api.us-east-1.amazonaws.com;" in csp_of(cross)


def test_cross_origin_variant_passes_the_gates(variant):
    assert_gates_pass(variant("dev", "cross-origin"))
