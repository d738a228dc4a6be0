"""Resolve a synthesized template's intrinsics to the names its resources get in moto.

`TemplateResolver` is a small resolver for the intrinsics CDK emits (`Ref`, `Fn::GetAtt`,
`Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::If` and the condition functions, ...), not
a CloudFormation engine. Every resource gets a deterministic physical name (the explicit name
property if the template sets one, else `<stack>-<LogicalId>-<hash>`, as CloudFormation does),
and `Ref`/`Fn::GetAtt` answer what the real service would for the types the wiring tests use.
Attributes of types it does not model resolve to `<LogicalId>.<Attribute>`, so a test sees them
but cannot use them. It never calls AWS (except DynamoDB's DescribeTable for a real stream ARN).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import boto3

ACCOUNT = "123456789012"  # moto's default account
NO_VALUE = object()


class UnresolvableIntrinsic(Exception):
    pass


class TemplateResolver:
    """One synthesized stack's template, with every intrinsic resolvable to local values."""

    def __init__(
        self, template: dict, *, stack_name: str, assembly_dir: Path, region: str = "us-east-1"
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self.assembly_dir = assembly_dir
        self.region = region
        self.resources: dict[str, dict] = template.get("Resources", {})
        self.names = {lid: self._physical_name(lid, r) for lid, r in self.resources.items()}
        # What a service chose when the resource was created in moto (a KMS key's id, a secret's
        # ARN with its random suffix): Ref/Fn::GetAtt answer it once known.
        self.physical_ids: dict[str, str] = {}
        self._conditions: dict[str, bool] = {}

    # -- finding things -------------------------------------------------------------------------

    def logical_id(self, path: str, resource_type: str | None = None) -> str:
        """The logical id of the resource whose construct path ends with `path` (or
        `path/Resource`)."""
        matches = []
        for logical_id, resource in self.resources.items():
            cdk_path = resource.get("Metadata", {}).get("aws:cdk:path", "")
            if resource_type and resource["Type"] != resource_type:
                continue
            if cdk_path.endswith("/" + path) or cdk_path.endswith("/" + path + "/Resource"):
                matches.append(logical_id)
        if len(matches) != 1:
            raise LookupError(
                f"{len(matches)} resources match path {path!r} "
                f"({resource_type or 'any type'}): {matches}"
            )
        return matches[0]

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == resource_type}

    def properties(self, logical_id: str) -> dict:
        """The resource's properties with every intrinsic resolved."""
        return self.resolve(self.resources[logical_id].get("Properties", {}))

    def asset_dir(self, s3_key: str) -> Path:
        """The cdk.out folder of the file asset uploaded as `s3_key`, via the asset manifests."""
        asset_hash = s3_key.removesuffix(".zip")
        for manifest in self.assembly_dir.glob("*.assets.json"):
            files = json.loads(manifest.read_text()).get("files", {})
            if asset_hash in files:
                return self.assembly_dir / files[asset_hash]["source"]["path"]
        raise LookupError(f"no asset {asset_hash} in {self.assembly_dir}")

    def ref(self, logical_id: str) -> str:
        return self.resolve({"Ref": logical_id})

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return self.resolve({"Fn::GetAtt": [logical_id, attribute]})

    def referenced_id(self, value: Any, resource_type: str | None = None) -> str | None:
        """The logical id an unresolved `Ref`/`Fn::GetAtt` points at (None for anything else)."""
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            target = {
                "Ref": lambda: arg,
                "Fn::GetAtt": lambda: arg.split(".")[0] if isinstance(arg, str) else arg[0],
            }.get(key, lambda: None)()
            if target in self.resources and (
                resource_type is None or self.resources[target]["Type"] == resource_type
            ):
                return target
        return None

    # -- names and attributes -------------------------------------------------------------------

    def _physical_name(self, logical_id: str, resource: dict) -> str:
        props = resource.get("Properties", {})
        explicit = _NAME_PROPERTY.get(resource["Type"])
        if explicit and isinstance(props.get(explicit), str):
            return props[explicit]
        suffix = hashlib.sha1(f"{self.stack_name}/{logical_id}".encode()).hexdigest()[:12].upper()
        name = f"{self.stack_name}-{logical_id}-{suffix}"
        if resource["Type"] == "AWS::S3::Bucket":
            return name.lower()[:63]
        if resource["Type"] == "AWS::SQS::Queue" and props.get("FifoQueue"):
            return name[:75] + ".fifo"
        return name[:64]

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{ACCOUNT}:{resource}"

    def _ref(self, logical_id: str) -> Any:
        if logical_id in _PSEUDO:
            return _PSEUDO[logical_id](self)
        if logical_id in self.template.get("Parameters", {}):
            parameter = self.template["Parameters"][logical_id]
            if "Default" not in parameter:
                raise UnresolvableIntrinsic(f"parameter {logical_id} has no default")
            return parameter["Default"]
        if logical_id not in self.resources:
            raise UnresolvableIntrinsic(f"Ref to unknown {logical_id}")
        kind, name = self.resources[logical_id]["Type"], self.names[logical_id]
        if logical_id in self.physical_ids:
            return self.physical_ids[logical_id]
        return {
            "AWS::SQS::Queue": lambda: f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT}/{name}",
            "AWS::SecretsManager::Secret": lambda: self.arn("secretsmanager", f"secret:{name}"),
            "AWS::SNS::Topic": lambda: self.arn("sns", name),
            "AWS::StepFunctions::StateMachine": lambda: self.arn("states", f"stateMachine:{name}"),
            "AWS::KMS::Key": lambda: _key_id(name),
            "AWS::Events::EventBus": lambda: name,
            "AWS::ECS::TaskDefinition": lambda: self.arn("ecs", f"task-definition/{name}:1"),
            "AWS::ECS::Cluster": lambda: name,
            "AWS::ApiGateway::Stage": lambda: self.resources[logical_id]["Properties"].get(
                "StageName", name
            ),
            # A hosted-UI domain's Ref is its prefix, which the template may build at deploy.
            "AWS::Cognito::UserPoolDomain": lambda: self.resolve(
                self.resources[logical_id]["Properties"]["Domain"]
            ),
        }.get(kind, lambda: name)()

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        kind, name = self.resources[logical_id]["Type"], self.names[logical_id]
        props = self.resources[logical_id].get("Properties", {})
        tls = props.get("ClusterEndpointEncryptionType") == "TLS"
        known = {
            ("AWS::S3::Bucket", "Arn"): lambda: f"arn:aws:s3:::{name}",
            ("AWS::S3::Bucket", "RegionalDomainName"): lambda: (
                f"{name}.s3.{self.region}.amazonaws.com"
            ),
            ("AWS::S3::Bucket", "DomainName"): lambda: f"{name}.s3.amazonaws.com",
            ("AWS::DynamoDB::Table", "Arn"): lambda: self.arn("dynamodb", f"table/{name}"),
            ("AWS::DynamoDB::Table", "StreamArn"): lambda: _stream_arn(self, name),
            ("AWS::DynamoDB::GlobalTable", "Arn"): lambda: self.arn("dynamodb", f"table/{name}"),
            ("AWS::DynamoDB::GlobalTable", "StreamArn"): lambda: _stream_arn(self, name),
            ("AWS::SQS::Queue", "Arn"): lambda: self.arn("sqs", name),
            ("AWS::SQS::Queue", "QueueName"): lambda: name,
            ("AWS::SQS::Queue", "QueueUrl"): lambda: self._ref(logical_id),
            ("AWS::SNS::Topic", "TopicArn"): lambda: self.arn("sns", name),
            ("AWS::SNS::Topic", "TopicName"): lambda: name,
            ("AWS::IAM::Role", "Arn"): lambda: (
                f"arn:aws:iam::{ACCOUNT}:role/{props.get('Path', '/').lstrip('/')}{name}"
            ),
            ("AWS::Lambda::Function", "Arn"): lambda: self.arn("lambda", f"function:{name}"),
            ("AWS::Logs::LogGroup", "Arn"): lambda: self.arn("logs", f"log-group:{name}:*"),
            ("AWS::StepFunctions::StateMachine", "Arn"): lambda: self._ref(logical_id),
            ("AWS::StepFunctions::StateMachine", "Name"): lambda: name,
            ("AWS::KMS::Key", "Arn"): lambda: self.arn("kms", f"key/{self._ref(logical_id)}"),
            ("AWS::KMS::Key", "KeyId"): lambda: self._ref(logical_id),
            ("AWS::EFS::FileSystem", "Arn"): lambda: self.arn(
                "elasticfilesystem", f"file-system/fs-{_key_id(name)[:8]}"
            ),
            ("AWS::ECR::Repository", "Arn"): lambda: self.arn("ecr", f"repository/{name.lower()}"),
            ("AWS::ECS::Cluster", "Arn"): lambda: self.arn("ecs", f"cluster/{name}"),
            ("AWS::Neptune::DBCluster", "Endpoint"): lambda: (
                f"{name.lower()}.cluster-c0ffee.{self.region}.neptune.amazonaws.com"
            ),
            ("AWS::Neptune::DBCluster", "ReadEndpoint"): lambda: (
                f"{name.lower()}.cluster-ro-c0ffee.{self.region}.neptune.amazonaws.com"
            ),
            ("AWS::Neptune::DBCluster", "Port"): lambda: "8182",
            ("AWS::Neptune::DBCluster", "ClusterResourceId"): lambda: (
                f"cluster-{_key_id(name)[:26].upper()}"
            ),
            ("AWS::DAX::Cluster", "Arn"): lambda: self.arn("dax", f"cache/{name.lower()}"),
            ("AWS::DAX::Cluster", "ClusterDiscoveryEndpoint"): lambda: (
                f"{name.lower()}.c0ffee.dax-clusters.{self.region}.amazonaws.com:"
                f"{9111 if tls else 8111}"
            ),
            ("AWS::DAX::Cluster", "ClusterDiscoveryEndpointURL"): lambda: (
                f"{'daxs' if tls else 'dax'}://{name.lower()}.c0ffee.dax-clusters.{self.region}.amazonaws.com"
            ),
        }
        if (kind, attribute) in known:
            return known[(kind, attribute)]()
        return f"{logical_id}.{attribute}"

    # -- intrinsics ------------------------------------------------------------------------------

    def condition_holds(self, name: str | None) -> bool:
        if name is None:
            return True
        if name not in self._conditions:
            self._conditions[name] = bool(self.resolve(self.template["Conditions"][name]))
        return self._conditions[name]

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function replaced by its local value, and every
        CloudFormation dynamic reference to a Secrets Manager secret by the secret's value."""
        resolved = self._resolve(value)
        if isinstance(resolved, str) and "{{resolve:secretsmanager:" in resolved:
            return _DYNAMIC_SECRET.sub(self._secret_value, resolved)
        return resolved

    def _secret_value(self, match: re.Match) -> str:
        """A `{{resolve:secretsmanager:<id>:SecretString:<json key>:<stage>:<version>}}`, as
        CloudFormation resolves it at deploy (from moto's Secrets Manager)."""
        secret, json_key, stage, version = match.groups()
        kwargs = {"SecretId": secret}
        if version:
            kwargs["VersionId"] = version
        elif stage:
            kwargs["VersionStage"] = stage
        client = boto3.client("secretsmanager", region_name=self.region)
        text = client.get_secret_value(**kwargs)["SecretString"]
        return str(json.loads(text)[json_key]) if json_key else text

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = _INTRINSICS.get(key)
            if handler:
                return handler(self, arg)
            if key == "Condition":
                return self.condition_holds(arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self._get_att(logical_id, attribute))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)


