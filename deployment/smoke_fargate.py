"""FargateService smoke: the job queue exists, the web service answers its health check
through the load balancer, and, when it runs the sample app (containers/web), a job posted to
POST /jobs is done by the queue worker and its result served by GET /jobs/<id>.

Clean-up: nothing is left that the blueprint does not remove itself. A job the worker has not
picked up when the smoke gives up stays queued (it is done at the next scale-out); taking it
back would mean receiving other messages too, which counts towards their maxReceiveCount and
could push a real job to the dead-letter queue. Results expire with the prune task.
"""

from __future__ import annotations

import hashlib
import json

from deployment.smoke_support import (
    Smoke,
    StepFailed,
    StepSkipped,
    expect_status,
    join_url,
    resource_properties,
)

DEFAULT_HEALTH_PATH = "/health"
# The worker scales out from zero on queue depth: alarm (1 min) + task start (~1 min).
JOB_POLL = 3.0


def health_path(template) -> str:
    for properties in resource_properties(template, "AWS::ElasticLoadBalancingV2::TargetGroup"):
        if isinstance(properties.get("HealthCheckPath"), str):
            return properties["HealthCheckPath"]
    return DEFAULT_HEALTH_PATH


def smoke(smoke: Smoke) -> None:
    http = "requests ServiceUrl through the load balancer"

    def queue() -> str:
        attributes = smoke.client("sqs").get_queue_attributes(
            QueueUrl=smoke.output("QueueUrl"),
            AttributeNames=["QueueArn", "ApproximateNumberOfMessages"],
        )["Attributes"]
        return (
            f"{attributes['QueueArn'].rsplit(':', 1)[-1]}: "
            f"{attributes.get('ApproximateNumberOfMessages', '?')} message(s) waiting"
        )

    def health() -> str:
        url = join_url(smoke.output("ServiceUrl"), health_path(smoke.template))
        expect_status(smoke.http("GET", url), 200)
        return f"GET {url}: 200"

    def sample_app() -> str:
        url = join_url(smoke.output("ServiceUrl"), "/")
        response = smoke.http("GET", url, headers={"Accept": "application/json"})
        try:
            about = json.loads(response.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            about = None
        if (
            response.status != 200
            or not isinstance(about, dict)
            or "POST /jobs" not in about.get("routes", [])
        ):
            raise StepSkipped(
                "the sample app",
                f"GET {url} answered {response.status}, not as "
                "containers/web does: the service runs another image",
            )
        return f"the sample app answers on host {about.get('host')}"

    def job() -> str:
        base = smoke.output("ServiceUrl")
        text = f"smoke test {smoke.run_id}"
        response = smoke.http(
            "POST",
            join_url(base, "/jobs"),
            body=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        expect_status(response, 202)
        job_id = response.json()["job_id"]
        url = join_url(base, f"/jobs/{job_id}")

        def result():
            answer = smoke.http("GET", url)
            if answer.status == 404:
                return None  # queued, or the worker is still scaling out
            expect_status(answer, 200)
            return answer.json()

        done = smoke.poll(f"the result of job {job_id}", result, interval=JOB_POLL)
        expected = hashlib.sha256(text.encode()).hexdigest()
        if done.get("sha256") != expected or done.get("words") != len(text.split()):
            raise StepFailed(f"job {job_id}'s result is wrong: {done}")
        return f"job {job_id} done by worker {done.get('worker')}"

    smoke.step("queue", queue, uses=["QueueUrl"])
    smoke.step("health", health, uses=["ServiceUrl"], needs={"http": http})
    smoke.step(
        "sample-app", sample_app, uses=["ServiceUrl"], needs={"http": http}, after=["health"]
    )
    smoke.step("job", job, needs={"http": http}, after=["sample-app"])
