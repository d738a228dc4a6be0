"""StaticSite: a private S3 bucket served only through CloudFront, secure headers on every answer.

    viewer --HTTPS--> CloudFront (optional WAF web ACL, optional custom domain + ACM cert, both
                        |  in us-east-1: this stack there, else its companion; see house/edge.py)
                        |  viewer request: CloudFront Function (single-page-app routing)
                        |  response: security headers policy (HSTS, CSP, nosniff, frame, referrer)
                        |-- default --OAC (SigV4)--> private site bucket (encrypted, versioned;
                        |                           prod: the stack's customer-managed key)
                        |   optional failover: an origin group whose second member is the
                        |   bucket's replica in another region (S3 replication), asked when
                        |   the first answers 500/502/503/504 or cannot be reached
                        |-- add_bucket_prefix(): /<prefix>* of another private bucket, same OAC
                        '-- add_dynamic_path():  /api/* etc. to any origin (e.g. API Gateway)
                      access logs --> the stack's one access-log bucket (given, never created)

Reusable on its own: give it a folder of files (deployed with the stack, cache invalidated on
every deploy) or none (you upload), the access-log bucket, and optionally a domain/WAF.

Routing and errors, decided for a single-page app behind which an API may also live:
- The CloudFront Function rewrites every path *without a file extension* (`/post/hello`,
  `/about/`) to `/index.html`, so deep links load the app with a 200. Paths with an extension
  are files and go to S3 unchanged.
- The bucket grants CloudFront GetObject only (no ListBucket), so S3 answers a missing file
  with 403; the distribution maps exactly that 403 to `/404.html` with status 404.
- Nothing maps 404 -> index.html with a 200 (the common recipe): custom error responses apply
  to *every* origin, and that recipe would turn an API's JSON 404 into the site's HTML page.

Origin failover (`failover`, a `house.companion.RegionCompanion` in another region): the
site bucket replicates every object version and delete marker to a replica bucket in the
companion stack `<StackId>Failover`, and the default behaviour's target is an origin group
(site bucket first, replica second). CloudFront asks the replica when the site bucket answers
FAILOVER_STATUS_CODES or cannot be reached (connection or response timeout). Not on 403/404:
those are S3's answer for a missing file, which the replica would only repeat (at a second
request's latency and price) or, while replication lags behind a deploy that removed the file,
contradict. Origin groups serve only GET/HEAD/OPTIONS, so `add_dynamic_path` (every method)
never gets one, and `add_bucket_prefix` paths read their own bucket without failover.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
import constructs
import jsii
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from house.companion import RegionCompanion
from house.compliance import (
    acknowledge,
    acknowledge_bucket_deployment,
    acknowledge_wildcard_resources,
)
from house.defaults import (
    access_log_bucket,
    admit_cloudfront_to_origin_key,
    log_group,
    origin_key,
    secure_bucket,
    uses_aws_managed_key,
)
from house.edge import (
    VIEWER_SECURITY_POLICY,
    CloudFrontEdge,
    cloudfront_alias_records,
    cloudfront_web_acl,
    hosted_zone,
    origin_access_control,
    require_cloudfront_web_acl_arn,
    viewer_certificate,
)
from house.names import (
    CLOUDFRONT_FUNCTION_NAME_MAX,
    CLOUDFRONT_POLICY_NAME_MAX,
    physical_name,
)

# Everything from this origin only; no inline script or style, no plugins, no framing, forms
# post back here only. A site that loads fonts/analytics from elsewhere widens this on purpose.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'; upgrade-insecure-requests"
)
HSTS_MAX_AGE = cdk.Duration.days(730)
# What makes CloudFront ask the replica instead (besides no connection or answer in time): the
# answers of a bucket or region that is failing, not S3's 403 for a missing file.
FAILOVER_STATUS_CODES = (500, 502, 503, 504)
REPLICATION_RULE_ID = "failover-replica"

# No camera, microphone, location or payment APIs for the page or anything it embeds.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"

# CloudFront Functions runtime 2.0 (ECMAScript 5.1 plus a few ES6 features). Viewer request.
SPA_ROUTER_CODE = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var lastSegment = uri.substring(uri.lastIndexOf('/') + 1);
  // No file extension in the last path segment: a route of the single-page app, not a file.
  if (lastSegment.indexOf('.') === -1 && uri !== '%(index)s') {
    request.uri = '%(index)s';
  }
  return request;
}
"""


