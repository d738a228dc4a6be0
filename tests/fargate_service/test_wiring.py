"""Wiring: the sample app's code run with the environment, mounts, event inputs and IAM the
*synthesized template* gives each container, against moto resources built from that template.

The blueprint has no Lambda functions of its own (its code runs in containers), so instead of
`StackInMoto.function(...)` these tests read each task definition's container (environment,
command, mount point), the EventBridge rule's input transformer and the task roles, and drive
the realistic path: POST /jobs on the web task -> the worker task reads the queue the template
wires it to and writes the result to shared storage -> GET /jobs/<id> serves it; an object lands
in the upload bucket -> the rule's container override gives the process-upload task its key ->
GET /uploads lists the summary; the scheduled prune task cleans up.
Renaming QUEUE_URL / UPLOAD_BUCKET in the stack, the mount path, or the rule's override makes
these fail.

Each container's code runs with its task definition's task role (assumed through moto's STS, as
ECS hands it to the task) with moto enforcing that role's policies; the ECS agent's log calls run
as the execution role; the rule's and the schedule's roles are checked for starting the tasks
(moto's evaluator: moto runs no tasks). EFS's IAM authorization (ClientMount/ClientWrite with the
access-point condition) happens at mount time, outside any API moto serves: the last tests assert
it on the template.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time

import boto3
import pytest

from tests.fargate_service.conftest import STACK_ID
from tests.support.iam_enforcement import attempt, authorize, enforced
from tests.support.iam_statements import allows, as_list, resolved_statements

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
        self.task_definition = stack.resolve(
            {**raw, "ContainerDefinitions": [{k: v for k, v in container.items() if k != "Image"}]}
        )
        (self.definition,) = self.task_definition["ContainerDefinitions"]
        self.environment = {
            e["Name"]: str(e["Value"]) for e in self.definition.get("Environment", [])
        }
        self.command = self.definition.get("Command", [])

    @property
    def task_role(self):
        """Credentials of the task role, as ECS gives them to the task's containers."""
        return self.stack.role_credentials(self.stack.role_id(self.task_definition["TaskRoleArn"]))

    @property
    def execution_role(self):
        return self.stack.role_credentials(
            self.stack.role_id(self.task_definition["ExecutionRoleArn"])
        )

    def apply(self, monkeypatch, shared_dir, overrides: dict[str, str] | None = None) -> None:
        """The container's environment in os.environ, its EFS mount rebased onto `shared_dir`,
        and its task role's credentials (a fresh default boto3 session, as in a new container)."""
        (mount,) = self.definition["MountPoints"]
        assert self.environment["SHARED_DIR"] == mount["ContainerPath"], (
            "the app looks for shared storage where the task does not mount it"
        )
        for name in ("QUEUE_URL", "UPLOAD_BUCKET", "OBJECT_KEY", "RETENTION_DAYS", "PORT"):
            monkeypatch.delenv(name, raising=False)
        for name, value in {
            **self.environment,
            **(overrides or {}),
            **self.task_role.environment(),
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SHARED_DIR", str(shared_dir))
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)

    @contextlib.contextmanager
    def running(self, monkeypatch, shared_dir, overrides: dict[str, str] | None = None):
        """Inside: the container's environment and task role applied, moto enforcing IAM.
        Import the app's modules inside (their clients are made at import, as at start)."""
        self.apply(monkeypatch, shared_dir, overrides)
        with enforced():
            yield

    def allows(self, action: str, resource: str) -> bool:
        """Whether the task role's policies (as synthesized) allow `action` on `resource`
        (template level: for what no API call here exercises, such as EFS mounts)."""
        role = self.stack.names[self.stack.role_id(self.task_definition["TaskRoleArn"])]
        return allows(resolved_statements(self.stack, role), action, resource)

    def agent_writes_logs(self) -> list[str]:
        """The ECS agent's awslogs calls, made as the task's execution role."""
        options = self.definition["LogConfiguration"]["Options"]
        group = options["awslogs-group"]
        stream = f"{options['awslogs-stream-prefix']}/{self.definition['Name']}/0123456789abcdef"
        logs = self.execution_role.client("logs")
        with enforced():
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[{"timestamp": int(time.time() * 1000), "message": "started"}],
            )
        return ["logs:CreateLogStream", "logs:PutLogEvents"]


