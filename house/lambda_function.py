"""The house Lambda: Python on arm64, its own least-privilege role and log group, JSON logs,
X-Ray, and dependencies bundled for the Lambda architecture without Docker (house/bundling.py).

Every function in the library is built here, so a runtime bump or a logging change is one edit.
Every function also gets the handler_kit layer (lambda_src/layers/handler_kit: configuration,
Powertools logs/traces/metrics, the REST kit), one per stack, and the environment that kit reads:
POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE (the stack's name, so dev and prod metrics
stay apart in one account) and POWERTOOLS_TRACE_DISABLED (true where X-Ray is off).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IValidation

from house.bundling import ARCHITECTURE, LAMBDA_SRC, RUNTIME, bundled_asset, lambda_code
from house.compliance import acknowledge, finding_name
from house.defaults import log_group

__all__ = [
    "ARCHITECTURE",
    "LAMBDA_SRC",
    "RUNTIME",
    "handler_kit_layer",
    "python_function",
    "python_layer",
]

HANDLER_KIT_LAYER_ID = "HandlerKit"


def python_layer(
    scope: Construct, id: str, *, source: str, description: str
) -> lambda_.LayerVersion:
    """A layer from `lambda_src/layers/<source>/`: its modules and requirements under python/.

    For code two functions share (e.g. the DynamoDB/DAX client), instead of copying it.
    """
    folder = LAMBDA_SRC / "layers" / source
    if not any(folder.glob("*.py")) and not any(folder.glob("*/__init__.py")):
        raise ValueError(f"lambda_src/layers/{source}/ has no Python module or package")
    return lambda_.LayerVersion(
        scope,
        id,
        code=bundled_asset(folder, prefix="python"),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description=description,
    )


def handler_kit_layer(scope: Construct) -> lambda_.ILayerVersion:
    """The stack's one handler_kit layer (made by the first function that needs it)."""
    stack = cdk.Stack.of(scope)
    existing = stack.node.try_find_child(HANDLER_KIT_LAYER_ID)
    if existing is not None:
        return existing
    return python_layer(
        stack,
        HANDLER_KIT_LAYER_ID,
        source="handler_kit",
        description="handler_kit: settings, Powertools logs/traces/metrics, the REST kit",
    )


def python_function(
    scope: Construct,
    id: str,
    *,
    source: str,
    description: str,
    log_retention_days: int,
    removal_policy: cdk.RemovalPolicy,
    environment: dict[str, str] | None = None,
    handler: str = "handler.handler",
    memory_size: int = 256,
    timeout: cdk.Duration = cdk.Duration.seconds(30),
    vpc: ec2.IVpc | None = None,
    vpc_subnets: ec2.SubnetSelection | None = None,
    security_groups: list[ec2.ISecurityGroup] | None = None,
    reserved_concurrent_executions: int | None = None,
    dead_letter_queue: sqs.IQueue | None = None,
    invoked_synchronously_by: str | None = None,
    layers: list[lambda_.ILayerVersion] | None = None,
    tracing_off_because: str | None = None,
    service: str | None = None,
    filesystem: lambda_.FileSystem | None = None,
    wildcard_grants: Sequence[tuple[Collection[str], str]] = (),
) -> lambda_.Function:
    """A function from `lambda_src/<source>/` with the house defaults.

    Failures must go somewhere: pass `dead_letter_queue` for asynchronous invocations, or name
    the synchronous caller (`invoked_synchronously_by="API Gateway"`) that receives the error.
    X-Ray is on unless `tracing_off_because` says why not (e.g. a VPC with no path to X-Ray).
    `service` names the function in its logs, traces and metrics (default: the source folder,
    plus the handler module when it is not `handler`, e.g. "neptune-data-loader").
    `filesystem`: an EFS access point mounted in the function (`lambda_.FileSystem.
    from_efs_access_point`; needs `vpc`); none when omitted.
    `wildcard_grants`: (actions, why) for each Resource '*' grant the caller's constructs add to
    the role later (e.g. CDK's dynamodb:ListStreams for a stream event source). The role's
    Resource '*' acknowledgment lists exactly the grants declared here and made above, and the
    synth fails if the policy's '*' actions differ from them.
    """
    if (dead_letter_queue is None) == (invoked_synchronously_by is None):
        raise ValueError(
            f"python_function {id!r}: give exactly one of dead_letter_queue (async invocation) "
            "or invoked_synchronously_by (who receives the error)"
        )
    logs = log_group(
        scope, f"{id}Logs", retention_days=log_retention_days, removal_policy=removal_policy
    )
    role = iam.Role(
        scope,
        f"{id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"Execution role of {id}: its own log group plus what the stack grants.",
    )
    logs.grant_write(role)
    wildcards: list[tuple[Collection[str], str]] = []
    if not tracing_off_because:
        wildcards.append(
            (
                {"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
                "xray:PutTraceSegments/PutTelemetryRecords (active tracing) support no "
                "resource-level permissions",
            )
        )
    if vpc is not None:
        wildcards.append(
            (
                {"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"},
                "ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets, which Lambda calls to "
                "attach the function to its VPC and which support no resource-level permissions "
                "(the network-interface actions are scoped below)",
            )
        )
    if filesystem is not None:
        wildcards.append(
            (
                {"elasticfilesystem:ClientMount"},
                "elasticfilesystem:ClientMount, which aws-cdk-lib grants for the function's EFS "
                "access point on Resource '*' with the condition elasticfilesystem:AccessPointArn "
                "= that access point, so the role mounts nothing else",
            )
        )
    wildcards.extend(wildcard_grants)
    wildcard_reasons = [why for _, why in wildcards]
    role.node.add_validation(
        _WildcardGrantsDeclared(role, {a for actions, _ in wildcards for a in actions})
    )
    module = handler.rpartition(".")[0]
    observability = {
        "POWERTOOLS_SERVICE_NAME": service
        or "-".join([source, *([module] if module != "handler" else [])]).replace("_", "-"),
        "POWERTOOLS_METRICS_NAMESPACE": cdk.Stack.of(scope).stack_name,
        "POWERTOOLS_TRACE_DISABLED": "true" if tracing_off_because else "false",
    }
    function = lambda_.Function(
        scope,
        id,
        code=lambda_code(source),
        handler=handler,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        description=description,
        environment={**observability, **(environment or {})},
        memory_size=memory_size,
        timeout=timeout,
        role=role,
        log_group=logs,
        logging_format=lambda_.LoggingFormat.JSON,
        application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
        system_log_level_v2=lambda_.SystemLogLevel.WARN,
        tracing=lambda_.Tracing.DISABLED if tracing_off_because else lambda_.Tracing.ACTIVE,
        vpc=vpc,
        vpc_subnets=vpc_subnets,
        security_groups=security_groups,
        reserved_concurrent_executions=reserved_concurrent_executions,
        dead_letter_queue=dead_letter_queue,
        layers=[handler_kit_layer(scope), *(layers or [])],
        filesystem=filesystem,
    )
    if vpc is not None:
        _grant_network_interfaces(function, vpc, vpc_subnets)
    if wildcard_reasons:
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            f"The only Resource '*' statements of {id}'s role are: "
            + "; and ".join(wildcard_reasons)
            + ".",
        )
    if tracing_off_because:
        acknowledge(
            function, "Serverless-LambdaTracing", f"X-Ray is off for {id}: {tracing_off_because}"
        )
    if invoked_synchronously_by is not None:
        acknowledge(
            function,
            "Serverless-LambdaDLQ",
            f"{id} is only invoked synchronously, by {invoked_synchronously_by}; Lambda sends "
            "only failed asynchronous invocations to a function's dead-letter queue, so this "
            "function's would never receive one.",
        )
    return function


