"""NeptuneGraph wiring: the handlers run from their synthesized assets, with the environment and
the execution role the template gives them, against what the template says the cluster is
associated with.

The Neptune data API stays on botocore's Stubber (moto has no neptunedata); before the Stubber
answers, each call is authorized against the function's role with moto's policy evaluator
(neptune-db:StartLoaderJob, GetLoaderJobStatus, Read/WriteDataViaQuery on the cluster's resource
id: tests/support/iam_enforcement.py). S3, IAM, KMS and Step Functions names come from moto
resources built from the template. The state machine's role must be allowed to invoke each task's
function and the rule's role to start the state machine (same evaluator: moto runs neither).
"""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from tests.support.eventbridge import event_matches, rule_target_input, s3_object_created_event
from tests.support.iam_enforcement import attempt, authorize
from tests.support.lambda_service import LOG_STEPS, TRACING_STEPS, VPC_STEPS

STACK = "NeptuneGraph"


@pytest.fixture
def graph(assembly, local_stack):
    return local_stack(assembly, STACK)


def cluster_facts(graph) -> dict:
    """What the template associates with the cluster: load role, endpoint, staging bucket."""
    (cluster_id,) = graph.of_type("AWS::Neptune::DBCluster")
    cluster = graph.properties(cluster_id)
    (staging_id,) = [k for k in graph.of_type("AWS::S3::Bucket") if k.startswith("Staging")]
    return {
        "roles": [r["RoleArn"] for r in cluster["AssociatedRoles"]],
        "endpoint": graph.get_att(cluster_id, "Endpoint"),
        "port": str(cluster["DBPort"]),
        "bucket": graph.ref(staging_id),
    }


def start_request(facts: dict, graph, source: str, fmt: str) -> dict:
    return {
        "source": source,
        "format": fmt,
        "s3BucketRegion": graph.region,
        "iamRoleArn": facts["roles"][0],
        "mode": "AUTO",
        "parallelism": "MEDIUM",
        "failOnError": True,
        "queueRequest": True,
        "updateSingleCardinalityProperties": False,
    }


def test_start_load_uses_the_staging_bucket_region_and_role_the_cluster_has(graph):
    facts = cluster_facts(graph)
    assert len(facts["roles"]) == 1
    start = graph.function("BulkLoad/StartLoad")
    client = start.attribute("client")
    assert client.meta.endpoint_url == f"https://{facts['endpoint']}:{facts['port']}"
    source = f"s3://{facts['bucket']}/graphs/fraud/"
    with Stubber(client) as stub:
        stub.add_response(
            "start_loader_job",
            {"status": "200 OK", "payload": {"loadId": "L1"}},
            start_request(facts, graph, source, "csv"),
        )
        assert start.invoke({"source": source, "format": "csv"})["loadId"] == "L1"
        stub.assert_no_pending_responses()


def test_marker_upload_reaches_the_loader_through_the_rule_the_template_declares(graph):
    facts = cluster_facts(graph)
    (rule_id,) = graph.of_type("AWS::Events::Rule")
    rule = graph.properties(rule_id)
    (machine_id,) = graph.of_type("AWS::StepFunctions::StateMachine")
    event = s3_object_created_event(facts["bucket"], "incoming/batch-7.ready", graph.region)
    assert event_matches(rule["EventPattern"], event)
    assert not event_matches(
        rule["EventPattern"],
        s3_object_created_event(facts["bucket"], "incoming/batch-7/vertices.csv", graph.region),
    ), "data files must not trigger"
    (target,) = rule["Targets"]
    assert target["Arn"] == graph.ref(machine_id)
    # EventBridge starts the execution as the target's role.
    authorize(
        graph.role_credentials(graph.role_id(target["RoleArn"])),
        "states:StartExecution",
        target["Arn"],
        "StartExecution",
    )
    execution_input = rule_target_input(target, event)

    start = graph.function("BulkLoad/StartLoad")
    with Stubber(start.attribute("client")) as stub:
        stub.add_response(
            "start_loader_job",
            {"status": "200 OK", "payload": {"loadId": "L2"}},
            start_request(facts, graph, f"s3://{facts['bucket']}/incoming/batch-7/", "csv"),
        )
        assert start.invoke(execution_input)["loadId"] == "L2"


