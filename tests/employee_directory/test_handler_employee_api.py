"""The directory's routes (lambda_src/employee_api) in moto: every operation's answers match the
contract, bad requests are a 4xx JSON error that changes nothing, HR admin checks hold, and each
Lambda handler module serves its one operation only."""

from __future__ import annotations

import base64
import json
import urllib.parse

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.employee_directory.conftest import BUCKET, ENVIRONMENT, TABLE, create_table
from tests.employee_directory.contract_checks import response_problems
from tests.employee_directory.events import EMPLOYEE, NEW_EMPLOYEE, event, header, json_body
from tests.support.handlers import load_function
from tests.support.lambda_runner import LambdaContext

MISSING = "00000000-0000-4000-8000-000000000000"


def answer(directory, operation_id: str, **kwargs) -> tuple[int, object, dict]:
    response = directory(event(operation_id, **kwargs))
    headers = {k: ",".join(v) for k, v in response["multiValueHeaders"].items()}
    body = json_body(response)
    problems = response_problems(operation_id, response["statusCode"], body, headers)
    assert not problems, problems
    return response["statusCode"], body, headers


def create(directory, **fields) -> dict:
    status, body, _ = answer(directory, "createEmployee", body={**NEW_EMPLOYEE, **fields})
    assert status == 201, body
    return body


# -- the operations -----------------------------------------------------------------------------


def test_create_answers_the_employee_with_its_location_and_stores_it(directory):
    status, created, headers = answer(directory, "createEmployee", body=NEW_EMPLOYEE)
    assert status == 201
    assert headers["Location"] == f"/api/employees/{created['employeeId']}"
    assert {k: created[k] for k in NEW_EMPLOYEE} == NEW_EMPLOYEE
    assert created["version"] == 1 and created["photoUrl"].endswith("/photo")
    (item,) = directory.items()
    assert item["pk"] == f"EMPLOYEE#{created['employeeId']}" and item["sk"] == "PROFILE"
    assert item["listing"] == "EMPLOYEE" and item["sortName"].startswith("ada lovelace#")


def test_get_answers_what_create_stored_and_404_for_no_such_employee(directory):
    created = create(directory)
    assert answer(directory, "getEmployee", employee_id=created["employeeId"])[1] == created
    status, body, _ = answer(directory, "getEmployee", employee_id=MISSING)
    assert (status, body["code"]) == (404, "NotFound")


def test_list_is_in_name_order_whatever_the_case_a_page_at_a_time(directory):
    for name in ("carol", "Bob", "alice", "Dave"):
        create(directory, name=name)
    seen, token = [], None
    while True:
        query = {"limit": "3", **({"nextToken": token} if token else {})}
        status, page, _ = answer(directory, "listEmployees", query=query)
        assert status == 200 and len(page["items"]) <= 3
        seen += [e["name"] for e in page["items"]]
        token = page["nextToken"]
        if token is None:
            break
    assert seen == ["alice", "Bob", "carol", "Dave"]


def test_update_changes_fields_removes_optional_ones_and_bumps_the_version(directory):
    created = create(directory)
    key = created["employeeId"]
    status, updated, _ = answer(
        directory,
        "updateEmployee",
        employee_id=key,
        body={"version": 1, "jobTitle": "Lead", "phone": None, "name": "Augusta Ada King"},
    )
    assert status == 200 and updated["version"] == 2
    assert updated["jobTitle"] == "Lead" and "phone" not in updated
    (item,) = directory.items()
    assert item["sortName"].startswith("augusta ada king#")


def test_a_stale_version_is_a_conflict_naming_the_current_one_and_changes_nothing(directory):
    key = create(directory)["employeeId"]
    answer(directory, "updateEmployee", employee_id=key, body={"version": 1, "location": "Paris"})
    before = directory.items()
    status, body, _ = answer(
        directory, "updateEmployee", employee_id=key, body={"version": 1, "location": "Rome"}
    )
    assert (status, body["code"]) == (409, "StaleVersion")
    assert "at version 2" in body["message"]
    assert directory.items() == before
    status, body, _ = answer(
        directory, "updateEmployee", employee_id=MISSING, body={"version": 1, "location": "Rome"}
    )
    assert (status, body["code"]) == (404, "NotFound")


def test_delete_removes_the_employee_and_their_photo_then_is_a_404(directory):
    key = create(directory)["employeeId"]
    s3 = boto3.client("s3", region_name="us-east-1")
    for object_key in (f"uploads/{key}.png", f"thumbnails/{key}.jpg", f"uploads/{MISSING}.jpg"):
        s3.put_object(Bucket=BUCKET, Key=object_key, Body=b"x")
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
    table.put_item(Item={"pk": f"PHOTO#{key}", "sk": "THUMBNAIL"})
    assert answer(directory, "deleteEmployee", employee_id=key)[0] == 204
    assert directory.items() == []
    assert directory.objects() == [f"uploads/{MISSING}.jpg"], "another employee's photo stays"
    assert answer(directory, "deleteEmployee", employee_id=key)[0] == 404


