"""MicroservicesOrders: the shop's public front door and its orders.

    storefront --SigV4 + x-api-key--> REST API (from shop_contracts/openapi/orders.json,
        validated, throttled, usage plan) --> orders function --> orders table (on demand, PITR)
            [--SigV4--> Inventory's stock API, MicroservicesStock (container_service: checks
             stock before accepting)]
    orders table stream (new orders only) --> publisher (bisect, partial batch, on-failure queue)
        --> OrderPlaced on the shop's SNS topic (eventType + correlationId attributes),
            its EventBridge bus, [the order-activity Kinesis stream]

Reads the bus's parameters (and the stock API's, when on) from SSM at deploy; exports nothing.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from blueprints.microservices.bus import BUS
from blueprints.microservices.common import contracts_layer, openapi
from blueprints.microservices.discovery import Directory
from blueprints.microservices.settings import MicroservicesSettings
from blueprints.microservices.stock import STOCK
from house.compliance import acknowledge, add_serverless_checks, finding_name
from house.lambda_function import python_function
from house.settings import StageSettings, keeps_data
from patterns.events.stream_consumer import StreamConsumer
from patterns.observability.service_dashboard import ServiceDashboard
from patterns.web.openapi_rest_api import OpenApiRestApi

ORDERS = "MicroservicesOrders"
STAGE_NAME = "v1"


class MicroservicesOrdersStack(cdk.Stack):
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
            scope, id, description="Microservices shop: Orders (public REST API)", **kwargs
        )
        add_serverless_checks(self)
        removal = stage.removal_policy
        retention = stage.log_retention_days
        layers = [contracts_layer(self)]
        topic_arn = directory.lookup(self, BUS, "topic-arn")
        bus_arn = directory.lookup(self, BUS, "event-bus-arn")

        # On demand (no idle cost); the stream (new images) is the outbox the publisher reads.
        self.table = dynamodb.Table(
            self,
            "Orders",
            partition_key=dynamodb.Attribute(name="orderId", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            stream=dynamodb.StreamViewType.NEW_IMAGE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=keeps_data(removal),
            removal_policy=removal,
        )

        environment = {"TABLE_NAME": self.table.table_name}
        stock_api = None
        if settings.container_service:
            stock_api = directory.lookup(self, STOCK, "stock-api-url")
            environment["INVENTORY_URL"] = stock_api
        self.function = python_function(
            self,
            "OrdersApi",
            source="orders",
            description="Orders REST API: place and read orders",
            environment=environment,
            log_retention_days=retention,
            removal_policy=removal,
            reserved_concurrent_executions=settings.reserved_concurrency,
            layers=layers,
            invoked_synchronously_by="API Gateway",
        )
        self.table.grant(self.function, "dynamodb:GetItem", "dynamodb:PutItem")
        if stock_api is not None:
            # execute-api:Invoke on exactly the one route Orders calls (IAM auth on the HTTP API).
            stock_route = self.format_arn(
                service="execute-api",
                resource=directory.lookup(self, STOCK, "stock-api-id"),
                resource_name="$default/GET/stock/*",
            )
            self.function.add_to_role_policy(
                iam.PolicyStatement(actions=["execute-api:Invoke"], resources=[stock_route])
            )
            acknowledge(
                self.function.role,
                f"AwsSolutions-IAM5[Resource::{finding_name(self.resolve(stock_route))}]",
                "Orders may call one route of the stock API, GET /stock/{sku}, for any SKU an "
                "order names: the wildcard is that path parameter, on that API's one stage.",
            )

        self.api = OpenApiRestApi(
            self,
            "PublicApi",
            document=openapi("orders"),
            function=self.function,
            description=f"{self.stack_name}: the shop's public Orders API",
            throttle_rate=settings.api_throttle_rate,
            throttle_burst=settings.api_throttle_burst,
            quota_per_day=settings.api_quota_per_day,
            log_retention_days=retention,
            removal_policy=removal,
            stage_name=STAGE_NAME,
        )

        publisher_environment = {"TOPIC_ARN": topic_arn, "EVENT_BUS_NAME": bus_arn}
        stream_arn = None
        if settings.kinesis:
            stream_arn = directory.lookup(self, BUS, "stream-arn")
            publisher_environment["STREAM_NAME"] = directory.lookup(self, BUS, "stream-name")
        self.publisher = StreamConsumer(
            self,
            "Publisher",
            table=self.table,
            source="orders",
            handler="publisher.handler",
            description="Publishes each new order's OrderPlaced event (SNS, EventBridge, Kinesis)",
            environment=publisher_environment,
            filters=[
                lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("INSERT")})
            ],
            retry_attempts=settings.stream_retry_attempts,
            log_retention_days=retention,
            removal_policy=removal,
            reserved_concurrent_executions=settings.reserved_concurrency,
            layers=layers,
        )
        publisher = self.publisher.function
        # No kms: grant: the AWS managed aws/sns key admits publishers of this account via SNS.
        publisher.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[topic_arn])
        )
        publisher.add_to_role_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[bus_arn])
        )
        if stream_arn is not None:
            publisher.add_to_role_policy(
                iam.PolicyStatement(actions=["kinesis:PutRecord"], resources=[stream_arn])
            )

        self.dashboard = ServiceDashboard(
            self,
            "Dashboard",
            service="orders",
            latency_threshold=cdk.Duration.millis(settings.latency_alarm_ms),
            dashboard=settings.dashboards,
        )
        self.dashboard.add_rest_api(self.api.api, STAGE_NAME, self.api.api.rest_api_name)
        self.dashboard.add_functions(self.function, publisher)
        self.dashboard.add_dead_letter_queues(self.publisher.failures)
        self.dashboard.add_stream_consumers(publisher)

        directory.publish(self, ORDERS, "api-url", self.api.url, "The Orders REST API's base URL")
        cdk.CfnOutput(self, "ApiUrl", value=self.api.url, description="Orders API base URL")
        if self.api.api_key is not None:
            cdk.CfnOutput(
                self,
                "ApiKeyId",
                value=self.api.api_key.key_id,
                description="The storefront's API key id (aws apigateway get-api-key "
                "--include-value --api-key <id>)",
            )
        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
