"""Bad settings fail at synth with a ValueError naming the setting and what is allowed."""

from __future__ import annotations

import pytest

from blueprints.container_web_app.stack import SETTINGS
from house.settings import parse_settings

WHERE = "blueprints.container-web-app.dev"


def settings(**raw):
    return parse_settings(SETTINGS, raw, WHERE)


@pytest.mark.parametrize(
    ("raw", "setting", "allowed"),
    [
        ({"image": "public.ecr.aws/nginx/nginx:latest"}, "image", "fixed tag or a digest"),
        ({"image": "public.ecr.aws/nginx/nginx"}, "image", "fixed tag or a digest"),
        ({"image": "Not An Image"}, "image", "none of"),
        (
            {"engine": "apprunner", "image": "docker.io/library/nginx:1.27"},
            "image",
            "App Runner pulls only from ECR",
        ),
        ({"cpu": 300}, "cpu", "expected one of 256, 512"),
        ({"cpu": 256, "memory_mib": 4096}, "memory_mib", "Fargate accepts"),
        (
            {"engine": "apprunner", "cpu": 512, "memory_mib": 2048},
            "memory_mib",
            "App Runner accepts",
        ),
        ({"min_tasks": 0}, "min_tasks", "allowed: 1 or more"),
        ({"min_tasks": 3, "max_tasks": 2}, "max_tasks", "at least min_tasks (3)"),
        ({"max_tasks": 1001}, "max_tasks", "up to 1000 with engine express"),
        ({"engine": "apprunner", "max_tasks": 30}, "max_tasks", "up to 25"),
        ({"scaling_target": 95}, "scaling_target", "10..90"),
        ({"scaling_metric": "requests", "scaling_target": 0}, "scaling_target", "1 or more"),
        (
            {"engine": "apprunner", "scaling_metric": "memory"},
            "scaling_metric",
            "app_runner_max_concurrency",
        ),
        ({"app_runner_max_concurrency": 500}, "app_runner_max_concurrency", "1..200"),
        ({"engine": "apprunner", "task_subnets": "private"}, "task_subnets", "engine express"),
        ({"nat_gateways": 1}, "nat_gateways", "billed for nothing"),
        ({"nat_gateways": 4}, "nat_gateways", "0..3"),
        (
            {"task_subnets": "private", "image": "public.ecr.aws/nginx/nginx:1.27"},
            "image",
            "NAT gateway",
        ),
        ({"database_min_acu": 0.3}, "database_min_acu", "steps of 0.5"),
        ({"database_max_acu": 0.5}, "database_max_acu", "1..256"),
        (
            {"database_min_acu": 4, "database_max_acu": 2},
            "database_max_acu",
            "at least database_min_acu (4",
        ),
        ({"database_auto_pause_minutes": 2}, "database_auto_pause_minutes", "5..1440"),
        ({"database_backup_retention_days": 0}, "database_backup_retention_days", "1..35"),
        ({"database_read_replicas": 16}, "database_read_replicas", "0..15"),
        ({"health_check_path": "health"}, "health_check_path", "starting with '/'"),
        ({"health_check_path": "/a\nb"}, "health_check_path", "starting with '/'"),
        ({"container_port": 0}, "container_port", "1..65535"),
    ],
)
def test_bad_settings_fail_naming_the_setting_and_what_is_allowed(raw, setting, allowed):
    with pytest.raises(ValueError) as error:
        settings(**raw)
    message = str(error.value)
    assert message.startswith(f"setting '{WHERE}.{setting}'"), message
    assert allowed in message, message


@pytest.mark.parametrize(
    "raw",
    [
        {"image": "public.ecr.aws/nginx/nginx:1.27"},
        {"image": "public.ecr.aws/nginx/nginx@sha256:" + "a" * 64},
        {"image": "repository:v1"},
        {"engine": "apprunner", "cpu": 1024, "memory_mib": 3072},
        {"task_subnets": "private", "nat_gateways": 1, "image": "public.ecr.aws/nginx/nginx:1.27"},
        {"engine": "apprunner", "nat_gateways": 1},
        {"database": False, "database_min_acu": 0.5},
        {"scaling_metric": "requests", "scaling_target": 5000},
    ],
)
def test_good_settings_pass(raw):
    settings(**raw)


def test_an_unknown_setting_is_refused_with_a_suggestion():
    with pytest.raises(ValueError, match="did you mean 'task_subnets'"):
        settings(task_subnet="public")
