"""cdk-nag (v3 validation plugins) and the one way to acknowledge a finding.

An acknowledgment lives next to the resource it is about and must say why the rule does not
fit *that* resource; a reason that would fit any resource is a finding to fix instead.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence

import aws_cdk as cdk
import jsii
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
    role: iam.IRole | None, actions: set[str], reason: str, *, exactly: bool = False
) -> list[str]:
    """Acknowledge AwsSolutions-IAM5 for the wildcard resources of those statements of `role`'s
    default policy whose actions all lie in `actions` (`exactly`: are exactly `actions`), and
    nothing else.

    The finding names the resource as synthesized (region and partition may be literals or
    tokens depending on the environment), so it is read from the policy, not written by hand.
    Call it after every grant to the role. Returns the acknowledged rule ids.
    """
    policy = role.node.try_find_child("DefaultPolicy") if role else None
    if policy is None:
        return []
    # The document as written (after narrow_wildcard_resources), not as CDK built it.
    document = cdk.Stack.of(policy).resolve(policy.node.default_child.policy_document)
    rules = []
    for statement in document.get("Statement", []):
        statement_actions = statement.get("Action", [])
        if isinstance(statement_actions, str):
            statement_actions = [statement_actions]
        chosen = set(statement_actions) == actions if exactly else set(statement_actions) <= actions
        if statement.get("Effect") != "Allow" or not chosen:
            continue
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            flat = finding_name(resource)
            if "*" in flat:
                rules.append(f"AwsSolutions-IAM5[Resource::{flat}]")
    for rule in dict.fromkeys(rules):
        acknowledge(policy, rule, reason)
    return rules


def narrow_wildcard_resources(
    role: iam.IRole, actions: Collection[str], resources: Sequence[str]
) -> None:
    """Where a grant CDK makes (inside a construct of its own) names a wildcard resource ("*",
    an ARN with "*" for the account, `<function ARN>:*`) although the actions support an ARN
    that is known here, name `resources` instead: in the Allow statements of `role`'s default
    policy whose resources contain a "*", the actions in `actions` get `resources` (split into a
    statement of their own, with the same condition, when CDK merged them with other actions).

    Applied when the template is written (the policy's other statements are kept as CDK renders
    them); the synth fails if no such statement exists, so a CDK upgrade that drops or scopes
    the grant itself shows up instead of leaving a no-op here.
    """
    policy = role.node.try_find_child("DefaultPolicy")
    if policy is None:
        raise ValueError(f"narrow_wildcard_resources: {role.node.path} has no default policy")
    cfn_policy = policy.node.default_child
    document = cfn_policy.policy_document
    if not isinstance(document, _NarrowedDocument):
        document = _NarrowedDocument(policy, role.node.path)
        cfn_policy.policy_document = document
    document.narrowings.append((set(actions), list(resources)))


@jsii.implements(cdk.IResolvable)
class _NarrowedDocument:
    def __init__(self, policy, where: str) -> None:
        self._policy = policy
        self._where = where
        self.narrowings: list[tuple[set[str], list[str]]] = []

    @property
    def creation_stack(self) -> list[str]:
        return []

    @property
    def type_hint(self):
        return None

    def to_string(self) -> str:
        return cdk.Token.as_string(self)

    def resolve(self, _context):
        stack = cdk.Stack.of(self._policy)
        rendered = stack.resolve(self._policy.document)
        statements = rendered.get("Statement", [])
        for actions, resources in self.narrowings:
            scoped = stack.resolve(resources[0] if len(resources) == 1 else resources)
            split, narrowed = [], 0
            for statement in statements:
                written = _as_list(statement.get("Action", []))
                named = [action for action in written if action in actions]
                if (
                    statement.get("Effect") != "Allow"
                    or not named
                    or "*" not in json.dumps(statement.get("Resource"))
                ):
                    continue
                narrowed += 1
                rest = [action for action in written if action not in actions]
                if not rest:
                    statement["Resource"] = scoped
                    continue
                statement["Action"] = _one_or_list(rest)
                split.append({**statement, "Action": _one_or_list(named), "Resource": scoped})
            if not narrowed:
                raise ValueError(
                    f"narrow_wildcard_resources({self._where}): no Allow statement of "
                    f"{sorted(actions)} on a wildcard resource is left to narrow"
                )
            statements.extend(split)
        return rendered


def _one_or_list(values: list):
    return values[0] if len(values) == 1 else values


def acknowledge_wildcard_actions(role: iam.IRole, reasons: Mapping[str, str]) -> list[str]:
    """Acknowledge AwsSolutions-IAM5[Action::<action>] for each wildcard action (e.g.
    `s3:GetObject*`) of `role`'s default policy, with the reason `reasons` gives for it.

    Every wildcard action of the policy needs a reason, and every reason an action of the
    policy: a grant that changed under an upgrade fails the synth instead of keeping a reason
    that no longer holds. Call it after every grant to the role. Returns the rule ids.
    """
    policy = role.node.try_find_child("DefaultPolicy")
    document = cdk.Stack.of(policy).resolve(policy.document) if policy else {}  # type: ignore[attr-defined]
    wildcards = {
        action
        for statement in document.get("Statement", [])
        if statement.get("Effect") == "Allow"
        for action in _as_list(statement.get("Action", []))
        if "*" in action
    }
    if wildcards != set(reasons):
        raise ValueError(
            f"acknowledge_wildcard_actions({role.node.path}): the policy's wildcard actions are "
            f"{sorted(wildcards)}, reasons were given for {sorted(reasons)}"
        )
    rules = []
    for action in sorted(wildcards):
        rules.append(f"AwsSolutions-IAM5[Action::{action}]")
        acknowledge(policy, rules[-1], reasons[action])
    return rules


def acknowledge_managed_policy(scope: IConstruct, policy_name: str, reason: str) -> list[str]:
    """Acknowledge AwsSolutions-IAM4 for the AWS managed policy `policy_name` (e.g.
    `service-role/AWSLambdaBasicExecutionRole`) on every role under `scope` that attaches it.
    The finding names the policy ARN as synthesized, so it is read from the role. Returns the
    rule ids; a policy no role under `scope` attaches is an error."""
    rules = []
    for role in scope.node.find_all():
        if not isinstance(role, iam.CfnRole):
            continue
        for arn in cdk.Stack.of(role).resolve(role.managed_policy_arns) or []:
            flat = finding_name(arn)
            if flat.endswith(f":iam::aws:policy/{policy_name}"):
                rules.append(f"AwsSolutions-IAM4[Policy::{flat}]")
                acknowledge(role, rules[-1], reason)
    if not rules:
        raise ValueError(f"no role under {scope.node.path} attaches the AWS policy {policy_name}")
    return rules


def synthesized_properties(resource: cdk.CfnResource) -> dict:
    """A resource's properties as its template will have them (property overrides aside), for
    the house mechanisms that act on what a stack declares, whoever declared it."""
    stack = cdk.Stack.of(resource)
    # Resolved first: rendering checks the types, and lazy values are only lists once resolved.
    properties = stack.resolve(resource._cfn_properties)  # noqa: SLF001
    return stack.resolve(resource._render_properties(properties)) or {}  # noqa: SLF001


def stack_resources(stack: cdk.Stack, types: Collection[str]) -> list[cdk.CfnResource]:
    """The resources of `types` in `stack` itself (not in a nested stack), in construct order."""
    return [
        node
        for node in stack.node.find_all()
        if isinstance(node, cdk.CfnResource)
        and node.cfn_resource_type in types
        and cdk.Stack.of(node).node.path == stack.node.path
    ]


def custom_resource_handler(scope: IConstruct) -> IConstruct:
    """The construct of the Lambda function that serves the custom resources under `scope`.

    CDK's own handlers (BucketDeployment's upload function, the bucket-notifications function)
    are stack-wide singletons whose ids CDK derives from fixed uuids; each custom resource's
    ServiceToken names its function, so the handler is found from there, not by id.
    """
    stack = cdk.Stack.of(scope)
    handlers = set()
    for element in scope.node.find_all():
        if isinstance(element, cdk.CfnResource) and (
            element.cfn_resource_type.startswith("Custom::")
            or element.cfn_resource_type == "AWS::CloudFormation::CustomResource"
        ):
            token = (stack.resolve(element._cfn_properties) or {}).get("ServiceToken")
            if isinstance(token, dict) and "Fn::GetAtt" in token:
                handlers.add(token["Fn::GetAtt"][0])
    if len(handlers) != 1:
        raise ValueError(
            f"custom_resource_handler({scope.node.path}): expected the custom resources below "
            f"it to share one Lambda handler, found {sorted(handlers) or 'none'}"
        )
    (logical_id,) = handlers
    for element in stack.node.find_all():
        if (
            isinstance(element, cdk.CfnResource)
            and stack.resolve(stack.get_logical_id(element)) == logical_id
        ):
            return element.node.scope
    raise ValueError(f"custom_resource_handler({scope.node.path}): no {logical_id} in the stack")


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# CDK's singleton custom-resource functions run the runtime aws-cdk-lib pins for them and are
# invoked by CloudFormation once per deploy: the same four findings, the same reasons, for each.
_CDK_HANDLER_FINDINGS = (
    (
        "AwsSolutions-L1",
        "runs the runtime aws-cdk-lib pins for it, which moves forward with aws-cdk-lib "
        "releases, not with this repository",
    ),
    (
        "Serverless-LambdaLatestVersion",
        "runs the runtime aws-cdk-lib pins for it, which moves forward with aws-cdk-lib releases",
    ),
    (
        "Serverless-LambdaDLQ",
        "is a CloudFormation custom-resource handler: a failure fails the deploy and "
        "CloudFormation reports it",
    ),
    (
        "Serverless-LambdaTracing",
        "runs once per deploy as a custom-resource handler; its result is in the CloudFormation "
        "events, nothing to trace",
    ),
)


def acknowledge_cdk_handler(handler: IConstruct, what: str) -> None:
    """The findings every CDK singleton custom-resource function raises (its runtime, no DLQ, no
    tracing), on the function `custom_resource_handler` found; `what` names it in the reasons,
    e.g. "CDK's site-upload function (BucketDeployment)"."""
    for rule, reason in _CDK_HANDLER_FINDINGS:
        acknowledge(handler, rule, f"{what} {reason}.")


def own_logs_only(function: IConstruct, role: iam.IRole, dependent: IConstruct) -> bool:
    """Where CDK's singleton `function` logs to a log group the stack declares, its role gets
    CreateLogStream/PutLogEvents on that group instead of AWSLambdaBasicExecutionRole (which
    lets it create and write every log group of the account). False (nothing changed) when the
    function logs to Lambda's default group. `dependent` (the custom resource's construct) waits
    for the grant, so the first deploy's logs are written too."""
    stack = cdk.Stack.of(function)
    cfn_function = function.node.default_child
    logging = stack.resolve(cfn_function.logging_config) or {}
    reference = logging.get("logGroup") or logging.get("LogGroup")
    if not (isinstance(reference, dict) and "Ref" in reference):
        return False
    granted = function.node.try_find_child("OwnLogs")
    if granted is not None:  # a second deployment served by the same singleton function
        dependent.node.add_dependency(granted)
        return True
    (group,) = [
        node
        for node in stack.node.find_all()
        if isinstance(node, cdk.CfnResource)
        and node.cfn_resource_type == "AWS::Logs::LogGroup"
        and stack.resolve(stack.get_logical_id(node)) == reference["Ref"]
    ]
    cfn_role = role.node.default_child
    kept = [
        arn
        for arn in stack.resolve(cfn_role.managed_policy_arns) or []
        if not finding_name(arn).endswith(
            ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        )
    ]
    cfn_role.managed_policy_arns = kept or None
    own_logs = iam.Policy(
        function,
        "OwnLogs",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[group.attr_arn],
            )
        ],
    )
    dependent.node.add_dependency(own_logs)
    return True


