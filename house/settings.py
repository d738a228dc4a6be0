"""Configuration: cdk.json context -> frozen, validated settings objects.

`app.py` reads context once, through this module, and hands plain values to the stacks;
patterns never read context. Settings are pydantic models (`Settings`): each field declares its
type, default, limits and description; rules between fields live in one
`@model_validator(mode="after")` per model. Every problem is one `ValueError` line that names the
setting by its full path in cdk.json (and the `-c` option when it came from the command line),
the value it got and what is allowed, raised at synth time instead of an hour into a
CloudFormation deploy. Unknown keys are errors, never ignored; a renamed key says its new name.

cdk.json `blueprints` holds *instances*: each key is one, built from the blueprint of the same
key, or from the one its block names with `"blueprint": "<blueprint key>"`; a block per stage
holds its settings. `-c <instance>.<setting>=<value>` overrides one of them for one CLI run,
`-c <stage setting>=<value>` (e.g. `-c region=eu-west-1`) one of the stage's.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import types
import typing
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

import aws_cdk as cdk
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from house.companion import RegionCompanion
from house.domains import zone_covers
from house.edge import CloudFrontEdge
from house.types import ALLOWED, BackupVaultArn, EmailAddress, LogRetentionDays, Region

STAGES = ("dev", "prod")
# The instance block's key that names its blueprint (when the instance key is not one).
BLUEPRINT_KEY = "blueprint"
INSTANCE_KEY = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")

S = TypeVar("S", bound="Settings")


# -- errors ---------------------------------------------------------------------------------------


class SettingError(ValueError):
    """A rule about one setting is broken: `setting` (its name, or a path), the `value` it has and
    what is `allowed`. `parse_settings` prefixes the name with where the setting lives."""

    def __init__(self, setting: str, value: Any, allowed: str) -> None:
        super().__init__(f"setting '{setting}' is {value!r}; {allowed}")
        self.setting, self.value, self.allowed = setting, value, allowed


def require(condition: bool, setting: str, value: Any, allowed: str) -> None:
    """The one way a settings model states a rule between fields (in its model validator)."""
    if not condition:
        raise SettingError(setting, value, allowed)


def require_domain_in_prod(
    info: ValidationInfo,
    *,
    domain_setting: str,
    domain: Any,
    opt_out_setting: str,
    opt_out: bool,
    gives_up: str,
) -> None:
    """Prod serves only HTTPS with a certificate of yours, TLS 1.2 or newer: a prod stage
    without a domain is a SettingError naming `domain_setting`, unless `opt_out_setting` (a
    boolean whose name says what it gives up) is true. `gives_up`: what a stage without a
    domain serves, in words. Dev may go without (its *.cloudfront.net or load-balancer name)."""
    stage = (info.context or {}).get("stage")
    if stage is None or stage.name != "prod":
        return
    require(
        bool(domain) or opt_out,
        domain_setting,
        domain,
        f"prod serves only HTTPS with a certificate of yours (TLS 1.2+): set {domain_setting} "
        "with hosted_zone_id and hosted_zone_name (a Route 53 public zone of yours; "
        "docs/deploying.md#custom-domains), or set "
        f"{opt_out_setting} true to accept {gives_up}",
    )


def require_in_zone(setting: str, value: Any, names: Sequence[str], zone_name: str | None) -> None:
    """Each of `names` is the Route 53 zone `zone_name`'s apex or a name below it (its
    certificate is validated, and its alias record written, in that zone); nothing to check
    without a zone."""
    for name in names if zone_name else ():
        require(
            zone_covers(zone_name, name),
            setting,
            value,
            f"{name!r} is not in the hosted zone {zone_name!r}",
        )


def did_you_mean(name: str, choices) -> str:
    """` (did you mean 'x'?)` for the closest of `choices`, or '' when none is close."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    if not close and "_" in str(name):  # neptune_graph for neptune-graph
        close = [c for c in map(str, choices) if c == str(name).replace("_", "-")]
    return f" (did you mean '{close[0]}'?)" if close else ""


