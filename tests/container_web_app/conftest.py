"""Fixtures of the container-web-app tests: the stack's template per stage and variant synths
for what the default profiles leave off (App Runner, private networking, no database)."""

from __future__ import annotations

import pytest

from tests.support.synth import Synthesized, synthesize_once

STACK_ID = "ContainerWebApp"
KEY = "container-web-app"

APP_RUNNER = {"blueprints_only": KEY, f"{KEY}.engine": "apprunner"}
PRIVATE = {"blueprints_only": KEY, f"{KEY}.task_subnets": "private"}
PRIVATE_WITH_NAT = {**PRIVATE, f"{KEY}.nat_gateways": "1"}
NO_DATABASE = {"blueprints_only": KEY, f"{KEY}.database": "false"}
APP_RUNNER_NO_DATABASE = {**APP_RUNNER, f"{KEY}.database": "false"}


def _variant(tmp_path_factory, name: str, context: dict, stage: str = "dev") -> Synthesized:
    return synthesize_once(tmp_path_factory, stage, context)


@pytest.fixture(scope="session")
def app_runner(tmp_path_factory) -> Synthesized:
    return _variant(tmp_path_factory, "apprunner", APP_RUNNER)


@pytest.fixture(scope="session")
def app_runner_prod(tmp_path_factory) -> Synthesized:
    return _variant(tmp_path_factory, "apprunner-prod", APP_RUNNER, "prod")


@pytest.fixture(scope="session")
def private(tmp_path_factory) -> Synthesized:
    return _variant(tmp_path_factory, "private", PRIVATE)


@pytest.fixture(scope="session")
def private_with_nat(tmp_path_factory) -> Synthesized:
    return _variant(tmp_path_factory, "private-nat", PRIVATE_WITH_NAT)


@pytest.fixture(scope="session")
def no_database(tmp_path_factory) -> Synthesized:
    return _variant(tmp_path_factory, "nodb", NO_DATABASE)


@pytest.fixture(scope="session")
def app_runner_no_database(tmp_path_factory) -> Synthesized:
    return _variant(tmp_path_factory, "apprunner-nodb", APP_RUNNER_NO_DATABASE)


@pytest.fixture
def template(assembly):
    return assembly.assertions(STACK_ID)
