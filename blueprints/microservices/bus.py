"""MicroservicesBus: what the shop's services share, and nothing of any one service.

    SNS topic "shop events" (aws/sns key, TLS only)      <- Orders (OrderPlaced),
                                                            Inventory (StockReserved/Shortage)
        subscribers filter on the eventType message attribute
    EventBridge bus + archive (every event, replayable)  <- Orders (OrderPlaced)
    [Kinesis stream "order activity" (KMS, 24 h)]        <- Orders; read by Inventory (demand)
    SSM parameters /<project>/<this stack's name>/...     what the services read at deploy

Deploy it first; delete it last (nothing stops an earlier deletion, and a service deployed
after it would fail to read its parameters: docs/microservices.md says the order).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from blueprints.microservices.discovery import Directory
from blueprints.microservices.settings import MicroservicesSettings
from house.names import physical_name
from house.settings import StageSettings

BUS = "MicroservicesBus"
# EventBridge event bus names: up to 256 of [/.\-_A-Za-z0-9] (EventBridge API reference).
EVENT_BUS_NAME_MAX = 256
ARCHIVE_NAME_MAX = 48  # EventBridge: [.-_A-Za-z0-9]+, at most 48 characters


class MicroservicesBusStack(cdk.Stack):
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
            scope, id, description="Microservices shop: shared topic, event bus, stream", **kwargs
        )
        # SNS-managed key: encrypted at rest at no key fee; SQS subscribers need no key grant.
        self.topic = sns.Topic(
            self,
            "ShopEvents",
            display_name="shop events",
            enforce_ssl=True,
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
        )
        self.bus = events.EventBus(
            self,
            "EventBus",
            event_bus_name=physical_name(self, "Shop", max_length=EVENT_BUS_NAME_MAX),
        )
        # Every event of the bus, kept for replay (EventBridge "start replay" into the bus).
        # Named: an archive name is at most 48 characters, and the one CloudFormation would
        # generate from the stack name and logical id can be longer.
        self.archive = self.bus.archive(
            "Archive",
            archive_name=physical_name(self, "ShopArchive", max_length=ARCHIVE_NAME_MAX),
            description="Every shop event, for replay",
            event_pattern=events.EventPattern(account=[self.account]),
            retention=cdk.Duration.days(settings.event_archive_days),
        )
        published = {
            "topic-arn": (self.topic.topic_arn, "The shop's SNS topic"),
            "event-bus-arn": (self.bus.event_bus_arn, "The shop's EventBridge bus"),
            "event-bus-name": (self.bus.event_bus_name, "The shop's EventBridge bus (name)"),
        }
        self.stream = None
        if settings.kinesis:
            self.stream = kinesis.Stream(
                self,
                "OrderActivity",
                stream_mode=kinesis.StreamMode.ON_DEMAND
                if settings.kinesis_shards is None
                else kinesis.StreamMode.PROVISIONED,
                shard_count=settings.kinesis_shards,
                encryption=kinesis.StreamEncryption.MANAGED,
                retention_period=cdk.Duration.hours(24),
                removal_policy=stage.removal_policy,
            )
            published["stream-arn"] = (self.stream.stream_arn, "The order-activity stream")
            published["stream-name"] = (self.stream.stream_name, "The order-activity stream (name)")
        for name, (value, description) in published.items():
            directory.publish(self, BUS, name, value, description)
        cdk.CfnOutput(self, "TopicArn", value=self.topic.topic_arn)
        cdk.CfnOutput(self, "EventBusName", value=self.bus.event_bus_name)
        cdk.CfnOutput(self, "ArchiveName", value=self.archive.archive_name)