def starts_the_task_as_its_role(stack, target: dict, container: Container) -> None:
    """What EventBridge / EventBridge Scheduler do with the target's role to start the task:
    RunTask on the task definition, pass its two roles, tag the task (tags propagate), and, for
    the scheduler, park a failed start in the target's dead-letter queue."""
    role = stack.role_credentials(stack.role_id(target["RoleArn"]))
    cluster_name = target["Arn"].rsplit("/", 1)[-1]
    authorize(role, "ecs:RunTask", target["EcsParameters"]["TaskDefinitionArn"], "RunTask")
    for passed in ("TaskRoleArn", "ExecutionRoleArn"):
        authorize(role, "iam:PassRole", container.task_definition[passed], "RunTask")
    authorize(
        role,
        "ecs:TagResource",
        stack.arn("ecs", f"task/{cluster_name}/0123456789abcdef"),
        "TagResource",
    )


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
    commands = {
        task: Container(stack, task).command for task in ("Web", "Worker", "ProcessUpload", "Prune")
    }
    assert commands["Web"] == []  # the image's default command: web
    assert {task: c[0] for task, c in commands.items() if c} == {
        "Worker": "worker",
        "ProcessUpload": "process-upload",
        "Prune": "prune",
    }
    assert all(c[0] in roles for c in commands.values() if c)


def test_a_job_goes_from_the_web_task_through_the_queue_to_the_worker_and_back(
    stack, sample_app, monkeypatch, tmp_path
):
    web, worker = Container(stack, "Web"), Container(stack, "Worker")
    queue_url = web.environment["QUEUE_URL"]
    shared = tmp_path / "efs"

    with web.running(monkeypatch, shared):  # sends as the web task's role
        status, body = sample_app("web").route(
            "POST",
            "/jobs",
            json.dumps({"text": "wired from the template"}).encode(),
            "application/json",
        )
    assert status == 202
    job_id = body["job_id"]
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"  # the queue the template created

    with worker.running(monkeypatch, shared):  # receives and deletes as the worker's role
        assert sample_app("worker").poll_once(wait_seconds=0) == (1, 0)

    with web.running(monkeypatch, shared):
        status, result = sample_app("web").route("GET", f"/jobs/{job_id}")
    assert status == 200 and result["words"] == 4
    assert result["sha256"] == hashlib.sha256(b"wired from the template").hexdigest()


def test_an_upload_starts_the_task_with_the_key_from_the_rule_and_the_web_lists_it(
    stack, sample_app, monkeypatch, tmp_path
):
    upload = Container(stack, "ProcessUpload")
    bucket = upload.environment["UPLOAD_BUCKET"]
    key = "reports/q1 summary.csv"
    data = b"region,total\nemea,42\n"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=data)  # the template's bucket
    assert not upload.allows("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")  # read-only

    rule = stack.properties(stack.logical_id("ProcessUploads/ObjectCreated", "AWS::Events::Rule"))
    event = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": len(data)}},
    }
    assert event["detail"]["bucket"]["name"] in rule["EventPattern"]["detail"]["bucket"]["name"]
    (target,) = rule["Targets"]
    assert target["EcsParameters"]["TaskDefinitionArn"] == stack.ref(upload.logical_id)
    starts_the_task_as_its_role(stack, target, upload)
    (override,) = transform(target["InputTransformer"], event)["containerOverrides"]
    assert override["name"] == upload.definition["Name"]
    overrides = {e["name"]: e["value"] for e in override["environment"]}

    shared = tmp_path / "efs"
    with upload.running(monkeypatch, shared, overrides):  # reads the object as its task role
        assert sample_app("tasks").process_upload() == 0

    with Container(stack, "Web").running(monkeypatch, shared):
        status, body = sample_app("web").route("GET", "/uploads")
    assert status == 200
    assert [(u["key"], u["size"], u["sha256"]) for u in body["uploads"]] == [
        (key, len(data), hashlib.sha256(data).hexdigest())
    ]


def test_the_scheduled_prune_task_keeps_recent_files_and_removes_old_ones(
    stack, sample_app, monkeypatch, tmp_path
):
    prune = Container(stack, "Prune")
    schedule = stack.properties(
        stack.logical_id("PruneSharedFiles/Schedule", "AWS::Scheduler::Schedule")
    )
    assert schedule["Target"]["EcsParameters"]["TaskDefinitionArn"] == stack.ref(prune.logical_id)
    starts_the_task_as_its_role(stack, schedule["Target"], prune)
    days = int(prune.environment["RETENTION_DAYS"])
    shared = tmp_path / "efs"
    with prune.running(monkeypatch, shared):
        files = sample_app("shared")
        fresh = files.write_json("results", "fresh", {})
        stale = files.write_json("uploads", "stale", {})
        long_ago = time.time() - (days + 1) * 86400
        os.utime(stale, (long_ago, long_ago))
        assert sample_app("tasks").prune() == 0
    assert fresh.exists() and not stale.exists()


