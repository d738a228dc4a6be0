"""The NeptuneGraph smoke: moto's S3 (and Step Functions, whose executions never finish there),
a Stubber for Lambda Invoke (moto cannot run the small-load function) and for Step Functions
where an execution must succeed or fail."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody

from deployment.smoke_neptune import vertices_csv
from tests.support.smoke_fakes import (
    RUN_ID,
    SteppedClock,
    StubbedSession,
    fixed_run_id,  # noqa: F401 (fixtures)
    run,
    statuses,
)

BUCKET, FUNCTION = "neptunegraph-dev-staging", "NeptuneGraph-dev-SmallLoads"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:BulkLoad"
EXECUTION = f"arn:aws:states:us-east-1:123456789012:execution:BulkLoad:smoke-{RUN_ID}"
SMALL, BULK = f"smoke-{RUN_ID}-small", f"smoke-{RUN_ID}-bulk"
WRITE = "MERGE (n:SmokeTest {`~id`: $id}) SET n.run = $run RETURN id(n) AS id"
READ = "MATCH (n:SmokeTest) WHERE id(n) = $id RETURN n.run AS run"
DELETE = "MATCH (n:SmokeTest) WHERE id(n) IN $ids DETACH DELETE n"


def payload(document) -> StreamingBody:
    data = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(data), len(data))


def expect_query(session, statement, parameters, answer, *, error: bool = False) -> None:
    response = {"StatusCode": 200, "Payload": payload(answer)}
    if error:
        response["FunctionError"] = "Unhandled"
    session.stub("lambda").add_response(
        "invoke",
        response,
        {
            "FunctionName": FUNCTION,
            "Payload": json.dumps({"query": statement, "parameters": parameters}).encode(),
        },
    )


@pytest.fixture
def graph(aws, fixed_run_id):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    outputs = {
        "SmallLoadFunctionName": FUNCTION,
        "StagingBucketName": BUCKET,
        "BulkLoadStateMachineArn": MACHINE,
        "ClusterEndpoint": "graph.cluster.example",
    }
    return {"outputs": outputs, "s3": s3}


def assert_staging_empty(graph) -> None:
    listed = graph["s3"].list_object_versions(Bucket=BUCKET)
    assert not listed.get("Versions") and not listed.get("DeleteMarkers"), listed


def expect_execution(session, *statuses_seen: str, cause: str | None = None) -> None:
    stub = session.stub("stepfunctions")
    stub.add_response(
        "start_execution",
        {"executionArn": EXECUTION, "startDate": 0},
        {
            "stateMachineArn": MACHINE,
            "name": f"smoke-{RUN_ID}",
            "input": json.dumps(
                {"source": f"s3://{BUCKET}/smoke/{RUN_ID}/", "format": "csv", "pollSeconds": 5}
            ),
        },
    )
    for status in statuses_seen:
        described = {
            "executionArn": EXECUTION,
            "stateMachineArn": MACHINE,
            "status": status,
            "startDate": 0,
        }
        if cause:
            described.update(error="LOAD_FAILED", cause=cause)
        stub.add_response("describe_execution", described, {"executionArn": EXECUTION})


def test_small_and_bulk_loads_pass_and_every_vertex_and_file_is_removed(graph):
    session = StubbedSession(services=("lambda", "stepfunctions"))
    expect_query(session, WRITE, {"id": SMALL, "run": RUN_ID}, {"results": [{"id": SMALL}]})
    expect_query(session, READ, {"id": SMALL}, {"results": [{"run": RUN_ID}]})
    expect_execution(session, "RUNNING", "RUNNING", "SUCCEEDED", "SUCCEEDED")
    expect_query(session, READ, {"id": BULK}, {"results": [{"run": RUN_ID}]})
    expect_query(session, DELETE, {"ids": [SMALL, BULK]}, {"results": []})
    seen = {}

    def sleep(_seconds):  # the CSV the bulk loader is given, while the execution runs
        seen["csv"] = (
            graph["s3"].get_object(Bucket=BUCKET, Key=f"smoke/{RUN_ID}/vertices.csv")["Body"].read()
        )

    results, lines, _ = run("NeptuneGraph", graph["outputs"], session=session, sleep=sleep)
    assert statuses(results) == {
        "small-load-write": "PASS",
        "small-load-read": "PASS",
        "stage-csv": "PASS",
        "bulk-load": "PASS",
        "bulk-load-read": "PASS",
        "cleanup:stop-bulk-load": "PASS",
        "cleanup:delete-staged-csv": "PASS",
        "cleanup:delete-test-vertices": "PASS",
    }, "\n".join(lines)
    assert results["cleanup:stop-bulk-load"].detail == "execution already SUCCEEDED"
    assert (
        seen["csv"]
        == vertices_csv(BULK, RUN_ID)
        == (f"~id,~label,run:String\n{BULK},SmokeTest,{RUN_ID}\n".encode())
    )
    session.assert_all_called()
    assert_staging_empty(graph)


def test_a_failing_function_fails_the_step_and_the_vertex_is_still_deleted(graph):
    session = StubbedSession(services=("lambda",))
    expect_query(
        session,
        WRITE,
        {"id": SMALL, "run": RUN_ID},
        {"errorType": "NeptuneRejected", "errorMessage": "AccessDeniedException: no"},
        error=True,
    )
    expect_query(session, DELETE, {"ids": [SMALL]}, {"results": []})
    results, lines, _ = run("NeptuneGraph", graph["outputs"], session=session, skip={"sfn-runs"})
    assert results["small-load-write"].line == (
        "FAIL small-load-write: the small-load function failed: NeptuneRejected: "
        "AccessDeniedException: no"
    )
    assert results["small-load-read"].status == "SKIP"
    assert results["cleanup:delete-test-vertices"].status == "PASS", lines
    session.assert_all_called()


def test_a_wrong_read_back_fails(graph):
    session = StubbedSession(services=("lambda",))
    expect_query(session, WRITE, {"id": SMALL, "run": RUN_ID}, {"results": [{"id": SMALL}]})
    expect_query(session, READ, {"id": SMALL}, {"results": []})
    expect_query(session, DELETE, {"ids": [SMALL]}, {"results": []})
    results, _, _ = run("NeptuneGraph", graph["outputs"], session=session, skip={"sfn-runs"})
    assert results["small-load-read"].status == "FAIL"
    assert f"reading {SMALL} back gave []" in results["small-load-read"].detail


def test_a_failed_load_fails_with_the_loaders_reason(graph):
    session = StubbedSession(services=("lambda", "stepfunctions"))
    expect_query(session, WRITE, {"id": SMALL, "run": RUN_ID}, {"results": [{"id": SMALL}]})
    expect_query(session, READ, {"id": SMALL}, {"results": [{"run": RUN_ID}]})
    expect_execution(session, "FAILED", "FAILED", cause='{"errors": ["FROM_OR_TO_VERTEX..."]}')
    expect_query(session, DELETE, {"ids": [SMALL, BULK]}, {"results": []})
    results, lines, _ = run("NeptuneGraph", graph["outputs"], session=session)
    assert results["bulk-load"].detail.startswith("execution FAILED: LOAD_FAILED:"), lines
    assert results["bulk-load-read"].line == (
        "SKIP bulk-load-read: needs bulk-load (that step failed)"
    )
    assert_staging_empty(graph)


def test_a_load_that_never_finishes_fails_in_time_and_its_execution_is_stopped(graph):
    """moto's executions stay RUNNING for ever: the smoke must give up and stop it."""
    sfn = boto3.client("stepfunctions")
    role = "arn:aws:iam::123456789012:role/BulkLoadRole"
    machine = sfn.create_state_machine(
        name="BulkLoad",
        roleArn=role,
        definition=json.dumps(
            {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 1, "End": True}}}
        ),
    )["stateMachineArn"]
    session = StubbedSession(services=("lambda",))
    expect_query(session, WRITE, {"id": SMALL, "run": RUN_ID}, {"results": [{"id": SMALL}]})
    expect_query(session, READ, {"id": SMALL}, {"results": [{"run": RUN_ID}]})
    expect_query(session, DELETE, {"ids": [SMALL, BULK]}, {"results": []})
    results, lines, seconds = run(
        "NeptuneGraph",
        {**graph["outputs"], "BulkLoadStateMachineArn": machine},
        session=session,
        timeout=60,
        clock=SteppedClock(),
    )
    assert results["bulk-load"].status == "FAIL", lines
    assert "still not after" in results["bulk-load"].detail
    assert results["cleanup:stop-bulk-load"].detail == "execution stopped"
    execution = sfn.list_executions(stateMachineArn=machine)["executions"][0]
    assert execution["status"] == "ABORTED"
    assert 60 <= seconds < 60 + 60  # the deadline, then the clean-ups' grace at most
    assert_staging_empty(graph)
    session.assert_all_called()