@dataclasses.dataclass(frozen=True)
class CustomDomain:
    """Serve the site at your own names, over TLS 1.2+ only (`house.edge.VIEWER_SECURITY_POLICY`).
    The certificate must be in us-east-1 (CloudFront): give its ARN, or leave it None to have
    one created (DNS-validated) in us-east-1 (see `StaticSite(edge=...)`). With a hosted zone
    (id and name), the created certificate is validated in it and alias A/AAAA records are
    created for every name; without, you add the validation and alias records to your DNS."""

    names: tuple[str, ...]
    certificate_arn: str | None = None
    hosted_zone_id: str | None = None
    hosted_zone_name: str | None = None


@jsii.implements(constructs.IValidation)
class _AcknowledgeReplicationWildcards:
    """Acknowledges the replication role's `<bucket ARN>/*` resources when the tree is
    validated: after CDK has turned the replica's ARN into a cross-region reference (which
    changes how cdk-nag names the resource) and before the template and its metadata are
    written. Finds nothing to complain about itself."""

    def __init__(self, role: iam.Role) -> None:
        self._role = role

    def validate(self) -> list[str]:
        acknowledge_wildcard_resources(
            self._role,
            {
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
                "s3:ReplicateObject",
                "s3:ReplicateDelete",
                "s3:ReplicateTags",
            },
            "S3 replication reads each object version of the site bucket and writes it, and "
            "each delete marker, to the same key of the failover replica: the objects of "
            "exactly these two buckets (<bucket ARN>/*).",
        )
        return []


