"""Wiring tests: run a stack's handlers against moto resources built from its own template.

Template assertions check the stack and handler tests check the code, each against its own idea
of the other. This module closes the gap: it reads the *synthesized template*, creates the
tables, buckets, queues, topics, roles, keys and state machines it declares in moto (with the
key schemas, streams and names the template gives them), resolves `Ref`/`Fn::GetAtt`/`Fn::Sub`/
`Fn::Join`/... to those moto resources, and runs each Lambda handler from the very asset folder
the template's `Code` points at, with the environment exactly as the template sets it.

It is a small resolver for the intrinsics CDK emits, not a CloudFormation engine: resources
moto (or this file) does not model get a deterministic placeholder name for `Ref` and
`<LogicalId>.<Attribute>` for `Fn::GetAtt`, so a wiring test sees them but cannot use them.

Use inside `moto.mock_aws()` (the `local_stack` fixture in tests/conftest.py does that):

    stack = local_stack(assembly, "MyTodoList")
    api = stack.function("Api/Handler")          # by construct path, as in the tree
    response = api.invoke({...})                  # imported from the asset, env from template
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import boto3

ACCOUNT = "123456789012"  # moto's default account
NO_VALUE = object()


class UnresolvableIntrinsic(Exception):
    pass


class LocalStack:
    """One synthesized stack, "deployed" into the active moto mock."""

    def __init__(self, template: dict, *, stack_name: str, assembly_dir: Path,
                 region: str = "us-east-1") -> None:
        self.template = template
        self.stack_name = stack_name
        self.assembly_dir = assembly_dir
        self.region = region
        self.resources: dict[str, dict] = template.get("Resources", {})
        self._names = {lid: self._physical_name(lid, r) for lid, r in self.resources.items()}
        self._conditions: dict[str, bool] = {}
        self.created: dict[str, str] = {}  # logical id -> resource type created in moto
        for logical_id, resource in self.resources.items():
            creator = _CREATORS.get(resource["Type"])
            if creator and self.condition_holds(resource.get("Condition")):
                creator(self, logical_id, self.resolve(resource.get("Properties", {})))
                self.created[logical_id] = resource["Type"]

    # -- finding things -------------------------------------------------------------------------

    def logical_id(self, path: str, resource_type: str | None = None) -> str:
        """The logical id of the resource whose construct path ends with `path` (or `path/Resource`)."""
        matches = []
        for logical_id, resource in self.resources.items():
            cdk_path = resource.get("Metadata", {}).get("aws:cdk:path", "")
            if resource_type and resource["Type"] != resource_type:
                continue
            if cdk_path.endswith("/" + path) or cdk_path.endswith("/" + path + "/Resource"):
                matches.append(logical_id)
        if len(matches) != 1:
            raise LookupError(f"{len(matches)} resources match path {path!r} "
                              f"({resource_type or 'any type'}): {matches}")
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

    def function(self, path: str) -> LocalFunction:
        return LocalFunction(self, self.logical_id(path, "AWS::Lambda::Function"))

    def ref(self, logical_id: str) -> str:
        return self.resolve({"Ref": logical_id})

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return self.resolve({"Fn::GetAtt": [logical_id, attribute]})

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

    def _arn(self, service: str, resource: str, region: bool = True) -> str:
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
        kind, name = self.resources[logical_id]["Type"], self._names[logical_id]
        return {
            "AWS::SQS::Queue": lambda: f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT}/{name}",
            "AWS::SNS::Topic": lambda: self._arn("sns", name),
            "AWS::StepFunctions::StateMachine": lambda: self._arn("states", f"stateMachine:{name}"),
            "AWS::KMS::Key": lambda: _key_id(name),
            "AWS::Events::EventBus": lambda: name,
        }.get(kind, lambda: name)()

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        kind, name = self.resources[logical_id]["Type"], self._names[logical_id]
        props = self.resources[logical_id].get("Properties", {})
        known = {
            ("AWS::S3::Bucket", "Arn"): lambda: f"arn:aws:s3:::{name}",
            ("AWS::S3::Bucket", "RegionalDomainName"): lambda: f"{name}.s3.{self.region}.amazonaws.com",
            ("AWS::S3::Bucket", "DomainName"): lambda: f"{name}.s3.amazonaws.com",
            ("AWS::DynamoDB::Table", "Arn"): lambda: self._arn("dynamodb", f"table/{name}"),
            ("AWS::DynamoDB::Table", "StreamArn"): lambda: _stream_arn(self, name),
            ("AWS::DynamoDB::GlobalTable", "Arn"): lambda: self._arn("dynamodb", f"table/{name}"),
            ("AWS::DynamoDB::GlobalTable", "StreamArn"): lambda: _stream_arn(self, name),
            ("AWS::SQS::Queue", "Arn"): lambda: self._arn("sqs", name),
            ("AWS::SQS::Queue", "QueueName"): lambda: name,
            ("AWS::SQS::Queue", "QueueUrl"): lambda: self._ref(logical_id),
            ("AWS::SNS::Topic", "TopicArn"): lambda: self._arn("sns", name),
            ("AWS::SNS::Topic", "TopicName"): lambda: name,
            ("AWS::IAM::Role", "Arn"): lambda: f"arn:aws:iam::{ACCOUNT}:role/{props.get('Path', '/').lstrip('/')}{name}",
            ("AWS::Lambda::Function", "Arn"): lambda: self._arn("lambda", f"function:{name}"),
            ("AWS::StepFunctions::StateMachine", "Arn"): lambda: self._ref(logical_id),
            ("AWS::StepFunctions::StateMachine", "Name"): lambda: name,
            ("AWS::KMS::Key", "Arn"): lambda: self._arn("kms", f"key/{_key_id(name)}"),
            ("AWS::KMS::Key", "KeyId"): lambda: _key_id(name),
            ("AWS::Neptune::DBCluster", "Endpoint"): lambda: f"{name.lower()}.cluster-c0ffee.{self.region}.neptune.amazonaws.com",
            ("AWS::Neptune::DBCluster", "ReadEndpoint"): lambda: f"{name.lower()}.cluster-ro-c0ffee.{self.region}.neptune.amazonaws.com",
            ("AWS::Neptune::DBCluster", "Port"): lambda: "8182",
            ("AWS::Neptune::DBCluster", "ClusterResourceId"): lambda: f"cluster-{_key_id(name)[:26].upper()}",
            ("AWS::DAX::Cluster", "Arn"): lambda: self._arn("dax", f"cache/{name.lower()}"),
            ("AWS::DAX::Cluster", "ClusterDiscoveryEndpoint"): lambda: f"{name.lower()}.c0ffee.dax-clusters.{self.region}.amazonaws.com:{9111 if props.get('ClusterEndpointEncryptionType') == 'TLS' else 8111}",
            ("AWS::DAX::Cluster", "ClusterDiscoveryEndpointURL"): lambda: f"{'daxs' if props.get('ClusterEndpointEncryptionType') == 'TLS' else 'dax'}://{name.lower()}.c0ffee.dax-clusters.{self.region}.amazonaws.com",
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
        """`value` with every intrinsic function replaced by its local value."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
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


