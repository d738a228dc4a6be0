"""NeptuneGraph smoke: a small load (the small-load function writes a vertex with one
openCypher statement and reads it back) and a bulk load (a one-line CSV staged in the bucket,
loaded by the state machine, read back). The cluster has no path from outside its VPC, so the
smoke reaches it only through the stack's own functions. Every vertex it wrote, the staged CSV
(all versions) and a still-running execution are removed at the end.
"""

from __future__ import annotations

import json

from deployment.smoke_support import Smoke, StepFailed, delete_object_versions

LABEL = "SmokeTest"
# The loader polls Neptune every pollSeconds (min 5); a one-line load finishes in a few polls.
BULK_POLL_SECONDS = 5
EXECUTION_POLL = 5.0
# Invoke waits for the function, whose Neptune client waits up to 60 s per read.
INVOKE_READ_TIMEOUT = 75.0
FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def vertices_csv(vertex_id: str, run: str) -> bytes:
    """One vertex in Neptune's Gremlin load format."""
    return f"~id,~label,run:String\n{vertex_id},{LABEL},{run}\n".encode()


def smoke(smoke: Smoke) -> None:
    run = smoke.run_id
    small_id, bulk_id = f"smoke-{run}-small", f"smoke-{run}-bulk"
    prefix = f"smoke/{run}/"
    state: dict = {"vertices": []}
    neptune = {
        "lambda-runs": "the small-load function runs the query",
        "neptune": "the function queries the cluster",
    }

    def query(statement: str, **parameters) -> list:
        response = smoke.client("lambda", read_timeout=INVOKE_READ_TIMEOUT).invoke(
            FunctionName=smoke.output("SmallLoadFunctionName"),
            Payload=json.dumps({"query": statement, "parameters": parameters}).encode(),
        )
        payload = response["Payload"].read()
        try:
            answer = json.loads(payload or b"null")
        except json.JSONDecodeError:
            answer = payload[:200]
        if response.get("FunctionError"):
            if isinstance(answer, dict):
                answer = f"{answer.get('errorType')}: {answer.get('errorMessage')}"
            raise StepFailed(f"the small-load function failed: {answer}")
        if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
            raise StepFailed(f"the small-load function answered {answer!r:.200}")
        return answer["results"]

    def owe_vertex_cleanup(vertex_id: str) -> None:
        if not state["vertices"]:
            smoke.cleanup("delete-test-vertices", delete_vertices)
        state["vertices"].append(vertex_id)

    def read_back(vertex_id: str) -> str:
        rows = query(f"MATCH (n:{LABEL}) WHERE id(n) = $id RETURN n.run AS run", id=vertex_id)
        if rows != [{"run": run}]:
            raise StepFailed(
                f"reading {vertex_id} back gave {rows!r:.200}, expected [{{'run': {run!r}}}]"
            )
        return f"{vertex_id} read back"

    def small_write() -> str:
        owe_vertex_cleanup(small_id)
        rows = query(
            f"MERGE (n:{LABEL} {{`~id`: $id}}) SET n.run = $run RETURN id(n) AS id",
            id=small_id,
            run=run,
        )
        if rows != [{"id": small_id}]:
            raise StepFailed(f"the write returned {rows!r:.200}, expected [{{'id': {small_id!r}}}]")
        return f"MERGE {small_id}"

    def stage_csv() -> str:
        bucket = smoke.output("StagingBucketName")
        smoke.cleanup("delete-staged-csv", lambda: delete_staged(bucket))
        smoke.client("s3").put_object(
            Bucket=bucket,
            Key=f"{prefix}vertices.csv",
            Body=vertices_csv(bulk_id, run),
            ContentType="text/csv",
        )
        return f"s3://{bucket}/{prefix}vertices.csv"

    def bulk_load() -> str:
        bucket = smoke.output("StagingBucketName")
        sfn = smoke.client("stepfunctions")
        owe_vertex_cleanup(bulk_id)
        execution = sfn.start_execution(
            stateMachineArn=smoke.output("BulkLoadStateMachineArn"),
            name=f"smoke-{run}",
            input=json.dumps(
                {
                    "source": f"s3://{bucket}/{prefix}",
                    "format": "csv",
                    "pollSeconds": BULK_POLL_SECONDS,
                }
            ),
        )["executionArn"]
        state["execution"] = execution
        smoke.cleanup("stop-bulk-load", stop_execution)

        def finished():
            described = smoke.client("stepfunctions").describe_execution(executionArn=execution)
            return described if described["status"] in FINISHED else None

        described = smoke.poll(f"execution {execution}", finished, interval=EXECUTION_POLL)
        if described["status"] != "SUCCEEDED":
            raise StepFailed(
                f"execution {described['status']}: {described.get('error')}: "
                f"{str(described.get('cause'))[:300]}"
            )
        return f"execution {execution.rsplit(':', 1)[-1]} SUCCEEDED"

    def stop_execution() -> str:
        sfn = smoke.client("stepfunctions")
        status = sfn.describe_execution(executionArn=state["execution"])["status"]
        if status != "RUNNING":
            return f"execution already {status}"
        sfn.stop_execution(
            executionArn=state["execution"],
            error="SmokeTimeout",
            cause="the smoke test ran out of time",
        )
        return "execution stopped"

    def delete_vertices() -> str:
        query(f"MATCH (n:{LABEL}) WHERE id(n) IN $ids DETACH DELETE n", ids=state["vertices"])
        return f"{', '.join(state['vertices'])} deleted"

    def delete_staged(bucket: str) -> str:
        count = delete_object_versions(smoke.client("s3"), bucket, prefix)
        return f"{count} object version(s) under s3://{bucket}/{prefix} deleted"

    smoke.step("small-load-write", small_write, uses=["SmallLoadFunctionName"], needs=neptune)
    smoke.step(
        "small-load-read", lambda: read_back(small_id), needs=neptune, after=["small-load-write"]
    )
    smoke.step("stage-csv", stage_csv, uses=["StagingBucketName"])
    smoke.step(
        "bulk-load",
        bulk_load,
        uses=["BulkLoadStateMachineArn", "SmallLoadFunctionName"],
        after=["stage-csv"],
        needs={
            "sfn-runs": "the bulk-load state machine runs the load",
            "lambda-runs": "its StartLoad and LoadStatus functions run",
            "neptune": "the cluster's bulk loader reads the staging bucket",
        },
    )
    smoke.step("bulk-load-read", lambda: read_back(bulk_id), needs=neptune, after=["bulk-load"])
