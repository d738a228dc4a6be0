"""Microservices smokes, one per stack (plain AWS API calls and one unsigned HTTP request).

- `MicroservicesBus`: `topic`, `archive`. The topic named by TopicArn exists and is encrypted;
  the bus's archive (ArchiveName) is enabled.
- `MicroservicesInventory`: `stock-table`, `stock-bucket`. The stock table is active; the stock
  bucket exists.
- `MicroservicesOrders`: `api-refuses-unsigned` (http), `orders-table`. The API answers an
  unsigned request with a 403 JSON body (IAM auth is on, and the gateway's refusals use the
  house error body); the orders table is active with its stream.
- `MicroservicesNotifications`: `notifications-table`. The notifications table is active.
"""

from __future__ import annotations

import json

from deployment.smoke_support import Smoke, StepFailed


def _table_active(smoke: Smoke, output: str, *, stream: bool = False) -> str:
    name = smoke.output(output)
    table = smoke.client("dynamodb").describe_table(TableName=name)["Table"]
    if table["TableStatus"] != "ACTIVE":
        raise StepFailed(f"table {name} is {table['TableStatus']}")
    if stream and not table.get("StreamSpecification", {}).get("StreamEnabled"):
        raise StepFailed(f"table {name} has no stream: the publisher would never run")
    return f"{name} is ACTIVE"


def bus_smoke(smoke: Smoke) -> None:
    def topic() -> str:
        arn = smoke.output("TopicArn")
        attributes = smoke.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
        if not attributes.get("KmsMasterKeyId"):
            raise StepFailed(f"topic {arn} is not encrypted")
        return f"{arn} exists, encrypted with {attributes['KmsMasterKeyId']}"

    def archive() -> str:
        name = smoke.output("ArchiveName")
        state = smoke.client("events").describe_archive(ArchiveName=name)["State"]
        if state != "ENABLED":
            raise StepFailed(f"archive {name} is {state}")
        return f"archive {name} is ENABLED"

    smoke.step("topic", topic, uses=["TopicArn"])
    smoke.step("archive", archive, uses=["ArchiveName"])


def inventory_smoke(smoke: Smoke) -> None:
    def bucket() -> str:
        name = smoke.output("StockBucketName")
        smoke.client("s3").head_bucket(Bucket=name)
        return f"{name} exists"

    smoke.step(
        "stock-table", lambda: _table_active(smoke, "StockTableName"), uses=["StockTableName"]
    )
    smoke.step("stock-bucket", bucket, uses=["StockBucketName"])


def orders_smoke(smoke: Smoke) -> None:
    def refuses_unsigned() -> str:
        url = smoke.output("ApiUrl").rstrip("/") + "/orders/" + "0" * 32
        answer = smoke.http("GET", url)
        if answer.status != 403:
            raise StepFailed(f"GET {url} unsigned answered {answer.status}, not 403")
        body = json.loads(answer.body or b"{}")
        if set(body) != {"message", "code"}:
            raise StepFailed(f"the refusal's body is {body!r}, not {{message, code}}")
        return f"unsigned GET refused: 403 {body['code']}"

    smoke.step(
        "api-refuses-unsigned",
        refuses_unsigned,
        needs={"http": "calls the API over the internet"},
        uses=["ApiUrl"],
    )
    smoke.step(
        "orders-table",
        lambda: _table_active(smoke, "TableName", stream=True),
        uses=["TableName"],
    )


def notifications_smoke(smoke: Smoke) -> None:
    smoke.step(
        "notifications-table",
        lambda: _table_active(smoke, "NotificationsTableName"),
        uses=["NotificationsTableName"],
    )
