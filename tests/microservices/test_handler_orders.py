"""The Orders API handler against moto DynamoDB: placing and reading orders, the stock check
through Inventory's API (patched), and every bad request: a 4xx JSON body and nothing written."""

from __future__ import annotations

import json
import urllib.error

import boto3
import pytest

from tests.microservices.shop import LAYERS, REQUEST_ID, api_call, table
from tests.support.wiring import LambdaContext, fresh, load_function

TABLE = "orders-under-test"
ENVIRONMENT = {"TABLE_NAME": TABLE}
ORDER = {"customerId": "customer-1", "items": [{"sku": "BOOK-1", "quantity": 2}]}


@pytest.fixture(scope="module")
def module():
    return load_function("orders", layers=LAYERS, environment=ENVIRONMENT)


@pytest.fixture
def api(aws, module, monkeypatch):
    table(TABLE, "orderId", stream=True)
    return fresh(module, monkeypatch, ENVIRONMENT)


def call(api, method: str, path: str, **kwargs) -> tuple[int, dict]:
    answer = api.handler(api_call(method, path, **kwargs), LambdaContext("orders"))
    return answer["statusCode"], json.loads(answer["body"]) if answer["body"] else None


def stored() -> list[dict]:
    return boto3.resource("dynamodb").Table(TABLE).scan()["Items"]


def test_an_order_is_written_once_with_the_request_as_its_correlation_id(api):
    status, order = call(api, "POST", "/orders", body=ORDER)
    assert status == 201
    assert order["status"] == "PLACED" and order["items"] == ORDER["items"]
    (item,) = stored()
    assert item["orderId"] == order["orderId"]
    assert item["correlationId"] == REQUEST_ID
    status, read = call(api, "GET", f"/orders/{order['orderId']}")
    assert (status, read) == (200, order)


def test_the_same_sku_twice_is_one_line(api):
    body = {"customerId": "c", "items": [{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 2}]}
    status, order = call(api, "POST", "/orders", body=body)
    assert status == 201 and order["items"] == [{"sku": "A", "quantity": 3}]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"customerId": "c"}, "InvalidInput"),
        ({**ORDER, "discount": 50}, "InvalidInput"),
        ({**ORDER, "items": []}, "InvalidInput"),
        ({**ORDER, "items": [{"sku": "BOOK-1", "quantity": 0}]}, "InvalidInput"),
        ({**ORDER, "items": [{"sku": "BOOK-1", "quantity": 1, "price": 1}]}, "InvalidInput"),
        ({**ORDER, "items": [{"sku": "lower-case", "quantity": 1}]}, "InvalidInput"),
        ({**ORDER, "items": [{"sku": "A", "quantity": 1}] * 21}, "InvalidInput"),
        ({**ORDER, "customerId": "x" * 65}, "InvalidInput"),
        ("{not json", "InvalidInput"),
        ("[1, 2]", "InvalidInput"),
    ],
)
def test_a_bad_order_is_a_400_and_nothing_is_written(api, body, code):
    status, answer = call(api, "POST", "/orders", body=body)
    assert status == 400 and answer["code"] == code and answer["message"]
    assert stored() == []


def test_a_body_that_is_not_json_is_a_415(api):
    status, answer = call(api, "POST", "/orders", body=ORDER, headers={"Content-Type": "text/xml"})
    assert (status, answer["code"]) == (415, "UnsupportedMediaType")
    assert stored() == []


def test_reading_an_unknown_or_malformed_order(api):
    assert call(api, "GET", f"/orders/{'0' * 32}")[0] == 404
    status, answer = call(api, "GET", "/orders/NOT-AN-ID")
    assert (status, answer["code"]) == (400, "InvalidInput")


def test_with_the_stock_api_an_order_short_of_stock_is_refused_whole(api, monkeypatch):
    monkeypatch.setenv("INVENTORY_URL", "https://stock.example/")
    api.config.settings.cache_clear()
    monkeypatch.setattr(api.orders.store, "available", lambda sku: 1)
    status, answer = call(api, "POST", "/orders", body=ORDER)
    assert (status, answer["code"]) == (409, "OutOfStock")
    assert "BOOK-1" in answer["message"]
    assert stored() == []


def test_an_unreachable_stock_api_is_a_503_to_retry(api, monkeypatch):
    monkeypatch.setenv("INVENTORY_URL", "https://stock.example/")
    api.config.settings.cache_clear()

    def refuse(*_args, **_kwargs):
        raise urllib.error.URLError("connection refused")

    monkeypatch.setattr(api.orders.store.urllib.request, "urlopen", refuse)
    answer = api.handler(api_call("POST", "/orders", body=ORDER), LambdaContext("orders"))
    assert answer["statusCode"] == 503
    assert answer["multiValueHeaders"]["Retry-After"] == ["1"]
    assert stored() == []


def test_the_stock_api_is_called_signed_with_sigv4(api, monkeypatch):
    monkeypatch.setenv("INVENTORY_URL", "https://stock.example/")
    api.config.settings.cache_clear()
    seen = {}

    class Answer:
        def __enter__(self):
            return self

        def __exit__(self, *_):
            return False

        def read(self):
            return b'{"sku": "BOOK-1", "available": 5}'

    def urlopen(request, timeout):
        seen["url"], seen["headers"] = request.full_url, dict(request.header_items())
        return Answer()

    monkeypatch.setattr(api.orders.store.urllib.request, "urlopen", urlopen)
    assert api.orders.store.available("BOOK-1") == 5
    assert seen["url"] == "https://stock.example/stock/BOOK-1"
    authorization = seen["headers"]["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=")
    assert "/us-east-1/execute-api/aws4_request" in authorization
