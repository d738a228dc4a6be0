"""Run a template's Lambda functions in-process, as Lambda would: `FunctionInProcess`.

The handler is imported fresh from the very asset folder the template's `Code` points at (with
the `python/` folder of each layer it attaches), with the environment exactly as the template
sets it plus what Lambda adds (region, function name) and the credentials of the execution role
the template gives the function (assumed through moto's STS; a fresh default boto3 session, as
in a new execution environment). Import and every invocation run under `enforced()`
(iam_enforcement.py): a call the role's policies do not allow fails with AccessDenied.

`lambda_service_calls()` makes, as the same role, the calls the Lambda service itself makes with
the execution role: writing the function's logs to its log group, X-Ray segments when tracing is
active, the VPC network-interface calls, reading the event source (DynamoDB stream, SQS queue)
of each event source mapping, and sending to the mapping's on-failure destination, the
function's dead-letter queue or topic and its asynchronous-invocation destinations.

`load_handler` imports a handler for unit tests (no template, no role).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from tests.support.iam_enforcement import RoleCredentials, enforced, unenforced
from tests.support.intrinsics import ACCOUNT

# Names of the steps `lambda_service_calls()` makes, for tests to state what they expect.
LOG_STEPS = ["logs:CreateLogStream", "logs:PutLogEvents"]
TRACING_STEPS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
VPC_STEPS = [
    "ec2:DescribeSubnets",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "ec2:DeleteNetworkInterface",
]
STREAM_STEPS = [
    "dynamodb:ListStreams",
    "dynamodb:DescribeStream",
    "dynamodb:GetShardIterator",
    "dynamodb:GetRecords",
]


class FunctionInProcess:
    """A Lambda function of the template, run in-process from its asset folder as its role."""

    def __init__(self, stack, logical_id: str) -> None:
        self.stack = stack
        self.logical_id = logical_id
        self.properties = stack.properties(logical_id)
        self.environment: dict[str, str] = {
            k: str(v)
            for k, v in self.properties.get("Environment", {}).get("Variables", {}).items()
        }
        self.asset_dir = self._asset_dir()
        module, _, self.handler_name = self.properties["Handler"].rpartition(".")
        self.module_name = module
        self.role_logical_id = stack.role_id(stack.resources[logical_id]["Properties"]["Role"])
        self._module = None

    @property
    def name(self) -> str:
        return self.stack.names[self.logical_id]

    @property
    def credentials(self) -> RoleCredentials:
        """The execution role's temporary credentials (assumed once per test)."""
        return self.stack.role_credentials(self.role_logical_id)

    def _asset_dir(self) -> Path:
        """The folder the template's Code.S3Key names, via the stack's asset manifest."""
        return self.stack.asset_dir(self.properties["Code"]["S3Key"])

    @property
    def layer_dirs(self) -> list[Path]:
        """`python/` of each layer the template attaches (Lambda puts /opt/python on sys.path)."""
        return [
            self.stack.asset_dir(layer["Content"]["S3Key"]) / "python"
            for layer in self.resources_layers()
        ]

    def resources_layers(self) -> list[dict]:
        layers = []
        for arn in self.properties.get("Layers", []):
            for logical_id in self.stack.of_type("AWS::Lambda::LayerVersion"):
                if self.stack.ref(logical_id) == arn:
                    layers.append(self.stack.properties(logical_id))
        return layers

    @contextlib.contextmanager
    def environment_applied(self):
        """os.environ and boto3's default session as Lambda would set them for this function
        (template environment, region, name, role credentials), restored afterwards."""
        credentials = self.credentials
        saved, saved_session = dict(os.environ), boto3.DEFAULT_SESSION
        os.environ.update(self.environment)
        os.environ.update(
            {
                "AWS_REGION": self.stack.region,
                "AWS_DEFAULT_REGION": self.stack.region,
                "AWS_LAMBDA_FUNCTION_NAME": self.name,
                **credentials.environment(),
            }
        )
        boto3.DEFAULT_SESSION = credentials.session()
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)
            boto3.DEFAULT_SESSION = saved_session

    @contextlib.contextmanager
    def as_role(self):
        """A boto3 session of the execution role, with enforcement on: for the calls Lambda
        itself makes with the role (reading a stream for its event source mapping, ...)."""
        session = self.credentials.session()
        with enforced():
            yield session

    @property
    def module(self):
        """The handler module, imported fresh from the asset folder (clients made as the role)."""
        if self._module is None:
            with self.environment_applied(), enforced():
                self._module = import_from(self.asset_dir, self.module_name, self.layer_dirs)
        return self._module

    def attribute(self, name: str) -> Any:
        """`module.<name>` read inside the function's environment: a client the module makes
        lazily is made as the role, as it would be inside an invocation (e.g. to stub it)."""
        module = self.module
        with self.environment_applied(), enforced():
            return getattr(module, name)

    def invoke(self, event: dict, context: Any = None) -> Any:
        handler = getattr(self.module, self.handler_name)
        with self.environment_applied(), enforced():
            return handler(event, context or LambdaContext(self.name, self.stack.region))

    # -- what the Lambda service does with the execution role -----------------------------------

    def lambda_service_calls(self) -> list[str]:
        """Make the calls Lambda makes with this function's role; return their names. A refused
        call raises (ClientError with AccessDenied), noted with the step that made it."""
        done = []
        clients = _ClientCache(self.credentials.session())
        for step, call in self._service_steps():
            with enforced():
                try:
                    call(clients)
                except Exception as err:
                    err.add_note(f"Lambda service step {step!r} as {self.credentials.role_arn}")
                    raise
            done.append(step)
        return done

    def _service_steps(self):
        steps = []
        group = self._log_group()
        stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]0123456789abcdef"
        if not self.properties.get("LoggingConfig", {}).get("LogGroup"):
            steps.append(
                (
                    "logs:CreateLogGroup",
                    lambda s: _ignore_exists(
                        lambda: s.client("logs").create_log_group(logGroupName=group)
                    ),
                )
            )
        steps.append(
            (
                "logs:CreateLogStream",
                lambda s: s.client("logs").create_log_stream(
                    logGroupName=group, logStreamName=stream
                ),
            )
        )
        steps.append(
            (
                "logs:PutLogEvents",
                lambda s: s.client("logs").put_log_events(
                    logGroupName=group,
                    logStreamName=stream,
                    logEvents=[{"timestamp": int(time.time() * 1000), "message": "START"}],
                ),
            )
        )
        if self.traced:
            steps.append(
                (
                    "xray:PutTraceSegments",
                    lambda s: s.client("xray").put_trace_segments(
                        TraceSegmentDocuments=[_segment(self.name)]
                    ),
                )
            )
            steps.append(
                (
                    "xray:PutTelemetryRecords",
                    lambda s: s.client("xray").put_telemetry_records(
                        TelemetryRecords=[{"Timestamp": time.time()}]
                    ),
                )
            )
        if self.in_vpc:
            steps += _network_interface_steps(self.stack.region)
        for mapping in self._event_source_mappings():
            steps += _event_source_steps(self.stack, mapping)
            destination = (
                mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            )
            if destination:
                steps.append(_send_step("event source mapping on-failure destination", destination))
        dead_letters = self.properties.get("DeadLetterConfig", {}).get("TargetArn")
        if dead_letters:
            steps.append(_send_step("dead-letter target", dead_letters))
        for config in self._event_invoke_configs():
            for outcome in ("OnSuccess", "OnFailure"):
                destination = (
                    config.get("DestinationConfig", {}).get(outcome, {}).get("Destination")
                )
                if destination:
                    steps.append(_send_step(f"asynchronous {outcome} destination", destination))
        return steps

    @property
    def traced(self) -> bool:
        return self.properties.get("TracingConfig", {}).get("Mode") == "Active"

    @property
    def in_vpc(self) -> bool:
        return bool(self.properties.get("VpcConfig", {}).get("SubnetIds"))

    def _log_group(self) -> str:
        return (
            self.properties.get("LoggingConfig", {}).get("LogGroup") or f"/aws/lambda/{self.name}"
        )

    def _references_me(self, props: dict) -> bool:
        named = props.get("FunctionName")
        return self.stack.referenced_id(named, "AWS::Lambda::Function") == self.logical_id

    def _event_source_mappings(self) -> list[dict]:
        return [
            self.stack.properties(lid)
            for lid, r in self.stack.of_type("AWS::Lambda::EventSourceMapping").items()
            if self._references_me(r["Properties"])
        ]

    def _event_invoke_configs(self) -> list[dict]:
        return [
            self.stack.properties(lid)
            for lid, r in self.stack.of_type("AWS::Lambda::EventInvokeConfig").items()
            if self._references_me(r["Properties"])
        ]


