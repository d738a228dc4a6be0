"""EksCluster fixtures. The shipped profile of each stage is the session's own synth (instance
`eks-cluster`, stack `EksCluster`); the other two compute profiles are built as *instances* of
the blueprint next to each other in one more synth per stage (`eks-automode` -> stack
`EksAutomode`, `eks-nodegroups` -> `EksNodegroups`, `eks-fargate` -> `EksFargate`), so every
profile of both stages costs two synths, and the instances prove that two clusters share an
account. Prod's node-group instance also lists a second region (`EksNodegroupsEuWest1`)."""

from __future__ import annotations

import json

import pytest

from house.settings import pascal
from tests.support.synth import REPO_ROOT, Synthesized, synthesize_once

INSTANCE = "eks-cluster"
STACK_ID = "EksCluster"
COMPUTE = ("automode", "nodegroups", "fargate")
EXTRA_REGION = "eu-west-1"

# What each non-shipped profile changes besides `compute`, per stage, so that the settings the
# shipped profiles leave at their defaults are built somewhere too: an admin principal of your
# own; prod's node groups on Bottlerocket, with x86 Spot types and a second region; Fargate
# with a second namespace (and, in prod, without Container Insights: its add-on runs
# DaemonSets, which Fargate does not run).
ADMIN = "arn:aws:iam::111122223333:role/PlatformAdmins"
PROFILE_CHANGES = {
    "dev": {
        "automode": {"admin_principal_arns": [ADMIN]},
        "fargate": {"fargate_namespaces": ["default", "apps"]},
    },
    "prod": {
        "nodegroups": {
            "node_os": "bottlerocket",
            "spot_instance_types": ["m7i.large", "m6i.large", "c7i.large"],
            "regions": [EXTRA_REGION],
        },
        "fargate": {"container_insights": False, "fargate_namespaces": ["default", "apps"]},
    },
}


def instance_of(compute: str) -> str:
    return f"eks-{compute}"


def _shipped_blocks() -> dict:
    return json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["blueprints"][INSTANCE]


@pytest.fixture(scope="session")
def profiles(tmp_path_factory, synth) -> callable:
    """`profiles(stage)` -> the synth holding, as instances, every compute profile that the
    stage's shipped settings do not use (built once per stage)."""
    built: dict[str, Synthesized] = {}

    def get(stage: str) -> Synthesized:
        if stage not in built:
            shipped = synth(stage).settings(INSTANCE).compute
            blocks = _shipped_blocks()
            extra = {
                instance_of(compute): {
                    "blueprint": INSTANCE,
                    stage: {
                        **blocks[stage],
                        "compute": compute,
                        **PROFILE_CHANGES[stage].get(compute, {}),
                    },
                }
                for compute in COMPUTE
                if compute != shipped
            }
            context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
            built[stage] = synthesize_once(
                tmp_path_factory,
                stage,
                {
                    "blueprints": {**context["blueprints"], **extra},
                    "blueprints_only": ",".join(extra),
                },
            )
        return built[stage]

    return get


@pytest.fixture(scope="session")
def profile(synth, profiles) -> callable:
    """`profile("prod", "fargate")` -> (assembly, instance key, stack id) of that profile."""

    def get(stage: str, compute: str) -> tuple[Synthesized, str, str]:
        shipped = synth(stage)
        if shipped.settings(INSTANCE).compute == compute:
            return shipped, INSTANCE, STACK_ID
        instance = instance_of(compute)
        return profiles(stage), instance, pascal(instance)

    return get


PROFILE_IDS = [f"{stage}-{compute}" for stage in ("dev", "prod") for compute in COMPUTE]


@pytest.fixture(params=PROFILE_IDS)
def every_profile(request, profile) -> tuple[Synthesized, str, str]:
    stage, compute = request.param.split("-")
    return profile(stage, compute)


@pytest.fixture
def template(assembly) -> dict:
    return assembly.template(STACK_ID)


@pytest.fixture
def settings(assembly):
    """The settings this stage's EksCluster was built with (cdk.json's values are checked in
    test_shipped_settings.py only)."""
    return assembly.settings(INSTANCE)
