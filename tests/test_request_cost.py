"""docgen/request_cost.py: a million requests priced from the template and prices.toml."""

from __future__ import annotations

import pytest

from docgen.assembly import Stack
from docgen.prices import prices
from docgen.request_cost import (
    CONNECTIONS_PER_LCU_SECOND,
    FUNCTION_MS,
    REQUESTS,
    Request,
    lines,
)


def stack(resources: dict) -> Stack:
    return Stack(id="Test", name="Test", region="us-east-1", template={"Resources": resources})


def function(memory: int, arch: str) -> dict:
    return {
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Metadata": {"aws:cdk:path": "Test/Api/Get/Resource"},
            "Properties": {"MemorySize": memory, "Architectures": [arch]},
        }
    }


@pytest.mark.parametrize(("memory", "arch"), [(256, "arm64"), (1024, "x86_64")])
def test_lambda_duration_follows_the_template_s_memory_and_architecture(memory, arch):
    priced = dict(lines(stack(function(memory, arch)), Request("x", function="/Api/Get"), prices()))
    (duration,) = [d for what, d in priced.items() if what.startswith("Lambda duration")]
    gb_seconds = 1_000_000 * memory / 1024 * FUNCTION_MS / 1000
    assert duration == pytest.approx(gb_seconds * prices()("lambda_gb_second", arch).usd)
    assert priced["Lambda requests"] == prices()("lambda_requests_million").usd


def test_a_load_balancer_bills_the_lcu_hours_of_a_million_new_connections():
    priced = dict(lines(stack({}), Request("x", load_balancer=True), prices()))
    ((what, dollars),) = priced.items()
    lcu_hours = 1_000_000 / CONNECTIONS_PER_LCU_SECOND / 3600
    assert dollars == pytest.approx(lcu_hours * prices()("alb_lcu_hour").usd)
    assert f"{lcu_hours:.1f} LCU-hours" in what


def test_every_step_left_out_costs_nothing():
    assert lines(stack({}), Request("x"), prices()) == []
    priced = dict(lines(stack({}), Request("x", cloudfront=True, dynamodb_reads=2), prices()))
    assert priced == {
        "CloudFront HTTPS requests": pytest.approx(prices()("cloudfront_https_10k").usd * 100),
        "DynamoDB on-demand reads": pytest.approx(2 * prices()("dynamodb_read_million").usd),
    }


def test_each_compared_stack_is_one_of_its_doc_s_stacks():
    from docgen.assembly import DOC_STACKS

    for doc, requests in REQUESTS.items():
        assert set(requests) <= set(DOC_STACKS.get(doc, ())), doc
