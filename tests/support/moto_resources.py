"""Create a synthesized stack's resources in the active moto mock: `StackInMoto`.

For the types below, the resource is created in moto with what the template gives it (key
schemas, indexes and streams of tables, queue attributes, versioning, SES identities, state
machine definitions, log groups, KMS keys' spec and usage, secrets' generated values), under the
physical name `TemplateResolver` resolves `Ref` to (or, for a KMS key or a secret, the id or ARN
moto chose, recorded in `physical_ids`).
IAM is created as the template declares it: every `AWS::IAM::Role` with its trust policy and
inline `Policies`, every `AWS::IAM::Policy` / `AWS::IAM::ManagedPolicy` attached to the roles
it names, and the role's `ManagedPolicyArns` (AWS managed ones with the document moto ships,
attached when the role is first assumed). `role_credentials(role)` assumes a role through
moto's STS, which is how the Lambda runner and the container wiring run code as the template's
execution and task roles (see iam_enforcement.py for what is then checked).

Use inside `moto.mock_aws()` (the `local_stack` fixture in tests/conftest.py does that).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from tests.support import grant_mutation
from tests.support.iam_enforcement import (
    RoleCredentials,
    harness_session,
    register_dax_cluster,
    register_neptune_cluster,
)
from tests.support.intrinsics import TemplateResolver
from tests.support.moto_iam import (
    attach_managed_policies,
    create_inline_policy,
    create_managed_policy,
    create_role,
)
from tests.support.stubbed_services import register_cmk_table, register_sse_kms_bucket


class StackInMoto(TemplateResolver):
    """One synthesized stack, "deployed" into the active moto mock."""

    def __init__(
        self,
        template: dict,
        *,
        stack_id: str | None = None,
        stack_name: str,
        assembly_dir: Path,
        region: str = "us-east-1",
    ) -> None:
        # A grant mutation (benchmarks/grant_mutations.py) edits this stack's copy only.
        grant_mutation.record_template(stack_id or stack_name, stack_name, template)
        template = grant_mutation.applied(copy.deepcopy(template), stack_id or stack_name)
        super().__init__(template, stack_name=stack_name, assembly_dir=assembly_dir, region=region)
        self.stack_id = stack_id or stack_name
        self.created: dict[str, str] = {}  # logical id -> resource type created in moto
        self._managed_policy_arns: dict[str, list[str]] = {}
        self._credentials: dict[str, RoleCredentials] = {}
        self._clients: dict[str, object] = {}
        for phase in (_CREATORS, _LATE_CREATORS):
            for logical_id, resource in self.resources.items():
                creator = phase.get(resource["Type"])
                if creator and self.condition_holds(resource.get("Condition")):
                    creator(self, logical_id, self.resolve(resource.get("Properties", {})))
                    self.created[logical_id] = resource["Type"]

    def client(self, service: str):
        """One client of the test's credentials per service (making clients is the slow part)."""
        if service not in self._clients:
            self._clients[service] = harness_session(self.region).client(service)
        return self._clients[service]

    def function(self, path: str):
        from tests.support.lambda_runner import FunctionInProcess

        return FunctionInProcess(self, self.logical_id(path, "AWS::Lambda::Function"))

    # -- IAM ------------------------------------------------------------------------------------

    def role_id(self, role_arn_or_ref) -> str:
        """The logical id of the role a property names (its resolved ARN, or the raw Ref/GetAtt)."""
        found = self.referenced_id(role_arn_or_ref, "AWS::IAM::Role")
        if found:
            return found
        for logical_id in self.of_type("AWS::IAM::Role"):
            if role_arn_or_ref in (self.get_att(logical_id, "Arn"), self.names[logical_id]):
                return logical_id
        raise LookupError(f"no role of {self.stack_name} is {role_arn_or_ref!r}")

    def role_credentials(self, role_logical_id: str) -> RoleCredentials:
        """Temporary credentials of the template's role, from moto's STS (AssumeRole), as the
        Lambda service or the ECS agent gets them; the same ones for the whole test."""
        if role_logical_id not in self._credentials:
            attach_managed_policies(self, role_logical_id)
            arn = self.get_att(role_logical_id, "Arn")
            answer = self.client("sts").assume_role(
                RoleArn=arn, RoleSessionName=self.names[role_logical_id][:64]
            )["Credentials"]
            self._credentials[role_logical_id] = RoleCredentials(
                role_arn=arn,
                role_logical_id=role_logical_id,
                region=self.region,
                access_key_id=answer["AccessKeyId"],
                secret_access_key=answer["SecretAccessKey"],
                session_token=answer["SessionToken"],
            )
            grant_mutation.record_role_used(self.stack_id, role_logical_id)
        return self._credentials[role_logical_id]

    def credentials_by_key(self, access_key_id: str) -> RoleCredentials:
        """The role credentials (assumed in this test) whose access key is `access_key_id`."""
        for credentials in self._credentials.values():
            if credentials.access_key_id == access_key_id:
                return credentials
        raise LookupError(f"no role of {self.stack_name} was assumed with key {access_key_id}")


