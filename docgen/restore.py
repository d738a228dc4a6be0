"""Each blueprint doc's restore runbook (generated:restore), from its prod templates.

For every store with recovery points (docgen/protected_stores.py): what it is, how far back it
can go (the plan's retention, the store's own point-in-time window), and the AWS CLI commands to
find a recovery point, start the restore, watch it, and put the data back where the stack reads
it. Names come from the template (stack name, logical id, literal physical names), the region
from the stack's environment (cdk.json's prod stage); what exists only after deploy is read into
shell variables by the commands themselves.
"""

from __future__ import annotations

from docgen.assembly import BLUEPRINT_DOCS, Assembly, Stack
from docgen.protected_stores import (
    CLUSTER_TYPES,
    EFS_AUTOMATIC_RETENTION_DAYS,
    EFS_AUTOMATIC_VAULT,
    FILE_SYSTEM_TYPES,
    TABLE_TYPES,
    Store,
    data_stores,
    protected_stores,
    referenced_ids,
)

SECTION = "restore"
# The role AWS Backup's console creates for restores where no stack made one (EFS automatic
# backups have no plan in the template, so no role of the stack's).
DEFAULT_ROLE = "AWSBackupDefaultServiceRole"
METADATA_FILE = "restore-metadata.json"
NO_DATA = (
    "Prod keeps no user data in a store AWS Backup restores (DynamoDB tables, EFS file systems, "
    "Neptune or Aurora clusters): none of {stacks} has one{why}, so there is nothing to restore "
    "from a backup. Redeploying the stack recreates everything it holds."
)


def sections(assemblies: dict[str, Assembly]) -> dict[str, dict[str, str]]:
    prod = assemblies["prod"]
    return {doc: {SECTION: runbook(prod.of_doc(doc))} for doc in BLUEPRINT_DOCS}


def runbook(stacks: list[Stack]) -> str:
    stores = [store for stack in stacks for store in protected_stores(stack)]
    lines = ["## Restore", ""]
    if not stores:
        unkept = [f"`{s.name}`/{i}" for s in stacks for i in data_stores(s)]
        why = f" it keeps (only {', '.join(unkept)}, deleted with its stack)" if unkept else ""
        names = ", ".join(f"`{s.name}`" for s in stacks) or "its stacks"
        return "\n".join(lines + [NO_DATA.format(stacks=names, why=why)])
    lines += [
        "What prod can get back, and the exact commands. AWS Backup never overwrites a store: "
        "every restore makes a new table, cluster, or directory, and step 4 says how the data "
        "gets back to where the stack reads it. Run a store's blocks in order in one shell with "
        "credentials for the prod account: its first block sets the variables the others use.",
        "",
    ]
    for store in stores:
        lines += _store(store)
    return "\n".join(lines).rstrip()


# --- one store ------------------------------------------------------------------------------


def _store(store: Store) -> list[str]:
    if store.type in TABLE_TYPES:
        kind, render = "DynamoDB table", _table
    elif store.type in FILE_SYSTEM_TYPES:
        kind, render = "EFS file system", _file_system
    elif store.type in CLUSTER_TYPES:
        engine = "Neptune" if store.type.startswith("AWS::Neptune") else "Aurora"
        kind, render = f"{engine} cluster", _cluster
    else:  # protected_stores refuses other types; this keeps the two lists honest
        raise ValueError(f"no restore runbook for {store.type}")
    lines = [f"### {kind} `{store.path}` (`{store.stack.name}`)", ""]
    lines += _how_far_back(store)
    lines += [""] + render(store)
    return lines + [""]