def _stream_arn(stack: LocalStack, table: str) -> str:
    client = boto3.client("dynamodb", region_name=stack.region)
    with contextlib.suppress(Exception):
        return client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return stack._arn("dynamodb", f"table/{table}/stream/1970-01-01T00:00:00.000")


def _key_id(name: str) -> str:
    digest = hashlib.md5(name.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _equals(stack: LocalStack, arg: list) -> bool:
    left, right = stack.resolve(arg)
    return left == right


_PSEUDO = {
    "AWS::Region": lambda s: s.region,
    "AWS::AccountId": lambda s: ACCOUNT,
    "AWS::Partition": lambda s: "aws",
    "AWS::URLSuffix": lambda s: "amazonaws.com",
    "AWS::StackName": lambda s: s.stack_name,
    "AWS::StackId": lambda s: s._arn("cloudformation", f"stack/{s.stack_name}/local"),
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
    "Fn::FindInMap": lambda s, a: s.template["Mappings"][s.resolve(a[0])][s.resolve(a[1])][s.resolve(a[2])],
    "Fn::If": lambda s, a: s.resolve(a[1] if s.condition_holds(a[0]) else a[2]),
    "Fn::Equals": _equals,
    "Fn::Not": lambda s, a: not s.resolve(a[0]),
    "Fn::And": lambda s, a: all(s.resolve(a)),
    "Fn::Or": lambda s, a: any(s.resolve(a)),
    "Fn::ImportValue": lambda s, a: (_ for _ in ()).throw(UnresolvableIntrinsic(f"ImportValue {a}")),
}

_NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Neptune::DBCluster": "DBClusterIdentifier",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SES::EmailIdentity": "EmailIdentity",
}


# -- creating resources in moto --------------------------------------------------------------------

