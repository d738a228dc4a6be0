"""dynamodb_client: the one way handlers get DynamoDB, through DAX when the stack gives them DAX.

Usage, in a handler module (made on first use and kept, so a cold start pays for it once, in
the first request that needs the table; importing this module creates nothing):

    import functools, os
    from dynamodb_client import dynamodb_resource

    @functools.cache
    def table():
        return dynamodb_resource().Table(os.environ["TABLE_NAME"])

    table().get_item(Key={...}); table().query(...); table().put_item(..., ConditionExpression=...)

Attach it with `house.lambda_function.python_layer(scope, id, source="dynamodb_client", ...)`
and pass `layers=[layer]` to `python_function`. `patterns.data.dax_cache.DaxCache.environment` sets
`DAX_ENDPOINT` to the cluster's discovery URL (`daxs://...`); with it set and non-empty, every
call goes through the DAX client (`amazon-dax-client`, same API as boto3 for the data calls
GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan, Batch*, Transact*); without it (no DAX, unit
tests, moto), plain boto3 is used. Setting `DAX_ENDPOINT` to "" on a deployed function is the
break-glass switch back to DynamoDB if the cluster is unhealthy.

Errors are botocore `ClientError`s either way (the DAX client's `DaxClientError` and
`DaxServiceError` subclass it), so `err.response["Error"]["Code"]` reads the same
("ConditionalCheckFailedException", ...). Once its retries are spent, the DAX client also raises
a connection failure as TimeoutError or the socket's OSError (ConnectionError, gaierror): treat
those as botocore's timeouts, i.e. retryable (the API handlers answer 503). Table-management
calls (CreateTable, ...) do not go through DAX: use `boto3.client("dynamodb")` for those.

This layer bundles boto3/botocore pinned (the DAX client needs botocore, and a layer's botocore
must match the boto3 that loads it), so handlers run the SDK version the tests ran.
"""

from __future__ import annotations

import functools
import os

import boto3

DAX_ENDPOINT_VARIABLE = "DAX_ENDPOINT"


def dax_endpoint() -> str | None:
    """The DAX cluster discovery URL this function was given, or None for plain DynamoDB."""
    endpoint = os.environ.get(DAX_ENDPOINT_VARIABLE, "").strip()
    if endpoint and not endpoint.startswith(("dax://", "daxs://")):
        raise ValueError(
            f"{DAX_ENDPOINT_VARIABLE}={endpoint!r} is not a DAX discovery URL (dax:// or daxs://)"
        )
    return endpoint or None


def _region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


@functools.cache
def dynamodb_resource():
    """A boto3-style DynamoDB *resource* (`.Table(name)`), through DAX when configured."""
    endpoint = dax_endpoint()
    if endpoint is None:
        return boto3.resource("dynamodb", region_name=_region())
    from amazondax import AmazonDaxClient  # only functions that use DAX pay for the import

    return AmazonDaxClient.resource(endpoint_url=endpoint, region_name=_region())


@functools.cache
def dynamodb_client():
    """A boto3-style low-level DynamoDB *client*, through DAX when configured."""
    endpoint = dax_endpoint()
    if endpoint is None:
        return boto3.client("dynamodb", region_name=_region())
    from amazondax import AmazonDaxClient

    return AmazonDaxClient(endpoint_url=endpoint, region_name=_region())


def reset() -> None:
    """Forget the cached resource and client (tests that change DAX_ENDPOINT call this)."""
    dynamodb_resource.cache_clear()
    dynamodb_client.cache_clear()