def _how_far_back(store: Store) -> list[str]:
    lines = []
    for plan in store.plans:
        kept = f"kept {plan.retention_days} days" if plan.retention_days else "kept indefinitely"
        lines.append(
            f"- **AWS Backup**: a recovery point on `{plan.schedule}` (UTC), {kept}, in vault "
            f"`{plan.vault}` (plan `{plan.name}`): you can go back {plan.retention_days or 'any'}"
            " days, to the moment of a backup."
        )
        for copy in plan.copies:
            days = f"{copy.retention_days} days" if copy.retention_days else "indefinitely"
            lines.append(
                f"- **Copy**: each recovery point is also copied to `{copy.vault_arn}` and kept "
                f"{days} there; to restore from the copy, run the same commands in that vault's "
                "account and region, with the copy's recovery point "
                "(`aws backup list-recovery-points-by-backup-vault`)."
            )
    if store.automatic:
        lines.append(
            f"- **AWS Backup (EFS automatic backups)**: a daily recovery point in vault "
            f"`{EFS_AUTOMATIC_VAULT}`, kept {EFS_AUTOMATIC_RETENTION_DAYS} days by AWS's "
            "automatic-backup plan (the template turns it on, the account owns its retention)."
        )
    if store.point_in_time_days and store.type in TABLE_TYPES:
        lines.append(
            f"- **Point-in-time recovery**: any second of the last {store.point_in_time_days} "
            "days (DynamoDB continuous backups), to a new table."
        )
    elif store.point_in_time_days and store.type in CLUSTER_TYPES:
        lines.append(
            f"- **Automated backups**: any second of the last {store.point_in_time_days} days "
            "(the cluster's BackupRetentionPeriod), to a new cluster."
        )
    return lines


def _region(stack: Stack) -> str:
    return stack.region or '"${AWS_REGION:?set AWS_REGION to the stack\'s region}"'


def _physical_id(variable: str, store: Store) -> list[str]:
    return [
        f'{variable}=$(aws cloudformation describe-stack-resource --region "$REGION" \\',
        f'  --stack-name "$STACK" --logical-resource-id {store.logical_id} \\',
        "  --query StackResourceDetail.PhysicalResourceId --output text)",
    ]


def _recovery_point(arn_variable: str) -> list[str]:
    return [
        'aws backup list-recovery-points-by-resource --region "$REGION" \\',
        f'  --resource-arn "${arn_variable}" --output table \\',
        "  --query 'RecoveryPoints[].[CreationDate,Status,BackupVaultName,RecoveryPointArn]'",
        "# The newest; to go back further, set RECOVERY_POINT_ARN to another one listed above.",
        'RECOVERY_POINT_ARN=$(aws backup list-recovery-points-by-resource --region "$REGION" \\',
        f'  --resource-arn "${arn_variable}" --output text \\',
        "  --query 'max_by(RecoveryPoints, &CreationDate).RecoveryPointArn')",
    ]


def _role(store: Store) -> list[str]:
    if store.automatic:
        return [
            "# EFS automatic backups have no plan in the stack, so no role of its own:",
            f"# {DEFAULT_ROLE} (the AWS Backup console creates it; get-role fails",
            "# while it does not exist).",
            f"ROLE_ARN=$(aws iam get-role --role-name {DEFAULT_ROLE} \\",
            "  --query Role.Arn --output text)",
        ]
    output = _role_output(store)
    if output:
        return [
            'ROLE_ARN=$(aws cloudformation describe-stacks --region "$REGION" \\',
            '  --stack-name "$STACK" --output text \\',
            f"  --query \"Stacks[0].Outputs[?OutputKey=='{output}'].OutputValue\")",
        ]
    role_id = _selection_role(store)
    return [
        'ROLE_NAME=$(aws cloudformation describe-stack-resource --region "$REGION" \\',
        f'  --stack-name "$STACK" --logical-resource-id {role_id} \\',
        "  --query StackResourceDetail.PhysicalResourceId --output text)",
        'ROLE_ARN=$(aws iam get-role --role-name "$ROLE_NAME" --query Role.Arn --output text)',
    ]


def _selection_role(store: Store) -> str:
    for selection in store.stack.of_type("AWS::Backup::BackupSelection").values():
        spec = selection["Properties"]["BackupSelection"]
        if store.logical_id in referenced_ids(spec.get("Resources", [])):
            return referenced_ids(spec["IamRoleArn"])[0]
    raise ValueError(f"{store.stack.id}/{store.logical_id}: selected by no backup selection")


def _role_output(store: Store) -> str | None:
    role_id = _selection_role(store)
    for key, output in store.stack.template.get("Outputs", {}).items():
        if referenced_ids(output.get("Value")) == [role_id]:
            return key
    return None


