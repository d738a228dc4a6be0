"""`python -m deployment.preflight` end to end: the CLI's errors and its credentials-only mode,
over the session's dev assembly and hand-written ones. (Each blueprint's preflight against a
moto account is in its own folder, tests/<blueprint>/test_preflight.py.)"""

from __future__ import annotations

import pytest

from deployment import preflight_checks as checks
from deployment.assembly import Assembly
from deployment.preflight import main
from tests.support.preflight_fakes import without_credentials, write_assembly


@pytest.fixture(scope="session")
def synthesized(synth):
    return synth("dev").outdir


def test_an_unknown_stack_lists_the_stacks(synthesized, capsys):
    assert main(["NoSuchStack", "--assembly", str(synthesized)]) == 2
    error = capsys.readouterr().err
    assert "no stack 'NoSuchStack'" in error
    assert all(stack_id in error for stack_id in Assembly(synthesized).stacks)


def test_a_missing_assembly_says_to_synthesize(tmp_path, capsys):
    assert main(["AccountBaseline", "--assembly", str(tmp_path / "nowhere")]) == 2
    assert "synthesize first" in capsys.readouterr().err


def test_no_credentials_is_one_clean_line(tmp_path, monkeypatch, capsys):
    stack = write_assembly(tmp_path / "cdk.out", {"Resources": {}})
    without_credentials(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert main([stack.id, "--assembly", str(tmp_path / "cdk.out")]) == 1
    output = capsys.readouterr().out.strip().splitlines()
    assert output == [
        f"FAIL  credentials         no AWS credentials found -> {checks.NO_CREDENTIALS_FIX}"
    ]


def test_a_profile_that_does_not_exist_is_one_clean_line(tmp_path, monkeypatch, capsys):
    write_assembly(tmp_path / "cdk.out", {"Resources": {}})
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_PROFILE", "missing")
    assert main(["Blueprint", "--assembly", str(tmp_path / "cdk.out")]) == 1
    [line] = capsys.readouterr().out.strip().splitlines()
    assert line.startswith("FAIL  credentials") and "missing" in line


def test_credentials_only_is_silent_with_credentials_and_one_line_without(
    aws, synthesized, tmp_path, monkeypatch, capsys
):
    """What `make diff` and `make destroy` run first."""
    assert main(["AccountBaseline", "--assembly", str(synthesized), "--credentials-only"]) == 0
    assert capsys.readouterr().out == ""
    without_credentials(monkeypatch, tmp_path)
    assert main(["AccountBaseline", "--assembly", str(synthesized), "--credentials-only"]) == 1
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line.startswith("FAIL  credentials") and "docs/deploying.md" in line
