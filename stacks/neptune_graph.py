"""Neptune graph blueprint (work in progress: network only)."""
from __future__ import annotations

import dataclasses

import aws_cdk as cdk
from constructs import Construct

from patterns.network import vpc
from stacks.config import StageSettings


@dataclasses.dataclass(frozen=True)
class NeptuneGraphSettings:
    pass


SETTINGS = NeptuneGraphSettings


class NeptuneGraphStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, stage: StageSettings, settings: NeptuneGraphSettings, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        self.vpc = vpc(self, "Network", availability_zones=stage.availability_zones,
                       log_retention_days=stage.log_retention_days, removal_policy=stage.removal_policy)


def build(app: cdk.App, stage: StageSettings, settings: NeptuneGraphSettings) -> list[cdk.Stack]:
    return [NeptuneGraphStack(app, "NeptuneGraph", stage=stage, settings=settings,
                              stack_name=stage.stack_name("NeptuneGraph"), env=stage.environment)]
