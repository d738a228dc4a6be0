"""Small loads: one parameterised openCypher statement, for incremental updates.

Invoked directly (`aws lambda invoke`, or from another service with lambda:InvokeFunction);
there is no public endpoint. Values travel only in `parameters`, never spliced into the text:
    {"query": "MERGE (p:Person {id: $id}) SET p.name = $name RETURN p.id",
     "parameters": {"id": "p-1", "name": "Ada"}}
"""

from __future__ import annotations

import json
from typing import Any

from handler_kit.observability import count, instrumented, logger
from neptune import (
    InvalidRequest,
    NeptuneBusy,
    NeptuneRejected,
    neptune_client,
    translate,
    valid_text,
)

MAX_QUERY_BYTES = 64 * 1024
MAX_PARAMETERS_BYTES = 256 * 1024


def validate(event: Any) -> tuple[str, dict]:
    if not isinstance(event, dict):
        raise InvalidRequest(f"the input must be a JSON object, got {type(event).__name__}")
    unknown = set(event) - {"query", "parameters"}
    if unknown:
        raise InvalidRequest(
            f"unknown field(s) {sorted(map(str, unknown))}; allowed: query, parameters"
        )
    query = event.get("query")
    if not isinstance(query, str) or not query.strip():
        raise InvalidRequest("'query' is required: one openCypher statement")
    if len(valid_text(query, "query").encode()) > MAX_QUERY_BYTES:
        raise InvalidRequest(f"'query' is longer than {MAX_QUERY_BYTES} bytes; use a bulk load")
    parameters = event.get("parameters", {})
    if not isinstance(parameters, dict):
        raise InvalidRequest("'parameters' must be an object of named values")
    encoded = json.dumps(parameters)
    if len(encoded.encode()) > MAX_PARAMETERS_BYTES:
        raise InvalidRequest(f"'parameters' are larger than {MAX_PARAMETERS_BYTES} bytes")
    return query, parameters


@instrumented
def handler(event: Any, _context: Any) -> dict:
    query, parameters = validate(event)
    try:
        response = neptune_client().execute_open_cypher_query(
            openCypherQuery=query, parameters=json.dumps(parameters)
        )
    except Exception as error:  # noqa: BLE001
        raise translate(error) from error
    results = response.get("results", [])
    logger.info("query ran", extra={"rows": len(results)})
    count("QueriesRun")
    return {"results": results}


def __getattr__(name: str) -> Any:
    # `query.client`: the cluster's client, made on first use (see loader.__getattr__).
    if name == "client":
        return neptune_client()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["handler", "InvalidRequest", "NeptuneBusy", "NeptuneRejected"]
