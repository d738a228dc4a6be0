"""IAM for the services moto cannot serve, checked at the client with moto's own evaluator.

Services moto cannot serve are authorized by the same evaluator at the client (`authorize`):
the Neptune data API (on botocore's Stubber in the tests: StartLoaderJob, GetLoaderJobStatus,
and openCypher as neptune-db:ReadDataViaQuery, + WriteDataViaQuery for CREATE/MERGE/SET, +
DeleteDataViaQuery for DELETE/REMOVE, on arn:aws:neptune-db:R:A:<cluster resource id>/*) and
DAX (the stand-in in dax.py checks dax:<Operation> on the cluster ARN for the caller, then
reaches moto's DynamoDB as the cluster's service role, as DAX does).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError

from tests.support.iam_refusals import record_refusal

if TYPE_CHECKING:
    from tests.support.iam_enforcement import RoleCredentials

_PARTITION = "aws"


def authorize(credentials: RoleCredentials, action: str, resource: str, operation: str) -> None:
    """Raise AccessDenied unless the role's policies allow `action` on `resource` (moto's
    evaluator, exactly as for the requests moto serves)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.access_control import AssumedRoleAccessKey, IAMPolicy, PermissionResult

    key = AssumedRoleAccessKey(
        DEFAULT_ACCOUNT_ID,
        _PARTITION,
        credentials.access_key_id,
        {"X-Amz-Security-Token": credentials.session_token},
    )
    permitted = False
    for policy in key.collect_policies():
        result = IAMPolicy(policy).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            permitted = False
            break
        permitted = permitted or result == PermissionResult.PERMITTED
    if not permitted:
        record_refusal(action, resource, key.arn)
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": (
                        f"User: {key.arn} is not authorized to perform: {action} on resource: "
                        f"{resource}"
                    ),
                }
            },
            operation,
        )


_NEPTUNE_CLUSTERS: dict[str, str] = {}  # endpoint host -> neptune-db resource ARN
_DAX_CLUSTERS: dict[str, Any] = {}  # discovery URL -> (stack, cluster ARN, service role id)

_NEPTUNE_ACTIONS = {
    "StartLoaderJob": ["neptune-db:StartLoaderJob"],
    "GetLoaderJobStatus": ["neptune-db:GetLoaderJobStatus"],
}
_WRITES = re.compile(r"\b(CREATE|MERGE|SET)\b", re.IGNORECASE)
_DELETES = re.compile(r"\b(DELETE|REMOVE)\b", re.IGNORECASE)


def register_neptune_cluster(*, host: str, resource_arn: str) -> None:
    _NEPTUNE_CLUSTERS[host] = resource_arn


def register_dax_cluster(
    stack, *, endpoint_url: str, cluster_arn: str, service_role_id: str
) -> None:
    _DAX_CLUSTERS[endpoint_url] = (stack, cluster_arn, service_role_id)


def dax_cluster(endpoint_url: str):
    """(stack, cluster ARN, service role logical id) of the DAX cluster at `endpoint_url`."""
    return _DAX_CLUSTERS.get(endpoint_url)


def forget_clusters() -> None:
    """Forget this test's clusters and sessions (the `local_stack` fixture calls it)."""
    _NEPTUNE_CLUSTERS.clear()
    _DAX_CLUSTERS.clear()


def neptune_actions(operation: str, params: dict) -> list[str]:
    if operation == "ExecuteOpenCypherQuery":
        query = params.get("openCypherQuery", "")
        return (
            ["neptune-db:ReadDataViaQuery"]
            + (["neptune-db:WriteDataViaQuery"] if _WRITES.search(query) else [])
            + (["neptune-db:DeleteDataViaQuery"] if _DELETES.search(query) else [])
        )
    if operation not in _NEPTUNE_ACTIONS:
        raise NotImplementedError(f"no IAM action mapped for neptunedata {operation}: add it")
    return _NEPTUNE_ACTIONS[operation]


def enforcement_active() -> bool:
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    return ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT


def register_stubbed_service_checks(session: boto3.Session, credentials: RoleCredentials) -> None:
    """Neptune data clients this session makes authorize each call against the role first,
    before botocore sends it or a Stubber answers it (a base class of the client class)."""

    class AuthorizedAsRole:
        def _make_api_call(self, operation_name, api_params):
            if enforcement_active():
                host = (urlsplit(self.meta.endpoint_url).hostname or "").lower()
                resource = _NEPTUNE_CLUSTERS.get(host, "*")
                for action in neptune_actions(operation_name, api_params):
                    authorize(credentials, action, resource, operation_name)
            return super()._make_api_call(operation_name, api_params)

    def add_base(base_classes, **_):
        base_classes.insert(0, AuthorizedAsRole)

    session.events.register("creating-client-class.neptunedata", add_base)


def dax_checked(resource, caller: RoleCredentials, cluster_arn: str):
    """`resource` (moto DynamoDB as the DAX cluster's service role) refusing what `caller` may
    not do on the cluster: DAX authorizes dax:<Operation> for the caller, then calls DynamoDB
    with its own role."""

    def check(model, **_):
        if enforcement_active():
            authorize(caller, f"dax:{model.name}", cluster_arn, model.name)

    resource.meta.client.meta.events.register_first("before-call.dynamodb", check)
    return resource
