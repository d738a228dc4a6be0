"""The real page in headless Chromium (Debian's chromium and chromium-driver, driven by Selenium):
served from the synthesized site asset with the template's CSP, its API answered by the real
handler through the local adapter (moto, the template's role), Cognito stubbed at the network
boundary (tests/serverless_web_app/local_site.py says what that leaves out).

    make browser-test      # installs chromium + chromium-driver with apt-get when missing

Marked `browser`: `make test` leaves it out (it needs a browser on the machine); CI runs it.
"""

from __future__ import annotations

import shutil

import boto3
import pytest

from tests.serverless_web_app.conftest import Built
from tests.serverless_web_app.local_site import CLIENT_ID, local_site
from tests.support.synth import synthesize_once

pytestmark = pytest.mark.browser

INSTANCE = "serverless-web-app"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER = "chromedriver"
WAIT_SECONDS = 20


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = next((shutil.which(name) for name in CHROMIUM if shutil.which(name)), None)
    driver_path = shutil.which(CHROMEDRIVER)
    if binary is None or driver_path is None:
        pytest.fail(
            "no chromium/chromedriver on PATH: `make browser-test` installs Debian's chromium "
            "and chromium-driver (apt-get)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--window-size=1200,900",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    """The dev stage with this instance only: what the page and its API are built from."""
    return synthesize_once(tmp_path_factory, "dev", {"blueprints_only": INSTANCE})


@pytest.fixture
def site(dev, local_stack):
    built = Built(dev, INSTANCE, "ServerlessWebApp")
    dev.require(built.stack_id)
    assembly = dev
    stack = local_stack(assembly, built.stack_id)
    with local_site(built, stack) as running:
        yield running, stack


def wait_for(browser, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(browser, WAIT_SECONDS).until(lambda _d: condition())
    except Exception as error:  # noqa: BLE001 (say what the page showed instead)
        status = browser.execute_script("return document.getElementById('status')?.textContent")
        logs = [entry["message"] for entry in browser.get_log("browser")]
        raise AssertionError(
            f"{what}: not seen; the page says {status!r}; console: {logs}"
        ) from error


def visible(browser, element_id: str) -> bool:
    from selenium.webdriver.common.by import By

    found = browser.find_elements(By.ID, element_id)
    return bool(found) and found[0].is_displayed()


def test_sign_in_request_a_ride_list_it_and_cancel_it(browser, site):
    from selenium.webdriver.common.by import By

    running, stack = site
    browser.get(running.origin + "/")
    wait_for(browser, lambda: visible(browser, "sign-in"), "the signed-out view")
    assert not visible(browser, "signed-in")
    assert browser.title == running.config_json()["appName"]

    browser.find_element(By.ID, "sign-in").click()
    wait_for(browser, lambda: visible(browser, "username"), "the (stub) hosted sign-in form")
    assert browser.current_url.startswith(running.cognito.origin + "/oauth2/authorize?")
    assert f"client_id={CLIENT_ID}" in browser.current_url
    browser.find_element(By.ID, "username").send_keys("rider@example.com")
    browser.find_element(By.ID, "password").send_keys("correct horse battery staple")
    browser.find_element(By.ID, "cognito-submit").click()

    wait_for(browser, lambda: visible(browser, "signed-in"), "the signed-in view")
    assert browser.current_url == running.origin + "/", "the code is gone from the address bar"
    assert browser.find_element(By.ID, "who").text == "rider@example.com"
    (exchange,) = [e for e in running.cognito.exchanges if e["grant_type"] == "authorization_code"]
    assert exchange["redirect_uri"] == running.origin + "/"
    wait_for(browser, lambda: "No requests yet." in requests_text(browser), "the empty list")

    browser.find_element(By.ID, "pickup").send_keys("Main St 1")
    browser.find_element(By.ID, "dropoff").send_keys("Airport")
    browser.execute_script(
        "const at = new Date(Date.now() + 86400000);"
        "at.setMinutes(at.getMinutes() - at.getTimezoneOffset());"
        "document.getElementById('pickup-at').value = at.toISOString().slice(0, 16);"
    )
    browser.find_element(By.ID, "request-ride").click()
    wait_for(browser, lambda: "Main St 1 → Airport" in requests_text(browser), "the new request")

    table = stack.ref(stack.logical_id("Api/Table", "AWS::DynamoDB::Table"))
    (item,) = boto3.client("dynamodb", region_name=stack.region).scan(TableName=table)["Items"]
    (sub,) = running.cognito.users.values()
    assert item["userId"] == {"S": sub}, "stored under the signed-in user's sub"
    assert item["requestId"]["S"][14] == "7", "the page's idempotency key is a UUID version 7"
    posts = [call for call in running.api_calls if call[0] == "POST"]
    assert posts == [("POST", "/api/requests", 201)]

    browser.refresh()
    wait_for(browser, lambda: "Main St 1 → Airport" in requests_text(browser), "the list again")
    browser.find_element(By.CSS_SELECTOR, "#requests li button").click()
    wait_for(browser, lambda: "No requests yet." in requests_text(browser), "the cancelled list")
    assert boto3.client("dynamodb", region_name=stack.region).scan(TableName=table)["Items"] == []

    problems = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]
    ]
    assert problems == [], "the page runs under the template's CSP without a violation"


def test_the_api_refuses_the_page_without_a_token(browser, site):
    running, _ = site
    browser.get(running.origin + "/")
    wait_for(browser, lambda: visible(browser, "sign-in"), "the signed-out view")
    status = browser.execute_script(
        "return fetch('/api/requests', {headers: {Accept: 'application/json'}}).then(r => r.status)"
    )
    assert status == 401


def requests_text(browser) -> str:
    return browser.execute_script("return document.getElementById('requests').textContent")
