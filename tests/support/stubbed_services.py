"""IAM for the services moto cannot serve, checked at the client with moto's own evaluator.

Services moto cannot serve are authorized by the same evaluator at the client (`authorize`):
the Neptune data API (on botocore's Stubber in the tests: StartLoaderJob, GetLoaderJobStatus,
and openCypher as neptune-db:ReadDataViaQuery, + WriteDataViaQuery for CREATE/MERGE/SET, +
DeleteDataViaQuery for DELETE/REMOVE, on arn:aws:neptune-db:R:A:<cluster resource id>/*) and
DAX (the stand-in in dax.py checks dax:<Operation> on the cluster ARN for the caller, then
reaches moto's DynamoDB as the cluster's service role, as DAX does). S3's calls to KMS for an
SSE-KMS bucket (moto's S3 makes none) are authorized at the client too: PutObject needs
kms:GenerateDataKey, GetObject kms:Decrypt, on the bucket's default key, for the caller.
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
    _SSE_KMS_BUCKETS.clear()
    _CMK_TABLES.clear()


# S3 calls KMS with the caller's rights for an SSE-KMS object (moto does not): a write makes a
# data key, a read decrypts one. The key policies of the house keys admit the account, so IAM
# decides, and the caller's identity policy must allow it on the bucket's key.
_SSE_KMS_BUCKETS: dict[str, str] = {}  # bucket name -> the ARN of its default encryption key
_SSE_KMS_ACTIONS = {
    "PutObject": ["kms:GenerateDataKey"],
    "CreateMultipartUpload": ["kms:GenerateDataKey"],
    "GetObject": ["kms:Decrypt"],
}


def register_sse_kms_bucket(*, bucket: str, key_arn: str) -> None:
    _SSE_KMS_BUCKETS[bucket] = key_arn


# DynamoDB uses a table's customer-managed key on behalf of the principal that reads or writes
# the table (the key policy's DynamoDB statement is scoped by kms:ViaService and
# kms:CallerAccount for that reason): the caller's identity policy must allow kms:Decrypt on it.
# moto's DynamoDB calls no KMS, so the client checks it, as for S3 above.
_CMK_TABLES: dict[str, str] = {}  # table name -> the ARN of its customer-managed key
_ITEM_OPERATIONS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
}


def register_cmk_table(*, table: str, key_arn: str) -> None:
    _CMK_TABLES[table] = key_arn


def tables_in(operation: str, params: dict) -> set[str]:
    """The tables an item operation reads or writes (batch and transaction requests included)."""
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return set(params.get("RequestItems", {}))
    if operation in ("TransactGetItems", "TransactWriteItems"):
        return {
            request["TableName"]
            for item in params.get("TransactItems", [])
            for request in item.values()
            if isinstance(request, dict) and "TableName" in request
        }
    return {params["TableName"]} if "TableName" in params else set()


def cmk_table_keys(operation: str, params: dict) -> list[str]:
    """The customer-managed keys DynamoDB decrypts with as the caller for `operation`."""
    if operation not in _ITEM_OPERATIONS:
        return []
    return sorted({_CMK_TABLES[t] for t in tables_in(operation, params) if t in _CMK_TABLES})


def sse_kms_actions(operation: str, params: dict) -> tuple[list[str], str | None]:
    """The KMS actions S3 takes as the caller for `operation`, and the key (none: no SSE-KMS)."""
    key_arn = _SSE_KMS_BUCKETS.get(params.get("Bucket", ""))
    if key_arn is None or params.get("ServerSideEncryption") not in (None, "aws:kms"):
        return [], None
    return _SSE_KMS_ACTIONS.get(operation, []), key_arn


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

    class KmsAsRole:
        def _make_api_call(self, operation_name, api_params):
            if enforcement_active():
                actions, key_arn = sse_kms_actions(operation_name, api_params)
                for action in actions:
                    authorize(credentials, action, key_arn, operation_name)
            return super()._make_api_call(operation_name, api_params)

    def add_base(base_classes, **_):
        base_classes.insert(0, AuthorizedAsRole)

    class TableKeyAsRole:
        def _make_api_call(self, operation_name, api_params):
            if enforcement_active():
                for key_arn in cmk_table_keys(operation_name, api_params):
                    authorize(credentials, "kms:Decrypt", key_arn, operation_name)
            return super()._make_api_call(operation_name, api_params)

    def add_kms_base(base_classes, **_):
        base_classes.insert(0, KmsAsRole)

    def add_table_key_base(base_classes, **_):
        base_classes.insert(0, TableKeyAsRole)

    session.events.register("creating-client-class.neptunedata", add_base)
    session.events.register("creating-client-class.s3", add_kms_base)
    session.events.register("creating-client-class.dynamodb", add_table_key_base)


def dax_checked(resource, caller: RoleCredentials, cluster_arn: str):
    """`resource` (moto DynamoDB as the DAX cluster's service role) refusing what `caller` may
    not do on the cluster: DAX authorizes dax:<Operation> for the caller, then calls DynamoDB
    with its own role."""

    def check(model, **_):
        if enforcement_active():
            authorize(caller, f"dax:{model.name}", cluster_arn, model.name)

    resource.meta.client.meta.events.register_first("before-call.dynamodb", check)
    return resource
