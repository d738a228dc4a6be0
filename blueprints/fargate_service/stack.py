"""ECS/Fargate service blueprint: a production container service with scaling, storage and tasks.

    internet -> ALB -> web service (Fargate, FARGATE/FARGATE_SPOT, scales on CPU/memory/requests)
                        | POST /jobs                      | GET /jobs/<id>, /uploads
                        v                                 |
                   SQS job queue (+DLQ) -> queue worker --+--> EFS (TLS + IAM, access point)
                                          (scales on depth)|
    upload bucket --S3 event--> EventBridge --> process-upload task --'
    EventBridge Scheduler --------------------> prune task ------------'
    any task STOPPED --> EventBridge --> SNS topic (KMS)
    containers/web --deploy--> CodeBuild --> ECR repository <-- (or your docker push)

Networking: dev runs tasks in public subnets with public IPs and security groups that admit
only the ALB (no NAT gateway, no interface endpoints); prod runs them in private subnets that
reach AWS through VPC endpoints. docs/fargate-service.md has the measured idle-cost difference.
"""

from __future__ import annotations

import dataclasses
import re
import zoneinfo
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from house.compliance import acknowledge, acknowledge_wildcard_resources, add_serverless_checks
from house.defaults import (
    access_log_bucket,
    customer_key,
    dead_letter_queue,
    queue_with_dlq,
    secure_bucket,
)
from house.network import ISOLATED, PRIVATE_WITH_EGRESS, PUBLIC
from house.network import vpc as house_vpc
from house.settings import StageSettings, require
from patterns.containers.cluster import (
    CapacityStrategy,
    ContainerCluster,
    Ec2Capacity,
    TaskEndpoints,
    app_container,
    fargate_size_problem,
    s3_gateway_endpoint,
)
from patterns.containers.queue_worker import QueueWorker
from patterns.containers.registry import ContainerRegistry, image_source, runs_sample_app
from patterns.containers.tasks import (
    ObjectCreatedTask,
    RetryPolicy,
    ScheduledTask,
    StoppedTaskNotifications,
    operations_topic,
)
from patterns.containers.web_service import (
    SHARED_MOUNT_PATH,
    SharedStorage,
    WebDomain,
    WebScaling,
    WebService,
)

