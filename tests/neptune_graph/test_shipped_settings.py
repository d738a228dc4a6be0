"""The NeptuneGraph settings cdk.json ships, and why. The only tests that read cdk.json's
neptune-graph values themselves: every other test reads the settings the stage was built with,
so a fork that changes a value here changes this file (and the snapshots), nothing else."""

from __future__ import annotations

from tests.support.synth import shipped_settings


def test_dev_is_one_burstable_instance_with_a_day_of_backups():
    dev = shipped_settings("neptune-graph", "dev")
    assert (dev.capacity, dev.instance_class) == ("provisioned", "db.t4g.medium")
    assert (dev.read_replicas, dev.backup_retention_days) == (0, 1)


def test_prod_has_a_memory_optimised_writer_a_replica_in_another_az_and_a_week_of_backups():
    prod = shipped_settings("neptune-graph", "prod")
    assert (prod.capacity, prod.instance_class) == ("provisioned", "db.r6g.large")
    assert (prod.read_replicas, prod.backup_retention_days) == (1, 7)


def test_the_optional_tools_are_off():
    for stage in ("dev", "prod"):
        settings = shipped_settings("neptune-graph", stage)
        assert not settings.workbench_notebook and not settings.analytics_graph
