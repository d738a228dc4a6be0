"""A stand-in for the DAX client in wiring tests: DAX speaks its own protocol, which nothing
here can serve. It records how the shared `dynamodb_client` layer built it (endpoint, region)
and answers from moto DynamoDB through the same boto3 resource API the DAX client offers."""

from __future__ import annotations

import boto3
import pytest


class DaxStandIn:
    made: list[dict] = []

    def __init__(self, **kwargs):
        DaxStandIn.made.append({"client": kwargs})

    @staticmethod
    def resource(**kwargs):
        DaxStandIn.made.append({"resource": kwargs})
        return boto3.resource("dynamodb", region_name=kwargs["region_name"])


@pytest.fixture
def dax_stand_in(monkeypatch):
    """Replace amazondax.AmazonDaxClient for one test; `DaxStandIn.made` lists what was built."""
    import amazondax

    DaxStandIn.made = []
    monkeypatch.setattr(amazondax, "AmazonDaxClient", DaxStandIn)
    return DaxStandIn
