"""Session fixtures: one synth per stage for the whole test session."""

from __future__ import annotations

import pytest

from tests.support.synth import Synthesized, synthesize

STAGES = ("dev", "prod")


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> "callable":
    """`synth("dev")` -> the dev assembly, built on first use and shared by every test."""
    built: dict[str, Synthesized] = {}

    def get(stage: str) -> Synthesized:
        if stage not in built:
            built[stage] = synthesize(stage, tmp_path_factory.mktemp(f"cdk.out-{stage}"))
        return built[stage]

    return get


@pytest.fixture(scope="session", params=STAGES)
def assembly(request, synth) -> Synthesized:
    """Each test that takes `assembly` runs once per stage."""
    return synth(request.param)
