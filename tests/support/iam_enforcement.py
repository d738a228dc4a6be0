"""IAM enforcement for the wiring tests: code runs with its template role's credentials, and moto
refuses what that role's policies do not allow.

How: `StackInMoto` creates the template's roles and policies in moto's IAM and assumes a role
through moto's STS (`RoleCredentials`). Inside `enforced()`, moto's own request authorization is
on (`moto.core.authorization.enable_iam_authentication`, the context form of
`set_initial_no_auth_action_count(0)`; the count and the setting are restored on exit, so each
test starts unenforced): every request must carry a valid signature of known credentials, and the
caller's identity policies (inline + attached managed, evaluated by moto's `IAMPolicy`) must
allow the action on the resource. An explicit Deny wins.

The shim (`_handler_classes`, installed only while enforced): moto 5.2.5 authorizes most
JSON/query services against Resource
`"*"`, so a correctly scoped grant is refused. While enforced, these handlers get the resource
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
    CloudWatch Logs   logGroupName[, logStreamName] -> arn:aws:logs:R:A:log-group:G:log-stream:S
                                                    (G:* without a stream)
    X-Ray             (action name only) moto's xray:TraceSegments -> xray:PutTraceSegments,
                      xray:TelemetryRecords -> xray:PutTelemetryRecords

S3 (bucket / bucket/key, with moto's per-request action names such as GetObjectVersion), SQS
(queue ARN), IAM and STS (role ARN) already give moto their resource. Every other service stays
on `"*"`: a grant scoped to a real ARN there is refused, loudly, as it should be until mapped.

Services moto cannot serve are authorized by the same evaluator at the client (`authorize`):
the Neptune data API (on botocore's Stubber in the tests: StartLoaderJob, GetLoaderJobStatus,
and openCypher as neptune-db:ReadDataViaQuery, + WriteDataViaQuery for CREATE/MERGE/SET, +
DeleteDataViaQuery for DELETE/REMOVE, on arn:aws:neptune-db:R:A:<cluster resource id>/*) and
DAX (the stand-in in dax.py checks dax:<Operation> on the cluster ARN for the caller, then
reaches moto's DynamoDB as the cluster's service role, as DAX does).

Every refusal is recorded (`refusals()`, `attempt()`: action, resource, principal), whatever
the code under test made of the error (raised it, answered 500, reported a failed batch item).

What this proves: every call the driven paths make is allowed by Action + Resource of the role
the template gives the code, and removing a grant a path needs makes it fail with AccessDenied
(benchmarks/grant_mutations.py removes each grant in turn; the `test_without_*` wiring tests pin
the important ones).

What it does not prove: Condition elements of identity policies are treated as met
(`dynamodb:LeadingKeys`, `ses:FromAddress`, `aws:SourceVpce`, `aws:SecureTransport`,
`elasticfilesystem:AccessPointArn`, `ecs:cluster`, ...): moto compares StringEquals against
request values it collects only for trust policies, so a statement with a wrong condition still
allows here.
Resource policies (bucket/queue/topic/key policies), permission boundaries, SCPs, session
policies and KMS key policies are not evaluated; nor are the KMS calls a service makes on the
caller's behalf (SSE-KMS). Pre-signed requests are not authorized by moto (a pre-signed POST is
modelled by uploading as its signer). moto's matching differs from IAM's in details: each
pattern becomes a regex with only `*` translated, so `.` matches any character, `?` is a regex
quantifier, matching is case-sensitive for actions, `NotResource` and policy variables
(`${aws:username}`, `${cognito-identity.amazonaws.com:sub}`) are not supported. DynamoDB/SNS/SES
denials reach botocore as moto's XML `AccessDenied` body on HTTP 403, so the parsed error code
can read `403` where AWS says `AccessDeniedException`; the message names the action either way.
Template assertions (test_stack.py files, and the wiring tests where noted) cover the rest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
from collections.abc import Iterator
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.exceptions import ClientError

_PARTITION = "aws"


@dataclasses.dataclass(frozen=True)
class RoleCredentials:
    """Temporary credentials of one role of a template, issued by moto's STS."""

    role_arn: str
    role_logical_id: str
    region: str
    access_key_id: str
    secret_access_key: str
    session_token: str

    def environment(self) -> dict[str, str]:
        """What Lambda puts in a function's environment for its execution role."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }

    def session(self) -> boto3.Session:
        """A boto3 session of these credentials (one per credentials: clients made from it share
        botocore's parsed service models, which take a second to load for EC2)."""
        if self.access_key_id not in _SESSIONS:
            core = botocore.session.Session()
            core.register_component("data_loader", _shared_loader())
            session = boto3.Session(
                aws_access_key_id=self.access_key_id,
                aws_secret_access_key=self.secret_access_key,
                aws_session_token=self.session_token,
                region_name=self.region,
                botocore_session=core,
            )
            _register_stubbed_service_checks(session, self)
            _SESSIONS[self.access_key_id] = session
        return _SESSIONS[self.access_key_id]

    def client(self, service: str, **kwargs) -> Any:
        return self.session().client(service, **kwargs)


_SESSIONS: dict[str, boto3.Session] = {}


@functools.cache
def _shared_loader():
    """One botocore data loader for every role session (it caches the parsed models)."""
    return botocore.session.Session().get_component("data_loader")


def harness_session(region: str) -> boto3.Session:
    """A session of the test's own (environment) credentials sharing the parsed models."""
    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader())
    return boto3.Session(botocore_session=core, region_name=region)