class _ClientCache:
    """`.client(service, **kwargs)` once per service and arguments, like a long-lived poller."""

    def __init__(self, session) -> None:
        self.session, self.region_name, self._clients = session, session.region_name, {}

    def client(self, service: str, **kwargs):
        key = (service, repr(sorted(kwargs.items())))
        if key not in self._clients:
            self._clients[key] = self.session.client(service, **kwargs)
        return self._clients[key]


def _ignore_exists(call) -> None:
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as err:
        if err.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise


def _segment(name: str) -> str:
    now = time.time()
    return json.dumps(
        {
            "name": name,
            "id": "70de5b6f19ff9a0a",
            "start_time": now,
            "end_time": now + 0.01,
            "trace_id": f"1-{int(now):08x}-{'0' * 24}",
        }
    )


def _network_interface_steps(region: str):
    """The EC2 calls Lambda's documentation requires of a VPC function's role (it creates and
    manages the function's network interfaces with them). IAM allows them on "*" only; the
    interface goes into moto's default subnet (the template's subnets are not modelled)."""
    with unenforced():
        subnet = boto3.client("ec2", region_name=region).describe_subnets()["Subnets"][0][
            "SubnetId"
        ]
    made: dict[str, str] = {}

    def create(s):
        made["id"] = s.client("ec2").create_network_interface(
            SubnetId=subnet, Description="AWS Lambda VPC ENI"
        )["NetworkInterface"]["NetworkInterfaceId"]

    return [
        ("ec2:DescribeSubnets", lambda s: s.client("ec2").describe_subnets(SubnetIds=[subnet])),
        ("ec2:CreateNetworkInterface", create),
        (
            "ec2:DescribeNetworkInterfaces",
            lambda s: s.client("ec2").describe_network_interfaces(NetworkInterfaceIds=[made["id"]]),
        ),
        (
            "ec2:AssignPrivateIpAddresses",
            lambda s: s.client("ec2").assign_private_ip_addresses(
                NetworkInterfaceId=made["id"], SecondaryPrivateIpAddressCount=1
            ),
        ),
        (
            "ec2:UnassignPrivateIpAddresses",
            lambda s: s.client("ec2").unassign_private_ip_addresses(
                NetworkInterfaceId=made["id"], PrivateIpAddresses=_secondary_ips(region, made["id"])
            ),
        ),
        (
            "ec2:DeleteNetworkInterface",
            lambda s: s.client("ec2").delete_network_interface(NetworkInterfaceId=made["id"]),
        ),
    ]


