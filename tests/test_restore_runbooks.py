"""The Restore section of every blueprint doc (docgen/restore.py): it names every store a prod
template backs up, says how far back from the template's own numbers, and its commands are real
AWS CLI calls with the restore metadata AWS documents for each store type.

(That the checked-in sections are current is tests/test_docs.py's generated-sections test.)
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

import aws_cdk as cdk
import botocore.session
import pytest
from botocore import xform_name

from docgen.assembly import BLUEPRINT_DOCS, REPO_ROOT, Assembly, Stack, doc_of
from docgen.markers import read_section
from docgen.protected_stores import protected_stores
from docgen.restore import SECTION, runbook
from tests.support.synth import cdk_json_context

# `aws backup start-restore-job --metadata` keys per store type, as AWS documents them: the AWS
# Backup Developer Guide's "Restore a backup by resource type" pages (restoring-dynamodb,
# restoring-efs, restoring-nep, restoring-aur; the cluster keys are the parameters of
# RestoreDBClusterFromSnapshot, which those pages point to) and the StartRestoreJob API
# reference (the EFS keys). Required: what a restore cannot do without.
_CLUSTER_KEYS = {
    "DBClusterIdentifier",
    "Engine",
    "EngineVersion",
    "DBSubnetGroupName",
    "VpcSecurityGroupIds",
    "KmsKeyId",
    "Port",
    "DBClusterParameterGroupName",
    "EnableIAMDatabaseAuthentication",
    "DatabaseName",
    "CopyTagsToSnapshot",
    "DeletionProtection",
    "AvailabilityZones",
}
_TABLE_KEYS = {"targetTableName", "encryptionType", "kmsMasterKeyArn"}
DOCUMENTED_METADATA = {
    "AWS::DynamoDB::Table": (_TABLE_KEYS, {"targetTableName"}),
    "AWS::DynamoDB::GlobalTable": (_TABLE_KEYS, {"targetTableName"}),
    "AWS::EFS::FileSystem": (
        {
            "file-system-id",
            "Encrypted",
            "KmsKeyId",
            "PerformanceMode",
            "CreationToken",
            "newFileSystem",
            "itemsToRestore",
        },
        {"file-system-id", "newFileSystem"},
    ),
    "AWS::RDS::DBCluster": (_CLUSTER_KEYS, {"DBClusterIdentifier", "Engine"}),
    "AWS::Neptune::DBCluster": (_CLUSTER_KEYS, {"DBClusterIdentifier", "Engine"}),
}
# Options every `aws` command takes (the CLI's global options).
CLI_GLOBAL_OPTIONS = {"--region", "--query", "--output", "--profile", "--no-cli-pager"}
VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


@pytest.fixture(scope="module")
def prod(synth) -> Assembly:
    built = synth("prod")
    return Assembly("prod", built.outdir)


# --- reading the runbook's shell ------------------------------------------------------------


@dataclass
class Command:
    words: list[str]
    heredoc: str | None = None
    expands: bool = False  # an unquoted heredoc: the shell fills its variables in


@dataclass
class Store:
    heading: str
    text: str
    blocks: list[list[Command]] = field(default_factory=list)


def shell_commands(block: str) -> list[Command]:
    """The commands of a bash block: continuations joined, comments dropped, heredoc bodies
    kept with the command that opens them."""
    commands: list[Command] = []
    lines = block.splitlines()
    pending = ""
    index = 0
    while index < len(lines):
        line = pending + lines[index]
        index += 1
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        words = shlex.split(line, comments=True)
        if not words:
            continue
        command = Command(words)
        opener = re.search(r"<<\s*'?(\w+)'?", line)
        if opener:
            body = []
            while lines[index] != opener.group(1):
                body.append(lines[index])
                index += 1
            index += 1
            command.heredoc = "\n".join(body)
            command.expands = "'" not in opener.group(0)
        commands.append(command)
    assert not pending, f"a continuation with no next line: {pending}"
    return commands


def stores_of(section: str) -> list[Store]:
    parts = re.split(r"^### ", section, flags=re.M)[1:]
    found = []
    for part in parts:
        store = Store(part.splitlines()[0], part)
        for block in re.findall(r"```bash\n(.*?)```", part, re.S):
            store.blocks.append(shell_commands(block))
        found.append(store)
    return found


def aws_calls(commands: list[Command]) -> list[list[str]]:
    """Every `aws ...` invocation, also those inside `VAR=$(aws ...)`."""
    calls = []
    for command in commands:
        words = command.words
        if "=$(aws" in " ".join(words[:1]) or (words and words[0].endswith("=$(aws")):
            words = ["aws", *words[1:]]
            words[-1] = words[-1].removesuffix(")")
        if words and words[0] == "aws":
            calls.append(words)
    return calls


def _options(words: list[str]) -> set[str]:
    return {w.split("=", 1)[0] for w in words if w.startswith("--")}


def check_aws_call(words: list[str]) -> None:
    """`aws <service> <operation>` exists in botocore's model and every option is an input of
    that operation (or a global one); `aws <service> wait <waiter>` likewise."""
    session = botocore.session.get_session()
    service = words[1]
    model = session.get_service_model(service)
    operations = {xform_name(name, "-"): name for name in model.operation_names}
    if words[2] == "wait":
        waiters = session.get_waiter_model(service)
        names = {xform_name(name, "-"): name for name in waiters.waiter_names}
        assert words[3] in names, f"aws {service} wait {words[3]}: no such waiter"
        operation = model.operation_model(waiters.get_waiter(names[words[3]]).operation)
    else:
        assert words[2] in operations, f"aws {service} {words[2]}: no such operation"
        operation = model.operation_model(operations[words[2]])
    members = {f"--{xform_name(name, '-')}" for name in operation.input_shape.members}
    unknown = _options(words) - members - CLI_GLOBAL_OPTIONS
    unknown -= {f"--no-{m.removeprefix('--')}" for m in members}  # boolean negations
    assert not unknown, f"{' '.join(words[:3])}: no such option {sorted(unknown)}"


def check_store(store: Store, type_: str) -> None:
    """Every command of one store's runbook: real CLI calls, every variable set before use,
    every start-restore-job with a role, a recovery point and documented metadata."""
    assigned: set[str] = set()
    files: dict[str, str] = {}
    restores = 0
    for commands in store.blocks:
        for command in commands:
            line = " ".join(command.words)
            if command.expands:
                line += " " + command.heredoc
            assignments = re.findall(r"(?:^| )([A-Z_][A-Z0-9_]*)=", line)
            used = set(VARIABLE.findall(line)) - set(assignments) - {"AWS_REGION"}
            assert used <= assigned | set(assignments), (
                f"{store.heading}: {sorted(used - assigned)} used before it is set: {line}"
            )
            assigned |= set(assignments)
            if command.heredoc is not None and command.words[:2] == ["cat", ">"]:
                files[command.words[2]] = command.heredoc
        for words in aws_calls(commands):
            check_aws_call(words)
            if words[1:3] == ["backup", "start-restore-job"]:
                restores += 1
                assert {"--recovery-point-arn", "--iam-role-arn", "--metadata"} <= _options(words)
                source = words[words.index("--metadata") + 1]
                assert source.startswith("file://"), source
                text = files[source.removeprefix("file://")]
                # What the shell puts in: any value, as long as the JSON around it holds.
                metadata = json.loads(re.sub(r"\$\{\w+\}|\$\([^)]*\)", "x", text))
                allowed, required = DOCUMENTED_METADATA[type_]
                assert required <= set(metadata) <= allowed, (store.heading, sorted(metadata))
                assert all(isinstance(v, str) for v in metadata.values()), metadata
    assert restores == 1, f"{store.heading}: {restores} start-restore-job commands"


# --- the shipped prod templates -------------------------------------------------------------


def selected_ids(stack: Stack) -> list[str]:
    """Logical ids of the stores every backup selection of `stack` names (read here, not with
    docgen's reader)."""
    found = []
    for selection in stack.of_type("AWS::Backup::BackupSelection").values():
        for arn in selection["Properties"]["BackupSelection"]["Resources"]:
            text = json.dumps(arn)
            ids = [i for i in re.findall(r'"(?:Ref|Fn::GetAtt)": \[?"(\w+)"', text)]
            found.append(next(i for i in ids if i in stack.resources))
    return found


def checked_in_section(doc: str) -> str:
    path = REPO_ROOT / "docs" / f"{doc}.md"
    return read_section(path.read_text(), SECTION, path)


def section_of(sections: list[Store], stack: Stack, logical_id: str) -> Store:
    """The one runbook section of a store: headed by its stack's name, finding it by its
    logical id (or its cluster's literal identifier)."""
    identifier = stack.resources[logical_id].get("Properties", {}).get("DBClusterIdentifier")
    names = [f"--logical-resource-id {logical_id} ", f"CLUSTER={identifier}\n"]
    (found,) = [
        s
        for s in sections
        if f"`{stack.name}`" in s.heading and any(name in s.text for name in names)
    ]
    return found


def test_every_backed_up_store_of_prod_has_its_runbook(prod):
    checked = 0
    for stack in prod.stacks.values():
        for logical_id in selected_ids(stack):
            doc = doc_of(stack.id)
            for section in (runbook(prod.of_doc(doc)), checked_in_section(doc)):
                store = section_of(stores_of(section), stack, logical_id)
                assert "aws backup start-restore-job" in store.text
            checked += 1
    if not checked:
        pytest.skip("no stack of this session has a backup plan")


def test_each_runbook_says_how_far_back_from_the_template(prod):
    for doc in BLUEPRINT_DOCS:
        stacks = prod.of_doc(doc)
        if not stacks:
            continue
        sections = stores_of(runbook(stacks))
        for stack in stacks:
            plans = stack.of_type("AWS::Backup::BackupPlan").values()
            days = {
                rule["Lifecycle"]["DeleteAfterDays"]
                for plan in plans
                for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"]
            }
            for logical_id in selected_ids(stack):
                resource = stack.resources[logical_id]
                store = section_of(sections, stack, logical_id)
                for kept in days:
                    assert f"kept {kept} days" in store.text, store.heading
                pitr = resource["Properties"].get("PointInTimeRecoverySpecification", {})
                if pitr.get("PointInTimeRecoveryEnabled"):
                    assert "restore-table-to-point-in-time" in store.text
                retention = resource["Properties"].get("BackupRetentionPeriod")
                if retention:
                    assert f"last {retention} days" in store.text
                    assert "restore-db-cluster-to-point-in-time" in store.text


def test_every_runbook_command_is_a_real_cli_call_with_documented_restore_metadata(prod):
    for doc in BLUEPRINT_DOCS:
        stacks = prod.of_doc(doc)
        stores = [store for stack in stacks for store in protected_stores(stack)]
        sections = stores_of(runbook(stacks))
        assert len(sections) == len(stores), doc
        for section, store in zip(sections, stores, strict=True):
            check_store(section, store.type)


def test_a_doc_whose_prod_keeps_no_data_says_why():
    function = {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}
    stateless = Stack("Api", "Api-prod", "us-east-1", {"Resources": function})
    text = runbook([stateless])
    assert "Prod keeps no user data" in text and "`Api-prod`" in text
    assert "start-restore-job" not in text
    scratch = {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Delete", "Properties": {}}
    disposable = Stack("Api", "Api-prod", "us-east-1", {"Resources": {"Scratch": scratch}})
    assert "`Api-prod`/Scratch, deleted with its stack" in runbook([disposable])


def test_a_backed_up_store_without_a_runbook_fails_naming_its_type():
    resources = {
        "Docs": {"Type": "AWS::DocDB::DBCluster", "DeletionPolicy": "Retain"},
        "Plan": {"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {}}},
        "Selection": {
            "Type": "AWS::Backup::BackupSelection",
            "Properties": {
                "BackupPlanId": {"Fn::GetAtt": ["Plan", "BackupPlanId"]},
                "BackupSelection": {"Resources": [{"Ref": "Docs"}], "IamRoleArn": "x"},
            },
        },
    }
    with pytest.raises(ValueError, match="AWS::DocDB::DBCluster is backed up but has no restore"):
        protected_stores(Stack("Db", "Db-prod", "us-east-1", {"Resources": resources}))


# --- the house mechanism's every case: a copy vault, EFS in the plan and automatic ----------


COPY_VAULT = "arn:aws:backup:eu-west-1:111122223333:backup-vault:Archive"


def test_a_stack_with_every_kind_of_store_and_a_copy_vault_gets_every_runbook(tmp_path):
    from house.backup import protect_data
    from tests.house.test_backup import stores

    app = cdk.App(outdir=str(tmp_path), context=cdk_json_context("prod"))
    stack = cdk.Stack(
        app, "Probe", stack_name="Probe-prod", env=cdk.Environment(region="eu-west-2")
    )
    stores(stack)
    protect_data(stack, keep_data=True, retention_days=12, copy_to_vault_arn=COPY_VAULT)
    template = app.synth().get_stack_by_name("Probe-prod").template
    probe = Stack("Probe", "Probe-prod", "eu-west-2", template)
    stores = protected_stores(probe)
    assert [s.type for s in stores] == [
        "AWS::DynamoDB::Table",
        "AWS::EFS::FileSystem",
        "AWS::EFS::FileSystem",
        "AWS::RDS::DBCluster",
    ]
    text = runbook([probe])
    sections = stores_of(text)
    for section, store in zip(sections, stores, strict=True):
        check_store(section, store.type)
        assert "REGION=eu-west-2 STACK=Probe-prod" in section.text
        if store.automatic:
            assert "aws/efs/automatic-backup-vault" in section.text
            assert "AWSBackupDefaultServiceRole" in section.text
        else:
            assert "kept 12 days" in section.text and COPY_VAULT in section.text
            assert "OutputKey=='BackupRoleArn'" in section.text
