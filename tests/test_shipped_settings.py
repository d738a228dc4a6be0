"""The stage settings cdk.json ships, and why. The only tests that read cdk.json's `stages`
values themselves: every other test reads the stage the app was built with, so a fork that
changes a value here changes this file (and the snapshots), nothing else."""

from __future__ import annotations

from tests.support.synth import shipped_stage


def test_dev_is_disposable_and_environment_agnostic():
    dev = shipped_stage("dev")
    assert dev.keep_data is False, "dev data stores are deleted with their stacks"
    assert dev.region is None and dev.availability_zones == (), "any account, any region"
    assert dev.log_retention_days == 14, "two weeks of logs is enough to debug dev"
    assert dev.operations_email is None, "alarms reach whoever subscribes to the topic output"


def test_prod_keeps_data_in_three_azs_of_one_region():
    prod = shipped_stage("prod")
    assert prod.keep_data is True, "prod data stores are retained, protected and backed up"
    assert prod.region == "us-east-1"
    assert len(prod.availability_zones) == 3, "DAX, Neptune replicas and NAT spread over 3 AZs"
    assert prod.log_retention_days == 365, "a year of logs for audits"


def test_prod_backs_up_daily_for_35_days_and_alarms_to_whoever_subscribes():
    prod = shipped_stage("prod")
    assert prod.backup_retention_days == 35, "as long as DynamoDB point-in-time recovery reaches"
    assert prod.backup_copy_vault_arn is None, "a copy needs a vault you own elsewhere: set it"
    assert prod.operations_email is None, "no address of ours in a template you deploy"
