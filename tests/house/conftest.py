"""A stack of its own per test, synthesized with the house mechanisms app.py wires."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import pytest

from tests.support.synth import cdk_json_context


@pytest.fixture
def synthesized(tmp_path) -> Callable:
    """`synthesized(build)` -> the template of stack `Probe` (named `Probe-prod`) after
    `build(stack)` added resources and mechanisms to it."""

    def run(build: Callable[[cdk.Stack], None]) -> dict:
        app = cdk.App(outdir=str(tmp_path), context=cdk_json_context("prod"))
        stack = cdk.Stack(app, "Probe", stack_name="Probe-prod")
        build(stack)
        return app.synth().get_stack_by_name("Probe-prod").template

    return run
