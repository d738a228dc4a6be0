"""house/backup.py: every data store a stage keeps is in a daily AWS Backup plan of its stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds

from house.backup import protect_data
from house.defaults import file_system
from house.network import ISOLATED
from house.operations import watch_failures
from tests.support.template import only, resources

COPY_VAULT = "arn:aws:backup:eu-west-1:111122223333:backup-vault:Archive"


def table(stack, id: str, removal: cdk.RemovalPolicy) -> dynamodb.Table:
    return dynamodb.Table(
        stack,
        id,
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        removal_policy=removal,
    )


def stores(stack: cdk.Stack) -> None:
    """Kept: a table, an EFS without automatic backups, an Aurora cluster and its instance;
    not for this plan: a disposable table, an EFS whose automatic backups are on."""
    retain = cdk.RemovalPolicy.RETAIN
    table(stack, "Kept", retain)
    table(stack, "Scratch", cdk.RemovalPolicy.DESTROY)
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    file_system(
        stack, "Shared", vpc=vpc, vpc_subnets=ISOLATED, removal_policy=retain, backups=False
    )
    file_system(
        stack, "AutoBackedUp", vpc=vpc, vpc_subnets=ISOLATED, removal_policy=retain, backups=True
    )
    rds.DatabaseCluster(
        stack,
        "Database",
        engine=rds.DatabaseClusterEngine.aurora_postgres(
            version=rds.AuroraPostgresEngineVersion.VER_16_4
        ),
        writer=rds.ClusterInstance.serverless_v2("Writer"),
        vpc=vpc,
        vpc_subnets=ISOLATED,
        removal_policy=retain,
    )


def selected(template: dict) -> list:
    _, selection = only(template, "AWS::Backup::BackupSelection")
    return selection["Properties"]["BackupSelection"]["Resources"]


def logical_id_of(template: dict, kind: str, prefix: str) -> str:
    (found,) = [k for k in resources(template, kind) if k.startswith(prefix)]
    return found


def test_every_kept_store_is_selected_and_nothing_else(synthesized):
    def build(stack):
        stores(stack)
        protect_data(stack, keep_data=True, retention_days=35, copy_to_vault_arn=None)

    template = synthesized(build)
    kept = logical_id_of(template, "AWS::DynamoDB::Table", "Kept")
    shared = logical_id_of(template, "AWS::EFS::FileSystem", "Shared")
    cluster = logical_id_of(template, "AWS::RDS::DBCluster", "Database")
    assert selected(template) == [
        {"Fn::GetAtt": [kept, "Arn"]},
        {"Fn::GetAtt": [shared, "Arn"]},
        {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":rds:",
                    {"Ref": "AWS::Region"},
                    ":",
                    {"Ref": "AWS::AccountId"},
                    ":cluster:",
                    {"Ref": cluster},
                ],
            ]
        },
    ]


def test_the_vault_is_named_for_the_stack_encrypted_and_keeps_every_recovery_point(synthesized):
    def build(stack):
        stores(stack)
        protect_data(stack, keep_data=True, retention_days=35, copy_to_vault_arn=None)

    template = synthesized(build)
    vault_id, vault = only(template, "AWS::Backup::BackupVault")
    props = vault["Properties"]
    assert props["BackupVaultName"] == "Probe-prod-Backups"
    assert vault["DeletionPolicy"] == "Retain"
    key_id = props["EncryptionKeyArn"]["Fn::GetAtt"][0]
    assert resources(template, "AWS::KMS::Key")[key_id]["DeletionPolicy"] == "Retain"
    (deny,) = props["AccessPolicy"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"}
    assert set(deny["Action"]) == {
        "backup:DeleteRecoveryPoint",
        "backup:UpdateRecoveryPointLifecycle",
    }
    _, plan = only(template, "AWS::Backup::BackupPlan")
    (rule,) = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
    assert plan["Properties"]["BackupPlan"]["BackupPlanName"] == "Probe-prod-DailyBackups"
    assert rule["TargetBackupVault"] == {"Fn::GetAtt": [vault_id, "BackupVaultName"]}
    assert rule["Lifecycle"] == {"DeleteAfterDays": 35}
    assert rule["ScheduleExpression"] == "cron(0 5 * * ? *)"
    assert "CopyActions" not in rule


def test_a_copy_vault_receives_every_recovery_point_for_as_long(synthesized):
    def build(stack):
        table(stack, "Kept", cdk.RemovalPolicy.RETAIN)
        protect_data(stack, keep_data=True, retention_days=90, copy_to_vault_arn=COPY_VAULT)

    _, plan = only(synthesized(build), "AWS::Backup::BackupPlan")
    (rule,) = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
    assert rule["CopyActions"] == [
        {"DestinationBackupVaultArn": COPY_VAULT, "Lifecycle": {"DeleteAfterDays": 90}}
    ]


def test_the_role_may_back_up_and_restore(synthesized):
    def build(stack):
        table(stack, "Kept", cdk.RemovalPolicy.RETAIN)
        protect_data(stack, keep_data=True, retention_days=35, copy_to_vault_arn=None)

    template = synthesized(build)
    _, selection = only(template, "AWS::Backup::BackupSelection")
    role_id = selection["Properties"]["BackupSelection"]["IamRoleArn"]["Fn::GetAtt"][0]
    role = resources(template, "AWS::IAM::Role")[role_id]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "backup.amazonaws.com"
    }
    policies = {str(arn) for arn in role["Properties"]["ManagedPolicyArns"]}
    assert any("AWSBackupServiceRolePolicyForBackup" in p for p in policies)
    assert any("AWSBackupServiceRolePolicyForRestores" in p for p in policies)
    assert "BackupRoleArn" in template["Outputs"]


@pytest.mark.parametrize("keep_data", [False, True], ids=["disposable stage", "nothing kept"])
def test_no_plan_without_kept_data(synthesized, keep_data):
    def build(stack):
        table(stack, "Scratch", cdk.RemovalPolicy.DESTROY)
        protect_data(stack, keep_data=keep_data, retention_days=35, copy_to_vault_arn=None)

    template = synthesized(build)
    assert not resources(template, "AWS::Backup::BackupVault")
    assert not resources(template, "AWS::Backup::BackupPlan")


def test_failed_backup_jobs_alarm_and_failed_copies_where_there_are_copies(synthesized):
    def build(stack, copy):
        table(stack, "Kept", cdk.RemovalPolicy.RETAIN)
        protect_data(stack, keep_data=True, retention_days=35, copy_to_vault_arn=copy)
        watch_failures(stack, keep_data=True, email=None)

    for copy, metrics in (
        (None, {"NumberOfBackupJobsFailed"}),
        (COPY_VAULT, {"NumberOfBackupJobsFailed", "NumberOfCopyJobsFailed"}),
    ):
        template = synthesized(lambda stack, copy=copy: build(stack, copy))
        vault_id, _ = only(template, "AWS::Backup::BackupVault")
        alarms = [a["Properties"] for a in resources(template, "AWS::CloudWatch::Alarm").values()]
        assert {a["MetricName"] for a in alarms} == metrics
        assert all(
            a["Dimensions"] == [{"Name": "BackupVaultName", "Value": {"Ref": vault_id}}]
            for a in alarms
        )
