"""The stock API's container app (containers/stock) against moto: the contract's answers, every
refusal a 4xx JSON body in the shop's `{"message", "code"}` shape, a throttled table a 503 with
Retry-After, and one real HTTP round trip through its server."""

from __future__ import annotations

import importlib
import json
import sys
import threading
import urllib.error
import urllib.request

import boto3
import jsonschema
import pytest
from botocore.exceptions import ClientError

from blueprints.microservices.common import openapi
from tests.microservices.shop import table
from tests.support.synth import REPO_ROOT

APP_DIR = REPO_ROOT / "containers" / "stock"
TABLE = "stock"


@pytest.fixture
def api(aws, monkeypatch):
    monkeypatch.setenv("STOCK_TABLE", TABLE)
    monkeypatch.syspath_prepend(str(APP_DIR))
    sys.modules.pop("stock_api.api", None)
    sys.modules.pop("stock_api", None)
    module = importlib.import_module("stock_api.api")
    table(TABLE, "pk")
    yield module
    sys.modules.pop("stock_api.api", None)
    sys.modules.pop("stock_api", None)


def put_stock(sku: str, available: int) -> None:
    boto3.client("dynamodb").put_item(
        TableName=TABLE, Item={"pk": {"S": f"SKU#{sku}"}, "available": {"N": str(available)}}
    )


def stock_schema() -> dict:
    document = openapi("inventory")
    return document["components"]["schemas"]["Stock"]


def test_a_known_sku_answers_its_count_in_the_contracts_shape(api):
    put_stock("SKU-1", 7)
    status, body, headers = api.route("GET", "/stock/SKU-1")
    assert (status, body, headers) == (200, {"sku": "SKU-1", "available": 7}, {})
    jsonschema.validate(body, stock_schema())


def test_an_unknown_sku_has_nothing_to_sell(api):
    assert api.route("GET", "/stock/NEW-SKU")[:2] == (200, {"sku": "NEW-SKU", "available": 0})


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/stock/lower-case", 400, "InvalidInput"),
        ("GET", "/stock/" + "A" * 33, 400, "InvalidInput"),
        ("GET", "/stock/", 400, "InvalidInput"),
        ("GET", "/stock/A/B", 404, "NotFound"),
        ("GET", "/orders", 404, "NotFound"),
        ("POST", "/stock/SKU-1", 405, "MethodNotAllowed"),
        ("DELETE", "/health", 405, "MethodNotAllowed"),
    ],
)
def test_every_refusal_is_a_4xx_json_body_and_reads_nothing(
    api, monkeypatch, method, path, status, code
):
    monkeypatch.setattr(api, "available", lambda sku: pytest.fail("the table was read"))
    answer_status, body, _ = api.route(method, path)
    assert (answer_status, body["code"]) == (status, code)
    assert set(body) == {"message", "code"}


def test_the_contracts_sku_pattern_is_the_apps(api):
    (parameter,) = openapi("inventory")["paths"]["/stock/{sku}"]["get"]["parameters"]
    assert parameter["schema"]["pattern"] == f"^{api.SKU.pattern}$"


def test_a_throttled_table_is_a_503_with_retry_after(api, monkeypatch):
    def throttled(sku):
        raise ClientError({"Error": {"Code": "ThrottlingException"}}, "GetItem")

    monkeypatch.setattr(api, "available", throttled)
    status, body, headers = api.route("GET", "/stock/SKU-1")
    assert (status, body["code"], headers) == (503, "Busy", {"Retry-After": "1"})


def test_any_other_table_error_is_a_500_without_details(api, monkeypatch):
    def denied(sku):
        raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "GetItem")

    monkeypatch.setattr(api, "available", denied)
    status, body, _ = api.route("GET", "/stock/SKU-1")
    assert (status, body) == (500, {"message": "internal error", "code": "InternalError"})


def test_the_health_check_makes_no_aws_call(api, monkeypatch):
    monkeypatch.setattr(api, "_dynamodb", lambda: pytest.fail("the health check called AWS"))
    assert api.route("GET", "/health") == (200, {"status": "ok"}, {})


def test_the_server_answers_over_http_with_json(api):
    put_stock("SKU-2", 3)
    server = api.ThreadingHTTPServer(("127.0.0.1", 0), api.Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        request = urllib.request.Request(base + "/stock/SKU-2", headers={"x-request-id": "r-1"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"] == "application/json"
            assert json.loads(answer.read()) == {"sku": "SKU-2", "available": 3}
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/stock/bad sku".replace(" ", "%20"), timeout=5)
        assert refused.value.code == 400
        assert json.loads(refused.value.read())["code"] == "InvalidInput"
    finally:
        server.shutdown()
        server.server_close()
