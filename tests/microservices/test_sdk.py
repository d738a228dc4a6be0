"""`make sdk`'s clients: generated offline from the checked-in documents into a temporary folder,
imported, and used to call the Orders handler through a local adapter (an httpx transport that
turns the client's request into API Gateway's proxy event), against moto."""

from __future__ import annotations

import json
import sys

import httpx
import jsonschema
import pytest

from blueprints.microservices.common import openapi
from deployment import sdk
from tests.microservices.shop import LAYERS, table
from tests.support.apigateway import rest_api_event
from tests.support.wiring import LambdaContext, fresh, load_function

ENVIRONMENT = {"TABLE_NAME": "orders"}


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    out = tmp_path_factory.mktemp("clients")
    for service in sdk.SERVICES:
        sdk.generate(service, out)
    sys.path.insert(0, str(out))
    yield out
    sys.path.remove(str(out))
    for name in [m for m in sys.modules if m.split(".")[0].endswith("_client")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def module():
    return load_function("orders", layers=LAYERS, environment=ENVIRONMENT)


@pytest.fixture
def orders_api(aws, module, monkeypatch):
    table("orders", "orderId")
    return fresh(module, monkeypatch, ENVIRONMENT)


def adapter(handler):
    """httpx transport: the request as API Gateway would hand it to the function."""
    routes = {("POST", "/orders"): "/orders", ("GET", 3): "/orders/{orderId}"}

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v1")
        parts = path.strip("/").split("/")
        resource = routes.get((request.method, path)) or routes[(request.method, len(parts) + 1)]
        event = rest_api_event(
            request.method,
            path,
            resource=resource,
            path_parameters={"orderId": parts[1]} if len(parts) == 2 else None,
            headers=dict(request.headers),
            body=request.content.decode() if request.content else None,
        )
        answer = handler(event, LambdaContext("orders"))
        headers = {k: v[0] for k, v in answer["multiValueHeaders"].items()}
        return httpx.Response(answer["statusCode"], headers=headers, content=answer["body"])

    return httpx.MockTransport(handle)


def test_make_sdk_generates_a_package_per_document(clients):
    assert sorted(p.name for p in clients.iterdir()) == ["inventory_client", "orders_client"]
    assert (clients / "orders_client" / "api" / "default" / "place_order.py").is_file()
    assert (clients / "inventory_client" / "api" / "default" / "get_stock.py").is_file()


def test_the_generated_client_places_and_reads_an_order(clients, orders_api):
    from orders_client import Client
    from orders_client.api.default import get_order, place_order
    from orders_client.models import NewOrder, Order

    client = Client(
        base_url="https://orders.example/v1", httpx_args={"transport": adapter(orders_api.handler)}
    )
    body = NewOrder.from_dict({"customerId": "c-1", "items": [{"sku": "BOOK-1", "quantity": 2}]})
    placed = place_order.sync_detailed(client=client, body=body)
    assert placed.status_code == 201
    order = placed.parsed
    assert isinstance(order, Order) and order.customer_id == "c-1"
    jsonschema.Draft4Validator(openapi("orders")["components"]["schemas"]["Order"]).validate(
        json.loads(placed.content)
    )
    read = get_order.sync(order.order_id, client=client)
    assert isinstance(read, Order) and read.to_dict() == order.to_dict()


def test_a_refusal_comes_back_as_the_documents_error_model(clients, orders_api):
    from orders_client import Client
    from orders_client.api.default import get_order
    from orders_client.models import Error

    client = Client(
        base_url="https://orders.example/v1", httpx_args={"transport": adapter(orders_api.handler)}
    )
    missing = get_order.sync("0" * 32, client=client)
    assert isinstance(missing, Error) and missing.code == "NotFound"