def _create_table(stack: LocalStack, logical_id: str, props: dict) -> None:
    request = {
        "TableName": stack._names[logical_id],
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = props.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if props.get(kind):
            request[kind] = [
                {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
                | ({"ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}
                   if request["BillingMode"] == "PROVISIONED" and kind.startswith("Global") else {})
                for index in props[kind]
            ]
    stream = props.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True,
                                          "StreamViewType": stream["StreamViewType"]}
    boto3.client("dynamodb", region_name=stack.region).create_table(**request)


def _create_bucket(stack: LocalStack, logical_id: str, props: dict) -> None:
    client = boto3.client("s3", region_name=stack.region)
    kwargs = {"Bucket": stack._names[logical_id]}
    if stack.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": stack.region}
    client.create_bucket(**kwargs)
    if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        client.put_bucket_versioning(Bucket=kwargs["Bucket"],
                                     VersioningConfiguration={"Status": "Enabled"})


def _create_queue(stack: LocalStack, logical_id: str, props: dict) -> None:
    attributes = {}
    if props.get("FifoQueue"):
        attributes["FifoQueue"] = "true"
    if "VisibilityTimeout" in props:
        attributes["VisibilityTimeout"] = str(props["VisibilityTimeout"])
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    boto3.client("sqs", region_name=stack.region).create_queue(
        QueueName=stack._names[logical_id], Attributes=attributes)


def _create_topic(stack: LocalStack, logical_id: str, props: dict) -> None:
    boto3.client("sns", region_name=stack.region).create_topic(Name=stack._names[logical_id])


def _create_role(stack: LocalStack, logical_id: str, props: dict) -> None:
    boto3.client("iam", region_name=stack.region).create_role(
        RoleName=stack._names[logical_id], Path=props.get("Path", "/"),
        AssumeRolePolicyDocument=json.dumps(props.get("AssumeRolePolicyDocument", {})))


def _create_email_identity(stack: LocalStack, logical_id: str, props: dict) -> None:
    identity = props["EmailIdentity"]
    ses = boto3.client("ses", region_name=stack.region)
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)


def _create_state_machine(stack: LocalStack, logical_id: str, props: dict) -> None:
    definition = props.get("DefinitionString") or json.dumps(props.get("Definition", {}))
    boto3.client("stepfunctions", region_name=stack.region).create_state_machine(
        name=stack._names[logical_id], definition=definition, roleArn=props["RoleArn"],
        type=props.get("StateMachineType", "STANDARD"))


_CREATORS = {
    "AWS::DynamoDB::Table": _create_table,
    "AWS::DynamoDB::GlobalTable": _create_table,
    "AWS::S3::Bucket": _create_bucket,
    "AWS::SQS::Queue": _create_queue,
    "AWS::SNS::Topic": _create_topic,
    "AWS::IAM::Role": _create_role,
    "AWS::SES::EmailIdentity": _create_email_identity,
    "AWS::StepFunctions::StateMachine": _create_state_machine,
}


# -- running handlers ------------------------------------------------------------------------------

class LocalFunction:
    """A Lambda function of the template, run in-process from its asset folder."""

    def __init__(self, stack: LocalStack, logical_id: str) -> None:
        self.stack = stack
        self.logical_id = logical_id
        self.properties = stack.properties(logical_id)
        self.environment: dict[str, str] = {
            k: str(v) for k, v in self.properties.get("Environment", {}).get("Variables", {}).items()
        }
        self.asset_dir = self._asset_dir()
        module, _, self.handler_name = self.properties["Handler"].rpartition(".")
        self.module_name = module
        self._module = None

    def _asset_dir(self) -> Path:
        """The folder the template's Code.S3Key names, via the stack's asset manifest."""
        return self.stack.asset_dir(self.properties["Code"]["S3Key"])

    @property
    def layer_dirs(self) -> list[Path]:
        """`python/` of each layer the template attaches (Lambda puts /opt/python on sys.path)."""
        dirs = []
        for layer in self.resources_layers():
            dirs.append(self.stack.asset_dir(layer["Content"]["S3Key"]) / "python")
        return dirs

    def resources_layers(self) -> list[dict]:
        layers = []
        for arn in self.properties.get("Layers", []):
            for logical_id in self.stack.of_type("AWS::Lambda::LayerVersion"):
                if self.stack.ref(logical_id) == arn:
                    layers.append(self.stack.properties(logical_id))
        return layers

    @contextlib.contextmanager
    def environment_applied(self):
        """os.environ as Lambda would set it for this function, restored afterwards."""
        saved = dict(os.environ)
        os.environ.update(self.environment)
        os.environ.update({
            "AWS_REGION": self.stack.region,
            "AWS_DEFAULT_REGION": self.stack.region,
            "AWS_LAMBDA_FUNCTION_NAME": self.stack._names[self.logical_id],
        })
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    @property
    def module(self):
        """The handler module, imported fresh from the asset folder (clients made in moto)."""
        if self._module is None:
            with self.environment_applied():
                self._module = _import_from(self.asset_dir, self.module_name, self.layer_dirs)
        return self._module

    def invoke(self, event: dict, context: Any = None) -> Any:
        handler = getattr(self.module, self.handler_name)
        with self.environment_applied():
            return handler(event, context or LambdaContext(self.stack._names[self.logical_id]))


class LambdaContext:
    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function_name}"
        self.aws_request_id = "00000000-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _import_from(folder: Path, module_name: str, layer_dirs: list[Path] = ()):
    """Import `module_name` from `folder` without leaking it (or its siblings) to other tests.

    The folder goes at the *end* of sys.path: a bundled asset holds dependencies built for the
    Lambda platform (arm64), so third-party packages must come from the test environment while
    the handler's own modules can only come from the asset.
    """
    folders = [str(folder), *map(str, layer_dirs)]
    own = {p.stem for f in folders for p in Path(f).glob("*.py")} - _bundled_modules(folders)
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None) or ""
        if name.split(".")[0] in own or "/lambda_src/" in origin or "/asset." in origin:
            del sys.modules[name]
    sys.path.extend(folders)
    try:
        return importlib.import_module(module_name)
    finally:
        for f in folders:
            sys.path.remove(f)