@jsii.implements(IValidation)
class _WildcardGrantsDeclared:
    """The role's Resource '*' acknowledgment names its '*' grants: a grant added or dropped
    without saying so (a CDK upgrade, a new caller) fails the synth instead of leaving a reason
    that no longer holds."""

    def __init__(self, role: iam.Role, declared: set[str]) -> None:
        self._role = role
        self._declared = declared

    def validate(self) -> list[str]:
        policy = self._role.node.try_find_child("DefaultPolicy")
        document = (
            cdk.Stack.of(policy).resolve(policy.node.default_child.policy_document)
            if policy
            else {}
        )
        granted = {
            action
            for statement in document.get("Statement", [])
            if statement.get("Effect") == "Allow" and "*" in _as_list(statement.get("Resource", []))
            for action in _as_list(statement.get("Action", []))
        }
        if granted == self._declared:
            return []
        return [
            f"{self._role.node.path}: its Resource '*' actions are {json.dumps(sorted(granted))}, "
            f"the acknowledgment names {json.dumps(sorted(self._declared))}; declare the grant "
            "in python_function(wildcard_grants=...) with its reason, or scope it"
        ]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _grant_network_interfaces(
    function: lambda_.Function, vpc: ec2.IVpc, vpc_subnets: ec2.SubnetSelection | None
) -> None:
    """What AWSLambdaVPCAccessExecutionRole grants on "*", scoped: Lambda creates the function's
    network interfaces in its own subnets with its own security groups, and manages interfaces
    of this account and region. (Lambda checks CreateNetworkInterface on `network-interface/*`
    when the function is created or updated; the subnet and security-group ARNs are the other
    two resources the real call is authorized against.) Only the two Describe calls need "*".
    """
    stack = cdk.Stack.of(function)

    def ec2_arn(resource: str, name: str) -> str:
        return stack.format_arn(service="ec2", resource=resource, resource_name=name)

    interfaces = ec2_arn("network-interface", "*")
    selection = vpc_subnets or ec2.SubnetSelection()  # CDK's default: the private subnets
    subnets = vpc.select_subnets(
        subnet_type=selection.subnet_type,
        subnet_group_name=selection.subnet_group_name,
        subnets=selection.subnets,
        availability_zones=selection.availability_zones,
        one_per_az=selection.one_per_az,
    ).subnet_ids
    groups = [group.security_group_id for group in function.connections.security_groups]
    role = function.role
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], resources=["*"]
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["ec2:CreateNetworkInterface"],
            resources=[
                interfaces,
                *(ec2_arn("subnet", subnet) for subnet in subnets),
                *(ec2_arn("security-group", group) for group in groups),
            ],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=[
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            resources=[interfaces],
        )
    )
    acknowledge(
        role,
        f"AwsSolutions-IAM5[Resource::{finding_name(stack.resolve(interfaces))}]",
        "Lambda creates, re-addresses and deletes this function's network interfaces; their ids "
        "exist only once Lambda has created them, so the resource is the interfaces of this "
        "account and region (creation is also limited to the function's subnets and security "
        "groups).",
    )