STACK_ID = "FargateService"
_SCHEDULE = re.compile(r"^(cron|rate|at)\(.+\)$")
_GRAVITON = re.compile(r"^[a-z]+\d+g[a-z]*\.(nano|micro|small|medium|large|metal|\d*xlarge)$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclasses.dataclass(frozen=True)
class FargateServiceSettings:
    """Defaults are the dev profile; cdk.json's prod block overrides what prod needs."""

    # "codebuild" = containers/web built by CodeBuild during the deploy, pushed to the
    # blueprint's ECR repository: no Docker anywhere; "docker" = built by `cdk deploy` with
    # your local Docker engine; "repository:<tag>" = an image you pushed to that repository;
    # anything else = an image reference pulled as is, e.g. to try the infrastructure without
    # the sample app: `-c fargate-service.image=public.ecr.aws/nginx/nginx:stable-alpine
    #  -c fargate-service.container_port=80 -c fargate-service.health_check_path=/`
    image: str = "codebuild"
    container_port: int = 8080
    health_check_path: str = "/health"
    # X86_64: Fargate Spot runs only x86. ARM64 (Graviton) is ~20 % cheaper on demand.
    cpu_architecture: Literal["X86_64", "ARM64"] = "X86_64"
    # Smallest Fargate size: 0.25 vCPU / 0.5 GB, the cheapest task (less again on Spot, x86).
    cpu: int = 256
    memory_mib: int = 512
    min_tasks: int = 1
    max_tasks: int = 2
    # Capacity strategy: dev runs everything on FARGATE_SPOT (~70 % off, may be interrupted).
    on_demand_base: int = 0
    on_demand_weight: int = 0
    spot_weight: int = 1
    min_healthy_percent: int = 100
    max_healthy_percent: int = 200
    cpu_target_percent: int = 60
    memory_target_percent: int = 70
    requests_per_target: int = 1000
    scale_out_schedule: str | None = None
    scale_in_schedule: str | None = None
    scheduled_min_tasks: int = 0
    schedule_time_zone: str = "UTC"
    execute_command: bool = True
    # HTTPS: a name in a Route 53 zone you own; all three or none (then plain HTTP on 80).
    domain_name: str | None = None
    hosted_zone_id: str | None = None
    hosted_zone_name: str | None = None
    # "public": public IPs, SGs admit only the ALB, no NAT/endpoints. "private": no public IPs,
    # VPC endpoints for ECR, Logs, SQS (+ NAT gateways only if nat_gateways > 0).
    task_subnets: Literal["public", "private"] = "public"
    nat_gateways: int = 0
    worker_cpu: int = 256
    worker_memory_mib: int = 512
    worker_min_tasks: int = 0
    worker_max_tasks: int = 2
    worker_capacity: Literal["fargate", "ec2"] = "fargate"
    ec2_capacity: bool = False
    ec2_instance_type: str = "t4g.small"
    ec2_min_instances: int = 0
    ec2_max_instances: int = 2
    prune_schedule: str = "cron(0 3 * * ? *)"
    task_retry_attempts: int = 3
    task_max_event_age_hours: int = 2
    shared_file_retention_days: int = 7
    repository_keep_images: int = 10
    notification_email: str | None = None

    def __post_init__(self) -> None:
        try:
            source = image_source(self.image)
        except ValueError as err:
            raise ValueError(f"setting 'image' is {self.image!r}; {err}") from None
        require(
            1 <= self.container_port <= 65535 and self.container_port != 2049,
            "container_port",
            self.container_port,
            "allowed: 1..65535 except 2049 (NFS)",
        )
        require(
            bool(re.fullmatch(r"/[\w\-./~%]*", self.health_check_path))
            and len(self.health_check_path) <= 1024,
            "health_check_path",
            self.health_check_path,
            "expected a URL path starting with '/', e.g. '/health'",
        )
        for cpu, memory, cpu_name, memory_name in (
            (self.cpu, self.memory_mib, "cpu", "memory_mib"),
            (self.worker_cpu, self.worker_memory_mib, "worker_cpu", "worker_memory_mib"),
        ):
            require(
                cpu in (256, 512, 1024, 2048, 4096, 8192, 16384),
                cpu_name,
                cpu,
                fargate_size_problem(cpu, memory) or "",
            )
            problem = fargate_size_problem(cpu, memory)
            require(problem is None, memory_name, memory, f"{problem} (see {cpu_name})")
        require(
            self.min_tasks >= 1,
            "min_tasks",
            self.min_tasks,
            "the web service needs at least 1 task behind its load balancer",
        )
        require(
            self.max_tasks >= self.min_tasks,
            "min_tasks",
            self.min_tasks,
            f"must not exceed max_tasks ({self.max_tasks})",
        )
        require(self.max_tasks <= 1000, "max_tasks", self.max_tasks, "allowed: up to 1000")
        for name in ("on_demand_base", "on_demand_weight", "spot_weight"):
            value = getattr(self, name)
            require(
                0 <= value <= 1000,
                name,
                value,
                "allowed: 0..1000 (capacity provider base/weight values cannot be negative)",
            )
        require(
            self.on_demand_weight + self.spot_weight > 0,
            "spot_weight",
            self.spot_weight,
            "spot_weight and on_demand_weight cannot both be 0",
        )
        require(
            self.cpu_architecture == "X86_64" or self.spot_weight == 0,
            "spot_weight",
            self.spot_weight,
            "must be 0 with cpu_architecture ARM64: Fargate Spot runs only X86_64 tasks",
        )
        require(
            0 <= self.min_healthy_percent <= 100,
            "min_healthy_percent",
            self.min_healthy_percent,
            "allowed: 0..100",
        )
        require(
            100 < self.max_healthy_percent <= 200
            or (self.max_healthy_percent == 100 and self.min_healthy_percent < 100),
            "max_healthy_percent",
            self.max_healthy_percent,
            "allowed: 101..200 (or 100 with min_healthy_percent below 100), or a deploy "
            "could never start a new task",
        )
        for name in ("cpu_target_percent", "memory_target_percent"):
            require(10 <= getattr(self, name) <= 90, name, getattr(self, name), "allowed: 10..90")
        require(
            self.requests_per_target >= 1,
            "requests_per_target",
            self.requests_per_target,
            "must be at least 1 request per target per minute",
        )
        require(
            (self.scale_out_schedule is None) == (self.scale_in_schedule is None),
            "scale_out_schedule",
            self.scale_out_schedule,
            "give scale_out_schedule and scale_in_schedule together, or neither",
        )
        for name in ("scale_out_schedule", "scale_in_schedule"):
            value = getattr(self, name)
            require(
                value is None or bool(_SCHEDULE.match(value)),
                name,
                value,
                "expected an Application Auto Scaling expression: cron(...), rate(...) or at(...)",
            )
        if self.scale_out_schedule:
            require(
                self.min_tasks <= self.scheduled_min_tasks <= self.max_tasks,
                "scheduled_min_tasks",
                self.scheduled_min_tasks,
                f"must be within min_tasks..max_tasks ({self.min_tasks}..{self.max_tasks})",
            )
        try:
            zoneinfo.ZoneInfo(self.schedule_time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"setting 'schedule_time_zone' is {self.schedule_time_zone!r}; "
                "expected an IANA time zone like 'UTC' or 'Europe/Berlin'"
            ) from None
        domain = (self.domain_name, self.hosted_zone_id, self.hosted_zone_name)
        require(
            all(domain) or not any(domain),
            "domain_name",
            self.domain_name,
            "give domain_name, hosted_zone_id and hosted_zone_name together, or none",
        )
        if self.domain_name:
            require(
                bool(_DOMAIN.match(self.domain_name)),
                "domain_name",
                self.domain_name,
                "expected a lower-case DNS name like 'app.example.com'",
            )
            require(
                self.domain_name == self.hosted_zone_name.rstrip(".")
                or self.domain_name.endswith("." + self.hosted_zone_name.rstrip(".")),
                "domain_name",
                self.domain_name,
                f"must be in the hosted zone {self.hosted_zone_name!r}",
            )
            require(
                bool(re.fullmatch(r"Z[A-Z0-9]{1,31}", self.hosted_zone_id)),
                "hosted_zone_id",
                self.hosted_zone_id,
                "expected a Route 53 zone id like Z0123456789ABCDEFGHIJ",
            )
        require(0 <= self.nat_gateways <= 3, "nat_gateways", self.nat_gateways, "allowed: 0..3")
        require(
            self.nat_gateways == 0 or self.task_subnets == "private",
            "nat_gateways",
            self.nat_gateways,
            "only private task subnets use a NAT gateway; with "
            "task_subnets 'public' it would cost ~$33/month for nothing",
        )
        require(
            source != "public" or self.task_subnets == "public" or self.nat_gateways > 0,
            "image",
            self.image,
            "a public registry is reachable from private subnets only "
            "through a NAT gateway: set nat_gateways >= 1, task_subnets 'public', or push "
            "the image to the blueprint's repository ('repository:<tag>')",
        )
        require(
            runs_sample_app(source) or self.worker_min_tasks == 0,
            "worker_min_tasks",
            self.worker_min_tasks,
            f"must be 0 with image {self.image!r}: only the sample "
            "app (image 'codebuild', 'docker' or 'repository:<tag>') has the worker "
            "command, so every worker task would exit at once and the deployment circuit "
            "breaker would fail the deploy",
        )
        require(
            0 <= self.worker_min_tasks <= self.worker_max_tasks,
            "worker_min_tasks",
            self.worker_min_tasks,
            f"allowed: 0..worker_max_tasks ({self.worker_max_tasks})",
        )
        require(
            1 <= self.worker_max_tasks <= 1000,
            "worker_max_tasks",
            self.worker_max_tasks,
            "allowed: 1..1000",
        )
        require(
            self.worker_capacity == "fargate" or self.ec2_capacity,
            "worker_capacity",
            self.worker_capacity,
            "'ec2' needs ec2_capacity true",
        )
        require(
            not self.ec2_capacity or self.task_subnets == "private",
            "ec2_capacity",
            self.ec2_capacity,
            "EC2 tasks (awsvpc) get no public IP: set task_subnets "
            "'private' so they reach ECS, ECR and SQS through VPC endpoints",
        )
        require(
            bool(_GRAVITON.match(self.ec2_instance_type)),
            "ec2_instance_type",
            self.ec2_instance_type,
            "expected a Graviton (arm64) type like t4g.small or "
            "m7g.large: the capacity runs the ECS-optimised arm64 AMI",
        )
        require(
            0 <= self.ec2_min_instances <= self.ec2_max_instances,
            "ec2_min_instances",
            self.ec2_min_instances,
            f"allowed: 0..ec2_max_instances ({self.ec2_max_instances})",
        )
        require(
            1 <= self.ec2_max_instances <= 100,
            "ec2_max_instances",
            self.ec2_max_instances,
            "allowed: 1..100",
        )
        require(
            bool(_SCHEDULE.match(self.prune_schedule)),
            "prune_schedule",
            self.prune_schedule,
            "expected an EventBridge Scheduler expression: cron(...), rate(...) or at(...)",
        )
        require(
            0 <= self.task_retry_attempts <= 185,
            "task_retry_attempts",
            self.task_retry_attempts,
            "allowed: 0..185 (EventBridge limit)",
        )
        require(
            1 <= self.task_max_event_age_hours <= 24,
            "task_max_event_age_hours",
            self.task_max_event_age_hours,
            "allowed: 1..24 (EventBridge limit)",
        )
        require(
            1 <= self.shared_file_retention_days <= 3650,
            "shared_file_retention_days",
            self.shared_file_retention_days,
            "allowed: 1..3650",
        )
        require(
            1 <= self.repository_keep_images <= 1000,
            "repository_keep_images",
            self.repository_keep_images,
            "allowed: 1..1000",
        )
        require(
            self.notification_email is None
            or bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.notification_email)),
            "notification_email",
            self.notification_email,
            "expected null or an e-mail address",
        )

    @property
    def architecture(self) -> ecs.CpuArchitecture:
        return getattr(ecs.CpuArchitecture, self.cpu_architecture)

    @property
    def strategy(self) -> CapacityStrategy:
        return CapacityStrategy(
            on_demand_base=self.on_demand_base,
            on_demand_weight=self.on_demand_weight,
            spot_weight=self.spot_weight,
        )


