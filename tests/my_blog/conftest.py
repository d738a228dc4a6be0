"""MyBlog fixtures: cdk.json leaves the welcome email off (no `sender_email`), so the tests that
drive it synthesize MyBlog once per stage with a sender set, as a user turns it on:
`npx cdk deploy -c my-blog.sender_email=welcome@example.com`."""

from __future__ import annotations

import pytest

from tests.support.synth import Synthesized, synthesize_once

SENDER = "welcome@example.com"


@pytest.fixture(scope="session")
def with_sender(tmp_path_factory):
    """`with_sender("dev")` -> MyBlog alone with `sender_email` set, built once per session."""
    built: dict[str, Synthesized] = {}

    def get(stage: str) -> Synthesized:
        if stage not in built:
            built[stage] = synthesize_once(
                tmp_path_factory,
                stage,
                {"blueprints_only": "my-blog", "my-blog.sender_email": SENDER},
            )
        return built[stage]

    return get


@pytest.fixture
def sender_assembly(assembly, with_sender) -> Synthesized:
    """The stage of `assembly`, with the welcome email on."""
    return with_sender(assembly.stage)
