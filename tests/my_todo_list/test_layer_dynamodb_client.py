"""The shared dynamodb_client layer: plain boto3 without DAX_ENDPOINT, the DAX client with it."""

from __future__ import annotations

import boto3
import pytest

from tests.support.wiring import fresh, load_function


@pytest.fixture(scope="module")
def layer_module():
    return load_function("layers/dynamodb_client", "dynamodb_client")


@pytest.fixture
def layer(aws, layer_module, monkeypatch):
    monkeypatch.delenv("DAX_ENDPOINT", raising=False)
    return fresh(layer_module, monkeypatch, {})


def test_without_dax_endpoint_it_is_boto3_and_cached(layer):
    resource = layer.dynamodb_resource()
    assert resource is layer.dynamodb_resource()
    assert resource.meta.client.meta.service_model.service_name == "dynamodb"
    assert type(resource.meta.client).__module__.startswith("botocore")
    assert layer.dynamodb_client().meta.service_model.service_name == "dynamodb"


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_endpoint_is_the_break_glass_switch_back_to_dynamodb(layer, monkeypatch, value):
    monkeypatch.setenv("DAX_ENDPOINT", value)
    assert layer.dax_endpoint() is None
    assert type(layer.dynamodb_client()).__module__.startswith("botocore")


def test_with_dax_endpoint_it_goes_through_the_dax_client(layer, monkeypatch):
    import amazondax

    endpoint = "daxs://todo-cache.c0ffee.dax-clusters.us-east-1.amazonaws.com"
    made = {}

    class FakeDaxClient:
        def __init__(self, **kwargs):
            made["client"] = kwargs

        @staticmethod
        def resource(**kwargs):
            made["resource"] = kwargs
            return boto3.resource("dynamodb", region_name=kwargs["region_name"])

    monkeypatch.setattr(amazondax, "AmazonDaxClient", FakeDaxClient)
    monkeypatch.setenv("DAX_ENDPOINT", endpoint)
    layer.reset()
    layer.dynamodb_resource()
    layer.dynamodb_client()
    assert made["resource"] == {"endpoint_url": endpoint, "region_name": "us-east-1"}
    assert made["client"] == {"endpoint_url": endpoint, "region_name": "us-east-1"}


def test_the_real_dax_client_is_importable_and_refuses_an_unreachable_cluster(layer, monkeypatch):
    """No DAX here: proves the code path reaches amazondax (not boto3) and fails loudly."""
    from amazondax.DaxError import DaxClientError

    monkeypatch.setenv("DAX_ENDPOINT", "daxs://nowhere.invalid")
    layer.reset()
    with pytest.raises(DaxClientError):
        layer.dynamodb_resource()


def test_a_non_dax_url_is_refused(layer, monkeypatch):
    monkeypatch.setenv("DAX_ENDPOINT", "https://dynamodb.us-east-1.amazonaws.com")
    layer.reset()
    with pytest.raises(ValueError, match="not a DAX discovery URL"):
        layer.dynamodb_resource()
