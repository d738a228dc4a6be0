"""Fixtures of the employee-directory handler tests: the shared code (lambda_src/employee_api)
imported once, and per test a moto table and photo bucket shaped as data.py builds them."""

from __future__ import annotations

import boto3
import pytest

from blueprints.employee_directory.data import NAME_INDEX
from tests.support.handlers import fresh, load_function
from tests.support.lambda_runner import LambdaContext

TABLE = "employee-directory-test"
BUCKET = "employee-directory-photos-test"
ENVIRONMENT = {
    "TABLE_NAME": TABLE,
    "NAME_INDEX": NAME_INDEX,
    "MEDIA_BUCKET": BUCKET,
    "UPLOAD_PREFIX": "uploads/",
    "THUMBNAIL_PREFIX": "thumbnails/",
    "MAX_UPLOAD_BYTES": str(5 * 1024 * 1024),
    "UPLOAD_URL_SECONDS": "300",
    "PHOTO_URL_SECONDS": "300",
    "PAGE_SIZE": "25",
    "HR_ADMIN_GROUP": "hr-admin",
}


def create_table(region: str = "us-east-1") -> None:
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("pk", "sk", "listing", "sortName")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": NAME_INDEX,
                "KeySchema": [
                    {"AttributeName": "listing", "KeyType": "HASH"},
                    {"AttributeName": "sortName", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


@pytest.fixture(scope="module")
def routes_module():
    return load_function("employee_api", "routes", environment=ENVIRONMENT)


@pytest.fixture
def directory(aws, routes_module, monkeypatch):
    """The routes of every operation, answering proxy events, over a fresh moto table and
    bucket. `directory.environment` changes take effect with `directory.reload()`."""
    create_table()
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    return Directory(routes_module, monkeypatch)


class Directory:
    def __init__(self, routes, monkeypatch) -> None:
        self.routes, self.monkeypatch = routes, monkeypatch
        self.environment = dict(ENVIRONMENT)
        self.reload()

    def reload(self) -> None:
        fresh(self.routes, self.monkeypatch, self.environment)
        for name in set(ENVIRONMENT) - set(self.environment):
            self.monkeypatch.delenv(name, raising=False)
        self.api = self.routes.api_for()

    def __call__(self, event: dict) -> dict:
        return self.api.handler(event, LambdaContext("employee-directory-test"))

    @staticmethod
    def items() -> list[dict]:
        table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
        return table.scan()["Items"]

    @staticmethod
    def objects() -> list[str]:
        listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET)
        return sorted(o["Key"] for o in listed.get("Contents", []))
