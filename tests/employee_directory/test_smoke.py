"""The employee directory smokes (deployment/smoke_employees.py) against moto (Auto Scaling,
DynamoDB) and a local HTTP server standing in for the load balancer or the distribution, which
answers as the directory does and writes the table the smoke cleans up."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from tests.support.smoke_fakes import (  # noqa: F401 (fixtures)
    RUN_ID,
    fixed_run_id,
    json_answer,
    run,
    statuses,
    web,
)

TABLE = "EmployeeDirectory-dev-Table"
HEADERS = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
HSTS = {"Strict-Transport-Security": "max-age=63072000"}
PAGE = b"<!doctype html><html><body>Employee directory</body></html>"
EMPLOYEE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


class Directory:
    """What the app answers under `api` (a prefix), keeping employees in the moto table."""

    def __init__(self, web, api: str, *, delete_status: int = 204, headers=HEADERS) -> None:
        self.dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        self.delete_status = delete_status
        web.route("GET", "/", (200, {"Content-Type": "text/html", **headers}, PAGE))
        web.route("GET", "/health", (200, {"Content-Type": "text/plain"}, b"ok"))
        web.route("GET", f"{api}/employees", json_answer(200, {"items": [], "nextToken": None}))
        web.route("POST", f"{api}/employees", self.create)
        for method in ("GET", "DELETE"):
            web.route(method, f"{api}/employees/*", self.one)

    def key(self, employee_id: str) -> dict:
        return {"pk": {"S": f"EMPLOYEE#{employee_id}"}, "sk": {"S": "PROFILE"}}

    def create(self, request):
        employee = {**json.loads(request["body"]), "employeeId": EMPLOYEE_ID, "version": 1}
        self.dynamodb.put_item(
            TableName=TABLE, Item={**self.key(EMPLOYEE_ID), "doc": {"S": json.dumps(employee)}}
        )
        return json_answer(201, employee)

    def one(self, request):
        employee_id = request["path"].rsplit("/", 1)[1]
        item = self.dynamodb.get_item(TableName=TABLE, Key=self.key(employee_id)).get("Item")
        if item is None:
            return json_answer(404, {"message": "no such employee", "code": "NotFound"})
        if request["method"] == "GET":
            return json_answer(200, json.loads(item["doc"]["S"]))
        if self.delete_status != 204:
            return json_answer(self.delete_status, {"message": "boom", "code": "Internal"})
        self.dynamodb.delete_item(TableName=TABLE, Key=self.key(employee_id))
        return 204, {}, b""

    def items(self) -> list:
        return self.dynamodb.scan(TableName=TABLE)["Items"]


@pytest.fixture
def table(aws, fixed_run_id):
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    )
    return TABLE


def group(instances: int) -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName="directory",
        LaunchTemplateData={"ImageId": image, "InstanceType": "t4g.micro"},
    )
    boto3.client("autoscaling", region_name="us-east-1").create_auto_scaling_group(
        AutoScalingGroupName="EmployeeDirectoryClassic-dev-Web",
        LaunchTemplate={"LaunchTemplateName": "directory", "Version": "$Latest"},
        MinSize=instances,
        MaxSize=max(instances, 1),
        DesiredCapacity=instances,
        AvailabilityZones=["us-east-1a"],
    )
    return "EmployeeDirectoryClassic-dev-Web"


def classic_outputs(web, table) -> dict:
    return {"SiteUrl": web.url, "TableName": table, "AutoScalingGroupName": group(1)}


def test_classic_serves_and_round_trips_an_employee_leaving_nothing(web, table):
    directory = Directory(web, "/api")
    results, lines, _ = run("EmployeeDirectoryClassic", classic_outputs(web, table))
    assert statuses(results) == {
        "instances": "PASS",
        "site": "PASS",
        "health": "PASS",
        "api-round-trip": "PASS",
        "cleanup:delete-test-employee": "PASS",
    }, "\n".join(lines)
    created = json.loads(next(r["body"] for r in web.requests if r["method"] == "POST"))
    assert created["name"] == f"Smoke Test {RUN_ID}"
    assert [r["method"] for r in web.requests if "/employees/" in r["path"]] == [
        "GET",
        "DELETE",
        "GET",
    ]
    assert directory.items() == []


def test_classic_without_an_instance_in_service_fails_that_step(web, table):
    Directory(web, "/api")
    outputs = {"SiteUrl": web.url, "TableName": table, "AutoScalingGroupName": group(0)}
    results, lines, _ = run("EmployeeDirectoryClassic", outputs)
    assert results["instances"].status == "FAIL"
    assert "no instance in service" in results["instances"].detail


def test_a_failed_delete_fails_the_step_and_the_cleanup_still_removes_the_item(web, table):
    directory = Directory(web, "/api", delete_status=500)
    results, lines, _ = run("EmployeeDirectoryClassic", classic_outputs(web, table))
    assert results["api-round-trip"].status == "FAIL", "\n".join(lines)
    assert results["cleanup:delete-test-employee"].status == "PASS"
    assert directory.items() == []


def test_a_page_without_its_security_headers_fails(web, table):
    Directory(web, "/api", headers={"X-Frame-Options": "DENY"})
    results, _, _ = run("EmployeeDirectoryClassic", classic_outputs(web, table))
    assert results["site"].status == "FAIL"
    assert re.search(r"lacks security header\(s\) content-security-policy", results["site"].detail)


def serverless_outputs(web, table, *, hr_admin: bool) -> dict:
    outputs = {"SiteUrl": web.url, "ApiBaseUrl": f"{web.url}/api/", "TableName": table}
    if hr_admin:
        outputs["HrAdminUserPoolId"] = "us-east-1_example"
    return outputs


def test_serverless_with_hr_admins_refuses_an_anonymous_write(web, table):
    Directory(web, "/api", headers={**HEADERS, **HSTS})
    web.route(
        "POST",
        "/api/employees",
        json_answer(401, {"message": "sign in as an HR admin", "code": "NotAuthenticated"}),
    )
    results, lines, _ = run(
        "EmployeeDirectoryServerless", serverless_outputs(web, table, hr_admin=True)
    )
    assert statuses(results) == {
        "site": "PASS",
        "api-list": "PASS",
        "api-refuses-anonymous-write": "PASS",
    }, "\n".join(lines)


def test_serverless_with_hr_admins_fails_when_anyone_may_write(web, table):
    directory = Directory(web, "/api", headers={**HEADERS, **HSTS})
    results, _, _ = run(
        "EmployeeDirectoryServerless", serverless_outputs(web, table, hr_admin=True)
    )
    assert results["api-refuses-anonymous-write"].status == "FAIL"
    assert "answered 201, expected 401" in results["api-refuses-anonymous-write"].detail
    directory.dynamodb.delete_item(TableName=TABLE, Key=directory.key(EMPLOYEE_ID))


def test_serverless_without_hr_admins_round_trips_an_employee(web, table):
    directory = Directory(web, "/api", headers={**HEADERS, **HSTS})
    results, lines, _ = run(
        "EmployeeDirectoryServerless", serverless_outputs(web, table, hr_admin=False)
    )
    assert statuses(results) == {
        "site": "PASS",
        "api-list": "PASS",
        "api-round-trip": "PASS",
        "cleanup:delete-test-employee": "PASS",
    }, "\n".join(lines)
    assert directory.items() == []
