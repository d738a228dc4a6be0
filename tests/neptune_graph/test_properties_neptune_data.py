"""Property-based bad-input tests of the Neptune functions (Hypothesis, the house profile in
tests/conftest.py: bounded and derandomized), against botocore's Stubber, so every request that
does go out is validated and serialized by botocore exactly as it would be sent.

  - StartLoad, LoadStatus and the small-load function, given any JSON (arbitrary Unicode, lone
    surrogates included) or a near-valid event with any field replaced, either raise
    InvalidRequest without calling Neptune, or make exactly one call whose every option is one
    the loader allows (the staging bucket, the cluster's region and load role, known choices);
  - whatever Neptune or the network answers (any error code with any HTTP status, timeouts,
    lost connections), they raise only NeptuneBusy or NeptuneRejected, busy exactly when the
    documented rule says a retry can help;
  - whatever JSON the status call answers with, LoadStatus returns the fields the state machine
    reads, with their types, and calls nothing a success that is not LOAD_COMPLETED.
"""

from __future__ import annotations

import json
from unittest import mock

import pytest
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from tests.neptune_graph.test_handler_neptune_data import BUCKET, CONTEXT, ROLE, imported
from tests.support.strategies import ANY_TEXT, JSON_VALUES, utf8

REGION = "eu-west-1"


def mostly(valid, junk):
    """`valid` four times in five, else `junk`: enough events get through to Neptune."""
    return st.integers(0, 4).flatmap(lambda n: junk if n == 0 else valid)


@pytest.fixture(scope="module")
def loader_module():
    return imported("loader")


@pytest.fixture(scope="module")
def query_module():
    return imported("query")


@pytest.fixture
def loader(neptune_env, loader_module):
    return loader_module


@pytest.fixture
def query(neptune_env, query_module):
    return query_module


@pytest.fixture
def neptune_env(monkeypatch):
    from tests.neptune_graph.test_handler_neptune_data import ENVIRONMENT

    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


def calls(module, operation: str, response: dict, run):
    """(what `run()` returned or raised, the number of `operation` calls it made)."""
    with Stubber(module.client) as stub:
        stub.add_response(operation, response)
        try:
            outcome = run()
        except Exception as error:  # noqa: BLE001 - the tests judge what came out
            outcome = error
        made = 0 if stub._queue else 1  # the one queued answer was taken, or not
    return outcome, made


# -- StartLoad -----------------------------------------------------------------------------------

FORMATS = ["csv", "opencypher", "ntriples", "nquads", "rdfxml", "turtle"]
CHOICES = {
    "mode": ["NEW", "RESUME", "AUTO"],
    "parallelism": ["LOW", "MEDIUM", "HIGH", "OVERSUBSCRIBE"],
}
FLAGS = ("failOnError", "queueRequest", "updateSingleCardinalityProperties")
SOURCES = st.one_of(
    st.builds(lambda path: f"s3://{BUCKET}/{path}", ANY_TEXT),
    st.builds(lambda bucket, path: f"s3://{bucket}/{path}", ANY_TEXT, ANY_TEXT),
    st.builds(lambda path: f"https://{BUCKET}.s3.amazonaws.com/{path}", ANY_TEXT),
)
MARKERS = st.fixed_dictionaries(
    {
        "bucket": mostly(st.just(BUCKET), JSON_VALUES),
        "key": mostly(st.builds(lambda k: f"incoming/{k}.ready", ANY_TEXT), JSON_VALUES),
    }
)