class StaticSite(Construct):
    """A private S3 bucket served only through CloudFront, with security headers on every answer.

    Args:
        `access_logs`: the stack's access-log bucket: the site bucket's S3 access logs (prefix
            s3/<id>/) and CloudFront's standard logs (prefix cloudfront/<id>/). Required.
        `removal_policy`: the site bucket's and the content deployment's log group's. Required.
            Where it keeps data (prod), the bucket is SSE-KMS with the stack's customer-managed
            key (`house.defaults.origin_key`) whose policy admits CloudFront; else SSE-S3.
        `log_retention_days`: retention of the content deployment's log group. Required.
        `content`: a folder of files deployed to the bucket with every stack deploy, which then
            invalidates the distribution's whole cache. Default: None, no deployment (you upload
            the files); `deployment` is None.
        `content_security_policy`: the Content-Security-Policy header of every answer; one line
            with a default-src (ValueError otherwise). Default: DEFAULT_CSP, everything from the
            site's own origin only, no framing, upgrade-insecure-requests.
        `index_document`: the default root object, and what the router serves for every path
            without a file extension. Default: "index.html".
        `not_found_document`: served with status 404 when S3 answers 403 (a missing file).
            Default: "404.html".
        `price_class`: the edge locations that serve the site. Default: PRICE_CLASS_100, the
            lowest-priced class (edge locations in the USA, Canada, Europe and Israel).
        `domain`: your own names on the distribution (CustomDomain): a certificate in us-east-1
            (given, or created DNS-validated), TLSv1.2_2021 at the least, and alias A/AAAA records
            when a hosted zone is given; `url` uses the first name. Default: None, the
            distribution's *.cloudfront.net name and no certificate (`certificate` is None).
        `waf`: create a web ACL rate-limited per IP at `waf_rate_limit`; not with `web_acl_arn`
            (ValueError). Default: False.
        `waf_rate_limit`: requests per IP per 5 minutes that the created web ACL allows; used only
            with `waf`. Default: 2000.
        `web_acl_arn`: an existing CLOUDFRONT-scope web ACL to use instead (its ARN is checked).
            Default: None; with `waf` False too, no WAF and `web_acl` is None.
        `comment`: the distribution's comment. Default: None, no comment.
        `edge`: where a created web ACL and certificate go (us-east-1: this stack, or its
            companion). Default: None, this construct's stack, which must then be in us-east-1.
        `error_pages`: S3's 403 for a missing file becomes `not_found_document` with a 404. The
            mapping applies to every origin of the distribution, so an API behind the site that
            answers 403 itself (a caller who may not write) sets it False and keeps its JSON
            body; a missing site file then answers S3's own 403. Default: True.
        `extra_content`: more files deployed with `content`, e.g. a configuration file with
            deploy-time values (`s3deploy.Source.json_data("config.json", {...})`). Default: (),
            none.
        `failover`: a companion in another region (`StageSettings.failover_companion`) that
            gets a replica of the site bucket (same encryption rule as the bucket: the
            companion's own origin key where the stage keeps data; versioned, access-logged in
            the companion's log bucket) which the site bucket replicates to, and the default
            behaviour fails over to (module docstring). A companion in this stack's own region
            is a ValueError (the replica would fail with the bucket). Default: None, one origin.

    Attributes: bucket, distribution, origin_access_control, headers_policy, router, web_acl (None
    without `waf`), certificate (None without `domain`), deployment (None without `content`),
    url, replica and replication_role (None without `failover`).
    """

    web_acl: wafv2.CfnWebACL | None
    certificate: acm.ICertificate | None
    deployment: s3deploy.BucketDeployment | None
    replica: s3.Bucket | None
    replication_role: iam.Role | None

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        access_logs: s3.IBucket,
        removal_policy: cdk.RemovalPolicy,
        log_retention_days: int,
        content: str | Path | None = None,
        content_security_policy: str = DEFAULT_CSP,
        index_document: str = "index.html",
        not_found_document: str = "404.html",
        price_class: cloudfront.PriceClass = cloudfront.PriceClass.PRICE_CLASS_100,
        domain: CustomDomain | None = None,
        waf: bool = False,
        waf_rate_limit: int = 2000,
        web_acl_arn: str | None = None,
        comment: str | None = None,
        edge: CloudFrontEdge | None = None,
        error_pages: bool = True,
        extra_content: Sequence[s3deploy.ISource] = (),
        failover: RegionCompanion | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.replica = None
        self.replication_role = None
        replication: dict = {}
        if failover is not None:
            replication = self._replica(failover, removal_policy)
        self.bucket = secure_bucket(
            self,
            "Bucket",
            removal_policy=removal_policy,
            access_logs=access_logs,
            access_logs_prefix=f"s3/{id}/",
            encryption_key=origin_key(self, removal_policy=removal_policy),
            cloudfront_origin=True,
            **replication,
        )
        self.origin_access_control = origin_access_control(
            self,
            "OriginAccess",
            description="CloudFront signs every request to the site's private buckets",
        )
        self.headers_policy = self._headers_policy(content_security_policy)
        self.router = cloudfront.Function(
            self,
            "Router",
            function_name=physical_name(self, "Router", max_length=CLOUDFRONT_FUNCTION_NAME_MAX),
            comment="Single-page-app routing: extensionless paths are served /" + index_document,
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            code=cloudfront.FunctionCode.from_inline(
                SPA_ROUTER_CODE % {"index": "/" + index_document}
            ),
        )

        self.web_acl = None
        if waf and web_acl_arn is not None:
            raise ValueError(f"StaticSite {id!r}: give waf or web_acl_arn, not both")
        if waf:
            self.web_acl = cloudfront_web_acl(
                self, "WebAcl", rate_limit_per_5_minutes=waf_rate_limit, edge=edge
            )
            web_acl_arn = self.web_acl.attr_arn
        elif web_acl_arn is not None:
            require_cloudfront_web_acl_arn(web_acl_arn)

        self.certificate = None
        if domain is not None:
            self.certificate = viewer_certificate(
                self,
                "Certificate",
                domain_names=list(domain.names),
                certificate_arn=domain.certificate_arn,
                edge=edge,
                hosted_zone_id=domain.hosted_zone_id,
                hosted_zone_name=(domain.hosted_zone_name or domain.names[0])
                if domain.hosted_zone_id
                else None,
            )

        origin: cloudfront.IOrigin = origins.S3BucketOrigin.with_origin_access_control(
            self.bucket, origin_access_control=self.origin_access_control
        )
        if self.replica is not None:
            origin = origins.OriginGroup(
                primary_origin=origin,
                # Not with_origin_access_control: that would write this distribution's ARN into
                # the replica's policy, in the companion that deploys first (a cycle). The
                # replica's own policy admits CloudFront instead (_replica).
                fallback_origin=origins.S3BucketOrigin.with_bucket_defaults(
                    self.replica,
                    origin_access_control_id=self.origin_access_control.origin_access_control_id,
                ),
                fallback_status_codes=list(FAILOVER_STATUS_CODES),
            )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=comment,
            default_root_object=index_document,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers_policy,
                compress=True,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.router, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            error_responses=[
                cloudfront.ErrorResponse(
                    http_status=403,
                    response_http_status=404,
                    response_page_path="/" + not_found_document,
                    ttl=cdk.Duration.seconds(60),
                )
            ]
            if error_pages
            else None,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            # Only a certificate of yours can raise the floor: with *.cloudfront.net CloudFront
            # accepts TLSv1 whatever the policy says (the CFR4 acknowledgment below).
            minimum_protocol_version=VIEWER_SECURITY_POLICY if domain else None,
            price_class=price_class,
            enable_logging=True,
            log_bucket=access_logs,
            log_file_prefix=f"cloudfront/{id}/",
            domain_names=list(domain.names) if domain else None,
            certificate=self.certificate,
            web_acl_id=web_acl_arn,
        )
        if self.bucket.encryption_key is not None:
            # with_origin_access_control put CloudFront's decrypt statement in the key policy.
            self._acknowledge_key_policy(self.bucket.encryption_key)
        self.url = (
            ("https://" + domain.names[0])
            if domain
            else cdk.Fn.join("", ["https://", self.distribution.distribution_domain_name])
        )
        self._acknowledge(domain, web_acl_arn)

        if domain is not None and domain.hosted_zone_id:
            zone = hosted_zone(
                self,
                "Zone",
                hosted_zone_id=domain.hosted_zone_id,
                hosted_zone_name=domain.hosted_zone_name or domain.names[0],
            )
            cloudfront_alias_records(
                self, distribution=self.distribution, names=domain.names, zone=zone
            )

        self.deployment = None
        if content is not None:
            self.deployment = s3deploy.BucketDeployment(
                self,
                "Content",
                sources=[s3deploy.Source.asset(str(content)), *extra_content],
                destination_bucket=self.bucket,
                distribution=self.distribution,
                distribution_paths=["/*"],
                memory_limit=256,
                log_group=log_group(
                    self,
                    "ContentDeploymentLogs",
                    retention_days=log_retention_days,
                    removal_policy=removal_policy,
                ),
            )
            self._acknowledge_content_upload()
        if self.replication_role is not None:
            self._grant_replication()
            if self.deployment is not None:
                # S3 replicates an object once, when it is written: the upload waits for the
                # role's policy, or its first objects would stay FAILED, never in the replica.
                self.deployment.node.add_dependency(self.replication_role)

    # -- more paths on the same distribution ----------------------------------------------------

    def add_bucket_prefix(self, bucket: s3.IBucket, prefix: str) -> None:
        """Serve `s3://bucket/<prefix>*` at `/<prefix>*`, read-only, this prefix only.

        The bucket's policy lets this distribution (and nothing else) GetObject under `prefix`;
        the rest of the bucket (e.g. original uploads) stays unreachable from the internet.
        """
        if not prefix or not prefix.endswith("/") or prefix.startswith("/") or "*" in prefix:
            raise ValueError(f"prefix {prefix!r} must be a folder like 'thumbnails/'")
        if uses_aws_managed_key(bucket):
            raise ValueError(
                f"bucket {bucket.node.path} is encrypted with the AWS managed aws/s3 key, which "
                "CloudFront cannot decrypt: create it with secure_bucket(..., "
                "cloudfront_origin=True)"
            )
        self.distribution.add_behavior(
            f"/{prefix}*",
            origins.S3BucketOrigin.with_bucket_defaults(
                bucket, origin_access_control_id=self.origin_access_control.origin_access_control_id
            ),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
            response_headers_policy=self.headers_policy,
            compress=True,
        )
        if bucket.encryption_key is not None:
            self._admit_to_key(bucket.encryption_key)
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"CloudFrontReads{prefix.strip('/').title().replace('/', '')}",
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{prefix}*")],
                conditions={"StringEquals": {"AWS:SourceArn": self.distribution.distribution_arn}},
            )
        )

    def add_dynamic_path(
        self,
        path_pattern: str,
        origin: cloudfront.IOrigin,
        *,
        cache_policy: cloudfront.ICachePolicy,
        origin_request_policy: cloudfront.IOriginRequestPolicy | None = None,
    ) -> None:
        """Route `path_pattern` (e.g. `/api/*`) to `origin` with every method allowed; only
        GET/HEAD answers are cached (per `cache_policy`), with the same security headers."""
        self.distribution.add_behavior(
            path_pattern,
            origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
            cache_policy=cache_policy,
            origin_request_policy=origin_request_policy,
            response_headers_policy=self.headers_policy,
            compress=True,
        )

    # -- internals -------------------------------------------------------------------------------

    def _replica(self, failover: RegionCompanion, removal_policy: cdk.RemovalPolicy) -> dict:
        """The replica bucket in `failover`'s companion and the replication role; returns what
        the site bucket is created with to replicate to it."""
        if not failover.separate:
            raise ValueError(
                f"StaticSite {self.node.id!r}: the failover region {failover.region} is the "
                "stack's own region; a replica there would fail with the site bucket"
            )
        scope = failover.scope_for(self, "The site bucket's failover replica")
        companion = cdk.Stack.of(scope)
        logs = companion.node.try_find_child("AccessLogs") or access_log_bucket(
            companion, "AccessLogs", removal_policy=removal_policy
        )
        key = origin_key(scope, removal_policy=removal_policy)
        self.replica = secure_bucket(
            scope,
            "Replica",
            removal_policy=removal_policy,
            access_logs=logs,  # type: ignore[arg-type]
            access_logs_prefix=f"s3/{self.node.id}Replica/",
            encryption_key=key,
            cloudfront_origin=True,
        )
        # Every distribution of the account, not this one: naming it would be a cycle (this
        # companion deploys before the distribution's stack). What is served from the replica
        # is only what the site bucket holds, which this distribution serves anyway.
        every_distribution = (
            f"arn:{cdk.Aws.PARTITION}:cloudfront::{cdk.Aws.ACCOUNT_ID}:distribution/*"
        )
        self.replica.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudFrontReadsThroughOac",
                principals=[iam.ServicePrincipal("cloudfront.amazonaws.com")],
                actions=["s3:GetObject"],
                resources=[self.replica.arn_for_objects("*")],
                conditions={
                    "ArnLike": {"AWS:SourceArn": every_distribution},
                    "StringEquals": {"AWS:SourceAccount": cdk.Aws.ACCOUNT_ID},
                },
            )
        )
        if key is not None:
            self._admit_to_key(key)
        self.replication_role = iam.Role(
            self,
            "ReplicationRole",
            assumed_by=iam.ServicePrincipal("s3.amazonaws.com"),
            description="S3 replicates the site bucket to its failover replica",
        )
        return dict(
            replication_role=self.replication_role,
            replication_rules=[
                s3.ReplicationRule(
                    destination=self.replica,
                    id=REPLICATION_RULE_ID,
                    # One rule; S3 refuses a rule with a Filter (needed for delete markers)
                    # without a priority.
                    priority=1,
                    # The content upload prunes removed files: their delete markers must
                    # reach the replica too, or it would go on serving them.
                    delete_marker_replication=True,
                    sse_kms_encrypted_objects=True if key is not None else None,
                    kms_key=key,
                )
            ],
        )

    def _grant_replication(self) -> None:
        """The replication role's policy: what S3 needs to replicate this bucket to the replica
        (S3 user guide, "Setting up permissions for live replication" and "Replicating
        encrypted objects"), on those two buckets and keys only."""
        role, source, replica = self.replication_role, self.bucket, self.replica
        assert role is not None and replica is not None
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetReplicationConfiguration", "s3:ListBucket"],
                resources=[source.bucket_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                resources=[source.arn_for_objects("*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                resources=[replica.arn_for_objects("*")],
            )
        )
        # Through S3 only, for these buckets only. Both buckets use an S3 Bucket Key, so the
        # encryption context S3 sends is the bucket's ARN (an object's before bucket keys).
        for actions, key, bucket in (
            (["kms:Decrypt"], source.encryption_key, source),
            # GenerateDataKey: the replica's bucket key is made under the role.
            (["kms:Encrypt", "kms:GenerateDataKey"], replica.encryption_key, replica),
        ):
            if key is None:
                continue
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=actions,
                    resources=[key.key_arn],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": f"s3.{cdk.Stack.of(bucket).region}."
                            f"{cdk.Aws.URL_SUFFIX}"
                        },
                        "StringLike": {
                            "kms:EncryptionContext:aws:s3:arn": [
                                bucket.bucket_arn,
                                bucket.arn_for_objects("*"),
                            ]
                        },
                    },
                )
            )
        # The replica's ARN reaches this stack (as Fn::GetStackOutput) only once the app is
        # being synthesized: the acknowledgment names the resources as they are then.
        role.node.add_validation(_AcknowledgeReplicationWildcards(role))

    def _admit_to_key(self, key: kms.IKey) -> None:
        """CloudFront decrypts what it reads through origin access control only where the KEY
        policy lets it (IAM cannot grant a service principal). The statement is the one CDK's
        `S3BucketOrigin.with_origin_access_control` writes for the default origin, so a key
        shared by both origins holds it once."""
        admit_cloudfront_to_origin_key(key)
        self._acknowledge_key_policy(key)

    def _acknowledge_key_policy(self, key: kms.IKey) -> None:
        # Why every distribution of the account, not this one: the key policy naming the
        # distribution would be a cycle (key -> distribution -> bucket's domain -> bucket ->
        # key ARN in its default encryption), and CloudFormation has no separate key-policy
        # resource to add afterwards. What CloudFront may read stays this distribution's: S3
        # asks the bucket policy first, which admits only this distribution's ARN, and only
        # this stack's buckets are encrypted with this key.
        cdk.Annotations.of(key.node.scope).acknowledge_warning(
            "@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac",
            "The key admits CloudFront for distributions of this account only; each bucket's "
            "policy admits only this distribution (a key policy naming it would be a cycle).",
        )

    def _acknowledge_content_upload(self) -> None:
        """CDK's site-upload function (BucketDeployment): the house acknowledgments of its
        findings, and its CloudFront invalidation narrowed to this distribution."""
        acknowledge_bucket_deployment(
            self.deployment,
            asset="the site's files",
            destination="the site bucket",
            distribution=self.distribution,
        )

    def _headers_policy(self, csp: str) -> cloudfront.ResponseHeadersPolicy:
        if not csp.strip() or "\n" in csp or "default-src" not in csp:
            raise ValueError(f"content security policy {csp!r} must be one line with a default-src")
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=physical_name(
                self, "SecurityHeaders", max_length=CLOUDFRONT_POLICY_NAME_MAX
            ),
            comment="HSTS, CSP, nosniff, frame and referrer policy on every answer",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, override=True
                ),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=csp, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=(
                        cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN
                    ),
                    override=True,
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy",
                        override=True,
                        value=PERMISSIONS_POLICY,
                    ),
                    cloudfront.ResponseCustomHeader(
                        header="Cross-Origin-Opener-Policy", value="same-origin", override=True
                    ),
                ]
            ),
        )

    def _acknowledge(self, domain: CustomDomain | None, web_acl_arn: str | None) -> None:
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "A public site is meant to be reached from every country; geo restriction would "
            "only block its users (add it in the distribution if your content has legal limits).",
        )
        if web_acl_arn is None:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR2",
                "WAF is a setting here (waf) and off by default: a web ACL bills per month and "
                "per rule; the site is static files and an API with its own throttling.",
            )
        if domain is None:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR4",
                "This distribution has no custom domain, so viewers get the *.cloudfront.net "
                "certificate, with which CloudFront negotiates TLSv1 and TLSv1.1 too whatever "
                "the security policy says; a CustomDomain sets TLSv1.2_2021. The blueprints "
                "build this only in dev, or in prod when its allow_tls_below_1_2 is true.",
            )
