"""The two front ends of the directory, as their templates wire them, behind one interface: an
operation of the contract in, the answer (status, headers, JSON body) out.

- `ServerlessApi`: API Gateway's methods of the EmployeeDirectoryServerless template, each to
  the function its integration names, run in-process from its asset as the role the template
  gives it (tests/support/lambda_runner.py). What the gateway itself does before a function runs
  is modelled from the template too: a method with the Cognito authorizer and no verified caller
  gets the template's UNAUTHORIZED gateway response, and every call first invokes the function
  as the integration's role (tests/support/apigateway.py `integration_invokes`). (The gateway's
  model validation is not modelled: the handlers' own checks answer.)
- `ClassicApp`: the EmployeeDirectoryClassic instance, in-process: the WSGI app imported from
  the very asset the user data downloads (cdk.out), with the environment the user data writes,
  as the role of the launch template's instance profile, behind the target group's port (the
  load balancer forwards requests unchanged and adds no identity).

Both run under IAM enforcement (tests/support/iam_enforcement.py). Use inside moto
(the `local_stack` fixture).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any

import boto3

from tests.employee_directory.contract_checks import operation
from tests.employee_directory.events import HR_ADMIN, event
from tests.support.apigateway import integration_invokes
from tests.support.iam_enforcement import enforced
from tests.support.lambda_runner import FunctionInProcess, import_from


@dataclasses.dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any  # parsed JSON, or None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclasses.dataclass(frozen=True)
class Route:
    function: str  # the logical id of the function the integration invokes
    authorized: bool  # the Cognito user pool authorizer guards it
    credentials: Any  # the integration's role (Integration.Credentials), as the template has it


def api_routes(stack) -> dict[tuple[str, str], Route]:
    """(HTTP method, resource path) -> Route, for every non-OPTIONS method of the template's
    REST API, rebuilt from its resources."""
    parts = {
        lid: stack.resources[lid]["Properties"]
        for lid in stack.of_type("AWS::ApiGateway::Resource")
    }

    def path(ref: dict) -> str:
        if "Ref" in ref and ref["Ref"] in parts:
            props = parts[ref["Ref"]]
            return path(props["ParentId"]) + "/" + props["PathPart"]
        return ""

    functions = set(stack.of_type("AWS::Lambda::Function"))
    found = {}
    for lid in stack.of_type("AWS::ApiGateway::Method"):
        props = stack.resources[lid]["Properties"]
        if props["HttpMethod"] == "OPTIONS":
            continue
        uri = json.dumps(props["Integration"]["Uri"])
        (function,) = [f for f in functions if f'"{f}"' in uri]
        found[(props["HttpMethod"], path(props["ResourceId"]))] = Route(
            function,
            props.get("AuthorizationType") == "COGNITO_USER_POOLS",
            props["Integration"].get("Credentials"),
        )
    return found


class ServerlessApi:
    def __init__(self, stack) -> None:
        self.stack = stack
        self.routes = api_routes(stack)
        self._functions: dict[str, FunctionInProcess] = {}

    def route(self, operation_id: str) -> Route:
        method, path, _ = operation(operation_id)
        return self.routes[(method, path)]

    def function(self, operation_id: str) -> FunctionInProcess:
        """The function the template's method for this operation invokes."""
        if operation_id not in self._functions:
            self._functions[operation_id] = FunctionInProcess(
                self.stack, self.route(operation_id).function
            )
        return self._functions[operation_id]

    def signer(self, operation_id: str):
        """The credentials a pre-signed URL of this operation carries (its function's role)."""
        return self.function(operation_id).credentials

    def call(self, operation_id: str, *, claims: dict | None = HR_ADMIN, **kwargs) -> Answer:
        proxy = event(operation_id, claims=claims, **kwargs)
        if self.route(operation_id).authorized and claims is None:
            return self._gateway_response("UNAUTHORIZED", 401)
        route = self.route(operation_id)
        integration_invokes(self.stack, route.credentials, route.function)
        response = self.function(operation_id).invoke(proxy)
        headers = {k: ",".join(v) for k, v in response.get("multiValueHeaders", {}).items()}
        body = json.loads(response["body"]) if response.get("body") else None
        return Answer(response["statusCode"], headers, body)

    def _gateway_response(self, kind: str, default_status: int) -> Answer:
        for lid in self.stack.of_type("AWS::ApiGateway::GatewayResponse"):
            props = self.stack.properties(lid)
            if props["ResponseType"] == kind:
                body = json.loads(props["ResponseTemplates"]["application/json"])
                headers = {
                    k.removeprefix("gatewayresponse.header."): v.strip("'")
                    for k, v in props.get("ResponseParameters", {}).items()
                }
                headers["Content-Type"] = "application/json"
                return Answer(int(props.get("StatusCode", default_status)), headers, body)
        raise LookupError(f"the template has no {kind} gateway response")


