"""Stage configuration: what cdk.json may say, and the clear errors when it says it wrong."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest

from house.settings import (
    blueprint_settings,
    parse_settings,
    require,
    stage_from_context,
)
from tests.support.synth import cdk_json_context


def context_reader(overrides: dict | None = None, stage: str = "dev"):
    context = {**cdk_json_context(stage), **(overrides or {})}
    return context.get


def test_cdk_json_stages_parse():
    dev = stage_from_context(context_reader())
    prod = stage_from_context(context_reader(stage="prod"))
    assert (dev.name, dev.keep_data, dev.region, dev.availability_zones) == ("dev", False, None, ())
    assert prod.keep_data and prod.region == "us-east-1" and len(prod.availability_zones) == 3
    assert prod.cost_allocation_tags() == {
        "Project": "aws-architecture-blueprints",
        "Environment": "prod",
        "Team": "platform-engineering",
    }


def test_unknown_stage_names_the_setting_and_allowed_values():
    with pytest.raises(ValueError, match=r"setting 'stage' is 'staging'; allowed: dev, prod"):
        stage_from_context(context_reader({"stage": "staging"}))


@pytest.mark.parametrize(
    "stage_override, message",
    [
        ({"log_retention_days": 10}, r"log_retention_days' is 10; allowed: 1, 3, 5"),
        ({"keep_data": "sometimes"}, r"stages.dev.keep_data' is 'sometimes'; expected true/false"),
        (
            {"availability_zones": ["eu-west-1a"], "region": "us-east-1"},
            r"every AZ must be in region",
        ),
        ({"colour": "blue"}, r"unknown setting\(s\) stages.dev.colour; allowed settings"),
    ],
)
def test_malformed_stage_settings_fail_with_the_key(stage_override, message):
    stages = {"dev": {**cdk_json_context("dev")["stages"]["dev"], **stage_override}}
    with pytest.raises(ValueError, match=message):
        stage_from_context(context_reader({"stages": stages}))


def test_reserved_tag_names_are_rejected():
    with pytest.raises(ValueError, match="Project, Environment and Team are set"):
        stage_from_context(context_reader({"tags": {"Environment": "qa"}}))


def test_cli_strings_are_coerced_like_json_values():
    @dataclasses.dataclass(frozen=True)
    class Example:
        count: int
        on: bool
        ratio: float
        names: tuple[str, ...]
        mode: Literal["a", "b"] = "a"

    parsed = parse_settings(
        Example, {"count": "3", "on": "true", "ratio": "0.5", "names": "x, y"}, "ex"
    )
    assert parsed == Example(count=3, on=True, ratio=0.5, names=("x", "y"))
    with pytest.raises(ValueError, match=r"setting 'ex.mode' is 'c'; expected one of 'a', 'b'"):
        parse_settings(
            Example, {"count": 1, "on": True, "ratio": 1, "names": [], "mode": "c"}, "ex"
        )
    with pytest.raises(ValueError, match=r"setting 'ex.count' is required"):
        parse_settings(Example, {"on": True, "ratio": 1, "names": []}, "ex")
    with pytest.raises(ValueError, match=r"setting 'ex.count' is True; expected an integer"):
        parse_settings(Example, {"count": True, "on": True, "ratio": 1, "names": []}, "ex")


def test_cross_field_rules_are_prefixed_with_where_they_live():
    @dataclasses.dataclass(frozen=True)
    class Range:
        low: int = 0
        high: int = 1

        def __post_init__(self):
            require(self.low < self.high, "low", self.low, f"must be less than high ({self.high})")

    with pytest.raises(
        ValueError, match=r"^blueprints.x.dev: setting 'low' is 5; must be less than high \(1\)$"
    ):
        blueprint_settings(
            Range,
            {"blueprints": {"x": {"dev": {"low": 5}}}}.get,
            "x",
            stage_from_context(context_reader()),
        )


def test_every_blueprint_block_in_cdk_json_parses_for_both_stages():
    import app

    for stage_name in ("dev", "prod"):
        read = context_reader(stage=stage_name)
        stage = stage_from_context(read)
        for key, module in app.BLUEPRINTS.items():
            assert blueprint_settings(module.SETTINGS, read, key, stage) is not None
        assert set(read("blueprints")) <= set(app.BLUEPRINTS), "cdk.json names an unknown blueprint"


def build_with(context_overrides: dict, stage: str = "dev"):
    """Build the real app with cdk.json's context plus `context_overrides` (no synth)."""
    import aws_cdk as cdk

    import app

    app.build_app(cdk.App(context={**cdk_json_context(stage), **context_overrides}))


