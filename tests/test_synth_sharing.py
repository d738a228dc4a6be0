"""The test session's synths are shared by its xdist workers (tests/support/synth.py
synthesize_once): one build per assembly, read by every worker, never a half-written one."""

from __future__ import annotations

import pytest

from tests.support import synth
from tests.support.synth import Synthesized, synthesize_once


class OneWorker:
    """What synthesize_once reads of pytest's TempPathFactory, for a worker of a session whose
    folder is `session`."""

    def __init__(self, session, worker: str) -> None:
        self.base = session / worker
        self.base.mkdir(parents=True, exist_ok=True)

    def getbasetemp(self):
        return self.base

    def mktemp(self, name):
        raise AssertionError("a worker builds into the session's shared folder")


@pytest.fixture
def builds(monkeypatch):
    """Replaces the real synth (~25 s) with one that writes a manifest and records its folder;
    `builds.fail` makes the next build raise part-way."""
    done: list = []

    def fake(stage, outdir, extra_context=None):
        outdir.mkdir(parents=True, exist_ok=True)
        if getattr(fake, "fail", False):
            fake.fail = False
            (outdir / "half-written.template.json").write_text("{")
            raise RuntimeError("jsii died")
        (outdir / "manifest.json").write_text('{"artifacts": {}}')
        done.append(outdir)
        return Synthesized(stage=stage, outdir=outdir, error="1 cdk-nag finding", context={})

    monkeypatch.setattr(synth, "synthesize", fake)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    fake.done = done
    return fake


def test_workers_share_one_build_per_assembly_and_its_outcome(tmp_path, builds):
    gw0, gw1 = OneWorker(tmp_path, "gw0"), OneWorker(tmp_path, "gw1")
    first = synthesize_once(gw0, "dev", {"my-blog.sender_email": "a@example.com"})
    again = synthesize_once(gw1, "dev", {"my-blog.sender_email": "a@example.com"})
    other = synthesize_once(gw1, "dev", {"my-blog.sender_email": "b@example.com"})
    prod = synthesize_once(gw0, "prod", {"my-blog.sender_email": "a@example.com"})
    assert first.outdir == again.outdir
    assert len({first.outdir, other.outdir, prod.outdir}) == 3
    assert builds.done == [first.outdir, other.outdir, prod.outdir]
    assert again.error == "1 cdk-nag finding"  # the build's outcome, as the builder saw it
    assert again.context["my-blog.sender_email"] == "a@example.com"
    assert again.manifest == {"artifacts": {}}


def test_a_build_that_raised_is_built_again_from_an_empty_folder(tmp_path, builds):
    builds.fail = True
    with pytest.raises(RuntimeError, match="jsii died"):
        synthesize_once(OneWorker(tmp_path, "gw0"), "dev")
    built = synthesize_once(OneWorker(tmp_path, "gw1"), "dev")
    assert builds.done == [built.outdir]
    assert sorted(p.name for p in built.outdir.iterdir()) == ["manifest.json"]
