"""One walk through the directory, the same for both front ends: what "the same handlers'
expectations" means, executed. Every answer is checked against the contract (status, body
schema, headers); the transcript, with ids, times and signatures masked, is what the two front
ends must agree on.

The browser's own requests to S3 are modelled as S3 evaluates them: a pre-signed POST or GET is
authorized as its signer (the credentials the front end signed it with), so the upload and the
thumbnail download are made with those credentials under IAM enforcement (moto does not check
pre-signed requests itself). S3's "Object Created" event reaches the stack's thumbnail function
through the EventBridge rule the template declares, run as its own role.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import boto3

from tests.employee_directory.contract_checks import response_problems
from tests.employee_directory.events import NEW_EMPLOYEE
from tests.support.eventbridge import started_functions
from tests.support.iam_enforcement import enforced
from tests.support.lambda_runner import FunctionInProcess
from tests.support.photos import jpeg_photo, s3_event

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")
MISSING = "00000000-0000-4000-8000-000000000000"


def masked(value: Any) -> Any:
    """The answer with what differs by nature between two runs masked: ids, times, tokens,
    pre-signed fields and URLs, and the table/bucket names of the stack."""
    if isinstance(value, dict):
        return {
            k: "<signed>"
            if k
            in (
                "policy",
                "x-amz-signature",
                "x-amz-credential",
                "x-amz-date",
                "x-amz-security-token",
                "url",
                "nextToken",
            )
            and v
            else masked(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, str):
        return TIME.sub("<time>", UUID.sub("<id>", value))
    return value


def thumbnail_function(front) -> FunctionInProcess:
    return FunctionInProcess(
        front.stack, front.stack.logical_id("Data/Thumbnails/Function", "AWS::Lambda::Function")
    )


def stored(front) -> tuple[list, list]:
    """Everything the directory holds: table items and current photo objects."""
    table = front.stack.ref(front.stack.logical_id("Data/Table", "AWS::DynamoDB::Table"))
    bucket = front.stack.ref(front.stack.logical_id("Data/Photos", "AWS::S3::Bucket"))
    region = front.stack.region
    items = boto3.client("dynamodb", region_name=region).scan(TableName=table)["Items"]
    listed = boto3.client("s3", region_name=region).list_objects_v2(Bucket=bucket)
    return (
        sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"])),
        sorted(o["Key"] for o in listed.get("Contents", [])),
    )


def walk(front) -> list[tuple[str, int, Any]]:
    """The journey; returns the masked transcript. Raises AssertionError at the first answer
    that is not what the contract and the journey expect."""
    transcript = []

    def call(operation_id: str, expected: int, **kwargs):
        answer = front.call(operation_id, **kwargs)
        problems = response_problems(operation_id, answer.status, answer.body, answer.headers)
        assert not problems, problems
        assert answer.status == expected, (operation_id, answer.status, answer.body)
        transcript.append((operation_id, answer.status, masked(answer.body)))
        return answer

    ada = call("createEmployee", 201, body=NEW_EMPLOYEE).body
    bob = call(
        "createEmployee", 201, body={**NEW_EMPLOYEE, "name": "bob", "phone": "+1 555 0100"}
    ).body
    names, token = [], None
    while True:
        query = {"limit": "1", **({"nextToken": token} if token else {})}
        page = call("listEmployees", 200, query=query).body
        names += [e["name"] for e in page["items"]]
        token = page["nextToken"]
        if not token:
            break
    assert names == ["Ada Lovelace", "bob"]
    assert call("getEmployee", 200, employee_id=ada["employeeId"]).body == ada
    changed = call(
        "updateEmployee", 200, employee_id=ada["employeeId"], body={"version": 1, "phone": None}
    ).body
    assert changed["version"] == 2 and "phone" not in changed
    call("updateEmployee", 409, employee_id=ada["employeeId"], body={"version": 1, "location": "x"})

    # A photo: signed by the front end, uploaded by the browser, made small by the function.
    grant = call(
        "requestPhotoUpload", 201, employee_id=ada["employeeId"], body={"contentType": "image/jpeg"}
    ).body
    fields, signer = grant["upload"]["fields"], front.signer("requestPhotoUpload")
    bucket = urllib.parse.urlsplit(grant["upload"]["url"]).netloc.split(".s3.")[0]
    with enforced():
        put = signer.client("s3").put_object(
            Bucket=bucket,
            Key=fields["key"],
            Body=jpeg_photo(800, 600),
            ContentType=fields["Content-Type"],
        )
    # S3 sends the event to EventBridge; the stack's rule must start the thumbnail function.
    thumbs = thumbnail_function(front)
    ((target, delivered),) = started_functions(
        front.stack, s3_event(bucket, fields["key"], version=put.get("VersionId"))
    )
    assert target == front.stack.get_att(thumbs.logical_id, "Arn")
    made = thumbs.invoke(delivered)
    assert made == {"thumbnails": 1, "rejected": 0, "ignored": 0}, made
    location = call("getEmployeePhoto", 302, employee_id=ada["employeeId"]).header("Location")
    where = urllib.parse.urlsplit(location)
    with enforced():
        thumbnail = (
            front.signer("getEmployeePhoto")
            .client("s3")
            .get_object(
                Bucket=where.netloc.split(".s3.")[0], Key=urllib.parse.unquote(where.path[1:])
            )
        )
    assert thumbnail["ContentType"] == "image/jpeg"
    call("getEmployeePhoto", 404, employee_id=bob["employeeId"])

    # Bad requests: a 4xx JSON error, nothing written.
    before = stored(front)
    call("createEmployee", 400, body={**NEW_EMPLOYEE, "salary": 1})
    call("createEmployee", 400, body="{oops")
    call("getEmployee", 400, employee_id="not-an-id")
    call("updateEmployee", 404, employee_id=MISSING, body={"version": 1, "location": "x"})
    call("deleteEmployee", 404, employee_id=MISSING)
    call(
        "requestPhotoUpload", 400, employee_id=bob["employeeId"], body={"contentType": "image/gif"}
    )
    call("listEmployees", 400, query={"limit": "1000"})
    assert stored(front) == before

    call("deleteEmployee", 204, employee_id=ada["employeeId"])
    call("getEmployee", 404, employee_id=ada["employeeId"])
    items, objects = stored(front)
    assert [i["pk"]["S"] for i in items] == [f"EMPLOYEE#{bob['employeeId']}"]
    assert objects == [], "the photo and its thumbnail went with the employee"
    return transcript
