"""Microservices smokes, one per stack (plain AWS API calls and one unsigned HTTP request).

- `MicroservicesBus`: `topic`, `archive`. The topic named by TopicArn exists and is encrypted;
  the bus's archive (ArchiveName) is enabled.
- `MicroservicesInventory`: `stock-table`, `stock-bucket`. The stock table is active; the stock
  bucket exists.
- `MicroservicesOrders`: `api-refuses-unsigned` (http), `orders-table`. The API answers an
  unsigned request with a 403 JSON body (IAM auth is on, and the gateway's refusals use the
  house error body); the orders table is active with its stream.
- `MicroservicesNotifications`: `notifications-table`. The notifications table is active.
- `MicroservicesStock` (with `container_service`): `service-steady` (ecs-tasks-run),
  `api-refuses-unsigned` (http), `signed-stock-read` (http). The ECS service runs its desired
  tasks and its last deployment completed; the HTTP API refuses an unsigned call with 403
  (IAM authorization); a call signed with the smoke's own credentials (SigV4, execute-api)
  goes API -> VPC link -> internal ALB -> task -> stock table and answers 200 with the
  contract's body.
"""

from __future__ import annotations

import json

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from deployment.smoke_support import Smoke, StepFailed

# A SKU the contract accepts; the table need not know it (unknown SKUs have 0 available).
SMOKE_SKU = "SMOKE-TEST-1"


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


def stock_smoke(smoke: Smoke) -> None:
    def steady() -> str:
        cluster, name = smoke.output("ClusterName"), smoke.output("ServiceName")
        (service,) = smoke.client("ecs").describe_services(cluster=cluster, services=[name])[
            "services"
        ]
        primary = [d for d in service["deployments"] if d["status"] == "PRIMARY"]
        if service["runningCount"] < max(service["desiredCount"], 1):
            raise StepFailed(
                f"{name}: {service['runningCount']} of {service['desiredCount']} tasks running"
            )
        if not primary or primary[0].get("rolloutState", "COMPLETED") != "COMPLETED":
            raise StepFailed(f"{name}: its last deployment has not completed")
        return f"{name}: {service['runningCount']} tasks running, deployment completed"

    def stock_url() -> str:
        return smoke.output("StockApiUrl").rstrip("/") + "/stock/" + SMOKE_SKU

    def refuses_unsigned() -> str:
        answer = smoke.http("GET", stock_url())
        if answer.status != 403:
            raise StepFailed(f"GET {stock_url()} unsigned answered {answer.status}, not 403")
        return "unsigned GET refused: 403"

    def signed_read() -> str:
        url = stock_url()
        request = AWSRequest(method="GET", url=url)
        credentials = smoke.session.get_credentials().get_frozen_credentials()
        SigV4Auth(credentials, "execute-api", smoke.session.region_name).add_auth(request)
        answer = smoke.http("GET", url, headers=dict(request.headers))
        if answer.status != 200:
            raise StepFailed(f"signed GET {url} answered {answer.status}: {answer.body[:200]!r}")
        body = json.loads(answer.body)
        if body != {"sku": SMOKE_SKU, "available": body.get("available")} or not isinstance(
            body["available"], int
        ):
            raise StepFailed(f"the stock body is {body!r}, not {{sku, available}}")
        return f"signed GET answered 200: {body}"

    smoke.step(
        "service-steady",
        steady,
        needs={"ecs-tasks-run": "waits for the stock API's tasks to run"},
        uses=["ClusterName", "ServiceName"],
    )
    smoke.step(
        "api-refuses-unsigned",
        refuses_unsigned,
        needs={"http": "calls the API over the internet"},
        uses=["StockApiUrl"],
    )
    smoke.step(
        "signed-stock-read",
        signed_read,
        needs={"http": "calls the API over the internet, signed with your credentials"},
        uses=["StockApiUrl"],
        after=["service-steady"],
    )
