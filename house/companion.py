"""A companion stack: the part of a stack's resources that must live in another region.

Two things in the library need one: CloudFront's web ACL and viewer certificate (us-east-1
only: `house.edge.CloudFrontEdge`, companion `<StackId>Edge`) and a static site's replica
bucket for origin failover (another region by design: `patterns/web/static_site.py`,
companion `<StackId>Failover`). `RegionCompanion` is what both share.

How the consuming stack reads the companion's values: with this app's
`@aws-cdk/core:defaultCrossStackReferences: weak` (and the consuming stack constructed with
`cross_region_references=True`, which CDK reads only then) a reference to a companion
resource's name or ARN becomes `Fn::GetStackOutput` (StackName, Region, OutputName) in the
consuming stack and an output in the companion, with no export and no custom resource, and the
consuming stack depends on the companion, so `cdk deploy <stack>` (and `make preflight`, which
follows the same dependencies, each stack in its own region) deploys the companion first.
Nothing may point the other way: the companion deploys first, so a value of the consuming
stack in the companion would be a cycle.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct


class RegionCompanion:
    """Where `stack`'s resources that must live in `region` are created.

    `scope_for(construct, what)` answers `construct` itself when `stack` is in `region` (the
    template is what it would be without a companion), else a construct at the same path in the
    companion stack `<stack id><suffix>` (created on first use, same account), so logical ids
    are the same in both places.

    Attributes: stack, region, companion (None until something needs it), stacks (the companion
    in a list, empty if none: what a blueprint's build() returns too).
    """

    def __init__(
        self,
        stack: cdk.Stack,
        *,
        region: str,
        suffix: str,
        description: str,
        companion_name: str | None = None,
        region_setting: str | None = None,
    ) -> None:
        """`region`: where the companion goes. `suffix`: appended to the stack's id (and, by
        default, `-<suffix>` to its CloudFormation name: `companion_name` overrides).
        `description`: the companion's. `region_setting`: the setting that gives `stack` its
        region, named in the error when an environment-agnostic stack needs the companion."""
        self.stack = stack
        self.region = region
        self.companion: cdk.Stack | None = None
        self._suffix = suffix
        self._description = description
        self._companion_name = companion_name or f"{stack.stack_name}-{suffix}"
        self._region_setting = region_setting or f"the region of stack {stack.node.path}"

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [self.companion] if self.companion is not None else []

    @property
    def separate(self) -> bool:
        """Whether `stack` is in another region than the companion's (so one is needed); raises
        when `stack`'s region is not known at synth."""
        region = self.stack.region
        if cdk.Token.is_unresolved(region):
            raise ValueError(
                f"resources of stack {self.stack.node.path} must be created in {self.region}: "
                f"in the stack when that is its region, else in a {self.region} companion stack, "
                f"and the stack's region is not known at synth: set {self._region_setting} (or "
                "synthesize with a CLI profile that has a region)"
            )
        return region != self.region

    def scope_for(self, construct: Construct, what: str) -> Construct:
        """The scope to create `what` (e.g. "A CLOUDFRONT web ACL") in for `construct`."""
        if cdk.Stack.of(construct) is not self.stack:
            raise ValueError(
                f"{type(self).__name__} of {self.stack.node.path} cannot place {what} for "
                f"{construct.node.path}, which is in another stack"
            )
        try:
            separate = self.separate
        except ValueError as error:
            raise ValueError(f"{what}: {error}") from None
        if not separate:
            return construct
        scope: Construct = self._companion_stack()
        for part in construct.node.path[len(self.stack.node.path) :].strip("/").split("/"):
            if part:
                scope = scope.node.try_find_child(part) or Construct(scope, part)
        return scope

    def _companion_stack(self) -> cdk.Stack:
        if self.companion is None:
            account = None if cdk.Token.is_unresolved(self.stack.account) else self.stack.account
            self.companion = cdk.Stack(
                self.stack.node.scope,
                f"{self.stack.node.id}{self._suffix}",
                stack_name=self._companion_name,
                env=cdk.Environment(account=account, region=self.region),
                description=self._description,
            )
        return self.companion