def test_the_web_task_cannot_write_shared_storage(stack):
    web = Container(stack, "Web")
    file_system = stack.get_att(
        stack.logical_id("SharedStorage/FileSystem", "AWS::EFS::FileSystem"), "Arn"
    )
    assert web.definition["MountPoints"][0]["ReadOnly"] is True
    assert not web.allows("elasticfilesystem:ClientWrite", file_system)
    assert Container(stack, "Worker").allows("elasticfilesystem:ClientWrite", file_system)


def test_the_port_the_app_listens_on_is_the_one_the_target_group_uses(stack):
    web = Container(stack, "Web")
    # Under the HTTPS listener with a domain, under the HTTP one without: the stack's only group.
    (group_id,) = [
        logical_id
        for logical_id, resource in stack.resources.items()
        if resource["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup"
    ]
    group = stack.properties(group_id)
    port = int(web.environment["PORT"])
    assert group["Port"] == port
    assert web.definition["PortMappings"][0]["ContainerPort"] == port
    assert re.fullmatch(group["HealthCheckPath"], "/health")


def test_the_ecs_agent_writes_each_tasks_logs_with_its_execution_role(stack):
    for task in ("Web", "Worker", "ProcessUpload", "Prune"):
        assert Container(stack, task).agent_writes_logs() == [
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        ], task


def test_the_scheduler_parks_a_failed_start_with_its_role(stack):
    schedule = stack.properties(
        stack.logical_id("PruneSharedFiles/Schedule", "AWS::Scheduler::Schedule")
    )
    role = stack.role_credentials(stack.role_id(schedule["Target"]["RoleArn"]))
    dead_letters = schedule["Target"]["DeadLetterConfig"]["Arn"]
    queue_url = boto3.client("sqs").get_queue_url(QueueName=dead_letters.rsplit(":", 1)[1])[
        "QueueUrl"
    ]
    with enforced():
        role.client("sqs").send_message(QueueUrl=queue_url, MessageBody="{}")


# -- one grant less: the path that needs it fails with AccessDenied --------------------------------


def test_without_send_message_the_web_task_cannot_queue_a_job(
    assembly, stack_without_grant, sample_app, monkeypatch, tmp_path
):
    stack = stack_without_grant(assembly, STACK_ID, "WebTask", "sqs:SendMessage")
    with Container(stack, "Web").running(monkeypatch, tmp_path / "efs"):
        posted = attempt(
            sample_app("web").route, "POST", "/jobs", b'{"text": "x"}', "application/json"
        )
    assert posted.failed or posted.result[0] >= 500
    assert posted.refused_actions == {"sqs:SendMessage"}


def test_without_get_object_the_upload_task_cannot_read_the_upload(
    assembly, stack_without_grant, sample_app, monkeypatch, tmp_path
):
    stack = stack_without_grant(assembly, STACK_ID, "ProcessUploadTask", "s3:GetObject")
    upload = Container(stack, "ProcessUpload")
    boto3.client("s3").put_object(
        Bucket=upload.environment["UPLOAD_BUCKET"], Key="a.csv", Body=b"x"
    )
    with upload.running(monkeypatch, tmp_path / "efs", {"OBJECT_KEY": "a.csv"}):
        processed = attempt(sample_app("tasks").process_upload)
    assert processed.result != 0 and processed.refused_actions == {"s3:GetObject"}


def test_conditions_moto_treats_as_met_name_this_stacks_access_point_and_cluster(stack):
    """moto does not evaluate identity-policy conditions: each task role may mount shared
    storage only through the access point its task's volume uses (with IAM authorization on),
    and the rule's role may run the task only on the cluster the rule targets."""
    for task in ("Web", "Worker", "ProcessUpload", "Prune"):
        container = Container(stack, task)
        (volume,) = container.task_definition["Volumes"]
        authorization = volume["EFSVolumeConfiguration"]["AuthorizationConfig"]
        assert authorization["IAM"] == "ENABLED"
        access_point = stack.arn(
            "elasticfilesystem", f"access-point/{authorization['AccessPointId']}"
        )
        role = stack.names[stack.role_id(container.task_definition["TaskRoleArn"])]
        efs = [
            s
            for s in resolved_statements(stack, role)
            if any(a.startswith("elasticfilesystem:") for a in as_list(s["Action"]))
        ]
        assert efs and all(
            s["Condition"] == {"StringEquals": {"elasticfilesystem:AccessPointArn": access_point}}
            for s in efs
        ), task
    rule = stack.properties(stack.logical_id("ProcessUploads/ObjectCreated", "AWS::Events::Rule"))
    (target,) = rule["Targets"]
    events_role = stack.names[stack.role_id(target["RoleArn"])]
    (run_task,) = [
        s for s in resolved_statements(stack, events_role) if "ecs:RunTask" in as_list(s["Action"])
    ]
    assert run_task["Condition"] == {"ArnEquals": {"ecs:cluster": target["Arn"]}}
