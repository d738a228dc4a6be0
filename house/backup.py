"""Data you can get back: in a stage that keeps data, every store that holds it is backed up by
AWS Backup, into a vault nobody can delete recovery points from, and optionally copied to
another region or account.

`protect_data(stack, ...)` (wired once for every stack in app.py) finds, when the stack is
synthesized, every data store of the stack whose deletion policy keeps it (`Retain`,
`RetainExceptOnCreate`, `Snapshot`: the stage keeps data) and, if there is one, adds:

- a vault (`<stack name>-Backups`: vault names are unique per account and region) encrypted
  with a customer-managed key of its own, whose access policy denies everyone
  `backup:DeleteRecoveryPoint` and `backup:UpdateRecoveryPointLifecycle`: recovery points go
  only when AWS Backup expires them at the end of their retention;
- a plan (`<stack name>-DailyBackups`): one recovery point a day (05:00 UTC, within 8 hours),
  kept `backup_retention_days`, and, with `backup_copy_vault_arn`, copied to that vault and
  kept as long there;
- a selection of the stores by ARN (a store selected by ARN is backed up whatever the
  account's per-service opt-in says), with a role AWS Backup assumes to back up and restore.

Stores: DynamoDB tables (and global tables' replica in this region), Neptune, Aurora/RDS and
DocumentDB clusters, RDS instances outside a cluster, and EFS file systems whose own automatic
backups are off. An EFS file system with automatic backups on (the house `file_system` turns
them on where data is kept) is already in AWS Backup's daily EFS plan (35 days, the account's
aws/efs/automatic-backup-vault): selecting it here too would store and bill every recovery
point twice, so it is left to that plan (deployment/rules.py accepts either).

Restores, per blueprint: the "Restore" section of its doc.
"""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from constructs import Construct

from house.compliance import acknowledge_managed_policy, stack_resources, synthesized_properties
from house.defaults import customer_key
from house.names import physical_name

BACKUP_ID = "Backup"
# Backup vault and plan names: 1 to 50 of A-Z a-z 0-9 - _ (and . for plans).
BACKUP_NAME_MAX = 50
# Deletion policies under which a store outlives its stack: what "the stage keeps data" means
# for one resource.
KEPT = {"Retain", "RetainExceptOnCreate", "Snapshot"}
# Data stores and how their ARN is written: (service, resource type in the ARN) for the RDS
# family, whose `Ref` is the identifier; None where the resource has an `Arn` attribute.
DATA_STORES: dict[str, tuple[str, str] | None] = {
    "AWS::DynamoDB::Table": None,
    "AWS::DynamoDB::GlobalTable": None,
    "AWS::EFS::FileSystem": None,
    "AWS::Neptune::DBCluster": ("rds", "cluster"),
    "AWS::RDS::DBCluster": ("rds", "cluster"),
    "AWS::DocDB::DBCluster": ("rds", "cluster"),
    "AWS::RDS::DBInstance": ("rds", "db"),
}


def protect_data(
    stack: cdk.Stack, *, keep_data: bool, retention_days: int, copy_to_vault_arn: str | None
) -> None:
    """In a stage that keeps data, back up every data store of `stack` (module docstring)."""
    if keep_data:
        cdk.Aspects.of(stack).add(
            _BackupPlan(stack, retention_days=retention_days, copy_to=copy_to_vault_arn)
        )


def needs_backup(resource: dict) -> bool:
    """Whether a template resource is a data store this house backs up: kept on deletion, and
    (for EFS) not in the file system's own automatic backup plan."""
    if resource.get("Type") not in DATA_STORES or resource.get("DeletionPolicy") not in KEPT:
        return False
    if resource["Type"] == "AWS::RDS::DBInstance":  # a cluster member: backed up as the cluster
        return not (resource.get("Properties") or {}).get("DBClusterIdentifier")
    if resource["Type"] == "AWS::EFS::FileSystem":
        policy = (resource.get("Properties") or {}).get("BackupPolicy") or {}
        return policy.get("Status") != "ENABLED"
    return True