def _header(store: Store) -> list[str]:
    return [f"REGION={_region(store.stack)} STACK={store.stack.name}"]


def _watch() -> list[str]:
    return [
        "# 3. Watch it: repeat until Status is COMPLETED (FAILED: read StatusMessage).",
        'aws backup describe-restore-job --region "$REGION" --restore-job-id "$JOB_ID" \\',
        "  --query '[Status,StatusMessage,CreatedResourceArn]' --output text",
    ]


def _start(metadata: list[str]) -> list[str]:
    return [
        f"cat > {METADATA_FILE} <<EOF",
        *metadata,
        "EOF",
        'JOB_ID=$(aws backup start-restore-job --region "$REGION" \\',
        '  --recovery-point-arn "$RECOVERY_POINT_ARN" --iam-role-arn "$ROLE_ARN" \\',
        f"  --metadata file://{METADATA_FILE} --query RestoreJobId --output text)",
    ]


def _fence(lines: list[str]) -> list[str]:
    return ["```bash", *lines, "```"]


# --- DynamoDB -------------------------------------------------------------------------------


def _table_encrypted(store: Store) -> bool:
    return bool((store.properties.get("SSESpecification") or {}).get("SSEEnabled"))


def _replicas(store: Store) -> str:
    regions = [
        r.get("Region")
        for r in store.properties.get("Replicas", [])
        if r.get("Region") != store.stack.region
    ]
    if store.type != "AWS::DynamoDB::GlobalTable" or not regions:
        return ""
    return (
        " The restored table is a table of this region only; what is copied into the global "
        f"table replicates to its other replicas ({', '.join(f'`{r}`' for r in regions)})."
    )


def _table(store: Store) -> list[str]:
    if _table_encrypted(store):
        key = [
            'KEY_ARN=$(aws dynamodb describe-table --region "$REGION" --table-name "$TABLE" \\',
            "  --query Table.SSEDescription.KMSMasterKeyArn --output text)",
        ]
        metadata = [
            '{"targetTableName": "${RESTORED_TABLE}", "encryptionType": "KMS",',
            ' "kmsMasterKeyArn": "${KEY_ARN}"}',
        ]
        sse = (
            ' \\\n  --sse-specification-override Enabled=true,SSEType=KMS,KMSMasterKeyId="$KEY_ARN"'
        )
    else:
        key, sse = [], ""
        metadata = ['{"targetTableName": "${RESTORED_TABLE}", "encryptionType": "Default"}']
    find = [
        "# 1. Find the table and its recovery points",
        *_header(store),
        *_physical_id("TABLE", store),
        'TABLE_ARN=$(aws dynamodb describe-table --region "$REGION" --table-name "$TABLE" \\',
        "  --query Table.TableArn --output text)",
        *_recovery_point("TABLE_ARN"),
    ]
    start = [
        "# 2. Restore it into a new table (same key schema, indexes and encryption key)",
        *_role(store),
        *key,
        'RESTORED_TABLE="$TABLE-restored-$(date -u +%Y%m%d%H%M)"',
        *_start(metadata),
    ]
    lines = _fence(find + [""] + start + [""] + _watch())
    lines += [
        "",
        "4. Put the data back. The stack keeps its own table (it is retained when the stack "
        "goes) and no setting of this blueprint points the app at another table, so the "
        "restored items are copied into the stack's table: items with the same key get their "
        "restored version back, items written since the recovery point stay (the copy needs "
        "Python 3 with boto3)."
        + _replicas(store)
        + " Then the restored table, which has no point-in-time recovery, streams or "
        "time-to-live of its own, is deleted.",
        "",
    ]
    lines += _fence(
        [
            'AWS_DEFAULT_REGION="$REGION" python3 - "$RESTORED_TABLE" "$TABLE" <<\'EOF\'',
            "import sys",
            "import boto3",
            "",
            'source, target = (boto3.resource("dynamodb").Table(name) for name in sys.argv[1:3])',
            "page = {}",
            "with target.batch_writer() as batch:",
            "    while True:",
            '        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]} if page else {}',
            "        page = source.scan(**start)",
            '        for item in page["Items"]:',
            "            batch.put_item(Item=item)",
            '        if "LastEvaluatedKey" not in page:',
            "            break",
            "EOF",
            'aws dynamodb delete-table --region "$REGION" --table-name "$RESTORED_TABLE"',
        ]
    )
    if store.point_in_time_days:
        lines += [
            "",
            f"Or, to any second of the last {store.point_in_time_days} days, point-in-time "
            "recovery into a new table (then step 4 as above):",
            "",
        ]
        lines += _fence(
            [
                *_header(store),
                *_physical_id("TABLE", store),
                *key,
                'RESTORED_TABLE="$TABLE-restored-$(date -u +%Y%m%d%H%M)"',
                'RESTORE_TIME="2026-01-31T09:30:00Z"  # edit: the moment to go back to (UTC)',
                'aws dynamodb restore-table-to-point-in-time --region "$REGION" \\',
                '  --source-table-name "$TABLE" --target-table-name "$RESTORED_TABLE" \\',
                f'  --restore-date-time "$RESTORE_TIME"{sse}',
                'aws dynamodb wait table-exists --region "$REGION" --table-name "$RESTORED_TABLE"',
            ]
        )
    return lines