# -- creating resources in moto --------------------------------------------------------------------


def _create_table(stack: StackInMoto, logical_id: str, props: dict) -> None:
    request = {
        "TableName": stack.names[logical_id],
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = props.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(kind):
            request[kind] = [
                {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
                | (
                    {"ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}
                    if request["BillingMode"] == "PROVISIONED" and kind.startswith("Global")
                    else {}
                )
                for index in props[kind]
            ]
    stream = props.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    stack.client("dynamodb").create_table(**request)
    key = _table_key(props)
    if key is not None:
        key_arn = (
            key
            if key.startswith("arn:")
            else (stack.client("kms").describe_key(KeyId=key)["KeyMetadata"]["Arn"])
        )
        register_cmk_table(table=request["TableName"], key_arn=key_arn)


def _table_key(props: dict) -> str | None:
    """The customer-managed key of a Table (SSESpecification) or of a GlobalTable's replicas
    (SSESpecification.SSEType KMS, each replica's KMSMasterKeyId), resolved to an id or ARN."""
    sse = props.get("SSESpecification") or {}
    key = sse.get("KMSMasterKeyId")
    if key is None and sse.get("SSEType") == "KMS":
        keys = [
            (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
            for replica in props.get("Replicas", [])
        ]
        key = next((k for k in keys if k), None)
    return key if isinstance(key, str) else None


def _create_bucket(stack: StackInMoto, logical_id: str, props: dict) -> None:
    client = stack.client("s3")
    kwargs = {"Bucket": stack.names[logical_id]}
    if stack.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": stack.region}
    client.create_bucket(**kwargs)
    if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        client.put_bucket_versioning(
            Bucket=kwargs["Bucket"], VersioningConfiguration={"Status": "Enabled"}
        )


def _register_sse_kms(stack: StackInMoto, logical_id: str, props: dict) -> None:
    """A bucket's SSE-KMS default key (after every key exists): S3 uses it with the caller's
    rights, which the S3 clients of a role session check (stubbed_services.py)."""
    for rule in props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", []):
        default = rule.get("ServerSideEncryptionByDefault", {})
        if default.get("SSEAlgorithm") == "aws:kms" and default.get("KMSMasterKeyID"):
            key_arn = default["KMSMasterKeyID"]
            if not key_arn.startswith("arn:"):
                key_arn = stack.client("kms").describe_key(KeyId=key_arn)["KeyMetadata"]["Arn"]
            stack.client("s3").put_bucket_encryption(
                Bucket=stack.names[logical_id],
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": key_arn,
                            },
                            "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled")),
                        }
                    ]
                },
            )
            register_sse_kms_bucket(bucket=stack.names[logical_id], key_arn=key_arn)


def _create_queue(stack: StackInMoto, logical_id: str, props: dict) -> None:
    attributes = {}
    if props.get("FifoQueue"):
        attributes["FifoQueue"] = "true"
    if "VisibilityTimeout" in props:
        attributes["VisibilityTimeout"] = str(props["VisibilityTimeout"])
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    stack.client("sqs").create_queue(QueueName=stack.names[logical_id], Attributes=attributes)


