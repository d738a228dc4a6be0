"""The directory's HTTP routes: one function per operation of the contract (openapi.json), each
parsing its request, asking directory.py, and answering. `api_for(*operation_ids)` is a REST kit
API (handler_kit.rest: type and UTF-8 checks, domain errors to 4xx, store failures to 503/500,
one error body `{"message", "code"}`) serving those operations.

Each Lambda function serves one operation (list_employees.py, ...: `handler = api_for(...)
.handler`), so its role needs only that operation's permissions; the classic app serves all of
them from one process (blueprints/employee_directory/classic_app/web.py). Both answer every
request through this module, so the two stacks cannot disagree on a status, a header or a body.

Who may write: with HR_ADMIN_GROUP set, the operations the contract marks with its `hrAdmin`
security requirement need a caller the gateway's Cognito authorizer verified (401 otherwise)
who is a member of that group (403 otherwise). API Gateway refuses a missing or invalid token
first; this check is the handler's own guarantee.
"""

from __future__ import annotations

import re

import config
import contract
import directory
from handler_kit import schema
from handler_kit.errors import InvalidInput
from handler_kit.observability import count, logger
from handler_kit.rest import Request, Response, RestApi, error_response

MAX_BODY_BYTES = 16 * 1024
GROUPS_CLAIM = "cognito:groups"


def _pattern(operation_id: str, name: str) -> re.Pattern:
    (parameter,) = [p for p in contract.operations()[operation_id].parameters if p.name == name]
    return re.compile(parameter.schema["pattern"])


# -- parsing ----------------------------------------------------------------------------------


def employee_id(request: Request, operation_id: str) -> str:
    value = request.path_parameter("employeeId")
    if not _pattern(operation_id, "employeeId").fullmatch(value):
        raise InvalidInput("employeeId must be a lowercase UUID")
    return value


def body(request: Request, operation_id: str) -> dict:
    name = contract.operations()[operation_id].body
    return schema.validate(request.body(), contract.request_schema(name))


def groups(request: Request) -> set[str]:
    """The caller's Cognito groups. API Gateway hands claims over as strings: one group is
    `hr-admin`, several are written `[a b]` or `a,b` depending on the path, so any is read."""
    raw = request.claims.get(GROUPS_CLAIM) or ""
    if isinstance(raw, list):
        return {str(g) for g in raw}
    return {g for g in re.split(r"[\s,]+", str(raw).strip("[]")) if g}


def refused(request: Request, operation_id: str) -> Response | None:
    """The 403 for a caller who may not make this request, or None when it may."""
    group = config.settings().hr_admin_group
    if not group or not contract.operations()[operation_id].secured:
        return None
    request.caller()  # NotAuthenticated (401) without a verified identity
    if group in groups(request):
        return None
    logger.info("request refused", extra={"code": "NotHrAdmin"})
    count("RequestsRefused")
    return error_response(403, "NotHrAdmin", f"only members of the {group} group may do this")


# -- routes -----------------------------------------------------------------------------------


def list_employees(request: Request) -> Response:
    parameters = {p.name: p.schema for p in contract.operations()["listEmployees"].parameters}
    limit = request.query_integer(
        "limit",
        default=config.settings().page_size,
        minimum=parameters["limit"]["minimum"],
        maximum=parameters["limit"]["maximum"],
    )
    token = request.query.get("nextToken")
    if token is not None and not 0 < len(token) <= parameters["nextToken"]["maxLength"]:
        raise InvalidInput("nextToken is not one this API returned")
    return Response(200, directory.list_page(limit, token))


def get_employee(request: Request) -> Response:
    return Response(200, directory.get(employee_id(request, "getEmployee")))


def create_employee(request: Request) -> Response:
    if denied := refused(request, "createEmployee"):
        return denied
    created = directory.create(body(request, "createEmployee"))
    return Response(201, created, {"Location": f"/api/employees/{created['employeeId']}"})


def update_employee(request: Request) -> Response:
    if denied := refused(request, "updateEmployee"):
        return denied
    key = employee_id(request, "updateEmployee")
    return Response(200, directory.update(key, body(request, "updateEmployee")))


def delete_employee(request: Request) -> Response:
    if denied := refused(request, "deleteEmployee"):
        return denied
    directory.delete(employee_id(request, "deleteEmployee"))
    return Response(204)


def get_employee_photo(request: Request) -> Response:
    location = directory.photo_location(employee_id(request, "getEmployeePhoto"))
    return Response(302, None, {"Location": location})


def request_photo_upload(request: Request) -> Response:
    if denied := refused(request, "requestPhotoUpload"):
        return denied
    key = employee_id(request, "requestPhotoUpload")
    fields = body(request, "requestPhotoUpload")
    return Response(201, directory.photo_upload(key, fields["contentType"]))


ROUTES = {
    "listEmployees": list_employees,
    "getEmployee": get_employee,
    "createEmployee": create_employee,
    "updateEmployee": update_employee,
    "deleteEmployee": delete_employee,
    "getEmployeePhoto": get_employee_photo,
    "requestPhotoUpload": request_photo_upload,
}


def api_for(*operation_ids: str) -> RestApi:
    """A REST kit API serving these operations of the contract (all of them if none are named)."""
    api = RestApi(max_body_bytes=MAX_BODY_BYTES, cache_control=True)
    for operation_id in operation_ids or tuple(contract.operations()):
        operation = contract.operations()[operation_id]
        api.route(operation.method, operation.path, query=operation.query)(ROUTES[operation_id])
    return api
