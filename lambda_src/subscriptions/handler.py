"""The blog's subscription routes behind CloudFront `/api/subscribers*` (API Gateway REST,
Lambda proxy integration), a function of their own: outside the posts API's VPC (it calls KMS,
which the isolated subnets cannot reach), with a role that can touch the subscribers table and
verify links, nothing else.

    POST /api/subscribers              {"email"}  -> 202, a confirmation mail follows
    POST /api/subscribers/confirm      {"token"}  -> 200, a welcome mail follows
    POST /api/subscribers/unsubscribe  {"token"}  -> 200, the address is forgotten

This module parses and answers; subscriptions.py decides; store.py does the I/O; config.py is
the configuration. The REST kit (handler_kit.rest) refuses requests that did not come through
the site's CloudFront distribution (origin lock, 403), bodies that do not match schemas.json (the
same schemas as the API Gateway models, the address rule from handler_kit/definitions.json),
and maps domain errors to 4xx; every answer is `no-store`.
"""

from __future__ import annotations

from pathlib import Path

import config
import subscriptions
from handler_kit.rest import Request, Response, RestApi

MAX_BODY_BYTES = 2 * 1024

config.settings()

api = RestApi(
    max_body_bytes=MAX_BODY_BYTES,
    schemas=Path(__file__).with_name("schemas.json"),
    cache_control=True,
    origin_lock=lambda: config.settings().origin_lock,
)
handler = api.handler


@api.route("POST", "/api/subscribers", query=())
def subscribe(request: Request) -> Response:
    email = subscriptions.subscribe(request.body("Subscription"), request.source)
    return Response(
        202,
        {
            "status": "pending",
            "email": email,
            "message": "unless this address is subscribed already, a confirmation link is on "
            "its way to it",
        },
    )


@api.route("POST", "/api/subscribers/confirm", query=())
def confirm(request: Request) -> Response:
    email = subscriptions.confirm(request.body("Confirmation"), request.source)
    return Response(200, {"status": "confirmed", "email": email})


@api.route("POST", "/api/subscribers/unsubscribe", query=())
def unsubscribe(request: Request) -> Response:
    email = subscriptions.unsubscribe(request.body("Unsubscription"), request.source)
    return Response(200, {"status": "unsubscribed", "email": email})
