"""EventBridge, as far as the wiring tests need it: does a rule of the template match an event,
and what does its target receive?"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from tests.support.intrinsics import ACCOUNT


def event_matches(pattern: Any, event: Any) -> bool:
    """EventBridge content filtering, for the matchers CDK templates here use: exact values,
    prefix, suffix, wildcard, exists, anything-but (string or list)."""
    if isinstance(pattern, dict):
        if not isinstance(event, dict):
            return False
        return all(
            _field_matches(value, event.get(key), key in event)
            if isinstance(value, list)
            else event_matches(value, event.get(key))
            for key, value in pattern.items()
        )
    return pattern == event


def _field_matches(matchers: list, value: Any, present: bool) -> bool:
    values = value if isinstance(value, list) else [value]
    for matcher in matchers:
        if not isinstance(matcher, dict):
            if present and matcher in values:
                return True
            continue
        ((kind, arg),) = matcher.items()
        if kind == "exists" and present == arg:
            return True
        if not present:
            continue
        for v in values:
            if kind == "prefix" and isinstance(v, str) and v.startswith(arg):
                return True
            if kind == "suffix" and isinstance(v, str) and v.endswith(arg):
                return True
            if (
                kind == "wildcard"
                and isinstance(v, str)
                and fnmatch.fnmatchcase(v, arg.replace("[", "[[]"))
            ):
                return True
            if kind == "anything-but" and v not in (arg if isinstance(arg, list) else [arg]):
                return True
    return False


def json_path(document: Any, path: str) -> Any:
    value = document
    for part in path.removeprefix("$").strip(".").split("."):
        if part:
            value = value[part]
    return value


def rule_target_input(target: dict, event: dict) -> Any:
    """What an EventBridge target (from the template, resolved) receives for `event`."""
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        return json_path(event, target["InputPath"])
    transformer = target.get("InputTransformer")
    if not transformer:
        return event
    text = transformer["InputTemplate"]
    for name, path in transformer.get("InputPathsMap", {}).items():
        text = text.replace(f"<{name}>", json.dumps(json_path(event, path)))
    return json.loads(text)


def started_functions(stack, event: dict) -> list[tuple[str, Any]]:
    """(ARN, input) of each Lambda function a rule of `stack` (a tests.support.intrinsics
    template with its intrinsics resolvable) starts for `event` on the default bus."""
    started = []
    for rule_id in stack.of_type("AWS::Events::Rule"):
        rule = stack.properties(rule_id)
        if "EventBusName" in rule or not event_matches(rule["EventPattern"], event):
            continue
        started += [
            (target["Arn"], rule_target_input(target, event))
            for target in rule["Targets"]
            if ":function:" in target["Arn"]
        ]
    return started


def s3_object_created_event(bucket: str, key: str, region: str = "us-east-1") -> dict:
    """The event S3 sends to EventBridge when an object lands (EventBridge notifications on)."""
    return {
        "version": "0",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "account": ACCOUNT,
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 0, "etag": "d41d8cd98f00b204e9800998ecf8427e"},
            "reason": "PutObject",
        },
    }
