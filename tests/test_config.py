"""Stage configuration: what cdk.json may say, and the clear errors when it says it wrong."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest

from stacks.config import StageSettings, blueprint_settings, parse_settings, require, stage_from_context
from tests.support.synth import cdk_json_context


def context_reader(overrides: dict | None = None, stage: str = "dev"):
    context = {**cdk_json_context(stage), **(overrides or {})}
    return context.get


def test_cdk_json_stages_parse():
    dev = stage_from_context(context_reader())
    prod = stage_from_context(context_reader(stage="prod"))
    assert (dev.name, dev.keep_data, dev.region, dev.availability_zones) == ("dev", False, None, ())
    assert prod.keep_data and prod.region == "us-east-1" and len(prod.availability_zones) == 3
    assert prod.cost_allocation_tags() == {"Project": "aws-architecture-blueprints",
                                           "Environment": "prod", "Team": "platform-engineering"}


def test_unknown_stage_names_the_setting_and_allowed_values():
    with pytest.raises(ValueError, match=r"setting 'stage' is 'staging'; allowed: dev, prod"):
        stage_from_context(context_reader({"stage": "staging"}))


@pytest.mark.parametrize("stage_override, message", [
    ({"log_retention_days": 10}, r"log_retention_days' is 10; allowed: 1, 3, 5"),
    ({"keep_data": "sometimes"}, r"stages.dev.keep_data' is 'sometimes'; expected true/false"),
    ({"availability_zones": ["eu-west-1a"], "region": "us-east-1"}, r"every AZ must be in region"),
    ({"colour": "blue"}, r"unknown setting\(s\) stages.dev.colour; allowed settings"),
])
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

    parsed = parse_settings(Example, {"count": "3", "on": "true", "ratio": "0.5", "names": "x, y"}, "ex")
    assert parsed == Example(count=3, on=True, ratio=0.5, names=("x", "y"))
    with pytest.raises(ValueError, match=r"setting 'ex.mode' is 'c'; expected one of 'a', 'b'"):
        parse_settings(Example, {"count": 1, "on": True, "ratio": 1, "names": [], "mode": "c"}, "ex")
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

    with pytest.raises(ValueError, match=r"^blueprints.x.dev: setting 'low' is 5; must be less than high \(1\)$"):
        blueprint_settings(Range, {"blueprints": {"x": {"dev": {"low": 5}}}}.get, "x",
                           stage_from_context(context_reader()))


def test_every_blueprint_block_in_cdk_json_parses_for_both_stages():
    import app

    for stage_name in ("dev", "prod"):
        read = context_reader(stage=stage_name)
        stage = stage_from_context(read)
        for key, module in app.BLUEPRINTS.items():
            assert blueprint_settings(module.SETTINGS, read, key, stage) is not None
        assert set(read("blueprints")) <= set(app.BLUEPRINTS), "cdk.json names an unknown blueprint"
