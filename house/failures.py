"""Where a stack parks the work it could not do, read from CloudFormation resources (plain dicts,
no CDK): the one definition the house alarms (house/operations.py) and the deploy rule that
checks them (deployment/rules.py) share.

A resource names its failure destination under one of three property names, at any depth:

- `RedrivePolicy` (`deadLetterTargetArn`): an SQS queue's dead-letter queue, an SNS
  subscription's;
- `DeadLetterConfig` (`TargetArn` or `Arn`): an asynchronous Lambda function's, an EventBridge
  rule target's, an EventBridge Scheduler target's, an EventBridge pipe source's;
- `OnFailure` (`Destination`): a Lambda event source mapping's (streams) and an asynchronous
  invocation configuration's (`AWS::Lambda::EventInvokeConfig`).

A stream mapping (DynamoDB or Kinesis) can also fall behind without failing: its iterator age
says how old the oldest record it has not processed is, and the stream drops records at its
retention (24 hours by default).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

FAILURE_KEYS = ("RedrivePolicy", "DeadLetterConfig", "OnFailure")
# The resource types that can name a failure destination (what house/operations.py reads).
FAILURE_SOURCE_TYPES = (
    "AWS::SQS::Queue",
    "AWS::SNS::Subscription",
    "AWS::Lambda::Function",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
    "AWS::Pipes::Pipe",
)
# What a failure destination can be and be watched for its first message.
QUEUE = "AWS::SQS::Queue"
TOPIC = "AWS::SNS::Topic"
# How long a stream keeps a record when nothing says otherwise (DynamoDB Streams: always;
# Kinesis Data Streams: the default retention).
STREAM_RETENTION_SECONDS = 24 * 3600


def referenced(value) -> Iterator[str]:
    """Every logical id a `Ref` or `Fn::GetAtt` inside `value` points to."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            yield value["Ref"]
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and isinstance(attribute[0], str):
            yield attribute[0]
        elif isinstance(attribute, str):
            yield attribute.split(".", 1)[0]
        for inner in value.values():
            yield from referenced(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from referenced(inner)


def failure_destinations(properties) -> set[str]:
    """The logical ids `properties` name as failure destinations, at any depth."""
    found: set[str] = set()
    if isinstance(properties, dict):
        for key, value in properties.items():
            if key in FAILURE_KEYS:
                found |= set(referenced(value))
            else:
                found |= failure_destinations(value)
    elif isinstance(properties, list):
        for item in properties:
            found |= failure_destinations(item)
    return found


def watched_destinations(resources: Mapping[str, dict]) -> dict[str, set[str]]:
    """Failure destination (logical id of a queue or topic of `resources`) -> the logical ids of
    the resources that send their failures there."""
    found: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        for target in failure_destinations(resource.get("Properties") or {}):
            if resources.get(target, {}).get("Type") in (QUEUE, TOPIC):
                found.setdefault(target, set()).add(logical_id)
    return found


def stream_mappings(resources: Mapping[str, dict]) -> dict[str, dict]:
    """Logical id -> properties of every event source mapping that reads a DynamoDB or Kinesis
    stream (the sources that report an iterator age)."""
    found = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::EventSourceMapping":
            continue
        properties = resource.get("Properties") or {}
        source = properties.get("EventSourceArn")
        sources = {resources.get(ref, {}).get("Type") for ref in referenced(source)}
        literal = source if isinstance(source, str) else ""
        if sources & {
            "AWS::DynamoDB::Table",
            "AWS::DynamoDB::GlobalTable",
            "AWS::Kinesis::Stream",
            "AWS::Kinesis::StreamConsumer",
        } or (":kinesis:" in literal or (":dynamodb:" in literal and "/stream/" in literal)):
            found[logical_id] = properties
    return found


def iterator_age_limit_seconds(mapping: Mapping) -> int:
    """How old a record may get before the mapping gives up on it (MaximumRecordAgeInSeconds)
    or the stream drops it, whichever comes first."""
    age = mapping.get("MaximumRecordAgeInSeconds")
    if isinstance(age, int) and 0 < age < STREAM_RETENTION_SECONDS:
        return age
    return STREAM_RETENTION_SECONDS
