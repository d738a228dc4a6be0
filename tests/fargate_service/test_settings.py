"""Bad settings fail at synth with a ValueError naming the setting and what is allowed."""

from __future__ import annotations

import pytest

from blueprints.fargate_service.stack import SETTINGS
from house.settings import StageSettings, blueprint_settings, parse_settings

WHERE = "blueprints.fargate-service.dev"


def settings(**raw):
    return parse_settings(SETTINGS, raw, WHERE)


@pytest.mark.parametrize(
    ("raw", "setting", "allowed"),
    [
        # The three the issue names.
        ({"min_tasks": 5, "max_tasks": 3}, "min_tasks", "must not exceed max_tasks (3)"),
        (
            {"cpu": 256, "memory_mib": 4096},
            "memory_mib",
            "with cpu 256 Fargate accepts memory 512..2048",
        ),
        ({"cpu": 300}, "cpu", "expected one of 256, 512"),
        (
            {"worker_cpu": 1024, "worker_memory_mib": 1024},
            "worker_memory_mib",
            "with cpu 1024 Fargate accepts memory 2048..8192",
        ),
        ({"spot_weight": -1}, "spot_weight", "allowed: 0..1000"),
        # The rest of the cross-field rules.
        ({"on_demand_base": -2}, "on_demand_base", "allowed: 0..1000"),
        ({"spot_weight": 0, "on_demand_weight": 0}, "spot_weight", "cannot both be 0"),
        (
            {"cpu_architecture": "ARM64", "spot_weight": 1},
            "spot_weight",
            "Fargate Spot runs only X86_64",
        ),
        ({"min_tasks": 0}, "min_tasks", "allowed: 1..1000"),
        ({"min_healthy_percent": 120}, "min_healthy_percent", "allowed: 0..100"),
        ({"max_healthy_percent": 100}, "max_healthy_percent", "could never start a new task"),
        ({"cpu_target_percent": 95}, "cpu_target_percent", "allowed: 10..90"),
        ({"scale_out_schedule": "cron(0 8 ? * MON-FRI *)"}, "scale_out_schedule", "together"),
        (
            {"scale_out_schedule": "8am", "scale_in_schedule": "8pm"},
            "scale_out_schedule",
            "cron(...), rate(...) or at(...)",
        ),
        (
            {
                "scale_out_schedule": "cron(0 8 * * ? *)",
                "scale_in_schedule": "cron(0 20 * * ? *)",
                "scheduled_min_tasks": 9,
            },
            "scheduled_min_tasks",
            "within min_tasks..max_tasks (1..2)",
        ),
        ({"schedule_time_zone": "Mars/Olympus"}, "schedule_time_zone", "IANA time zone"),
        ({"domain_name": "app.example.com"}, "domain_name", "together, or none"),
        (
            {
                "domain_name": "app.other.org",
                "hosted_zone_id": "Z0123456789ABCDEFGHIJ",
                "hosted_zone_name": "example.com",
            },
            "domain_name",
            "is not in the hosted zone",
        ),
        (
            {"image": "Not An Image!"},
            "image",
            "is none of 'codebuild' (built by CodeBuild at deploy), 'docker' (built by your local "
            "Docker at deploy), 'repository:<tag>' (your push) or an image reference",
        ),
        # The old name of the local Docker build, refused by name (else: Docker Hub's "asset").
        ({"image": "asset"}, "image", "'asset' is now 'docker' (the local Docker build)"),
        ({"image": "repository:"}, "image", "needs a tag"),
        # Another image has no `worker` command: a worker service that must keep a task running
        # would have every task exit and the circuit breaker fail the deploy.
        (
            {"image": "public.ecr.aws/nginx/nginx:stable", "worker_min_tasks": 1},
            "worker_min_tasks",
            "must be 0 with image 'public.ecr.aws/nginx/nginx:stable': only the sample app",
        ),
        (
            {"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1", "worker_min_tasks": 2},
            "worker_min_tasks",
            "deployment circuit breaker would fail the deploy",
        ),
        (
            {"image": "public.ecr.aws/nginx/nginx:stable", "task_subnets": "private"},
            "image",
            "through a NAT gateway",
        ),
        ({"nat_gateways": 1}, "nat_gateways", "only private task subnets use a NAT gateway"),
        ({"nat_gateways": 4, "task_subnets": "private"}, "nat_gateways", "allowed: 0..3"),
        (
            {"worker_min_tasks": 3, "worker_max_tasks": 2},
            "worker_min_tasks",
            "allowed: 0..worker_max_tasks",
        ),
        ({"worker_capacity": "ec2"}, "worker_capacity", "needs ec2_capacity true"),
        ({"ec2_capacity": True}, "ec2_capacity", "set task_subnets 'private'"),
        ({"ec2_instance_type": "t3.small"}, "ec2_instance_type", "Graviton"),
        ({"container_port": 2049}, "container_port", "except 2049"),
        ({"health_check_path": "health"}, "health_check_path", "starting with '/'"),
        ({"prune_schedule": "every night"}, "prune_schedule", "cron(...), rate(...) or at(...)"),
        ({"task_retry_attempts": 200}, "task_retry_attempts", "0..185"),
        ({"task_max_event_age_hours": 0}, "task_max_event_age_hours", "1..24"),
        ({"notification_email": "ops"}, "notification_email", "e-mail address"),
        ({"repository_keep_images": 0}, "repository_keep_images", "1..1000"),
    ],
)
def test_bad_settings_name_the_setting_and_what_is_allowed(raw, setting, allowed):
    with pytest.raises(ValueError) as error:
        settings(**raw)
    message = str(error.value)
    assert message.startswith(f"setting '{WHERE}.{setting}' is "), message
    assert allowed in message