# --- EFS ------------------------------------------------------------------------------------


def _access_points(store: Store) -> list[str]:
    return [
        ((r.get("Properties") or {}).get("RootDirectory") or {}).get("Path", "/")
        for r in store.stack.of_type("AWS::EFS::AccessPoint").values()
        if store.logical_id in referenced_ids((r.get("Properties") or {}).get("FileSystemId"))
    ]


def _file_system(store: Store) -> list[str]:
    mode = store.properties.get("PerformanceMode", "generalPurpose")
    find = [
        "# 1. Find the file system and its recovery points",
        *_header(store),
        *_physical_id("FILE_SYSTEM_ID", store),
        'FILE_SYSTEM_ARN=$(aws efs describe-file-systems --region "$REGION" \\',
        '  --file-system-id "$FILE_SYSTEM_ID" --output text \\',
        "  --query 'FileSystems[0].FileSystemArn')",
        *_recovery_point("FILE_SYSTEM_ARN"),
    ]
    start = [
        "# 2. Restore it into the same file system, under /aws-backup-restore_<time>/",
        *_role(store),
        'KEY_ARN=$(aws efs describe-file-systems --region "$REGION" \\',
        "  --file-system-id \"$FILE_SYSTEM_ID\" --query 'FileSystems[0].KmsKeyId' --output text)",
        *_start(
            [
                '{"file-system-id": "${FILE_SYSTEM_ID}", "newFileSystem": "false",',
                ' "Encrypted": "true", "KmsKeyId": "${KEY_ARN}",',
                f' "PerformanceMode": "{mode}", "CreationToken": "restore-$(date -u +%s)"}}',
            ]
        ),
    ]
    lines = _fence(find + [""] + start + [""] + _watch())
    points = _access_points(store)
    plural = "s" if len(points) > 1 else ""
    seen = (
        f"the blueprint's clients mount it through its access point{plural} "
        f"({', '.join(f'`{p}`' for p in points)}) and cannot see that directory"
        if points
        else "the blueprint's clients do not read that directory"
    )
    lines += [
        "",
        "4. Put the files back. AWS Backup restores into a new directory "
        "`aws-backup-restore_<time>` at the root of the file system, never over the files in "
        f"use; {seen}. No setting or task of this blueprint moves them: from a host in the "
        "stack's VPC that the file system's security group admits, mount the root over TLS "
        "(amazon-efs-utils) and copy back what you need, e.g.:",
        "",
    ]
    target = points[0] if points else "/"
    lines += _fence(
        [
            "sudo mkdir -p /mnt/efs",
            'sudo mount -t efs -o tls "$FILE_SYSTEM_ID":/ /mnt/efs',
            "RESTORED_DIR=$(ls -d /mnt/efs/aws-backup-restore_* | tail -n 1)  # the newest",
            f'sudo rsync -a "$RESTORED_DIR{target.rstrip("/")}/" "/mnt/efs{target.rstrip("/")}/"',
        ]
    )
    return lines


# --- Neptune and Aurora ---------------------------------------------------------------------


def _cluster_cli(store: Store) -> str:
    return "neptune" if store.type.startswith("AWS::Neptune") else "rds"