# -- switching enforcement on ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Refusal:
    """One request IAM refused while enforced: what, on which resource, for whom."""

    action: str
    resource: str
    principal: str


_collectors: list[list[Refusal]] = []  # one per open `refusals()` block
_installed = 0


@contextlib.contextmanager
def refusals() -> Iterator[list[Refusal]]:
    """The refusals made inside this block, whatever the code under test did with the error
    (raised it, turned it into a 500, reported a batch item failure, logged it)."""
    found: list[Refusal] = []
    _collectors.append(found)
    try:
        yield found
    finally:
        _collectors.remove(found)


def _refused(action: str, resource: str, principal: str) -> None:
    for collector in _collectors:
        collector.append(Refusal(action, resource, principal))


@contextlib.contextmanager
def enforced() -> Iterator[None]:
    """moto authorizes every request in this block (signature + the caller's IAM policies)."""
    from moto.core.authorization import enable_iam_authentication

    with _resource_arns(), enable_iam_authentication():
        yield


@contextlib.contextmanager
def unenforced() -> Iterator[None]:
    """The test harness's own calls inside an enforced block (e.g. a stand-in's setup)."""
    from moto.core.authorization import disable_iam_authentication

    with disable_iam_authentication():
        yield


@dataclasses.dataclass
class Attempt:
    """What running some code under enforcement came to."""

    result: Any
    error: BaseException | None
    refused: list[Refusal]

    @property
    def refused_actions(self) -> set[str]:
        return {r.action for r in self.refused}

    @property
    def failed(self) -> bool:
        """It raised, answered with a 5xx status, or reported failed batch items."""
        if self.error is not None:
            return True
        if isinstance(self.result, dict):
            status = self.result.get("statusCode")
            return (isinstance(status, int) and status >= 500) or bool(
                self.result.get("batchItemFailures")
            )
        return False


def attempt(call, *args, **kwargs) -> Attempt:
    """Run `call`, keeping what it returned or raised and what IAM refused meanwhile."""
    with refusals() as refused:
        try:
            result, error = call(*args, **kwargs), None
        except Exception as err:  # noqa: BLE001 - the caller asserts on it
            result, error = None, err
    return Attempt(result, error, refused)


@contextlib.contextmanager
def _resource_arns() -> Iterator[None]:
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
            _refused(self._action, resource, self._access_key.arn)
            raise

    check_action_permitted.original = check
    return check_action_permitted


def _handler_classes() -> dict[type, Any]:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.logs.responses import LogsResponse
    from moto.ses.responses import EmailResponse
    from moto.sns.responses import SNSResponse

    return {
        DynamoHandler: _dynamodb_resource,
        DynamoDBStreamsHandler: _streams_resource,
        SNSResponse: _sns_resource,
        EmailResponse: _ses_resource,
        LogsResponse: _logs_resource,
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


def _logs_resource(response) -> str:
    group = _param(response, "logGroupName")
    if not group:
        return "*"
    base = f"arn:{_PARTITION}:logs:{response.region}:{response.current_account}:log-group:{group}"
    stream = _param(response, "logStreamName")
    return f"{base}:log-stream:{stream}" if stream else f"{base}:*"


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


# -- the same evaluator, for services moto does not serve ------------------------------------------


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
        _refused(action, resource, key.arn)
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
    _SESSIONS.clear()


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


def _register_stubbed_service_checks(session: boto3.Session, credentials: RoleCredentials) -> None:
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