def _grants_kms_wildcards(role: iam.IRole) -> bool:
    policy = role.node.try_find_child("DefaultPolicy")
    document = cdk.Stack.of(policy).resolve(policy.document) if policy else {}  # type: ignore[attr-defined]
    return any(
        action.startswith("kms:") and "*" in action
        for statement in document.get("Statement", [])
        for action in _as_list(statement.get("Action", []))
    )


def acknowledge_bucket_deployment(
    deployment, *, asset: str, destination: str, distribution=None
) -> None:
    """Everything cdk-nag finds in CDK's BucketDeployment function (code aws-cdk-lib ships and a
    stack only configures), with the reasons for *this* deployment: `asset` names what it
    copies (e.g. "the site/ asset"), `destination` where to (e.g. "the site bucket"). The
    function and the finding names are read from the constructs, so a changed grant fails the
    synth instead of keeping a reason that no longer holds. `distribution`: the CloudFront
    distribution the deployment invalidates, if any: CDK grants the invalidation on "*", and
    both actions take the distribution's ARN, which is named instead. Where the function logs
    to a log group of the stack, its role writes that group only (`own_logs_only`) instead of
    keeping AWSLambdaBasicExecutionRole."""
    upload = custom_resource_handler(deployment)
    what = "CDK's site-upload function (BucketDeployment)"
    role = deployment.handler_role
    if not own_logs_only(upload, role, deployment):
        acknowledge_managed_policy(
            upload,
            "service-role/AWSLambdaBasicExecutionRole",
            f"{what} has no log group of its own, so it keeps the AWS managed basic execution "
            "policy aws-cdk-lib attaches: create and write any log group of the account "
            "(Resource '*'), which it uses for its /aws/lambda/<function> group only.",
        )
    does = {
        "s3:GetBucket*": "reads the asset and destination buckets' metadata",
        "s3:GetObject*": f"reads {asset} (zipped) and the objects of {destination}",
        "s3:List*": f"lists {destination} to prune files the asset lacks",
        "s3:Abort*": "aborts its own failed multipart uploads",
        "s3:DeleteObject*": f"deletes files of {destination} the asset no longer has",
    }
    if _grants_kms_wildcards(role):
        # A destination encrypted with a customer-managed key: CDK's grant on that key alone.
        does |= {
            "kms:GenerateDataKey*": f"makes the data keys of the files it writes to {destination}",
            "kms:ReEncrypt*": f"may re-encrypt files of {destination} under the same key",
        }
    acknowledge_wildcard_actions(
        role,
        {
            action: f"{what} {it}; the grant is CDK's and limited to the asset bucket and "
            f"{destination}."
            for action, it in does.items()
        },
    )
    asset_read = {"s3:GetBucket*", "s3:GetObject*", "s3:List*"}
    acknowledge_wildcard_resources(
        role,
        asset_read,
        f"{what} reads {asset} from the CDK bootstrap asset bucket, and only that bucket.",
        exactly=True,
    )
    acknowledge_wildcard_resources(
        role,
        asset_read
        | {"s3:Abort*", "s3:DeleteObject*", "s3:PutObject", "s3:PutObjectLegalHold"}
        | {"s3:PutObjectRetention", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"},
        f"{what} writes the objects of {destination} only.",
        exactly=True,
    )
    if distribution is not None:
        narrow_wildcard_resources(
            role,
            {"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"},
            [distribution.distribution_arn],
        )
    acknowledge_cdk_handler(upload, what)
