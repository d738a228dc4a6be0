"""What every CloudFront distribution in the library shares: an optional WAF web ACL and an
optional custom domain, each either created here or brought by the user, and the place where
the created ones live.

CloudFront accepts only a web ACL of scope CLOUDFRONT and an ACM certificate from us-east-1,
whatever region the distribution's stack is in. `CloudFrontEdge` decides where they go: the
stack itself when it is in us-east-1, otherwise a companion stack `<StackId>Edge` in us-east-1
(same account), created on first use (`house.companion.RegionCompanion`: how the distribution
reads their ARNs across regions, and why the companion deploys first). Neither side can
pull the other's resource away: WAF refuses to delete a web ACL a distribution uses, and ACM a
certificate CloudFront uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_wafv2 as wafv2
from aws_cdk import custom_resources as cr
from constructs import Construct

from house.companion import RegionCompanion
from house.compliance import (
    acknowledge,
    acknowledge_managed_policy,
    custom_resource_handler,
    own_logs_only,
)
from house.defaults import log_group
from house.names import CLOUDFRONT_OAC_NAME_MAX, physical_name

US_EAST_1 = "us-east-1"
# The viewer TLS floor of every distribution with a certificate of yours: TLS 1.2 with forward-
# secret ciphers only. (Without one CloudFront serves *.cloudfront.net and accepts TLSv1
# whatever the policy says: the blueprints refuse that in prod unless told by name.)
VIEWER_SECURITY_POLICY = cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021

# AWS managed rule groups in the default web ACL. They carry no fee beyond WAF's own (per web
# ACL, per rule and per request: the idle-cost tables in the docs price each web ACL).
_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


class CloudFrontEdge(RegionCompanion):
    """Where the us-east-1-only parts of `stack`'s distributions are created: a
    `RegionCompanion` in us-east-1, `<StackId>Edge`.

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
        super().__init__(
            stack,
            region=US_EAST_1,
            suffix="Edge",
            description=f"The {US_EAST_1} parts of {stack.stack_name}'s CloudFront "
            "distribution: WAF web ACL, viewer certificate "
            "(aws-architecture-blueprints)",
            companion_name=companion_name,
            region_setting=region_setting,
        )

    def scope_for(self, construct: Construct, what: str) -> Construct:
        """The scope to create `what` (e.g. "A CLOUDFRONT web ACL") in for `construct`."""
        if cdk.Token.is_unresolved(self.stack.region):
            raise ValueError(
                f"{what} for CloudFront must be created in {US_EAST_1}: in stack "
                f"{self.stack.node.path} when that is its region, else in a {US_EAST_1} companion "
                f"stack, and the stack's region is not known at synth: set {self._region_setting} "
                "(or synthesize with a CLI profile that has a region)"
            )
        return super().scope_for(construct, what)


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


def hosted_zone(
    scope: Construct, id: str, *, hosted_zone_id: str, hosted_zone_name: str
) -> route53.IHostedZone:
    """A Route 53 hosted zone of yours, by id and name (no lookup: the synth needs no account;
    `make preflight` checks that it exists and is the one the internet asks)."""
    return route53.HostedZone.from_hosted_zone_attributes(
        scope, id, hosted_zone_id=hosted_zone_id, zone_name=hosted_zone_name.rstrip(".")
    )


def viewer_certificate(
    scope: Construct,
    id: str,
    *,
    domain_names: list[str],
    certificate_arn: str | None,
    edge: CloudFrontEdge | None = None,
    hosted_zone_id: str | None = None,
    hosted_zone_name: str | None = None,
) -> acm.ICertificate:
    """The us-east-1 certificate for a distribution's custom domain names.

    With `certificate_arn` it is imported into `scope` (any region may deploy the distribution
    then); without, a DNS-validated certificate is created in `edge.scope_for(scope)` (or in
    `scope`, then in us-east-1). With `hosted_zone_id` (and its `hosted_zone_name`)
    CloudFormation writes the validation records into that zone itself; without, the validation
    CNAME must be added to your DNS by hand (the ACM console shows it while the deploy waits).
    """
    if not domain_names:
        raise ValueError("a custom domain needs at least one domain name")
    if certificate_arn:
        require_cloudfront_certificate_arn(certificate_arn)
        return acm.Certificate.from_certificate_arn(scope, id, certificate_arn)
    if edge is not None:
        scope = edge.scope_for(scope, "An ACM certificate")
    require_us_east_1(scope, "An ACM certificate")
    return domain_certificate(
        scope,
        id,
        domain_names=domain_names,
        hosted_zone_id=hosted_zone_id,
        hosted_zone_name=hosted_zone_name,
    )


