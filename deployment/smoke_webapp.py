"""ServerlessWebApp smoke (both hosting modes): the page is served with its security headers; its
config.json names this stack's own user pool, app client and sign-in pages (written at deploy,
nobody edited it); the API refuses anonymous callers with a JSON 401; a throwaway user (made with
the admin APIs, so no emailed code is needed) signs in with SRP (enrolling TOTP when the pool
requires MFA), books a ride with an idempotency key, gets the same request back when it sends the
same key again, sees it in its list, and cancels it. The user and its request are deleted at the
end, whatever happened.

The sign-in is examples/todo_client.py's SRP client (the same Cognito flow, one implementation);
the page itself signs in through the hosted pages (authorization code + PKCE), which a script
cannot drive without a browser: tests/serverless_web_app/test_browser.py drives the page.
"""

from __future__ import annotations

import datetime
import json
import uuid

from deployment.smoke_cognito import confirmed_test_user, no_prompt, srp_client
from deployment.smoke_support import Smoke, StepFailed, expect_status, join_url

SECURITY_HEADERS = (
    "strict-transport-security",
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
)
# config.json key -> the stack output it must equal.
CONFIG_OUTPUTS = {
    "userPoolId": "UserPoolId",
    "clientId": "UserPoolClientId",
    "signInUrl": "SignInUrl",
}