def _arms(hint: Any) -> list[Any]:
    """The types a value of `hint` may have: the arms of a union, annotations unwrapped."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        return _arms(typing.get_args(hint)[0])
    if origin in (typing.Union, types.UnionType):
        return [arm for each in typing.get_args(hint) for arm in _arms(each)]
    return [hint]


def type_name(hint: Any) -> str:
    """What a value of `hint` looks like, in words: 'an integer', "one of 'a', 'b'", ..."""
    origin = typing.get_origin(hint)
    if origin is Annotated:
        for extra in typing.get_args(hint)[1:]:
            allowed = (getattr(extra, "json_schema_extra", None) or {}).get(ALLOWED)
            if allowed:
                return allowed
        return type_name(typing.get_args(hint)[0])
    if origin is Literal:
        return "one of " + ", ".join(repr(v) for v in typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        arms = typing.get_args(hint)
        named = [type_name(a) for a in arms if a is not type(None)]
        return " or ".join(([] if len(named) == len(arms) else ["null"]) + named)
    if origin is tuple:
        return f"a list of {type_name(typing.get_args(hint)[0])}"
    if origin is dict:
        return "an object of strings"
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string"}.get(
        hint, getattr(hint, "__name__", str(hint))
    )


# -- the settings base model ----------------------------------------------------------------------


class Settings(BaseModel):
    """Base of every settings model: unknown keys are errors, values are frozen, and the strings
    `-c key=value` hands over mean what the JSON value would: "3", "0.5", "true", "null", and
    "a,b" for a list.

    `RENAMED`: old setting name -> new name, so an old cdk.json or command line is told what a
    key is called now instead of only that it is unknown."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    RENAMED: ClassVar[Mapping[str, str]] = {}

    @field_validator("*", mode="before")
    @classmethod
    def _like_json(cls, value: Any, info: ValidationInfo) -> Any:
        hint = cls.model_fields[info.field_name].annotation
        arms = _arms(hint)
        counts = any(
            arm in (int, float)
            or (
                typing.get_origin(arm) is Literal
                and any(type(a) is int for a in typing.get_args(arm))
            )
            for arm in arms
        )
        if isinstance(value, str):
            if value == "null" and type(None) in arms:
                return None
            if any(typing.get_origin(arm) is tuple for arm in arms):
                return tuple(item.strip() for item in value.split(",") if item.strip())
            if counts and re.fullmatch(r"-?\d+", value.strip()):
                return int(value)  # pydantic reads "3" as 3, but not as Literal[3]
        if isinstance(value, bool) and bool not in arms and counts:
            raise ValueError(f"expected {type_name(hint)}")  # pydantic would read true as 1
        return value

    @classmethod
    def setting_names(cls) -> list[str]:
        return list(cls.model_fields)

    def with_changes(self: S, **changes: Any) -> S:
        """A copy with `changes`, validated as if cdk.json said so (a test's variant)."""
        return self.model_validate({**self.model_dump(), **changes})


def unknown_keys_problem(
    cls: type[Settings], keys: Collection[str], where: str, names: Collection[str] = ()
) -> str | None:
    """The error for keys of `where` that are not settings of `cls` (or not in `names`, when
    given), or None: a renamed key says its new name, any other names the closest setting and
    lists the allowed ones."""
    names = list(names or cls.setting_names())
    unknown = [k for k in keys if k not in names]
    if not unknown:
        return None
    renamed = [k for k in unknown if k in cls.RENAMED]
    if renamed:
        return "; ".join(f"{where}.{k} was renamed to {cls.RENAMED[k]}" for k in renamed)
    return (
        "unknown setting(s) "
        f"{', '.join(f'{where}.{k}{did_you_mean(k, names)}' for k in sorted(unknown))}"
        f"; allowed settings in '{where}': {', '.join(sorted(names))}"
    )


def _bounds(field, loc_is_item: bool) -> str | None:
    """'allowed: 1..11' from a field's ge/le (gt/lt) limits."""
    low = high = None
    for limit in getattr(field, "metadata", []):
        low = getattr(limit, "ge", low)
        high = getattr(limit, "le", high)
        if getattr(limit, "gt", None) is not None:
            low = f">{limit.gt}"
        if getattr(limit, "lt", None) is not None:
            high = f"<{limit.lt}"
    if loc_is_item or (low is None and high is None):
        return None
    if low is not None and high is not None:
        return f"allowed: {low}..{high}"
    return f"allowed: {low} or more" if high is None else f"allowed: up to {high}"