def _engine(store: Store) -> str:
    return "neptune" if store.type.startswith("AWS::Neptune") else store.properties["Engine"]


def _instances(store: Store) -> list[dict]:
    types = ("AWS::Neptune::DBInstance", "AWS::RDS::DBInstance")
    return [
        r["Properties"]
        for r in store.stack.of_type(*types).values()
        if store.logical_id in referenced_ids(r["Properties"].get("DBClusterIdentifier"))
    ]


def _cluster_identifier(store: Store) -> list[str]:
    literal = store.properties.get("DBClusterIdentifier")
    if isinstance(literal, str):
        return [f"CLUSTER={literal}"]
    return _physical_id("CLUSTER", store)


def _describe(store: Store, variable: str, query: str) -> list[str]:
    cli = _cluster_cli(store)
    return [
        f'{variable}=$(aws {cli} describe-db-clusters --region "$REGION" \\',
        f"  --db-cluster-identifier \"$CLUSTER\" --query '{query}' --output text)",
    ]


def _cluster(store: Store) -> list[str]:
    cli = _cluster_cli(store)
    engine = _engine(store)
    find = [
        "# 1. Find the cluster and its recovery points",
        *_header(store),
        *_cluster_identifier(store),
        *_describe(store, "CLUSTER_ARN", "DBClusters[0].DBClusterArn"),
        *_recovery_point("CLUSTER_ARN"),
    ]
    network = [
        *_describe(store, "SUBNET_GROUP", "DBClusters[0].DBSubnetGroup"),
        *_describe(
            store, "SECURITY_GROUP", "DBClusters[0].VpcSecurityGroups[0].VpcSecurityGroupId"
        ),
        *_describe(store, "KEY_ARN", "DBClusters[0].KmsKeyId"),
        *_describe(store, "PARAMETERS", "DBClusters[0].DBClusterParameterGroup"),
        'RESTORED_CLUSTER="$CLUSTER-restored"',
    ]
    iam = store.properties.get("IamAuthEnabled") or store.properties.get(
        "EnableIAMDatabaseAuthentication"
    )
    start = [
        "# 2. Restore it into a new cluster in the stack's subnets, security group and key",
        *_role(store),
        *network,
        "# The recovery point's own restore metadata, for comparison:",
        'aws backup get-recovery-point-restore-metadata --region "$REGION" \\',
        f"  --backup-vault-name {store.plans[0].vault if store.plans else EFS_AUTOMATIC_VAULT} \\",
        '  --recovery-point-arn "$RECOVERY_POINT_ARN" --query RestoreMetadata',
        *_start(
            [
                f'{{"DBClusterIdentifier": "${{RESTORED_CLUSTER}}", "Engine": "{engine}",',
                ' "DBSubnetGroupName": "${SUBNET_GROUP}",',
                ' "VpcSecurityGroupIds": "[\\"${SECURITY_GROUP}\\"]",',
                ' "KmsKeyId": "${KEY_ARN}", "DBClusterParameterGroupName": "${PARAMETERS}",',
                f' "EnableIAMDatabaseAuthentication": "{str(bool(iam)).lower()}"}}',
            ]
        ),
    ]
    lines = _fence(find + [""] + start + [""] + _watch() + [""] + _add_instance(store))
    lines += ["", *_cluster_back(store, cli)]
    if store.point_in_time_days:
        lines += [
            "",
            f"Or, to any second of the last {store.point_in_time_days} days, from the "
            "cluster's automated backups (then the instance and step 4 as above):",
            "",
        ]
        lines += _fence(
            [
                *_header(store),
                *_cluster_identifier(store),
                *network,
                'RESTORE_TIME="2026-01-31T09:30:00Z"  # edit: the moment to go back to (UTC)',
                f'aws {cli} restore-db-cluster-to-point-in-time --region "$REGION" \\',
                '  --source-db-cluster-identifier "$CLUSTER" \\',
                '  --db-cluster-identifier "$RESTORED_CLUSTER" \\',
                '  --restore-to-time "$RESTORE_TIME" --db-subnet-group-name "$SUBNET_GROUP" \\',
                '  --vpc-security-group-ids "$SECURITY_GROUP" --kms-key-id "$KEY_ARN" \\',
                '  --db-cluster-parameter-group-name "$PARAMETERS"'
                + (" --enable-iam-database-authentication" if iam else ""),
            ]
        )
    return lines


