#!/usr/bin/env python3
"""Builds every blueprint's stacks for one stage (`-c stage=dev|prod`); nothing else.

`-c blueprints_only=neptune-graph,...` builds only the named blueprints (handy while working on
one). The `AccountBaseline` stack (the account's API Gateway logging role) is always built: the
blueprint stacks that need it depend on it.
"""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk

from blueprints import BLUEPRINTS
from house import account_baseline
from house.compliance import add_compliance_checks
from house.defaults import encrypt_log_groups
from house.settings import blueprint_settings, check_context, stage_from_context


def selected_blueprints(app: cdk.App) -> dict:
    wanted = app.node.try_get_context("blueprints_only")
    if not wanted:
        return BLUEPRINTS
    names = [n.strip() for n in str(wanted).split(",") if n.strip()]
    unknown = [n for n in names if n not in BLUEPRINTS]
    if unknown:
        raise ValueError(
            f"setting 'blueprints_only' names {', '.join(unknown)}; allowed: "
            f"{', '.join(BLUEPRINTS)}"
        )
    return {n: BLUEPRINTS[n] for n in names}


def build_app(app: cdk.App) -> list[cdk.Stack]:
    """Add the stacks of every selected blueprint to `app`, tagged for cost allocation."""
    stage = stage_from_context(app.node.try_get_context)
    selected = selected_blueprints(app)
    check_context(
        app.node.get_all_context(),
        {key: module.SETTINGS for key, module in BLUEPRINTS.items()},
        selected,
        stage,
    )
    baseline = account_baseline.build(app, stage)
    stacks: list[cdk.Stack] = []
    for key, blueprint in selected.items():
        settings = blueprint_settings(blueprint.SETTINGS, app.node.try_get_context, key, stage)
        stacks.extend(blueprint.build(app, stage, settings))
    for stack in stacks:
        for name, value in stage.cost_allocation_tags().items():
            cdk.Tags.of(stack).add(name, value)
        encrypt_log_groups(stack, keep_data=stage.keep_data)
    account_baseline.require_baseline(baseline, stacks)
    add_compliance_checks(app)
    return [baseline, *stacks]


def main() -> None:
    """`cdk synth`'s entry point: a configuration error is one line on stderr and exit status 1
    (BLUEPRINTS_DEBUG=1 shows the traceback too)."""
    cdk_app = cdk.App()
    try:
        build_app(cdk_app)
    except ValueError as error:
        if os.environ.get("BLUEPRINTS_DEBUG"):
            raise
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    cdk_app.synth()


if __name__ == "__main__":
    main()
