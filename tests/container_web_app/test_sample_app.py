"""containers/web_app's routes, with the database connection replaced: the health check never
touches the database, credentials come only from DATABASE_SECRET, and a database that is down
or paused answers 503 with no detail, never a stack trace."""

from __future__ import annotations

import importlib
import json
import sys

import pytest

from tests.support.synth import REPO_ROOT

APP_DIR = REPO_ROOT / "containers" / "web_app"
SECRET = json.dumps(
    {
        "engine": "postgres",
        "host": "db.cluster-abc.us-east-1.rds.amazonaws.com",
        "port": 5432,
        "dbname": "app",
        "username": "app",
        "password": "s3cr3t-value",
    }
)


@pytest.fixture
def app():
    sys.path.insert(0, str(APP_DIR))
    try:
        module = importlib.import_module("web_app.app")
    finally:
        sys.path.remove(str(APP_DIR))
    yield module
    for name in list(sys.modules):
        if name == "web_app" or name.startswith("web_app."):
            del sys.modules[name]


class FakeConnection:
    def __init__(self, count: int = 3, fail_on: str | None = None) -> None:
        self.count, self.fail_on, self.statements, self.closed = count, fail_on, [], False

    def run(self, sql: str, **params):
        self.statements.append((sql, params))
        if self.fail_on and self.fail_on in sql:
            raise RuntimeError("relation is locked")
        return [[self.count]] if sql.startswith("SELECT") else []

    def close(self) -> None:
        self.closed = True


def test_health_answers_without_touching_the_database(app):
    def opener(settings):
        raise AssertionError("the health check must not connect")

    assert app.route("GET", "/health", {"DATABASE_SECRET": SECRET}, opener) == (
        200,
        {"status": "ok"},
    )


def test_root_names_the_engine_and_whether_a_database_is_configured(app):
    status, body = app.route("GET", "/", {"APP_ENGINE": "express", "DATABASE_SECRET": SECRET})
    assert status == 200
    assert (body["service"], body["engine"], body["database"]) == (
        "container-web-app",
        "express",
        "configured",
    )
    assert "s3cr3t" not in json.dumps(body)
    assert app.route("GET", "/", {})[1]["database"] == "none"


def test_visits_connects_with_the_injected_secret_and_counts(app):
    seen = {}
    connection = FakeConnection(count=7)

    def opener(settings):
        seen.update(settings)
        return connection

    status, body = app.route("GET", "/visits", {"DATABASE_SECRET": SECRET}, opener)
    assert (status, body) == (200, {"visits": 7})
    assert seen == {
        "host": "db.cluster-abc.us-east-1.rds.amazonaws.com",
        "port": 5432,
        "database": "app",
        "user": "app",
        "password": "s3cr3t-value",
    }
    assert connection.closed
    insert = [params for sql, params in connection.statements if sql.startswith("INSERT")]
    assert insert and set(insert[0]) == {"host"}  # parameters, never string formatting


def test_visits_without_a_database_is_a_404(app):
    assert app.route("GET", "/visits", {})[0] == 404


@pytest.mark.parametrize(
    "secret",
    ["not json", json.dumps({"host": "h"}), json.dumps(["list"])],
)
def test_a_malformed_secret_is_a_503_that_leaks_nothing(app, secret):
    status, body = app.route("GET", "/visits", {"DATABASE_SECRET": secret}, lambda s: None)
    assert status == 503 and "error" in body and secret not in json.dumps(body)


def test_a_database_that_cannot_be_reached_or_fails_is_a_503(app):
    def refuse(settings):
        raise TimeoutError("resuming")

    assert app.route("GET", "/visits", {"DATABASE_SECRET": SECRET}, refuse)[0] == 503
    failing = FakeConnection(fail_on="INSERT")
    assert app.route("GET", "/visits", {"DATABASE_SECRET": SECRET}, lambda s: failing)[0] == 503
    assert failing.closed


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("POST", "/visits", 405), ("GET", "/nope", 404), ("DELETE", "/", 405)],
)
def test_wrong_methods_and_paths_are_4xx(app, method, path, status):
    assert app.route(method, path, {})[0] == status


def test_the_image_installs_the_pinned_driver_and_verifies_the_database_certificate():
    dockerfile = (APP_DIR / "Dockerfile").read_text()
    assert "pg8000==" in (APP_DIR / "requirements.txt").read_text()
    assert "rds-ca.pem" in dockerfile and "USER 1000:1000" in dockerfile
    source = (APP_DIR / "web_app" / "app.py").read_text()
    assert "CERT_NONE" not in source and "check_hostname = False" not in source