def _problem(error: dict, cls: type[Settings], where: str, sources: Mapping[str, str]) -> str:
    """One pydantic error as `setting '<where>.<name>' is <value>; <what is allowed>`."""
    context = error.get("ctx") or {}
    cause = context.get("error")
    loc = [part for part in error["loc"] if isinstance(part, int) or part in cls.model_fields]
    if isinstance(cause, SettingError) and not loc:  # a rule of the model validator
        name = cause.setting.split("[")[0].split("/")[0]
        source = f" ({sources[name]})" if name in sources else ""
        return f"setting '{where}.{cause.setting}'{source} is {cause.value!r}; {cause.allowed}"
    if not loc:
        return f"{where}: {cause or error['msg']}"
    name = str(loc[0])
    path = f"{where}.{name}" + "".join(f"[{i}]" for i in loc[1:] if isinstance(i, int))
    source = f" ({sources[name]})" if name in sources else ""
    field = cls.model_fields[name]
    kind = error["type"]
    if kind == "missing":
        return f"setting '{path}' is required ({type_name(field.annotation)})"
    value = error["input"]
    hint = field.annotation
    if len(loc) > 1:  # an item of a list
        hint = next(
            (typing.get_args(a)[0] for a in _arms(hint) if typing.get_origin(a) is tuple), hint
        )
    if cause is not None:
        allowed = str(cause)
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        allowed = _bounds(field, len(loc) > 1) or error["msg"]
    elif kind == "multiple_of":
        allowed = f"allowed: steps of {context.get('multiple_of')}"
    elif kind in ("too_short", "too_long"):
        unit = "items" if isinstance(value, (list, tuple)) else "characters"
        allowed = (
            f"allowed: at least {context.get('min_length')} {unit}"
            if kind == "too_short"
            else f"allowed: at most {context.get('max_length')} {unit}"
        )
    else:
        allowed = f"expected {type_name(hint)}"
    if cause is not None and len([a for a in _arms(hint) if a is not type(None)]) > 1:
        allowed = f"expected {type_name(hint)}"  # say every kind of value the union takes
    return f"setting '{path}'{source} is {value!r}; {allowed}"


