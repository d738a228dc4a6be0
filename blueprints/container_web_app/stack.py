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

Networking: `task_subnets: public` (both stages' default) puts tasks and the load balancer in public
subnets: tasks get public IPs for egress (no NAT, no endpoints) and admit the container port
only from inside the VPC. `task_subnets: private` puts them in private subnets, which makes Express
Mode's load balancer internal, and gives the tasks their AWS services through VPC endpoints or
`nat_gateways`. docs/container-web-app.md has the idle costs of each.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from blueprints.container_web_app.settings import ContainerWebAppSettings
from house.compliance import acknowledge_wildcard_resources
from house.network import ISOLATED, PRIVATE_WITH_EGRESS, PUBLIC
from house.network import vpc as house_vpc
from house.settings import Instance, StageSettings
from patterns.containers.app_runner_service import AppRunnerWebService
from patterns.containers.cluster import TaskEndpoints, s3_gateway_endpoint
from patterns.containers.express_service import (
    ExpressScaling,
    ExpressWebService,
    SecretReference,
)
from patterns.containers.registry import ContainerRegistry
from patterns.data.serverless_postgres import ServerlessPostgres

STACK_ID = "ContainerWebApp"
SAMPLE_APP = Path(__file__).resolve().parents[2] / "containers" / "web_app"
DATABASE_NAME = "app"
DATABASE_SECRET_VARIABLE = "DATABASE_SECRET"
# A literal range (not the VPC's token) so the task security group's rule reads as what it is.
VPC_CIDR = "10.0.0.0/16"

# Interface endpoints private tasks need to start with no NAT: image manifests and auth (ECR
# API), layers (ECR Docker; the layers themselves come through the free S3 gateway endpoint),
# the awslogs driver (Logs) and, with a database, the injected secret (Secrets Manager).
EXPRESS_ENDPOINTS = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
}
SECRETS_ENDPOINT = {"SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER}


SETTINGS = ContainerWebAppSettings
STACK_IDS = (STACK_ID,)


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
        super().__init__(
            scope,
            id,
            description="Container web app on ECS Express Mode (or App Runner) with Aurora "
            "Serverless v2 PostgreSQL (aws-architecture-blueprints)",
            **kwargs,
        )
        self.settings = settings
        self.registry = ContainerRegistry(
            self,
            "Images",
            # Named as FargateService's: lower case (all ECR takes), unique per account with the
            # stack name. The rehearsal needs it too: moto's generated name keeps the stack's
            # capitals, which ECR's name rule refuses.
            repository_name=f"{self.stack_name.lower()}/web-app",
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
                min_capacity=settings.database_min_acu,
                max_capacity=settings.database_max_acu,
                auto_pause=cdk.Duration.minutes(settings.database_auto_pause_minutes),
                readers=settings.database_read_replicas,
                removal_policy=stage.removal_policy,
                backup_retention_days=settings.database_backup_retention_days,
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
            public_subnets=(express and not settings.private) or settings.nat_gateways > 0,
            nat_gateways=settings.nat_gateways,
            ip_addresses=VPC_CIDR,
        )
        if express and not settings.private:
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
        if settings.private and not settings.nat_gateways:
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
            description="The web app (internal to the VPC with task_subnets 'private')",
        )
        cdk.CfnOutput(
            self,
            "ServiceAccess",
            value="internal" if settings.private else "public",
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


def build(app: cdk.App, instance: Instance[ContainerWebAppSettings]) -> list[cdk.Stack]:
    (stack_id,) = instance.stack_ids(*STACK_IDS)
    return [
        ContainerWebAppStack(
            app,
            stack_id,
            stage=instance.stage,
            settings=instance.settings,
            **instance.stage.stack_kwargs(stack_id),
        )
    ]
