"""Wiring: the sample app's code run with the environment, mounts, event inputs and IAM the
*synthesized template* gives each container, against moto resources built from that template.

The blueprint has no Lambda functions of its own (its code runs in containers), so instead of
`LocalStack.function(...)` these tests read each task definition's container (environment,
command, mount point), the EventBridge rule's input transformer and the task roles' policies,
and drive the realistic path: POST /jobs on the web task -> the worker task reads the queue the
template wires it to and writes the result to shared storage -> GET /jobs/<id> serves it; an
object lands in the upload bucket -> the rule's container override gives the process-upload
task its key -> GET /uploads lists the summary; the scheduled prune task cleans up.
Renaming QUEUE_URL / UPLOAD_BUCKET in the stack, the mount path, or the rule's override makes
these fail.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import time

import boto3
import pytest

from tests.fargate_service.conftest import STACK_ID

MOUNT = "/mnt/shared"


class Container:
    """The one container of a task definition, as the template declares it."""

    def __init__(self, stack, task: str) -> None:
        self.stack = stack
        self.logical_id = stack.logical_id(f"{task}Task", "AWS::ECS::TaskDefinition")
        # Everything but the image: its URI is built from the repository ARN and the tag the
        # deploy-time build reports, which the local stack does not model (test_stack.py
        # asserts the image); what the app is wired to lies in the rest.
        raw = stack.resources[self.logical_id]["Properties"]
        (container,) = raw["ContainerDefinitions"]
        self.task_definition = stack.resolve({**raw, "ContainerDefinitions": [
            {k: v for k, v in container.items() if k != "Image"}]})
        (self.definition,) = self.task_definition["ContainerDefinitions"]
        self.environment = {e["Name"]: str(e["Value"])
                            for e in self.definition.get("Environment", [])}
        self.command = self.definition.get("Command", [])

    def apply(self, monkeypatch, shared_dir, overrides: dict[str, str] | None = None) -> None:
        """The container's environment in os.environ, its EFS mount rebased onto `shared_dir`."""
        (mount,) = self.definition["MountPoints"]
        assert self.environment["SHARED_DIR"] == mount["ContainerPath"], \
            "the app looks for shared storage where the task does not mount it"
        for name in ("QUEUE_URL", "UPLOAD_BUCKET", "OBJECT_KEY", "RETENTION_DAYS", "PORT"):
            monkeypatch.delenv(name, raising=False)
        for name, value in {**self.environment, **(overrides or {})}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SHARED_DIR", str(shared_dir))

    def allows(self, action: str, resource: str) -> bool:
        """Whether the task role's policies (as synthesized) allow `action` on `resource`."""
        role = self.task_definition["TaskRoleArn"]
        for logical_id in self.stack.of_type("AWS::IAM::Policy"):
            policy = self.stack.properties(logical_id)
            if role.split("/")[-1] not in [str(r) for r in policy["Roles"]]:
                continue
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [
                    statement["Action"]]
                resources = statement["Resource"] if isinstance(statement["Resource"], list) \
                    else [statement["Resource"]]
                if statement["Effect"] == "Allow" and action in actions and any(
                        fnmatch.fnmatchcase(resource, pattern) for pattern in resources):
                    return True
        return False


def transform(transformer: dict, event: dict) -> dict:
    """EventBridge's input transformer: JSON paths into the template's placeholders."""
    text = transformer["InputTemplate"]
    for name, path in transformer["InputPathsMap"].items():
        value = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        text = text.replace(f"<{name}>", json.dumps(value))
    return json.loads(text)


@pytest.fixture
def stack(assembly, local_stack):
    return local_stack(assembly, STACK_ID)


def test_every_container_runs_a_role_the_image_has(stack, sample_app):
    roles = sample_app("__main__").ROLES
    commands = {task: Container(stack, task).command for task in
                ("Web", "Worker", "ProcessUpload", "Prune")}
    assert commands["Web"] == []  # the image's default command: web
    assert {task: c[0] for task, c in commands.items() if c} == {
        "Worker": "worker", "ProcessUpload": "process-upload", "Prune": "prune"}
    assert all(c[0] in roles for c in commands.values() if c)


