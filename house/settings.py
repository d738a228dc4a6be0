"""Configuration: cdk.json context -> frozen, validated settings objects.

`app.py` reads context once, through this module, and hands plain values to the stacks;
patterns never read context. Every problem with a setting is a `ValueError` that names the
setting (its full path in cdk.json), the value it got and what is allowed, raised at synth
time instead of an hour into a CloudFormation deploy.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import types
import typing
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import aws_cdk as cdk

from house.defaults import RETENTION_DAYS
from house.edge import CloudFrontEdge

STAGES = ("dev", "prod")

T = TypeVar("T")


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(hint)[0])}"
    if origin is dict:
        return "an object of strings"
    if hint is type(None):
        return "null"
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string"}.get(
        hint, getattr(hint, "__name__", str(hint))
    )


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Turn a JSON (or `-c key=value` string) value into `hint`, or raise naming `key`."""
    origin = typing.get_origin(hint)
    wrong = ValueError(f"setting '{key}' is {value!r}; expected {_type_name(hint)}")
    if origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(hint):
            try:
                return _coerce(value, arm, key)
            except ValueError:
                continue
        raise wrong
    if hint is type(None):
        if value is None:
            return None
        raise wrong
    if origin is Literal:
        if value in typing.get_args(hint):
            return value
        raise wrong
    if origin is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise wrong
        item = typing.get_args(hint)[0]
        return tuple(_coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise wrong
        return dict(value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise wrong
    if hint is int:
        if isinstance(value, bool):
            raise wrong
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise wrong
    if hint is float:
        if isinstance(value, bool):
            raise wrong
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise wrong from None
    if hint is str:
        if isinstance(value, str):
            return value
        raise wrong
    raise TypeError(f"settings type {hint!r} for '{key}' is not supported by house.settings")


def parse_settings(cls: type[T], raw: Any, where: str) -> T:
    """Build the frozen dataclass `cls` from the mapping `raw` found at `where` in cdk.json.

    Unknown keys, missing required keys and wrongly typed values raise `ValueError`; so do the
    cross-field checks a settings class makes in `__post_init__` (prefixed with `where`).
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"setting '{where}' must be an object, got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ValueError(
            "unknown setting(s) "
            f"{', '.join(f'{where}.{k}{did_you_mean(k, fields)}' for k in unknown)}"
            f"; allowed settings in '{where}': {', '.join(sorted(fields))}"
        )
    kwargs = {}
    for name, field in fields.items():
        if name in raw:
            kwargs[name] = _coerce(raw[name], hints[name], f"{where}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ValueError(f"setting '{where}.{name}' is required ({_type_name(hints[name])})")
    try:
        return cls(**kwargs)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None


def did_you_mean(name: str, choices) -> str:
    """` (did you mean 'x'?)` for the closest of `choices`, or '' when none is close."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    if not close and "_" in str(name):  # neptune_graph for neptune-graph
        close = [c for c in map(str, choices) if c == str(name).replace("_", "-")]
    return f" (did you mean '{close[0]}'?)" if close else ""


def require(condition: bool, setting: str, value: Any, allowed: str) -> None:
    """The one way a settings class states a cross-field rule."""
    if not condition:
        raise ValueError(f"setting '{setting}' is {value!r}; {allowed}")


@dataclasses.dataclass(frozen=True)
class StageSettings:
    """What every blueprint shares for one stage: where it goes and how careful it is."""

    name: Literal["dev", "prod"]
    project: str
    team: str
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    # None = environment-agnostic stacks (CDK_DEFAULT_REGION is used when set).
    region: str | None = None
    # Explicit AZ names let an environment-agnostic synth spread a VPC over 3 AZs; empty =
    # the two AZs CloudFormation picks with Fn::GetAZs.
    availability_zones: tuple[str, ...] = ()
    log_retention_days: int = 14
    # prod: RETAIN + deletion protection on every data store; dev: DESTROY, disposable.
    keep_data: bool = False

    def __post_init__(self) -> None:
        require(
            self.log_retention_days in RETENTION_DAYS,
            "log_retention_days",
            self.log_retention_days,
            f"allowed: {', '.join(map(str, RETENTION_DAYS))} (CloudWatch Logs values)",
        )
        for az in self.availability_zones:
            require(
                self.region is None or az.startswith(self.region),
                "availability_zones",
                az,
                f"every AZ must be in region {self.region!r}",
            )
        for key in self.tags:
            require(
                key not in ("Project", "Environment", "Team"),
                "tags",
                key,
                "Project, Environment and Team are set from 'project', 'stage' and 'team'",
            )

    @property
    def removal_policy(self) -> cdk.RemovalPolicy:
        return cdk.RemovalPolicy.RETAIN if self.keep_data else cdk.RemovalPolicy.DESTROY

    @property
    def environment(self) -> cdk.Environment:
        """Account and region for stacks: context region first, then the CLI's defaults."""
        return cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=self.region or os.environ.get("CDK_DEFAULT_REGION"),
        )

    def stack_name(self, blueprint_stack_id: str) -> str:
        """CloudFormation name: `NeptuneGraph-dev`, so dev and prod can share an account."""
        return f"{blueprint_stack_id}-{self.name}"

    def stack_kwargs(
        self, blueprint_stack_id: str, *, cross_region_references: bool = False
    ) -> dict[str, Any]:
        """What a blueprint's `build()` constructs stack `blueprint_stack_id` with: its
        CloudFormation name and environment, and `cross_region_references` for a stack that
        reads values from another region (a CloudFront stack's us-east-1 companion). CDK reads
        that flag only when the stack is constructed; it changes nothing in a stack that never
        makes such a reference."""
        return {
            "stack_name": self.stack_name(blueprint_stack_id),
            "env": self.environment,
            "cross_region_references": cross_region_references,
        }

    def cloudfront_edge(self, stack: cdk.Stack) -> CloudFrontEdge:
        """Where `stack`'s us-east-1-only CloudFront resources go: `stack` itself in us-east-1,
        else its companion stack `<StackId>Edge`, CloudFormation name `<StackId>Edge-<stage>`."""
        return CloudFrontEdge(
            stack,
            companion_name=self.stack_name(f"{stack.node.id}Edge"),
            region_setting=f"stages.{self.name}.region",
        )

    def cost_allocation_tags(self) -> dict[str, str]:
        return {"Project": self.project, "Environment": self.name, "Team": self.team, **self.tags}


def stage_from_context(node_context: typing.Callable[[str], Any]) -> StageSettings:
    """Read `stage`, `project`, `team`, `tags` and `stages.<stage>` from the app's context."""
    stage = node_context("stage") or "dev"
    if stage not in STAGES:
        raise ValueError(f"setting 'stage' is {stage!r}; allowed: {', '.join(STAGES)}")
    stages = node_context("stages") or {}
    if not isinstance(stages, Mapping):
        raise ValueError(f"setting 'stages' must be an object, got {stages!r}")
    raw = {
        "name": stage,
        "project": node_context("project"),
        "team": node_context("team"),
        "tags": node_context("tags") or {},
        **(stages.get(stage) or {}),
    }
    return parse_settings(StageSettings, raw, f"stages.{stage}")


def blueprint_settings(
    cls: type[T], node_context: typing.Callable[[str], Any], blueprint: str, stage: StageSettings
) -> T:
    """Settings of one blueprint for this stage, from `blueprints.<blueprint>.<stage>`.

    `-c <blueprint>.<setting>=<value>` overrides one setting for one CLI run (the CLI cannot
    set a key inside the nested `blueprints` object), e.g.
    `npx cdk deploy -c fargate-service.image=public.ecr.aws/nginx/nginx:stable-alpine`.
    """
    blueprints = node_context("blueprints") or {}
    raw = (blueprints.get(blueprint) or {}).get(stage.name)
    overrides = {
        field.name: node_context(f"{blueprint}.{field.name}") for field in dataclasses.fields(cls)
    }  # type: ignore[arg-type]
    overrides = {name: value for name, value in overrides.items() if value is not None}
    if overrides and (raw is None or isinstance(raw, Mapping)):
        raw = {**(raw or {}), **overrides}
    return parse_settings(cls, raw, f"blueprints.{blueprint}.{stage.name}")


# Top-level context keys this app reads; everything else must be CDK's or the CLI's own.
APP_CONTEXT_KEYS = ("stage", "project", "team", "tags", "stages", "blueprints", "blueprints_only")
# Written by the CDK CLI itself (cdk.context.json, `cdk acknowledge`, `cdk.json` options).
_CDK_OWN_KEYS = ("acknowledged-issue-numbers",)
CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def _source(key: str) -> str:
    """Where a context key came from, as far as the app can tell: cdk.json, else the command
    line (`-c`) or cdk.context.json."""
    try:
        in_cdk_json = key in json.loads(CDK_JSON.read_text()).get("context", {})
    except (OSError, ValueError):
        in_cdk_json = False
    return "cdk.json" if in_cdk_json else f"-c {key} (command line or cdk.context.json)"


def check_context(
    context: Mapping[str, Any],
    blueprints: Mapping[str, type],
    selected: Collection[str],
    stage: StageSettings,
) -> None:
    """Every key the app could misread fails here, naming where it came from and the closest
    valid names: a mistyped blueprint in `blueprints`, a selected blueprint without a block for
    this stage, `-c <blueprint>.<setting>` for an unknown blueprint or setting, and any other
    top-level key that is neither the app's nor CDK's (`@aws-cdk/...`, `aws:...`, lookups).

    `blueprints`: blueprint key -> its settings class; `selected`: the keys being built."""
    declared = context.get("blueprints") or {}
    if not isinstance(declared, Mapping):
        raise ValueError(f"setting 'blueprints' must be an object, got {declared!r}")
    for key in declared:
        if key not in blueprints:
            raise ValueError(
                f"cdk.json blueprints.{key} names no blueprint{did_you_mean(key, blueprints)}; "
                f"blueprints: {', '.join(blueprints)}"
            )
    for key in selected:
        block = declared.get(key)
        if not isinstance(block, Mapping) or stage.name not in block:
            raise ValueError(
                f"cdk.json blueprints.{key}.{stage.name} is missing: give the blueprint a block "
                f"for stage {stage.name!r} (an empty object {{}} means its defaults)"
            )
    for key in context:
        if key.startswith(("@", "aws:", "aws-cdk:")) or ":" in key or key in _CDK_OWN_KEYS:
            continue
        if key in APP_CONTEXT_KEYS:
            continue
        prefix, dot, setting = key.partition(".")
        if not dot:
            raise ValueError(
                f"{_source(key)}: unknown setting {key!r}"
                f"{did_you_mean(key, APP_CONTEXT_KEYS)}; top-level settings: "
                f"{', '.join(APP_CONTEXT_KEYS)}, or <blueprint>.<setting>"
            )
        if prefix not in blueprints:
            raise ValueError(
                f"{_source(key)}: {prefix!r} is no blueprint"
                f"{did_you_mean(prefix, blueprints)}; use <blueprint>.<setting> "
                f"with a blueprint of: {', '.join(blueprints)}"
            )
        fields = [f.name for f in dataclasses.fields(blueprints[prefix])]  # type: ignore[arg-type]
        if setting not in fields:
            raise ValueError(
                f"{_source(key)}: {prefix} has no setting {setting!r}"
                f"{did_you_mean(setting, fields)}; its settings: "
                f"{', '.join(sorted(fields))}"
            )
