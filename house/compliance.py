"""cdk-nag (v3 validation plugins) and the one way to acknowledge a finding.

An acknowledgment lives next to the resource it is about and must say why the rule does not
fit *that* resource; a reason that would fit any resource is a finding to fix instead.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct

_MIN_REASON_WORDS = 6


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge cdk-nag `rule` (e.g. `AwsSolutions-IAM5[Resource::*]`) on `construct`.

    Applies to the construct and everything below it, so call it on the narrowest construct.
    """
    if not rule or "-" not in rule:
        raise ValueError(
            f"acknowledge: rule {rule!r} is not a cdk-nag rule id like 'AwsSolutions-S1'"
        )
    if len((reason or "").split()) < _MIN_REASON_WORDS:
        raise ValueError(
            f"acknowledge({rule!r}): give a reason of at least {_MIN_REASON_WORDS} words that "
            f"holds for {construct.node.path}, got {reason!r}"
        )
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def add_compliance_checks(app: cdk.App) -> None:
    """AwsSolutions on every stack; findings fail `app.synth()` (see validation-report.json)."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def add_serverless_checks(stack: cdk.Stack) -> None:
    """The Serverless pack too, for stacks built from Lambda/API Gateway/Step Functions/queues."""
    cdk.Validations.of(stack).add_plugins(ServerlessChecks(stack))


def finding_name(node) -> str:
    """A resolved CloudFormation value as cdk-nag names it in a finding (flattenCfnReference)."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return delimiter.join(finding_name(item) for item in items)
    if isinstance(node, dict) and "Fn::Sub" in node:
        return finding_name(node["Fn::Sub"])
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        resource, attribute = node["Fn::GetAtt"]
        return f"<{finding_name(resource)}.{finding_name(attribute)}>"
    if isinstance(node, dict) and "Fn::ImportValue" in node:
        return finding_name(node["Fn::ImportValue"])
    if isinstance(node, dict) and "Ref" in node:
        return f"<{finding_name(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def acknowledge_wildcard_resources(
    role: iam.IRole | None, actions: set[str], reason: str
) -> list[str]:
    """Acknowledge AwsSolutions-IAM5 for the wildcard resources of those statements of `role`'s
    default policy whose actions all lie in `actions`, and nothing else.

    The finding names the resource as synthesized (region and partition may be literals or
    tokens depending on the environment), so it is read from the policy, not written by hand.
    Call it after every grant to the role. Returns the acknowledged rule ids.
    """
    policy = role.node.try_find_child("DefaultPolicy") if role else None
    if policy is None:
        return []
    document = cdk.Stack.of(policy).resolve(policy.document)  # type: ignore[attr-defined]
    rules = []
    for statement in document.get("Statement", []):
        statement_actions = statement.get("Action", [])
        if isinstance(statement_actions, str):
            statement_actions = [statement_actions]
        if statement.get("Effect") != "Allow" or not set(statement_actions) <= actions:
            continue
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            flat = finding_name(resource)
            if "*" in flat:
                rules.append(f"AwsSolutions-IAM5[Resource::{flat}]")
    for rule in dict.fromkeys(rules):
        acknowledge(policy, rule, reason)
    return rules
