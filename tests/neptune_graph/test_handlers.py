"""Bulk-load and small-load handlers against botocore's Stubber (moto has no neptunedata)."""

from __future__ import annotations

import json

import pytest
from botocore.stub import ANY, Stubber

from tests.support.wiring import load_handler

BUCKET = "graph-staging-bucket"
ROLE = "arn:aws:iam::123456789012:role/NeptuneLoadRole"


@pytest.fixture
def neptune_env(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("CLUSTER_ENDPOINT", "graph.cluster-abc.eu-west-1.neptune.amazonaws.com")
    monkeypatch.setenv("CLUSTER_PORT", "8182")
    monkeypatch.setenv("STAGING_BUCKET", BUCKET)
    monkeypatch.setenv("LOAD_ROLE_ARN", ROLE)
    monkeypatch.setenv("MARKER_SUFFIX", ".ready")
    monkeypatch.setenv("AUTO_LOAD_FORMAT", "opencypher")


def stubbed(module_name):
    module = load_handler("neptune_data", module_name)
    with Stubber(module.client) as stubber:
        module.stubber = stubber
        yield module
        stubber.assert_no_pending_responses()


@pytest.fixture
def loader(neptune_env):
    yield from stubbed("loader")


@pytest.fixture
def query(neptune_env):
    yield from stubbed("query")


def started(load_id="load-1"):
    return {"status": "200 OK", "payload": {"loadId": load_id}}


def test_client_targets_the_cluster_endpoint_not_the_service_default(loader):
    assert loader.client.meta.endpoint_url == (
        "https://graph.cluster-abc.eu-west-1.neptune.amazonaws.com:8182")


def test_start_with_defaults_sends_safe_options(loader):
    loader.stubber.add_response("start_loader_job", started(), {
        "source": f"s3://{BUCKET}/graphs/fraud/", "format": "csv", "s3BucketRegion": "eu-west-1",
        "iamRoleArn": ROLE, "mode": "AUTO", "parallelism": "MEDIUM", "failOnError": True,
        "queueRequest": True, "updateSingleCardinalityProperties": False})
    result = loader.start_load({"source": f"s3://{BUCKET}/graphs/fraud/", "format": "csv"})
    assert result == {"loadId": "load-1", "source": f"s3://{BUCKET}/graphs/fraud/",
                      "format": "csv", "pollSeconds": 30}


def test_start_with_every_option_passes_them_through(loader):
    loader.stubber.add_response("start_loader_job", started("load-2"), {
        "source": f"s3://{BUCKET}/rdf/", "format": "turtle", "s3BucketRegion": "eu-west-1",
        "iamRoleArn": ROLE, "mode": "NEW", "parallelism": "OVERSUBSCRIBE", "failOnError": False,
        "queueRequest": False, "updateSingleCardinalityProperties": True,
        "parserConfiguration": {"baseUri": "http://example.org/", "namedGraphUri": "http://g/"}})
    result = loader.start_load({
        "source": f"s3://{BUCKET}/rdf/", "format": "turtle", "mode": "NEW",
        "parallelism": "OVERSUBSCRIBE", "failOnError": False, "queueRequest": False,
        "updateSingleCardinalityProperties": True, "pollSeconds": 120,
        "parserConfiguration": {"baseUri": "http://example.org/", "namedGraphUri": "http://g/"}})
    assert result["loadId"] == "load-2" and result["pollSeconds"] == 120


def test_marker_event_loads_the_folder_named_by_the_marker(loader):
    loader.stubber.add_response("start_loader_job", started(), {
        "source": f"s3://{BUCKET}/incoming/batch-42/", "format": "opencypher",
        "s3BucketRegion": "eu-west-1", "iamRoleArn": ROLE, "mode": ANY, "parallelism": ANY,
        "failOnError": ANY, "queueRequest": ANY, "updateSingleCardinalityProperties": ANY})
    result = loader.start_load({"marker": {"bucket": BUCKET, "key": "incoming/batch-42.ready"}})
    assert result["source"] == f"s3://{BUCKET}/incoming/batch-42/"


@pytest.mark.parametrize("event, complaint", [
    ({"format": "csv"}, "'source' is required"),
    ({"source": f"s3://{BUCKET}/x/", "format": "graphml"}, "'format' is 'graphml'"),
    ({"source": f"s3://{BUCKET}/x/"}, "'format' is None"),
    ({"source": "s3://someone-elses-bucket/x/", "format": "csv"}, "not the staging bucket"),
    ({"source": f"https://{BUCKET}.s3.amazonaws.com/x/", "format": "csv"}, "must be an s3:// URI"),
    ({"source": f"s3://{BUCKET}/x/", "format": "csv", "mode": "FAST"}, "'mode' is 'FAST'"),
    ({"source": f"s3://{BUCKET}/x/", "format": "csv", "failOnError": "yes"}, "true or false"),
    ({"source": f"s3://{BUCKET}/x/", "format": "csv", "pollSeconds": 1}, "'pollSeconds'"),
    ({"source": f"s3://{BUCKET}/x/", "format": "csv", "parserConfiguration": {"x": "y"}},
     "'parserConfiguration'"),
    ({"source": f"s3://{BUCKET}/x/", "format": "csv", "iamRoleArn": "arn:aws:iam::1:role/x"},
     "unknown option"),
    ({"marker": {"bucket": "other", "key": "incoming/a.ready"}}, "not the staging bucket"),
    ({"marker": {"bucket": BUCKET, "key": "incoming/a.csv"}}, "does not end with '.ready'"),
    ({"marker": {"bucket": BUCKET, "key": "a.ready"}, "source": f"s3://{BUCKET}/"}, "not both"),
    ("s3://bucket/x", "must be a JSON object"),
])
def test_bad_events_fail_clearly_before_any_api_call(loader, event, complaint):
    with pytest.raises(loader.InvalidRequest, match=complaint.replace("(", r"\(")):
        loader.start_load(event)
    # Stubber has no queued responses: any API call would have raised StubResponseError.


@pytest.mark.parametrize("code, retryable", [
    ("TooManyRequestsException", True),
    ("ThrottlingException", True),
    ("InternalFailureException", True),
    ("LoadUrlAccessDeniedException", False),
    ("BadRequestException", False),
    ("AccessDeniedException", False),
    ("InvalidParameterException", False),
])
def test_api_errors_become_retryable_or_final(loader, code, retryable):
    loader.stubber.add_client_error("start_loader_job", service_error_code=code,
                                    service_message=f"{code} from Neptune")
    expected = loader.NeptuneBusy if retryable else loader.NeptuneRejected
    with pytest.raises(expected, match=code) as caught:
        loader.start_load({"source": f"s3://{BUCKET}/x/", "format": "csv"})
    assert isinstance(caught.value, loader.NeptuneRejected) is not retryable


def status_response(status, errors=()):
    return {"status": "200 OK", "payload": {
        "overallStatus": {"status": status, "totalRecords": 520, "parsingErrors": len(errors),
                          "datatypeMismatchErrors": 0, "insertErrors": 0},
        "errors": {"errorLogs": list(errors)}}}


@pytest.mark.parametrize("status", ["LOAD_NOT_STARTED", "LOAD_IN_QUEUE", "LOAD_IN_PROGRESS"])
def test_status_in_progress_keeps_polling(loader, status):
    loader.stubber.add_response("get_loader_job_status", status_response(status), {
        "loadId": "load-1", "details": True, "errors": True, "errorsPerPage": 5})
    assert loader.load_status({"loadId": "load-1"}) == {
        "loadId": "load-1", "status": status, "done": False, "succeeded": False, "cause": ""}


def test_status_completed_succeeds(loader):
    loader.stubber.add_response("get_loader_job_status", status_response("LOAD_COMPLETED"))
    result = loader.load_status({"loadId": "load-1"})
    assert result["done"] and result["succeeded"] and result["cause"] == ""


def test_status_failed_reports_status_and_first_errors(loader):
    errors = [{"errorCode": "PARSING_ERROR", "errorMessage": f"bad row {n}",
               "fileName": "s3://b/v.csv", "recordNum": n} for n in range(8)]
    loader.stubber.add_response("get_loader_job_status",
                                status_response("LOAD_FAILED", errors))
    result = loader.load_status({"loadId": "load-1"})
    assert result["done"] and not result["succeeded"] and result["status"] == "LOAD_FAILED"
    cause = json.loads(result["cause"])
    assert cause["status"] == "LOAD_FAILED" and cause["counts"]["parsingErrors"] == 8
    assert [e["recordNum"] for e in cause["firstErrors"]] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("status", ["LOAD_CANCELLED_BY_USER", "LOAD_CANCELLED_DUE_TO_ERRORS",
                                    "LOAD_S3_ACCESS_DENIED_ERROR", "LOAD_COMMITTED_W_WRITE_CONFLICTS"])
def test_every_other_terminal_status_fails(loader, status):
    loader.stubber.add_response("get_loader_job_status", status_response(status))
    result = loader.load_status({"loadId": "load-1"})
    assert result["done"] and not result["succeeded"]
    assert json.loads(result["cause"])["status"] == status


def test_status_throttled_is_retryable(loader):
    loader.stubber.add_client_error("get_loader_job_status",
                                    service_error_code="TooManyRequestsException")
    with pytest.raises(loader.NeptuneBusy):
        loader.load_status({"loadId": "load-1"})


def test_status_without_load_id_is_rejected(loader):
    with pytest.raises(loader.InvalidRequest):
        loader.load_status({})


def test_small_load_sends_parameters_separately(query):
    query.stubber.add_response("execute_open_cypher_query", {"results": [{"p.id": "p-1"}]}, {
        "openCypherQuery": "MERGE (p:Person {id: $id}) RETURN p.id",
        "parameters": json.dumps({"id": "p-1"})})
    assert query.handler({"query": "MERGE (p:Person {id: $id}) RETURN p.id",
                          "parameters": {"id": "p-1"}}) == {"results": [{"p.id": "p-1"}]}


@pytest.mark.parametrize("event, complaint", [
    ({}, "'query' is required"),
    ({"query": "   "}, "'query' is required"),
    ({"query": "RETURN 1", "parameters": ["x"]}, "'parameters' must be an object"),
    ({"query": "RETURN 1", "limit": 5}, "unknown field"),
    ({"query": "MERGE (n {x: $x})" + " " * 70_000}, "longer than"),
])
def test_small_load_bad_input_is_rejected_before_any_call(query, event, complaint):
    with pytest.raises(query.InvalidRequest, match=complaint):
        query.handler(event)


def test_small_load_malformed_query_is_final(query):
    query.stubber.add_client_error("execute_open_cypher_query",
                                   service_error_code="MalformedQueryException")
    with pytest.raises(query.NeptuneRejected, match="MalformedQueryException"):
        query.handler({"query": "MERGE (", "parameters": {}})