def parse_settings(
    cls: type[S],
    raw: Any,
    where: str,
    *,
    stage: StageSettings | None = None,
    sources: Mapping[str, str] | None = None,
) -> S:
    """Build the settings model `cls` from the mapping `raw` found at `where` in cdk.json.

    `stage`: the stage the settings are for, given to the model's rules that depend on it
    (`ValidationInfo.context["stage"]`); `sources`: setting name -> where its value came from when
    not from `where` (e.g. `-c my-blog.dax`). Raises ValueError, one line, on any problem."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"setting '{where}' must be an object, got {raw!r}")
    problem = unknown_keys_problem(cls, list(raw), where)
    if problem:
        raise ValueError(problem)
    try:
        return cls.model_validate(dict(raw), context={"stage": stage})
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        raise ValueError(_problem(first, cls, where, sources or {})) from None


# -- the stage ------------------------------------------------------------------------------------


class StageSettings(Settings):
    """What every blueprint shares for one stage: where it goes and how careful it is with data.
    `stages.<stage>` in cdk.json, plus the top-level `project`, `team` and `tags`."""

    name: Literal["dev", "prod"] = Field(description="The stage: dev or prod (`-c stage=`).")
    project: str = Field(description="Cost-allocation tag `Project` on every stack.")
    team: str = Field(description="Cost-allocation tag `Team` on every stack.")
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="More tags for every stack (not Project/Environment/Team).",
    )
    region: Region | None = Field(
        None,
        description="Region of every stack; null = the CLI's (CDK_DEFAULT_REGION), "
        "environment-agnostic templates.",
    )
    availability_zones: tuple[str, ...] = Field(
        (),
        description="Explicit AZ names let an environment-agnostic synth spread a VPC over 3 AZs; "
        "empty = the two AZs CloudFormation picks with Fn::GetAZs.",
    )
    log_retention_days: LogRetentionDays = Field(
        14,
        description="How long every log group keeps its events (CloudWatch Logs values). "
        "Stored log data is billed per GB-month.",
    )
    keep_data: bool = Field(
        False,
        description="true: every data store (tables, buckets, file systems, clusters, logs) is "
        "RETAINed when its stack is deleted, with deletion protection and backups where the "
        "service has them; false: disposable, deleted with the stack.",
    )

    operations_email: EmailAddress | None = Field(
        None,
        description="E-mail address subscribed to every stack's operations topic, where the "
        "alarms on dead-letter queues and stream lag go (SNS asks it to confirm first); null = "
        "no subscription (each stack outputs OperationsTopicArn to subscribe to).",
    )
    backup_retention_days: int = Field(
        35,
        ge=1,
        le=36500,
        description="Where the stage keeps data: days AWS Backup keeps each daily recovery point "
        "of every table, file system and database cluster (and each copy). Backup storage is "
        "billed per GB-month.",
    )
    backup_copy_vault_arn: BackupVaultArn | None = Field(
        None,
        description="Where the stage keeps data: a backup vault in another region or account "
        "that every recovery point is also copied to; null = no copy. Another account must be in "
        "the same AWS Organization with cross-account backup turned on, and its vault's access "
        "policy must admit this account (docs/deploying.md#backups).",
    )

    @model_validator(mode="after")
    def _rules(self) -> StageSettings:
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
        return self

    @property
    def removal_policy(self) -> cdk.RemovalPolicy:
        """The stage's durability, decided here once: what every pattern is given."""
        return cdk.RemovalPolicy.RETAIN if self.keep_data else cdk.RemovalPolicy.DESTROY

    @property
    def environment(self) -> cdk.Environment:
        """Account and region for stacks: context region first, then the CLI's defaults."""
        return cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=self.region or os.environ.get("CDK_DEFAULT_REGION"),
        )

    def stack_name(self, stack_id: str) -> str:
        """CloudFormation name: `NeptuneGraph-dev`, so dev and prod can share an account."""
        return f"{stack_id}-{self.name}"

    def stack_kwargs(self, stack_id: str, *, cross_region_references: bool = False) -> dict:
        """What a blueprint's `build()` constructs stack `stack_id` with: its CloudFormation
        name and environment, and `cross_region_references` for a stack that reads values from
        another region (a CloudFront stack's us-east-1 companion). CDK reads that flag only when
        the stack is constructed; it changes nothing in a stack that never makes such a
        reference."""
        return {
            "stack_name": self.stack_name(stack_id),
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

    def failover_companion(self, stack: cdk.Stack, region: str) -> RegionCompanion:
        """Where `stack`'s origin-failover replica goes: its companion stack `<StackId>Failover`
        in `region`, CloudFormation name `<StackId>Failover-<stage>` (patterns/web/static_site.py
        `SiteFailover`)."""
        return RegionCompanion(
            stack,
            region=region,
            suffix="Failover",
            description=f"The {region} replica of {stack.stack_name}'s site bucket, CloudFront's "
            "failover origin (aws-architecture-blueprints)",
            companion_name=self.stack_name(f"{stack.node.id}Failover"),
            region_setting=f"stages.{self.name}.region",
        )

    def cost_allocation_tags(self) -> dict[str, str]:
        return {"Project": self.project, "Environment": self.name, "Team": self.team, **self.tags}


def keeps_data(removal_policy: cdk.RemovalPolicy) -> bool:
    """Whether data kept under `removal_policy` outlives its stack (RETAIN, SNAPSHOT, ...): then
    a pattern also turns on deletion protection and backups where the service has them. Patterns
    take the stage's `removal_policy` and read this, so durability is decided once per stage."""
    return removal_policy != cdk.RemovalPolicy.DESTROY


# The settings of `stages.<stage>` (what `-c <stage setting>=` may override).
STAGE_SETTINGS = tuple(
    n for n in StageSettings.model_fields if n not in ("name", "project", "team", "tags")
)
# Top-level context keys this app reads; everything else must be CDK's or the CLI's own.
APP_CONTEXT_KEYS = ("stage", "project", "team", "tags", "stages", "blueprints", "blueprints_only")
# Written by the CDK CLI itself (cdk.context.json, `cdk acknowledge`, `cdk.json` options).
_CDK_OWN_KEYS = ("acknowledged-issue-numbers",)
CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def _in_cdk_json(key: str) -> bool:
    try:
        return key in json.loads(CDK_JSON.read_text()).get("context", {})
    except (OSError, ValueError):
        return False


def _source(key: str) -> str:
    """Where a context key came from, as far as the app can tell: cdk.json, else the command
    line (`-c`) or cdk.context.json."""
    return "cdk.json" if _in_cdk_json(key) else f"-c {key} (command line or cdk.context.json)"


def _object(value: Any, where: str) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"setting '{where}' must be an object, got {value!r}")
    return value