_DYNAMIC_SECRET = re.compile(
    r"\{\{resolve:secretsmanager:(arn:[^:]+:secretsmanager:[^:]+:[0-9]+:secret:[^:}]+|[^:}]+)"
    r":SecretString:([^:}]*):([^:}]*):([^:}]*)\}\}"
)


def _stream_arn(stack: TemplateResolver, table: str) -> str:
    client = boto3.client("dynamodb", region_name=stack.region)
    with contextlib.suppress(Exception):
        return client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return stack.arn("dynamodb", f"table/{table}/stream/1970-01-01T00:00:00.000")


def _key_id(name: str) -> str:
    digest = hashlib.md5(name.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _equals(stack: TemplateResolver, arg: list) -> bool:
    left, right = stack.resolve(arg)
    return left == right


_PSEUDO = {
    "AWS::Region": lambda s: s.region,
    "AWS::AccountId": lambda s: ACCOUNT,
    "AWS::Partition": lambda s: "aws",
    "AWS::URLSuffix": lambda s: "amazonaws.com",
    "AWS::StackName": lambda s: s.stack_name,
    "AWS::StackId": lambda s: s.arn("cloudformation", f"stack/{s.stack_name}/local"),
    "AWS::NoValue": lambda s: NO_VALUE,
}

_INTRINSICS = {
    "Ref": lambda s, a: s._ref(a),
    "Fn::GetAtt": lambda s, a: s._get_att(*(a.split(".", 1) if isinstance(a, str) else a)),
    "Fn::Join": lambda s, a: str(s.resolve(a[0])).join(str(v) for v in s.resolve(a[1])),
    "Fn::Sub": lambda s, a: s._sub(a),
    "Fn::Select": lambda s, a: s.resolve(a[1])[int(s.resolve(a[0]))],
    "Fn::Split": lambda s, a: str(s.resolve(a[1])).split(s.resolve(a[0])),
    "Fn::GetAZs": lambda s, a: [f"{s.region}{z}" for z in "abc"],
    "Fn::Base64": lambda s, a: s.resolve(a),
    "Fn::FindInMap": lambda s, a: s.template["Mappings"][s.resolve(a[0])][s.resolve(a[1])][
        s.resolve(a[2])
    ],
    "Fn::If": lambda s, a: s.resolve(a[1] if s.condition_holds(a[0]) else a[2]),
    "Fn::Equals": _equals,
    "Fn::Not": lambda s, a: not s.resolve(a[0]),
    "Fn::And": lambda s, a: all(s.resolve(a)),
    "Fn::Or": lambda s, a: any(s.resolve(a)),
    "Fn::ImportValue": lambda s, a: (_ for _ in ()).throw(
        UnresolvableIntrinsic(f"ImportValue {a}")
    ),
}

_NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Neptune::DBCluster": "DBClusterIdentifier",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SES::EmailIdentity": "EmailIdentity",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::ECS::Cluster": "ClusterName",
}
