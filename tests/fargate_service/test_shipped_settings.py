"""The FargateService settings cdk.json ships, and why. The only tests that read cdk.json's
fargate-service values themselves: every other test reads the settings the stage was built with,
so a fork that changes a value here changes this file (and the snapshots), nothing else."""

from __future__ import annotations

from house.domains import PLACEHOLDER_HOSTED_ZONE_ID, is_placeholder
from tests.support.synth import shipped_settings


def test_dev_runs_on_spot_in_public_subnets_without_nat():
    dev = shipped_settings("fargate-service", "dev")
    assert (dev.task_subnets, dev.nat_gateways) == ("public", 0), "no NAT, no endpoints"
    assert (dev.on_demand_base, dev.on_demand_weight, dev.spot_weight) == (0, 0, 1)
    assert (dev.cpu, dev.memory_mib, dev.min_tasks, dev.max_tasks) == (256, 512, 1, 2)
    assert dev.worker_min_tasks == 0 and dev.execute_command


def test_prod_keeps_an_on_demand_base_in_private_subnets_and_a_business_hours_floor():
    prod = shipped_settings("fargate-service", "prod")
    assert (prod.task_subnets, prod.nat_gateways) == ("private", 0), "VPC endpoints, no NAT"
    assert (prod.on_demand_base, prod.on_demand_weight, prod.spot_weight) == (2, 1, 1)
    assert (prod.cpu, prod.memory_mib, prod.min_tasks, prod.max_tasks) == (512, 1024, 2, 10)
    assert prod.scale_out_schedule == "cron(0 8 ? * MON-FRI *)"
    assert prod.scale_in_schedule == "cron(0 20 ? * MON-FRI *)"
    assert prod.scheduled_min_tasks == 4
    assert prod.worker_min_tasks == 1 and not prod.execute_command, "read-only root filesystem"
    assert (prod.shared_file_retention_days, prod.repository_keep_images) == (30, 30)


def test_both_stages_build_the_sample_app_in_codebuild_so_nobody_needs_docker():
    for stage in ("dev", "prod"):
        settings = shipped_settings("fargate-service", stage)
        assert settings.image == "codebuild" and settings.cpu_architecture == "X86_64"
        assert not settings.ec2_capacity


def test_prod_ships_placeholder_domain_settings_the_preflight_refuses_until_they_are_yours():
    """Prod serves HTTPS (TLS 1.2+) on a domain of yours, port 80 only redirecting; cdk.json
    cannot know yours, so it names example.com and a zone id that says what to put there
    (house/domains.py), and never turns allow_plain_http on. Dev serves plain HTTP."""
    prod = shipped_settings("fargate-service", "prod")
    assert prod.domain_name == "app.example.com" and is_placeholder(prod.domain_name)
    assert (prod.hosted_zone_id, prod.hosted_zone_name) == (
        PLACEHOLDER_HOSTED_ZONE_ID,
        "example.com",
    )
    assert not prod.allow_plain_http
    assert shipped_settings("fargate-service", "dev").domain_name is None
