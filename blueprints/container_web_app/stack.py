"""Container web app blueprint: the App Runner experience on a service new accounts can use.

    internet --HTTPS--> load balancer (ECS Express Mode creates and owns it)
                          --> ExpressWebService: Fargate tasks of containers/web_app
                                  | DATABASE_SECRET injected from Secrets Manager at start
                                  v 5432/TLS
                              Aurora Serverless v2 PostgreSQL (isolated subnets; 0 ACU and
                              paused when idle in dev)
    containers/web_app --deploy--> CodeBuild --> ECR repository (immutable tags)

`engine: apprunner` runs the same image with the same settings on App Runner instead, for
accounts that already use App Runner (closed to new customers since 2026-04-30).

Networking: `network: public` (both stages' default) puts tasks and the load balancer in public
subnets: tasks get public IPs for egress (no NAT, no endpoints) and admit the container port
only from inside the VPC. `network: private` puts them in private subnets, which makes Express
Mode's load balancer internal, and gives the tasks their AWS services through VPC endpoints or
`nat_gateways`. docs/container-web-app.md has the idle costs of each.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Literal

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from house.compliance import acknowledge_wildcard_resources
from house.images import pinned
from house.network import ISOLATED, PRIVATE_WITH_EGRESS, PUBLIC
from house.network import vpc as house_vpc
from house.settings import StageSettings, require
from patterns.containers.app_runner_service import (
    MAX_CONCURRENCY,
    MAX_INSTANCES,
    PUBLIC_ECR,
    AppRunnerWebService,
    app_runner_size_problem,
)
from patterns.containers.cluster import TaskEndpoints, fargate_size_problem, s3_gateway_endpoint
from patterns.containers.express_service import (
    ExpressScaling,
    ExpressWebService,
    SecretReference,
)
from patterns.containers.registry import ContainerRegistry, image_source
from patterns.data.serverless_postgres import (
    AUTO_PAUSE_SECONDS,
    ServerlessPostgres,
    capacity_problem,
)

STACK_ID = "ContainerWebApp"
SAMPLE_APP = Path(__file__).resolve().parents[2] / "containers" / "web_app"
DATABASE_NAME = "app"
DATABASE_SECRET_VARIABLE = "DATABASE_SECRET"
# A literal range (not the VPC's token) so the task security group's rule reads as what it is.
VPC_CIDR = "10.0.0.0/16"
_HEALTH_PATH = re.compile(r"/[\w\-./~%]*")

# Interface endpoints private tasks need to start with no NAT: image manifests and auth (ECR
# API), layers (ECR Docker; the layers themselves come through the free S3 gateway endpoint),
# the awslogs driver (Logs) and, with a database, the injected secret (Secrets Manager).
EXPRESS_ENDPOINTS = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
}
SECRETS_ENDPOINT = {"SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER}


@dataclasses.dataclass(frozen=True)
class ContainerWebAppSettings:
    """Defaults are the dev profile; cdk.json's prod block overrides what prod needs."""

    # "express": Amazon ECS Express Mode (open to every account). "apprunner": AWS App Runner,
    # ONLY for accounts that already use it: App Runner takes no new customers since 2026-04-30.
    engine: Literal["express", "apprunner"] = "express"
    # "codebuild" = containers/web_app built by CodeBuild during the deploy into the
    # blueprint's ECR repository under a fresh immutable tag (no Docker anywhere); "docker" =
    # built by `cdk deploy` with your local Docker; "repository:<tag>" = your push to that
    # repository; anything else = an image reference with a fixed tag or digest (never latest).
    image: str = "codebuild"
    container_port: int = 8080
    health_check_path: str = "/health"
    # The smallest size both engines run (0.25 vCPU / 0.5 GB); Express Mode's console default
    # is 1 vCPU / 2 GB, four times the dev bill for a sample that idles.
    cpu: int = 256
    memory_mib: int = 512
    min_tasks: int = 1
    max_tasks: int = 2
    # Express Mode's target tracking: cpu/memory percent, or requests per task per minute.
    scaling_metric: Literal["cpu", "memory", "requests"] = "cpu"
    scaling_target: int = 60
    # App Runner scales on concurrent requests per instance instead.
    app_runner_max_concurrency: int = 100
    # "public": tasks and load balancer in public subnets (internet-facing; tasks' public IPs
    # are their egress). "private": private subnets, an internal load balancer, and AWS
    # services through VPC endpoints (or NAT gateways, nat_gateways > 0).
    network: Literal["public", "private"] = "public"
    nat_gateways: int = 0
    database: bool = True
    # ACU per instance. 0 = pause after database_auto_pause_minutes without connections: dev
    # then pays storage only; the first request after a pause waits ~15 s while it resumes.
    database_min_capacity: float = 0
    database_max_capacity: float = 2
    database_auto_pause_minutes: int = 5
    database_readers: int = 0
    database_backup_days: int = 1
    repository_keep_images: int = 10

    def __post_init__(self) -> None:
        try:
            source = image_source(self.image)
        except ValueError as err:
            raise ValueError(f"setting 'image' is {self.image!r}; {err}") from None
        require(
            source not in ("public", "private-ecr") or pinned(self.image),
            "image",
            self.image,
            "name a fixed tag or a digest (e.g. 'public.ecr.aws/nginx/nginx:1.27' or "
            "'...@sha256:<digest>'): an untagged or ':latest' image runs whatever was pushed "
            "last, not what was deployed",
        )
        express = self.engine == "express"
        require(
            express or source != "public" or self.image.startswith(PUBLIC_ECR),
            "image",
            self.image,
            "App Runner pulls only from ECR and ECR Public (public.ecr.aws/...); push the "
            "image to the blueprint's repository ('repository:<tag>')",
        )
        require(
            1 <= self.container_port <= 65535,
            "container_port",
            self.container_port,
            "allowed: 1..65535",
        )
        require(
            bool(_HEALTH_PATH.fullmatch(self.health_check_path))
            and len(self.health_check_path) <= 1024,
            "health_check_path",
            self.health_check_path,
            "expected a URL path starting with '/', e.g. '/health'",
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
        require(self.min_tasks >= 1, "min_tasks", self.min_tasks, "allowed: at least 1")
        require(
            self.max_tasks >= self.min_tasks,
            "max_tasks",
            self.max_tasks,
            f"must be at least min_tasks ({self.min_tasks})",
        )
        limit = 1000 if express else MAX_INSTANCES
        require(
            self.max_tasks <= limit,
            "max_tasks",
            self.max_tasks,
            f"allowed: up to {limit} with engine {self.engine}",
        )
        target_range = (1, 1_000_000) if self.scaling_metric == "requests" else (10, 90)
        require(
            target_range[0] <= self.scaling_target <= target_range[1],
            "scaling_target",
            self.scaling_target,
            f"allowed with scaling_metric {self.scaling_metric!r}: "
            f"{target_range[0]}..{target_range[1]}",
        )
        require(
            express or (self.scaling_metric, self.scaling_target) == ("cpu", 60),
            "scaling_metric",
            self.scaling_metric,
            "App Runner scales on concurrent requests only: leave scaling_metric and "
            "scaling_target unset and set app_runner_max_concurrency",
        )
        require(
            MAX_CONCURRENCY[0] <= self.app_runner_max_concurrency <= MAX_CONCURRENCY[1],
            "app_runner_max_concurrency",
            self.app_runner_max_concurrency,
            f"allowed: {MAX_CONCURRENCY[0]}..{MAX_CONCURRENCY[1]}",
        )
        require(
            express or self.network == "public",
            "network",
            self.network,
            "'private' is for engine express (an internal load balancer); an App Runner "
            "service here is public and reaches the database through a VPC connector",
        )
        require(0 <= self.nat_gateways <= 3, "nat_gateways", self.nat_gateways, "allowed: 0..3")
        private_tasks = express and self.network == "private"
        vpc_egress = not express and self.database
        require(
            self.nat_gateways == 0 or private_tasks or vpc_egress,
            "nat_gateways",
            self.nat_gateways,
            "only tasks in private subnets use a NAT gateway (engine express with network "
            "'private', or engine apprunner with a database); otherwise it is billed for nothing",
        )
        require(
            source != "public" or not private_tasks or self.nat_gateways > 0,
            "image",
            self.image,
            "a public registry is reachable from private subnets only through a NAT gateway: "
            "set nat_gateways >= 1, network 'public', or push the image to the blueprint's "
            "repository ('repository:<tag>')",
        )
        for name in ("database_min_capacity", "database_max_capacity"):
            problem = capacity_problem(getattr(self, name))
            require(problem is None, name, getattr(self, name), problem or "")
        require(
            self.database_max_capacity >= max(self.database_min_capacity, 1),
            "database_max_capacity",
            self.database_max_capacity,
            f"must be at least 1 and at least database_min_capacity ({self.database_min_capacity})",
        )
        require(
            AUTO_PAUSE_SECONDS[0] <= self.database_auto_pause_minutes * 60 <= AUTO_PAUSE_SECONDS[1],
            "database_auto_pause_minutes",
            self.database_auto_pause_minutes,
            "allowed: 5..1440 (Aurora pauses after 5 minutes to 1 day without connections)",
        )
        require(
            0 <= self.database_readers <= 15,
            "database_readers",
            self.database_readers,
            "allowed: 0..15",
        )
        require(
            1 <= self.database_backup_days <= 35,
            "database_backup_days",
            self.database_backup_days,
            "allowed: 1..35 (Aurora keeps automated backups 1 to 35 days)",
        )
        require(
            1 <= self.repository_keep_images <= 1000,
            "repository_keep_images",
            self.repository_keep_images,
            "allowed: 1..1000",
        )

    @property
    def needs_vpc(self) -> bool:
        return self.engine == "express" or self.database


SETTINGS = ContainerWebAppSettings


class ContainerWebAppStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        settings: ContainerWebAppSettings,
        **kwargs,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.settings = settings
        self.registry = ContainerRegistry(
            self,
            "Images",
            image=settings.image,
            keep_images=settings.repository_keep_images,
            removal_policy=stage.removal_policy,
            log_retention_days=stage.log_retention_days,
            sample_app=SAMPLE_APP,
        )
        self.vpc: ec2.Vpc | None = None
        self.database: ServerlessPostgres | None = None
        self.endpoints: TaskEndpoints | None = None
        if settings.needs_vpc:
            self._network(stage, settings)
        if settings.database:
            self.database = ServerlessPostgres(
                self,
                "Database",
                vpc=self.vpc,
                subnets=ISOLATED,
                database_name=DATABASE_NAME,
                min_capacity=settings.database_min_capacity,
                max_capacity=settings.database_max_capacity,
                auto_pause=cdk.Duration.minutes(settings.database_auto_pause_minutes),
                readers=settings.database_readers,
                keep_data=stage.keep_data,
                backup_days=settings.database_backup_days,
                log_retention_days=stage.log_retention_days,
            )
        environment = {
            "PORT": str(settings.container_port),
            "APP_ENGINE": settings.engine,
        }
        if settings.engine == "express":
            self._express(stage, settings, environment)
        else:
            self._app_runner(settings, environment)
        self._outputs(settings)

    # -- network ---------------------------------------------------------------------------

    def _network(self, stage: StageSettings, settings: ContainerWebAppSettings) -> None:
        express = settings.engine == "express"
        self.vpc = house_vpc(
            self,
            "Network",
            availability_zones=stage.availability_zones,
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
            # Express Mode needs public subnets for an internet-facing load balancer; App
            # Runner serves from its own network and needs them only to host a NAT gateway.
            public_subnets=(express and settings.network == "public") or settings.nat_gateways > 0,
            nat_gateways=settings.nat_gateways,
            ip_addresses=VPC_CIDR,
        )
        if express and settings.network == "public":
            self.task_subnets = PUBLIC
        else:
            self.task_subnets = PRIVATE_WITH_EGRESS if settings.nat_gateways else ISOLATED
        self.task_security_group = ec2.SecurityGroup(
            self,
            "TaskSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=True,
            description="Web app tasks: the container port from inside the VPC only",
        )
        if express:
            # The load balancer Express Mode creates sits in these subnets, and its security
            # group is not known at synth: admit the VPC's own range, never the internet (a
            # task's public IP is for its egress only).
            self.task_security_group.add_ingress_rule(
                ec2.Peer.ipv4(VPC_CIDR),
                ec2.Port.tcp(settings.container_port),
                "From the Express Mode load balancer inside the VPC",
            )
        if express and settings.network == "private" and not settings.nat_gateways:
            self.s3_endpoint = s3_gateway_endpoint(self.vpc, [self.task_subnets])
            self.endpoints = TaskEndpoints(
                self,
                "Endpoints",
                vpc=self.vpc,
                subnets=self.task_subnets,
                services={**EXPRESS_ENDPOINTS, **(SECRETS_ENDPOINT if settings.database else {})},
            )
            self.endpoints.allow_from(self.task_security_group)

    # -- engines ---------------------------------------------------------------------------

    def _secrets(self) -> dict[str, str]:
        return {DATABASE_SECRET_VARIABLE: self.database.secret.secret_arn} if self.database else {}

    def _express(
        self, stage: StageSettings, settings: ContainerWebAppSettings, environment: dict
    ) -> None:
        # A cluster of our own: Express Mode would otherwise create (and keep) the account's
        # `default` cluster outside the stack.
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
            enable_fargate_capacity_providers=True,
        )
        self.app = ExpressWebService(
            self,
            "App",
            cluster=self.cluster,
            vpc=self.vpc,
            subnets=self.vpc.select_subnets(subnet_type=self.task_subnets.subnet_type).subnets,
            security_group=self.task_security_group,
            image=self.registry.image_uri("X86_64"),
            container_port=settings.container_port,
            health_check_path=settings.health_check_path,
            cpu=settings.cpu,
            memory_mib=settings.memory_mib,
            scaling=ExpressScaling(
                min_tasks=settings.min_tasks,
                max_tasks=settings.max_tasks,
                metric=settings.scaling_metric,
                target=settings.scaling_target,
            ),
            environment=environment,
            secrets={name: SecretReference(arn) for name, arn in self._secrets().items()},
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
        )
        # Express Mode runs the service on the cluster's FARGATE capacity provider, whose
        # association CDK adds at synth: waiting for the whole cluster includes it.
        self.app.service.node.add_dependency(self.cluster)
        self.registry.grant_pull(self.app.execution_role, "X86_64")
        acknowledge_wildcard_resources(
            self.app.execution_role,
            {"ecr:GetAuthorizationToken"},
            "ECS pulls the image with an ECR authorization token, and "
            "ecr:GetAuthorizationToken has no resource-level permissions; the pull itself is "
            "scoped to the blueprint's one repository.",
        )
        if self.database:
            self.database.grant_read_secret(self.app.execution_role)
            self.database.allow_from(self.task_security_group, "From the web app's tasks")

    def _app_runner(self, settings: ContainerWebAppSettings, environment: dict) -> None:
        self.app = AppRunnerWebService(
            self,
            "App",
            image=self.registry.image_uri("X86_64"),
            pull_from=lambda role: self.registry.grant_pull(role, "X86_64"),
            container_port=settings.container_port,
            health_check_path=settings.health_check_path,
            cpu=settings.cpu,
            memory_mib=settings.memory_mib,
            min_instances=settings.min_tasks,
            max_instances=settings.max_tasks,
            max_concurrency=settings.app_runner_max_concurrency,
            environment=environment,
            secrets=self._secrets(),
            vpc_subnets=self.vpc.select_subnets(subnet_type=self.task_subnets.subnet_type).subnets
            if self.database
            else None,
            vpc_security_group=self.task_security_group if self.database else None,
        )
        if self.database:
            self.database.grant_read_secret(self.app.instance_role)
            self.database.allow_from(self.task_security_group, "From the App Runner VPC connector")

    # -- outputs -----------------------------------------------------------------------------

    def _outputs(self, settings: ContainerWebAppSettings) -> None:
        cdk.CfnOutput(
            self,
            "ServiceUrl",
            value=self.app.url,
            description="The web app (internal to the VPC with network 'private')",
        )
        cdk.CfnOutput(
            self,
            "ServiceAccess",
            value="internal" if settings.network == "private" else "public",
            description="Whether ServiceUrl answers from the internet",
        )
        cdk.CfnOutput(self, "Engine", value=settings.engine)
        cdk.CfnOutput(self, "RepositoryUri", value=self.registry.repository.repository_uri)
        cdk.CfnOutput(self, "Image", value=self.registry.image_uri("X86_64"))
        if self.database:
            cdk.CfnOutput(self, "DatabaseEndpoint", value=self.database.endpoint.hostname)
            cdk.CfnOutput(
                self,
                "DatabaseSecretArn",
                value=self.database.secret.secret_arn,
                description="The generated credentials; the tasks get them injected at start",
            )


def build(app: cdk.App, stage: StageSettings, settings: ContainerWebAppSettings) -> list[cdk.Stack]:
    return [
        ContainerWebAppStack(
            app,
            STACK_ID,
            stage=stage,
            settings=settings,
            stack_name=stage.stack_name(STACK_ID),
            env=stage.environment,
        )
    ]
