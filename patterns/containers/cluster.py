"""An ECS cluster and the capacity its tasks run on, plus what every task of the blueprint shares.

ECS cluster (Container Insights, ECS Exec logged to CloudWatch)
  |-- FARGATE + FARGATE_SPOT capacity providers, default strategy from settings
  |-- optional: EC2 capacity provider <- Auto Scaling group of Graviton instances
  |             (ECS-optimised AL2023 arm64 AMI, managed scaling + termination protection)
  '-- app_container(): the one way a task definition + container is made here
wait_for_capacity_providers(): every service waits for the cluster's provider association
task_endpoints(): the VPC endpoints tasks in subnets without internet access need
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from house.compliance import acknowledge, acknowledge_wildcard_resources
from house.defaults import log_group
from house.network import InterfaceEndpoints, availability_zones

# CPU units -> the memory sizes (MiB) Fargate accepts with it (Linux, platform 1.4.0).
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}


def fargate_size_problem(cpu: int, memory_mib: int) -> str | None:
    """None if Fargate runs a task of `cpu` units and `memory_mib`, else what it accepts."""
    if cpu not in FARGATE_SIZES:
        return f"Fargate CPU units are one of {', '.join(map(str, FARGATE_SIZES))}"
    allowed = FARGATE_SIZES[cpu]
    if memory_mib not in allowed:
        return (
            f"with cpu {cpu} Fargate accepts memory {allowed[0]}..{allowed[-1]} MiB in steps "
            f"of {allowed[1] - allowed[0]} MiB"
        )
    return None


@dataclasses.dataclass(frozen=True)
class CapacityStrategy:
    """How tasks split between FARGATE (on demand) and FARGATE_SPOT (up to ~70 % cheaper, may be
    interrupted with two minutes' notice). `on_demand_base` tasks always run on demand; the
    rest split by weight."""

    on_demand_base: int = 0
    on_demand_weight: int = 1
    spot_weight: int = 0

    def providers(self) -> list[ecs.CapacityProviderStrategy]:
        strategy = []
        if self.on_demand_weight or self.on_demand_base:
            strategy.append(
                ecs.CapacityProviderStrategy(
                    capacity_provider="FARGATE",
                    base=self.on_demand_base or None,
                    weight=self.on_demand_weight,
                )
            )
        if self.spot_weight:
            strategy.append(
                ecs.CapacityProviderStrategy(
                    capacity_provider="FARGATE_SPOT", weight=self.spot_weight
                )
            )
        return strategy


def wait_for_capacity_providers(service: ecs.BaseService, cluster: ecs.ICluster) -> None:
    """Make `service` wait for `cluster`'s AWS::ECS::ClusterCapacityProviderAssociations.

    A service with a capacity provider strategy created before that association fails ("The
    specified capacity provider strategy cannot contain a capacity provider that is not
    associated with the cluster"), and nothing in the template orders them. CDK adds the
    association to the cluster at synth (an aspect), so the dependency is on the whole
    cluster construct, which then includes it. Only the AWS::ECS::Service waits: its scaling
    target and alarms already follow the service.
    """
    service.node.default_child.node.add_dependency(cluster)


@dataclasses.dataclass(frozen=True)
class Ec2Capacity:
    instance_type: str = "t4g.small"
    min_instances: int = 0
    max_instances: int = 2


class ContainerCluster(Construct):
    """The cluster, its Fargate capacity providers and, optionally, an EC2 capacity provider.

    Container Insights is on: cluster, service and task metrics billed as custom metrics plus
    performance logs, a large idle line (docs/fargate-service.md's cost table).

    Args:
        `vpc`: the VPC of the cluster and of its EC2 capacity. Required.
        `strategy`: the cluster's default capacity provider strategy: how tasks split between
            FARGATE and FARGATE_SPOT (CapacityStrategy). Required.
        `execute_command`: True configures ECS Exec logging: every session's commands and output
            go to a log group of their own (`exec_log_group`). False leaves ECS Exec unconfigured
            and `exec_log_group` None. Required.
        `log_retention_days`: retention of the ECS Exec session log group. Required.
        `removal_policy`: the stage's; applies to the ECS Exec session log group. Required.
        `ec2_capacity`: adds an EC2 capacity provider: an Auto Scaling group of
            `ec2_capacity.instance_type` (Graviton, ECS-optimised AL2023 arm64 AMI, IMDSv2 with hop
            limit 1, encrypted 30 GiB gp3 root volume, HTTPS-only egress) between its minimum and
            maximum instances, scaled by ECS managed scaling with managed termination
            protection. Its instances bill while they run. Default: None, Fargate capacity
            only: `ec2_provider`, `instance_security_group`, `instance_role` and
            `instance_group` are None.
        `ec2_subnets`: the subnets of the EC2 capacity's Auto Scaling group (used only with
            `ec2_capacity`). Default: None, the Auto Scaling group's default (the VPC's private
            subnets).
        `notifications`: an SNS topic the EC2 capacity's Auto Scaling group notifies of its scaling
            events (launches, terminations, failures); used only with `ec2_capacity`. Default: None,
            no notifications.
        `notifications_key`: the KMS key of `notifications`: a statement in its key policy lets Auto
            Scaling's service-linked role encrypt for the topic. Used only with `ec2_capacity` and
            `notifications`. Default: None, the key policy is left alone (a topic without a customer
            key).
        `container_insights`: cluster, service and task metrics (billed as custom metrics, see
            CONTAINER_INSIGHTS_METRICS in docgen/cost.py). Default: True; False leaves them off.

    Attributes: vpc, strategy, cluster, exec_log_group (None without `execute_command`),
    ec2_provider, instance_security_group, instance_role, instance_group (each None without
    `ec2_capacity`).
    """

    exec_log_group: logs.LogGroup | None
    ec2_provider: ecs.AsgCapacityProvider | None
    instance_security_group: ec2.SecurityGroup | None
    instance_role: iam.Role | None
    instance_group: autoscaling.AutoScalingGroup | None

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        strategy: CapacityStrategy,
        execute_command: bool,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
        ec2_capacity: Ec2Capacity | None = None,
        ec2_subnets: ec2.SubnetSelection | None = None,
        notifications: sns.ITopic | None = None,
        notifications_key: kms.IKey | None = None,
        container_insights: bool = True,
    ) -> None:
        super().__init__(scope, id)
        self.vpc = vpc
        self.strategy = strategy
        self.exec_log_group = None
        self.instance_security_group = self.instance_role = self.instance_group = None
        exec_config = None
        if execute_command:
            # Every ECS Exec session's commands and output land here, with the stage's retention.
            self.exec_log_group = log_group(
                self,
                "ExecSessions",
                retention_days=log_retention_days,
                removal_policy=removal_policy,
            )
            exec_config = ecs.ExecuteCommandConfiguration(
                logging=ecs.ExecuteCommandLogging.OVERRIDE,
                # The group is encrypted at rest by CloudWatch Logs; `cloud_watch_encryption_
                # enabled` would demand a KMS-keyed group, or sessions fail to start.
                log_configuration=ecs.ExecuteCommandLogConfiguration(
                    cloud_watch_log_group=self.exec_log_group
                ),
            )
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            # Cluster/service/task CPU, memory, network and storage metrics. Billed as custom
            # metrics + performance logs: a large idle line (docs/fargate-service.md's cost table).
            container_insights_v2=ecs.ContainerInsights.ENABLED
            if container_insights
            else ecs.ContainerInsights.DISABLED,
            enable_fargate_capacity_providers=True,
            execute_command_configuration=exec_config,
        )
        self.cluster.add_default_capacity_provider_strategy(strategy.providers())
        self.ec2_provider = None
        if ec2_capacity:
            self.ec2_provider = self._ec2_capacity(
                ec2_capacity, ec2_subnets, notifications, notifications_key
            )

    def _ec2_capacity(
        self,
        capacity: Ec2Capacity,
        subnets: ec2.SubnetSelection | None,
        notifications: sns.ITopic | None,
        notifications_key: kms.IKey | None,
    ) -> ecs.AsgCapacityProvider:
        """Graviton instances that ECS itself scales (managed scaling) and never terminates
        while they run tasks (managed termination protection)."""
        security_group = ec2.SecurityGroup(
            self,
            "InstanceSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="ECS container instances: no inbound; HTTPS out to ECS, ECR and Logs",
        )
        security_group.add_egress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(443),
            "ECS agent, ECR image pulls and CloudWatch Logs over HTTPS",
        )
        # No managed policies: joining the cluster adds exactly the ECS agent's statements
        # (register/poll/submit on this cluster, ECR token, logs) to this role.
        role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="ECS agent on the cluster's EC2 capacity",
        )
        template = ec2.LaunchTemplate(
            self,
            "InstanceTemplate",
            instance_type=ec2.InstanceType(capacity.instance_type),
            machine_image=ecs.EcsOptimizedImage.amazon_linux2023(ecs.AmiHardwareType.ARM),
            role=role,
            security_group=security_group,
            user_data=ec2.UserData.for_linux(),
            require_imdsv2=True,
            http_put_response_hop_limit=1,  # containers cannot reach the instance's credentials
            detailed_monitoring=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        30, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3
                    ),
                )
            ],
        )
        group = autoscaling.AutoScalingGroup(
            self,
            "Instances",
            vpc=self.vpc,
            vpc_subnets=subnets,
            launch_template=template,
            min_capacity=capacity.min_instances,
            max_capacity=capacity.max_instances,
            # Required by managed termination protection: ECS, not the ASG, decides scale-in.
            new_instances_protected_from_scale_in=True,
            notifications=[autoscaling.NotificationConfiguration(topic=notifications)]
            if notifications
            else None,
        )
        # Its AZs said on the group too, as Control Tower checks them (CT.AUTOSCALING.PR.1).
        group.node.default_child.availability_zones = availability_zones(self.vpc, subnets)
        provider = ecs.AsgCapacityProvider(
            self,
            "Ec2CapacityProvider",
            auto_scaling_group=group,
            enable_managed_scaling=True,
            enable_managed_termination_protection=True,
            target_capacity_percent=100,
        )
        self.instance_security_group = security_group
        self.cluster.add_asg_capacity_provider(provider)
        if notifications and notifications_key:
            # Auto Scaling publishes as its service-linked role, which must be allowed to use the
            # topic's key. Named in a condition, not as principal: KMS rejects a policy naming a
            # role that does not exist yet, and this role appears with the first ASG.
            notifications_key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="AllowAutoScalingNotifications",
                    principals=[iam.AnyPrincipal()],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                    conditions={
                        "ArnEquals": {
                            "aws:PrincipalArn": cdk.Stack.of(self).format_arn(
                                service="iam",
                                region="",
                                resource="role",
                                resource_name="aws-service-role/autoscaling.amazonaws.com/"
                                "AWSServiceRoleForAutoScaling",
                            )
                        }
                    },
                )
            )
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Action::ecs:Submit*]",
            "The ECS agent reports container and task state with the ecs:Submit* actions; CDK "
            "grants them on this one cluster's ARN only.",
        )
        acknowledge_wildcard_resources(
            role,
            {
                "ecs:Poll",
                "ecs:StartTelemetrySession",
                "ecr:GetAuthorizationToken",
                "ecs:DiscoverPollEndpoint",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            },
            "CDK's grants to the ECS agent on these instances: ecs:Poll and "
            "StartTelemetrySession name container instances that exist only once an instance "
            "registers, so they are conditioned on this cluster; DiscoverPollEndpoint and "
            "GetAuthorizationToken support no resource-level permissions; logs:CreateLogStream/"
            "PutLogEvents are CDK's grant for the awslogs driver, which the cluster cannot limit "
            "to the log groups of task definitions added later.",
        )
        self.instance_role = role
        self.instance_group = group
        return provider


def app_container(
    scope: Construct,
    id: str,
    *,
    image: ecs.ContainerImage,
    cpu: int,
    memory_mib: int,
    architecture: ecs.CpuArchitecture,
    environment: Mapping[str, str],
    log_retention_days: int,
    removal_policy: cdk.RemovalPolicy,
    command: Sequence[str] | None = None,
    port: int | None = None,
    read_only_root_filesystem: bool = True,
    user: str | None = None,
    compatibility: ecs.Compatibility = ecs.Compatibility.FARGATE,
) -> tuple[ecs.TaskDefinition, ecs.ContainerDefinition]:
    """A task definition with one essential container logging to its own log group.

    CDK gives every task definition its own task role (what the app may do) and execution role
    (what ECS needs to start it: pull the image, write logs), so the two never mix. The container
    may use all of the task's memory and no more (its hard limit, CT.ECS.PR.7). `user`: the
    non-root `uid:gid` the container runs as (CT.ECS.PR.3); None leaves it to the image.
    """
    task_definition = ecs.TaskDefinition(
        scope,
        f"{id}Task",
        compatibility=compatibility,
        network_mode=ecs.NetworkMode.AWS_VPC,
        cpu=str(cpu),
        memory_mib=str(memory_mib),
        # On EC2 the instance's AMI decides the architecture; ECS rejects a runtime platform.
        runtime_platform=ecs.RuntimePlatform(
            cpu_architecture=architecture, operating_system_family=ecs.OperatingSystemFamily.LINUX
        )
        if compatibility == ecs.Compatibility.FARGATE
        else None,
    )
    logs = log_group(
        scope, f"{id}Logs", retention_days=log_retention_days, removal_policy=removal_policy
    )
    container = task_definition.add_container(
        "App",
        image=image,
        command=list(command) if command else None,
        essential=True,
        environment=dict(environment),
        readonly_root_filesystem=read_only_root_filesystem,
        memory_limit_mib=memory_mib,
        user=user,
        # Non-blocking: a CloudWatch Logs hiccup buffers (25 MiB) instead of freezing the app.
        logging=ecs.LogDrivers.aws_logs(
            stream_prefix=id.lower(),
            log_group=logs,
            mode=ecs.AwsLogDriverMode.NON_BLOCKING,
            max_buffer_size=cdk.Size.mebibytes(25),
        ),
        port_mappings=[ecs.PortMapping(container_port=port)] if port else None,
        stop_timeout=cdk.Duration.seconds(30)
        if compatibility == ecs.Compatibility.FARGATE
        else None,
    )
    acknowledge(
        task_definition,
        "AwsSolutions-ECS2",
        f"The {id} container's environment holds only non-secret wiring "
        f"({', '.join(sorted(environment))}); a secret would go in `secrets` from Secrets Manager.",
    )
    acknowledge_wildcard_resources(
        task_definition.execution_role,
        {"ecr:GetAuthorizationToken"},
        f"The {id} task's execution role needs ecr:GetAuthorizationToken to pull its image, and "
        "that action has no resource-level permissions; the pull itself is scoped to one "
        "repository.",
    )
    return task_definition, container


# Interface endpoints tasks need when their subnets have no route to the internet. Each bills
# per AZ-hour and per GB (the largest line of prod's idle cost); the S3 gateway endpoint is free.
TASK_ENDPOINTS = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,  # image manifests, auth token
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,  # image layers (then from S3)
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,  # awslogs driver
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,  # web + worker
}
EXEC_ENDPOINTS = {"SsmMessages": ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES}
EC2_AGENT_ENDPOINTS = {
    "Ecs": ec2.InterfaceVpcEndpointAwsService.ECS,
    "EcsAgent": ec2.InterfaceVpcEndpointAwsService.ECS_AGENT,
    "EcsTelemetry": ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
}


def s3_gateway_endpoint(
    vpc: ec2.Vpc, subnets: Sequence[ec2.SubnetSelection]
) -> ec2.GatewayVpcEndpoint:
    """Free: image layers (ECR stores them in S3) and upload reads stay off NAT/IGW."""
    return vpc.add_gateway_endpoint(
        "S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=list(subnets)
    )


class TaskEndpoints(InterfaceEndpoints):
    """Interface endpoints in `subnets` behind one security group that admits HTTPS only from
    the groups passed to `allow_from` (the tasks), not from the whole VPC.

    Each interface endpoint bills per AZ-hour and per GB processed.

    Args:
        `vpc`: the VPC the endpoints belong to. Required.
        `subnets`: where the endpoints' network interfaces go. Required.
        `execute_command`: also the SSM Messages endpoint that ECS Exec sessions need. Default:
            False, no ECS Exec endpoint.
        `ec2_agent`: also the ECS, ECS agent and ECS telemetry endpoints the ECS agent on EC2
            capacity needs. Default: False, none of them.
        `services`: the interface endpoints to create, by name (the ones above are added to them).
            Default: None, TASK_ENDPOINTS (ECR API, ECR Docker, CloudWatch Logs, SQS).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        execute_command: bool = False,
        ec2_agent: bool = False,
        services: Mapping[str, ec2.InterfaceVpcEndpointAwsService] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            vpc=vpc,
            subnets=subnets,
            services={
                **(TASK_ENDPOINTS if services is None else services),
                **(EXEC_ENDPOINTS if execute_command else {}),
                **(EC2_AGENT_ENDPOINTS if ec2_agent else {}),
            },
            description="VPC interface endpoints: HTTPS from the container tasks only",
        )

    def allow_from(  # type: ignore[override]
        self, *clients: ec2.IConnectable, description: str = "HTTPS to AWS APIs from the tasks"
    ) -> None:
        super().allow_from(*clients, description=description)