def stage_from_context(node_context: Callable[[str], Any]) -> StageSettings:
    """Read `stage`, `project`, `team`, `tags`, `stages.<stage>` and any `-c <stage setting>`
    from the app's context. Every stage's block is checked for unknown keys, not only this one's."""
    stage = node_context("stage") or "dev"
    if stage not in STAGES:
        raise ValueError(f"setting 'stage' is {stage!r}; allowed: {', '.join(STAGES)}")
    stages = _object(node_context("stages"), "stages")
    for name, block in stages.items():
        if name not in STAGES:
            raise ValueError(
                f"cdk.json stages.{name} is no stage{did_you_mean(name, STAGES)}; "
                f"stages: {', '.join(STAGES)}"
            )
        problem = unknown_keys_problem(
            StageSettings, list(_object(block, f"stages.{name}")), f"stages.{name}", STAGE_SETTINGS
        )
        if problem:
            raise ValueError(problem)
    overrides = {n: node_context(n) for n in STAGE_SETTINGS if node_context(n) is not None}
    raw = {
        "name": stage,
        "project": node_context("project"),
        "team": node_context("team"),
        "tags": node_context("tags") or {},
        **_object(stages.get(stage), f"stages.{stage}"),
        **overrides,
    }
    return parse_settings(
        StageSettings, raw, f"stages.{stage}", sources={n: f"-c {n}" for n in overrides}
    )


# -- instances ------------------------------------------------------------------------------------


def pascal(key: str) -> str:
    """`team-blog` -> `TeamBlog`."""
    return "".join(part[:1].upper() + part[1:] for part in key.split("-"))


def instance_stack_ids(key: str, blueprint: str, blueprint_stack_ids: Sequence[str]) -> list[str]:
    """The stack ids of instance `key` of a blueprint whose stacks are `blueprint_stack_ids`.

    The instance named like its blueprint keeps them (`MyBlog`); another is named after its key:
    its one stack is `TeamBlog`, several are prefixed (`TeamUpdatesUpdateServer`,
    `TeamUpdatesUpdateOffload`). A us-east-1 companion appends `Edge` to its stack's id."""
    if key == blueprint:
        return list(blueprint_stack_ids)
    if len(blueprint_stack_ids) == 1:
        return [pascal(key)]
    return [pascal(key) + stack_id for stack_id in blueprint_stack_ids]


@dataclasses.dataclass(frozen=True)
class Instance(Generic[S]):
    """One instance of a blueprint for one stage: cdk.json `blueprints.<key>.<stage>`.

    What a blueprint's `build(app, instance)` reads: the stage, the settings, the stack ids to
    use and how to name a setting in a message."""

    key: str
    blueprint: str
    stage: StageSettings
    settings: S

    def stack_ids(self, *blueprint_stack_ids: str) -> list[str]:
        return instance_stack_ids(self.key, self.blueprint, blueprint_stack_ids)

    def setting(self, name: str) -> str:
        """`blueprints.team-blog.prod.sender_email`: where `name` is set for this instance."""
        return f"blueprints.{self.key}.{self.stage.name}.{name}"

    def override(self, name: str, value: str) -> str:
        """`-c team-blog.sender_email=<value>`: how to set `name` for one CLI run."""
        return f"-c {self.key}.{name}={value}"


class Blueprint(typing.Protocol):
    """What `blueprints.BLUEPRINTS` maps a blueprint key to (its stack module)."""

    SETTINGS: type[Settings]
    STACK_IDS: tuple[str, ...]

    def build(self, app: cdk.App, instance: Instance) -> list[cdk.Stack]: ...


