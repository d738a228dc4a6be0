"""Session fixtures: one synth per stage for the whole test session."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# The helpers' own asserts (a snapshot's diff, a gate's findings) explain a failure as a test's
# would: rewritten by pytest, which it does only for modules registered before they are imported.
pytest.register_assert_rewrite("tests.support")

from tests.support.synth import Synthesized, stages_with_prod_in, synthesize_once  # noqa: E402

STAGES = ("dev", "prod")

# Property-based tests stay bounded: a fixed number of examples, no per-example deadline (these
# machines are shared and noisy), the same examples on every run (derandomized) so CI is stable.
settings.register_profile(
    "house",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("house")


@pytest.fixture(scope="session")
def synth(tmp_path_factory) -> callable:
    """`synth("dev")` -> the dev assembly, built on first use and shared by every test."""
    built: dict[str, Synthesized] = {}

    def get(stage: str) -> Synthesized:
        if stage not in built:
            built[stage] = synthesize_once(tmp_path_factory, stage)
        return built[stage]

    return get


@pytest.fixture(scope="session", params=STAGES)
def assembly(request, synth) -> Synthesized:
    """Each test that takes `assembly` runs once per stage."""
    return synth(request.param)


# Prod moved out of us-east-1, as a user in Europe would: every gate must hold there too.
ANOTHER_REGION = "eu-central-1"


@pytest.fixture(scope="session")
def prod_in_another_region(tmp_path_factory) -> Synthesized:
    """The prod stage with `stages.prod.region` = eu-central-1 (AZs a/b/c), built once."""
    return synthesize_once(
        tmp_path_factory,
        "prod",
        {"stages": stages_with_prod_in(ANOTHER_REGION)},
    )


@pytest.fixture(scope="session", params=[*STAGES, f"prod-{ANOTHER_REGION}"])
def every_assembly(request, synth, prod_in_another_region) -> Synthesized:
    """The gates (cdk-nag, cfn-lint, deploy rules) run over each stage and over prod elsewhere."""
    return (
        prod_in_another_region if request.param.endswith(ANOTHER_REGION) else synth(request.param)
    )


@pytest.fixture
def aws(monkeypatch):
    """moto for everything, with dummy credentials: nothing here can reach real AWS."""
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def local_stack(aws):
    """`local_stack(assembly, "StackId")` -> a `StackInMoto`: the stack's resources and IAM roles
    created in moto from its template; its code runs as those roles (tests/support/wiring.py)."""
    from tests.support.iam_enforcement import forget_clusters
    from tests.support.moto_resources import StackInMoto

    def deploy(assembly, stack_id: str) -> StackInMoto:
        environment = assembly.require(stack_id).get("environment", "")
        region = environment.rsplit("/", 1)[-1]
        return StackInMoto(
            assembly.template(stack_id),
            stack_id=stack_id,
            stack_name=assembly.stack_name(stack_id),
            assembly_dir=assembly.outdir,
            region=region if region and region != "unknown-region" else "us-east-1",
        )

    yield deploy
    forget_clusters()


@pytest.fixture
def stack_without_grant(local_stack):
    """`stack_without_grant(assembly, "MyBlog", "WelcomeEmail/Function", "dynamodb:UpdateItem")`
    -> the stack in moto with that one action removed from the role of that function (or, for a
    task definition's path, its task role); the statement must be the role's only one with it."""
    from tests.support import grant_mutation

    def deploy(assembly, stack_id: str, path: str, action: str, role: str | None = None):
        mutation = grant_mutation.removing(
            assembly.template(stack_id), stack_id, path, action, role=role
        )
        with grant_mutation.active(mutation):
            return local_stack(assembly, stack_id)

    return deploy


@pytest.fixture(scope="session")
def variants_with_more_functions(tmp_path_factory) -> callable:
    """`variants_with_more_functions("dev")` -> assemblies of that stage whose templates hold
    functions the default settings leave out (MyBlog's welcome email, on once `sender_email` is
    set), built on first use. (tests/my_blog/conftest.py builds the same for its own tests.)"""
    built: dict[str, list[Synthesized]] = {}

    def get(stage: str) -> list[Synthesized]:
        from tests.support.synth import registered

        only = os.environ.get("BLUEPRINTS")
        if "my-blog" not in registered() or (only and "my-blog" not in only.split(",")):
            return []
        if stage not in built:
            built[stage] = [
                synthesize_once(
                    tmp_path_factory,
                    stage,
                    {"blueprints_only": "my-blog", "my-blog.sender_email": "welcome@example.com"},
                )
            ]
        return built[stage]

    return get
