"""ContainerWebApp's settings: `blueprints.<instance>.<stage>` in cdk.json. Defaults are the dev
profile; docs/container-web-app.md lists every setting with the shipped dev and prod values."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from house.settings import Settings, require
from house.types import HealthCheckPath
from patterns.containers.app_runner_service import (
    MAX_CONCURRENCY,
    MAX_INSTANCES,
    PUBLIC_ECR,
    app_runner_size_problem,
)
from patterns.containers.cluster import FARGATE_SIZES, fargate_size_problem
from patterns.containers.express_service import MAX_TASKS, SCALING_TARGETS
from patterns.containers.registry import ImageSetting, image_source
from patterns.data.serverless_postgres import AUTO_PAUSE_MINUTES, MAX_ACU

ContainerCpu = Literal[tuple(FARGATE_SIZES)]


class ContainerWebAppSettings(Settings):
    engine: Literal["express", "apprunner"] = Field(
        "express",
        description="'express': Amazon ECS Express Mode (open to every account; the load "
        "balancer, scaling and certificate it creates live outside the stack). 'apprunner': AWS "
        "App Runner, ONLY for accounts that already use it: App Runner takes no new customers "
        "since 2026-04-30.",
    )
    image: ImageSetting = Field(
        "codebuild",
        description="'codebuild': containers/web_app built by CodeBuild during the deploy and "
        "pushed to the blueprint's ECR repository under a fresh immutable tag (no Docker "
        "anywhere; CodeBuild bills per build minute); 'docker': built by `cdk deploy` with your "
        "local Docker; 'repository:<tag>': an image you pushed to that repository; anything "
        "else: an image reference with a fixed tag or a digest (never ':latest').",
    )
    container_port: int = Field(8080, ge=1, le=65_535, description="Port the container serves.")
    health_check_path: HealthCheckPath = Field(
        "/health", description="Path checked on each task (HTTP 200 = healthy)."
    )
    cpu: ContainerCpu = Field(
        256,
        description="CPU units of a task (1024 = 1 vCPU). Express Mode's console default is "
        "1 vCPU / 2 GB; this is the smallest size both engines run. Billed per vCPU-hour.",
    )
    memory_mib: int = Field(
        512,
        description="Memory of a task, in MiB; what is accepted depends on cpu and engine. "
        "Billed per GB-hour (App Runner: also while idle).",
    )
    min_tasks: int = Field(
        1, ge=1, description="Tasks (App Runner: provisioned instances) always running."
    )
    max_tasks: int = Field(
        2,
        ge=1,
        description=f"Most tasks scaling may run (Express Mode up to {MAX_TASKS}, App Runner up "
        f"to {MAX_INSTANCES}).",
    )
    scaling_metric: Literal["cpu", "memory", "requests"] = Field(
        "cpu",
        description="What Express Mode's target tracking follows: average CPU or memory "
        "percent, or requests per task per minute. App Runner scales on "
        "app_runner_max_concurrency instead.",
    )
    scaling_target: int = Field(
        60,
        ge=1,
        description="The value scaling keeps: percent (10..90) for cpu and memory, requests per "
        "task per minute for requests.",
    )
    app_runner_max_concurrency: int = Field(
        100,
        ge=MAX_CONCURRENCY[0],
        le=MAX_CONCURRENCY[1],
        description="engine apprunner: concurrent requests per instance before it adds one.",
    )
    task_subnets: Literal["public", "private"] = Field(
        "public",
        description="'public': tasks and the load balancer in public subnets (internet-facing; "
        "each task's public IPv4 address, billed per hour, is its egress: no NAT, no endpoints). "
        "'private': private subnets, so Express Mode makes the load balancer internal, and AWS "
        "services through VPC interface endpoints (billed per endpoint-hour and AZ), or NAT "
        "gateways if nat_gateways > 0.",
    )
    nat_gateways: int = Field(
        0,
        ge=0,
        le=3,
        description="NAT gateways for tasks in private subnets (engine express with "
        "task_subnets 'private', or an App Runner VPC connector). Each is billed per hour and "
        "per GB.",
    )
    database: bool = Field(
        True,
        description="An Aurora Serverless v2 PostgreSQL cluster, its credentials injected into "
        "the tasks from Secrets Manager (DATABASE_SECRET).",
    )
    database_min_acu: float = Field(
        0,
        ge=0,
        le=MAX_ACU,
        multiple_of=0.5,
        description="Fewest Aurora capacity units per instance. 0: pause after "
        "database_auto_pause_minutes without connections (storage is billed, capacity is not; "
        "the first connection after a pause waits about 15 s). Billed per ACU-hour.",
    )
    database_max_acu: float = Field(
        2,
        ge=1,
        le=MAX_ACU,
        multiple_of=0.5,
        description="Most Aurora capacity units per instance (at least 1: Aurora refuses a "
        "paused cluster whose maximum is below 1 ACU).",
    )
    database_auto_pause_minutes: int = Field(
        5,
        ge=AUTO_PAUSE_MINUTES[0],
        le=AUTO_PAUSE_MINUTES[1],
        description="Idle minutes before an instance at 0 ACU pauses (with database_min_acu 0).",
    )
    database_read_replicas: int = Field(
        0,
        ge=0,
        le=15,
        description="Serverless v2 readers beside the writer, in other AZs (failover targets); "
        "each is billed like the writer.",
    )
    database_backup_retention_days: int = Field(
        1, ge=1, le=35, description="Days of automated backups (point-in-time restore)."
    )
    repository_keep_images: int = Field(
        10, ge=1, le=1000, description="Images the ECR repository keeps (older are expired)."
    )

    @model_validator(mode="after")
    def _service_rules(self) -> ContainerWebAppSettings:
        source = image_source(self.image)
        express = self.engine == "express"
        require(
            express or source != "public" or self.image.startswith(PUBLIC_ECR),
            "image",
            self.image,
            "App Runner pulls only from ECR and ECR Public (public.ecr.aws/...); push the "
            "image to the blueprint's repository ('repository:<tag>')",
        )
        size_problem = (
            fargate_size_problem(self.cpu, self.memory_mib)
            if express
            else app_runner_size_problem(self.cpu, self.memory_mib)
        )
        require(
            size_problem is None,
            "memory_mib",
            self.memory_mib,
            f"{size_problem} (see cpu; engine {self.engine})",
        )
        require(
            self.max_tasks >= self.min_tasks,
            "max_tasks",
            self.max_tasks,
            f"must be at least min_tasks ({self.min_tasks})",
        )
        limit = MAX_TASKS if express else MAX_INSTANCES
        require(
            self.max_tasks <= limit,
            "max_tasks",
            self.max_tasks,
            f"allowed: up to {limit} with engine {self.engine}",
        )
        low, high = SCALING_TARGETS[self.scaling_metric]
        require(
            low <= self.scaling_target <= high,
            "scaling_target",
            self.scaling_target,
            f"allowed with scaling_metric {self.scaling_metric!r}: {low}..{high}",
        )
        require(
            express or (self.scaling_metric, self.scaling_target) == ("cpu", 60),
            "scaling_metric",
            self.scaling_metric,
            "App Runner scales on concurrent requests only: leave scaling_metric and "
            "scaling_target unset and set app_runner_max_concurrency",
        )
        require(
            express or self.task_subnets == "public",
            "task_subnets",
            self.task_subnets,
            "'private' is for engine express (an internal load balancer); an App Runner "
            "service here is public and reaches the database through a VPC connector",
        )
        private_tasks = express and self.task_subnets == "private"
        require(
            self.nat_gateways == 0 or private_tasks or (not express and self.database),
            "nat_gateways",
            self.nat_gateways,
            "only tasks in private subnets use a NAT gateway (engine express with task_subnets "
            "'private', or engine apprunner with a database); otherwise it is billed for nothing",
        )
        require(
            source != "public" or not private_tasks or self.nat_gateways > 0,
            "image",
            self.image,
            "a public registry is reachable from private subnets only through a NAT gateway: "
            "set nat_gateways >= 1, task_subnets 'public', or push the image to the "
            "blueprint's repository ('repository:<tag>')",
        )
        require(
            self.database_max_acu >= self.database_min_acu,
            "database_max_acu",
            self.database_max_acu,
            f"must be at least database_min_acu ({self.database_min_acu})",
        )
        return self

    @property
    def needs_vpc(self) -> bool:
        """Express Mode tasks run in a VPC; App Runner needs one only to reach the database."""
        return self.engine == "express" or self.database

    @property
    def private(self) -> bool:
        """The tasks are in private subnets (and Express Mode's load balancer is internal)."""
        return self.engine == "express" and self.task_subnets == "private"