def _secondary_ips(region: str, interface: str) -> list[str]:
    with unenforced():
        described = boto3.client("ec2", region_name=region).describe_network_interfaces(
            NetworkInterfaceIds=[interface]
        )["NetworkInterfaces"][0]
    return [a["PrivateIpAddress"] for a in described["PrivateIpAddresses"] if not a["Primary"]]


def _event_source_steps(stack, mapping: dict):
    """What Lambda's poller calls on the mapping's source with the function's role."""
    source = mapping["EventSourceArn"]
    if ":dynamodb:" in source and "/stream/" in source:
        table = source.split(":table/", 1)[1].split("/stream/", 1)[0]
        iterator: dict[str, str] = {}

        def streams(s):
            # botocore sends StreamArn calls to <account>.streams-ddb...; moto answers the
            # classic host
            return s.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))

        def shard_iterator(s):
            shard = streams(s).describe_stream(StreamArn=source)["StreamDescription"]["Shards"][0]
            iterator["value"] = streams(s).get_shard_iterator(
                StreamArn=source, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]

        return [
            ("dynamodb:ListStreams", lambda s: streams(s).list_streams(TableName=table)),
            ("dynamodb:DescribeStream", lambda s: streams(s).describe_stream(StreamArn=source)),
            ("dynamodb:GetShardIterator", shard_iterator),
            (
                "dynamodb:GetRecords",
                lambda s: streams(s).get_records(ShardIterator=iterator["value"]),
            ),
        ]
    raise NotImplementedError(f"no Lambda poller modelled for {source}")