def test_a_photo_upload_is_a_presigned_post_limited_to_one_key_type_and_size(directory):
    key = create(directory)["employeeId"]
    status, grant, _ = answer(
        directory, "requestPhotoUpload", employee_id=key, body={"contentType": "image/png"}
    )
    assert status == 201
    assert grant["upload"]["url"] == f"https://{BUCKET}.s3.us-east-1.amazonaws.com/"
    fields = grant["upload"]["fields"]
    assert fields["key"] == f"uploads/{key}.png"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert ["content-length-range", 1, int(ENVIRONMENT["MAX_UPLOAD_BYTES"])] in policy["conditions"]
    assert {"key": f"uploads/{key}.png"} in policy["conditions"]
    assert grant["maxBytes"] == int(ENVIRONMENT["MAX_UPLOAD_BYTES"])
    status, body, _ = answer(
        directory, "requestPhotoUpload", employee_id=MISSING, body={"contentType": "image/png"}
    )
    assert (status, body["code"]) == (404, "NotFound")


def test_the_photo_route_is_404_until_the_thumbnail_exists_then_a_short_lived_redirect(
    directory,
):
    key = create(directory)["employeeId"]
    status, body, _ = answer(directory, "getEmployeePhoto", employee_id=key)
    assert (status, body["code"]) == (404, "NoPhoto")
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(TABLE)
    table.put_item(
        Item={"pk": f"PHOTO#{key}", "sk": "THUMBNAIL", "thumbnailKey": f"thumbnails/{key}.jpg"}
    )
    status, body, headers = answer(directory, "getEmployeePhoto", employee_id=key)
    assert status == 302 and body is None
    location = urllib.parse.urlsplit(headers["Location"])
    assert location.netloc == f"{BUCKET}.s3.us-east-1.amazonaws.com"
    assert location.path == f"/thumbnails/{key}.jpg"
    assert urllib.parse.parse_qs(location.query)["X-Amz-Expires"] == ["300"]
    assert headers["Cache-Control"] == "no-store", "the URL carries a signature: never shared"


# -- who may write ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation_id", "body"),
    [
        ("createEmployee", NEW_EMPLOYEE),
        ("updateEmployee", {"version": 1, "location": "Oslo"}),
        ("deleteEmployee", None),
        ("requestPhotoUpload", {"contentType": "image/jpeg"}),
    ],
)
def test_writes_need_a_verified_member_of_the_hr_admin_group(directory, operation_id, body):
    key = create(directory)["employeeId"]
    before = directory.items()
    for claims, status, code in ((None, 401, "NotAuthenticated"), (EMPLOYEE, 403, "NotHrAdmin")):
        got, answered, _ = answer(
            directory, operation_id, employee_id=key, body=body, claims=claims
        )
        assert (got, answered["code"]) == (status, code)
    assert directory.items() == before


@pytest.mark.parametrize("groups", ["hr-admin", "[staff hr-admin]", "staff,hr-admin"])
def test_a_member_is_recognised_however_the_gateway_writes_the_groups(directory, groups):
    claims = {"sub": "hr-2", "cognito:groups": groups}
    assert answer(directory, "createEmployee", body=NEW_EMPLOYEE, claims=claims)[0] == 201


def test_a_group_named_like_a_prefix_of_hr_admin_is_not_hr_admin(directory):
    claims = {"sub": "x", "cognito:groups": "hr-admins,hr"}
    assert answer(directory, "createEmployee", body=NEW_EMPLOYEE, claims=claims)[0] == 403


def test_reads_need_no_sign_in(directory):
    key = create(directory)["employeeId"]
    assert answer(directory, "getEmployee", employee_id=key, claims=None)[0] == 200
    assert answer(directory, "listEmployees", claims=None)[0] == 200


def test_without_an_hr_admin_group_writes_need_no_sign_in(directory):
    """The classic app, and the serverless stack with hr_admin false."""
    del directory.environment["HR_ADMIN_GROUP"]
    directory.reload()
    assert answer(directory, "createEmployee", body=NEW_EMPLOYEE, claims=None)[0] == 201