def _create_topic(stack: StackInMoto, logical_id: str, props: dict) -> None:
    stack.client("sns").create_topic(Name=stack.names[logical_id])


def _create_log_group(stack: StackInMoto, logical_id: str, props: dict) -> None:
    stack.client("logs").create_log_group(logGroupName=stack.names[logical_id])


def _create_email_identity(stack: StackInMoto, logical_id: str, props: dict) -> None:
    identity = props["EmailIdentity"]
    ses = stack.client("ses")
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)


def _create_key(stack: StackInMoto, logical_id: str, props: dict) -> None:
    """A KMS key of the template's spec and usage (an HMAC key signs and checks MACs in moto),
    under the id moto chooses, which Ref and Fn::GetAtt then answer."""
    metadata = stack.client("kms").create_key(
        KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
        KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
        Description=props.get("Description", ""),
    )["KeyMetadata"]
    stack.physical_ids[logical_id] = metadata["KeyId"]


def _create_secret(stack: StackInMoto, logical_id: str, props: dict) -> None:
    """A secret with a value generated as the template asks (length, punctuation), under the ARN
    moto chooses (random suffix), which Ref then answers and dynamic references resolve."""
    generate = props.get("GenerateSecretString", {})
    value = stack.client("secretsmanager").get_random_password(
        PasswordLength=int(generate.get("PasswordLength", 32)),
        ExcludePunctuation=bool(generate.get("ExcludePunctuation", False)),
    )["RandomPassword"]
    arn = stack.client("secretsmanager").create_secret(
        Name=props.get("Name", stack.names[logical_id]), SecretString=value
    )["ARN"]
    stack.physical_ids[logical_id] = arn


def _create_state_machine(stack: StackInMoto, logical_id: str, props: dict) -> None:
    definition = props.get("DefinitionString") or json.dumps(props.get("Definition", {}))
    stack.client("stepfunctions").create_state_machine(
        name=stack.names[logical_id],
        definition=definition,
        roleArn=props["RoleArn"],
        type=props.get("StateMachineType", "STANDARD"),
    )


def _register_dax_cluster(stack: StackInMoto, logical_id: str, props: dict) -> None:
    """No DAX in moto: remember the cluster so the DAX stand-in (dax.py) can act as it."""
    register_dax_cluster(
        stack,
        endpoint_url=stack.get_att(logical_id, "ClusterDiscoveryEndpointURL"),
        cluster_arn=stack.get_att(logical_id, "Arn"),
        service_role_id=stack.role_id(props["IAMRoleARN"]),
    )


def _register_neptune_cluster(stack: StackInMoto, logical_id: str, props: dict) -> None:
    """No Neptune data API in moto: remember which cluster resource id each endpoint serves."""
    for attribute in ("Endpoint", "ReadEndpoint"):
        register_neptune_cluster(
            host=stack.get_att(logical_id, attribute),
            resource_arn=stack.arn(
                "neptune-db", stack.get_att(logical_id, "ClusterResourceId") + "/*"
            ),
        )


_CREATORS = {
    "AWS::DynamoDB::Table": _create_table,
    "AWS::DynamoDB::GlobalTable": _create_table,
    "AWS::S3::Bucket": _create_bucket,
    "AWS::SQS::Queue": _create_queue,
    "AWS::SNS::Topic": _create_topic,
    "AWS::Logs::LogGroup": _create_log_group,
    "AWS::IAM::Role": create_role,
    "AWS::SES::EmailIdentity": _create_email_identity,
    "AWS::StepFunctions::StateMachine": _create_state_machine,
    "AWS::KMS::Key": _create_key,
    "AWS::SecretsManager::Secret": _create_secret,
}

# After every role exists (a policy may precede the role it names in the template).
_LATE_CREATORS = {
    "AWS::IAM::Policy": create_inline_policy,
    "AWS::IAM::ManagedPolicy": create_managed_policy,
    "AWS::DAX::Cluster": _register_dax_cluster,
    "AWS::Neptune::DBCluster": _register_neptune_cluster,
    "AWS::S3::Bucket": _register_sse_kms,
}