def _queue_url(arn: str) -> str:
    _, _, _, region, account, name = arn.split(":", 5)
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


def _send_step(what: str, destination: str):
    body = json.dumps({"requestContext": {"condition": "RetriesExhausted"}, "note": what})
    if ":sqs:" in destination:
        return (
            f"sqs:SendMessage ({what})",
            lambda s: s.client("sqs").send_message(
                QueueUrl=_queue_url(destination), MessageBody=body
            ),
        )
    if ":sns:" in destination:
        return (
            f"sns:Publish ({what})",
            lambda s: s.client("sns").publish(TopicArn=destination, Message=body),
        )
    raise NotImplementedError(f"no destination modelled for {destination}")


class LambdaContext:
    def __init__(self, function_name: str, region: str = "us-east-1") -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function_name}"
        self.aws_request_id = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def import_from(folder: Path, module_name: str, layer_dirs: list[Path] = ()):
    """Import `module_name` from `folder` without leaking it (or its siblings) to other tests.

    The folder goes at the *end* of sys.path: a bundled asset holds dependencies built for the
    Lambda platform (arm64), so third-party packages must come from the test environment while
    the handler's own modules can only come from the asset.
    """
    folders = [str(folder), *map(str, layer_dirs)]
    own = {p.stem for f in folders for p in Path(f).glob("*.py")} - _bundled_modules(folders)
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None) or ""
        if name.split(".")[0] in own or "/lambda_src/" in origin or "/asset." in origin:
            del sys.modules[name]
    sys.path.extend(folders)
    try:
        return importlib.import_module(module_name)
    finally:
        for f in folders:
            sys.path.remove(f)


def _bundled_modules(folders: list[str]) -> set[str]:
    """Top-level names of the third-party packages bundled into the assets (their dist-info
    RECORDs say which): single-file ones such as six or typing_extensions are not the handler's
    own, and evicting them from sys.modules would split the test process's copy in two."""
    names = set()
    for folder in folders:
        for record in Path(folder).glob("*.dist-info/RECORD"):
            for line in record.read_text().splitlines():
                names.add(line.split(",", 1)[0].split("/", 1)[0].removesuffix(".py"))
    return names


def load_handler(source: str, module: str = "handler", layers: tuple[str, ...] = ()):
    """Import `lambda_src/<source>/<module>.py` fresh, for handler unit tests.

    `layers` names folders under lambda_src/layers/ whose modules the handler imports.
    Set the environment (monkeypatch.setenv) and start moto *before* calling this: handlers
    create their boto3 clients at import time, as they do in Lambda.
    """
    from tests.support.synth import REPO_ROOT

    src = REPO_ROOT / "lambda_src"
    return import_from(src / source, module, [src / "layers" / layer for layer in layers])
