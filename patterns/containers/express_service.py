"""A web service on Amazon ECS Express Mode: one resource, typed settings, least privilege.

    image (fixed tag or digest) --> ExpressWebService (AWS::ECS::ExpressGatewayService)
                                      on the cluster you pass, in the subnets you pass
                                      execution role: pull that image, write that log group,
                                                      read the secrets you inject
                                      task role:      what the app itself may call (empty)
                                      infrastructure role: what ECS may create for it
    ECS creates, outside this stack, with the infrastructure role:
      Application Load Balancer (HTTPS listener, rules, target group; shared by up to 25
      Express services in the same subnets), its security group, an ACM certificate for the
      *.ecs.<region>.on.aws name, the Application Auto Scaling target and policy, a rollback
      alarm, and the task definition revisions.

CDK has only the L1 (`aws_ecs.CfnExpressGatewayService`); this is the typed layer over it. What
the L1 leaves to chance, this fixes: CPU and memory are always explicit (the console defaults to
1 vCPU / 2 GB, CloudFormation to 0.25 vCPU / 0.5 GB), logs go to a log group the stack owns with
the stage's retention, secrets are injected by reference (`secrets`), never as values, and the
service waits for its roles' policies on create and keeps them until it is gone on delete.

Public or internal follows the subnets: Express Mode puts the load balancer where the tasks
are, so public subnets give an internet-facing service and private subnets an internal one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from house.compliance import acknowledge_wildcard_resources
from house.defaults import log_group

ScalingMetric = Literal["cpu", "memory", "requests"]
# The L1's names for the scaling metrics (CloudFormation: ExpressGatewayServiceScalingMetric).
SCALING_METRICS: dict[str, str] = {
    "cpu": "AVERAGE_CPU",
    "memory": "AVERAGE_MEMORY",
    "requests": "REQUEST_COUNT_PER_TARGET",
}
# What target tracking accepts per metric: percent for cpu/memory, requests per task per minute.
SCALING_TARGETS: dict[str, tuple[int, int]] = {
    "cpu": (10, 90),
    "memory": (10, 90),
    "requests": (1, 1_000_000),
}
# Tasks per service (Express Mode's scaling target MaxTaskCount).
MAX_TASKS = 1000
# Tag Express Mode puts on everything it creates; the infrastructure role may only change
# resources that carry it (as in AWS's managed policy for this role).
MANAGED_TAG = "AmazonECSManaged"
# Streams are named <prefix>/<container>/<task id> in the service's log group.
LOG_STREAM_PREFIX = "app"


@dataclasses.dataclass(frozen=True)
class ExpressScaling:
    """Target tracking on one metric between `min_tasks` and `max_tasks`. `target`: percent for
    cpu/memory, requests per task per minute for requests."""

    min_tasks: int
    max_tasks: int
    metric: ScalingMetric = "cpu"
    target: int = 60


@dataclasses.dataclass(frozen=True)
class SecretReference:
    """An environment variable the container gets from Secrets Manager at start: the whole
    secret (a JSON document for RDS secrets), or one of its JSON keys."""

    secret_arn: str
    json_key: str | None = None

    @property
    def value_from(self) -> str:
        # ECS's syntax: <secret arn>:<json key>:<version stage>:<version id>
        return f"{self.secret_arn}:{self.json_key}::" if self.json_key else self.secret_arn


class ExpressWebService(Construct):
    """One container behind an HTTPS load balancer that ECS Express Mode manages.

    Args:
        `cluster`: the cluster the service joins (it must have the FARGATE capacity provider).
            Required.
        `vpc`: the VPC of `subnets`; the infrastructure role may create security groups in this
            VPC only. Required.
        `subnets`: where the tasks run; Express Mode puts the load balancer there too, so public
            subnets give an internet-facing service and private subnets an internal one. Required.
        `security_group`: the tasks' security group (what they may reach); it must admit
            `container_port` from the load balancer. Required.
        `image`: an image reference with a fixed tag or a digest (never `latest`). Required.
        `container_port`: the port the load balancer sends traffic to. Required.
        `health_check_path`: where the load balancer sends health checks (HTTP 200 means healthy).
            Required.
        `cpu`: task CPU units; with `memory_mib` a Fargate combination. Always explicit here: the
            console and CloudFormation default to different sizes. Required.
        `memory_mib`: task memory, in MiB. Required.
        `scaling`: minimum and maximum tasks and the target-tracking metric and target
            (ExpressScaling). Required.
        `environment`: plain environment variables; a name that looks like a secret (PASSWORD,
            SECRET, TOKEN, PRIVATE_KEY, API_KEY) raises ValueError. Required.
        `secrets`: environment variables read from Secrets Manager at task start (SecretReference:
            a whole secret or one of its JSON keys); only the references reach the template. The
            caller grants `execution_role` read on each secret. Required.
        `log_retention_days`: retention of the service's log group. Required.
        `removal_policy`: the stage's; applies to the service's log group. Required.

    Attributes: log_group, execution_role, task_role, infrastructure_role, service,
    security_group, endpoint, url, service_arn.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: ecs.ICluster,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        security_group: ec2.ISecurityGroup,
        image: str,
        container_port: int,
        health_check_path: str,
        cpu: int,
        memory_mib: int,
        scaling: ExpressScaling,
        environment: Mapping[str, str],
        secrets: Mapping[str, SecretReference],
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        looks_secret = [name for name in environment if _looks_secret(name)]
        if looks_secret:
            raise ValueError(
                f"ExpressWebService: environment {', '.join(looks_secret)} look(s) like "
                "secrets; pass them in `secrets` (read from Secrets Manager at task start)"
            )
        self.log_group = log_group(
            self, "Logs", retention_days=log_retention_days, removal_policy=removal_policy
        )
        # What ECS needs to start a task: pull the image, write the log group, read secrets.
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="ECS Express service: pull the image, write its logs, read its secrets",
        )
        self.log_group.grant_write(self.execution_role)
        # What the app may call: nothing until a blueprint grants it something.
        self.task_role = iam.Role(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="ECS Express service: the application's own AWS permissions",
        )
        self.infrastructure_role = iam.Role(
            self,
            "InfrastructureRole",
            assumed_by=iam.ServicePrincipal("ecs.amazonaws.com"),
            description="ECS Express Mode: create and manage this service's load balancer, "
            "security groups, certificate, scaling and alarms",
        )
        self._grant_infrastructure(vpc)

        self.service = ecs.CfnExpressGatewayService(
            self,
            "Service",
            cluster=cluster.cluster_name,
            infrastructure_role_arn=self.infrastructure_role.role_arn,
            execution_role_arn=self.execution_role.role_arn,
            task_role_arn=self.task_role.role_arn,
            cpu=str(cpu),
            memory=str(memory_mib),
            health_check_path=health_check_path,
            network_configuration=ecs.CfnExpressGatewayService.ExpressGatewayServiceNetworkConfigurationProperty(
                subnets=[subnet.subnet_id for subnet in subnets],
                security_groups=[security_group.security_group_id],
            ),
            primary_container=ecs.CfnExpressGatewayService.ExpressGatewayContainerProperty(
                image=image,
                container_port=container_port,
                aws_logs_configuration=ecs.CfnExpressGatewayService.ExpressGatewayServiceAwsLogsConfigurationProperty(
                    log_group=self.log_group.log_group_name,
                    log_stream_prefix=LOG_STREAM_PREFIX,
                ),
                environment=[
                    ecs.CfnExpressGatewayService.KeyValuePairProperty(name=name, value=value)
                    for name, value in sorted(environment.items())
                ],
                secrets=[
                    ecs.CfnExpressGatewayService.SecretProperty(
                        name=name, value_from=reference.value_from
                    )
                    for name, reference in sorted(secrets.items())
                ]
                or None,
            ),
            scaling_target=ecs.CfnExpressGatewayService.ExpressGatewayScalingTargetProperty(
                min_task_count=scaling.min_tasks,
                max_task_count=scaling.max_tasks,
                auto_scaling_metric=SCALING_METRICS[scaling.metric],
                auto_scaling_target_value=scaling.target,
            ),
        )
        # Create: the roles' policies exist before ECS assumes them. Delete: ECS drains the
        # service asynchronously with the infrastructure role (deregistering targets, deleting
        # the load balancer), so its policy must outlive the service; a service deleted in
        # parallel with its role's policy hangs in DRAINING.
        for role in (self.infrastructure_role, self.execution_role, self.task_role):
            self.service.node.add_dependency(role)
        self.security_group = security_group
        self.endpoint = self.service.attr_endpoint
        self.url = cdk.Fn.join("", ["https://", self.endpoint])
        self.service_arn = self.service.attr_service_arn

    def _grant_infrastructure(self, vpc: ec2.IVpc) -> None:
        """AWS's managed policy for this role (AmazonECSInfrastructureRoleforExpressGatewayServices,
        v6), narrowed: this account and region only, security groups created only in this VPC,
        and no iam:CreateServiceLinkedRole (`make preflight FIX=1` creates the load-balancing
        and ECS auto-scaling service-linked roles before the deploy). Every change keeps
        the managed policy's condition that the resource carries ECS's own tag."""
        stack = cdk.Stack.of(self)
        region, account = stack.region, stack.account

        def arn(service: str, resource: str) -> str:
            return f"arn:{stack.partition}:{service}:{region}:{account}:{resource}"

        load_balancing = [
            arn("elasticloadbalancing", "loadbalancer/app/*/*"),
            arn("elasticloadbalancing", "listener/app/*/*/*"),
            arn("elasticloadbalancing", "listener-rule/app/*/*/*/*"),
            arn("elasticloadbalancing", "targetgroup/*/*"),
        ]
        tagged = {"StringEquals": {f"aws:ResourceTag/{MANAGED_TAG}": "true"}}
        tagging = {"StringEquals": {f"aws:RequestTag/{MANAGED_TAG}": "true"}}
        vpc_arn = arn("ec2", f"vpc/{vpc.vpc_id}")
        groups = arn("ec2", "security-group/*")
        statements = {
            "load balancer": iam.PolicyStatement(
                actions=[
                    "elasticloadbalancing:CreateListener",
                    "elasticloadbalancing:CreateLoadBalancer",
                    "elasticloadbalancing:CreateRule",
                    "elasticloadbalancing:CreateTargetGroup",
                    "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:ModifyRule",
                    "elasticloadbalancing:AddListenerCertificates",
                    "elasticloadbalancing:RemoveListenerCertificates",
                    "elasticloadbalancing:RegisterTargets",
                    "elasticloadbalancing:DeregisterTargets",
                    "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:DeleteRule",
                    "elasticloadbalancing:DeleteListener",
                ],
                resources=load_balancing,
                conditions=tagged,
            ),
            "tag load balancer": iam.PolicyStatement(
                actions=["elasticloadbalancing:AddTags"],
                resources=load_balancing,
                conditions={
                    "StringEquals": {
                        "elasticloadbalancing:CreateAction": [
                            "CreateLoadBalancer",
                            "CreateListener",
                            "CreateRule",
                            "CreateTargetGroup",
                        ]
                    }
                },
            ),
            "security group in this vpc": iam.PolicyStatement(
                actions=["ec2:CreateSecurityGroup"], resources=[vpc_arn]
            ),
            "create security group": iam.PolicyStatement(
                actions=[
                    "ec2:CreateSecurityGroup",
                    "ec2:AuthorizeSecurityGroupEgress",
                    "ec2:AuthorizeSecurityGroupIngress",
                ],
                resources=[groups, arn("ec2", "security-group-rule/*")],
                conditions=tagging,
            ),
            "change security group": iam.PolicyStatement(
                actions=[
                    "ec2:AuthorizeSecurityGroupEgress",
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:DeleteSecurityGroup",
                    "ec2:RevokeSecurityGroupEgress",
                    "ec2:RevokeSecurityGroupIngress",
                ],
                resources=[groups],
                conditions=tagged,
            ),
            "tag security group": iam.PolicyStatement(
                actions=["ec2:CreateTags"],
                resources=[groups, arn("ec2", "security-group-rule/*")],
                conditions={
                    "StringEquals": {
                        "ec2:CreateAction": [
                            "CreateSecurityGroup",
                            "AuthorizeSecurityGroupIngress",
                            "AuthorizeSecurityGroupEgress",
                        ]
                    }
                },
            ),
            "certificate": iam.PolicyStatement(
                actions=[
                    "acm:RequestCertificate",
                    "acm:AddTagsToCertificate",
                    "acm:DeleteCertificate",
                    "acm:DescribeCertificate",
                ],
                resources=[arn("acm", "certificate/*")],
                conditions=tagged,
            ),
            "scaling target": iam.PolicyStatement(
                actions=[
                    "application-autoscaling:RegisterScalableTarget",
                    "application-autoscaling:TagResource",
                    "application-autoscaling:DeregisterScalableTarget",
                ],
                resources=[arn("application-autoscaling", "scalable-target/*")],
                conditions=tagged,
            ),
            "scaling policy": iam.PolicyStatement(
                actions=[
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:DeleteScalingPolicy",
                ],
                resources=[arn("application-autoscaling", "scalable-target/*")],
                conditions={"StringEquals": {"application-autoscaling:service-namespace": "ecs"}},
            ),
            "read scaling": iam.PolicyStatement(
                actions=[
                    "application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:DescribeScalingPolicies",
                    "application-autoscaling:DescribeScalingActivities",
                ],
                resources=[arn("application-autoscaling", "scalable-target/*")],
            ),
            "create alarm": iam.PolicyStatement(
                actions=["cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"],
                resources=[arn("cloudwatch", "alarm:*")],
                conditions=tagging,
            ),
            "change alarm": iam.PolicyStatement(
                actions=["cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms"],
                resources=[arn("cloudwatch", "alarm:*")],
                conditions=tagged,
            ),
            "read load balancing and network": iam.PolicyStatement(
                actions=[
                    "elasticloadbalancing:DescribeLoadBalancers",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetHealth",
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeRules",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeRouteTables",
                    "ec2:DescribeVpcs",
                    "logs:DescribeLogGroups",
                ],
                resources=["*"],
            ),
            "create log group": iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:TagResource"],
                resources=[arn("logs", "log-group:*")],
                conditions=tagging,
            ),
        }
        for statement in statements.values():
            self.infrastructure_role.add_to_principal_policy(statement)
        reasons = {
            "load balancer": "Express Mode names the load balancer, listeners, rules and "
            "target groups itself; the statement is limited to this account and region and "
            "to resources tagged AmazonECSManaged=true, which only ECS puts on them.",
            "tag load balancer": "Tags only at creation (elasticloadbalancing:CreateAction), "
            "on load-balancing resources of this account and region, whose names ECS picks.",
            "create security group": "Creates and opens only security groups that carry "
            "the AmazonECSManaged=true tag in the request, in this account and region; their "
            "ids are generated.",
            "change security group": "Changes only security groups tagged "
            "AmazonECSManaged=true (those ECS created), in this account and region.",
            "tag security group": "Tags only at creation (ec2:CreateAction) of security "
            "groups and rules in this account and region, whose ids are generated.",
            "certificate": "ECS requests the certificate for the service's *.on.aws name; "
            "limited to certificates tagged AmazonECSManaged=true in this account and region.",
            "scaling target": "ECS registers the service's scalable target; limited to targets "
            "tagged AmazonECSManaged=true in this account and region.",
            "scaling policy": "Scaling policies on ECS scalable targets (service namespace ecs) "
            "of this account and region; the target's id embeds the generated service name.",
            "read scaling": "Application Auto Scaling's Describe calls take no resource ARN "
            "beyond this account and region's scalable targets.",
            "create alarm": "ECS creates the deployment-rollback alarm with a generated name, "
            "only with the AmazonECSManaged=true tag in the request, in this account and region.",
            "change alarm": "Deletes and reads only alarms tagged AmazonECSManaged=true, in this "
            "account and region.",
            "read load balancing and network": "Read-only: the Elastic Load Balancing and EC2 "
            "Describe calls support no resource-level permissions, and logs:DescribeLogGroups "
            "lists the account's log groups.",
            "create log group": "Creates only log groups carrying the AmazonECSManaged=true tag "
            "in the request, in this account and region (this service logs to a group the stack "
            "owns, so ECS has none to create unless the configuration changes).",
        }
        for name, reason in reasons.items():
            acknowledge_wildcard_resources(
                self.infrastructure_role, set(statements[name].actions), reason
            )


def _looks_secret(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in ("PASSWORD", "SECRET", "TOKEN", "PRIVATE_KEY", "API_KEY"))
