"""The MicroservicesStock smoke against a local HTTP server standing in for the HTTP API (which
answers only SigV4-signed calls for execute-api) and a stubbed ECS."""

from __future__ import annotations

import pytest

from deployment.smoke_microservices import SMOKE_SKU
from tests.support.smoke_fakes import (  # noqa: F401 (fixtures)
    StubbedSession,
    json_answer,
    run,
    statuses,
    web,
)

STACK = "MicroservicesStock"
CLUSTER, SERVICE = "shop-cluster", "shop-stock"


def stock_api(web):
    """Like API Gateway with IAM authorization: 403 unless the call is signed for
    execute-api; then the container's answer."""

    def answer(request):
        authorization = request["headers"].get("authorization", "")
        if not (authorization.startswith("AWS4-HMAC-SHA256") and "/execute-api/" in authorization):
            return json_answer(403, {"message": "Forbidden"})
        return json_answer(200, {"sku": SMOKE_SKU, "available": 0})

    web.route("GET", f"/stock/{SMOKE_SKU}", answer)


def ecs_answers(session, running: int, desired: int = 2, rollout: str = "COMPLETED") -> None:
    session.stub("ecs").add_response(
        "describe_services",
        {
            "services": [
                {
                    "serviceName": SERVICE,
                    "runningCount": running,
                    "desiredCount": desired,
                    "deployments": [{"status": "PRIMARY", "rolloutState": rollout}],
                }
            ]
        },
        {"cluster": CLUSTER, "services": [SERVICE]},
    )


@pytest.fixture
def stock(aws, web):
    stock_api(web)
    session = StubbedSession(services=("ecs",))
    session.get_credentials = session.real.get_credentials  # what SigV4 signs with
    outputs = {"StockApiUrl": web.url + "/", "ClusterName": CLUSTER, "ServiceName": SERVICE}
    return session, outputs, web


def test_a_steady_service_refuses_unsigned_calls_and_answers_a_signed_one(stock):
    session, outputs, web = stock
    ecs_answers(session, running=2)
    results, lines, _ = run(STACK, outputs, session=session)
    assert statuses(results) == {
        "service-steady": "PASS",
        "api-refuses-unsigned": "PASS",
        "signed-stock-read": "PASS",
    }, lines
    session.assert_all_called()
    signed = [r for r in web.requests if "authorization" in r["headers"]]
    assert len(signed) == 1 and len(web.requests) == 2


def test_missing_tasks_fail_and_the_signed_read_is_not_tried(stock):
    session, outputs, web = stock
    ecs_answers(session, running=1)
    results, _, _ = run(STACK, outputs, session=session)
    assert results["service-steady"].status == "FAIL"
    assert "1 of 2 tasks running" in results["service-steady"].detail
    assert results["signed-stock-read"].status == "SKIP"


def test_an_api_that_answers_unsigned_calls_fails(stock):
    session, outputs, web = stock
    web.route("GET", f"/stock/{SMOKE_SKU}", json_answer(200, {"sku": SMOKE_SKU, "available": 1}))
    ecs_answers(session, running=2)
    results, _, _ = run(STACK, outputs, session=session)
    assert results["api-refuses-unsigned"].status == "FAIL"
    assert "not 403" in results["api-refuses-unsigned"].detail


def test_a_body_outside_the_contract_fails(stock):
    session, outputs, web = stock

    def wrong(request):
        if "authorization" not in request["headers"]:
            return json_answer(403, {"message": "Forbidden"})
        return json_answer(200, {"sku": SMOKE_SKU, "available": "lots"})

    web.route("GET", f"/stock/{SMOKE_SKU}", wrong)
    ecs_answers(session, running=2)
    results, _, _ = run(STACK, outputs, session=session)
    assert results["signed-stock-read"].status == "FAIL"
    assert "not {sku, available}" in results["signed-stock-read"].detail
