"""Stage configuration and instances: what cdk.json may say, and the clear errors when it says it
wrong (each a one-line ValueError naming the setting, where it came from and what is allowed)."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field, ValidationError, model_validator

from house.settings import (
    Settings,
    blueprint_settings,
    instance_stack_ids,
    parse_settings,
    require,
    stage_from_context,
)
from tests.support.synth import cdk_json_context, registered, requires


def context_reader(overrides: dict | None = None, stage: str = "dev"):
    context = {**cdk_json_context(stage), **(overrides or {})}
    return context.get


def test_stage_settings_follow_cdk_json():
    """Whatever cdk.json says: the stage's durability is derived from keep_data once."""
    import aws_cdk as cdk

    raw = cdk_json_context("prod")
    prod = stage_from_context(context_reader(stage="prod"))
    assert prod.name == "prod" and prod.keep_data is raw["stages"]["prod"]["keep_data"]
    assert prod.region == raw["stages"]["prod"]["region"]
    assert prod.availability_zones == tuple(raw["stages"]["prod"]["availability_zones"])
    assert prod.removal_policy == (
        cdk.RemovalPolicy.RETAIN if prod.keep_data else cdk.RemovalPolicy.DESTROY
    )
    assert prod.cost_allocation_tags() == {
        "Project": raw["project"],
        "Environment": "prod",
        "Team": raw["team"],
        **raw["tags"],
    }


def test_unknown_stage_names_the_setting_and_allowed_values():
    with pytest.raises(ValueError, match=r"setting 'stage' is 'staging'; allowed: dev, prod"):
        stage_from_context(context_reader({"stage": "staging"}))


@pytest.mark.parametrize(
    "stage_override, message",
    [
        (
            {"log_retention_days": 10},
            r"^setting 'stages.dev.log_retention_days' is 10; expected one of 1, 3, 5",
        ),
        ({"keep_data": "sometimes"}, r"stages.dev.keep_data' is 'sometimes'; expected true/false"),
        ({"keep_data": 1.5}, r"stages.dev.keep_data' is 1.5; expected true/false"),
        (
            {"availability_zones": ["eu-west-1a"], "region": "us-east-1"},
            r"^setting 'stages.dev.availability_zones' is 'eu-west-1a'; every AZ must be in region",
        ),
        ({"region": "mars-1"}, r"'stages.dev.region' is 'mars-1'; expected an AWS region name"),
        ({"region": "eu-west-1\n"}, r"'stages.dev.region' is 'eu-west-1\\n'"),
        ({"colour": "blue"}, r"unknown setting\(s\) stages.dev.colour; allowed settings"),
        (
            {"operations_email": "ops"},
            r"'stages.dev.operations_email' is 'ops'; expected an e-mail address",
        ),
        (
            {"backup_retention_days": 0},
            r"'stages.dev.backup_retention_days' is 0; allowed: 1..36500",
        ),
        (
            {"backup_copy_vault_arn": "arn:aws:s3:::bucket"},
            r"'stages.dev.backup_copy_vault_arn' is 'arn:aws:s3:::bucket'; "
            r"expected a backup vault ARN",
        ),
    ],
)
def test_malformed_stage_settings_fail_with_the_key(stage_override, message):
    stages = {"dev": {**cdk_json_context("dev")["stages"]["dev"], **stage_override}}
    with pytest.raises(ValueError, match=message):
        stage_from_context(context_reader({"stages": stages}))


def test_every_stage_block_is_checked_not_only_the_one_built():
    stages = cdk_json_context("dev")["stages"]
    stages = {**stages, "prod": {**stages["prod"], "keep_dta": True}}
    with pytest.raises(ValueError, match=r"stages.prod.keep_dta \(did you mean 'keep_data'\?\)"):
        stage_from_context(context_reader({"stages": stages}))
    with pytest.raises(ValueError, match=r"cdk.json stages.staging is no stage"):
        stage_from_context(
            context_reader({"stages": {**cdk_json_context("dev")["stages"], "staging": {}}})
        )


def test_a_stage_setting_can_be_overridden_on_the_command_line():
    stage = stage_from_context(context_reader({"region": "eu-west-1", "keep_data": "true"}))
    assert (stage.region, stage.keep_data) == ("eu-west-1", True)
    with pytest.raises(
        ValueError, match=r"^setting 'stages.dev.log_retention_days' \(-c log_retention_days\)"
    ):
        stage_from_context(context_reader({"log_retention_days": "13"}))


def test_reserved_tag_names_are_rejected():
    with pytest.raises(ValueError, match="Project, Environment and Team are set"):
        stage_from_context(context_reader({"tags": {"Environment": "qa"}}))


class Example(Settings):
    RENAMED = {"old_count": "count"}

    count: int = Field(ge=1, le=11)
    on: bool
    ratio: float
    names: tuple[str, ...]
    mode: Literal["a", "b"] = "a"
    days: Literal[7, 14] = 7
    label: str | None = None


