"""A stand-in for the DAX client in wiring tests: DAX speaks its own protocol, which nothing
here can serve. It records how the shared `dynamodb_client` layer built it (endpoint, region)
and answers through the same boto3 resource API the DAX client offers, as DAX would: the caller
(the function's role) must be allowed `dax:<Operation>` on the cluster, and the call then reaches
moto's DynamoDB as the cluster's service role (the role the template gives the cluster), which
must be allowed the DynamoDB action. Without a cluster in the stack it answers from moto's
DynamoDB with the caller's credentials."""

from __future__ import annotations

import os

import boto3
import pytest

from tests.support.iam_enforcement import dax_checked, dax_cluster, unenforced


class DaxStandIn:
    made: list[dict] = []

    def __init__(self, **kwargs):
        DaxStandIn.made.append({"client": kwargs})

    @staticmethod
    def resource(**kwargs):
        DaxStandIn.made.append({"resource": kwargs})
        cluster = dax_cluster(kwargs.get("endpoint_url", ""))
        if cluster is None:
            return boto3.resource("dynamodb", region_name=kwargs["region_name"])
        stack, cluster_arn, service_role_id = cluster
        caller = stack.credentials_by_key(os.environ.get("AWS_ACCESS_KEY_ID", ""))
        with unenforced():
            service = stack.role_credentials(service_role_id)
        resource = service.session().resource("dynamodb", region_name=kwargs["region_name"])
        return dax_checked(resource, caller, cluster_arn)


@pytest.fixture
def dax_stand_in(monkeypatch):
    """Replace amazondax.AmazonDaxClient for one test; `DaxStandIn.made` lists what was built."""
    import amazondax

    DaxStandIn.made = []
    monkeypatch.setattr(amazondax, "AmazonDaxClient", DaxStandIn)
    return DaxStandIn