def test_state_machine_calls_these_functions_and_reads_the_fields_they_return(graph):
    """Walk the synthesized definition with the real handlers: Start -> Wait -> Status -> Choice."""
    facts = cluster_facts(graph)
    (machine_id,) = graph.of_type("AWS::StepFunctions::StateMachine")
    definition = json.loads(graph.properties(machine_id)["DefinitionString"])
    states = definition["States"]
    start, status = graph.function("BulkLoad/StartLoad"), graph.function("BulkLoad/LoadStatus")
    first = states[definition["StartAt"]]
    assert first["Resource"] == graph.get_att(start.logical_id, "Arn")
    # Step Functions invokes each task's function as the state machine's role.
    workflow = graph.role_credentials(graph.role_id(graph.properties(machine_id)["RoleArn"]))
    authorize(workflow, "lambda:InvokeFunction", first["Resource"], "Invoke")
    document = {"source": f"s3://{facts['bucket']}/graphs/fraud/", "format": "csv"}

    with Stubber(start.attribute("client")) as stub:
        stub.add_response("start_loader_job", {"status": "200 OK", "payload": {"loadId": "L3"}})
        document[first["ResultPath"].removeprefix("$.")] = start.invoke(document)
    wait = states[first["Next"]]
    assert document["load"][wait["SecondsPath"].removeprefix("$.load.")] == 30
    poll = states[wait["Next"]]
    assert poll["Resource"] == graph.get_att(status.logical_id, "Arn")
    authorize(workflow, "lambda:InvokeFunction", poll["Resource"], "Invoke")
    payload = {
        k.removesuffix(".$"): document["load"][v.removeprefix("$.load.")]
        for k, v in poll["Parameters"].items()
    }
    for loader_status, expected_next in (
        ("LOAD_IN_PROGRESS", wait),
        ("LOAD_COMPLETED", states["Loaded"]),
        ("LOAD_FAILED", states["Load failed"]),
    ):
        with Stubber(status.attribute("client")) as stub:
            stub.add_response(
                "get_loader_job_status",
                {
                    "status": "200 OK",
                    "payload": {
                        "overallStatus": {"status": loader_status},
                        "errors": {"errorLogs": []},
                    },
                },
            )
            document[poll["ResultPath"].removeprefix("$.")] = status.invoke(payload)
        assert states[_choose(states[poll["Next"]], document)] is expected_next, loader_status
    failed = states["Load failed"]
    assert document["status"][failed["ErrorPath"].removeprefix("$.status.")] == "LOAD_FAILED"
    assert (
        json.loads(document["status"][failed["CausePath"].removeprefix("$.status.")])["status"]
        == "LOAD_FAILED"
    )


def _choose(choice: dict, document: dict) -> str:
    def read(path: str):
        value = document
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        return value

    for rule in choice["Choices"]:
        if "BooleanEquals" in rule and read(rule["Variable"]) is rule["BooleanEquals"]:
            return rule["Next"]
        if "StringEquals" in rule and read(rule["Variable"]) == rule["StringEquals"]:
            return rule["Next"]
    return choice["Default"]


def test_small_load_function_talks_to_the_cluster_endpoint(graph):
    facts = cluster_facts(graph)
    query = graph.function("SmallLoads/Function")
    assert (
        query.attribute("client").meta.endpoint_url
        == f"https://{facts['endpoint']}:{facts['port']}"
    )
    with Stubber(query.attribute("client")) as stub:
        stub.add_response(
            "execute_open_cypher_query",
            {"results": []},
            {
                "openCypherQuery": "MERGE (a:Account {id: $id})",
                "parameters": json.dumps({"id": "account-900"}),
            },
        )
        assert query.invoke(
            {"query": "MERGE (a:Account {id: $id})", "parameters": {"id": "account-900"}}
        ) == {"results": []}


def test_lambda_itself_does_its_part_with_each_function_role(graph):
    """Logs, the network interfaces in the isolated subnets, and the small-loads function's
    dead-letter queue: all made by Lambda with each function's execution role."""
    expected = {}
    for path in ("BulkLoad/StartLoad", "BulkLoad/LoadStatus", "SmallLoads/Function"):
        function = graph.function(path)
        assert function.in_vpc, path
        expected[path] = (
            LOG_STEPS
            + (TRACING_STEPS if function.traced else [])
            + VPC_STEPS
            + (["sqs:SendMessage (dead-letter target)"] if path.startswith("SmallLoads") else [])
        )
        assert function.lambda_service_calls() == expected[path], path


# -- one grant less: the path that needs it fails with AccessDenied --------------------------------


def test_without_start_loader_job_the_load_is_rejected_not_retried(assembly, stack_without_grant):
    graph = stack_without_grant(assembly, STACK, "BulkLoad/StartLoad", "neptune-db:StartLoaderJob")
    facts = cluster_facts(graph)
    start = graph.function("BulkLoad/StartLoad")
    with Stubber(start.attribute("client")) as stub:
        stub.add_response("start_loader_job", {"status": "200 OK", "payload": {"loadId": "L9"}})
        started = attempt(
            start.invoke, {"source": f"s3://{facts['bucket']}/graphs/", "format": "csv"}
        )
    assert type(started.error).__name__ == "NeptuneRejected"  # Step Functions does not retry it
    assert started.refused_actions == {"neptune-db:StartLoaderJob"}