class ClassicApp:
    APP_DIR = "/opt/employee-directory"

    def __init__(self, stack) -> None:
        self.stack = stack
        (template_id,) = stack.of_type("AWS::EC2::LaunchTemplate")
        data = stack.properties(template_id)["LaunchTemplateData"]
        self.user_data = data["UserData"]
        self.environment = json.loads(
            re.search(r"environment\.json <<'JSON'\n(.*?)\nJSON\n", self.user_data, re.S)[1]
        )
        key = re.search(r"'s3://[^/]+/([0-9a-f]{64}\.zip)'", self.user_data)[1]
        self.asset_dir = stack.asset_dir(key)
        # What the instance has at /opt/employee-directory is the asset's content.
        self.environment["SITE_DIR"] = self.environment["SITE_DIR"].replace(
            self.APP_DIR, str(self.asset_dir)
        )
        profile = stack.referenced_id(
            data["IamInstanceProfile"]["Arn"], "AWS::IAM::InstanceProfile"
        )
        if profile is None:
            (profile,) = stack.of_type("AWS::IAM::InstanceProfile")
        (role,) = stack.resources[profile]["Properties"]["Roles"]
        self.role_logical_id = role["Ref"]
        self._web = None

    @property
    def credentials(self):
        return self.stack.role_credentials(self.role_logical_id)

    def signer(self, _operation_id: str):
        return self.credentials

    @contextlib.contextmanager
    def environment_applied(self):
        saved, saved_session = dict(os.environ), boto3.DEFAULT_SESSION
        os.environ.update(self.environment)
        os.environ.update(self.credentials.environment())
        boto3.DEFAULT_SESSION = self.credentials.session()
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)
            boto3.DEFAULT_SESSION = saved_session

    @property
    def web(self):
        if self._web is None:
            with self.environment_applied(), enforced():
                self._web = import_from(Path(self.asset_dir), "web")
        return self._web

    def request(
        self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """What the app answers a request the load balancer forwards (raw)."""
        target = urllib.parse.urlsplit(path)
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": urllib.parse.unquote(target.path).encode().decode("latin-1"),
            "QUERY_STRING": target.query,
            "SERVER_NAME": "10.0.0.10",
            "SERVER_PORT": "8080",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "10.0.0.5",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
        }
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
            else:
                environ[f"HTTP_{key}"] = value
        if body and "CONTENT_LENGTH" not in environ:
            environ["CONTENT_LENGTH"] = str(len(body))
        started: dict[str, Any] = {}

        def start_response(status, response_headers, exc_info=None):
            started["status"], started["headers"] = status, response_headers

        web = self.web
        with self.environment_applied(), enforced():
            chunks = web.application(environ, start_response)
        return (
            int(started["status"].split()[0]),
            dict(started["headers"]),
            b"".join(chunks),
        )

    def call(self, operation_id: str, *, claims: dict | None = HR_ADMIN, **kwargs) -> Answer:
        """The operation as a browser on allowed_cidrs sends it (the load balancer adds no
        identity: `claims` is what the serverless front end would have been given)."""
        proxy = event(operation_id, claims=None, **kwargs)
        query = urllib.parse.urlencode(proxy["queryStringParameters"] or {})
        status, headers, raw = self.request(
            proxy["httpMethod"],
            urllib.parse.quote(proxy["path"]) + (f"?{query}" if query else ""),
            body=(proxy["body"] or "").encode("utf-8", "surrogatepass"),
            headers=proxy["headers"],
        )
        return Answer(status, headers, json.loads(raw) if raw else None)
