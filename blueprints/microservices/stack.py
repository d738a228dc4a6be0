"""Microservices blueprint: a small shop of independent services (Orders, Inventory,
Notifications) talking over REST, SNS, SQS, EventBridge, S3 events and Kinesis.

Stacks (CloudFormation names `<id>-<stage>`), deployable and destroyable one by one:
    MicroservicesBus            the shared SNS topic, EventBridge bus + archive, [Kinesis stream]
    MicroservicesInventory      stock: bus -> SQS -> reserve; S3 -> SQS -> import; [Kinesis ->
                                demand]
    [MicroservicesStock]        Inventory's stock API on Fargate behind an internal ALB and an
                                IAM-authorized HTTP API (only with `container_service`)
    MicroservicesOrders         the public REST API (OpenAPI) -> Lambda -> table -> stream ->
                                publisher -> SNS + EventBridge [+ Kinesis]; [checks stock]
    MicroservicesNotifications  SNS (filtered) -> SQS -> notify

They find each other through SSM parameters (discovery.py), never exports: a stack reads the
parameters of the stacks `reads()` names at deploy, so `build()` makes it depend on them (every
service on the bus, the stock API on Inventory, whose table it reads, and Orders on the stock
API when it calls it). That orders `cdk deploy --all` and deploys the bus first when one service
is deployed on its own; no stack can block another's deletion. Doc: docs/microservices.md.
"""

from __future__ import annotations

import aws_cdk as cdk

from blueprints.microservices.bus import BUS, MicroservicesBusStack
from blueprints.microservices.discovery import Directory
from blueprints.microservices.inventory import INVENTORY, MicroservicesInventoryStack
from blueprints.microservices.notifications import MicroservicesNotificationsStack
from blueprints.microservices.orders import ORDERS, MicroservicesOrdersStack
from blueprints.microservices.settings import MicroservicesSettings
from blueprints.microservices.stock import STOCK, MicroservicesStockStack
from house.settings import Instance

SETTINGS = MicroservicesSettings
NOTIFICATIONS = "MicroservicesNotifications"
# Every stack id the blueprint may make (reserved for it); STOCK only with `container_service`.
STACK_IDS = (BUS, INVENTORY, STOCK, ORDERS, NOTIFICATIONS)
STACKS = {
    BUS: MicroservicesBusStack,
    INVENTORY: MicroservicesInventoryStack,
    STOCK: MicroservicesStockStack,
    ORDERS: MicroservicesOrdersStack,
    NOTIFICATIONS: MicroservicesNotificationsStack,
}


def built_stacks(settings: MicroservicesSettings) -> tuple[str, ...]:
    """The stack ids `settings` makes, in STACK_IDS order (dependencies first)."""
    return tuple(s for s in STACK_IDS if s != STOCK or settings.container_service)


def reads(settings: MicroservicesSettings) -> dict[str, tuple[str, ...]]:
    """Stack -> the stacks whose SSM parameters it reads at deploy (so they deploy first)."""
    return {
        INVENTORY: (BUS,),
        STOCK: (INVENTORY,),
        ORDERS: (BUS, STOCK) if settings.container_service else (BUS,),
        NOTIFICATIONS: (BUS,),
    }


def build(app: cdk.App, instance: Instance[MicroservicesSettings]) -> list[cdk.Stack]:
    ids = dict(zip(STACK_IDS, instance.stack_ids(*STACK_IDS), strict=True))
    stage = instance.stage
    directory = Directory(stage.project, {k: stage.stack_name(v) for k, v in ids.items()})
    read = reads(instance.settings)
    built: dict[str, cdk.Stack] = {}
    for blueprint_id in built_stacks(instance.settings):
        stack_id = ids[blueprint_id]
        built[blueprint_id] = STACKS[blueprint_id](
            app,
            stack_id,
            stage=stage,
            settings=instance.settings,
            directory=directory,
            **stage.stack_kwargs(stack_id),
        )
        for owner in read.get(blueprint_id, ()):
            built[blueprint_id].add_stack_dependency(
                built[owner], f"reads the SSM parameters of {ids[owner]}"
            )
    return list(built.values())