def _add_instance(store: Store) -> list[str]:
    cli = _cluster_cli(store)
    instances = _instances(store)
    instance_class = instances[0].get("DBInstanceClass", "") if instances else ""
    lines = ["# A restored cluster has no instance yet: add one to query it."]
    scaling = store.properties.get("ServerlessV2ScalingConfiguration")
    if scaling:
        lines += [
            f'aws {cli} modify-db-cluster --region "$REGION" \\',
            '  --db-cluster-identifier "$RESTORED_CLUSTER" \\',
            f"  --serverless-v2-scaling-configuration MinCapacity={scaling['MinCapacity']},"
            f"MaxCapacity={scaling['MaxCapacity']} --apply-immediately",
        ]
    lines += [
        f'aws {cli} create-db-instance --region "$REGION" \\',
        '  --db-instance-identifier "$RESTORED_CLUSTER-1" \\',
        f'  --db-cluster-identifier "$RESTORED_CLUSTER" --engine {_engine(store)} '
        f"--db-instance-class {instance_class}",
        f'aws {cli} wait db-instance-available --region "$REGION" \\',
        '  --db-instance-identifier "$RESTORED_CLUSTER-1"',
    ]
    return lines


def _literal_or(value, default: str) -> str:
    """A template value that is a plain string, or the default (the CDK's master user name,
    PostgreSQL's default database) where the template computes it."""
    return value if isinstance(value, str) else default


def _cluster_back(store: Store, cli: str) -> list[str]:
    if _engine(store).startswith("aurora-postgresql"):
        user = _literal_or(store.properties.get("MasterUsername"), "postgres")
        database = _literal_or(store.properties.get("DatabaseName"), "postgres")
        copy = [
            "",
            "For PostgreSQL, from a host in the stack's VPC that the database security group "
            "admits, with the master password from the stack's database secret:",
            "",
            *_fence(
                [
                    'RESTORED_ENDPOINT=$(aws rds describe-db-clusters --region "$REGION" \\',
                    '  --db-cluster-identifier "$RESTORED_CLUSTER" --output text \\',
                    "  --query 'DBClusters[0].Endpoint')",
                    *_describe(store, "ENDPOINT", "DBClusters[0].Endpoint"),
                    f'pg_dump --host "$RESTORED_ENDPOINT" --username {user} --dbname {database} '
                    "--format custom --file restored.dump",
                    f'pg_restore --host "$ENDPOINT" --username {user} --dbname {database} '
                    "--clean --if-exists restored.dump",
                ]
            ),
        ]
    elif cli == "rds":
        copy = [
            "",
            "From a host in the stack's VPC that the database security group admits, dump the "
            "restored cluster's database with the engine's own tool and load it into the "
            "stack's.",
        ]
    else:
        copy = [
            "",
            "Neptune has no command that copies a graph between clusters: read what you need "
            "from the restored cluster's endpoint and write it into the stack's with your own "
            "queries (or export it with neptune-export and bulk-load it as the doc's loader "
            "does), from a host in the stack's VPC.",
        ]
    return [
        "4. Put the data back. The stack keeps its own cluster (retained when the stack goes"
        + (", deletion protection on" if store.properties.get("DeletionProtection") else "")
        + ") and no setting of this blueprint points the app at another cluster, so "
        "the data you need is copied from the restored cluster into the stack's; then the "
        "restored cluster is deleted.",
        *copy,
        "",
        *_fence(
            [
                f'aws {cli} delete-db-instance --region "$REGION" \\',
                '  --db-instance-identifier "$RESTORED_CLUSTER-1"',
                f'aws {cli} wait db-instance-deleted --region "$REGION" \\',
                '  --db-instance-identifier "$RESTORED_CLUSTER-1"',
                f'aws {cli} delete-db-cluster --region "$REGION" \\',
                '  --db-cluster-identifier "$RESTORED_CLUSTER" --skip-final-snapshot',
            ]
        ),
    ]
