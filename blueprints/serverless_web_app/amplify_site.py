"""AmplifySite: the web app's page on Amplify Hosting (what the AWS notes' demo uses), two ways.

    manual (no repository, the default):
      site folder + config.json ──BucketDeployment──▶ staging bucket s3://.../site/ (private)
                                                         │ bucket policy: amplify.amazonaws.com,
                                                         │ this app's branch only
      Release (custom resource: amplify:StartDeployment, sourceUrlType BUCKET_PREFIX) ──▶
      Amplify app ── branch ── https://<branch>.<app id>.amplifyapp.com

    git (amplify_repository + amplify_token_secret):
      Amplify app (repository, token = {{resolve:secretsmanager:...}}) ── branch (auto build)
        build spec: writes config.json from the branch's SITE_CONFIG variable (the stack's own
        values), publishes the site folder; Release (custom resource: amplify:StartJob) builds
        the branch once at deploy, every push after that

    both: /api/<*> ──200 rewrite (reverse proxy)──▶ the API's execute-api URL (same origin for
          the page); every other extensionless path ──▶ /index.html; security headers on every
          answer (the same policy as patterns/web/static_site.py: CSP, HSTS, nosniff, ...)

The token, decided: only a Secrets Manager dynamic reference goes into the template;
CloudFormation resolves it when it calls Amplify, and Amplify does not store it (it uses it to
install its webhook and deploy key). `amplify_token_secret` refuses a value that looks like a
token itself.

Deploy-time facts encoded here: Amplify reads a manual deployment's files from S3 with its
service principal, so the staging bucket's policy must allow `amplify.amazonaws.com` for this
app's branch (aws:SourceArn, URL-encoded as Amplify sends it); the staging bucket uses S3-managed
keys in every stage: Amplify cannot use the account's aws/s3 KMS key, and Amplify's guide to
deploying from S3 documents a bucket policy only, no key-policy statement that would let it
read with a customer-managed key (docs/compliance.md, CT.S3.PR.10); a manual
deployment is a StartDeployment call, which CloudFormation does not model, hence the custom
resource.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_amplify as amplify
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import custom_resources as cr
from constructs import Construct

from house.compliance import (
    acknowledge,
    acknowledge_bucket_deployment,
    acknowledge_cdk_handler,
    acknowledge_managed_policy,
    custom_resource_handler,
    finding_name,
    own_logs_only,
)
from house.defaults import log_group, secure_bucket
from patterns.web.static_site import HSTS_MAX_AGE, PERMISSIONS_POLICY

STAGING_PREFIX = "site/"
CONFIG_VARIABLE = "SITE_CONFIG"
# Amplify's build image: pinned, so a build does not change under the app when Amplify moves its
# default (the variable is how Amplify takes a build image).
BUILD_IMAGE = "amplify:al2023"
# Files the single-page app serves as themselves; any other extensionless path is the app.
_STATIC = "css|js|json|png|svg|ico|txt|html|webmanifest|woff2?|map"


class AmplifySite(Construct):
    """Attributes: app, branch, url, staging (bucket, manual mode) or None, deployment
    (BucketDeployment, manual mode) or None, release (the custom resource) after `publish`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        app_name: str,
        branch: str,
        content: Path,
        content_security_policy: str,
        api_url: str | None,
        repository: str | None = None,
        token_secret: str | None = None,
        site_folder: str = "site",
    ) -> None:
        """`api_url`: where `/api/<*>` is proxied to (the API's execute-api URL of /api), None
        when the page calls the API cross-origin; `repository`/`token_secret`: build from Git
        (the secret's name, never a token), else the stack deploys `content` itself."""
        super().__init__(scope, id)
        if (repository is None) != (token_secret is None):
            raise ValueError(f"AmplifySite {id!r}: give repository and token_secret together")
        self.content = content
        self.branch_name = branch
        self.site_folder = site_folder
        stack = cdk.Stack.of(self)
        rules = []
        if api_url is not None:
            rules.append(
                amplify.CfnApp.CustomRuleProperty(
                    source="/api/<*>", target=f"{api_url}/<*>", status="200"
                )
            )
        rules.append(
            amplify.CfnApp.CustomRuleProperty(
                source=f"</^[^.]+$|\\.(?!({_STATIC})$)([^.]+$)/>",
                target="/index.html",
                status="200",
            )
        )
        token = None
        if token_secret is not None:
            # A dynamic reference: the template says where the token is, never what it is.
            token = cdk.SecretValue.secrets_manager(token_secret).unsafe_unwrap()
        github = repository is not None and repository.startswith("https://github.com/")
        self.app = amplify.CfnApp(
            self,
            "App",
            name=f"{app_name} ({stack.stack_name})",
            description=f"{app_name}: the page of {stack.stack_name}",
            platform="WEB",
            repository=repository,
            access_token=token if github else None,
            oauth_token=token if repository is not None and not github else None,
            custom_rules=rules,
            custom_headers=_custom_headers(content_security_policy),
            build_spec=_build_spec(site_folder) if repository else None,
            environment_variables=[
                amplify.CfnApp.EnvironmentVariableProperty(name="_CUSTOM_IMAGE", value=BUILD_IMAGE)
            ]
            if repository
            else None,
            enable_branch_auto_deletion=False,
        )
        self.repository = repository
        self.url = f"https://{branch.replace('/', '-')}.{self.app.attr_default_domain}"
        self.staging = self.deployment = self.release = self.domain = None
        self.branch = amplify.CfnBranch(
            self,
            "Branch",
            app_id=self.app.attr_app_id,
            branch_name=branch,
            stage="PRODUCTION",
            enable_auto_build=repository is not None,
            enable_pull_request_preview=False,
        )

    def add_domain(
        self, names: Sequence[str], *, zone_name: str, certificate_arn: str | None
    ) -> amplify.CfnDomain:
        """Serve the branch at `names` (each the zone's apex or a name below it): Amplify
        Hosting associates the zone `zone_name` with one prefix per name, issues a managed
        certificate (or uses `certificate_arn`, a us-east-1 ACM certificate) and, for a Route 53
        zone in this account, writes the validation and alias records itself. `url` becomes
        https://<first name>."""
        zone = zone_name.rstrip(".")
        prefixes = []
        for name in names:
            if name != zone and not name.endswith("." + zone):
                raise ValueError(f"AmplifySite: {name!r} is not in the zone {zone!r}")
            prefixes.append(name[: -len(zone)].rstrip("."))
        self.domain = amplify.CfnDomain(
            self,
            "Domain",
            app_id=self.app.attr_app_id,
            domain_name=zone,
            sub_domain_settings=[
                amplify.CfnDomain.SubDomainSettingProperty(
                    prefix=prefix, branch_name=self.branch_name
                )
                for prefix in prefixes
            ],
            enable_auto_sub_domain=False,
            certificate_settings=amplify.CfnDomain.CertificateSettingsProperty(
                certificate_type="CUSTOM", custom_certificate_arn=certificate_arn
            )
            if certificate_arn
            else amplify.CfnDomain.CertificateSettingsProperty(certificate_type="AMPLIFY_MANAGED"),
        )
        self.domain.add_dependency(self.branch)
        self.url = f"https://{names[0]}"
        return self.domain

    def publish(
        self,
        config: dict,
        *,
        access_logs: s3.IBucket,
        removal_policy: cdk.RemovalPolicy,
        log_retention_days: int,
    ) -> None:
        """Put the site online with `config` as its config.json (values may be tokens), and again
        whenever the site's files or those values change."""
        stack = cdk.Stack.of(self)
        config_json = stack.to_json_string(config)
        self._release_logs = log_group(
            self, "ReleaseLogs", retention_days=log_retention_days, removal_policy=removal_policy
        )
        if self.repository is not None:
            self.branch.environment_variables = [
                amplify.CfnBranch.EnvironmentVariableProperty(
                    name=CONFIG_VARIABLE, value=config_json
                )
            ]
            self._release(
                "startJob",
                {
                    "appId": self.app.attr_app_id,
                    "branchName": self.branch_name,
                    "jobType": "RELEASE",
                },
                version=config_json,
            )
            return
        self.staging = secure_bucket(
            self,
            "Staging",
            removal_policy=removal_policy,
            access_logs=access_logs,
            # Amplify, like CloudFront, cannot decrypt with the account's aws/s3 key.
            cloudfront_origin=True,
        )
        self._allow_amplify(self.staging)
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Content",
            sources=[
                s3deploy.Source.asset(str(self.content)),
                s3deploy.Source.json_data("config.json", config),
            ],
            destination_bucket=self.staging,
            destination_key_prefix=STAGING_PREFIX,
            memory_limit=256,
            log_group=log_group(
                self,
                "ContentDeploymentLogs",
                retention_days=log_retention_days,
                removal_policy=removal_policy,
            ),
        )
        acknowledge_bucket_deployment(
            self.deployment, asset="the site/ folder", destination="the Amplify staging bucket"
        )
        self._release(
            "startDeployment",
            {
                "appId": self.app.attr_app_id,
                "branchName": self.branch_name,
                "sourceUrl": f"s3://{self.staging.bucket_name}/{STAGING_PREFIX}",
                "sourceUrlType": "BUCKET_PREFIX",
            },
            version=cdk.Fn.join("|", [cdk.FileSystem.fingerprint(str(self.content)), config_json]),
        )
        self.release.node.add_dependency(self.deployment)

    # -- internals -------------------------------------------------------------------------------

    def _branch_arn(self) -> str:
        return cdk.Stack.of(self).format_arn(
            service="amplify",
            resource="apps",
            resource_name=f"{self.app.attr_app_id}/branches/{self.branch_name}",
        )

    def _allow_amplify(self, bucket: s3.Bucket) -> None:
        """Amplify reads a manual deployment from S3 as its service principal: this app's branch
        only (aws:SourceArn, which Amplify sends URL-encoded), this account only."""
        stack = cdk.Stack.of(self)
        encoded = cdk.Fn.join(
            "",
            [
                "arn%3A",
                stack.partition,
                "%3Aamplify%3A",
                stack.region,
                "%3A",
                stack.account,
                "%3Aapps%2F",
                self.app.attr_app_id,
                "%2Fbranches%2F",
                self.branch_name.replace("/", "%2F"),
            ],
        )
        conditions = {
            "StringEquals": {"aws:SourceAccount": stack.account, "aws:SourceArn": encoded}
        }
        amplify_service = iam.ServicePrincipal("amplify.amazonaws.com")
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AmplifyListsTheSite",
                principals=[amplify_service],
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions=conditions,
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AmplifyReadsTheSite",
                principals=[amplify_service],
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{STAGING_PREFIX}*")],
                conditions=conditions,
            )
        )

    def _release(self, action: str, parameters: dict, *, version: str) -> None:
        """Call Amplify's `action` when the stack is created, and again whenever `version`
        changes (it is the call's physical id, which CloudFormation compares on update)."""
        call = cr.AwsSdkCall(
            service="Amplify",
            action=action,
            parameters=parameters,
            physical_resource_id=cr.PhysicalResourceId.of(version),
            # Only the job id: the whole answer would be copied into the resource's data.
            output_paths=["jobSummary.jobId"],
        )
        branch_arn = self._branch_arn()
        self.release = cr.AwsCustomResource(
            self,
            "Release",
            on_create=call,
            on_update=call,
            install_latest_aws_sdk=False,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=[f"amplify:{action[0].upper()}{action[1:]}"],
                        resources=[branch_arn, f"{branch_arn}/*"],
                    )
                ]
            ),
            timeout=cdk.Duration.minutes(2),
            memory_size=256,
            log_group=self._release_logs,
        )
        self.release.node.add_dependency(self.branch)
        handler = custom_resource_handler(self.release)
        what = "CDK's AwsCustomResource function (the Amplify release)"
        if not own_logs_only(handler, handler.role, self.release):
            acknowledge_managed_policy(
                handler,
                "service-role/AWSLambdaBasicExecutionRole",
                f"{what} has no log group of its own, so it keeps the AWS managed basic "
                "execution policy aws-cdk-lib attaches: create and write any log group of the "
                "account (Resource '*').",
            )
        acknowledge_cdk_handler(handler, what)
        jobs = finding_name(cdk.Stack.of(self).resolve(f"{branch_arn}/*"))
        acknowledge(
            self.release,
            f"AwsSolutions-IAM5[Resource::{jobs}]",
            f"amplify:{action} on this app's one branch: the deployment or job it starts gets "
            "an id Amplify draws at run time (branches/<branch>/jobs/<id>).",
        )


