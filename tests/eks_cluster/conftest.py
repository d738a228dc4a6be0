"""EksCluster fixtures: the shipped profiles (Auto Mode in dev and prod) come from the session
synth; the other compute profiles are synthesized here once per session, EksCluster alone
(`blueprints_only`), with the same `-c eks-cluster.<setting>` overrides a user passes."""

from __future__ import annotations

import pytest

from tests.support.synth import Synthesized, synthesize

STACK_ID = "EksCluster"
EXTRA_REGION = "eu-west-1"
EXTRA_STACK_ID = "EksClusterEuWest1"

# (stage, compute) -> overrides. Prod node groups also get a second region, so the one-cluster-
# per-region stacks are built without a synth of their own.
PROFILES = {
    ("dev", "nodegroups"): {"eks-cluster.compute": "nodegroups"},
    ("dev", "fargate"): {"eks-cluster.compute": "fargate"},
    ("prod", "nodegroups"): {
        "eks-cluster.compute": "nodegroups",
        "eks-cluster.node_os": "bottlerocket",
        "eks-cluster.regions": EXTRA_REGION,
    },
    # Container Insights' add-on runs DaemonSets, which Fargate does not run.
    ("prod", "fargate"): {
        "eks-cluster.compute": "fargate",
        "eks-cluster.container_insights": "false",
        "eks-cluster.fargate_namespaces": "default,apps",
    },
}


@pytest.fixture(scope="session")
def profile(tmp_path_factory, synth):
    """`profile("dev", "fargate")` -> that stage with that compute profile, built once; the
    shipped profile (automode) is the session's own synth."""
    built: dict[tuple[str, str], Synthesized] = {}

    def get(stage: str, compute: str) -> Synthesized:
        if compute == "automode":
            return synth(stage)
        key = (stage, compute)
        if key not in built:
            built[key] = synthesize(
                stage,
                tmp_path_factory.mktemp(f"cdk.out-eks-{stage}-{compute}"),
                {"blueprints_only": "eks-cluster", **PROFILES[key]},
            )
        return built[key]

    return get


PROFILE_IDS = [
    f"{stage}-{compute}"
    for stage in ("dev", "prod")
    for compute in ("automode", "nodegroups", "fargate")
]


@pytest.fixture(params=PROFILE_IDS)
def every_profile(request, profile) -> Synthesized:
    stage, compute = request.param.split("-")
    return profile(stage, compute)


@pytest.fixture
def template(assembly) -> dict:
    return assembly.template(STACK_ID)