SETTINGS = FargateServiceSettings


class FargateServiceStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        settings: FargateServiceSettings,
        **kwargs,
    ) -> None:
        super().__init__(
            scope,
            id,
            description="ECS/Fargate web service with queue worker, "
            "EFS and event-started tasks (aws-architecture-blueprints)",
            **kwargs,
        )
        removal = stage.removal_policy
        logs = dict(log_retention_days=stage.log_retention_days, removal_policy=removal)
        self._network(stage, settings)
        self.access_logs = access_log_bucket(self, "AccessLogs", removal_policy=removal)

        # One customer key for the notifications topic: EventBridge can only publish to an
        # encrypted topic whose key policy lets it (AWS-managed keys cannot).
        self.key = customer_key(
            self,
            "NotificationsKey",
            removal_policy=removal,
            description=f"Encrypts {stage.stack_name(STACK_ID)} notifications",
        )
        # Where EventBridge parks events it could not deliver (RunTask/SNS failures).
        self.event_dead_letters = dead_letter_queue(
            self, "EventDeadLetters", removal_policy=removal
        )
        self.topic = operations_topic(
            self,
            "Notifications",
            key=self.key,
            email=settings.notification_email,
            dead_letter_queue=self.event_dead_letters,
        )

        # A readable, per-stage name: it appears in every docker push (fargateservice-dev/web).
        self.registry = ContainerRegistry(
            self,
            "Registry",
            image=settings.image,
            keep_images=settings.repository_keep_images,
            removal_policy=removal,
            log_retention_days=stage.log_retention_days,
            repository_name=f"{self.stack_name.lower()}/web",
        )
        self.containers = ContainerCluster(
            self,
            "Containers",
            vpc=self.vpc,
            strategy=settings.strategy,
            execute_command=settings.execute_command,
            **logs,
            ec2_capacity=Ec2Capacity(
                settings.ec2_instance_type, settings.ec2_min_instances, settings.ec2_max_instances
            )
            if settings.ec2_capacity
            else None,
            ec2_subnets=self.task_subnets,
            notifications=self.topic,
            notifications_key=self.key,
        )
        cluster = self.containers.cluster

        self.storage = SharedStorage(
            self,
            "SharedStorage",
            vpc=self.vpc,
            subnets=ISOLATED,
            backups=stage.keep_data,
            removal_policy=removal,
        )
        self.queue, self.queue_dead_letters = queue_with_dlq(
            self, "Jobs", removal_policy=removal, visibility_timeout=cdk.Duration.seconds(60)
        )
        self.uploads = secure_bucket(
            self,
            "Uploads",
            removal_policy=removal,
            access_logs=self.access_logs,
        )

        self._web(stage, settings, cluster)
        self._background(stage, settings, cluster)
        if self.endpoints:
            self.endpoints.allow_from(
                self.web.task_security_group,
                self.background_security_group,
                *(
                    [self.containers.instance_security_group]
                    if self.containers.ec2_provider
                    else []
                ),
            )
        self._outputs(settings)
        self._acknowledge(settings)
        add_serverless_checks(self)

    def _acknowledge(self, settings: FargateServiceSettings) -> None:
        """The findings that are the price of a feature, each on the one resource it is about."""
        if settings.execute_command:
            acknowledge_wildcard_resources(
                self.web_task.task_role,
                {
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                    "logs:DescribeLogGroups",
                },
                "ECS Exec (execute_command on, a dev default) needs the ssmmessages channel "
                "actions and logs:DescribeLogGroups, none of which support resource-level "
                "permissions; with execute_command off this statement is not created.",
            )
            acknowledge_wildcard_resources(
                self.web_task.task_role,
                {"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"},
                "ECS Exec writes each session to its own new stream in the exec-session log "
                "group; the wildcard is the stream names inside that one group.",
            )
        for child in self.node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                acknowledge(
                    child.node.find_child("Role"),
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]",
                    "CDK's BucketNotificationsHandler (switches on EventBridge delivery for the "
                    "upload bucket at deploy) uses this managed policy only to write its own "
                    "logs, and CDK exposes no way to replace its role.",
                )

    # -- network -------------------------------------------------------------------------------

    def _network(self, stage: StageSettings, settings: FargateServiceSettings) -> None:
        private = settings.task_subnets == "private"
        # Public subnets always (the ALB lives there); NAT only when asked for.
        self.vpc = house_vpc(
            self,
            "Network",
            availability_zones=stage.availability_zones,
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
            public_subnets=True,
            nat_gateways=settings.nat_gateways,
        )
        if not private:
            self.task_subnets, self.assign_public_ip = PUBLIC, True
        else:
            self.task_subnets = PRIVATE_WITH_EGRESS if settings.nat_gateways else ISOLATED
            self.assign_public_ip = False
        self.s3_endpoint = s3_gateway_endpoint(self.vpc, [self.task_subnets])
        self.endpoints = (
            TaskEndpoints(
                self,
                "Endpoints",
                vpc=self.vpc,
                subnets=self.task_subnets,
                execute_command=settings.execute_command,
                ec2_agent=settings.ec2_capacity,
            )
            if private
            else None
        )

    # -- web -----------------------------------------------------------------------------------

    def _env(self, **extra: str) -> dict[str, str]:
        return {"AWS_DEFAULT_REGION": cdk.Aws.REGION, "SHARED_DIR": SHARED_MOUNT_PATH, **extra}

    def _web(
        self, stage: StageSettings, settings: FargateServiceSettings, cluster: ecs.ICluster
    ) -> None:
        task_definition, container = app_container(
            self,
            "Web",
            image=self.registry.image(settings.cpu_architecture),
            cpu=settings.cpu,
            memory_mib=settings.memory_mib,
            architecture=settings.architecture,
            environment=self._env(
                QUEUE_URL=self.queue.queue_url, PORT=str(settings.container_port)
            ),
            port=settings.container_port,
            # ECS Exec's agent needs a writable root filesystem: read-only only without exec.
            read_only_root_filesystem=self.registry.runs_our_app and not settings.execute_command,
            user=self.registry.app_user,
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
        )
        domain = (
            WebDomain(settings.domain_name, settings.hosted_zone_id, settings.hosted_zone_name)
            if settings.domain_name
            else None
        )
        self.web = WebService(
            self,
            "Web",
            cluster=cluster,
            vpc=self.vpc,
            task_definition=task_definition,
            container=container,
            container_port=settings.container_port,
            health_check_path=settings.health_check_path,
            task_subnets=self.task_subnets,
            assign_public_ip=self.assign_public_ip,
            strategy=settings.strategy,
            scaling=WebScaling(
                min_tasks=settings.min_tasks,
                max_tasks=settings.max_tasks,
                cpu_target_percent=settings.cpu_target_percent,
                memory_target_percent=settings.memory_target_percent,
                requests_per_target=settings.requests_per_target,
                scale_out_schedule=settings.scale_out_schedule,
                scale_in_schedule=settings.scale_in_schedule,
                scheduled_min_tasks=settings.scheduled_min_tasks,
                schedule_time_zone=settings.schedule_time_zone,
            ),
            min_healthy_percent=settings.min_healthy_percent,
            max_healthy_percent=settings.max_healthy_percent,
            execute_command=settings.execute_command,
            access_logs=self.access_logs,
            deletion_protection=stage.keep_data,
            domain=domain,
        )
        # The web tasks only read shared storage (results, upload summaries) and enqueue jobs.
        self.storage.mount(task_definition, container, self.web.task_security_group, read_only=True)
        # SendMessage only: the web app is given the queue URL (grant_send_messages would add
        # GetQueueAttributes and GetQueueUrl; the queue's key is SQS-managed, no KMS grant).
        self.queue.grant(task_definition.task_role, "sqs:SendMessage")
        self.web_task = task_definition

    # -- background: worker, event-started tasks, notifications ---------------------------------

    def _background(
        self, stage: StageSettings, settings: FargateServiceSettings, cluster: ecs.ICluster
    ) -> None:
        self.background_security_group = ec2.SecurityGroup(
            self,
            "BackgroundTaskSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Worker and event-started tasks: no inbound; HTTPS out to AWS APIs",
        )
        self.background_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs over HTTPS"
        )
        on_ec2 = settings.worker_capacity == "ec2"
        # Graviton instances run arm64 images; Fargate tasks run the configured architecture.
        worker_arch_name = "ARM64" if on_ec2 else settings.cpu_architecture
        worker_arch = getattr(ecs.CpuArchitecture, worker_arch_name)
        sizes = dict(
            cpu=settings.worker_cpu,
            memory_mib=settings.worker_memory_mib,
            read_only_root_filesystem=self.registry.runs_our_app,
            user=self.registry.app_user,
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
        )

        worker_task, worker_container = app_container(
            self,
            "Worker",
            image=self.registry.image(worker_arch_name),
            architecture=worker_arch,
            command=["worker"],
            environment=self._env(QUEUE_URL=self.queue.queue_url),
            compatibility=ecs.Compatibility.EC2 if on_ec2 else ecs.Compatibility.FARGATE,
            **sizes,
        )
        self.storage.mount(
            worker_task, worker_container, self.background_security_group, read_only=False
        )
        self.worker = QueueWorker(
            self,
            "Worker",
            cluster=cluster,
            task_definition=worker_task,
            queue=self.queue,
            task_subnets=self.task_subnets,
            assign_public_ip=self.assign_public_ip,
            security_group=self.background_security_group,
            min_tasks=settings.worker_min_tasks,
            max_tasks=settings.worker_max_tasks,
            strategy=None if on_ec2 else settings.strategy,
            ec2_provider=self.containers.ec2_provider if on_ec2 else None,
        )

        retry = RetryPolicy(
            attempts=settings.task_retry_attempts,
            max_event_age=cdk.Duration.hours(settings.task_max_event_age_hours),
            dead_letter_queue=self.event_dead_letters,
        )
        # Another image has no process-upload or prune command: every task EventBridge started
        # would exit at once and notify. The rule and schedule exist but start switched off.
        upload_task, upload_container = app_container(
            self,
            "ProcessUpload",
            image=self.registry.image(settings.cpu_architecture),
            architecture=settings.architecture,
            command=["process-upload"],
            environment=self._env(UPLOAD_BUCKET=self.uploads.bucket_name),
            **sizes,
        )
        self.storage.mount(
            upload_task, upload_container, self.background_security_group, read_only=False
        )
        self.upload_task = ObjectCreatedTask(
            self,
            "ProcessUploads",
            cluster=cluster,
            task_definition=upload_task,
            container=upload_container,
            bucket=self.uploads,
            task_subnets=self.task_subnets,
            assign_public_ip=self.assign_public_ip,
            security_group=self.background_security_group,
            strategy=settings.strategy,
            retry=retry,
            enabled=self.registry.runs_our_app,
        )

        prune_task, prune_container = app_container(
            self,
            "Prune",
            image=self.registry.image(settings.cpu_architecture),
            architecture=settings.architecture,
            command=["prune"],
            environment=self._env(RETENTION_DAYS=str(settings.shared_file_retention_days)),
            **sizes,
        )
        self.storage.mount(
            prune_task, prune_container, self.background_security_group, read_only=False
        )
        self.prune = ScheduledTask(
            self,
            "PruneSharedFiles",
            cluster=cluster,
            task_definition=prune_task,
            expression=settings.prune_schedule,
            time_zone=settings.schedule_time_zone,
            task_subnets=self.task_subnets,
            assign_public_ip=self.assign_public_ip,
            security_group=self.background_security_group,
            strategy=settings.strategy,
            retry=retry,
            enabled=self.registry.runs_our_app,
        )

        self.stopped_tasks = StoppedTaskNotifications(
            self, "StoppedTasks", cluster=cluster, topic=self.topic, retry=retry
        )

    # -- outputs --------------------------------------------------------------------------------

    def _outputs(self, settings: FargateServiceSettings) -> None:
        cdk.CfnOutput(
            self,
            "ServiceUrl",
            value=self.web.url,
            description="The web service behind the load balancer",
        )
        cdk.CfnOutput(self, "RepositoryUri", value=self.registry.repository.repository_uri)
        cdk.CfnOutput(
            self,
            "DockerPushCommands",
            value=self.registry.push_commands(
                "linux/arm64" if settings.cpu_architecture == "ARM64" else "linux/amd64"
            ),
            description="Build and push containers/web as v1 (run from the repo root), then "
            "deploy with -c fargate-service.image=repository:v1",
        )
        cdk.CfnOutput(self, "QueueUrl", value=self.queue.queue_url)
        cdk.CfnOutput(
            self,
            "UploadBucketName",
            value=self.uploads.bucket_name,
            description="Each object put here starts a process-upload task",
        )
        cdk.CfnOutput(self, "NotificationsTopicArn", value=self.topic.topic_arn)
        cdk.CfnOutput(self, "ClusterName", value=self.containers.cluster.cluster_name)
        if settings.execute_command:
            cdk.CfnOutput(
                self,
                "ExecCommand",
                description="A shell in a running web task (ECS Exec)",
                value=cdk.Fn.join(
                    "",
                    [
                        "aws ecs execute-command --cluster ",
                        self.containers.cluster.cluster_name,
                        " --container App --interactive --command /bin/sh --task $(aws ecs "
                        "list-tasks --cluster ",
                        self.containers.cluster.cluster_name,
                        " --service-name ",
                        self.web.service.service_name,
                        " --query 'taskArns[0]' --output text)",
                    ],
                ),
            )
        if self.containers.ec2_provider:
            cdk.CfnOutput(
                self,
                "Ec2CapacityProviderName",
                value=self.containers.ec2_provider.capacity_provider_name,
            )


def build(app: cdk.App, stage: StageSettings, settings: FargateServiceSettings) -> list[cdk.Stack]:
    return [
        FargateServiceStack(
            app,
            STACK_ID,
            stage=stage,
            settings=settings,
            stack_name=stage.stack_name(STACK_ID),
            env=stage.environment,
        )
    ]