def test_cli_strings_mean_what_the_json_values_would():
    parsed = parse_settings(
        Example,
        {
            "count": "3",
            "on": "true",
            "ratio": "0.5",
            "names": "x, y",
            "days": "14",
            "label": "null",
        },
        "ex",
    )
    assert parsed == Example(count=3, on=True, ratio=0.5, names=("x", "y"), days=14)


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"mode": "c"}, r"^setting 'ex.mode' is 'c'; expected one of 'a', 'b'$"),
        ({"count": None}, r"^setting 'ex.count' is None; expected an integer$"),
        ({"count": True}, r"^setting 'ex.count' is True; expected an integer$"),
        ({"count": 12}, r"^setting 'ex.count' is 12; allowed: 1..11$"),
        ({"ratio": True}, r"^setting 'ex.ratio' is True; expected a number$"),
        ({"names": ["a", 1]}, r"^setting 'ex.names\[1\]' is 1; expected a string$"),
        ({"old_count": 3}, r"^ex.old_count was renamed to count$"),
        ({"cuont": 3}, r"^unknown setting\(s\) ex.cuont \(did you mean 'count'\?\)"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting_the_value_and_what_is_allowed(raw, message):
    good = {"count": 1, "on": True, "ratio": 1, "names": []}
    with pytest.raises(ValueError, match=message):
        parse_settings(Example, {**good, **raw}, "ex")


def test_a_missing_required_setting_is_named():
    with pytest.raises(ValueError, match=r"^setting 'ex.count' is required \(an integer\)$"):
        parse_settings(Example, {"on": True, "ratio": 1, "names": []}, "ex")


def test_settings_are_frozen():
    parsed = parse_settings(Example, {"count": 1, "on": True, "ratio": 1, "names": []}, "ex")
    with pytest.raises(ValidationError, match="frozen"):
        parsed.count = 2  # type: ignore[misc]


class Range(Settings):
    low: int = 0
    high: int = 1

    @model_validator(mode="after")
    def _rules(self) -> Range:
        require(self.low < self.high, "low", self.low, f"must be less than high ({self.high})")
        return self


def test_rules_between_fields_name_the_full_path_and_the_command_line_option():
    stage = stage_from_context(context_reader())
    read = {"blueprints": {"x": {"dev": {"low": 5}}}}.get
    with pytest.raises(
        ValueError, match=r"^setting 'blueprints.x.dev.low' is 5; must be less than high \(1\)$"
    ):
        blueprint_settings(Range, read, "x", stage)
    read = {"blueprints": {"x": {"dev": {}}}, "x.low": "5"}.get
    with pytest.raises(ValueError, match=r"^setting 'blueprints.x.dev.low' \(-c x.low\) is 5;"):
        blueprint_settings(Range, read, "x", stage)


def test_every_instance_in_cdk_json_parses_for_both_stages():
    import app
    from house.settings import declared_instances

    for stage_name in ("dev", "prod"):
        read = context_reader(stage=stage_name)
        stage = stage_from_context(read)
        for key, blueprint in declared_instances(cdk_json_context(stage_name)).items():
            if blueprint not in registered():
                continue  # not built: its settings are not read (README: drop a blueprint)
            cls = app.BLUEPRINTS[blueprint].SETTINGS
            assert isinstance(blueprint_settings(cls, read, key, stage), cls)


def test_instance_stack_ids():
    assert instance_stack_ids("my-blog", "my-blog", ["MyBlog"]) == ["MyBlog"]
    assert instance_stack_ids("team-blog", "my-blog", ["MyBlog"]) == ["TeamBlog"]
    assert instance_stack_ids(
        "team-updates", "update-offload", ["UpdateServer", "UpdateOffload"]
    ) == [
        "TeamUpdatesUpdateServer",
        "TeamUpdatesUpdateOffload",
    ]


def build_with(context_overrides: dict, stage: str = "dev"):
    """Build the real app with cdk.json's context plus `context_overrides` (no synth)."""
    import aws_cdk as cdk

    import app

    return app.build_app(cdk.App(context={**cdk_json_context(stage), **context_overrides}))


def cdk_json_blueprints(**changes) -> dict:
    return {**cdk_json_context("dev")["blueprints"], **changes}


@pytest.mark.parametrize(
    "overrides, message",
    [
        # A mistyped instance key in cdk.json would otherwise build prod on the library defaults.
        pytest.param(
            {"blueprints": cdk_json_blueprints(neptune_graph={"dev": {}})},
            r"^cdk.json blueprints.neptune_graph names no blueprint "
            r"\(did you mean 'neptune-graph'\?\)",
            marks=requires("neptune-graph"),
        ),
        pytest.param(
            {"blueprints": cdk_json_blueprints(team={"blueprint": "my-blgo", "dev": {}})},
            r"^cdk.json blueprints.team.blueprint is 'my-blgo', which names no blueprint "
            r"\(did you mean 'my-blog'\?\)",
            marks=requires("my-blog"),
        ),
        pytest.param(
            {"blueprints": cdk_json_blueprints(Team_Blog={"blueprint": "my-blog", "dev": {}})},
            r"^cdk.json blueprints.Team_Blog: an instance key is lower-case words joined by '-'",
            marks=requires("my-blog"),
        ),
        pytest.param(
            {"blueprints": cdk_json_blueprints(**{"my-blog": {"dev": {}, "dve": {}}})},
            r"^cdk.json blueprints.my-blog.dve is neither a stage nor 'blueprint' "
            r"\(did you mean 'dev'\?\)",
            marks=requires("my-blog"),
        ),
        pytest.param(
            {"my-blog.daxx": "true"},
            r"^-c my-blog.daxx \(command line or cdk.context.json\): my-blog has no setting 'daxx' "
            r"\(did you mean 'dax'\?\)",
            marks=requires("my-blog"),
        ),
        pytest.param(
            {"my-todo-list.waf_enabled": "true"},
            r"^-c my-todo-list.waf_enabled was renamed to my-todo-list.waf$",
            marks=requires("my-todo-list"),
        ),
        pytest.param(
            {"my_blog.dax": "true"},
            r"'my_blog' is no instance in cdk.json blueprints \(did you mean 'my-blog'\?\)",
            marks=requires("my-blog"),
        ),
        ({"stge": "prod"}, r"unknown setting 'stge' \(did you mean 'stage'\?\)"),
        pytest.param(
            {"blueprints_only": "my-blgo"},
            r"setting 'blueprints_only' names 'my-blgo': no such instance "
            r"\(did you mean 'my-blog'\?\)",
            marks=requires("my-blog"),
        ),
    ],
)
def test_a_mistyped_key_fails_the_synth_naming_it_and_the_right_one(overrides, message):
    with pytest.raises(ValueError, match=message):
        build_with(overrides)


@requires("my-todo-list")
def test_an_old_key_in_cdk_json_says_what_it_is_called_now():
    blueprints = cdk_json_blueprints()
    blueprints["my-todo-list"] = {**blueprints["my-todo-list"], "prod": {"waf_enabled": True}}
    # Every stage's block is checked, not only the one being built.
    with pytest.raises(
        ValueError, match=r"^blueprints.my-todo-list.prod.waf_enabled was renamed to waf$"
    ):
        build_with({"blueprints": blueprints, "blueprints_only": "my-todo-list"})


@requires("my-blog")
def test_a_blueprint_without_a_block_for_the_stage_fails():
    blueprints = cdk_json_blueprints()
    blueprints["my-blog"] = {"prod": blueprints["my-blog"]["prod"]}
    with pytest.raises(ValueError, match=r"cdk.json blueprints.my-blog.dev is missing"):
        build_with({"blueprints": blueprints})
    blueprints["my-blog"]["dev"] = {}  # an empty block: the blueprint's defaults
    build_with({"blueprints": blueprints, "blueprints_only": "my-blog"})


@requires("my-blog")
def test_a_mistyped_key_inside_a_block_suggests_the_setting():
    blueprints = cdk_json_blueprints()
    blueprints["my-blog"] = {**blueprints["my-blog"], "dev": {"daxx": True}}
    with pytest.raises(ValueError, match=r"blueprints.my-blog.dev.daxx \(did you mean 'dax'\?\)"):
        build_with({"blueprints": blueprints, "blueprints_only": "my-blog"})


@requires("my-todo-list")
def test_a_second_instance_gets_its_own_stacks_settings_and_overrides():
    blueprints = cdk_json_blueprints(
        **{"team-todo": {"blueprint": "my-todo-list", "dev": {"api_throttle_rate": 5}}}
    )
    stacks = build_with(
        {
            "blueprints": blueprints,
            "blueprints_only": "my-todo-list,team-todo",
            "team-todo.api_throttle_burst": "7",
        }
    )
    names = {s.node.id: s.stack_name for s in stacks}
    assert names == {
        "AccountBaseline": "AccountBaseline",
        "MyTodoList": "MyTodoList-dev",
        "TeamTodo": "TeamTodo-dev",
    }
    stage = stage_from_context(context_reader())
    read = {
        **cdk_json_context("dev"),
        "blueprints": blueprints,
        "team-todo.api_throttle_burst": "7",
    }
    settings_model = registered()["my-todo-list"].SETTINGS
    team = blueprint_settings(settings_model, read.get, "team-todo", stage)
    assert (team.api_throttle_rate, team.api_throttle_burst) == (5, 7)


@requires("my-blog", "my-todo-list")
def test_instances_whose_stacks_would_collide_are_refused():
    blueprints = cdk_json_blueprints(**{"my-blog-edge": {"blueprint": "my-todo-list", "dev": {}}})
    with pytest.raises(ValueError, match=r"blueprints.my-blog-edge: its stack MyBlogEdge would"):
        build_with({"blueprints": blueprints})
    blueprints = cdk_json_blueprints(**{"account-baseline": {"blueprint": "my-blog", "dev": {}}})
    with pytest.raises(ValueError, match=r"id of the AccountBaseline stack"):
        build_with({"blueprints": blueprints})


@requires("my-todo-list")
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
