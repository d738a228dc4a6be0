"""What a stack's template protects, and how far back each store can go: the facts the restore
runbooks (docgen/restore.py) print, read from the synthesized template alone.

A store is protected when an `AWS::Backup::BackupSelection` of the stack names it (house/backup.py
selects every kept store), or when it is an EFS file system kept on deletion with its own automatic
backups on (AWS Backup's daily EFS plan, outside the template). Its own point-in-time recovery
(DynamoDB continuous backups, a database cluster's automated backups) is read from its properties.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from docgen.assembly import Stack

# Deletion policies under which a store outlives its stack (house/backup.py KEPT).
KEPT = {"Retain", "RetainExceptOnCreate", "Snapshot"}
# The store types the runbooks know how to restore. A selection naming any other type fails
# `protected_stores` with its name: a new kind of store needs its runbook first.
TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
FILE_SYSTEM_TYPES = ("AWS::EFS::FileSystem",)
CLUSTER_TYPES = ("AWS::Neptune::DBCluster", "AWS::RDS::DBCluster")
RESTORABLE_TYPES = TABLE_TYPES + FILE_SYSTEM_TYPES + CLUSTER_TYPES
# Where EFS automatic backups go, and how long AWS's plan for them keeps each recovery point
# unless the account changes it (Amazon EFS User Guide, "Automatic backups"; house/backup.py).
EFS_AUTOMATIC_VAULT = "aws/efs/automatic-backup-vault"
EFS_AUTOMATIC_RETENTION_DAYS = 35
# DynamoDB point-in-time recovery keeps 35 days unless RecoveryPeriodInDays says fewer; a DB
# cluster keeps 1 day of automated backups unless BackupRetentionPeriod says more (the
# CloudFormation reference's defaults).
DYNAMODB_PITR_DEFAULT_DAYS = 35
CLUSTER_BACKUP_DEFAULT_DAYS = 1


@dataclass(frozen=True)
class Copy:
    vault_arn: str
    retention_days: int | None


@dataclass(frozen=True)
class Plan:
    """One rule of a backup plan that selects the store: when, how long, where to."""

    name: str
    vault: str
    schedule: str
    retention_days: int | None
    copies: tuple[Copy, ...]


@dataclass(frozen=True)
class Store:
    stack: Stack
    logical_id: str
    plans: tuple[Plan, ...]  # empty: EFS automatic backups (AWS's plan, not the template's)
    point_in_time_days: int | None  # None: no point-in-time recovery of its own

    @property
    def resource(self) -> dict:
        return self.stack.resources[self.logical_id]

    @property
    def type(self) -> str:
        return self.resource["Type"]

    @property
    def properties(self) -> dict:
        return self.resource.get("Properties") or {}

    @property
    def path(self) -> str:
        """The store's construct path below its stack, e.g. `TodoApi/Table`."""
        path = (self.resource.get("Metadata") or {}).get("aws:cdk:path", self.logical_id)
        parts = path.split("/")[1:] or [self.logical_id]
        return "/".join(parts[:-1] if parts[-1] == "Resource" and len(parts) > 1 else parts)

    @property
    def automatic(self) -> bool:
        return not self.plans


def referenced_ids(value) -> list[str]:
    """Logical ids a template expression refers to (`Ref`, `Fn::GetAtt`), in order."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.append(inner)
            elif key == "Fn::GetAtt" and isinstance(inner, list):
                found.append(inner[0])
            else:
                found += referenced_ids(inner)
    elif isinstance(value, list):
        for inner in value:
            found += referenced_ids(inner)
    return found


def _literal(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _vault_name(stack: Stack, target) -> str:
    for logical_id in referenced_ids(target):
        vault = stack.resources.get(logical_id, {})
        if vault.get("Type") == "AWS::Backup::BackupVault":
            return _literal(vault["Properties"]["BackupVaultName"])
    return _literal(target)


def _plans(stack: Stack, selection: dict) -> tuple[Plan, ...]:
    plans = []
    for plan_id in referenced_ids(selection["Properties"].get("BackupPlanId")):
        plan = stack.resources[plan_id]["Properties"]["BackupPlan"]
        for rule in plan.get("BackupPlanRule", []):
            plans.append(
                Plan(
                    name=_literal(plan["BackupPlanName"]),
                    vault=_vault_name(stack, rule["TargetBackupVault"]),
                    schedule=rule.get("ScheduleExpression", ""),
                    retention_days=(rule.get("Lifecycle") or {}).get("DeleteAfterDays"),
                    copies=tuple(
                        Copy(
                            _literal(copy["DestinationBackupVaultArn"]),
                            (copy.get("Lifecycle") or {}).get("DeleteAfterDays"),
                        )
                        for copy in rule.get("CopyActions", [])
                    ),
                )
            )
    return tuple(plans)


def _selected(stack: Stack, selection: dict) -> list[str]:
    """The logical ids of the stores a selection names (by ARN built from Ref or GetAtt)."""
    found = []
    for arn in selection["Properties"]["BackupSelection"].get("Resources", []):
        stores = [i for i in referenced_ids(arn) if i in stack.resources]
        if not stores:
            raise ValueError(f"{stack.id}: a backup selection names {arn!r}, no resource of it")
        found.append(stores[0])
    return found


def point_in_time_days(stack: Stack, resource: dict) -> int | None:
    properties = resource.get("Properties") or {}
    if resource["Type"] == "AWS::DynamoDB::GlobalTable":
        replicas = properties.get("Replicas", [])
        here = [r for r in replicas if r.get("Region") == stack.region] or replicas[:1]
        properties = here[0] if here else {}
    if resource["Type"] in TABLE_TYPES:
        spec = properties.get("PointInTimeRecoverySpecification") or {}
        if not spec.get("PointInTimeRecoveryEnabled"):
            return None
        return int(spec.get("RecoveryPeriodInDays", DYNAMODB_PITR_DEFAULT_DAYS))
    if resource["Type"] in CLUSTER_TYPES:
        return int(properties.get("BackupRetentionPeriod", CLUSTER_BACKUP_DEFAULT_DAYS))
    return None


def _automatic_file_system(resource: dict) -> bool:
    policy = (resource.get("Properties") or {}).get("BackupPolicy") or {}
    return (
        resource["Type"] in FILE_SYSTEM_TYPES
        and resource.get("DeletionPolicy") in KEPT
        and policy.get("Status") == "ENABLED"
    )


def protected_stores(stack: Stack) -> list[Store]:
    """Every store of `stack` with recovery points: selected into a backup plan of the stack, or
    an EFS file system in AWS Backup's automatic plan; in template order."""
    plans: dict[str, tuple[Plan, ...]] = {}
    for selection in stack.of_type("AWS::Backup::BackupSelection").values():
        for logical_id in _selected(stack, selection):
            plans[logical_id] = plans.get(logical_id, ()) + _plans(stack, selection)
    stores = []
    for logical_id, resource in stack.resources.items():
        if logical_id not in plans and not _automatic_file_system(resource):
            continue
        if resource["Type"] not in RESTORABLE_TYPES:
            raise ValueError(
                f"{stack.id}/{logical_id}: {resource['Type']} is backed up but has no restore "
                "runbook: add one to docgen/restore.py (and its type to RESTORABLE_TYPES)"
            )
        days = point_in_time_days(stack, resource)
        stores.append(Store(stack, logical_id, plans.get(logical_id, ()), days))
    return stores


def data_stores(stack: Stack) -> list[str]:
    """Logical ids of every store of a restorable type, protected or not (for saying why not)."""
    return [k for k, r in stack.resources.items() if r["Type"] in RESTORABLE_TYPES]