def domain_certificate(
    scope: Construct,
    id: str,
    *,
    domain_names: Sequence[str],
    hosted_zone_id: str | None,
    hosted_zone_name: str | None,
) -> acm.Certificate:
    """A DNS-validated ACM certificate for `domain_names` in `scope`'s region (us-east-1 for
    CloudFront, the load balancer's region for an ALB), validated in the hosted zone when one
    is given. The zone is imported next to the certificate, so a us-east-1 companion stack
    needs no reference back to the stack that asked for it."""
    if not domain_names:
        raise ValueError("a certificate needs at least one domain name")
    if bool(hosted_zone_id) != bool(hosted_zone_name):
        raise ValueError("give hosted_zone_id and hosted_zone_name together (or neither)")
    zone = (
        hosted_zone(
            scope, f"{id}Zone", hosted_zone_id=hosted_zone_id, hosted_zone_name=hosted_zone_name
        )
        if hosted_zone_id and hosted_zone_name
        else None
    )
    return acm.Certificate(
        scope,
        id,
        domain_name=domain_names[0],
        subject_alternative_names=list(domain_names[1:]) or None,
        validation=acm.CertificateValidation.from_dns(zone),
    )


def cloudfront_alias_records(
    scope: Construct,
    *,
    distribution: cloudfront.IDistribution,
    names: Sequence[str],
    zone: route53.IHostedZone,
) -> list[route53.RecordSet]:
    """An alias A and AAAA record in `zone` for every name, pointing at `distribution`
    (CloudFront answers both; alias queries to CloudFront cost nothing in Route 53)."""
    target = route53.RecordTarget.from_alias(route53_targets.CloudFrontTarget(distribution))
    records: list[route53.RecordSet] = []
    for index, name in enumerate(names):
        records.append(
            route53.ARecord(scope, f"Alias{index}", zone=zone, record_name=name, target=target)
        )
        records.append(
            route53.AaaaRecord(
                scope, f"AliasIpv6{index}", zone=zone, record_name=name, target=target
            )
        )
    return records


# The AWS-managed prefix list of CloudFront's origin-facing servers: what a CloudFront VPC origin
# connects from, so what an internal origin's security group admits (a rule on the VPC's CIDR
# does not). Its id differs per region.
CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"


def cloudfront_origin_facing_prefix_list(
    scope: Construct, id: str, *, log_retention_days: int, removal_policy: cdk.RemovalPolicy
) -> str:
    """The id of the region's CLOUDFRONT_ORIGIN_FACING prefix list, read at deploy time.

    Each region has its own id and a synth needs no account, so a custom resource asks EC2
    (`DescribeManagedPrefixLists`, read-only) on every deploy; CDK's one shared function per
    stack answers it. Returns a token for the id.
    """
    call = cr.AwsSdkCall(
        service="EC2",
        action="describeManagedPrefixLists",
        parameters={
            "Filters": [{"Name": "prefix-list-name", "Values": [CLOUDFRONT_ORIGIN_FACING]}]
        },
        physical_resource_id=cr.PhysicalResourceId.of(CLOUDFRONT_ORIGIN_FACING),
        output_paths=["PrefixLists.0.PrefixListId"],
    )
    lookup = cr.AwsCustomResource(
        scope,
        id,
        on_update=call,  # also the create call
        policy=cr.AwsCustomResourcePolicy.from_statements(
            [iam.PolicyStatement(actions=["ec2:DescribeManagedPrefixLists"], resources=["*"])]
        ),
        install_latest_aws_sdk=False,
        memory_size=256,
        log_group=log_group(
            scope,
            f"{id}Logs",
            retention_days=log_retention_days,
            removal_policy=removal_policy,
        ),
    )
    acknowledge(
        lookup,
        "AwsSolutions-IAM5[Resource::*]",
        "ec2:DescribeManagedPrefixLists has no resource-level permissions; this read-only call "
        "finds the id of CloudFront's origin-facing prefix list, which the stack cannot know.",
    )
    handler = custom_resource_handler(lookup)
    if not own_logs_only(handler, handler.role, lookup):
        acknowledge_managed_policy(
            handler,
            "service-role/AWSLambdaBasicExecutionRole",
            "CDK's AwsCustomResource function (the prefix-list lookup) has no log group of its "
            "own, so it keeps the AWS managed basic execution policy aws-cdk-lib attaches: "
            "create and write any log group of the account (Resource '*').",
        )
    for rule, reason in (
        (
            "Serverless-LambdaDLQ",
            "is a CloudFormation custom-resource handler: a failure fails the deploy and "
            "CloudFormation reports it",
        ),
        (
            "Serverless-LambdaTracing",
            "runs once per deploy as a custom-resource handler making one EC2 read; its result "
            "is in the CloudFormation events, nothing to trace",
        ),
    ):
        acknowledge(handler, rule, f"CDK's AwsCustomResource function {reason}.")
    return lookup.get_response_field("PrefixLists.0.PrefixListId")


def origin_access_control(
    scope: Construct, id: str, *, description: str
) -> cloudfront.S3OriginAccessControl:
    """An origin access control for private S3 origins: CloudFront signs every request
    (SigV4, always), so a bucket policy can admit CloudFront alone; its name carries the stack's
    (names of origin access controls are unique per account)."""
    return cloudfront.S3OriginAccessControl(
        scope,
        id,
        signing=cloudfront.Signing.SIGV4_ALWAYS,
        origin_access_control_name=physical_name(scope, id, max_length=CLOUDFRONT_OAC_NAME_MAX),
        description=description,
    )