@st.composite
def load_requests(draw):
    """Near-valid StartLoad inputs, any field possibly junk, sometimes not an object at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON_VALUES)
    event = {}
    where = draw(st.sampled_from(["source", "source", "marker", "both", "neither"]))
    if where in ("source", "both"):
        event["source"] = draw(mostly(SOURCES, JSON_VALUES))
    if where in ("marker", "both"):
        event["marker"] = draw(mostly(MARKERS, JSON_VALUES))
    if draw(st.booleans()):
        event["format"] = draw(mostly(st.sampled_from(FORMATS), JSON_VALUES))
    elif "source" in event:
        event["format"] = "csv"
    for name, allowed in CHOICES.items():
        if draw(st.booleans()):
            event[name] = draw(mostly(st.sampled_from(allowed), JSON_VALUES))
    for name in FLAGS:
        if draw(st.booleans()):
            event[name] = draw(mostly(st.booleans(), JSON_VALUES))
    if draw(st.booleans()):
        event["pollSeconds"] = draw(mostly(st.integers(5, 3600), JSON_VALUES))
    if draw(st.integers(0, 3)) == 0:
        event["parserConfiguration"] = draw(
            mostly(
                st.dictionaries(
                    st.sampled_from(["baseUri", "namedGraphUri", "allowEmptyStrings"]), ANY_TEXT
                ),
                JSON_VALUES,
            )
        )
    if draw(st.integers(0, 5)) == 0:
        event[draw(ANY_TEXT)] = draw(JSON_VALUES)  # an option the loader does not know
    return event


@given(event=load_requests())
def test_start_load_refuses_before_calling_or_sends_only_allowed_options(loader, event):
    sent = []
    with Stubber(loader.client) as stub:
        stub.add_response("start_loader_job", {"status": "200 OK", "payload": {"loadId": "L1"}})
        real = loader.client.meta.events

        def record(params, **_):
            sent.append(params)

        real.register("provide-client-params.neptunedata.StartLoaderJob", record)
        try:
            outcome = loader.start_load(event, CONTEXT)
        except Exception as error:  # noqa: BLE001
            outcome = error
        finally:
            real.unregister("provide-client-params.neptunedata.StartLoaderJob", record)
        called = not stub._queue
    if isinstance(outcome, Exception):
        assert isinstance(outcome, loader.InvalidRequest), repr(outcome)
        assert not called, "refused after calling Neptune"
        return
    (request,) = sent
    assert called and outcome["loadId"] == "L1" and outcome["source"] == request["source"]
    assert request["source"][len("s3://") :].split("/", 1)[0] == BUCKET
    assert request["source"].startswith("s3://") and utf8(request["source"])
    assert request["format"] in FORMATS and outcome["format"] == request["format"]
    assert request["s3BucketRegion"] == REGION and request["iamRoleArn"] == ROLE
    assert request["mode"] in CHOICES["mode"]
    assert request["parallelism"] in CHOICES["parallelism"]
    assert all(request[flag] in (True, False) for flag in FLAGS)
    assert set(request.get("parserConfiguration", {})) <= {
        "baseUri",
        "namedGraphUri",
        "allowEmptyStrings",
    }
    assert type(outcome["pollSeconds"]) is int and 5 <= outcome["pollSeconds"] <= 3600


# -- what Neptune and the network can answer ------------------------------------------------------

RETRYABLE_CODES = [
    "TooManyRequestsException",
    "ThrottlingException",
    "ConcurrentModificationException",
    "ConstraintViolationException",
    "InternalFailureException",
    "ClientTimeoutException",
    "ServerShutdownException",
    "MemoryLimitExceededException",
    "QueryLimitExceededException",
    "CancelledByMaintenanceException",
]
FINAL_5XX = ["CancelledByUserException", "FailureByQueryException", "TimeLimitExceededException"]
CODES = st.sampled_from(
    RETRYABLE_CODES
    + FINAL_5XX
    + [
        "BadRequestException",
        "AccessDeniedException",
        "MalformedQueryException",
        "LoadUrlAccessDeniedException",
        "S3Exception",
        "BulkLoadIdNotFoundException",
        "ServiceUnavailable",
        "502",
        "SlowDown",
    ]
) | st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20)
NETWORK = st.sampled_from(
    ["ReadTimeoutError", "ConnectTimeoutError", "EndpointConnectionError", "ConnectionClosedError"]
)
CALLS = {  # operation, how the function is called with a valid event
    "start_load": (
        "start_loader_job",
        lambda m: m.start_load({"source": f"s3://{BUCKET}/x/", "format": "csv"}, CONTEXT),
    ),
    "load_status": ("get_loader_job_status", lambda m: m.load_status({"loadId": "L1"}, CONTEXT)),
    "query": ("execute_open_cypher_query", lambda m: m.handler({"query": "RETURN 1"}, CONTEXT)),
}


@given(call=st.sampled_from(sorted(CALLS)), code=CODES, status=st.integers(400, 599))
def test_any_error_answer_is_busy_or_rejected_as_the_rule_says(loader, query, call, code, status):
    module = query if call == "query" else loader
    operation, run = CALLS[call]
    with Stubber(module.client) as stub:
        stub.add_client_error(
            operation,
            service_error_code=code,
            http_status_code=status,
            service_message=f"{code} from Neptune",
        )
        with pytest.raises((module.NeptuneBusy, module.NeptuneRejected)) as raised:
            run(module)
    retry_helps = code in RETRYABLE_CODES or (
        code not in FINAL_5XX and (status == 429 or status >= 500)
    )
    assert isinstance(raised.value, module.NeptuneBusy) is retry_helps, (code, status)
    assert isinstance(raised.value, module.NeptuneRejected) is not retry_helps


@given(call=st.sampled_from(sorted(CALLS)), kind=NETWORK)
def test_timeouts_and_lost_connections_are_always_busy(loader, query, call, kind):
    import botocore.exceptions

    module = query if call == "query" else loader
    operation, run = CALLS[call]
    error = getattr(botocore.exceptions, kind)(endpoint_url="https://graph:8182")
    with mock.patch.object(module.client, operation, side_effect=error):
        with pytest.raises(module.NeptuneBusy):
            run(module)


# -- LoadStatus ----------------------------------------------------------------------------------

STATUSES = [
    "LOAD_NOT_STARTED",
    "LOAD_IN_QUEUE",
    "LOAD_IN_PROGRESS",
    "LOAD_COMPLETED",
    "LOAD_FAILED",
    "LOAD_CANCELLED_BY_USER",
    "LOAD_S3_ACCESS_DENIED_ERROR",
]
PAYLOADS = mostly(
    st.fixed_dictionaries(
        {
            "overallStatus": mostly(
                st.fixed_dictionaries(
                    {"status": mostly(st.sampled_from(STATUSES), JSON_VALUES)},
                    optional={"totalRecords": JSON_VALUES, "parsingErrors": JSON_VALUES},
                ),
                JSON_VALUES,
            ),
        },
        optional={
            "errors": mostly(
                st.fixed_dictionaries(
                    {
                        "errorLogs": mostly(
                            st.lists(
                                st.dictionaries(
                                    st.sampled_from(
                                        ["errorCode", "errorMessage", "fileName", "recordNum"]
                                    ),
                                    JSON_VALUES,
                                ),
                                max_size=7,
                            ),
                            JSON_VALUES,
                        )
                    }
                ),
                JSON_VALUES,
            )
        },
    ),
    JSON_VALUES,
)


@given(
    event=mostly(st.fixed_dictionaries({"loadId": mostly(ANY_TEXT, JSON_VALUES)}), JSON_VALUES),
    payload=PAYLOADS,
)
def test_load_status_refuses_or_returns_what_the_state_machine_reads(loader, event, payload):
    outcome, made = calls(
        loader,
        "get_loader_job_status",
        {"status": "200 OK", "payload": payload},
        lambda: loader.load_status(event, CONTEXT),
    )
    if isinstance(outcome, Exception):
        assert isinstance(outcome, loader.InvalidRequest) and not made, repr(outcome)
        return
    assert made == 1 and outcome["loadId"] == event["loadId"]
    assert {k: type(v) for k, v in outcome.items()} == {
        "loadId": str,
        "status": str,
        "done": bool,
        "succeeded": bool,
        "cause": str,
    }
    if outcome["succeeded"]:
        assert outcome["status"] == "LOAD_COMPLETED" and outcome["done"]
    if not outcome["done"]:
        assert outcome["status"] in STATUSES[:3] and outcome["cause"] == ""
    elif not outcome["succeeded"]:  # the Fail state's cause: JSON naming the load
        cause = json.loads(outcome["cause"])
        assert cause["loadId"] == event["loadId"] and cause["status"] == outcome["status"]
        assert len(cause["firstErrors"]) <= 5


# -- the small-load function ---------------------------------------------------------------------

QUERIES = mostly(
    st.fixed_dictionaries(
        {"query": mostly(ANY_TEXT.map(lambda t: f"MERGE (n {{name: $name}}) // {t}"), JSON_VALUES)},
        optional={
            "parameters": mostly(st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=3), JSON_VALUES),
            "limit": JSON_VALUES,
        },
    ),
    JSON_VALUES,
)


@given(event=QUERIES)
def test_small_load_refuses_before_calling_or_sends_the_statement_and_its_parameters(query, event):
    results = [{"n": 1}]
    with Stubber(query.client) as stub:
        if (
            isinstance(event, dict)
            and isinstance(event.get("query"), str)
            and utf8(event["query"])
            and event["query"].strip()
            and isinstance(event.get("parameters", {}), dict)
            and set(event) <= {"query", "parameters"}
        ):
            stub.add_response(
                "execute_open_cypher_query",
                {"results": results},
                {
                    "openCypherQuery": event["query"],
                    "parameters": json.dumps(event.get("parameters", {})),
                },
            )
            assert query.handler(event, CONTEXT) == {"results": results}
            stub.assert_no_pending_responses()
        else:
            with pytest.raises(query.InvalidRequest):  # nothing queued: a call would fail
                query.handler(event, CONTEXT)
