"""Employee directory smokes: each stack answers the contract's main path where users reach it.

- `EmployeeDirectoryServerless`: the page through CloudFront with the security headers; the
  list through the same distribution (`ApiBaseUrl` + `employees`); with the HR admin sign-in
  (the `HrAdminUserPoolId` output), an anonymous write refused 401 in the API's JSON error body;
  without it, an employee created, read back and deleted through the API.
- `EmployeeDirectoryClassic`: the Auto Scaling group has an instance in service (no HTTP
  needed); the load balancer answers the page with the security headers and the health check;
  an employee created, read back and deleted through `/api/` (the classic app has no sign-in:
  its network is its guard). The HTTP steps need the smoke to run from a network in
  `allowed_cidrs`: from elsewhere the load balancer does not answer at all.

What a smoke writes carries the run's id (the employee's name) and is deleted at the end: by
the API, or straight from the table when the API's delete did not run.
"""

from __future__ import annotations

import json

from deployment.smoke_support import Smoke, StepFailed, expect_status, join_url

# Both front ends put these on every answer (the serverless site adds HSTS: it serves HTTPS).
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options")
JSON = {"Accept": "application/json", "Content-Type": "application/json"}


def _page(smoke: Smoke, url: str, headers=SECURITY_HEADERS) -> str:
    response = smoke.http("GET", url, headers={"Accept": "text/html"})
    expect_status(response, 200)
    kind = response.header("content-type") or ""
    if not kind.startswith("text/html") or b"<html" not in response.body[:4096].lower():
        raise StepFailed(f"{response.url} is not an HTML page (Content-Type {kind!r})")
    missing = [name for name in headers if not response.header(name)]
    if missing:
        raise StepFailed(f"{response.url} lacks security header(s) {', '.join(missing)}")
    return f"200 HTML with {', '.join(headers)}"


def _json(response) -> object:
    try:
        return response.json()
    except ValueError:
        raise StepFailed(f"{response.url} answered {response.status} without JSON") from None


def _listed(smoke: Smoke, api: str) -> str:
    url = join_url(api, "employees")
    response = smoke.http("GET", url, headers=JSON)
    expect_status(response, 200)
    body = _json(response)
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise StepFailed(f"{url} answered JSON without an 'items' list: {body!r:.200}")
    return f"GET {url}: 200 JSON, {len(body['items'])} employee(s) on the first page"


def _new_employee(smoke: Smoke) -> bytes:
    return json.dumps(
        {
            "name": f"Smoke Test {smoke.run_id}",
            "email": f"smoke-{smoke.run_id}@example.com",
            "jobTitle": "Smoke test",
            "department": "QA",
        }
    ).encode()


def _round_trip(smoke: Smoke, api: str, table_output: str) -> str:
    """Create, read back and delete one employee through the API; owe the table's clean-up."""
    created_ids: list[str] = []

    def forget() -> str:
        if not created_ids:
            return "nothing was created"
        smoke.client("dynamodb").delete_item(
            TableName=smoke.output(table_output),
            Key={"pk": {"S": f"EMPLOYEE#{created_ids[0]}"}, "sk": {"S": "PROFILE"}},
        )
        return f"item EMPLOYEE#{created_ids[0]} deleted (if it was still there)"

    smoke.cleanup("delete-test-employee", forget)
    url = join_url(api, "employees")
    body = _new_employee(smoke)
    created = smoke.http("POST", url, headers=JSON, body=body)
    expect_status(created, 201)
    employee = _json(created)
    if not isinstance(employee, dict) or employee.get("name") != json.loads(body)["name"]:
        raise StepFailed(f"POST {url} answered {employee!r:.200}")
    created_ids.append(employee["employeeId"])
    one = join_url(url, employee["employeeId"])
    read = smoke.http("GET", one, headers=JSON)
    expect_status(read, 200)
    if _json(read) != employee:
        raise StepFailed(f"GET {one} answered {read.body[:200]!r}, not what was created")
    expect_status(smoke.http("DELETE", one, headers=JSON), 204)
    expect_status(smoke.http("GET", one, headers=JSON), 404)
    return f"created, read back and deleted {employee['employeeId']}"


def serverless_smoke(smoke: Smoke) -> None:
    http = {"http": "requests through the CloudFront distribution"}
    smoke.step(
        "site",
        lambda: _page(
            smoke, smoke.output("SiteUrl"), (*SECURITY_HEADERS, "strict-transport-security")
        ),
        uses=["SiteUrl"],
        needs=http,
    )
    smoke.step(
        "api-list",
        lambda: _listed(smoke, smoke.output("ApiBaseUrl")),
        uses=["ApiBaseUrl"],
        needs=http,
    )
    if smoke.outputs.get("HrAdminUserPoolId"):

        def refused() -> str:
            url = join_url(smoke.output("ApiBaseUrl"), "employees")
            response = smoke.http("POST", url, headers=JSON, body=_new_employee(smoke))
            expect_status(response, 401)
            error = _json(response)
            if not isinstance(error, dict) or not error.get("message"):
                raise StepFailed(f"POST {url}: 401 without the JSON error body: {error!r:.200}")
            return f"POST {url} without a token: 401 {error.get('code', '')}".rstrip()

        smoke.step("api-refuses-anonymous-write", refused, uses=["ApiBaseUrl"], needs=http)
    else:
        smoke.step(
            "api-round-trip",
            lambda: _round_trip(smoke, smoke.output("ApiBaseUrl"), "TableName"),
            uses=["ApiBaseUrl", "TableName"],
            needs={**http, "lambda-runs": "one function per operation answers"},
        )


def classic_smoke(smoke: Smoke) -> None:
    def in_service() -> str:
        name = smoke.output("AutoScalingGroupName")
        groups = smoke.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[name]
        )["AutoScalingGroups"]
        if not groups:
            raise StepFailed(f"no Auto Scaling group {name!r}")
        serving = [i for i in groups[0].get("Instances", []) if i["LifecycleState"] == "InService"]
        if not serving:
            raise StepFailed(f"{name} has no instance in service (see its activity history)")
        return f"{name}: {len(serving)} instance(s) in service"

    reach = {"http": "requests to the load balancer, from a network in allowed_cidrs"}
    smoke.step("instances", in_service, uses=["AutoScalingGroupName"])
    smoke.step("site", lambda: _page(smoke, smoke.output("SiteUrl")), uses=["SiteUrl"], needs=reach)

    def health() -> str:
        url = join_url(smoke.output("SiteUrl"), "health")
        expect_status(smoke.http("GET", url), 200)
        return f"GET {url}: 200"

    smoke.step("health", health, uses=["SiteUrl"], needs=reach)
    smoke.step(
        "api-round-trip",
        lambda: _round_trip(smoke, join_url(smoke.output("SiteUrl"), "api"), "TableName"),
        uses=["SiteUrl", "TableName"],
        needs=reach,
    )
