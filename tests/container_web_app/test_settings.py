"""Bad settings fail at synth with a ValueError naming the setting and what is allowed."""

from __future__ import annotations

import json

import pytest

from blueprints.container_web_app.stack import SETTINGS
from house.settings import parse_settings
from tests.support.synth import REPO_ROOT

WHERE = "blueprints.container-web-app.dev"


def settings(**raw):
    return parse_settings(SETTINGS, raw, WHERE)


def test_the_profiles_in_cdk_json_are_valid_and_differ_where_cost_and_robustness_do():
    blueprints = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["blueprints"]
    dev = parse_settings(SETTINGS, blueprints["container-web-app"]["dev"], WHERE)
    prod = parse_settings(SETTINGS, blueprints["container-web-app"]["prod"], "…prod")
    assert dev.engine == prod.engine == "express"
    assert dev.image == prod.image == "codebuild"
    # Dev idles on storage only (0 ACU, paused); prod never pauses and has a reader.
    assert (dev.database_min_capacity, dev.database_readers) == (0, 0)
    assert prod.database_min_capacity >= 0.5 and prod.database_readers >= 1
    assert (dev.cpu, dev.memory_mib) == (256, 512)
    assert prod.min_tasks >= 2
    assert dev.nat_gateways == prod.nat_gateways == 0


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
        ({"cpu": 256, "memory_mib": 4096}, "memory_mib", "Fargate accepts"),
        (
            {"engine": "apprunner", "cpu": 512, "memory_mib": 2048},
            "memory_mib",
            "App Runner accepts",
        ),
        ({"min_tasks": 0}, "min_tasks", "at least 1"),
        ({"min_tasks": 3, "max_tasks": 2}, "max_tasks", "at least min_tasks"),
        ({"engine": "apprunner", "max_tasks": 30}, "max_tasks", "up to 25"),
        ({"scaling_target": 95}, "scaling_target", "10..90"),
        (
            {"engine": "apprunner", "scaling_metric": "memory"},
            "scaling_metric",
            "app_runner_max_concurrency",
        ),
        ({"app_runner_max_concurrency": 500}, "app_runner_max_concurrency", "1..200"),
        ({"engine": "apprunner", "network": "private"}, "network", "engine express"),
        ({"nat_gateways": 1}, "nat_gateways", "billed for nothing"),
        (
            {"network": "private", "image": "public.ecr.aws/nginx/nginx:1.27"},
            "image",
            "NAT gateway",
        ),
        ({"database_min_capacity": 0.3}, "database_min_capacity", "steps of 0.5"),
        ({"database_max_capacity": 0.5}, "database_max_capacity", "at least 1"),
        ({"database_auto_pause_minutes": 2}, "database_auto_pause_minutes", "5..1440"),
        ({"database_backup_days": 0}, "database_backup_days", "1..35"),
        ({"database_readers": 16}, "database_readers", "0..15"),
        ({"health_check_path": "health"}, "health_check_path", "starting with '/'"),
        ({"container_port": 0}, "container_port", "1..65535"),
    ],
)
def test_bad_settings_fail_naming_the_setting_and_what_is_allowed(raw, setting, allowed):
    with pytest.raises(ValueError) as error:
        settings(**raw)
    message = str(error.value)
    assert message.startswith(f"{WHERE}: setting '{setting}'") or f"'{WHERE}.{setting}'" in message
    assert allowed in message


@pytest.mark.parametrize(
    "raw",
    [
        {"image": "public.ecr.aws/nginx/nginx:1.27"},
        {"image": "public.ecr.aws/nginx/nginx@sha256:" + "a" * 64},
        {"image": "repository:v1"},
        {"engine": "apprunner", "cpu": 1024, "memory_mib": 3072},
        {"network": "private", "nat_gateways": 1, "image": "public.ecr.aws/nginx/nginx:1.27"},
        {"engine": "apprunner", "nat_gateways": 1},
        {"database": False, "database_min_capacity": 0.5},
    ],
)
def test_good_settings_pass(raw):
    settings(**raw)


def test_an_unknown_setting_is_refused_with_a_suggestion():
    with pytest.raises(ValueError, match="did you mean 'network'"):
        settings(netwrok="public")
