"""The settings the cdk.json profiles leave off, synthesized once together on the dev stage: an
edge-optimised endpoint, DAX with a single node in the env-agnostic two-AZ VPC, a short API cache,
WAF, and two browser origins. They must be cdk-nag and cfn-lint clean too."""

from __future__ import annotations

import pytest
from cfnlint.api import lint

from tests.my_todo_list.test_stack import logical_id, only, resources
from tests.support.gates import nag_findings
from tests.support.synth import synthesize_once

STACK = "MyTodoList"
ORIGINS = ["https://app.example.com", "capacitor://localhost"]


@pytest.fixture(scope="module")
def variant(tmp_path_factory):
    settings = {
        "endpoint_type": "EDGE",
        "dax": True,
        "dax_nodes": 1,
        "dax_query_ttl_seconds": 5,
        "api_cache": True,
        "api_cache_ttl_seconds": 10,
        "waf": True,
        "allowed_origins": ORIGINS,
    }
    return synthesize_once(
        tmp_path_factory,
        "dev",
        {
            "blueprints_only": "my-todo-list",
            "blueprints": {"my-todo-list": {"dev": settings}},
        },
    )


@pytest.fixture(scope="module")
def template(variant) -> dict:
    return variant.template(STACK)


def test_variant_is_cdk_nag_and_cfn_lint_clean(variant):
    assert nag_findings(variant) == []
    assert variant.error is None
    text = (variant.outdir / variant.stacks[STACK]["properties"]["templateFile"]).read_text()
    assert [m for m in lint(text, regions=["us-east-1"]) if m.rule.id.startswith("E")] == []


def test_edge_optimised_endpoint_is_a_setting(template):
    _, api = only(template, "AWS::ApiGateway::RestApi")
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["EDGE"]}


def test_single_node_dax_in_a_two_az_vpc_without_nat(template):
    _, cluster = only(template, "AWS::DAX::Cluster")
    assert cluster["Properties"]["ReplicationFactor"] == 1
    _, subnet_group = only(template, "AWS::DAX::SubnetGroup")
    assert len(subnet_group["Properties"]["SubnetIds"]) == 2
    assert not resources(template, "AWS::EC2::NatGateway")
    handler = template["Resources"][logical_id(template, "AWS::Lambda::Function", "TodoApiHandler")]
    # Read-your-writes covers exactly the DAX query-cache TTL.
    assert handler["Properties"]["Environment"]["Variables"]["READ_YOUR_WRITES_SECONDS"] == "5"
    _, parameters = only(template, "AWS::DAX::ParameterGroup")
    assert parameters["Properties"]["ParameterNameValues"]["query-ttl-millis"] == "5000"


def test_cache_ttl_and_both_origins_reach_api_bucket_and_handler(template):
    _, stage = only(template, "AWS::ApiGateway::Stage")
    cached = [s for s in stage["Properties"]["MethodSettings"] if s.get("CachingEnabled")]
    assert {s["CacheTtlInSeconds"] for s in cached} == {10}
    handler = template["Resources"][logical_id(template, "AWS::Lambda::Function", "TodoApiHandler")]
    assert handler["Properties"]["Environment"]["Variables"]["ALLOWED_ORIGINS"] == ",".join(ORIGINS)
    bucket = template["Resources"][logical_id(template, "AWS::S3::Bucket", "IdentityUserFiles")]
    (rule,) = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == ORIGINS
    preflight = next(
        m["Properties"]
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "OPTIONS"
    )
    template_text = str(preflight["Integration"]["IntegrationResponses"])
    assert all(origin in template_text for origin in ORIGINS)