def _bundled_modules(folders: list[str]) -> set[str]:
    """Top-level names of the third-party packages bundled into the assets (their dist-info
    RECORDs say which): single-file ones such as six or typing_extensions are not the handler's
    own, and evicting them from sys.modules would split the test process's copy in two."""
    names = set()
    for folder in folders:
        for record in Path(folder).glob("*.dist-info/RECORD"):
            for line in record.read_text().splitlines():
                names.add(line.split(",", 1)[0].split("/", 1)[0].removesuffix(".py"))
    return names


def load_handler(source: str, module: str = "handler", layers: tuple[str, ...] = ()):
    """Import `lambda_src/<source>/<module>.py` fresh, for handler unit tests.

    `layers` names folders under lambda_src/layers/ whose modules the handler imports.
    Set the environment (monkeypatch.setenv) and start moto *before* calling this: handlers
    create their boto3 clients at import time, as they do in Lambda.
    """
    from tests.support.synth import REPO_ROOT

    src = REPO_ROOT / "lambda_src"
    return _import_from(src / source, module, [src / "layers" / layer for layer in layers])


# -- EventBridge: does a rule of the template match an event, and what does its target get? ------

def event_matches(pattern: Any, event: Any) -> bool:
    """EventBridge content filtering, for the matchers CDK templates here use: exact values,
    prefix, suffix, wildcard, exists, anything-but (string or list)."""
    if isinstance(pattern, dict):
        if not isinstance(event, dict):
            return False
        return all(_field_matches(value, event.get(key), key in event) if isinstance(value, list)
                   else event_matches(value, event.get(key))
                   for key, value in pattern.items())
    return pattern == event


def _field_matches(matchers: list, value: Any, present: bool) -> bool:
    import fnmatch

    values = value if isinstance(value, list) else [value]
    for matcher in matchers:
        if not isinstance(matcher, dict):
            if present and matcher in values:
                return True
            continue
        (kind, arg), = matcher.items()
        if kind == "exists" and present == arg:
            return True
        if not present:
            continue
        for v in values:
            if kind == "prefix" and isinstance(v, str) and v.startswith(arg):
                return True
            if kind == "suffix" and isinstance(v, str) and v.endswith(arg):
                return True
            if kind == "wildcard" and isinstance(v, str) and fnmatch.fnmatchcase(v, arg.replace("[", "[[]")):
                return True
            if kind == "anything-but" and v not in (arg if isinstance(arg, list) else [arg]):
                return True
    return False


def _json_path(document: Any, path: str) -> Any:
    value = document
    for part in path.removeprefix("$").strip(".").split("."):
        if part:
            value = value[part]
    return value


def rule_target_input(target: dict, event: dict) -> Any:
    """What an EventBridge target (from the template, resolved) receives for `event`."""
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        return _json_path(event, target["InputPath"])
    transformer = target.get("InputTransformer")
    if not transformer:
        return event
    text = transformer["InputTemplate"]
    for name, path in transformer.get("InputPathsMap", {}).items():
        text = text.replace(f"<{name}>", json.dumps(_json_path(event, path)))
    return json.loads(text)


def s3_object_created_event(bucket: str, key: str, region: str = "us-east-1") -> dict:
    """The event S3 sends to EventBridge when an object lands (EventBridge notifications on)."""
    return {
        "version": "0", "source": "aws.s3", "detail-type": "Object Created",
        "account": ACCOUNT, "region": region, "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {"version": "0", "bucket": {"name": bucket},
                   "object": {"key": key, "size": 0, "etag": "d41d8cd98f00b204e9800998ecf8427e"},
                   "reason": "PutObject"},
    }
