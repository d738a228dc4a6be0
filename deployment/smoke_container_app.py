"""ContainerWebApp smoke: the service answers its health check at ServiceUrl (ECS Express Mode's
or App Runner's HTTPS URL); when it runs the sample app (containers/web_app), `/` says which
engine serves it, and with a database `GET /visits` writes and counts a row in PostgreSQL,
proving the network path, the security groups and the injected credentials together.

A paused Aurora Serverless v2 instance (dev, 0 ACU) resumes on the first connection in about
15 seconds (longer after a day paused); the app answers 503 meanwhile, so the database step
polls. With `task_subnets: private` the load balancer is internal: the HTTP steps are skipped,
saying so. Clean-up: none needed; each run adds one row to the sample's `visits` table.
"""

from __future__ import annotations

from deployment.smoke_support import (
    Smoke,
    StepFailed,
    StepSkipped,
    expect_status,
    join_url,
    resource_properties,
)

DEFAULT_HEALTH_PATH = "/health"
RESUME_POLL = 5.0
RESUME_WITHIN = 120.0


def health_path(template) -> str:
    for properties in resource_properties(template, "AWS::ECS::ExpressGatewayService"):
        if isinstance(properties.get("HealthCheckPath"), str):
            return properties["HealthCheckPath"]
    for properties in resource_properties(template, "AWS::AppRunner::Service"):
        path = (properties.get("HealthCheckConfiguration") or {}).get("Path")
        if isinstance(path, str):
            return path
    return DEFAULT_HEALTH_PATH


def smoke(smoke: Smoke) -> None:
    http = "requests ServiceUrl over the internet"

    def reachable() -> None:
        if smoke.outputs.get("ServiceAccess") == "internal":
            raise StepSkipped(
                "a public URL",
                "task_subnets 'private': the load balancer is internal, reachable only from "
                "inside the VPC",
            )

    def health() -> str:
        reachable()
        url = join_url(smoke.output("ServiceUrl"), health_path(smoke.template))
        expect_status(smoke.http("GET", url), 200)
        return f"GET {url}: 200 ({smoke.outputs.get('Engine', '?')})"

    def sample_app() -> str:
        url = join_url(smoke.output("ServiceUrl"), "/")
        response = smoke.http("GET", url, headers={"Accept": "application/json"})
        try:
            about = response.json()
        except ValueError:
            about = None
        if (
            response.status != 200
            or not isinstance(about, dict)
            or about.get("service") != "container-web-app"
        ):
            raise StepSkipped(
                "the sample app",
                f"GET {url} answered {response.status}, not as containers/web_app does: "
                "the service runs another image",
            )
        engine = smoke.outputs.get("Engine")
        if engine and about.get("engine") != engine:
            raise StepFailed(f"the app says engine {about.get('engine')!r}, the stack {engine!r}")
        return f"the sample app answers from {about.get('host')} on {about.get('engine')}"

    def database() -> str:
        if not smoke.outputs.get("DatabaseSecretArn"):
            raise StepSkipped("a database", "the stack has none (database false)")
        url = join_url(smoke.output("ServiceUrl"), "/visits")

        def visit():
            answer = smoke.http("GET", url)
            if answer.status == 503:
                return None  # the database is resuming from a pause
            expect_status(answer, 200)
            return answer.json()

        counted = smoke.poll(
            "a visit recorded in the database", visit, interval=RESUME_POLL, within=RESUME_WITHIN
        )
        if not isinstance(counted.get("visits"), int) or counted["visits"] < 1:
            raise StepFailed(f"GET {url} answered {counted}, expected a visit count")
        return f"GET {url}: visit {counted['visits']} recorded"

    smoke.step("health", health, uses=["ServiceUrl"], needs={"http": http})
    smoke.step("sample-app", sample_app, needs={"http": http}, after=["health"])
    smoke.step("database", database, needs={"http": http}, after=["sample-app"])
