"""The ContainerWebApp settings cdk.json ships, and why. The only tests that read cdk.json's
container-web-app values themselves: every other test reads the settings the stage was built
with, so a fork that changes a value here changes this file (and the snapshots), nothing else."""

from __future__ import annotations

from tests.support.synth import shipped_settings


def test_both_stages_run_express_mode_on_an_image_built_in_codebuild():
    for stage in ("dev", "prod"):
        settings = shipped_settings("container-web-app", stage)
        # App Runner takes no new customers since 2026-04-30; no Docker where you deploy.
        assert (settings.engine, settings.image) == ("express", "codebuild")
        assert (settings.task_subnets, settings.nat_gateways) == ("public", 0), "no NAT"
        assert settings.database


def test_dev_is_the_smallest_task_and_a_database_that_pauses():
    dev = shipped_settings("container-web-app", "dev")
    assert (dev.cpu, dev.memory_mib, dev.min_tasks, dev.max_tasks) == (256, 512, 1, 2)
    assert (dev.database_min_acu, dev.database_max_acu) == (0, 2)
    assert dev.database_auto_pause_minutes == 5
    assert (dev.database_read_replicas, dev.database_backup_retention_days) == (0, 1)


def test_prod_keeps_two_tasks_a_warm_database_with_a_reader_and_a_week_of_backups():
    prod = shipped_settings("container-web-app", "prod")
    assert (prod.cpu, prod.memory_mib, prod.min_tasks, prod.max_tasks) == (512, 1024, 2, 10)
    assert (prod.database_min_acu, prod.database_max_acu) == (0.5, 8)
    assert (prod.database_read_replicas, prod.database_backup_retention_days) == (1, 7)
    assert prod.repository_keep_images == 30