@jsii.implements(cdk.IAspect)
class _BackupPlan:
    def __init__(self, stack: cdk.Stack, *, retention_days: int, copy_to: str | None) -> None:
        self._stack = stack
        self._retention = cdk.Duration.days(retention_days)
        self._copy_to = copy_to
        self._done = False

    def visit(self, node) -> None:
        if self._done or not isinstance(node, cdk.Stack) or node.node.path != self._stack.node.path:
            return
        self._done = True
        stores = self._stores()
        if stores:
            self._plan(stores)

    def _stores(self) -> list[str]:
        """The ARNs of the stack's stores that need a backup, in construct order."""
        stack = self._stack
        arns = []
        for node in stack_resources(stack, DATA_STORES):
            resource = {
                "Type": node.cfn_resource_type,
                "DeletionPolicy": _deletion_policy(node),
                "Properties": synthesized_properties(node),
            }
            if needs_backup(resource):
                arns.append(_arn(stack, node))
        return arns

    def _plan(self, arns: list[str]) -> None:
        stack = self._stack
        scope = Construct(stack, BACKUP_ID)
        key = customer_key(
            scope,
            "Key",
            description=f"Encrypts the backup vault of {stack.stack_name}",
            # Recovery points outlive the stack (the vault is retained); so must their key.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        vault = backup.BackupVault(
            scope,
            "Vault",
            backup_vault_name=physical_name(stack, "Backups", max_length=BACKUP_NAME_MAX),
            encryption_key=key,
            block_recovery_point_deletion=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        copy_actions = None
        if self._copy_to:
            copy_actions = [
                backup.BackupPlanCopyActionProps(
                    destination_backup_vault=backup.BackupVault.from_backup_vault_arn(
                        scope, "CopyVault", self._copy_to
                    ),
                    delete_after=self._retention,
                )
            ]
        plan = backup.BackupPlan(
            scope,
            "Plan",
            backup_plan_name=physical_name(stack, "DailyBackups", max_length=BACKUP_NAME_MAX),
            backup_vault=vault,
        )
        plan.add_rule(
            backup.BackupPlanRule(
                rule_name="Daily",
                schedule_expression=events.Schedule.cron(minute="0", hour="5"),
                start_window=cdk.Duration.hours(1),
                completion_window=cdk.Duration.hours(8),
                delete_after=self._retention,
                copy_actions=copy_actions,
            )
        )
        selection = plan.add_selection(
            "DataStores",
            resources=[backup.BackupResource.from_arn(arn) for arn in arns],
            allow_restores=True,
        )
        role = selection.node.find_child("Role")
        for policy, does in (
            ("AWSBackupServiceRolePolicyForBackup", "back up"),
            ("AWSBackupServiceRolePolicyForRestores", "restore"),
        ):
            acknowledge_managed_policy(
                role,
                f"service-role/{policy}",
                f"AWS Backup assumes this role only for the stores this stack's selection names; "
                f"{policy} is AWS's list of the calls it makes to {does} each supported service "
                "(DynamoDB, EFS, Neptune/RDS snapshots and their KMS grants), which AWS extends "
                "when a service adds a step; a copy of it here would fail jobs silently when "
                "it falls behind.",
            )
        cdk.CfnOutput(
            stack,
            "BackupVaultName",
            value=vault.backup_vault_name,
            description="Recovery points of this stack's data (see the doc's Restore section)",
        )
        cdk.CfnOutput(
            stack,
            "BackupRoleArn",
            value=role.role_arn,
            description="The role to give `aws backup start-restore-job --iam-role-arn`",
        )


def _deletion_policy(node: cdk.CfnResource) -> str | None:
    policy = node.cfn_options.deletion_policy
    return {
        cdk.CfnDeletionPolicy.RETAIN: "Retain",
        cdk.CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE: "RetainExceptOnCreate",
        cdk.CfnDeletionPolicy.SNAPSHOT: "Snapshot",
        cdk.CfnDeletionPolicy.DELETE: "Delete",
    }.get(policy)


def _arn(stack: cdk.Stack, node: cdk.CfnResource) -> str:
    form = DATA_STORES[node.cfn_resource_type]
    if form is None:
        return node.get_att("Arn").to_string()
    service, resource = form
    return stack.format_arn(
        service=service,
        resource=resource,
        resource_name=node.ref,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
