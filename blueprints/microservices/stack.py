"""Microservices blueprint: a small shop of independent services (Orders, Inventory,
Notifications) talking over REST, SNS, SQS, EventBridge, S3 events and Kinesis.

Stacks (CloudFormation names `<id>-<stage>`), deployable and destroyable one by one:
    MicroservicesBus            the shared SNS topic, EventBridge bus + archive, [Kinesis stream]
    MicroservicesInventory      stock: bus -> SQS -> reserve; S3 -> SQS -> import; [Kinesis ->
                                demand]; [the Fargate stock API behind an IAM-authorized HTTP API]
    MicroservicesOrders         the public REST API (OpenAPI) -> Lambda -> table -> stream ->
                                publisher -> SNS + EventBridge [+ Kinesis]
    MicroservicesNotifications  SNS (filtered) -> SQS -> notify

They find each other through SSM parameters (discovery.py), never exports: each service stack
reads the bus's parameters at deploy, so `build()` makes it depend on the bus stack (and Orders
on Inventory when Orders calls the stock API). That orders `cdk deploy --all` and deploys the
bus first when one service is deployed on its own; no stack can block another's deletion.
Doc: docs/microservices.md.
"""

from __future__ import annotations

import aws_cdk as cdk

from blueprints.microservices.bus import BUS, MicroservicesBusStack
from blueprints.microservices.discovery import Directory
from blueprints.microservices.inventory import INVENTORY, MicroservicesInventoryStack
from blueprints.microservices.notifications import MicroservicesNotificationsStack
from blueprints.microservices.orders import ORDERS, MicroservicesOrdersStack
from blueprints.microservices.settings import MicroservicesSettings
from house.settings import Instance

SETTINGS = MicroservicesSettings
NOTIFICATIONS = "MicroservicesNotifications"
STACK_IDS = (BUS, INVENTORY, ORDERS, NOTIFICATIONS)
STACKS = {
    BUS: MicroservicesBusStack,
    INVENTORY: MicroservicesInventoryStack,
    ORDERS: MicroservicesOrdersStack,
    NOTIFICATIONS: MicroservicesNotificationsStack,
}


def build(app: cdk.App, instance: Instance[MicroservicesSettings]) -> list[cdk.Stack]:
    ids = dict(zip(STACK_IDS, instance.stack_ids(*STACK_IDS), strict=True))
    stage = instance.stage
    directory = Directory(stage.project, {k: stage.stack_name(v) for k, v in ids.items()})
    built: dict[str, cdk.Stack] = {}
    for blueprint_id, stack_id in ids.items():
        built[blueprint_id] = STACKS[blueprint_id](
            app,
            stack_id,
            stage=stage,
            settings=instance.settings,
            directory=directory,
            **stage.stack_kwargs(stack_id),
        )
    for blueprint_id in (INVENTORY, ORDERS, NOTIFICATIONS):
        built[blueprint_id].add_stack_dependency(built[BUS], "reads the bus's SSM parameters")
    if instance.settings.container_service:
        built[ORDERS].add_stack_dependency(built[INVENTORY], "reads the stock API's SSM parameters")
    return list(built.values())
