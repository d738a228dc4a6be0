"""What every CloudFront distribution in the library shares: an optional WAF web ACL and an
optional custom domain, each either created here or brought by the user, and the place where
the created ones live.

CloudFront accepts only a web ACL of scope CLOUDFRONT and an ACM certificate from us-east-1,
whatever region the distribution's stack is in. `CloudFrontEdge` decides where they go: the
stack itself when it is in us-east-1, otherwise a companion stack `<StackId>Edge` in us-east-1
(same account), created on first use. The distribution then reads their ARNs through a
cross-region reference: with this app's `@aws-cdk/core:defaultCrossStackReferences: weak` CDK
writes `Fn::GetStackOutput` (StackName, Region us-east-1, OutputName) in the consuming stack and
an output in the companion, with no export and no custom resource, and makes the consuming stack
depend on the companion, so `cdk deploy <stack>` deploys the companion first. Neither side can
pull the other's resource away: WAF refuses to delete a web ACL a distribution uses, and ACM a
certificate CloudFront uses.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

US_EAST_1 = "us-east-1"

# AWS managed rule groups in the default web ACL. They carry no fee beyond WAF's own (per web
# ACL, per rule and per request: the idle-cost tables in the docs price each web ACL).
_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


class CloudFrontEdge:
    """Where the us-east-1-only parts of `stack`'s distributions are created.

    `scope_for(construct, what)` answers `construct` itself in a us-east-1 stack (the template is
    what it would be without this class), else a construct at the same path in the companion
    stack, so logical ids are the same in both places. The consuming stack must have been
    constructed with `cross_region_references=True`: CDK reads the flag only then, and without
    it a cross-region reference to an L2 resource's name or ARN becomes a generated physical
    name instead of a reference.

    Attributes: stack, companion (the us-east-1 stack, or None until something needs it),
    stacks (the companion in a list, empty if none: what a blueprint's build() returns too).
    """

    def __init__(
        self,
        stack: cdk.Stack,
        *,
        companion_name: str | None = None,
        region_setting: str | None = None,
    ) -> None:
        """`companion_name`: the companion's CloudFormation name (default `<stack name>-Edge`);
        `region_setting`: the setting that gives `stack` its region, named in the error when an
        environment-agnostic stack needs a us-east-1 resource."""
        self.stack = stack
        self.companion: cdk.Stack | None = None
        self._companion_name = companion_name or f"{stack.stack_name}-Edge"
        self._region_setting = region_setting or f"the region of stack {stack.node.path}"

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [self.companion] if self.companion is not None else []

    def scope_for(self, construct: Construct, what: str) -> Construct:
        """The scope to create `what` (e.g. "A CLOUDFRONT web ACL") in for `construct`."""
        if cdk.Stack.of(construct) is not self.stack:
            raise ValueError(
                f"CloudFrontEdge of {self.stack.node.path} cannot place {what} for "
                f"{construct.node.path}, which is in another stack"
            )
        region = self.stack.region
        if cdk.Token.is_unresolved(region):
            raise ValueError(
                f"{what} for CloudFront must be created in {US_EAST_1}: in stack "
                f"{self.stack.node.path} when that is its region, else in a {US_EAST_1} companion "
                f"stack, and the stack's region is not known at synth: set {self._region_setting} "
                "(or synthesize with a CLI profile that has a region)"
            )
        if region == US_EAST_1:
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
                f"{self.stack.node.id}Edge",
                stack_name=self._companion_name,
                env=cdk.Environment(account=account, region=US_EAST_1),
                description=f"The {US_EAST_1} parts of {self.stack.stack_name}'s CloudFront "
                "distribution: WAF web ACL, viewer certificate "
                "(aws-architecture-blueprints)",
            )
        return self.companion


def require_us_east_1(scope: Construct, what: str) -> None:
    """The guard under `CloudFrontEdge`: `what` for CloudFront only works from a us-east-1 stack."""
    stack = cdk.Stack.of(scope)
    if cdk.Token.is_unresolved(stack.region) or stack.region != US_EAST_1:
        region = "not set" if cdk.Token.is_unresolved(stack.region) else stack.region
        raise ValueError(
            f"{what} for CloudFront can only be created in a {US_EAST_1} stack (stack "
            f"{stack.node.path}'s region is {region}); pass edge=CloudFrontEdge(stack) to have "
            f"it created in a {US_EAST_1} companion stack, or pass the ARN of an existing one"
        )


def cloudfront_web_acl(
    scope: Construct,
    id: str,
    *,
    rate_limit_per_5_minutes: int = 2000,
    regional: bool = False,
    edge: CloudFrontEdge | None = None,
) -> wafv2.CfnWebACL:
    """A CLOUDFRONT-scope web ACL: AWS managed rules plus a per-IP rate limit, created in
    `edge.scope_for(scope)` (us-east-1), or in `scope` itself without `edge`.

    `regional=True`: the same rules with REGIONAL scope, for an API Gateway stage or an ALB in
    the stack's own region (any region), always created in `scope`.
    """
    if not 100 <= rate_limit_per_5_minutes <= 2_000_000_000:
        raise ValueError(f"WAF rate limit {rate_limit_per_5_minutes} must be 100..2000000000")
    if not regional:
        if edge is not None:
            scope = edge.scope_for(scope, "A CLOUDFRONT-scope WAF web ACL")
        require_us_east_1(scope, "A WAF web ACL")
    rules = [
        wafv2.CfnWebACL.RuleProperty(
            name=group,
            priority=priority,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=group
                )
            ),
            visibility_config=_visibility(group),
        )
        for priority, group in enumerate(_MANAGED_RULE_GROUPS)
    ]
    rules.append(
        wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=len(rules),
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=rate_limit_per_5_minutes, aggregate_key_type="IP"
                )
            ),
            visibility_config=_visibility("RateLimitPerIp"),
        )
    )
    return wafv2.CfnWebACL(
        scope,
        id,
        scope="REGIONAL" if regional else "CLOUDFRONT",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        rules=rules,
        visibility_config=_visibility(id),
    )


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def require_cloudfront_certificate_arn(certificate_arn: str) -> None:
    if not certificate_arn.startswith(f"arn:aws:acm:{US_EAST_1}:"):
        raise ValueError(
            f"certificate ARN {certificate_arn!r} must be an ACM certificate in {US_EAST_1} "
            "(CloudFront reads certificates only from there)"
        )


def require_cloudfront_web_acl_arn(web_acl_arn: str) -> None:
    if (
        not web_acl_arn.startswith(f"arn:aws:wafv2:{US_EAST_1}:")
        or "/global/webacl/" not in web_acl_arn
    ):
        raise ValueError(
            f"web ACL {web_acl_arn!r} must be the ARN of a CLOUDFRONT-scope "
            f"(global, {US_EAST_1}) WAFv2 web ACL"
        )


def viewer_certificate(
    scope: Construct,
    id: str,
    *,
    domain_names: list[str],
    certificate_arn: str | None,
    edge: CloudFrontEdge | None = None,
) -> acm.ICertificate:
    """The us-east-1 certificate for a distribution's custom domain names.

    With `certificate_arn` it is imported into `scope` (any region may deploy the distribution
    then); without, a DNS-validated certificate is created in `edge.scope_for(scope)` (or in
    `scope`, then in us-east-1), and the validation CNAME must be added to your DNS (the ACM
    console shows it while the deploy waits).
    """
    if not domain_names:
        raise ValueError("a custom domain needs at least one domain name")
    if certificate_arn:
        require_cloudfront_certificate_arn(certificate_arn)
        return acm.Certificate.from_certificate_arn(scope, id, certificate_arn)
    if edge is not None:
        scope = edge.scope_for(scope, "An ACM certificate")
    require_us_east_1(scope, "An ACM certificate")
    return acm.Certificate(
        scope,
        id,
        domain_name=domain_names[0],
        subject_alternative_names=domain_names[1:] or None,
        validation=acm.CertificateValidation.from_dns(),
    )