# -- bad requests: a 4xx JSON error, nothing written --------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ({**NEW_EMPLOYEE, "employeeId": MISSING}, "application/json", 400),
        ({**NEW_EMPLOYEE, "version": 7}, "application/json", 400),
        ({k: v for k, v in NEW_EMPLOYEE.items() if k != "email"}, "application/json", 400),
        ({**NEW_EMPLOYEE, "email": "not-an-address"}, "application/json", 400),
        ({**NEW_EMPLOYEE, "name": " leading blank"}, "application/json", 400),
        ({**NEW_EMPLOYEE, "name": "two\nlines"}, "application/json", 400),
        ({**NEW_EMPLOYEE, "name": "x" * 101}, "application/json", 400),
        ({**NEW_EMPLOYEE, "name": 7}, "application/json", 400),
        ({**NEW_EMPLOYEE, "phone": "call me"}, "application/json", 400),
        ({**NEW_EMPLOYEE, "location": None}, "application/json", 400),
        ('{"name": "\\ud800"}', "application/json", 400),
        ({**NEW_EMPLOYEE, "notes": "x" * 20000}, "application/json", 413),
        ("name=Ada", "application/x-www-form-urlencoded", 415),
        ("", "application/json", 400),
    ],
)
def test_bad_bodies_are_refused_and_nothing_is_written(directory, body, content_type, status):
    response = directory(event("createEmployee", body=body, headers={"Content-Type": content_type}))
    assert response["statusCode"] == status, response
    assert set(json_body(response)) == {"message", "code"}
    assert directory.items() == []


@pytest.mark.parametrize(
    "body",
    [
        {"version": 1},
        {"location": "Oslo"},
        {"version": 0, "location": "Oslo"},
        {"version": "1", "location": "Oslo"},
        {"version": 1, "name": None},
        {"version": 1, "createdAt": "2020-01-01T00:00:00Z"},
    ],
)
def test_bad_updates_are_refused_and_nothing_changes(directory, body):
    key = create(directory)["employeeId"]
    before = directory.items()
    status, answered, _ = answer(directory, "updateEmployee", employee_id=key, body=body)
    assert status == 400 and answered["code"] == "InvalidInput"
    assert directory.items() == before


@pytest.mark.parametrize(
    "employee_id",
    ["not-a-uuid", "ABCDEF00-0000-4000-8000-00000000000A", f"{MISSING}\n", "../uploads", ""],
)
def test_a_malformed_employee_id_is_a_400_for_every_operation_that_takes_one(
    directory, employee_id
):
    for operation_id, body in (
        ("getEmployee", None),
        ("updateEmployee", {"version": 1, "location": "x"}),
        ("deleteEmployee", None),
        ("getEmployeePhoto", None),
        ("requestPhotoUpload", {"contentType": "image/png"}),
    ):
        status, answered, _ = answer(directory, operation_id, employee_id=employee_id, body=body)
        assert (status, answered["code"]) == (400, "InvalidInput"), operation_id
    assert directory.items() == [] and directory.objects() == []


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"limit": "²"},
        {"nextToken": "not-base64!"},
        {"nextToken": base64.urlsafe_b64encode(b'{"pk": "PHOTO#x"}').decode()},
        {
            "nextToken": base64.urlsafe_b64encode(
                json.dumps(
                    {"pk": "EMPLOYEE#a", "sk": "PROFILE", "listing": "PHOTO", "sortName": "a"}
                ).encode()
            ).decode()
        },
        {"nextToken": "x" * 1025},
        {"sort": "name"},
    ],
)
def test_bad_list_parameters_are_a_400(directory, query):
    status, answered, _ = answer(directory, "listEmployees", query=query)
    assert (status, answered["code"]) == (400, "InvalidInput")


def test_a_photo_of_another_type_is_refused(directory):
    key = create(directory)["employeeId"]
    status, answered, _ = answer(
        directory, "requestPhotoUpload", employee_id=key, body={"contentType": "image/gif"}
    )
    assert status == 400 and answered["code"] == "InvalidInput"


def test_a_throttled_table_is_a_503_with_retry_after_and_nothing_written(directory, monkeypatch):
    store = directory.routes.directory.store

    def throttled(**_kwargs):
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
            "PutItem",
        )

    monkeypatch.setattr(store.table(), "put_item", throttled)
    response = directory(event("createEmployee", body=NEW_EMPLOYEE))
    assert response["statusCode"] == 503 and header(response, "Retry-After") == "1"
    assert json_body(response)["code"] == "Busy"
    assert directory.items() == []


# -- one function, one operation ------------------------------------------------------------------

OPERATIONS = {
    "list_employees": "listEmployees",
    "get_employee": "getEmployee",
    "create_employee": "createEmployee",
    "update_employee": "updateEmployee",
    "delete_employee": "deleteEmployee",
    "get_employee_photo": "getEmployeePhoto",
    "request_photo_upload": "requestPhotoUpload",
}


@pytest.mark.parametrize(("module", "operation_id"), OPERATIONS.items())
def test_each_handler_module_serves_its_own_operation_and_no_other(
    aws, monkeypatch, module, operation_id
):
    create_table()
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    handler = load_function("employee_api", module, environment=ENVIRONMENT)
    context = LambdaContext(module)
    own = handler.handler(event(operation_id, employee_id=MISSING, body={}), context)
    assert (json_body(own) or {}).get("code") != "NoSuchRoute"
    for other in [o for o in OPERATIONS.values() if o != operation_id]:
        response = handler.handler(event(other, employee_id=MISSING), context)
        assert response["statusCode"] == 404 and json_body(response)["code"] == "NoSuchRoute"
