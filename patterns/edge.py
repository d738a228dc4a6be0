"""What every CloudFront distribution in the library shares: an optional WAF web ACL and an
optional custom domain, each either created here or brought by the user.

CloudFront only accepts a web ACL of scope CLOUDFRONT and an ACM certificate from us-east-1, so
both can be created only by a stack deployed to us-east-1; elsewhere pass existing ARNs.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# AWS managed rule groups in the default web ACL. The first two are free with WAF ($5/month per
# web ACL + $1/month per rule + $0.60 per million requests, 2026 list prices).
_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


def require_us_east_1(stack: cdk.Stack, what: str) -> None:
    if cdk.Token.is_unresolved(stack.region) or stack.region != "us-east-1":
        raise ValueError(
            f"{what} for CloudFront can only be created by a stack in us-east-1 (this stack's "
            f"region is {stack.region if not cdk.Token.is_unresolved(stack.region) else 'not set'}); "
            "deploy it there or pass the ARN of an existing one"
        )


def cloudfront_web_acl(
    scope: Construct, id: str, *, rate_limit_per_5_minutes: int = 2000, regional: bool = False
) -> wafv2.CfnWebACL:
    """A CLOUDFRONT-scope web ACL: AWS managed rules plus a per-IP rate limit.

    `regional=True`: the same rules with REGIONAL scope, for an API Gateway stage or an ALB in
    the stack's own region (any region).
    """
    if not regional:
        require_us_east_1(cdk.Stack.of(scope), "A WAF web ACL")
    if not 100 <= rate_limit_per_5_minutes <= 2_000_000_000:
        raise ValueError(f"WAF rate limit {rate_limit_per_5_minutes} must be 100..2000000000")
    rules = [
        wafv2.CfnWebACL.RuleProperty(
            name=group,
            priority=priority,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=group)),
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
                    limit=rate_limit_per_5_minutes, aggregate_key_type="IP")),
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
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True)


def viewer_certificate(
    scope: Construct, id: str, *, domain_names: list[str], certificate_arn: str | None
) -> acm.ICertificate:
    """The us-east-1 certificate for a distribution's custom domain names.

    With `certificate_arn` it is imported (any region may deploy the distribution then);
    without, a DNS-validated certificate is created, which needs this stack in us-east-1 and
    the validation CNAME added to your DNS (the ACM console shows it while the deploy waits).
    """
    if not domain_names:
        raise ValueError("a custom domain needs at least one domain name")
    if certificate_arn:
        if not certificate_arn.startswith("arn:aws:acm:us-east-1:"):
            raise ValueError(
                f"certificate ARN {certificate_arn!r} must be an ACM certificate in us-east-1 "
                "(CloudFront reads certificates only from there)")
        return acm.Certificate.from_certificate_arn(scope, id, certificate_arn)
    require_us_east_1(cdk.Stack.of(scope), "An ACM certificate")
    return acm.Certificate(
        scope, id, domain_name=domain_names[0], subject_alternative_names=domain_names[1:] or None,
        validation=acm.CertificateValidation.from_dns())
