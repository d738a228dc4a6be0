"""Physical names that must be unique per account or region, and the services' limits on them.

CDK derives many such names from the stack *id*, which dev and prod share; these carry the stack
*name* (which carries the stage) instead, so two stages or two instances of a blueprint never
collide in one account (deployment/rules.py checks it over every stack).
"""

from __future__ import annotations

import hashlib
import re

import aws_cdk as cdk
from constructs import Construct

# Names CloudFront keeps unique per account (it is a global service), and their limits: cache,
# origin-request and response-headers policies 128 characters of A-Za-z0-9_- (aws-cdk-lib's
# check; the CloudFormation reference states none), origin access controls 64 (CloudFormation
# reference), CloudFront Functions 64 of A-Za-z0-9_- (CloudFront API reference).
CLOUDFRONT_POLICY_NAME_MAX = 128
CLOUDFRONT_OAC_NAME_MAX = 64
CLOUDFRONT_FUNCTION_NAME_MAX = 64
# CloudFront VPC origins: 64 characters (the limit aws-cdk-lib names them within).
CLOUDFRONT_VPC_ORIGIN_NAME_MAX = 64
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_NAME_HASH_LENGTH = 8


def physical_name(scope: Construct, role: str, *, max_length: int) -> str:
    """The name of a resource whose name must be unique per account or region, stable across
    deploys: `<stack name>-<scope's path in the stack>-<role>`, e.g. `MyBlog-prod-Site-Router`.

    CDK derives such names from the stack *id*, which dev and prod share; the stack *name*
    carries the stage, so `MyBlog-dev` and `MyBlog-prod` (or two stacks of one blueprint) in one
    account never collide. Only A-Z a-z 0-9 _ - are kept (what every CloudFront name accepts).
    A name longer than `max_length` keeps its beginning and ends in a hash of the whole name,
    so it stays unique and is the same on every synth.
    """
    stack = cdk.Stack.of(scope)
    if cdk.Token.is_unresolved(stack.stack_name):
        raise ValueError(
            f"physical_name: {scope.node.path} is in a stack whose name is not known "
            "at synth (a nested stack); give the resource a name of your own"
        )
    below_stack = scope.node.path[len(stack.node.path) :].strip("/").split("/")
    parts = [_NAME_UNSAFE.sub("", part) for part in (stack.stack_name, *below_stack, role)]
    name = "-".join(part for part in parts if part)
    if len(name) <= max_length:
        return name
    if max_length <= 2 * _NAME_HASH_LENGTH:
        raise ValueError(f"physical_name: max_length {max_length} leaves no room for a name")
    digest = hashlib.sha256(name.encode()).hexdigest()[:_NAME_HASH_LENGTH]
    return f"{name[: max_length - _NAME_HASH_LENGTH - 1].rstrip('-_')}-{digest}"