def blueprint_settings(
    cls: type[S], node_context: Callable[[str], Any], instance: str, stage: StageSettings
) -> S:
    """Settings of one instance for this stage, from `blueprints.<instance>.<stage>`, with
    `-c <instance>.<setting>=<value>` overrides for one CLI run (the CLI cannot set a key inside
    the nested `blueprints` object), e.g.
    `npx cdk deploy -c fargate-service.image=public.ecr.aws/nginx/nginx:stable-alpine`."""
    declared = _object(node_context("blueprints"), "blueprints")
    block = _object(declared.get(instance), f"blueprints.{instance}")
    where = f"blueprints.{instance}.{stage.name}"
    raw = dict(_object(block.get(stage.name), where))
    overrides = {
        name: node_context(f"{instance}.{name}")
        for name in cls.model_fields
        if node_context(f"{instance}.{name}") is not None
    }
    return parse_settings(
        cls,
        {**raw, **overrides},
        where,
        stage=stage,
        sources={name: f"-c {instance}.{name}" for name in overrides},
    )


def declared_instances(context: Mapping[str, Any]) -> dict[str, str]:
    """Instance key -> blueprint key, for every instance cdk.json's `blueprints` declares (not
    checked: `plan_instances` does that)."""
    declared = context.get("blueprints") or {}
    if not isinstance(declared, Mapping):
        return {}
    return {
        key: (block.get(BLUEPRINT_KEY) if isinstance(block, Mapping) else None) or key
        for key, block in declared.items()
    }


def plan_instances(
    context: Mapping[str, Any],
    blueprints: Mapping[str, Blueprint],
    stage: StageSettings,
    *,
    unregistered: Collection[str] = (),
) -> dict[str, str]:
    """The instances to build (instance key -> blueprint key), after checking every key the app
    could misread; each problem is a ValueError naming where it came from and the closest valid
    names:

    - cdk.json `blueprints`: an instance key that names no blueprint and says no
      `"blueprint"`, a `"blueprint"` naming none, a key in a block that is neither a stage nor
      `"blueprint"`, a setting name (every stage's block) no settings model has, an instance
      without a block for this stage (an empty `{}` means the defaults), two instances whose
      stack ids collide;
    - `-c blueprints_only=` naming no instance;
    - `-c <instance>.<setting>` for an unknown instance or setting, and any other top-level key
      that is neither the app's nor CDK's (`@aws-cdk/...`, `aws:...`, lookups).

    `unregistered`: blueprint keys that exist as packages under blueprints/ but are not in
    BLUEPRINTS; their instances are not built (and their settings not read)."""
    declared = _object(context.get("blueprints"), "blueprints")
    instances: dict[str, str] = {}
    for key, block in declared.items():
        where = f"cdk.json blueprints.{key}"
        block = _object(block, f"blueprints.{key}")
        blueprint = block.get(BLUEPRINT_KEY, key)
        if blueprint not in blueprints:
            if blueprint in unregistered:
                continue
            named = (
                f"{where}.{BLUEPRINT_KEY} is {blueprint!r}, which"
                if BLUEPRINT_KEY in block
                else where
            )
            raise ValueError(
                f"{named} names no blueprint{did_you_mean(blueprint, blueprints)}; blueprints: "
                f"{', '.join(blueprints)} (an instance of one under another key says "
                f'"{BLUEPRINT_KEY}": "<blueprint key>")'
            )
        if not INSTANCE_KEY.fullmatch(str(key)):
            raise ValueError(
                f"{where}: an instance key is lower-case words joined by '-', like 'team-blog' "
                "(it names the stacks and the -c <instance>.<setting> options)"
            )
        cls = blueprints[blueprint].SETTINGS
        for name, settings in block.items():
            if name == BLUEPRINT_KEY:
                continue
            if name not in STAGES:
                raise ValueError(
                    f"{where}.{name} is neither a stage nor '{BLUEPRINT_KEY}'"
                    f"{did_you_mean(name, [*STAGES, BLUEPRINT_KEY])}; an instance block holds "
                    f'{", ".join(STAGES)} and optionally "{BLUEPRINT_KEY}"'
                )
            problem = unknown_keys_problem(
                cls, list(_object(settings, f"blueprints.{key}.{name}")), f"blueprints.{key}.{name}"
            )
            if problem:
                raise ValueError(problem)
        instances[key] = blueprint

    selected = instances
    wanted = context.get("blueprints_only")
    if wanted:
        names = [n.strip() for n in str(wanted).split(",") if n.strip()]
        for name in names:
            if name not in instances:
                why = (
                    f"its blueprint {declared_instances(context)[name]!r} is not in BLUEPRINTS "
                    "(blueprints/__init__.py)"
                    if name in declared
                    else f"no such instance{did_you_mean(name, instances)}"
                )
                raise ValueError(
                    f"setting 'blueprints_only' names {name!r}: {why}; instances: "
                    f"{', '.join(instances)}"
                )
        selected = {n: instances[n] for n in names}

    for key in selected:
        block = declared[key]
        if not isinstance(block.get(stage.name), Mapping):
            raise ValueError(
                f"cdk.json blueprints.{key}.{stage.name} is missing: give the instance a block "
                f"for stage {stage.name!r} (an empty object {{}} means its defaults)"
            )
    _check_stack_ids(selected, blueprints)
    _check_top_level_keys(context, declared, instances, blueprints)
    return selected


