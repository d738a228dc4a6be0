"""The web app on this machine, for a real browser: the page from the synthesized site asset, its
API answered by the real handler, Cognito's hosted pages stubbed. Two local HTTP servers:

    site   http://127.0.0.1:<port>/          the files of the site asset the template deploys,
                                               served like the distribution does (extensionless
                                               paths -> index.html, the template's CSP and
                                               security headers on every answer)
           /config.json                       the template's config.json asset, its deploy-time
                                               markers resolved to this machine's values
           /api/*                             the local adapter: the request as an API Gateway
                                               proxy event (the template's resource, the ID token's
                                               claims as the Cognito authorizer passes them) to the
                                               handler, run from its asset as its template role in
                                               moto (tests/support/lambda_runner.py)
    cognito http://127.0.0.1:<other port>/   a stand-in for the hosted pages at the network
                                               boundary: /oauth2/authorize and /signup render a
                                               sign-in form; its POST redirects back with a code;
                                               /oauth2/token checks the PKCE verifier against the
                                               challenge (S256), the client id, the redirect URI,
                                               and answers unsigned JWTs

What is exercised: the page's own code under the template's CSP (no inline script, fetches to
'self' and the sign-in origin only), its PKCE sign-in and token handling, config.json's shape as
the stack writes it, the handler and table as deployed. Not exercised: Cognito's real pages and
token signatures, API Gateway (its authorizer is imitated: audience, expiry and token use of the
ID token), CloudFront, and `upgrade-insecure-requests` (dropped from the CSP here: the local
servers speak plain HTTP).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.serverless_web_app.conftest import Built
from tests.support.apigateway import rest_api_event

CLIENT_ID = "localclient0123456789abcdef"
USER_POOL_ID = "us-east-1_LocalPool"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def id_token(claims: dict) -> str:
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}.local"


def token_claims(token: str) -> dict | None:
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None


class _Server:
    def __init__(self, handle) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:  # quiet
                pass

            def do_GET(self):
                handle(self, "GET")

            def do_POST(self):
                handle(self, "POST")

            def do_PATCH(self):
                handle(self, "PATCH")

            def do_DELETE(self):
                handle(self, "DELETE")

            def do_OPTIONS(self):
                handle(self, "OPTIONS")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        outer.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _answer(
    request: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict | None = None
) -> None:
    request.send_response(status)
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


def _body(request: BaseHTTPRequestHandler) -> bytes:
    length = int(request.headers.get("Content-Length") or 0)
    return request.rfile.read(length) if length else b""


class FakeCognito:
    """The hosted pages and token endpoint, as far as the page uses them."""

    def __init__(self, site_origin_of) -> None:
        self.site_origin_of = site_origin_of
        self.codes: dict[str, dict] = {}
        self.refresh_tokens: dict[str, dict] = {}
        self.exchanges: list[dict] = []
        self.users: dict[str, str] = {}  # email -> sub
        self.server = _Server(self._handle)
        self.origin = self.server.origin

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        url = urllib.parse.urlsplit(request.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if method == "GET" and url.path in ("/oauth2/authorize", "/signup"):
            return self._form(request, query)
        if method == "POST" and url.path == "/login":
            return self._login(request)
        if method == "POST" and url.path == "/oauth2/token":
            return self._token(request)
        if method == "GET" and url.path == "/logout":
            return _answer(request, 302, headers={"Location": query["logout_uri"]})
        return _answer(request, 404, b"not found")

    def _form(self, request, query: dict) -> None:
        problems = []
        if query.get("client_id") != CLIENT_ID:
            problems.append("client_id")
        if query.get("response_type") != "code":
            problems.append("response_type")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            problems.append("code_challenge")
        if query.get("redirect_uri") != self.site_origin_of() + "/":
            problems.append("redirect_uri")
        if problems:
            return _answer(request, 400, f"bad authorize request: {problems}".encode())
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{value}">'
            for name, value in query.items()
            if re.fullmatch(r"[A-Za-z0-9_~.:/%+ -]*", value)
        )
        page = (
            '<!doctype html><html><head><link rel="icon" href="data:,"></head>'
            "<body><h1>Sign in</h1>"
            '<form id="cognito-sign-in" method="post" action="/login">'
            f"{hidden}"
            '<input id="username" name="username" type="email">'
            '<input id="password" name="password" type="password">'
            '<button id="cognito-submit" type="submit">Sign in</button></form></body></html>'
        )
        _answer(request, 200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def _login(self, request) -> None:
        form = dict(urllib.parse.parse_qsl(_body(request).decode()))
        email = form["username"]
        sub = self.users.setdefault(email, secrets.token_hex(4) + "-0000-4000-8000-" + "0" * 12)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**form, "sub": sub, "email": email}
        target = (
            form["redirect_uri"]
            + "?"
            + urllib.parse.urlencode({"code": code, "state": form["state"]})
        )
        _answer(request, 302, headers={"Location": target})

    def _token(self, request) -> None:
        form = dict(urllib.parse.parse_qsl(_body(request).decode()))
        cors = {"Access-Control-Allow-Origin": self.site_origin_of()}
        self.exchanges.append(form)
        if form.get("client_id") != CLIENT_ID:
            return self._refuse(request, "invalid_client", cors)
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
            if (
                grant is None
                or form.get("redirect_uri") != grant["redirect_uri"]
                or challenge != grant["code_challenge"]
            ):
                return self._refuse(request, "invalid_grant", cors)
        elif form.get("grant_type") == "refresh_token":
            grant = self.refresh_tokens.get(form.get("refresh_token", ""))
            if grant is None:
                return self._refuse(request, "invalid_grant", cors)
        else:
            return self._refuse(request, "unsupported_grant_type", cors)
        now = int(time.time())
        claims = {
            "sub": grant["sub"],
            "email": grant["email"],
            "aud": CLIENT_ID,
            "token_use": "id",
            "iat": now,
            "exp": now + 3600,
            "cognito:username": grant["sub"],
        }
        refresh = secrets.token_urlsafe(24)
        self.refresh_tokens[refresh] = grant
        body = {
            "id_token": id_token(claims),
            "access_token": id_token({**claims, "token_use": "access"}),
            "refresh_token": refresh,
            "expires_in": 3600,
            "token_type": "Bearer",
        }
        _answer(
            request, 200, json.dumps(body).encode(), {"Content-Type": "application/json", **cors}
        )

    def _refuse(self, request, error: str, cors: dict) -> None:
        body = json.dumps({"error": error}).encode()
        _answer(request, 400, body, {"Content-Type": "application/json", **cors})


class LocalSite:
    """The page, its config.json and its API on 127.0.0.1 (see the module docstring)."""

    def __init__(self, built: Built, stack) -> None:
        self.built = built
        self.handler = stack.function("Api/Handler")
        self._lock = threading.Lock()
        self.cognito = FakeCognito(lambda: self.origin)
        self.folder, self.config = self._site_asset()
        self.headers = self._security_headers()
        self.api_calls: list[tuple[str, str, int]] = []
        self.server = _Server(self._handle)
        self.origin = self.server.origin

    def close(self) -> None:
        self.server.close()
        self.cognito.server.close()

    # -- what the template deploys ----------------------------------------------------------------

    def _site_asset(self) -> tuple[Path, str]:
        """The site folder asset and config.json's text (markers unresolved) of the deployment."""
        (deployment,) = self.built.resources("Custom::CDKBucketDeployment").values()
        keys = deployment["Properties"]["SourceObjectKeys"]
        markers = deployment["Properties"]["SourceMarkers"]
        folders = [self.built.assembly.outdir / f"asset.{k.removesuffix('.zip')}" for k in keys]
        (site,) = [f for f in folders if (f / "index.html").is_file()]
        ((config, config_markers),) = [
            (f / "config.json", m)
            for f, m in zip(folders, markers, strict=True)
            if (f / "config.json").is_file()
        ]
        self.markers = config_markers
        return site, config.read_text()

    def config_json(self) -> dict:
        """config.json with this machine's values where the deploy writes the stack's."""
        by_type = {
            "AWS::Cognito::UserPool": USER_POOL_ID,
            "AWS::Cognito::UserPoolClient": CLIENT_ID,
            "AWS::Cognito::UserPoolDomain": self.cognito.origin,
            "AWS::Region": "us-east-1",
        }
        resources = self.built.template["Resources"]
        text = self.config
        for marker, value in self.markers.items():
            refs = re.findall(r'"Ref": "([^"]+)"', json.dumps(value))
            kinds = {resources[r]["Type"] if r in resources else r for r in refs}
            # The sign-in URL names the region too (a token in an environment-agnostic stack).
            (kind,) = kinds - {"AWS::Region"} or kinds
            text = text.replace(marker, json.dumps(by_type[kind]))
        config = json.loads(text)
        assert config["signInUrl"] == self.cognito.origin, "the sign-in URL is the domain's"
        return config

    def _security_headers(self) -> dict[str, str]:
        """The template's security headers, the CSP's sign-in origin made the stand-in's."""
        _, policy = self.built.only("AWS::CloudFront::ResponseHeadersPolicy")
        config = policy["Properties"]["ResponseHeadersPolicyConfig"]
        security = config["SecurityHeadersConfig"]
        csp = self.built.resolver.resolve(
            security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
        )
        sign_in = self.built.resolver.resolve(self.built.template["Outputs"]["SignInUrl"]["Value"])
        assert sign_in in csp
        csp = csp.replace(sign_in, "{cognito}").replace("; upgrade-insecure-requests", "")
        headers = {
            "Content-Security-Policy": csp,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": security["FrameOptions"]["FrameOption"],
            "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
        }
        for custom in config["CustomHeadersConfig"]["Items"]:
            headers[custom["Header"]] = custom["Value"]
        return headers

    # -- serving ---------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        url = urllib.parse.urlsplit(request.path)
        headers = {k: v.replace("{cognito}", self.cognito.origin) for k, v in self.headers.items()}
        if url.path.startswith("/api/"):
            status, answer, body = self._api(request, method, url)
            self.api_calls.append((method, url.path, status))
            return _answer(request, status, body, {**headers, **answer})
        if method != "GET":
            return _answer(request, 405, b"", headers)
        if url.path == "/config.json":
            body = json.dumps(self.config_json()).encode()
            return _answer(request, 200, body, {**headers, "Content-Type": "application/json"})
        path = url.path
        if "." not in path.rsplit("/", 1)[-1]:  # the distribution's single-page-app routing
            path = "/index.html"
        file = (self.folder / path.lstrip("/")).resolve()
        if not file.is_file() or self.folder.resolve() not in file.parents:
            return _answer(request, 404, b"not found", headers)
        kind = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        _answer(request, 200, file.read_bytes(), {**headers, "Content-Type": kind})

    def _api(self, request, method: str, url) -> tuple[int, dict, bytes]:
        """API Gateway's part: route to the template's resource, the Cognito authorizer's
        check of the ID token, the proxy event; then the handler's answer."""
        path = url.path
        match = re.fullmatch(r"/api/requests(?:/([^/]+))?", path)
        if match is None:
            return 404, {}, json.dumps({"message": "no such route", "code": "NoSuchRoute"}).encode()
        claims = token_claims(request.headers.get("Authorization") or "")
        if (
            not claims
            or claims.get("aud") != CLIENT_ID
            or claims.get("token_use") != "id"
            or claims.get("exp", 0) < time.time()
        ):
            return 401, {"Content-Type": "application/json"}, b'{"message":"Unauthorized"}'
        request_id = match.group(1)
        body = _body(request)
        event = rest_api_event(
            method,
            path,
            resource="/api/requests/{requestId}" if request_id else "/api/requests",
            path_parameters={"requestId": request_id} if request_id else None,
            headers=dict(request.headers.items()),
            query=dict(urllib.parse.parse_qsl(url.query)) or None,
            body=body.decode() if body else None,
            claims=claims,
        )
        with self._lock:  # the runner sets the process's environment for one invocation
            answer = self.handler.invoke(event)
        headers = {name: ",".join(values) for name, values in answer["multiValueHeaders"].items()}
        return answer["statusCode"], headers, answer["body"].encode()


@contextlib.contextmanager
def local_site(built: Built, stack):
    site = LocalSite(built, stack)
    try:
        yield site
    finally:
        site.close()
