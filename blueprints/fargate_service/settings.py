"""FargateService's settings: `blueprints.<instance>.<stage>` in cdk.json. Defaults are the dev
profile; docs/fargate-service.md lists every setting with the shipped dev and prod values."""

from __future__ import annotations

from typing import Literal

from aws_cdk import aws_ecs as ecs
from pydantic import Field, ValidationInfo, model_validator

from house.settings import Settings, require, require_domain_in_prod, require_in_zone
from house.types import (
    DomainName,
    EmailAddress,
    GravitonInstanceType,
    HealthCheckPath,
    HostedZoneId,
    HostedZoneName,
    ScheduleExpression,
    TimeZone,
)
from patterns.containers.cluster import FARGATE_SIZES, CapacityStrategy, fargate_size_problem
from patterns.containers.registry import ImageSetting, image_source, runs_sample_app

FargateCpu = Literal[tuple(FARGATE_SIZES)]


class FargateServiceSettings(Settings):
    image: ImageSetting = Field(
        "codebuild",
        description="'codebuild': containers/web built by CodeBuild during the deploy and pushed "
        "to the blueprint's ECR repository (no Docker anywhere); 'docker': built by `cdk deploy` "
        "with your local Docker; 'repository:<tag>': an image you pushed to that repository; "
        "anything else: an image reference with a fixed tag or a digest, pulled as is (e.g. "
        "public.ecr.aws/nginx/nginx:stable-alpine with container_port 80 and "
        "health_check_path /). CodeBuild bills per build minute.",
    )
    container_port: int = Field(
        8080, ge=1, le=65_535, description="Port the container listens on (not 2049, NFS)."
    )
    health_check_path: HealthCheckPath = Field(
        "/health", description="Path the load balancer checks each task on."
    )
    cpu_architecture: Literal["X86_64", "ARM64"] = Field(
        "X86_64",
        description="X86_64 (Fargate Spot runs only x86) or ARM64 (Graviton, cheaper on demand).",
    )
    cpu: FargateCpu = Field(
        256, description="CPU units of a web task (1024 = 1 vCPU). Billed per vCPU-hour."
    )
    memory_mib: int = Field(
        512,
        description="Memory of a web task, in MiB; what Fargate accepts depends on cpu. Billed "
        "per GB-hour.",
    )
    min_tasks: int = Field(
        1, ge=1, le=1000, description="Web tasks always running (at least 1 behind the ALB)."
    )
    max_tasks: int = Field(2, ge=1, le=1000, description="Most web tasks scaling may run.")
    on_demand_base: int = Field(
        0, ge=0, le=1000, description="Web tasks that always run on FARGATE (on demand)."
    )
    on_demand_weight: int = Field(
        0, ge=0, le=1000, description="Share of further tasks on FARGATE (on demand)."
    )
    spot_weight: int = Field(
        1,
        ge=0,
        le=1000,
        description="Share of further tasks on FARGATE_SPOT: much cheaper than on demand, but "
        "a task may be interrupted with two minutes' notice.",
    )
    min_healthy_percent: int = Field(
        100, ge=0, le=100, description="Share of tasks that stay up during a deployment."
    )
    max_healthy_percent: int = Field(
        200, ge=100, le=200, description="Share of tasks a deployment may run at once."
    )
    cpu_target_percent: int = Field(
        60, ge=10, le=90, description="Average CPU the web service scales to keep."
    )
    memory_target_percent: int = Field(
        70, ge=10, le=90, description="Average memory the web service scales to keep."
    )
    requests_per_target: int = Field(
        1000, ge=1, description="ALB requests per task per minute the service scales to keep."
    )
    scale_out_schedule: ScheduleExpression | None = Field(
        None,
        description="When the scheduled minimum (scheduled_min_tasks) starts, e.g. working "
        "hours; null = no schedule.",
    )
    scale_in_schedule: ScheduleExpression | None = Field(
        None, description="When the scheduled minimum ends (back to min_tasks)."
    )
    scheduled_min_tasks: int = Field(
        0, ge=0, description="Minimum web tasks between scale_out_schedule and scale_in_schedule."
    )
    schedule_time_zone: TimeZone = Field(
        "UTC", description="Time zone of the schedules (scaling and prune_schedule)."
    )
    execute_command: bool = Field(
        True,
        description="ECS Exec into running tasks (a shell for debugging); off makes the root "
        "filesystem read-only.",
    )
    domain_name: DomainName | None = Field(
        None,
        description="HTTPS on this name (TLS 1.2+, in a Route 53 zone you own, with "
        "hosted_zone_id and hosted_zone_name); port 80 then only redirects to it. null = plain "
        "HTTP on the ALB's name (prod refuses that unless allow_plain_http).",
    )
    hosted_zone_id: HostedZoneId | None = Field(None, description="Route 53 zone of domain_name.")
    hosted_zone_name: HostedZoneName | None = Field(
        None, description="Name of the hosted_zone_id zone."
    )
    allow_plain_http: bool = Field(
        False,
        description="Prod only: true lets prod go without domain_name, serving the app over "
        "plain HTTP (no TLS at all) on the load balancer's name. Off, prod without a domain is "
        "an error.",
    )
    task_subnets: Literal["public", "private"] = Field(
        "public",
        description="'public': tasks get public IPs, security groups admit only the ALB, no NAT "
        "or endpoints; 'private': no public IPs, VPC interface endpoints for ECR, Logs, SQS "
        "(billed per endpoint-hour and AZ), plus NAT gateways if nat_gateways > 0.",
    )
    nat_gateways: int = Field(
        0,
        ge=0,
        le=3,
        description="NAT gateways for private task subnets (only for images from public "
        "registries). Each is billed per hour and per GB.",
    )
    worker_cpu: FargateCpu = Field(256, description="CPU units of a queue-worker task.")
    worker_memory_mib: int = Field(512, description="Memory of a queue-worker task, in MiB.")
    worker_min_tasks: int = Field(
        0, ge=0, le=1000, description="Queue workers always running (0: scale from zero)."
    )
    worker_max_tasks: int = Field(
        2, ge=1, le=1000, description="Most queue workers scaling on queue depth may run."
    )
    worker_capacity: Literal["fargate", "ec2"] = Field(
        "fargate", description="Where queue workers run: Fargate, or the EC2 capacity."
    )
    ec2_capacity: bool = Field(
        False,
        description="An EC2 Auto Scaling capacity provider (Graviton) in the cluster. Its "
        "instances are billed per hour while running.",
    )
    ec2_instance_type: GravitonInstanceType = Field(
        "t4g.small", description="Instance type of the EC2 capacity (arm64 ECS-optimised AMI)."
    )
    ec2_min_instances: int = Field(0, ge=0, description="Fewest EC2 capacity instances.")
    ec2_max_instances: int = Field(2, ge=1, le=100, description="Most EC2 capacity instances.")
    prune_schedule: ScheduleExpression = Field(
        "cron(0 3 * * ? *)", description="When the prune task deletes old shared files."
    )
    task_retry_attempts: int = Field(
        3,
        ge=0,
        le=185,
        description="Retries of a failed task start by EventBridge (S3-event and scheduled tasks).",
    )
    task_max_event_age_hours: int = Field(
        2, ge=1, le=24, description="How long EventBridge keeps retrying an event, in hours."
    )
    shared_file_retention_days: int = Field(
        7, ge=1, le=3650, description="Age at which the prune task deletes shared files."
    )
    repository_keep_images: int = Field(
        10, ge=1, le=1000, description="Images the ECR repository keeps (older are expired)."
    )
    notification_email: EmailAddress | None = Field(
        None, description="Also e-mail stopped-task alerts here (SNS subscription to confirm)."
    )

    @model_validator(mode="after")
    def _service_rules(self, info: ValidationInfo) -> FargateServiceSettings:
        source = image_source(self.image)
        require(
            self.container_port != 2049,
            "container_port",
            2049,
            "allowed: 1..65535 except 2049 (NFS)",
        )
        for cpu, memory, memory_name in (
            (self.cpu, self.memory_mib, "memory_mib"),
            (self.worker_cpu, self.worker_memory_mib, "worker_memory_mib"),
        ):
            problem = fargate_size_problem(cpu, memory)
            require(problem is None, memory_name, memory, str(problem))
        require(
            self.min_tasks <= self.max_tasks,
            "min_tasks",
            self.min_tasks,
            f"must not exceed max_tasks ({self.max_tasks})",
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
            self.max_healthy_percent > 100 or self.min_healthy_percent < 100,
            "max_healthy_percent",
            self.max_healthy_percent,
            "allowed: 101..200 (or 100 with min_healthy_percent below 100), or a deploy "
            "could never start a new task",
        )
        require(
            (self.scale_out_schedule is None) == (self.scale_in_schedule is None),
            "scale_out_schedule",
            self.scale_out_schedule,
            "give scale_out_schedule and scale_in_schedule together, or neither",
        )
        if self.scale_out_schedule:
            require(
                self.min_tasks <= self.scheduled_min_tasks <= self.max_tasks,
                "scheduled_min_tasks",
                self.scheduled_min_tasks,
                f"must be within min_tasks..max_tasks ({self.min_tasks}..{self.max_tasks})",
            )
        domain = (self.domain_name, self.hosted_zone_id, self.hosted_zone_name)
        require(
            all(domain) or not any(domain),
            "domain_name",
            self.domain_name,
            "give domain_name, hosted_zone_id and hosted_zone_name together, or none",
        )
        require_in_zone(
            "domain_name",
            self.domain_name,
            [self.domain_name] if self.domain_name else [],
            self.hosted_zone_name,
        )
        require_domain_in_prod(
            info,
            domain_setting="domain_name",
            domain=self.domain_name,
            opt_out_setting="allow_plain_http",
            opt_out=self.allow_plain_http,
            gives_up="plain HTTP, with no TLS at all",
        )
        require(
            self.nat_gateways == 0 or self.task_subnets == "private",
            "nat_gateways",
            self.nat_gateways,
            "only private task subnets use a NAT gateway; with task_subnets 'public' it would "
            "be billed for nothing",
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
            self.worker_min_tasks <= self.worker_max_tasks,
            "worker_min_tasks",
            self.worker_min_tasks,
            f"allowed: 0..worker_max_tasks ({self.worker_max_tasks})",
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
            self.ec2_min_instances <= self.ec2_max_instances,
            "ec2_min_instances",
            self.ec2_min_instances,
            f"allowed: 0..ec2_max_instances ({self.ec2_max_instances})",
        )
        return self

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
