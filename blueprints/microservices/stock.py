"""MicroservicesStock: Inventory's stock API as a container service (`container_service`).

    Orders' function (no VPC) --HTTPS, SigV4--> HTTP API (IAM authorization on GET /stock/{sku};
        execute-api:Invoke on that route is Orders' only way in)
        --VPC link (its own security group)--> internal ALB (admits the link only; HTTPS with
            `stock_api_domain_name`: a DNS-validated certificate whose name the integration
            verifies, TLS 1.2+; plain HTTP without, which prod refuses unless allow_plain_http)
        --8080--> Fargate tasks (containers/stock, arm64, read-only root, non-root user;
                  target tracking on CPU, memory and requests per task)
        --DynamoDB gateway endpoint--> Inventory's stock table (GetItem only)
    containers/stock --deploy--> CodeBuild --> this stack's ECR repository (no local Docker)

Networking (`container_subnets`; no NAT gateway either way): `public` runs the tasks in public
subnets with a public address each (to pull the image and write logs) behind a security group
that admits only the load balancer; `private` runs them in isolated subnets that reach ECR and
CloudWatch Logs through interface endpoints. The load balancer and the VPC link sit in the
isolated subnets. S3 (image layers) and DynamoDB go through free gateway endpoints.

Reads Inventory's table from SSM at deploy (so Inventory deploys first) and publishes the API's
URL and id, which Orders reads (so Orders deploys after it). Exports nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from blueprints.microservices.common import openapi
from blueprints.microservices.discovery import Directory
from blueprints.microservices.inventory import INVENTORY
from blueprints.microservices.settings import MicroservicesSettings
from house.compliance import acknowledge, add_serverless_checks
from house.defaults import access_log_bucket, log_group
from house.network import ISOLATED, PUBLIC
from house.network import vpc as house_vpc
from house.settings import StageSettings
from patterns.containers.cluster import (
    CapacityStrategy,
    ContainerCluster,
    TaskEndpoints,
    app_container,
    s3_gateway_endpoint,
)
from patterns.containers.registry import CODEBUILD, ContainerRegistry
from patterns.containers.web_service import WebDomain, WebScaling, WebService
from patterns.observability.service_dashboard import ServiceDashboard

STOCK = "MicroservicesStock"
STOCK_APP = Path(__file__).resolve().parents[2] / "containers" / "stock"
CONTAINER_PORT = 8080
HEALTH_CHECK_PATH = "/health"
# The HTTP API's one stage: its URL has no stage path, and Orders' grant names it.
STAGE_NAME = "$default"
# containers/stock logs this header; the integration sets it to API Gateway's request id.
REQUEST_ID_HEADER = "x-request-id"
ARCHITECTURE = "ARM64"  # Graviton: the cheaper Fargate vCPU-hour
# What tasks in isolated subnets need: the image (ECR API + registry; layers come from S3 through
# the gateway endpoint) and the awslogs driver. Each bills per AZ-hour.
STOCK_ENDPOINTS = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
}
# HTTP API access-log fields (JSON, one object per request; $context variables of HTTP APIs).
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "time": "$context.requestTime",
    "caller": "$context.identity.userArn",
    "sourceIp": "$context.identity.sourceIp",
    "route": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "latencyMs": "$context.responseLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatencyMs": "$context.integrationLatency",
    "error": "$context.error.message",
    "integrationError": "$context.integrationErrorMessage",
}


def stock_routes() -> list[tuple[str, str]]:
    """(method, path) of every operation of the stock API's checked-in OpenAPI document."""
    return [
        (method.upper(), path)
        for path, operations in openapi("inventory")["paths"].items()
        for method in operations
    ]


class MicroservicesStockStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        settings: MicroservicesSettings,
        directory: Directory,
        **kwargs,
    ) -> None:
        super().__init__(
            scope,
            id,
            description="Microservices shop: Inventory's stock API (Fargate behind an internal "
            "ALB, an HTTP API with IAM auth)",
            **kwargs,
        )
        add_serverless_checks(self)
        removal = stage.removal_policy
        retention = stage.log_retention_days
        table_name = directory.lookup(self, INVENTORY, "stock-table-name")
        table_arn = directory.lookup(self, INVENTORY, "stock-table-arn")

        self._network(stage, settings)
        self.registry = ContainerRegistry(
            self,
            "Registry",
            image=CODEBUILD,
            keep_images=10,
            removal_policy=removal,
            log_retention_days=retention,
            repository_name=f"{self.stack_name.lower()}/stock",
            sample_app=STOCK_APP,
        )
        strategy = CapacityStrategy()
        self.containers = ContainerCluster(
            self,
            "Containers",
            vpc=self.vpc,
            strategy=strategy,
            execute_command=False,
            log_retention_days=retention,
            removal_policy=removal,
            container_insights=settings.container_insights,
        )
        if not settings.container_insights:
            acknowledge(
                self.containers.cluster,
                "AwsSolutions-ECS4",
                "Container Insights is the container_insights setting (off in dev: its metrics "
                "bill per month); the service's CPU and memory utilisation, which its target "
                "tracking uses, are ECS's own free metrics either way.",
            )
        task_definition, container = app_container(
            self,
            "Stock",
            image=self.registry.image(ARCHITECTURE),
            cpu=settings.container_cpu,
            memory_mib=settings.container_memory_mib,
            architecture=ecs.CpuArchitecture.ARM64,
            environment={"STOCK_TABLE": table_name, "AWS_DEFAULT_REGION": cdk.Aws.REGION},
            port=CONTAINER_PORT,
            read_only_root_filesystem=True,
            user=self.registry.app_user,
            log_retention_days=retention,
            removal_policy=removal,
        )
        # The API reads one item per request and nothing else.
        task_definition.add_to_task_role_policy(
            iam.PolicyStatement(actions=["dynamodb:GetItem"], resources=[table_arn])
        )
        self.service = WebService(
            self,
            "Service",
            cluster=self.containers.cluster,
            vpc=self.vpc,
            task_definition=task_definition,
            container=container,
            container_port=CONTAINER_PORT,
            health_check_path=HEALTH_CHECK_PATH,
            task_subnets=self.task_subnets,
            assign_public_ip=self.assign_public_ip,
            strategy=strategy,
            scaling=WebScaling(
                min_tasks=settings.container_min_tasks, max_tasks=settings.container_max_tasks
            ),
            min_healthy_percent=100,
            max_healthy_percent=200,
            execute_command=False,
            access_logs=access_log_bucket(self, "AccessLogs", removal_policy=removal),
            removal_policy=removal,
            internet_facing=False,
            load_balancer_subnets=ISOLATED,
            domain=WebDomain(
                domain_name=settings.stock_api_domain_name,
                hosted_zone_id=settings.hosted_zone_id,
                hosted_zone_name=settings.hosted_zone_name,
            )
            if settings.stock_api_domain_name
            else None,
        )
        if self.endpoints:
            self.endpoints.allow_from(self.service.task_security_group)

        self._api(settings, retention, removal)
        self.dashboard = ServiceDashboard(
            self,
            "Dashboard",
            service="stock",
            latency_threshold=cdk.Duration.millis(settings.latency_alarm_ms),
            dashboard=settings.dashboards,
        )
        self.dashboard.add_http_api(self.api)
        self.dashboard.add_container_service(self.service.service)

        directory.publish(self, STOCK, "stock-api-url", self.url, "The stock API's base URL")
        directory.publish(self, STOCK, "stock-api-id", self.api.api_id, "The stock API's id")
        cdk.CfnOutput(
            self,
            "StockApiUrl",
            value=self.url,
            description="The stock API (SigV4 with execute-api:Invoke on its route): GET "
            "<url>stock/<sku>",
        )
        cdk.CfnOutput(self, "StockApiId", value=self.api.api_id)
        cdk.CfnOutput(self, "ClusterName", value=self.containers.cluster.cluster_name)
        cdk.CfnOutput(self, "ServiceName", value=self.service.service.service_name)
        cdk.CfnOutput(self, "RepositoryUri", value=self.registry.repository.repository_uri)

    def _network(self, stage: StageSettings, settings: MicroservicesSettings) -> None:
        public = settings.container_subnets == "public"
        self.vpc = house_vpc(
            self,
            "Network",
            availability_zones=stage.availability_zones,
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
            public_subnets=public,
        )
        self.task_subnets = PUBLIC if public else ISOLATED
        self.assign_public_ip = public
        # Free: image layers (ECR keeps them in S3) and the stock table stay on AWS's network.
        s3_gateway_endpoint(self.vpc, [self.task_subnets])
        self.vpc.add_gateway_endpoint(
            "DynamoDbEndpoint",
            service=ec2.GatewayVpcEndpointAwsService.DYNAMODB,
            subnets=[self.task_subnets],
        )
        self.endpoints = (
            None
            if public
            else TaskEndpoints(
                self, "Endpoints", vpc=self.vpc, subnets=ISOLATED, services=STOCK_ENDPOINTS
            )
        )

    def _api(self, settings: MicroservicesSettings, retention: int, removal) -> None:
        # The VPC link's own group: it may reach the load balancer's port and nothing else, and
        # the load balancer admits only it.
        link_group = ec2.SecurityGroup(
            self,
            "VpcLinkSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Stock API VPC link: out to the internal load balancer only",
        )
        self.service.load_balancer.connections.allow_from(
            link_group, ec2.Port.tcp(self.service.listener_port), "The stock API's VPC link"
        )
        self.vpc_link = apigwv2.VpcLink(
            self, "VpcLink", vpc=self.vpc, subnets=ISOLATED, security_groups=[link_group]
        )
        self.api = apigwv2.HttpApi(
            self,
            "StockApi",
            api_name=f"{self.stack_name}-stock",
            description=f"{self.stack_name}: Inventory's stock API, for the shop's services "
            "(IAM authorization)",
            create_default_stage=False,
            default_authorizer=authorizers.HttpIamAuthorizer(),
        )
        integration = integrations.HttpAlbIntegration(
            "StockService",
            self.service.listener,
            vpc_link=self.vpc_link,
            # HTTPS to the listener, and the certificate must carry this name.
            secure_server_name=settings.stock_api_domain_name,
            parameter_mapping=apigwv2.ParameterMapping().overwrite_header(
                REQUEST_ID_HEADER, apigwv2.MappingValue.context_variable("requestId")
            ),
        )
        for method, path in stock_routes():
            self.api.add_routes(
                path=path, methods=[apigwv2.HttpMethod(method)], integration=integration
            )
        self.api_logs = log_group(
            self, "ApiAccessLogs", retention_days=retention, removal_policy=removal
        )
        self.stage = apigwv2.HttpStage(
            self,
            "Stage",
            http_api=self.api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=settings.stock_api_throttle_rate,
                burst_limit=settings.stock_api_throttle_burst,
            ),
        )
        self.stage.node.default_child.access_log_settings = (
            apigwv2.CfnStage.AccessLogSettingsProperty(
                destination_arn=self.api_logs.log_group_arn,
                format=json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")),
            )
        )
        self.url = self.stage.url
