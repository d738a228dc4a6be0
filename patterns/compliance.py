"""cdk-nag (v3 validation plugins) and the one way to acknowledge a finding.

An acknowledgment lives next to the resource it is about and must say why the rule does not
fit *that* resource; a reason that would fit any resource is a finding to fix instead.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import IConstruct

_MIN_REASON_WORDS = 6


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge cdk-nag `rule` (e.g. `AwsSolutions-IAM5[Resource::*]`) on `construct`.

    Applies to the construct and everything below it, so call it on the narrowest construct.
    """
    if not rule or "-" not in rule:
        raise ValueError(f"acknowledge: rule {rule!r} is not a cdk-nag rule id like 'AwsSolutions-S1'")
    if len((reason or "").split()) < _MIN_REASON_WORDS:
        raise ValueError(
            f"acknowledge({rule!r}): give a reason of at least {_MIN_REASON_WORDS} words that "
            f"holds for {construct.node.path}, got {reason!r}"
        )
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def add_compliance_checks(app: cdk.App) -> None:
    """AwsSolutions on every stack; findings fail `app.synth()` (details in validation-report.json)."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def add_serverless_checks(stack: cdk.Stack) -> None:
    """The Serverless pack too, for stacks built from Lambda/API Gateway/Step Functions/queues."""
    cdk.Validations.of(stack).add_plugins(ServerlessChecks(stack))