def cdk_json_blueprints(**changes) -> dict:
    return {**cdk_json_context("dev")["blueprints"], **changes}


@pytest.mark.parametrize(
    "overrides, message",
    [
        # A mistyped blueprint key in cdk.json would otherwise build prod on the library defaults.
        (
            {"blueprints": cdk_json_blueprints(neptune_graph={"dev": {}})},
            r"^cdk.json blueprints.neptune_graph names no blueprint "
            r"\(did you mean 'neptune-graph'\?\)",
        ),
        (
            {"my-blog.daxx": "true"},
            r"^-c my-blog.daxx \(command line or cdk.context.json\): my-blog has no setting 'daxx' "
            r"\(did you mean 'dax'\?\)",
        ),
        ({"my_blog.dax": "true"}, r"'my_blog' is no blueprint \(did you mean 'my-blog'\?\)"),
        ({"stge": "prod"}, r"unknown setting 'stge' \(did you mean 'stage'\?\)"),
    ],
)
def test_a_mistyped_key_fails_the_synth_naming_it_and_the_right_one(overrides, message):
    with pytest.raises(ValueError, match=message):
        build_with(overrides)


def test_a_blueprint_without_a_block_for_the_stage_fails():
    blueprints = cdk_json_blueprints()
    blueprints["my-blog"] = {"prod": blueprints["my-blog"]["prod"]}
    with pytest.raises(ValueError, match=r"cdk.json blueprints.my-blog.dev is missing"):
        build_with({"blueprints": blueprints})
    blueprints["my-blog"]["dev"] = {}  # an empty block: the blueprint's defaults
    build_with({"blueprints": blueprints, "blueprints_only": "my-blog"})


def test_a_mistyped_key_inside_a_block_suggests_the_setting():
    blueprints = cdk_json_blueprints()
    blueprints["my-blog"] = {**blueprints["my-blog"], "dev": {"daxx": True}}
    with pytest.raises(ValueError, match=r"blueprints.my-blog.dev.daxx \(did you mean 'dax'\?\)"):
        build_with({"blueprints": blueprints, "blueprints_only": "my-blog"})


def test_cdk_and_cli_keys_are_not_settings():
    build_with(
        {
            "@aws-cdk/aws-s3:someFutureFlag": True,
            "aws:cdk:toolkit-version": "x",
            "availability-zones:account=1:region=us-east-1": ["us-east-1a"],
            "acknowledged-issue-numbers": [1],
            "blueprints_only": "my-todo-list",
        }
    )


def test_a_configuration_error_is_one_line_and_exit_status_1():
    import json
    import subprocess
    import sys

    from tests.support.synth import REPO_ROOT

    # What the CDK CLI hands the app: cdk.json's context (and -c values) in CDK_CONTEXT_JSON.
    env = {
        "PATH": f"{REPO_ROOT / 'node_modules' / '.bin'}:/usr/bin:/bin",
        "CDK_CONTEXT_JSON": json.dumps({**cdk_json_context("dev"), "stge": "prod"}),
    }
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [result.stderr.strip().splitlines()[-1]]
    assert "unknown setting 'stge'" in errors[0] and "Traceback" not in result.stderr