def _custom_headers(content_security_policy: str) -> str:
    """Amplify's customHeaders (YAML): the static site's security headers on every answer, and
    config.json revalidated on every load (it changes with the stack, not with the files)."""
    security = {
        "Strict-Transport-Security": (
            f"max-age={int(HSTS_MAX_AGE.to_seconds())}; includeSubDomains"
        ),
        "Content-Security-Policy": content_security_policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    lines = ["customHeaders:", "  - pattern: '**'", "    headers:"]
    for key, value in security.items():
        quoted = value.replace("'", "''")  # YAML's single-quoted string: ' is written ''
        lines += [f"      - key: '{key}'", f"        value: '{quoted}'"]
    lines += [
        "  - pattern: 'config.json'",
        "    headers:",
        "      - key: 'Cache-Control'",
        "        value: 'no-cache'",
    ]
    return "\n".join(lines) + "\n"


def _build_spec(site_folder: str) -> str:
    """Amplify's build: no dependencies to install; config.json from the branch's SITE_CONFIG
    (the stack's values, set at deploy), then the site folder as it is."""
    return json.dumps(
        {
            "version": 1,
            "frontend": {
                "phases": {
                    "build": {
                        "commands": [
                            f'test -n "${CONFIG_VARIABLE}"',
                            f'printf "%s" "${CONFIG_VARIABLE}" > {site_folder}/config.json',
                        ]
                    }
                },
                "artifacts": {"baseDirectory": site_folder, "files": ["**/*"]},
            },
        },
        indent=2,
    )
