"""handler_kit: what every Lambda handler of the library is built from (a layer every function
gets from the house Lambda, `house/lambda_function.py`).

    handler_kit.settings       configuration read once from the environment and validated:
                               `with environment() as env: env.text("TABLE_NAME")`; a missing
                               or malformed variable is a ConfigurationError naming it
    handler_kit.observability  Powertools Logger, Tracer (X-Ray) and Metrics (EMF), configured
                               by the construct (POWERTOOLS_SERVICE_NAME, ..._METRICS_NAMESPACE,
                               ..._TRACE_DISABLED); `instrumented(correlation_id=...)` wraps a
                               handler so every log line carries the correlation id
    handler_kit.errors         the domain errors logic raises (InvalidInput, NotFound, Conflict,
                               ...), with no HTTP in them
    handler_kit.schema         the one request-body validator: the JSON Schema (draft 4) subset
                               API Gateway request models use, so one file is both
    handler_kit.rest           REST APIs (API Gateway, Lambda proxy): RestApi (routes), Request,
                               Response; domain errors -> HTTP, store failures -> 503/500, one
                               JSON error body `{"message": ..., "code": ...}`, built in one place

The layering every handler follows (ran-isenberg/aws-lambda-handler-cookbook): the handler
module parses the event and logs, a logic module decides (and raises handler_kit.errors), a
data-access module does the I/O with clients made on first use (`functools.cache`), and
configuration is one cached `settings()` function the handler calls at import, so a function
without its configuration fails its init, not its first event. Tests patch those functions;
they never re-import a module.

Importing this package imports nothing: each module pays for what it uses.
"""
