"""Bulk-load and small-load handlers against botocore's Stubber (moto has no neptunedata).

Each module is imported once with the stack's environment (tests/support/handlers.py); the tests
stub its cached client and patch `settings()` where they need other configuration, never
re-importing it. Each call passes a Lambda context, as Lambda does."""

from __future__ import annotations

import dataclasses
import json

import pytest
from botocore.stub import ANY, Stubber

from tests.support.wiring import LambdaContext, load_function

BUCKET = "graph-staging-bucket"
ROLE = "arn:aws:iam::123456789012:role/NeptuneLoadRole"


ENVIRONMENT = {
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "CLUSTER_ENDPOINT": "graph.cluster-abc.eu-west-1.neptune.amazonaws.com",
    "CLUSTER_PORT": "8182",
    "STAGING_BUCKET": BUCKET,
    "LOAD_ROLE_ARN": ROLE,
    "MARKER_SUFFIX": ".ready",
    "AUTO_LOAD_FORMAT": "opencypher",
}


@pytest.fixture
def neptune_env(monkeypatch):
    """Region and credentials for the client the first call makes (and signs with)."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


CONTEXT = LambdaContext("neptune-data", "eu-west-1")


def imported(module_name: str):
    return load_function("neptune_data", module_name, environment=ENVIRONMENT)


@pytest.fixture(scope="module")
def loader_module():
    return imported("loader")


@pytest.fixture(scope="module")
def query_module():
    return imported("query")


def stubbed(module, monkeypatch):
    with Stubber(module.client) as stubber:
        monkeypatch.setattr(module, "stubber", stubber, raising=False)
        yield module
        stubber.assert_no_pending_responses()


@pytest.fixture
def loader(neptune_env, loader_module, monkeypatch):
    yield from stubbed(loader_module, monkeypatch)


@pytest.fixture
def query(neptune_env, query_module, monkeypatch):
    yield from stubbed(query_module, monkeypatch)


def started(load_id="load-1"):
    return {"status": "200 OK", "payload": {"loadId": load_id}}


def test_client_targets_the_cluster_endpoint_not_the_service_default(loader):
    assert loader.client.meta.endpoint_url == (
        "https://graph.cluster-abc.eu-west-1.neptune.amazonaws.com:8182"
    )


def test_start_with_defaults_sends_safe_options(loader):
    loader.stubber.add_response(
        "start_loader_job",
        started(),
        {
            "source": f"s3://{BUCKET}/graphs/fraud/",
            "format": "csv",
            "s3BucketRegion": "eu-west-1",
            "iamRoleArn": ROLE,
            "mode": "AUTO",
            "parallelism": "MEDIUM",
            "failOnError": True,
            "queueRequest": True,
            "updateSingleCardinalityProperties": False,
        },
    )
    result = loader.start_load({"source": f"s3://{BUCKET}/graphs/fraud/", "format": "csv"}, CONTEXT)
    assert result == {
        "loadId": "load-1",
        "source": f"s3://{BUCKET}/graphs/fraud/",
        "format": "csv",
        "pollSeconds": 30,
    }


def test_start_with_every_option_passes_them_through(loader):
    loader.stubber.add_response(
        "start_loader_job",
        started("load-2"),
        {
            "source": f"s3://{BUCKET}/rdf/",
            "format": "turtle",
            "s3BucketRegion": "eu-west-1",
            "iamRoleArn": ROLE,
            "mode": "NEW",
            "parallelism": "OVERSUBSCRIBE",
            "failOnError": False,
            "queueRequest": False,
            "updateSingleCardinalityProperties": True,
            "parserConfiguration": {"baseUri": "http://example.org/", "namedGraphUri": "http://g/"},
        },
    )
    result = loader.start_load(
        {
            "source": f"s3://{BUCKET}/rdf/",
            "format": "turtle",
            "mode": "NEW",
            "parallelism": "OVERSUBSCRIBE",
            "failOnError": False,
            "queueRequest": False,
            "updateSingleCardinalityProperties": True,
            "pollSeconds": 120,
            "parserConfiguration": {"baseUri": "http://example.org/", "namedGraphUri": "http://g/"},
        },
        CONTEXT,
    )
    assert result["loadId"] == "load-2" and result["pollSeconds"] == 120


def test_marker_event_loads_the_folder_named_by_the_marker(loader):
    loader.stubber.add_response(
        "start_loader_job",
        started(),
        {
            "source": f"s3://{BUCKET}/incoming/batch-42/",
            "format": "opencypher",
            "s3BucketRegion": "eu-west-1",
            "iamRoleArn": ROLE,
            "mode": ANY,
            "parallelism": ANY,
            "failOnError": ANY,
            "queueRequest": ANY,
            "updateSingleCardinalityProperties": ANY,
        },
    )
    result = loader.start_load(
        {"marker": {"bucket": BUCKET, "key": "incoming/batch-42.ready"}}, CONTEXT
    )
    assert result["source"] == f"s3://{BUCKET}/incoming/batch-42/"


@pytest.mark.parametrize(
    "event, complaint",
    [
        ({"format": "csv"}, "'source' is required"),
        ({"source": f"s3://{BUCKET}/x/", "format": "graphml"}, "'format' is 'graphml'"),
        ({"source": f"s3://{BUCKET}/x/"}, "'format' is None"),
        ({"source": "s3://someone-elses-bucket/x/", "format": "csv"}, "not the staging bucket"),
        (
            {"source": f"https://{BUCKET}.s3.amazonaws.com/x/", "format": "csv"},
            "must be an s3:// URI",
        ),
        ({"source": f"s3://{BUCKET}/x/", "format": "csv", "mode": "FAST"}, "'mode' is 'FAST'"),
        ({"source": f"s3://{BUCKET}/x/", "format": "csv", "failOnError": "yes"}, "true or false"),
        ({"source": f"s3://{BUCKET}/x/", "format": "csv", "pollSeconds": 1}, "'pollSeconds'"),
        (
            {"source": f"s3://{BUCKET}/x/", "format": "csv", "parserConfiguration": {"x": "y"}},
            "'parserConfiguration'",
        ),
        (
            {"source": f"s3://{BUCKET}/x/", "format": "csv", "iamRoleArn": "arn:aws:iam::1:role/x"},
            "unknown option",
        ),
        ({"marker": {"bucket": "other", "key": "incoming/a.ready"}}, "not the staging bucket"),
        ({"marker": {"bucket": BUCKET, "key": "incoming/a.csv"}}, "does not end with '.ready'"),
        ({"marker": {"bucket": BUCKET, "key": "a.ready"}, "source": f"s3://{BUCKET}/"}, "not both"),
        ("s3://bucket/x", "must be a JSON object"),
    ],
)
def test_bad_events_fail_clearly_before_any_api_call(loader, event, complaint):
    with pytest.raises(loader.InvalidRequest, match=complaint.replace("(", r"\(")):
        loader.start_load(event, CONTEXT)
    # Stubber has no queued responses: any API call would have raised StubResponseError.


@pytest.mark.parametrize(
    "code, retryable",
    [
        ("TooManyRequestsException", True),
        ("ThrottlingException", True),
        ("InternalFailureException", True),
        ("LoadUrlAccessDeniedException", False),
        ("BadRequestException", False),
        ("AccessDeniedException", False),
        ("InvalidParameterException", False),
    ],
)
def test_api_errors_become_retryable_or_final(loader, code, retryable):
    loader.stubber.add_client_error(
        "start_loader_job", service_error_code=code, service_message=f"{code} from Neptune"
    )
    expected = loader.NeptuneBusy if retryable else loader.NeptuneRejected
    with pytest.raises(expected, match=code) as caught:
        loader.start_load({"source": f"s3://{BUCKET}/x/", "format": "csv"}, CONTEXT)
    assert isinstance(caught.value, loader.NeptuneRejected) is not retryable


def status_response(status, errors=()):
    return {
        "status": "200 OK",
        "payload": {
            "overallStatus": {
                "status": status,
                "totalRecords": 520,
                "parsingErrors": len(errors),
                "datatypeMismatchErrors": 0,
                "insertErrors": 0,
            },
            "errors": {"errorLogs": list(errors)},
        },
    }


@pytest.mark.parametrize("status", ["LOAD_NOT_STARTED", "LOAD_IN_QUEUE", "LOAD_IN_PROGRESS"])
def test_status_in_progress_keeps_polling(loader, status):
    loader.stubber.add_response(
        "get_loader_job_status",
        status_response(status),
        {"loadId": "load-1", "details": True, "errors": True, "errorsPerPage": 5},
    )
    assert loader.load_status({"loadId": "load-1"}, CONTEXT) == {
        "loadId": "load-1",
        "status": status,
        "done": False,
        "succeeded": False,
        "cause": "",
    }


def test_status_completed_succeeds(loader):
    loader.stubber.add_response("get_loader_job_status", status_response("LOAD_COMPLETED"))
    result = loader.load_status({"loadId": "load-1"}, CONTEXT)
    assert result["done"] and result["succeeded"] and result["cause"] == ""
    assert loader.logger.get_correlation_id() == "load-1"  # every log line names the load


def test_status_failed_reports_status_and_first_errors(loader):
    errors = [
        {
            "errorCode": "PARSING_ERROR",
            "errorMessage": f"bad row {n}",
            "fileName": "s3://b/v.csv",
            "recordNum": n,
        }
        for n in range(8)
    ]
    loader.stubber.add_response("get_loader_job_status", status_response("LOAD_FAILED", errors))
    result = loader.load_status({"loadId": "load-1"}, CONTEXT)
    assert result["done"] and not result["succeeded"] and result["status"] == "LOAD_FAILED"
    cause = json.loads(result["cause"])
    assert cause["status"] == "LOAD_FAILED" and cause["counts"]["parsingErrors"] == 8
    assert [e["recordNum"] for e in cause["firstErrors"]] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "status",
    [
        "LOAD_CANCELLED_BY_USER",
        "LOAD_CANCELLED_DUE_TO_ERRORS",
        "LOAD_S3_ACCESS_DENIED_ERROR",
        "LOAD_COMMITTED_W_WRITE_CONFLICTS",
    ],
)
def test_every_other_terminal_status_fails(loader, status):
    loader.stubber.add_response("get_loader_job_status", status_response(status))
    result = loader.load_status({"loadId": "load-1"}, CONTEXT)
    assert result["done"] and not result["succeeded"]
    assert json.loads(result["cause"])["status"] == status


def test_status_throttled_is_retryable(loader):
    loader.stubber.add_client_error(
        "get_loader_job_status", service_error_code="TooManyRequestsException"
    )
    with pytest.raises(loader.NeptuneBusy):
        loader.load_status({"loadId": "load-1"}, CONTEXT)


def test_status_without_load_id_is_rejected(loader):
    with pytest.raises(loader.InvalidRequest):
        loader.load_status({}, CONTEXT)


def test_small_load_sends_parameters_separately(query):
    query.stubber.add_response(
        "execute_open_cypher_query",
        {"results": [{"p.id": "p-1"}]},
        {
            "openCypherQuery": "MERGE (p:Person {id: $id}) RETURN p.id",
            "parameters": json.dumps({"id": "p-1"}),
        },
    )
    assert query.handler(
        {"query": "MERGE (p:Person {id: $id}) RETURN p.id", "parameters": {"id": "p-1"}}, CONTEXT
    ) == {"results": [{"p.id": "p-1"}]}


@pytest.mark.parametrize(
    "event, complaint",
    [
        ({}, "'query' is required"),
        ({"query": "   "}, "'query' is required"),
        ({"query": "RETURN 1", "parameters": ["x"]}, "'parameters' must be an object"),
        ({"query": "RETURN 1", "limit": 5}, "unknown field"),
        ({"query": "MERGE (n {x: $x})" + " " * 70_000}, "longer than"),
    ],
)
def test_small_load_bad_input_is_rejected_before_any_call(query, event, complaint):
    with pytest.raises(query.InvalidRequest, match=complaint):
        query.handler(event, CONTEXT)


def test_small_load_malformed_query_is_final(query):
    query.stubber.add_client_error(
        "execute_open_cypher_query", service_error_code="MalformedQueryException"
    )
    with pytest.raises(query.NeptuneRejected, match="MalformedQueryException"):
        query.handler({"query": "MERGE (", "parameters": {}}, CONTEXT)


# -- malformed events and botocore errors (issue 13) -------------------------------------------


@pytest.mark.parametrize(
    "code, status",
    [
        ("ServiceUnavailable", 503),  # the cluster restarting or failing over, behind its proxy
        ("502", 502),
        ("504", 504),  # a gateway's answer: no Neptune error code at all
        ("SlowDown", 429),
        ("QueryLimitExceededException", 500),  # Neptune: "retry when the system is less busy"
        ("CancelledByMaintenanceException", 500),
        ("ConstraintViolationException", 400),  # Neptune: transient under parallel writes
    ],
)
def test_unmodelled_5xx_and_neptunes_own_transient_errors_are_retryable(loader, code, status):
    loader.stubber.add_client_error(
        "start_loader_job", service_error_code=code, http_status_code=status
    )
    with pytest.raises(loader.NeptuneBusy):
        loader.start_load({"source": f"s3://{BUCKET}/x/", "format": "csv"}, CONTEXT)


@pytest.mark.parametrize(
    "code", ["CancelledByUserException", "FailureByQueryException", "TimeLimitExceededException"]
)
def test_a_5xx_that_says_why_retrying_cannot_help_stays_final(query, code):
    query.stubber.add_client_error(
        "execute_open_cypher_query", service_error_code=code, http_status_code=500
    )
    with pytest.raises(query.NeptuneRejected):
        query.handler({"query": "RETURN 1"}, CONTEXT)


def test_a_request_botocore_refuses_is_final_not_a_network_problem(loader, monkeypatch):
    from botocore.exceptions import ParamValidationError

    def refused(**_):
        raise ParamValidationError(report="Invalid length for parameter loadId")

    monkeypatch.setattr(loader.client, "get_loader_job_status", refused)
    with pytest.raises(loader.NeptuneRejected, match="Invalid length"):
        loader.load_status({"loadId": "load-1"}, CONTEXT)


@pytest.mark.parametrize(
    "error",
    ["ReadTimeoutError", "ConnectTimeoutError", "EndpointConnectionError", "ConnectionClosedError"],
)
def test_timeouts_and_lost_connections_are_retryable(query, monkeypatch, error):
    import botocore.exceptions

    def lost(**_):
        raise getattr(botocore.exceptions, error)(endpoint_url="https://graph:8182")

    monkeypatch.setattr(query.client, "execute_open_cypher_query", lost)
    with pytest.raises(query.NeptuneBusy):
        query.handler({"query": "RETURN 1"}, CONTEXT)


@pytest.mark.parametrize(
    "call, event",
    [
        ("query", {"query": "MERGE (p {name: '\ud800'})"}),
        ("load_status", {"loadId": "load-\udfff"}),
        ("start_load", {"marker": {"bucket": BUCKET, "key": "incoming/\ud83d.ready"}}),
    ],
)
def test_text_that_is_not_valid_unicode_is_an_invalid_request(request, call, event):
    """JSON can carry a lone surrogate ("\\ud800"); it can never be sent as UTF-8."""
    module = request.getfixturevalue("query" if call == "query" else "loader")
    with pytest.raises(module.InvalidRequest, match="Unicode"):  # before any (stubbed) call
        getattr(module, "handler" if call == "query" else call)(event, CONTEXT)


def test_a_start_answer_without_a_load_id_is_final_not_a_crash(loader):
    loader.stubber.add_response("start_loader_job", {"status": "200 OK", "payload": {}})
    with pytest.raises(loader.NeptuneRejected, match="loadId"):
        loader.start_load({"source": f"s3://{BUCKET}/x/", "format": "csv"}, CONTEXT)


@pytest.mark.parametrize(
    "payload",
    [
        {"overallStatus": "LOAD_COMPLETED"},
        {"overallStatus": {"status": 7}},
        {"overallStatus": {"status": "LOAD_FAILED"}, "errors": {"errorLogs": "none"}},
        {"overallStatus": {"status": "LOAD_FAILED"}, "errors": {"errorLogs": [None, "x"]}},
        [],
        "LOAD_COMPLETED",
    ],
)
def test_a_status_answer_it_cannot_read_fails_the_load_with_what_it_said(loader, payload):
    loader.stubber.add_response("get_loader_job_status", {"status": "200 OK", "payload": payload})
    result = loader.load_status({"loadId": "load-1"}, CONTEXT)
    assert result["done"] and not result["succeeded"]
    assert json.loads(result["cause"])["loadId"] == "load-1"


def test_configuration_is_read_through_settings_which_a_test_can_patch(loader, monkeypatch):
    """No re-import: the marker suffix and the auto-load format come from settings()."""
    other = dataclasses.replace(loader.settings(), marker_suffix=".go", auto_load_format="ntriples")
    monkeypatch.setattr(loader, "settings", lambda: other)
    loader.stubber.add_response(
        "start_loader_job",
        started(),
        {
            "source": f"s3://{BUCKET}/incoming/b/",
            "format": "ntriples",
            "s3BucketRegion": ANY,
            "iamRoleArn": ROLE,
            "mode": ANY,
            "parallelism": ANY,
            "failOnError": ANY,
            "queueRequest": ANY,
            "updateSingleCardinalityProperties": ANY,
        },
    )
    assert loader.start_load({"marker": {"bucket": BUCKET, "key": "incoming/b.go"}}, CONTEXT)[
        "loadId"
    ]
    with pytest.raises(loader.InvalidRequest, match="does not end with '.go'"):
        loader.start_load({"marker": {"bucket": BUCKET, "key": "incoming/b.ready"}}, CONTEXT)
