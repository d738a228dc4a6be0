"""The resource-ARN shim for moto's IAM enforcement (iam_enforcement.py), installed only while
enforced.

moto 5.2.5 authorizes most JSON/query services against Resource `"*"`, so a correctly scoped
grant is refused. While enforced, these handlers get the resource
ARN AWS evaluates instead:

    DynamoDB          TableName (or a table ARN) -> arn:aws:dynamodb:R:A:table/T
                      + IndexName (Query/Scan)   -> .../table/T/index/I
                      BatchGet/BatchWrite/Transact*: the first table they name
    DynamoDB Streams  StreamArn                  -> that stream ARN
                      GetRecords(ShardIterator)  -> the stream ARN the iterator belongs to
                      ListStreams(TableName)     -> the table's latest stream ARN ("*" without)
    SNS               TopicArn / TargetArn       -> that ARN
    SES (v1)          SendEmail/SendRawEmail     -> arn:aws:ses:R:A:identity/<Source address, or
                                                    its domain if only the domain is verified>
    KMS               KeyId (an id, ARN or alias) -> arn:aws:kms:R:A:key/<id> (CreateKey, ListKeys:
                                                    "*")
    CloudWatch Logs   logGroupName[, logStreamName] -> arn:aws:logs:R:A:log-group:G:log-stream:S
                                                    (G:* without a stream)
    X-Ray             (action name only) moto's xray:TraceSegments -> xray:PutTraceSegments,
                      xray:TelemetryRecords -> xray:PutTelemetryRecords
    EC2 (Lambda's network interfaces)
                      CreateNetworkInterface     -> arn:aws:ec2:R:A:network-interface/* (what
                                                    Lambda checks when a VPC function is created;
                                                    the subnet and security-group ARNs the real
                                                    call is also authorized against are not)
                      Delete/Assign/Unassign...  -> arn:aws:ec2:R:A:network-interface/<id>

S3 (bucket / bucket/key, with moto's per-request action names such as GetObjectVersion), SQS
(queue ARN), IAM and STS (role ARN) already give moto their resource. Every other service stays
on `"*"`: a grant scoped to a real ARN there is refused, loudly, as it should be until mapped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from email.utils import parseaddr
from typing import Any

from tests.support.iam_refusals import record_refusal

_PARTITION = "aws"
_installed = 0


@contextlib.contextmanager
def resource_arns() -> Iterator[None]:
    global _installed
    from moto.iam.access_control import IAMRequestBase
    from moto.xray.responses import XRayResponse

    classes = _handler_classes()
    if _installed == 0:
        for cls, resource_of in classes.items():
            cls._determine_resource = resource_of
        XRayResponse._authenticate_and_authorize_normal_action = _xray_authorize
        IAMRequestBase.check_action_permitted = _recording(IAMRequestBase.check_action_permitted)
    _installed += 1
    try:
        yield
    finally:
        _installed -= 1
        if _installed == 0:
            for cls in classes:
                del cls._determine_resource
            del XRayResponse._authenticate_and_authorize_normal_action
            IAMRequestBase.check_action_permitted = IAMRequestBase.check_action_permitted.original


def _recording(check):
    def check_action_permitted(self, resource: str) -> None:
        try:
            check(self, resource)
        except Exception:
            record_refusal(self._action, resource, self._access_key.arn)
            raise

    check_action_permitted.original = check
    return check_action_permitted


def _handler_classes() -> dict[type, Any]:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.ec2.responses import EC2Response
    from moto.kms.responses import KmsResponse
    from moto.logs.responses import LogsResponse
    from moto.ses.responses import EmailResponse
    from moto.sns.responses import SNSResponse

    return {
        DynamoHandler: _dynamodb_resource,
        DynamoDBStreamsHandler: _streams_resource,
        SNSResponse: _sns_resource,
        EmailResponse: _ses_resource,
        LogsResponse: _logs_resource,
        KmsResponse: _kms_resource,
        EC2Response: _ec2_resource,
    }


# -- the shim: the resource each request is authorized against -------------------------------------


def _param(response, name: str) -> Any:
    params = getattr(response, "params", None)
    if isinstance(params, dict) and name in params:
        return params[name]
    return response._get_param(name)


def _table_arn(response, table: str) -> str:
    if table.startswith("arn:"):
        return table
    return f"arn:{_PARTITION}:dynamodb:{response.region}:{response.current_account}:table/{table}"


def _dynamodb_resource(response) -> str:
    table = _param(response, "TableName")
    if not table:
        for collection in ("RequestItems",):
            names = list(_param(response, collection) or {})
            if names:
                return _table_arn(response, names[0])
        for item in _param(response, "TransactItems") or []:
            for operation in item.values():
                if isinstance(operation, dict) and operation.get("TableName"):
                    return _table_arn(response, operation["TableName"])
        return "*"
    arn = _table_arn(response, table)
    index = _param(response, "IndexName")
    return f"{arn}/index/{index}" if index else arn


def _streams_resource(response) -> str:
    arn = _param(response, "StreamArn")
    if arn:
        return arn
    iterator = _param(response, "ShardIterator")
    if iterator:
        return iterator.split("|", 1)[0]  # moto's iterators are "<stream arn>|1|<id>"
    table = _param(response, "TableName")
    if table:
        from moto.dynamodb.models import dynamodb_backends

        found = dynamodb_backends[response.current_account][response.region].get_table(table)
        if found.latest_stream_label:
            return f"{found.table_arn}/stream/{found.latest_stream_label}"
    return "*"


def _sns_resource(response) -> str:
    return _param(response, "TopicArn") or _param(response, "TargetArn") or "*"


def _ses_resource(response) -> str:
    if response._get_action() not in ("SendEmail", "SendRawEmail"):
        return "*"
    _, address = parseaddr(_param(response, "Source") or "")
    if not address:
        return "*"
    from moto.ses.models import ses_backends

    identities = ses_backends[response.current_account][response.region].email_identities
    identity = address if address in identities else address.split("@", 1)[-1]
    return f"arn:{_PARTITION}:ses:{response.region}:{response.current_account}:identity/{identity}"


def _kms_resource(response) -> str:
    key = _param(response, "KeyId")
    if not isinstance(key, str) or not key:
        return "*"
    from moto.kms.models import kms_backends

    backend = kms_backends[response.current_account][response.region]
    try:
        key_id = backend.any_id_to_key_id(key)
    except Exception:  # noqa: BLE001 - an unknown key: let moto answer NotFound as AWS would
        return key
    return f"arn:{_PARTITION}:kms:{response.region}:{response.current_account}:key/{key_id}"


def _logs_resource(response) -> str:
    group = _param(response, "logGroupName")
    if not group:
        return "*"
    base = f"arn:{_PARTITION}:logs:{response.region}:{response.current_account}:log-group:{group}"
    stream = _param(response, "logStreamName")
    return f"{base}:log-stream:{stream}" if stream else f"{base}:*"


_INTERFACE_ACTIONS = {
    "DeleteNetworkInterface",
    "AssignPrivateIpAddresses",
    "UnassignPrivateIpAddresses",
}


def _ec2_resource(response) -> str:
    action = response._get_action()
    interfaces = (
        f"arn:{_PARTITION}:ec2:{response.region}:{response.current_account}:network-interface"
    )
    if action == "CreateNetworkInterface":
        return f"{interfaces}/*"
    if action in _INTERFACE_ACTIONS:
        return f"{interfaces}/{_param(response, 'NetworkInterfaceId')}"
    return "*"


_XRAY_ACTIONS = {
    "TraceSegments": "PutTraceSegments",
    "TelemetryRecords": "PutTelemetryRecords",
    "Traces": "BatchGetTraces",
    "TraceSummaries": "GetTraceSummaries",
    "ServiceGraph": "GetServiceGraph",
    "TraceGraph": "GetTraceGraph",
}


def _xray_authorize(self, resource: str = "*") -> None:
    """moto names X-Ray's actions after the URL path (xray:TraceSegments); IAM's are the
    operation names (xray:PutTraceSegments). Authorize under the IAM name."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.xray.responses import XRayResponse

    path = XRayResponse._get_action(self)
    self._get_action = lambda: _XRAY_ACTIONS.get(path, path)
    try:
        ActionAuthenticatorMixin._authenticate_and_authorize_normal_action(self, resource)
    finally:
        del self._get_action
