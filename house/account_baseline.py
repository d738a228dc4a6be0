"""AccountBaseline: what a fresh account lacks and CloudFormation can own safely, once per
account and region, before any blueprint.

Today that is one thing: **the CloudWatch Logs role in API Gateway's account settings**
(`AWS::ApiGateway::Account`). API Gateway refuses to create a REST API stage that writes
access logs or execution logs until those settings name a role it can assume ("CloudWatch Logs
role ARN must be set in account settings to enable logging"), and the setting is one per
account and region, so no blueprint stack may own it (`cdk.json` turns off CDK's per-API role
with `@aws-cdk/aws-apigateway:disableCloudWatchRole`).

Stack id and CloudFormation name are both `AccountBaseline`, with no stage: dev and prod in one
account and region share it, and the template is the same for every stage (a test proves it),
so deploying it from either stage is a no-op for the other. Every blueprint stack with a
logging API stage depends on it (`require_baseline`), so `npx cdk deploy MyTodoList` deploys
it first, and `make preflight` names it when the account lacks the role.

What it changes in the account, and how to undo it: it creates one IAM role that only
API Gateway can assume, and points API Gateway's account-wide CloudWatch setting at it (for
every REST and WebSocket API in the region, including ones this library did not create).
The role is RETAINed when the stack is deleted, because the account setting keeps pointing at
it and every logging API in the region would stop logging without it; CloudFormation also
leaves the setting in place (AWS::ApiGateway::Account). To remove it completely, delete the
stack, then the role, once no API in the region logs to CloudWatch (docs/deploying.md).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from house.compliance import acknowledge
from house.settings import StageSettings

STACK_ID = "AccountBaseline"
# Not a stage: the account and region are what the baseline belongs to.
ENVIRONMENT_TAG = "account"


class AccountBaselineStack(cdk.Stack):
    """Attributes: api_gateway_logs_role, api_gateway_account."""

    def __init__(self, scope: Construct, id: str = STACK_ID, **kwargs) -> None:
        super().__init__(
            scope,
            id,
            description="Account prerequisites of the blueprints: the "
            "API Gateway CloudWatch Logs role (aws-architecture-blueprints)",
            **kwargs,
        )
        self.api_gateway_logs_role = iam.Role(
            self,
            "ApiGatewayLogsRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway writes REST/WebSocket API access and execution logs of "
            "this account and region to CloudWatch Logs",
        )
        # The same actions as AWS's AmazonAPIGatewayPushToCloudWatchLogs, scoped to this
        # account's log groups in this region instead of "*". Pseudo parameters, not the
        # stage's region, so every stage synthesizes the same template.
        log_groups = cdk.Fn.sub(
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
        )
        self.api_gateway_logs_role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogGroups",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:FilterLogEvents",
                ],
                resources=[log_groups],
            )
        )
        self.api_gateway_logs_role.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        acknowledge(
            self.api_gateway_logs_role,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
            "<AWS::AccountId>:log-group:*]",
            "API Gateway uses this one account-wide role for every API in the region: execution "
            "logs go to groups it names API-Gateway-Execution-Logs_<api id>/<stage> and access "
            "logs to whatever group each stage names, so no list of groups can be known here; "
            "it is limited to this account's log groups in this region.",
        )

        self.api_gateway_account = apigw.CfnAccount(
            self,
            "ApiGatewayAccountSettings",
            cloud_watch_role_arn=self.api_gateway_logs_role.role_arn,
        )
        # API Gateway checks that it can assume the role when the setting is made.
        self.api_gateway_account.node.add_dependency(self.api_gateway_logs_role)

        cdk.CfnOutput(
            self,
            "ApiGatewayCloudWatchRoleArn",
            value=self.api_gateway_logs_role.role_arn,
            description="The role API Gateway's account settings now name for logging",
        )


def logging_api_stages(stack: cdk.Stack) -> list[apigw.CfnStage]:
    """REST API stages in `stack` that write access or execution logs to CloudWatch."""
    found = []
    for construct in stack.node.find_all():
        if isinstance(construct, apigw.CfnStage) and _logs(construct):
            found.append(construct)
    return found


def _logs(stage: apigw.CfnStage) -> bool:
    if stage.access_log_setting is not None:
        return True
    settings = stage.method_settings
    if cdk.Token.is_unresolved(settings) or settings is None:
        return settings is not None
    for setting in settings:
        if cdk.Token.is_unresolved(setting):
            return True
        level = getattr(setting, "logging_level", None)
        if (level and level != "OFF") or getattr(setting, "data_trace_enabled", None):
            return True
    return False


def build(app: cdk.App, stage: StageSettings) -> AccountBaselineStack:
    """The baseline for the stage's account and region; tagged without the stage."""
    stack = AccountBaselineStack(app, STACK_ID, stack_name=STACK_ID, env=stage.environment)
    tags = {**stage.cost_allocation_tags(), "Environment": ENVIRONMENT_TAG}
    for name, value in tags.items():
        cdk.Tags.of(stack).add(name, value)
    return stack


def require_baseline(baseline: AccountBaselineStack, stacks: list[IConstruct]) -> None:
    """Every stack with a logging API stage deploys after the baseline (a CDK dependency, so
    `cdk deploy <stack>` deploys the baseline first and the rules can see it)."""
    for stack in stacks:
        if isinstance(stack, cdk.Stack) and stack is not baseline and logging_api_stages(stack):
            stack.add_stack_dependency(
                baseline,
                "API Gateway logging needs the account's CloudWatch Logs role (AccountBaseline)",
            )
