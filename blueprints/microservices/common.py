"""What every service stack of the shop shares: the contracts layer, the idempotency table,
the per-stage defaults."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from house.lambda_function import LAMBDA_SRC, python_layer

CONTRACTS_LAYER_ID = "ShopContracts"


def contracts_layer(scope: Construct) -> lambda_.ILayerVersion:
    """The stack's one shop_contracts layer (OpenAPI documents, event schemas, event makers)."""
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child(CONTRACTS_LAYER_ID)
    if existing is not None:
        return existing
    return python_layer(
        stack,
        CONTRACTS_LAYER_ID,
        source="shop_contracts",
        description="shop_contracts: the shop's OpenAPI documents and event schemas",
    )


CONTRACTS = LAMBDA_SRC / "layers" / "shop_contracts" / "shop_contracts"


def openapi(service: str) -> dict:
    """The checked-in OpenAPI document of `service` (shop_contracts/openapi/<service>.json)."""
    return json.loads((CONTRACTS / "openapi" / f"{service}.json").read_text())