def smoke(smoke: Smoke) -> None:
    client = srp_client()
    state: dict = {}
    region = smoke.outputs.get("Region") or smoke.session.region_name
    email = f"smoke-{smoke.run_id}@example.com"

    def page() -> str:
        response = smoke.http("GET", smoke.output("SiteUrl"), headers={"Accept": "text/html"})
        expect_status(response, 200)
        if b"<html" not in response.body[:4096].lower():
            raise StepFailed(f"{response.url} is not an HTML page")
        missing = [name for name in SECURITY_HEADERS if not response.header(name)]
        if missing:
            raise StepFailed(f"{response.url} lacks security header(s) {', '.join(missing)}")
        return f"200 HTML with {', '.join(SECURITY_HEADERS)}"

    def config() -> str:
        url = join_url(smoke.output("SiteUrl"), "config.json")
        response = smoke.http("GET", url, headers={"Accept": "application/json"})
        expect_status(response, 200)
        found = response.json()
        wrong = {
            key: found.get(key) if isinstance(found, dict) else None
            for key, output in CONFIG_OUTPUTS.items()
            if not isinstance(found, dict) or found.get(key) != smoke.output(output)
        }
        if wrong:
            raise StepFailed(f"{url} does not name this stack's values: {wrong}")
        return f"{url} names this stack's user pool, app client and sign-in pages"

    def anonymous_refused() -> str:
        url = join_url(smoke.output("ApiUrl"), "requests")
        response = smoke.http("GET", url, headers={"Accept": "application/json"})
        expect_status(response, 401)
        body = response.json()
        if not isinstance(body, dict) or not body.get("message"):
            raise StepFailed(f"GET {url} without a token: 401 without a JSON message")
        return f"GET {url} without a token: 401 {body['message']!r}"

    def create_user() -> str:
        state["password"] = confirmed_test_user(smoke, region, email)
        return f"{email} (confirmed, email verified, no email sent)"

    def sign_in() -> str:
        outputs = client.StackOutputs(
            api_url=smoke.output("ApiUrl"),
            user_pool_id=smoke.output("UserPoolId"),
            client_id=smoke.output("UserPoolClientId"),
            identity_pool_id="",
            bucket="",
            region=region,
        )
        user = client.CognitoUser(
            outputs,
            email,
            state["password"],
            prompt=no_prompt,
            idp=smoke.client("cognito-idp", region=region),
            identity=None,
            # The enrolment URI carries the TOTP secret: keep it out of CI logs.
            show=lambda _message: None,
        )
        user.sign_in()
        state["token"] = user.id_token
        enrolled = ", TOTP enrolled (the pool requires MFA)" if user.totp_secret else ""
        return "SRP sign-in" + enrolled

    def call(method: str, path: str, body: dict | None = None, headers: dict | None = None):
        url = join_url(smoke.output("ApiUrl"), path)
        sent = {"Authorization": state["token"], "Accept": "application/json", **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/json"
        response = smoke.http(
            method, url, headers=sent, body=None if body is None else json.dumps(body).encode()
        )
        return response, (response.json() if response.body else None)

    def book() -> str:
        state["key"] = str(uuid.uuid4())
        pickup = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
        state["ride"] = {
            "pickup": f"smoke test {smoke.run_id}",
            "dropoff": "nowhere",
            "pickupAt": pickup.strftime("%Y-%m-%dT%H:%MZ"),
        }
        response, created = call(
            "POST", "requests", state["ride"], {"Idempotency-Key": state["key"]}
        )
        if response.status != 201:
            raise StepFailed(f"POST requests answered {response.status}, expected 201: {created}")
        state["request"] = created
        smoke.cleanup("cancel-test-request", cancel_if_left)
        return f"POST requests: 201, requestId {created['requestId']}"

    def replay() -> str:
        response, again = call("POST", "requests", state["ride"], {"Idempotency-Key": state["key"]})
        if response.status != 201 or again != state["request"]:
            raise StepFailed(f"the same create again answered {response.status}: {again}")
        if response.header("idempotent-replayed") != "true":
            raise StepFailed("the replayed create lacks Idempotent-Replayed: true")
        return "the same Idempotency-Key again: 201, the same request, Idempotent-Replayed"

    def listed() -> str:
        response, page_ = call("GET", "requests")
        ids = [item["requestId"] for item in (page_ or {}).get("items", [])]
        if response.status != 200 or state["request"]["requestId"] not in ids:
            raise StepFailed(f"GET requests ({response.status}) does not list the new request")
        return f"GET requests lists it ({len(ids)} item(s), no duplicate: {ids.count(ids[0])})"

    def cancel() -> str:
        path = f"requests/{state['request']['requestId']}"
        response, body = call("DELETE", path)
        if response.status != 204:
            raise StepFailed(f"DELETE {path} answered {response.status}, expected 204: {body}")
        state["cancelled"] = True
        response, _ = call("GET", path)
        if response.status != 404:
            raise StepFailed(f"GET {path} after the cancel answered {response.status}")
        return f"DELETE {path}: 204, then GET: 404"

    def cancel_if_left() -> str:
        if state.get("cancelled"):
            return "already cancelled by cancel"
        path = f"requests/{state['request']['requestId']}"
        response, body = call("DELETE", path)
        if response.status not in (204, 404):
            raise StepFailed(f"DELETE {path} answered {response.status}: {body}")
        return f"DELETE {path}: {response.status}"

    http = {"http": "fetches SiteUrl over the internet"}
    cognito = {"cognito-auth": "signs a throwaway user in to the user pool"}
    api = {**cognito, "http": "calls ApiUrl with the user's ID token"}
    smoke.step("page", page, uses=["SiteUrl"], needs=http)
    smoke.step(
        "config", config, uses=["SiteUrl", *CONFIG_OUTPUTS.values()], needs=http, after=["page"]
    )
    smoke.step(
        "api-refuses-anonymous",
        anonymous_refused,
        uses=["ApiUrl"],
        needs={"http": "calls ApiUrl without a token"},
    )
    smoke.step(
        "create-test-user",
        create_user,
        uses=["UserPoolId"],
        needs={"cognito-auth": "creates a user with the user pool's admin APIs"},
    )
    smoke.step(
        "sign-in",
        sign_in,
        uses=["UserPoolId", "UserPoolClientId"],
        needs=cognito,
        after=["create-test-user"],
    )
    smoke.step("book", book, needs=api, after=["sign-in"])
    smoke.step("book-again", replay, needs=api, after=["book"])
    smoke.step("list", listed, needs=api, after=["book"])
    smoke.step("cancel", cancel, needs=api, after=["book"])
