"""Inventory's consumers against moto: reserving stock once per order (the same message
delivered twice reserves once), shortages that change nothing, stock files from S3, demand
from the stream; contract breaks parked in the dead-letter queue with the reason, other
failures reported for retry."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.microservices.shop import (
    LAYERS,
    REQUEST_ID,
    assert_valid_event,
    eventbridge_body,
    kinesis_record,
    order_placed,
    queue,
    received,
    sqs_event,
    sqs_record,
    table,
)
from tests.support.wiring import LambdaContext, fresh, load_function

STOCK, IDEMPOTENCY = "stock", "idempotency"


def environment(dead_letters: str, topic: str = "") -> dict[str, str]:
    return {
        "STOCK_TABLE": STOCK,
        "IDEMPOTENCY_TABLE": IDEMPOTENCY,
        "IDEMPOTENCY_SECONDS": "3600",
        "DEAD_LETTER_URL": dead_letters,
        "TOPIC_ARN": topic,
    }


BOOT = environment("https://sqs.us-east-1.amazonaws.com/123456789012/dlq")


@pytest.fixture
def shop(aws):
    table(STOCK, "pk")
    table(IDEMPOTENCY, "id")
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="shop-events")["TopicArn"]
    outcomes = queue("outcomes")
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint="arn:aws:sqs:us-east-1:123456789012:outcomes",
        Attributes={"RawMessageDelivery": "true"},
    )
    levels({"BOOK-1": 5, "PEN-7": 1})
    return {"topic": topic, "outcomes": outcomes, "dlq": queue("dead-letters")}


def levels(counts: dict[str, int]) -> None:
    for sku, count in counts.items():
        boto3.client("dynamodb").put_item(
            TableName=STOCK, Item={"pk": {"S": f"SKU#{sku}"}, "available": {"N": str(count)}}
        )


def item(sku: str) -> dict:
    got = boto3.client("dynamodb").get_item(TableName=STOCK, Key={"pk": {"S": f"SKU#{sku}"}})
    return {k: int(v["N"]) for k, v in got["Item"].items() if "N" in v}


def parked(url: str) -> list[tuple[str, str]]:
    return [(m["Body"], m["MessageAttributes"]["reason"]["StringValue"]) for m in received(url)]


# -- reserve --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reserve_module():
    return load_function("inventory", "reserve", layers=LAYERS, environment=BOOT)


@pytest.fixture
def reserve(shop, reserve_module, monkeypatch):
    fresh(reserve_module, monkeypatch, environment(shop["dlq"], shop["topic"]))
    return lambda *records: reserve_module.handler(sqs_event(*records), LambdaContext("reserve"))


def from_bus(event: dict, message_id: str = "m-1") -> dict:
    return sqs_record(eventbridge_body(event), message_id=message_id)


def test_an_order_is_reserved_and_announced(shop, reserve):
    assert reserve(from_bus(order_placed())) == {"batchItemFailures": []}
    assert item("BOOK-1")["available"] == 3 and item("PEN-7")["available"] == 0
    (message,) = received(shop["outcomes"])
    outcome = json.loads(message["Body"])
    assert_valid_event(outcome)
    assert outcome["eventType"] == "StockReserved" and outcome["correlationId"] == REQUEST_ID
    assert message["MessageAttributes"]["eventType"]["StringValue"] == "StockReserved"


def test_the_same_message_delivered_twice_reserves_once(shop, reserve):
    reserve(from_bus(order_placed(), "m-1"))
    reserve(from_bus(order_placed(), "m-2"))  # SQS's at-least-once: a second delivery
    assert item("BOOK-1")["available"] == 3, "reserved once"
    assert len(received(shop["outcomes"])) == 1, "announced once"


def test_a_retry_after_a_failed_announcement_does_not_reserve_again(shop, reserve, monkeypatch):
    store = pytest.importorskip("store")  # the reserve function's own store module
    real = store.publish
    calls = []

    def publish_fails_once(event):
        calls.append(event)
        if len(calls) == 1:
            raise ConnectionError("SNS unreachable")
        real(event)

    monkeypatch.setattr(store, "publish", publish_fails_once)
    first = reserve(from_bus(order_placed()))
    assert first == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert reserve(from_bus(order_placed())) == {"batchItemFailures": []}
    assert item("BOOK-1")["available"] == 3, "the reservation item stopped a second decrement"
    assert calls[0]["eventId"] == calls[1]["eventId"], "the retry announces the same event"
    assert calls[0]["eventType"] == calls[1]["eventType"] == "StockReserved"


def test_a_shortage_changes_nothing_and_is_announced(shop, reserve):
    order = order_placed(items=[{"sku": "BOOK-1", "quantity": 2}, {"sku": "PEN-7", "quantity": 3}])
    assert reserve(from_bus(order)) == {"batchItemFailures": []}
    assert item("BOOK-1")["available"] == 5 and item("PEN-7")["available"] == 1
    (message,) = received(shop["outcomes"])
    outcome = json.loads(message["Body"])
    assert_valid_event(outcome)
    assert outcome["shortages"] == [{"sku": "PEN-7", "requested": 3, "available": 1}]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not JSON"),
        (eventbridge_body(order_placed(items=[])), "field 'items' needs at least 1"),
        (eventbridge_body(order_placed(customerId=7)), "field 'customerId' must be string"),
        ({"detail-type": "OrderPlaced", "detail": "x"}, "no detail object"),
    ],
)
def test_a_message_that_breaks_the_contract_is_parked_with_the_reason(shop, reserve, body, reason):
    record = sqs_record(body)
    assert reserve(record) == {"batchItemFailures": []}, "not retried: it cannot succeed"
    ((parked_body, why),) = parked(shop["dlq"])
    assert parked_body == record["body"] and reason in why
    assert item("BOOK-1")["available"] == 5


def test_a_store_failure_is_retried_alone(shop, reserve, monkeypatch):
    store = pytest.importorskip("store")

    def throttled(*_args, **_kwargs):
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ThrottlingException"}}, "TransactWriteItems")

    good, bad = from_bus(order_placed("c" * 32), "good"), from_bus(order_placed(), "bad")
    real = store.reserve
    monkeypatch.setattr(
        store,
        "reserve",
        lambda order_id, lines: throttled() if order_id == "a" * 32 else real(order_id, lines),
    )
    assert reserve(good, bad) == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert parked(shop["dlq"]) == []


# -- stock files ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def import_module():
    return load_function("inventory", "stock_import", layers=LAYERS, environment=BOOT)


@pytest.fixture
def stock_import(shop, import_module, monkeypatch):
    fresh(import_module, monkeypatch, environment(shop["dlq"]))
    boto3.client("s3").create_bucket(Bucket="stock-files")
    return lambda *records: import_module.handler(sqs_event(*records), LambdaContext("import"))


def object_created(key: str, sequencer: str = "0055AED6DCD90281E5") -> dict:
    return sqs_record(
        {
            "detail-type": "Object Created",
            "source": "aws.s3",
            "detail": {
                "bucket": {"name": "stock-files"},
                "object": {"key": key, "sequencer": sequencer},
                "request-id": "S3REQUEST1",
            },
        }
    )


def put(key: str, body) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    boto3.client("s3").put_object(Bucket="stock-files", Key=key, Body=text.encode())


def test_a_stock_file_sets_the_levels_it_lists(shop, stock_import):
    put(
        "imports/a.json",
        {"items": [{"sku": "BOOK-1", "available": 40}, {"sku": "NEW-1", "available": 2}]},
    )
    assert stock_import(object_created("imports/a.json")) == {"batchItemFailures": []}
    assert item("BOOK-1")["available"] == 40 and item("NEW-1")["available"] == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{broken", "is not JSON"),
        ({"items": [{"sku": "BOOK-1", "available": -1}]}, "must be between"),
        ({"items": [{"sku": "BOOK-1"}]}, "missing required field(s): available"),
        ({"rows": []}, "unknown field(s): rows"),
    ],
)
def test_a_bad_stock_file_is_parked_with_the_reason_and_changes_nothing(
    shop, stock_import, body, reason
):
    put("imports/bad.json", body)
    assert stock_import(object_created("imports/bad.json")) == {"batchItemFailures": []}
    ((_, why),) = parked(shop["dlq"])
    assert reason in why
    assert item("BOOK-1")["available"] == 5


def test_a_stock_file_larger_than_the_limit_is_refused(shop, stock_import, monkeypatch):
    monkeypatch.setenv("MAX_IMPORT_BYTES", "10")
    pytest.importorskip("config").settings.cache_clear()
    put("imports/big.json", {"items": [{"sku": "BOOK-1", "available": 1}]})
    stock_import(object_created("imports/big.json"))
    ((_, why),) = parked(shop["dlq"])
    assert "larger than 10 bytes" in why


# -- demand (Kinesis) -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demand_module():
    return load_function("inventory", "demand", layers=LAYERS, environment=BOOT)


@pytest.fixture
def demand(shop, demand_module, monkeypatch):
    fresh(demand_module, monkeypatch, environment(shop["dlq"]))
    return lambda *records: demand_module.handler({"Records": list(records)}, LambdaContext("d"))


def test_demand_counts_each_order_once(shop, demand):
    record = kinesis_record(order_placed())
    assert demand(record, record) == {"batchItemFailures": []}
    assert item("BOOK-1")["demanded"] == 2


def test_a_poison_record_is_parked_with_its_coordinates_and_the_stream_moves_on(shop, demand):
    assert demand(kinesis_record("not json", sequence="42")) == {"batchItemFailures": []}
    ((body, why),) = parked(shop["dlq"])
    assert json.loads(body)["sequenceNumber"] == "42" and "not JSON" in why
