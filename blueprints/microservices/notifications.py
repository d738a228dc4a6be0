"""MicroservicesNotifications: what the customer hears about.

    shop SNS topic --subscription (raw delivery; filter eventType in OrderPlaced, StockShortage;
        its own redrive queue)--> queue --> notify (idempotent) --> notifications table

Reads the bus's parameters from SSM at deploy; exports nothing.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from blueprints.microservices.bus import BUS
from blueprints.microservices.common import contracts_layer
from blueprints.microservices.discovery import Directory
from blueprints.microservices.settings import MicroservicesSettings
from house.compliance import add_serverless_checks
from house.defaults import dead_letter_queue
from house.settings import StageSettings, keeps_data
from patterns.events.queue_consumer import QueueConsumer, idempotency_table
from patterns.observability.service_dashboard import ServiceDashboard

# The events a customer is told about (the subscription's filter policy).
NOTIFIED_EVENTS = ("OrderPlaced", "StockShortage")


class MicroservicesNotificationsStack(cdk.Stack):
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
            scope, id, description="Microservices shop: Notifications (customer notices)", **kwargs
        )
        add_serverless_checks(self)
        removal = stage.removal_policy
        topic = sns.Topic.from_topic_arn(
            self, "ShopEvents", directory.lookup(self, BUS, "topic-arn")
        )

        self.table = dynamodb.Table(
            self,
            "Notifications",
            partition_key=dynamodb.Attribute(
                name="notificationId", type=dynamodb.AttributeType.STRING
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=keeps_data(removal),
            removal_policy=removal,
        )
        self.idempotency = idempotency_table(self, "Idempotency", removal_policy=removal)
        self.notify = QueueConsumer(
            self,
            "Notify",
            source="notifications",
            description="Records a customer notice per OrderPlaced / StockShortage event, once",
            environment={"TABLE_NAME": self.table.table_name},
            idempotency=self.idempotency,
            remember=cdk.Duration.hours(settings.idempotency_hours),
            log_retention_days=stage.log_retention_days,
            removal_policy=removal,
            layers=[contracts_layer(self)],
            maximum_concurrency=settings.consumer_max_concurrency,
            reserved_concurrent_executions=settings.reserved_concurrency,
        )
        self.table.grant(self.notify.function, "dynamodb:PutItem")
        # SNS's own redrive: a message SNS could not deliver to the queue is kept here.
        self.undelivered = dead_letter_queue(
            self, "SubscriptionDeadLetters", removal_policy=removal
        )
        topic.add_subscription(
            subscriptions.SqsSubscription(
                self.notify.queue,
                raw_message_delivery=True,
                dead_letter_queue=self.undelivered,
                filter_policy={
                    "eventType": sns.SubscriptionFilter.string_filter(
                        allowlist=list(NOTIFIED_EVENTS)
                    )
                },
            )
        )

        self.dashboard = ServiceDashboard(
            self,
            "Dashboard",
            service="notifications",
            latency_threshold=cdk.Duration.millis(settings.latency_alarm_ms),
            dashboard=settings.dashboards,
        )
        self.dashboard.add_functions(self.notify.function)
        self.dashboard.add_queues(self.notify.queue)
        self.dashboard.add_dead_letter_queues(self.notify.dead_letters, self.undelivered)
        cdk.CfnOutput(self, "NotificationsTableName", value=self.table.table_name)
