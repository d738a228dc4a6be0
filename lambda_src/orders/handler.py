"""The Orders REST API (API Gateway REST from shop_contracts/openapi/orders.json, Lambda proxy,
IAM auth + API key on every method):

    POST /orders            place an order (201 + Location); nothing else happens here: the
                            table's stream publishes its OrderPlaced event (publisher.py)
    GET  /orders/{orderId}  one order

This module parses and answers; orders.py decides; store.py does the I/O; config.py is the
configuration. The request body is checked against the OpenAPI document's NewOrder schema, the
same file API Gateway validates with (handler_kit.schema reads its components). The correlation
id of everything an order causes is the API Gateway request id.
"""

from __future__ import annotations

import re

import config
import orders
from handler_kit.errors import InvalidInput
from handler_kit.rest import Request, Response, RestApi
from shop_contracts import openapi_path

ORDER_ID = re.compile(r"[0-9a-f]{32}")
MAX_BODY_BYTES = 16 * 1024

config.settings()

api = RestApi(max_body_bytes=MAX_BODY_BYTES, schemas=openapi_path("orders"))
handler = api.handler


@api.route("POST", "/orders", query=())
def place_order(request: Request) -> Response:
    body = request.body("NewOrder")
    order = orders.place(body["customerId"], body["items"], correlation=request.request_id)
    return Response(201, order, {"Location": f"/orders/{order['orderId']}"})


@api.route("GET", "/orders/{orderId}", query=())
def get_order(request: Request) -> Response:
    order_id = request.path_parameter("orderId")
    if not ORDER_ID.fullmatch(order_id):
        raise InvalidInput("orderId must be 32 lowercase hex digits")
    return Response(200, orders.get(order_id))