def test_a_job_goes_from_the_web_task_through_the_queue_to_the_worker_and_back(
        stack, sample_app, monkeypatch, tmp_path):
    web, worker = Container(stack, "Web"), Container(stack, "Worker")
    queue_url = web.environment["QUEUE_URL"]
    queue_arn = stack.get_att(stack.logical_id("Jobs", "AWS::SQS::Queue"), "Arn")
    assert web.allows("sqs:SendMessage", queue_arn)
    assert worker.allows("sqs:ReceiveMessage", queue_arn)
    assert worker.allows("sqs:DeleteMessage", queue_arn)
    shared = tmp_path / "efs"

    web.apply(monkeypatch, shared)
    status, body = sample_app("web").route(
        "POST", "/jobs", json.dumps({"text": "wired from the template"}).encode(),
        "application/json")
    assert status == 202
    job_id = body["job_id"]
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"  # the queue the template created

    worker.apply(monkeypatch, shared)
    assert sample_app("worker").poll_once(wait_seconds=0) == (1, 0)

    web.apply(monkeypatch, shared)
    status, result = sample_app("web").route("GET", f"/jobs/{job_id}")
    assert status == 200 and result["words"] == 4
    assert result["sha256"] == hashlib.sha256(b"wired from the template").hexdigest()


def test_an_upload_starts_the_task_with_the_key_from_the_rule_and_the_web_lists_it(
        stack, sample_app, monkeypatch, tmp_path):
    upload = Container(stack, "ProcessUpload")
    bucket = upload.environment["UPLOAD_BUCKET"]
    key = "reports/q1 summary.csv"
    data = b"region,total\nemea,42\n"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=data)  # the template's bucket
    assert upload.allows("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}")
    assert not upload.allows("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")

    rule = stack.properties(stack.logical_id("ProcessUploads/ObjectCreated", "AWS::Events::Rule"))
    event = {"source": "aws.s3", "detail-type": "Object Created",
             "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": len(data)}}}
    assert event["detail"]["bucket"]["name"] in rule["EventPattern"]["detail"]["bucket"]["name"]
    (target,) = rule["Targets"]
    assert target["EcsParameters"]["TaskDefinitionArn"] == stack.ref(upload.logical_id)
    (override,) = transform(target["InputTransformer"], event)["containerOverrides"]
    assert override["name"] == upload.definition["Name"]
    overrides = {e["name"]: e["value"] for e in override["environment"]}

    shared = tmp_path / "efs"
    upload.apply(monkeypatch, shared, overrides)
    assert sample_app("tasks").process_upload() == 0

    Container(stack, "Web").apply(monkeypatch, shared)
    status, body = sample_app("web").route("GET", "/uploads")
    assert status == 200
    assert [(u["key"], u["size"], u["sha256"]) for u in body["uploads"]] == [
        (key, len(data), hashlib.sha256(data).hexdigest())]


def test_the_scheduled_prune_task_keeps_recent_files_and_removes_old_ones(
        stack, sample_app, monkeypatch, tmp_path):
    prune = Container(stack, "Prune")
    schedule = stack.properties(stack.logical_id("PruneSharedFiles/Schedule",
                                                 "AWS::Scheduler::Schedule"))
    assert schedule["Target"]["EcsParameters"]["TaskDefinitionArn"] == stack.ref(prune.logical_id)
    days = int(prune.environment["RETENTION_DAYS"])
    shared = tmp_path / "efs"
    prune.apply(monkeypatch, shared)
    files = sample_app("shared")
    fresh = files.write_json("results", "fresh", {})
    stale = files.write_json("uploads", "stale", {})
    long_ago = time.time() - (days + 1) * 86400
    os.utime(stale, (long_ago, long_ago))
    assert sample_app("tasks").prune() == 0
    assert fresh.exists() and not stale.exists()


def test_the_web_task_cannot_write_shared_storage(stack):
    web = Container(stack, "Web")
    file_system = stack.get_att(stack.logical_id("SharedStorage/FileSystem",
                                                 "AWS::EFS::FileSystem"), "Arn")
    assert web.definition["MountPoints"][0]["ReadOnly"] is True
    assert not web.allows("elasticfilesystem:ClientWrite", file_system)
    assert Container(stack, "Worker").allows("elasticfilesystem:ClientWrite", file_system)


def test_the_port_the_app_listens_on_is_the_one_the_target_group_uses(stack):
    web = Container(stack, "Web")
    group = stack.properties(stack.logical_id("Web/LoadBalancer/Http/TasksGroup",
                                              "AWS::ElasticLoadBalancingV2::TargetGroup"))
    port = int(web.environment["PORT"])
    assert group["Port"] == port
    assert web.definition["PortMappings"][0]["ContainerPort"] == port
    assert re.fullmatch(group["HealthCheckPath"], "/health")
