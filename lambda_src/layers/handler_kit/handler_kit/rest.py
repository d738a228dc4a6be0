"""REST APIs behind API Gateway (REST API, Lambda proxy integration): routes, the request, the
answer, and every failure mapped to HTTP in one place.

    from pathlib import Path
    from handler_kit.errors import NotFound
    from handler_kit.rest import Request, Response, RestApi

    api = RestApi(schemas=Path(__file__).with_name("schemas.json"), max_body_bytes=16 * 1024)

    @api.route("GET", "/items/{itemId}")
    def get_item(request: Request) -> Response:
        return Response(200, logic.item(request.caller().sub, request.path_parameter("itemId")))

    handler = api.handler  # the function's Lambda handler, e.g. "handler.handler"

Whatever a client sends, the answer is JSON: a 2xx, or a 4xx that changed nothing, or a 503 with
`Retry-After` when a retry can succeed (throttling, timeouts, a store that cannot be reached), or
a logged 500 for anything else, never the 502 API Gateway makes of an exception escaping a proxy
integration. Every error answer has one body, built by `error_response`:

    {"message": "<what is wrong, for the caller>", "code": "<InvalidInput, NotFound, ...>"}

(`message` is the key API Gateway's own error answers use, so a client reads one shape whether
the gateway or the function refused.) The input rules hold for every route: the event's strings
must be UTF-8 (JSON can carry a lone surrogate, which cannot be stored or logged); numbers are
ASCII digits (`re.fullmatch`, not `str.isdigit`, which accepts "²"); a body is
`application/json` (415 otherwise: API Gateway validates bodies against its models for that
content type only), at most `max_body_bytes`, and matches its schema (handler_kit.schema); types
are checked before use.

Routing is a lookup of the resource API Gateway matched: Powertools' REST resolver would import
every resolver and event class it has, which costs as much as creating a DynamoDB resource.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import socket
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from handler_kit import schema
from handler_kit.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooLarge,
    UnsupportedMediaType,
)
from handler_kit.observability import count, instrumented, logger, path

# Domain errors -> HTTP: the one place.
STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400,
    NotAuthenticated: 401,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    UnsupportedMediaType: 415,
}
# AWS error codes worth a retry after a short wait (DynamoDB, DAX, S3, ...).
RETRYABLE_CODES = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalServerErrorException",
    "ServiceUnavailable",
    "SlowDown",
    "NoRouteException",
    "ConnectionException",
}
# Timeouts and broken connections: botocore's, and the DAX client's, which talks over its own
# sockets and raises TimeoutError or the socket's OSError once its retries are spent.
TRANSIENT = (BotoConnectionError, HTTPClientError, ConnectionError, TimeoutError, socket.gaierror)
RETRY_AFTER_SECONDS = 1
# Bounded: int() refuses more than 4300 digits, and no parameter here needs 16.
DIGITS = re.compile(r"[0-9]{1,15}")
CORS_MAX_AGE_SECONDS = 600


# -- the answer -----------------------------------------------------------------------------------


@dataclasses.dataclass
class Response:
    """A route's answer. `body` is JSON-encoded (None: no body, no Content-Type); `cache_seconds`
    sets `Cache-Control: public, max-age=N` on an API that sends Cache-Control."""

    status: int
    body: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    cache_seconds: int | None = None


def error_response(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **kwargs
) -> Response:
    """The one error answer: `{"message": ..., "code": ...}`."""
    return Response(status, {"message": message, "code": code}, dict(headers or {}), **kwargs)


def refusal(error: DomainError, *, cache_seconds: int | None = None) -> Response:
    """The answer to a domain error (4xx), e.g. a 404 a route wants cached briefly."""
    status = next(s for kind, s in STATUS.items() if isinstance(error, kind))
    return error_response(status, error.code, error.message, cache_seconds=cache_seconds)


def failure(error: Exception) -> Response:
    """Any exception a route raised, as an answer: domain errors are the caller's 4xx; a store
    that is throttled or unreachable a 503 with Retry-After; anything else a logged 500. AWS's
    and Python's own messages are logged, never sent."""
    if isinstance(error, DomainError) and any(isinstance(error, kind) for kind in STATUS):
        logger.info("request refused", extra={"code": error.code, "reason": error.message})
        count("RequestsRefused")
        return refusal(error)
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        retry = code in RETRYABLE_CODES
    else:
        code = type(error).__name__
        retry = isinstance(error, TRANSIENT)
    aws = isinstance(error, (ClientError, BotoCoreError)) or retry
    logger.exception("store call failed" if aws else "unexpected error", extra={"errorCode": code})
    if retry:
        count("StoreBusy")
        return error_response(
            503,
            "Busy",
            "the service is busy; retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    count("InternalErrors")
    return error_response(500, "InternalError", "internal error")


def _plain(value: Any) -> Any:
    """JSON for what DynamoDB returns: numbers are Decimals, string sets are sets."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


# -- the request ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Caller:
    """Who is calling, from the claims API Gateway's Cognito authorizer verified."""

    sub: str
    name: str  # cognito:username, else the email, else the sub


@dataclasses.dataclass(frozen=True)
class Request:
    """What a route may read of an API Gateway REST proxy event, type- and UTF-8-checked."""

    method: str
    resource: str
    path: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased: HTTP header names are case-insensitive
    raw_body: str | None
    base64: bool
    claims: dict
    request_id: str | None
    api: RestApi = dataclasses.field(repr=False, compare=False)

    @classmethod
    def of(cls, event: Any, api: RestApi) -> Request:
        if not isinstance(event, dict):
            raise InvalidInput("the request is not an API Gateway proxy event")
        body = event.get("body")
        if body is not None and not isinstance(body, str):
            raise InvalidInput("the request body must be text")
        context = event.get("requestContext")
        context = context if isinstance(context, dict) else {}
        authorizer = context.get("authorizer")
        claims = authorizer.get("claims") if isinstance(authorizer, dict) else None
        request_id = context.get("requestId")
        return cls(
            method=_text(event.get("httpMethod"), "the method"),
            resource=_text(event.get("resource"), "the resource"),
            path=_strings(event, "pathParameters", "path parameter"),
            query=_strings(event, "queryStringParameters", "query parameter"),
            headers={
                name.lower(): value for name, value in _strings(event, "headers", "header").items()
            },
            raw_body=body,
            base64=bool(event.get("isBase64Encoded")),
            claims=claims if isinstance(claims, dict) else {},
            request_id=request_id if isinstance(request_id, str) else None,
            api=api,
        )

    def path_parameter(self, name: str) -> str:
        return self.path.get(name, "")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def query_integer(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        """A whole-number query parameter in minimum..maximum (ASCII digits only)."""
        text = self.query.get(name)
        if text is None:
            return default
        if not DIGITS.fullmatch(text) or not minimum <= int(text) <= maximum:
            raise InvalidInput(f"'{name}' must be a whole number from {minimum} to {maximum}")
        return int(text)

    def caller(self) -> Caller:
        """The verified caller (the user pool's `sub`): the only source of identity."""
        sub = self.claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise NotAuthenticated(
                "sign in first: no verified caller identity (a Cognito ID token in Authorization)"
            )
        name = self.claims.get("cognito:username") or self.claims.get("email") or sub
        return Caller(sub=sub, name=name if isinstance(name, str) else sub)

    def body(self, schema_name: str | None = None) -> dict:
        """The JSON object body, checked against `schema_name` of the API's schemas.json."""
        if not _is_json(self.header("content-type")):
            raise UnsupportedMediaType("Content-Type must be application/json (UTF-8)")
        raw = self.raw_body or ""
        if self.base64 and raw:
            try:
                raw = base64.b64decode(raw, validate=True).decode("utf-8")
            except ValueError:  # binascii.Error, non-ASCII text and UnicodeDecodeError all are
                raise InvalidInput("the body is not valid base64-encoded UTF-8") from None
        if raw == "":
            raise InvalidInput("a body is required: a JSON object")
        limit = self.api.max_body_bytes
        if len(_utf8(raw, "the body")) > limit:
            raise TooLarge(f"the body is larger than {limit} bytes")
        try:
            parsed = json.loads(raw, parse_float=Decimal, parse_constant=_no_constant)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than ~1000
            raise InvalidInput("the body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise InvalidInput("the body must be a JSON object")
        _check_strings(parsed)
        if schema_name is not None:
            schema.validate(parsed, self.api.schema(schema_name))
        return parsed


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: JSON can carry one, UTF-8 cannot
        raise InvalidInput(f"{what} is not valid UTF-8 text") from None


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    _utf8(value, what)
    return value


def _strings(event: dict, field: str, what: str) -> dict[str, str]:
    values = event.get(field) or {}
    if not isinstance(values, dict):
        raise InvalidInput(f"the request's {field} must be an object of strings")
    for name, value in values.items():
        _text(name, f"a {what} name")
        if not isinstance(value, str):
            raise InvalidInput(f"{what} {name!r} must be text")
        _utf8(value, f"{what} {name!r}")
    return values


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # json.loads accepts NaN and Infinity; JSON does not


def _is_json(content_type: str | None) -> bool:
    if content_type is None:  # API Gateway then treats the body as application/json too
        return True
    media_type, *parameters = content_type.split(";")
    if media_type.strip().lower() != "application/json":
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            return False
    return True


def _check_strings(parsed: Any) -> None:
    """Every string in the body, names included, must encode to UTF-8 (iteratively: the JSON
    may nest almost as deep as the recursion limit)."""
    pending: list[tuple[str, Any]] = [("the body", parsed)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, str):
            _utf8(value, where)
        elif isinstance(value, list):
            pending.extend((where, item) for item in value)
        elif isinstance(value, dict):
            for name, item in value.items():
                named = f"field {name!r}" if where == "the body" else where
                pending += [(f"a field name in {where}", name), (named, item)]


# -- the API --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Route:
    function: Callable[[Request], Response]
    query: tuple[str, ...] | None  # the query parameters it reads (others: 400); None: any


class RestApi:
    """The routes of one API and its Lambda handler (`api.handler`).

    Arguments:
        max_body_bytes: larger bodies are a 413.
        schemas: the API's schemas.json (request bodies; see handler_kit.schema).
        allowed_origins: the CORS origins, read per request (e.g. from settings()); "*" allows
            any. Empty: no CORS headers (a same-origin API, or one behind CloudFront).
        cache_control: send `Cache-Control` (no-store, or public max-age=Response.cache_seconds)
            for a CDN in front of the API.
    """

    def __init__(
        self,
        *,
        max_body_bytes: int,
        schemas: Path | None = None,
        allowed_origins: Callable[[], Sequence[str]] = tuple,
        cache_control: bool = False,
        allow_headers: Sequence[str] = ("Authorization", "Content-Type"),
        expose_headers: Sequence[str] = ("Location",),
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.schemas = schemas
        self.allowed_origins = allowed_origins
        self.cache_control = cache_control
        self.allow_headers = tuple(allow_headers)
        self.expose_headers = tuple(expose_headers)
        self.routes: dict[tuple[str, str], Route] = {}
        self.handler = instrumented(
            self._handle, correlation_id=path("requestContext", "requestId")
        )

    def route(self, method: str, resource: str, *, query: Sequence[str] | None = None):
        """Register a function for API Gateway's `method resource` (e.g. "GET", "/todos/{id}")."""

        def register(function: Callable[[Request], Response]) -> Callable[[Request], Response]:
            self.routes[(method, resource)] = Route(function, None if query is None else (*query,))
            return function

        return register

    def schema(self, name: str) -> dict:
        if self.schemas is None:
            raise LookupError("this RestApi was given no schemas.json")
        return schema.load(str(self.schemas))[name]

    def _handle(self, event: Any, _context: Any) -> dict:
        response = self._answer(event)
        try:
            return self._proxy_answer(response, self._cors(event))
        except Exception:  # noqa: BLE001 (an answer that cannot be encoded, broken configuration)
            logger.exception("unexpected error")
            count("InternalErrors")
            return self._proxy_answer(error_response(500, "InternalError", "internal error"), {})

    def _answer(self, event: Any) -> Response:
        try:
            request = Request.of(event, self)
            route = self.routes.get((request.method, request.resource))
            if route is None:
                if request.method == "OPTIONS" and self.allowed_origins():
                    return self._preflight()  # API Gateway answers preflights; direct invokes
                raise NotFound("no such route", code="NoSuchRoute")
            if route.query is not None:
                unknown = sorted(set(request.query) - set(route.query))
                if unknown:
                    raise InvalidInput(f"unknown query parameter(s): {', '.join(unknown)}")
            return route.function(request)
        except Exception as err:  # noqa: BLE001 (the last line of defence against a 502)
            return failure(err)

    def _preflight(self) -> Response:
        methods = sorted({"OPTIONS", *(method for method, _ in self.routes)})
        return Response(204, None, {"Access-Control-Allow-Methods": ",".join(methods)})

    def _cors(self, event: Any) -> dict[str, str]:
        headers = event.get("headers") if isinstance(event, dict) else None
        origin = next(
            (
                v
                for k, v in (headers.items() if isinstance(headers, dict) else ())
                if isinstance(k, str) and k.lower() == "origin"
            ),
            None,
        )
        allowed = self.allowed_origins()
        if not isinstance(origin, str) or not origin or not allowed:
            return {}
        if origin not in allowed:
            if "*" not in allowed:
                return {}
            origin = "*"
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Headers": ",".join(sorted(self.allow_headers)),
            "Access-Control-Expose-Headers": ",".join(self.expose_headers),
            "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
        }

    def _proxy_answer(self, response: Response, cors: dict[str, str]) -> dict:
        """The Lambda proxy answer (multiValueHeaders, as Powertools' REST resolver shapes it)."""
        headers = {}
        if self.cache_control:
            seconds = response.cache_seconds
            headers["Cache-Control"] = f"public, max-age={seconds}" if seconds else "no-store"
        headers.update(response.headers)
        headers.update(cors)
        if response.body is not None:
            headers["Content-Type"] = "application/json"
        return {
            "statusCode": response.status,
            "body": ""
            if response.body is None
            else json.dumps(response.body, default=_plain, separators=(",", ":")),
            "isBase64Encoded": False,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
        }