def _check_stack_ids(instances: Mapping[str, str], blueprints: Mapping[str, Blueprint]) -> None:
    """Two instances must not make stacks of one id (CloudFormation names and the physical names
    derived from them are compared case-insensitively, as S3 and Neptune lower-case them)."""
    taken: dict[str, str] = {"accountbaseline": "the AccountBaseline stack"}
    for key, blueprint in instances.items():
        for stack_id in instance_stack_ids(key, blueprint, blueprints[blueprint].STACK_IDS):
            for candidate in (stack_id, f"{stack_id}Edge"):
                owner = taken.get(candidate.lower())
                if owner is not None:
                    raise ValueError(
                        f"cdk.json blueprints.{key}: its stack {candidate} would have the id of "
                        f"{owner}; give the instance another key"
                    )
                taken[candidate.lower()] = f"instance {key!r} ({stack_id})"


def _check_top_level_keys(
    context: Mapping[str, Any],
    declared: Mapping[str, Any],
    instances: Mapping[str, str],
    blueprints: Mapping[str, Blueprint],
) -> None:
    top_level = (*APP_CONTEXT_KEYS, *STAGE_SETTINGS)
    for key in context:
        if key.startswith(("@", "aws:", "aws-cdk:")) or ":" in key or key in _CDK_OWN_KEYS:
            continue
        if key in APP_CONTEXT_KEYS:
            continue
        if key in STAGE_SETTINGS:
            if _in_cdk_json(key):
                raise ValueError(
                    f"cdk.json {key}: a stage setting belongs in stages.<stage>.{key} "
                    f"(or on the command line, -c {key}=..., for one run)"
                )
            continue
        prefix, dot, setting = key.partition(".")
        if not dot:
            raise ValueError(
                f"{_source(key)}: unknown setting {key!r}{did_you_mean(key, top_level)}; "
                f"top-level settings: {', '.join(top_level)}, or <instance>.<setting>"
            )
        if prefix not in declared:
            raise ValueError(
                f"{_source(key)}: {prefix!r} is no instance in cdk.json blueprints"
                f"{did_you_mean(prefix, declared)}; use <instance>.<setting> with one of: "
                f"{', '.join(declared)}"
            )
        if prefix not in instances:
            raise ValueError(
                f"{_source(key)}: instance {prefix!r} is not built: its blueprint is not in "
                "BLUEPRINTS (blueprints/__init__.py)"
            )
        cls = blueprints[instances[prefix]].SETTINGS
        if setting in cls.RENAMED:
            raise ValueError(f"-c {key} was renamed to {prefix}.{cls.RENAMED[setting]}")
        if setting not in cls.model_fields:
            fields = cls.setting_names()
            raise ValueError(
                f"{_source(key)}: {prefix} has no setting {setting!r}"
                f"{did_you_mean(setting, fields)}; its settings: {', '.join(sorted(fields))}"
            )