def test_unknown_and_mistyped_settings_are_refused():
    with pytest.raises(
        ValueError, match=r"unknown setting\(s\) blueprints.fargate-service.dev.cpus"
    ):
        settings(cpus=256)
    with pytest.raises(ValueError, match=r"'blueprints.fargate-service.dev.task_subnets' is 'dmz'"):
        settings(task_subnets="dmz")


def test_valid_combinations_build():
    assert settings(cpu=4096, memory_mib=30720).memory_mib == 30720
    arm = settings(cpu_architecture="ARM64", spot_weight=0, on_demand_weight=1)
    assert arm.strategy.spot_weight == 0
    assert (
        settings(
            image="public.ecr.aws/nginx/nginx:stable", task_subnets="private", nat_gateways=1
        ).nat_gateways
        == 1
    )
    # A private ECR image needs no NAT: the ECR endpoints reach it.
    assert settings(
        image="123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1", task_subnets="private"
    ).image.endswith(":v1")
    assert settings(image="repository:v1").image == "repository:v1"
    # The sample app's own images keep a worker running; another image may run with none.
    for image in ("codebuild", "docker", "repository:v1"):
        assert settings(image=image, worker_min_tasks=1).worker_min_tasks == 1
    assert settings(image="public.ecr.aws/nginx/nginx:stable", worker_min_tasks=0).image
    # Docker Hub references that merely start like a keyword are references, not keywords.
    assert settings(image="docker:27-cli").image == "docker:27-cli"


def test_a_command_line_override_replaces_one_setting_of_the_stage():
    """`-c fargate-service.image=...` (a string, as the CLI passes it) wins over cdk.json."""
    context = {
        "blueprints": {"fargate-service": {"dev": {"cpu": 256, "memory_mib": 512}}},
        "fargate-service.image": "public.ecr.aws/nginx/nginx:stable-alpine",
        "fargate-service.container_port": "80",
        "fargate-service.execute_command": "false",
    }
    stage = StageSettings(name="dev", project="p", team="t")
    parsed = blueprint_settings(SETTINGS, context.get, "fargate-service", stage)
    assert parsed.image == "public.ecr.aws/nginx/nginx:stable-alpine"
    assert parsed.container_port == 80 and parsed.execute_command is False
    assert parsed.memory_mib == 512
    with pytest.raises(ValueError, match="setting 'blueprints.fargate-service.dev.min_tasks'"):
        blueprint_settings(
            SETTINGS, {**context, "fargate-service.min_tasks": "x"}.get, "fargate-service", stage
        )


def test_prod_without_a_domain_names_the_setting_and_the_opt_out():
    """Issue 12 item 1: prod serves HTTPS (TLS 1.2+, port 80 only redirecting) on a domain of
    yours, or says by name that it serves plain HTTP; dev may go without."""
    prod = StageSettings(name="prod", project="p", team="t", region="us-east-1")
    with pytest.raises(ValueError) as err:
        parse_settings(SETTINGS, {}, WHERE, stage=prod)
    message = str(err.value)
    assert message.startswith(f"setting '{WHERE}.domain_name' is None"), message
    assert "allow_plain_http" in message
    assert parse_settings(SETTINGS, {"allow_plain_http": True}, WHERE, stage=prod).allow_plain_http
    domain = {
        "domain_name": "app.example.com",
        "hosted_zone_id": "Z0123456789ABCDEFGHIJ",
        "hosted_zone_name": "example.com",
    }
    assert parse_settings(SETTINGS, domain, WHERE, stage=prod).domain_name == "app.example.com"
    assert settings().domain_name is None
