#!/usr/bin/env python3
"""Builds every blueprint instance's stacks for one stage (`-c stage=dev|prod`); nothing else.

Each key of cdk.json `blueprints` is an instance (house/settings.py);
`-c blueprints_only=my-blog,...` builds only the named instances (handy while working on one).
The `AccountBaseline` stack (the account's API Gateway logging role) is always built: the
blueprint stacks that need it depend on it.
"""

from __future__ import annotations

import os
import pkgutil
import sys

import aws_cdk as cdk

import blueprints
from blueprints import BLUEPRINTS
from house import account_baseline
from house.backup import protect_data
from house.compliance import add_compliance_checks
from house.defaults import encrypt_log_groups
from house.network import limit_endpoints_to_account
from house.operations import watch_failures
from house.settings import (
    Instance,
    StageSettings,
    blueprint_settings,
    plan_instances,
    stage_from_context,
)

# The construct metadata on every blueprint stack naming its instance and blueprint: in the
# cloud assembly's manifest (not the template), for the tests and deployment tools.
INSTANCE_METADATA = "blueprints:instance"


def unregistered_blueprints() -> set[str]:
    """Blueprint packages under blueprints/ that BLUEPRINTS leaves out: their instances in
    cdk.json are not built (a fork that keeps some blueprints only unregisters the others)."""
    packages = {m.name.replace("_", "-") for m in pkgutil.iter_modules(blueprints.__path__)}
    return packages - set(BLUEPRINTS)


def build_app(app: cdk.App) -> list[cdk.Stack]:
    """Add the stacks of every selected instance to `app`, tagged for cost allocation."""
    stage = stage_from_context(app.node.try_get_context)
    selected = plan_instances(
        app.node.get_all_context(), BLUEPRINTS, stage, unregistered=unregistered_blueprints()
    )
    baseline = account_baseline.build(app, stage)
    stacks: list[cdk.Stack] = []
    for key, blueprint in selected.items():
        module = BLUEPRINTS[blueprint]
        settings = blueprint_settings(module.SETTINGS, app.node.try_get_context, key, stage)
        built = module.build(app, Instance(key, blueprint, stage, settings))
        for stack in built:
            stack.node.add_metadata(INSTANCE_METADATA, {"instance": key, "blueprint": blueprint})
        stacks.extend(built)
    for stack in stacks:
        add_house_mechanisms(stack, stage)
    account_baseline.require_baseline(baseline, stacks)
    add_compliance_checks(app)
    return [baseline, *stacks]


def add_house_mechanisms(stack: cdk.Stack, stage: StageSettings) -> None:
    """What every blueprint stack gets from the house: cost-allocation tags, log-group keys,
    backups of kept data, alarms on parked failures, account-only VPC endpoints."""
    for name, value in stage.cost_allocation_tags().items():
        cdk.Tags.of(stack).add(name, value)
    encrypt_log_groups(stack, keep_data=stage.keep_data)
    protect_data(
        stack,
        keep_data=stage.keep_data,
        retention_days=stage.backup_retention_days,
        copy_to_vault_arn=stage.backup_copy_vault_arn,
    )
    watch_failures(stack, keep_data=stage.keep_data, email=stage.operations_email)
    limit_endpoints_to_account(stack)


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
