"""MicroservicesInventory: stock levels, reserved once per order.

    shop bus: OrderPlaced --rule--> queue --> reserve (idempotent) --> stock table
        --> StockReserved | StockShortage on the shop's SNS topic
    stock bucket imports/*.json --S3 event via EventBridge (default bus)--> queue
        --> stock_import (idempotent) --> stock table
    [order-activity stream --> demand (bisect, partial batch, on-failure queue) --> stock table]
    stock table name and ARN --SSM--> [MicroservicesStock: the stock API on Fargate
        (container_service), which reads the table]

Every queue has a dead-letter queue; a message that breaks its contract is parked there at once
with the reason. Reads the bus's parameters from SSM at deploy and publishes its stock table's;
exports nothing.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from blueprints.microservices.bus import BUS
from blueprints.microservices.common import contracts_layer
from blueprints.microservices.discovery import Directory
from blueprints.microservices.settings import MicroservicesSettings
from house.compliance import (
    acknowledge,
    add_serverless_checks,
)
from house.defaults import (
    access_log_bucket,
    dead_letter_queue,
    secure_bucket,
)
from house.settings import StageSettings, keeps_data
from patterns.events.queue_consumer import QueueConsumer, idempotency_table
from patterns.events.stream_consumer import StreamConsumer
from patterns.observability.service_dashboard import ServiceDashboard

INVENTORY = "MicroservicesInventory"
IMPORT_PREFIX = "imports/"
# The largest stock file stock_import reads: a file of SKU counts; anything bigger is refused
# (parked in the dead-letter queue) rather than read into the function's memory.
MAX_STOCK_FILE_BYTES = 1024 * 1024


class MicroservicesInventoryStack(cdk.Stack):
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
            scope, id, description="Microservices shop: Inventory (stock, reservations)", **kwargs
        )
        add_serverless_checks(self)
        removal = stage.removal_policy
        retention = stage.log_retention_days
        layers = [contracts_layer(self)]
        topic_arn = directory.lookup(self, BUS, "topic-arn")
        bus = events.EventBus.from_event_bus_arn(
            self, "ShopBus", directory.lookup(self, BUS, "event-bus-arn")
        )

        # One item per SKU (available, demanded) and one per reservation (ORDER#<id>).
        self.table = dynamodb.Table(
            self,
            "Stock",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=keeps_data(removal),
            removal_policy=removal,
        )
        self.idempotency = idempotency_table(self, "Idempotency", removal_policy=removal)
        consumer = {
            "source": "inventory",
            "idempotency": self.idempotency,
            "remember": cdk.Duration.hours(settings.idempotency_hours),
            "log_retention_days": retention,
            "removal_policy": removal,
            "layers": layers,
            "maximum_concurrency": settings.consumer_max_concurrency,
            "reserved_concurrent_executions": settings.reserved_concurrency,
        }

        # -- orders from the bus: reserve stock ---------------------------------------------------
        self.reserve = QueueConsumer(
            self,
            "Reserve",
            handler="reserve.handler",
            description="Reserves stock for each OrderPlaced event, once; announces the outcome",
            environment={"STOCK_TABLE": self.table.table_name, "TOPIC_ARN": topic_arn},
            **consumer,
        )
        # EventBridge's own dead letters: an event it could not deliver to the queue (after
        # retrying for up to a day) is kept here rather than dropped.
        self.undelivered = dead_letter_queue(self, "OrderPlacedDeadLetters", removal_policy=removal)
        self.orders_rule = events.Rule(
            self,
            "OrderPlacedRule",
            event_bus=bus,
            description="OrderPlaced events of the shop bus to Inventory's reserve queue",
            event_pattern=events.EventPattern(source=["shop.orders"], detail_type=["OrderPlaced"]),
            targets=[
                targets.SqsQueue(
                    self.reserve.queue,
                    dead_letter_queue=self.undelivered,
                    retry_attempts=185,
                    max_event_age=cdk.Duration.hours(24),
                )
            ],
        )
        self.table.grant(
            self.reserve.function, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"
        )
        self.reserve.function.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[topic_arn])
        )

        # -- stock files from S3 ------------------------------------------------------------------
        logs = access_log_bucket(self, "AccessLogs", removal_policy=removal)
        self.bucket = secure_bucket(self, "StockFiles", removal_policy=removal, access_logs=logs)
        self.stock_import = QueueConsumer(
            self,
            "StockImport",
            handler="stock_import.handler",
            description=f"Sets stock levels from JSON files put under {IMPORT_PREFIX}",
            environment={
                "STOCK_TABLE": self.table.table_name,
                "MAX_IMPORT_BYTES": str(MAX_STOCK_FILE_BYTES),
            },
            **consumer,
        )
        self.table.grant(self.stock_import.function, "dynamodb:UpdateItem")
        # GetObject under the import prefix only (grant_read would add GetBucket*/List*, which
        # nothing calls); the aws/s3 key needs no grant.
        self.stock_import.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.bucket.arn_for_objects(f"{IMPORT_PREFIX}*")],
            )
        )
        bucket_arn = f"<{self.get_logical_id(self.bucket.node.default_child)}.Arn>"
        acknowledge(
            self.stock_import.function.role,
            f"AwsSolutions-IAM5[Resource::{bucket_arn}/{IMPORT_PREFIX}*]",
            f"The stock-import function reads stock files only under {IMPORT_PREFIX}; their "
            "names are chosen by whoever uploads them, so the prefix is the narrowest scope.",
        )
        # The bucket sends its object events to EventBridge (house secure_bucket, CT.S3.PR.4):
        # a rule on the default bus picks the stock files, so no custom resource rewrites the
        # bucket's notification configuration. EventBridge retries a failed delivery for a day,
        # then keeps the event in the rule's dead-letter queue.
        self.import_rule = events.Rule(
            self,
            "StockFileRule",
            description=f"Stock files put under {IMPORT_PREFIX} to Inventory's import queue",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [self.bucket.bucket_name]},
                    "object": {"key": [{"prefix": IMPORT_PREFIX}]},
                },
            ),
            targets=[
                targets.SqsQueue(
                    self.stock_import.queue,
                    dead_letter_queue=self.undelivered,
                    retry_attempts=185,
                    max_event_age=cdk.Duration.hours(24),
                )
            ],
        )

        # -- demand from the order-activity stream (when on) --------------------------------------
        self.demand = None
        if settings.kinesis:
            stream = kinesis.Stream.from_stream_arn(
                self, "OrderActivity", directory.lookup(self, BUS, "stream-arn")
            )
            self.demand = StreamConsumer(
                self,
                "Demand",
                stream=stream,
                source="inventory",
                handler="demand.handler",
                description="Counts each SKU's ordered quantity from the order-activity stream",
                environment={
                    "STOCK_TABLE": self.table.table_name,
                    "IDEMPOTENCY_TABLE": self.idempotency.table_name,
                    "IDEMPOTENCY_SECONDS": str(settings.idempotency_hours * 3600),
                },
                retry_attempts=settings.stream_retry_attempts,
                log_retention_days=retention,
                removal_policy=removal,
                reserved_concurrent_executions=settings.reserved_concurrency,
                layers=layers,
                parks_poison=True,
            )
            self.table.grant(self.demand.function, "dynamodb:UpdateItem")
            self.idempotency.grant(
                self.demand.function,
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            )

        self.dashboard = ServiceDashboard(
            self,
            "Dashboard",
            service="inventory",
            latency_threshold=cdk.Duration.millis(settings.latency_alarm_ms),
            dashboard=settings.dashboards,
        )
        consumers = [self.reserve, self.stock_import]
        self.dashboard.add_functions(*(c.function for c in consumers))
        self.dashboard.add_queues(*(c.queue for c in consumers))
        self.dashboard.add_dead_letter_queues(
            *(c.dead_letters for c in consumers), self.undelivered
        )
        if self.demand is not None:
            self.dashboard.add_functions(self.demand.function)
            self.dashboard.add_dead_letter_queues(self.demand.failures)
            self.dashboard.add_stream_consumers(self.demand.function)

        # For Inventory's own stock API (MicroservicesStock), which reads the table.
        directory.publish(
            self, INVENTORY, "stock-table-name", self.table.table_name, "Inventory's stock table"
        )
        directory.publish(
            self,
            INVENTORY,
            "stock-table-arn",
            self.table.table_arn,
            "Inventory's stock table (ARN)",
        )
        cdk.CfnOutput(self, "StockBucketName", value=self.bucket.bucket_name)
        cdk.CfnOutput(self, "StockTableName", value=self.table.table_name)
