"""IAM in moto from a template: roles (trust policy, inline policies, managed policy ARNs) and the
AWS::IAM::Policy / ManagedPolicy resources attached to them, as CloudFormation would create them
(moto_resources.StackInMoto calls these). What is then enforced: iam_enforcement.py.
"""

from __future__ import annotations

import functools
import json

from botocore.exceptions import ClientError

from tests.support.intrinsics import ACCOUNT


def attach_managed_policies(stack, role_logical_id: str) -> None:
    """The role's ManagedPolicyArns, attached once it exists (AWS managed: as moto has them)."""
    iam = stack.client("iam")
    for arn in stack._managed_policy_arns.pop(role_logical_id, []):
        if arn.startswith("arn:aws:iam::aws:policy/"):
            name = arn.rsplit("/", 1)[1]
            known = _aws_managed_policies().get(name)
            if known is None:
                raise LookupError(f"moto ships no document for the AWS managed policy {arn}")
            local = f"arn:aws:iam::{ACCOUNT}:policy{known['Path']}{name}"
            try:
                iam.create_policy(
                    PolicyName=name,
                    Path=known["Path"],
                    PolicyDocument=json.dumps(known["Document"]),
                )
            except ClientError as err:
                if err.response["Error"]["Code"] != "EntityAlreadyExists":
                    raise
            arn = local
        iam.attach_role_policy(RoleName=stack.names[role_logical_id], PolicyArn=arn)


@functools.cache
def _aws_managed_policies() -> dict:
    """AWS managed policies as moto ships them (parsing them costs ~0.7 s: only when needed)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)


def create_role(stack, logical_id: str, props: dict) -> None:
    name = stack.names[logical_id]
    iam = stack.client("iam")
    iam.create_role(
        RoleName=name,
        Path=props.get("Path", "/"),
        AssumeRolePolicyDocument=json.dumps(props.get("AssumeRolePolicyDocument", {})),
    )
    for policy in props.get("Policies", []):
        _put_role_policy(stack, name, policy["PolicyName"], policy["PolicyDocument"])
    stack._managed_policy_arns[logical_id] = list(props.get("ManagedPolicyArns", []))


def create_inline_policy(stack, logical_id: str, props: dict) -> None:
    """AWS::IAM::Policy: one inline policy per role it names (as CloudFormation puts it)."""
    for role in props.get("Roles", []):
        if role in _role_names(stack):
            _put_role_policy(stack, role, props["PolicyName"], props["PolicyDocument"])


def create_managed_policy(stack, logical_id: str, props: dict) -> None:
    iam = stack.client("iam")
    arn = iam.create_policy(
        PolicyName=stack.names[logical_id],
        Path=props.get("Path", "/"),
        PolicyDocument=json.dumps(props["PolicyDocument"]),
    )["Policy"]["Arn"]
    for role in props.get("Roles", []):
        if role in _role_names(stack):
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)


def _role_names(stack) -> set[str]:
    """Roles this stack created (a policy may also name roles that live elsewhere)."""
    return {stack.names[lid] for lid, kind in stack.created.items() if kind == "AWS::IAM::Role"}


def _put_role_policy(stack, role_name: str, policy_name: str, document: dict) -> None:
    text = json.dumps(document)
    try:
        stack.client("iam").put_role_policy(
            RoleName=role_name, PolicyName=policy_name, PolicyDocument=text
        )
    except ClientError as err:
        if err.response["Error"]["Code"] != "MalformedPolicyDocument":
            raise
        # moto's validator refuses placeholder ARNs of types the resolver does not model
        # (`<LogicalId>.Arn`); the statement still counts, exactly as written, for the rest.
        from moto.iam.models import iam_backends

        iam_backends[ACCOUNT]["aws"].get_role(role_name).put_policy(policy_name, text)
