"""What the Lambda service itself does with a function's execution role, made as that role
under IAM enforcement (`FunctionInProcess.lambda_service_calls()`): writing the function's logs
to its log group, X-Ray segments when tracing is active, the VPC network-interface calls, reading
the event source (DynamoDB stream) of each event source mapping, and sending to the mapping's
on-failure destination, the function's dead-letter queue or topic and its asynchronous-
invocation destinations.
"""

from __future__ import annotations

import json
import time

import boto3
from botocore.config import Config

from tests.support.iam_enforcement import enforced, unenforced

# Names of the steps `service_calls()` makes, for tests to state what they expect.
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


def service_calls(function) -> list[str]:
    """Make the calls Lambda makes with `function`'s role; return their names. A refused call
    raises (ClientError with AccessDenied), noted with the step that made it."""
    done = []
    clients = _ClientCache(function.credentials.session())
    for step, call in service_steps(function):
        with enforced():
            try:
                call(clients)
            except Exception as err:
                err.add_note(f"Lambda service step {step!r} as {function.credentials.role_arn}")
                raise
        done.append(step)
    return done


def service_steps(function) -> list:
    """(name, call) of each call the Lambda service makes with the function's role."""
    steps = []
    group = _log_group(function)
    stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]0123456789abcdef"
    if not function.properties.get("LoggingConfig", {}).get("LogGroup"):
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
            lambda s: s.client("logs").create_log_stream(logGroupName=group, logStreamName=stream),
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
    if function.traced:
        steps.append(
            (
                "xray:PutTraceSegments",
                lambda s: s.client("xray").put_trace_segments(
                    TraceSegmentDocuments=[_segment(function.name)]
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
    if function.in_vpc:
        steps += _network_interface_steps(function.stack.region)
    for mapping in _event_source_mappings(function):
        steps += _event_source_steps(function.stack, mapping)
        destination = mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination:
            steps.append(_send_step("event source mapping on-failure destination", destination))
    dead_letters = function.properties.get("DeadLetterConfig", {}).get("TargetArn")
    if dead_letters:
        steps.append(_send_step("dead-letter target", dead_letters))
    for config in _event_invoke_configs(function):
        for outcome in ("OnSuccess", "OnFailure"):
            destination = config.get("DestinationConfig", {}).get(outcome, {}).get("Destination")
            if destination:
                steps.append(_send_step(f"asynchronous {outcome} destination", destination))
    return steps


def _log_group(function) -> str:
    return (
        function.properties.get("LoggingConfig", {}).get("LogGroup")
        or f"/aws/lambda/{function.name}"
    )


def _references_me(function, props: dict) -> bool:
    named = props.get("FunctionName")
    return function.stack.referenced_id(named, "AWS::Lambda::Function") == function.logical_id


def _event_source_mappings(function) -> list[dict]:
    return [
        function.stack.properties(lid)
        for lid, r in function.stack.of_type("AWS::Lambda::EventSourceMapping").items()
        if _references_me(function, r["Properties"])
    ]


def _event_invoke_configs(function) -> list[dict]:
    return [
        function.stack.properties(lid)
        for lid, r in function.stack.of_type("AWS::Lambda::EventInvokeConfig").items()
        if _references_me(function, r["Properties"])
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
