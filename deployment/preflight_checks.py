"""The preflight checks: each one asks the account (`Account`) for what the template needs
(`preflight_needs`) and yields one `CheckResult` per thing it looked at. deployment/preflight.py
documents what each check proves and what it cannot.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator

import botocore.exceptions
from botocore.exceptions import EndpointConnectionError

from deployment.assembly import StackArtifact
from deployment.preflight_account import Account, AwsCallFailed, AwsCallRefused
from deployment.preflight_needs import (
    QUOTAS,
    Quota,
    availability_zones,
    backup_copies,
    email_identities,
    export_names,
    launched_instance_types,
    literal,
    logging_api_stages,
    neptune_instances,
    quota_demand,
    resources,
    service_linked_roles,
)
from house.domains import PLACEHOLDER_HOSTED_ZONE_ID, reserved_domain

PASS, FAIL, NOTE = "PASS", "FAIL", "NOTE"
# Wide enough for the longest check name ("service-linked role"), so reports line up.
CHECK_WIDTH = 20

# house/account_baseline.py STACK_ID, not imported from there: that would load aws-cdk-lib
# (seconds of jsii start-up) into a tool that only reads JSON and calls AWS.
ACCOUNT_BASELINE = "AccountBaseline"
DEFAULT_BOOTSTRAP_QUALIFIER = "hnb659fds"

# Stack id -> the setting that builds its container images without local Docker.
NO_DOCKER_IMAGE_SETTINGS = {
    "FargateService": "-c fargate-service.image=codebuild (the image is built in AWS CodeBuild "
    "during the deploy)",
    "ContainerWebApp": "-c container-web-app.image=codebuild (the image is built in AWS "
    "CodeBuild during the deploy)",
}

NO_CREDENTIALS_FIX = (
    "set AWS_PROFILE=<profile> (after `aws configure sso` or `aws sso login`), "
    "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN); "
    "see docs/deploying.md"
)


@dataclasses.dataclass(frozen=True)
class CheckResult:
    status: str  # PASS, FAIL or NOTE
    check: str
    detail: str
    # The exact command (or setting) that fixes a FAIL, or what to do for a NOTE.
    fix: str | None = None

    def line(self, check_width: int = CHECK_WIDTH) -> str:
        text = f"{self.status:<4}  {self.check:<{check_width}}{self.detail}"
        return f"{text} -> {self.fix}" if self.fix else text


@dataclasses.dataclass(frozen=True)
class Preflight:
    stack: StackArtifact
    account: Account
    fix: bool = False
    # Stacks the same `cdk deploy` deploys before this one (its dependencies).
    deployed_first: frozenset[str] = frozenset()

    @property
    def stage(self) -> str:
        return stage_of(self.stack)

    @property
    def template(self) -> dict:
        return self.stack.template


def stage_of(stack: StackArtifact) -> str:
    """The stage the stack was synthesized for: its name is `<id>-<stage>` by convention
    (house/settings.py), so fix lines can say `STAGE=dev`."""
    prefix = f"{stack.id}-"
    name = stack.stack_name
    return name[len(prefix) :] if name.startswith(prefix) else "<stage>"


Check = Callable[[Preflight], Iterator[CheckResult]]


def check(name: str) -> Callable[[Check], Check]:
    """Names a check, so a failed AWS call inside it is reported on a line of its own name."""

    def name_it(function: Check) -> Check:
        function.check_name = name  # type: ignore[attr-defined]
        return function

    return name_it


def failed(name: str, failure: AwsCallFailed) -> CheckResult:
    return CheckResult(FAIL, name, failure.detail, failure.fix)


# --- 1. credentials and region ------------------------------------------------------------


def connect(stack: StackArtifact, session) -> tuple[list[CheckResult], Account | None]:
    """Who the credentials are and which region the stack deploys to; no Account when the
    remaining checks cannot run (no credentials, wrong account, no region)."""
    region = stack.region or session.region_name
    try:
        identity = session.client("sts", region_name=region).get_caller_identity()
    except botocore.exceptions.NoCredentialsError:
        return [
            CheckResult(FAIL, "credentials", "no AWS credentials found", NO_CREDENTIALS_FIX)
        ], None
    except botocore.exceptions.ClientError as error:
        details = error.response.get("Error", {})
        return [
            CheckResult(
                FAIL,
                "credentials",
                f"sts.get_caller_identity failed: {details.get('Code')}: {details.get('Message')}",
                "refresh the credentials (`aws sso login`, or new access keys)",
            )
        ], None
    except botocore.exceptions.BotoCoreError as error:
        return [
            CheckResult(
                FAIL, "credentials", f"sts.get_caller_identity failed: {error}", NO_CREDENTIALS_FIX
            )
        ], None
    account_id = identity["Account"]
    if stack.account and stack.account != account_id:
        return [
            CheckResult(
                FAIL,
                "credentials",
                f"the template is bound to account {stack.account}, the credentials are for "
                f"{account_id} ({identity['Arn']})",
                f"use credentials for {stack.account} (e.g. AWS_PROFILE=<its profile>), or "
                f"synthesize again with these",
            )
        ], None
    results = [CheckResult(PASS, "credentials", f"account {account_id} as {identity['Arn']}")]
    if not region:
        results.append(
            CheckResult(
                FAIL,
                "region",
                "none: the stack is environment-agnostic and the session has no region",
                "set AWS_REGION (or `region` in your AWS profile), or give the stage a "
                "region in cdk.json (stages.<stage>.region) and synthesize again",
            )
        )
        return results, None
    if stack.region:
        source = "the stack's own region"
        if session.region_name and session.region_name != stack.region:
            source += f"; the session's default {session.region_name} does not apply"
    else:
        source = "the session's region: the stack is environment-agnostic"
    results.append(CheckResult(PASS, "region", f"{region} ({source})"))
    return results, Account(session, region, account_id, stack.stack_name)


# --- 2. CDK bootstrap ---------------------------------------------------------------------


def bootstrap_command(preflight: Preflight) -> str:
    account = preflight.account
    command = f"npx cdk bootstrap aws://{account.account_id}/{account.region}"
    parts = preflight.stack.bootstrap_version_parameter.strip("/").split("/")
    if len(parts) == 3 and parts[1] != DEFAULT_BOOTSTRAP_QUALIFIER:
        command += f" --qualifier {parts[1]}"
    return command


@check("bootstrap")
def check_bootstrap(preflight: Preflight) -> Iterator[CheckResult]:
    parameter = preflight.stack.bootstrap_version_parameter
    required = preflight.stack.required_bootstrap_version
    account = preflight.account
    try:
        value = account.call("ssm", "get_parameter", Name=parameter)["Parameter"]["Value"]
    except AwsCallFailed as failure:
        if failure.code != "ParameterNotFound":
            raise
        yield CheckResult(
            FAIL,
            "bootstrap",
            f"{account.account_id}/{account.region} is not "
            f"bootstrapped (no SSM parameter {parameter})",
            bootstrap_command(preflight),
        )
        return
    try:
        version = int(value)
    except ValueError:
        yield CheckResult(
            FAIL,
            "bootstrap",
            f"{parameter} holds {value!r}, not a version",
            bootstrap_command(preflight),
        )
        return
    if version >= required:
        yield CheckResult(PASS, "bootstrap", f"version {version} >= {required} ({parameter})")
    else:
        yield CheckResult(
            FAIL,
            "bootstrap",
            f"version {version} < {required}, the version this template needs ({parameter})",
            f"{bootstrap_command(preflight)} (upgrades the bootstrap stack)",
        )


# --- 3. account baseline: API Gateway's CloudWatch Logs role ------------------------------


@check("account baseline")
def check_account_baseline(preflight: Preflight) -> Iterator[CheckResult]:
    stages = logging_api_stages(preflight.template)
    if not stages:
        return
    account, stack = preflight.account, preflight.stack
    fix = f"make deploy STACK={ACCOUNT_BASELINE} STAGE={preflight.stage}"
    if ACCOUNT_BASELINE in stack.dependencies:
        fix += f" (`npx cdk deploy {stack.id}` also deploys it first, as its dependency)"
    else:
        fix += (
            f" first: {stack.id} does not depend on {ACCOUNT_BASELINE}, so deploying it "
            f"alone will not set the role"
        )
    logging = f"{len(stages)} API stage(s) with CloudWatch logging ({', '.join(stages)})"
    role_arn = account.call("apigateway", "get_account").get("cloudwatchRoleArn")
    if not role_arn and ACCOUNT_BASELINE in preflight.deployed_first:
        yield CheckResult(
            NOTE,
            "account baseline",
            f"API Gateway's account settings in "
            f"{account.region} name no CloudWatch Logs role yet; {ACCOUNT_BASELINE}, "
            f"which this deploy creates first, sets it ({logging})",
        )
        return
    if not role_arn:
        yield CheckResult(
            FAIL,
            "account baseline",
            f"API Gateway's account settings in "
            f"{account.region} name no CloudWatch Logs role, so {logging} would "
            f"be refused",
            fix,
        )
        return
    role_name = role_arn.rsplit("/", 1)[-1]
    role_account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    if role_account != account.account_id:
        yield CheckResult(
            NOTE,
            "account baseline",
            f"API Gateway's account settings name "
            f"{role_arn}, outside this account: not checked ({logging})",
        )
        return
    try:
        account.call("iam", "get_role", RoleName=role_name)
    except AwsCallFailed as failure:
        if failure.code != "NoSuchEntity":
            raise
        yield CheckResult(
            FAIL,
            "account baseline",
            f"API Gateway's account settings name "
            f"{role_arn}, which does not exist, so {logging} would be refused",
            fix,
        )
        return
    yield CheckResult(PASS, "account baseline", f"API Gateway logs through {role_name} ({logging})")


# --- 4. service-linked roles --------------------------------------------------------------


@check("service-linked role")
def check_service_linked_roles(preflight: Preflight) -> Iterator[CheckResult]:
    account, stack = preflight.account, preflight.stack
    for role, needed_by in service_linked_roles(preflight.template).items():
        purpose = f"(for {', '.join(needed_by)})"
        try:
            account.call("iam", "get_role", RoleName=role.role_name)
            yield CheckResult(PASS, "service-linked role", f"{role.role_name} exists {purpose}")
            continue
        except AwsCallFailed as failure:
            if failure.code != "NoSuchEntity":
                yield failed("service-linked role", failure)
                continue
        create = f"aws iam create-service-linked-role --aws-service-name {role.service}"
        if not preflight.fix:
            yield CheckResult(
                FAIL,
                "service-linked role",
                f"{role.role_name} missing {purpose}",
                f"{create} (or: make preflight STACK={stack.id} STAGE={preflight.stage} FIX=1)",
            )
            continue
        try:
            account.call("iam", "create_service_linked_role", AWSServiceName=role.service)
        except AwsCallFailed as failure:
            # Something else (a deploy, another preflight) created it since the read.
            if failure.code == "InvalidInput" and "has been taken" in failure.message:
                yield CheckResult(PASS, "service-linked role", f"{role.role_name} exists {purpose}")
            else:
                yield failed("service-linked role", failure)
            continue
        yield CheckResult(
            PASS, "service-linked role", f"{role.role_name} created (--fix) {purpose}"
        )


# --- 5. quota headroom --------------------------------------------------------------------

# Service Quotas answers these when it holds no value for a quota in this account or region.
_NO_QUOTA_VALUE_CODES = frozenset(
    {"NoSuchResourceException", "IllegalArgumentException", "ServiceException"}
)


def quota_value(account: Account, quota: Quota) -> tuple[int, str]:
    """The quota and where it came from: the applied value, AWS's default, or the default
    AWS documents (when Service Quotas has neither)."""
    for method, source in (
        ("get_service_quota", "applied quota"),
        ("get_aws_default_service_quota", "AWS default"),
    ):
        try:
            answer = account.call(
                "service-quotas", method, ServiceCode=quota.service_code, QuotaCode=quota.quota_code
            )
            return int(answer["Quota"]["Value"]), source
        except AwsCallRefused:
            raise
        except AwsCallFailed as failure:
            if failure.code not in _NO_QUOTA_VALUE_CODES:
                raise
    return quota.documented_default, "documented default; Service Quotas has no value"


def quota_usage(account: Account, quota: Quota) -> Counter:
    """What the account already uses in the region, this stack's own resources left out (an
    update replaces nothing it counts): {None: n}, or {AZ name: n} for a per-AZ quota."""
    own = account.stack_physical_ids(quota.resource_type)
    if quota.resource_type == "AWS::EC2::VPC":
        vpcs = account.pages("ec2", "describe_vpcs", "Vpcs")
        return Counter({None: sum(vpc["VpcId"] not in own for vpc in vpcs)})
    if quota.resource_type == "AWS::EC2::InternetGateway":
        gateways = account.pages("ec2", "describe_internet_gateways", "InternetGateways")
        return Counter({None: sum(g["InternetGatewayId"] not in own for g in gateways)})
    if quota.resource_type == "AWS::EC2::EIP":
        addresses = account.call("ec2", "describe_addresses")["Addresses"]
        return Counter(
            {
                None: sum(
                    address.get("Domain", "vpc") == "vpc"
                    and not {address.get("AllocationId"), address.get("PublicIp")} & own
                    for address in addresses
                )
            }
        )
    if quota.resource_type == "AWS::EC2::NatGateway":
        gateways = [
            gateway
            for gateway in account.pages("ec2", "describe_nat_gateways", "NatGateways")
            if gateway.get("State") in ("pending", "available")
            and gateway["NatGatewayId"] not in own
        ]
        subnet_ids = sorted({gateway["SubnetId"] for gateway in gateways if "SubnetId" in gateway})
        zones = {}
        if subnet_ids:
            subnets = account.pages("ec2", "describe_subnets", "Subnets", SubnetIds=subnet_ids)
            zones = {subnet["SubnetId"]: subnet["AvailabilityZone"] for subnet in subnets}
        return Counter(zones.get(gateway.get("SubnetId")) for gateway in gateways)
    raise ValueError(f"no usage reader for {quota.resource_type}")


@check("quota")
def check_quotas(preflight: Preflight) -> Iterator[CheckResult]:
    account = preflight.account
    for quota in QUOTAS:
        demand = quota_demand(preflight.template, quota)
        if not demand:
            continue
        try:
            limit, source = quota_value(account, quota)
            usage = quota_usage(account, quota)
            new = Counter()
            for ref, count in demand.items():
                new[account.zone_name(ref)] += count
        except AwsCallFailed as failure:
            yield failed("quota", failure)
            continue
        if quota.per_availability_zone:
            # A NAT gateway whose AZ the template does not tell is counted in the fullest AZ.
            busiest = max((count for zone, count in usage.items() if zone), default=0)
            totals = {
                zone: (usage.get(zone, 0) if zone else busiest, count)
                for zone, count in new.items()
            }
        else:
            totals = {None: (usage.get(None, 0), sum(new.values()))}
        zone, (used, adding) = max(totals.items(), key=lambda item: sum(item[1]))
        where = (
            (f" in {zone}" if zone else " in the fullest AZ") if quota.per_availability_zone else ""
        )
        text = f"{quota.name}: {used} in use{where} + {adding} new"
        if used + adding <= limit:
            yield CheckResult(PASS, "quota", f"{text} <= {limit} ({source})")
        else:
            yield CheckResult(
                FAIL,
                "quota",
                f"{text} > {limit} ({source})",
                f"aws service-quotas request-service-quota-increase --service-code "
                f"{quota.service_code} --quota-code {quota.quota_code} --desired-value "
                f"{used + adding} --region {account.region}",
            )


# AWS keeps this many of an account's concurrent executions unreserved: PutFunctionConcurrency
# is refused when a reservation would leave fewer (so an account limited to 100 or fewer, as
# many new accounts are, can reserve none).
MIN_UNRESERVED_CONCURRENCY = 100
LAMBDA_CONCURRENCY_QUOTA = "L-B99A9384"  # Lambda "Concurrent executions" in Service Quotas


def reserved_concurrency(template: dict) -> dict[str, int]:
    """Logical id -> the concurrency each function of the template reserves."""
    return {
        logical_id: value
        for logical_id, function in resources(template, "AWS::Lambda::Function")
        if isinstance(
            value := function.get("Properties", {}).get("ReservedConcurrentExecutions"), int
        )
    }


@check("concurrency")
def check_reserved_concurrency(preflight: Preflight) -> Iterator[CheckResult]:
    """The functions' reserved concurrency fits what the account leaves unreserved, less the
    100 AWS keeps; an update's own functions give back what they hold now."""
    wanted = reserved_concurrency(preflight.template)
    if not wanted:
        return
    account = preflight.account
    try:
        limits = account.call("lambda", "get_account_settings")["AccountLimit"]
        held = sum(
            account.call("lambda", "get_function_concurrency", FunctionName=name).get(
                "ReservedConcurrentExecutions", 0
            )
            for name in sorted(account.stack_physical_ids("AWS::Lambda::Function"))
        )
    except AwsCallFailed as failure:
        yield failed("concurrency", failure)
        return
    limit = limits["ConcurrentExecutions"]
    unreserved = limits["UnreservedConcurrentExecutions"] + held
    adding = sum(wanted.values())
    text = (
        f"{len(wanted)} function(s) reserve {adding}; the account's limit is {limit}, "
        f"{unreserved} unreserved"
        + (f" (with the {held} this stack holds now)" if held else "")
        + f", of which AWS keeps {MIN_UNRESERVED_CONCURRENCY}"
    )
    if adding <= unreserved - MIN_UNRESERVED_CONCURRENCY:
        yield CheckResult(PASS, "concurrency", text)
        return
    needed = limit + adding - (unreserved - MIN_UNRESERVED_CONCURRENCY)
    yield CheckResult(
        FAIL,
        "concurrency",
        text,
        f"aws service-quotas request-service-quota-increase --service-code lambda --quota-code "
        f"{LAMBDA_CONCURRENCY_QUOTA} --desired-value {needed} --region {account.region}, or "
        "reserve less (the blueprint's reserved concurrency setting for this stage)",
    )


# --- 6. SES identities and CloudFormation exports -----------------------------------------


@check("ses identity")
def check_ses(preflight: Preflight) -> Iterator[CheckResult]:
    identities = email_identities(preflight.template)
    if not identities:
        return
    account, stack = preflight.account, preflight.stack
    owned = {physical.lower() for physical in account.stack_physical_ids("AWS::SES::EmailIdentity")}
    for logical_id, raw in identities:
        name = literal(raw, account.pseudo_parameters)
        if name is None:
            yield CheckResult(
                NOTE,
                "ses identity",
                f"{logical_id}: the identity is only known at deploy time; not checked",
            )
            continue
        try:
            existing = account.call("sesv2", "get_email_identity", EmailIdentity=name)
        except AwsCallFailed as failure:
            if failure.code != "NotFoundException":
                yield failed("ses identity", failure)
                continue
            existing = None
        if existing is not None and name.lower() not in owned:
            yield CheckResult(
                FAIL,
                "ses identity",
                f"{name} already exists in SES in {account.region} and is "
                f"not a resource of {stack.stack_name}: CloudFormation cannot create it again",
                "give this stage another address or domain, or let one stack own the identity "
                f"(`aws sesv2 delete-email-identity --email-identity {name}` only if nothing "
                f"else sends from it)",
            )
        elif existing is not None and existing.get("VerifiedForSendingStatus"):
            yield CheckResult(
                PASS, "ses identity", f"{name} belongs to {stack.stack_name} and is verified"
            )
        else:
            yield CheckResult(NOTE, "ses identity", _verification_step(name, account.region))
    try:
        production = account.call("sesv2", "get_account").get("ProductionAccessEnabled")
    except AwsCallFailed as failure:
        yield failed("ses sandbox", failure)
        return
    if production:
        yield CheckResult(PASS, "ses sandbox", f"production access in {account.region}")
    else:
        yield CheckResult(
            NOTE,
            "ses sandbox",
            f"the account is in the SES sandbox in {account.region}: mail "
            f"goes only to verified addresses, at most 200 a day",
            f"aws sesv2 put-account-details --production-access-enabled --mail-type "
            f"TRANSACTIONAL --website-url https://<your site> --region {account.region}",
        )


def _verification_step(identity: str, region: str) -> str:
    if "@" in identity:
        return (
            f"after deploy SES mails a verification link to {identity}: open it, or "
            f"sending from it fails"
        )
    return (
        f"after deploy publish the DKIM CNAME records SES makes for {identity} (`aws sesv2 "
        f"get-email-identity --email-identity {identity} --region {region}`), unless the "
        f"stack writes them to Route 53 itself"
    )


@check("exports")
def check_exports(preflight: Preflight) -> Iterator[CheckResult]:
    declared = export_names(preflight.template)
    if not declared:
        return
    account, stack = preflight.account, preflight.stack
    exporters = {
        export["Name"]: _stack_name_of(export.get("ExportingStackId", ""))
        for export in account.pages("cloudformation", "list_exports", "Exports")
    }
    free = []
    for output, raw in declared:
        name = literal(raw, account.pseudo_parameters)
        if name is None:
            yield CheckResult(
                NOTE,
                "exports",
                f"output {output}: the export name is only known at deploy time; not checked",
            )
        elif name in exporters and exporters[name] != stack.stack_name:
            yield CheckResult(
                FAIL,
                "exports",
                f"{name} (output {output}) is already exported "
                f"by stack {exporters[name]}; export names are unique per account "
                f"and region",
                f"rename the export, or remove it from {exporters[name]} first",
            )
        else:
            free.append(name)
    if free:
        yield CheckResult(
            PASS,
            "exports",
            f"{len(free)} export name(s) free or this stack's own ({', '.join(free)})",
        )


def _stack_name_of(stack_arn: str) -> str:
    # arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>
    parts = stack_arn.split("/")
    return parts[1] if len(parts) >= 2 else stack_arn


# --- 7. Docker ----------------------------------------------------------------------------


def docker_engine_problem() -> str | None:
    """Why `docker info` does not work here, or None when the engine answers. The CDK CLI
    runs whatever CDK_DOCKER names (podman, finch), so that is what is tried."""
    executable = os.environ.get("CDK_DOCKER", "docker")
    if shutil.which(executable) is None:
        return f"no `{executable}` command on PATH"
    try:
        result = subprocess.run(
            [executable, "info"], capture_output=True, text=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        return f"`{executable} info` did not answer within 60 s"
    except OSError as error:
        return f"`{executable} info` could not run: {error}"
    if result.returncode != 0:
        reason = next(
            (line.strip() for line in (result.stderr or "").splitlines() if line.strip()),
            f"exit status {result.returncode}",
        )
        return f"`{executable} info` failed: {reason}"
    return None


@check("docker")
def check_docker(preflight: Preflight) -> Iterator[CheckResult]:
    images = preflight.stack.docker_images
    if not images:
        return
    names = ", ".join(
        image.get("displayName") or asset_hash[:12] for asset_hash, image in images.items()
    )
    assets = f"{len(images)} container image asset(s) ({names})"
    problem = docker_engine_problem()
    if problem is None:
        yield CheckResult(PASS, "docker", f"the Docker engine answers; {assets} build locally")
        return
    setting = NO_DOCKER_IMAGE_SETTINGS.get(preflight.stack.id)
    fix = "start Docker (`docker info` must succeed)" + (
        f", or deploy with {setting}"
        if setting
        else ", or switch the blueprint to an image that needs no local build"
    )
    yield CheckResult(FAIL, "docker", f"{assets} need Docker at deploy: {problem}", fix)


@check("codebuild")
def check_codebuild(preflight: Preflight) -> Iterator[CheckResult]:
    """Deploy-time builds (FargateService's image) start CodeBuild builds inside the deploy.
    New accounts can have a concurrent-build quota of 0 until AWS raises it ("Cannot have more
    than 0 builds in queue for the account"); Service Quotas does not reliably show the value
    that applies, so this is a NOTE, not a check."""
    projects = [
        logical_id for logical_id, _ in resources(preflight.template, "AWS::CodeBuild::Project")
    ]
    if not projects:
        return
    yield CheckResult(
        NOTE,
        "codebuild",
        f"{len(projects)} CodeBuild project(s) build during the "
        "deploy; a new account may be allowed 0 concurrent builds, which fails "
        "the deploy with 'Cannot have more than 0 builds in queue for the "
        "account': then ask AWS Support to raise CodeBuild's concurrent builds "
        "(Linux, small) or deploy a pushed image",
    )


@check("domain")
def check_domains(preflight: Preflight) -> Iterator[CheckResult]:
    """The shipped prod profiles name `example.com` names and the hosted-zone id
    ZREPLACEWITHYOURZONE so that they synthesize without an account (house/domains.py). No
    certificate for such a name can ever be validated: a deploy would wait for DNS validation
    until CloudFormation gives up. Read from the template alone: certificate names, alias
    records and their zones, CloudFront aliases, Amplify Hosting domain associations."""
    names: set[str] = set()
    zones: set[str] = set()
    for _, r in resources(preflight.template, "AWS::CertificateManager::Certificate"):
        p = r.get("Properties", {})
        names.update(x for x in [p.get("DomainName"), *p.get("SubjectAlternativeNames", [])] if x)
        zones.update(o.get("HostedZoneId") for o in p.get("DomainValidationOptions", []))
    for _, r in resources(preflight.template, "AWS::Route53::RecordSet"):
        p = r.get("Properties", {})
        names.add(p.get("Name"))
        zones.add(p.get("HostedZoneId"))
    for _, r in resources(preflight.template, "AWS::CloudFront::Distribution"):
        names.update(r.get("Properties", {}).get("DistributionConfig", {}).get("Aliases", []))
    for _, r in resources(preflight.template, "AWS::Amplify::Domain"):
        zone = r.get("Properties", {}).get("DomainName")
        if isinstance(zone, str):
            prefixes = [s.get("Prefix") for s in r["Properties"].get("SubDomainSettings", [])]
            names.update(f"{p}.{zone}" if p else zone for p in prefixes if isinstance(p, str))
    names = {n.rstrip(".") for n in names if isinstance(n, str)}
    zones = {z for z in zones if isinstance(z, str)}
    if not names and not zones:
        return
    placeholders = sorted(n for n in names if reserved_domain(n)) + sorted(
        z for z in zones if z == PLACEHOLDER_HOSTED_ZONE_ID
    )
    if not placeholders:
        yield CheckResult(PASS, "domain", f"{', '.join(sorted(names))}: no placeholder name")
        return
    yield CheckResult(
        FAIL,
        "domain",
        f"{', '.join(placeholders)} are the shipped placeholders (no certificate for them can "
        "ever be validated)",
        "set the blueprint's domain settings (domain_name(s), hosted_zone_id, hosted_zone_name) "
        f"in cdk.json blueprints.<blueprint>.{preflight.stage} to a Route 53 public zone of "
        "yours and synthesize again (docs/deploying.md)",
    )


# --- 8. Availability Zones, Neptune instance classes, EC2 instance types ------------------


@check("availability zones")
def check_availability_zones(preflight: Preflight) -> Iterator[CheckResult]:
    refs = availability_zones(preflight.template)
    if not refs:
        return
    account = preflight.account
    known = account.availability_zones
    unknown = [ref for ref in refs if isinstance(ref, str) and ref not in known]
    beyond = [ref for ref in refs if isinstance(ref, int) and not 0 <= ref < len(known)]
    if unknown or beyond:
        problems = [f"{name} is not an Availability Zone of {account.region}" for name in unknown]
        problems += [
            f"Fn::GetAZs position {index} is past the region's {len(known)} zones"
            for index in beyond
        ]
        yield CheckResult(
            FAIL,
            "availability zones",
            "; ".join(problems),
            f"use zones of {account.region} ({', '.join(known)}) in cdk.json "
            f"stages.{preflight.stage}.availability_zones and synthesize again",
        )
        return
    names = ", ".join(account.zone_name(ref) or "?" for ref in refs)
    mapped = (
        " (Fn::GetAZs positions mapped to this account's zones)"
        if any(isinstance(ref, int) for ref in refs)
        else ""
    )
    yield CheckResult(PASS, "availability zones", f"{names} exist in {account.region}{mapped}")


@check("neptune instance")
def check_neptune_instances(preflight: Preflight) -> Iterator[CheckResult]:
    account = preflight.account
    groups: dict[tuple[str | None, str | None], list] = {}
    for instance in neptune_instances(preflight.template):
        groups.setdefault((instance.instance_class, instance.engine_version), []).append(instance)
    for (instance_class, version), instances in groups.items():
        ids = ", ".join(instance.logical_id for instance in instances)
        if instance_class is None:
            yield CheckResult(
                NOTE,
                "neptune instance",
                f"{ids}: the instance class is only known at deploy time; not checked",
            )
            continue
        label = f"{instance_class} for Neptune {version or '(default version)'} in {account.region}"
        try:
            options = _orderable(account, version, instance_class)
            offered = (
                []
                if options
                else sorted(
                    {option["DBInstanceClass"] for option in _orderable(account, version, None)}
                )
            )
        except AwsCallFailed as failure:
            yield failed("neptune instance", failure)
            continue
        if not options and not offered:
            yield CheckResult(
                FAIL,
                "neptune instance",
                f"Neptune engine version {version} is not offered in {account.region} ({ids})",
                f"use a version `aws neptune describe-db-engine-versions --engine "
                f"neptune --region {account.region}` lists",
            )
            continue
        if not options:
            yield CheckResult(
                FAIL,
                "neptune instance",
                f"{label} is not orderable ({ids})",
                f"use an orderable class: {', '.join(offered)}",
            )
            continue
        orderable_zones = {
            zone["Name"] for option in options for zone in option.get("AvailabilityZones") or []
        }
        misplaced = [
            (instance.logical_id, zone)
            for instance in instances
            if (zone := account.zone_name(instance.availability_zone))
            and orderable_zones
            and zone not in orderable_zones
        ]
        if misplaced:
            where = ", ".join(f"{logical_id} in {zone}" for logical_id, zone in misplaced)
            zones = ", ".join(sorted(orderable_zones))
            yield CheckResult(
                FAIL,
                "neptune instance",
                f"{label} is orderable, but not for {where}",
                f"place the instances in {zones}",
            )
        else:
            yield CheckResult(PASS, "neptune instance", f"{label} is orderable ({ids})")


def _orderable(account: Account, version: str | None, instance_class: str | None) -> list[dict]:
    params = {"Engine": "neptune"}
    if version:
        params["EngineVersion"] = version
    if instance_class:
        params["DBInstanceClass"] = instance_class
    options = account.pages(
        "rds", "describe_orderable_db_instance_options", "OrderableDBInstanceOptions", **params
    )
    # Filtered again here: the API filters by class, but stand-ins (moto) may not.
    return [
        option
        for option in options
        if (instance_class is None or option.get("DBInstanceClass") == instance_class)
        and (version is None or option.get("EngineVersion") == version)
    ]


@check("instance type")
def check_instance_types(preflight: Preflight) -> Iterator[CheckResult]:
    launched = launched_instance_types(preflight.template)
    if not launched:
        return
    account = preflight.account
    known = account.availability_zones
    zones = [
        zone
        for ref in availability_zones(preflight.template)
        if (zone := account.zone_name(ref)) in known
    ]
    types = sorted(launched)
    location_type = "availability-zone"
    if not zones:  # no subnets in the template (an imported VPC): the region is all it can check
        location_type, zones = "region", [account.region]
    offerings = account.pages(
        "ec2",
        "describe_instance_type_offerings",
        "InstanceTypeOfferings",
        LocationType=location_type,
        Filters=[{"Name": "instance-type", "Values": types}, {"Name": "location", "Values": zones}],
    )
    offered = {(offering["InstanceType"], offering["Location"]) for offering in offerings}
    for instance_type in types:
        ids = ", ".join(launched[instance_type])
        missing = [zone for zone in zones if (instance_type, zone) not in offered]
        if missing:
            yield CheckResult(
                FAIL,
                "instance type",
                f"{instance_type} ({ids}) is not offered in {', '.join(missing)}",
                f"choose a type offered in {', '.join(zones)} (`aws ec2 "
                f"describe-instance-type-offerings --location-type {location_type} --filters "
                f"Name=location,Values={','.join(zones)} --region {account.region}`)",
            )
        else:
            yield CheckResult(
                PASS, "instance type", f"{instance_type} ({ids}) is offered in {', '.join(zones)}"
            )


# --- 9. resource types some regions lack; App Runner's closed door ------------------------

# Newer or regional resource types whose absence from a region fails the deploy at once
# ("Unrecognized resource types"). CloudFormation's registry answers per region.
REGIONAL_TYPES = (
    "AWS::ECS::ExpressGatewayService",
    "AWS::AppRunner::Service",
    "AWS::AppRunner::VpcConnector",
)


@check("resource types")
def check_resource_types(preflight: Preflight) -> Iterator[CheckResult]:
    account = preflight.account
    wanted = sorted(
        {
            resource.get("Type")
            for _, resource in resources(preflight.template)
            if resource.get("Type") in REGIONAL_TYPES
        }
    )
    for type_name in wanted:
        try:
            account.call("cloudformation", "describe_type", Type="RESOURCE", TypeName=type_name)
        except AwsCallFailed as failure:
            if failure.code in ("TypeNotFoundException", "CFNRegistryException"):
                yield CheckResult(
                    FAIL,
                    "resource types",
                    f"{type_name} is not available in {account.region}",
                    "deploy to a region that offers it (stages.<stage>.region in cdk.json)",
                )
            else:
                yield failed("resource types", failure)
            continue
        yield CheckResult(PASS, "resource types", f"{type_name} is available in {account.region}")


@check("app runner")
def check_app_runner(preflight: Preflight) -> Iterator[CheckResult]:
    """App Runner takes no new customers since 2026-04-30: an account that never used it is
    refused. Services elsewhere in the account are not visible from here, so none in this
    region is a NOTE, not a FAIL."""
    if not any(True for _ in resources(preflight.template, "AWS::AppRunner::Service")):
        return
    account = preflight.account
    try:
        services = account.call("apprunner", "list_services", MaxResults=20).get(
            "ServiceSummaryList", []
        )
    except AwsCallFailed as failure:
        yield failed("app runner", failure)
        return
    if services:
        yield CheckResult(
            PASS,
            "app runner",
            f"the account already runs {len(services)} App Runner service(s) in {account.region}",
        )
        return
    yield CheckResult(
        NOTE,
        "app runner",
        f"no App Runner service in {account.region}: App Runner is closed to new customers "
        "since 2026-04-30, so an account that never used it is refused",
        "deploy with engine express (the default), the service AWS points new users to",
    )


@check("amplify hosting")
def check_amplify(preflight: Preflight) -> Iterator[CheckResult]:
    """Amplify Hosting is not offered in every region, and a region without it fails the
    deploy at its first Amplify resource. Listing apps is the cheapest proof the region serves
    it (and that the credentials may use it)."""
    apps = [logical_id for logical_id, _ in resources(preflight.template, "AWS::Amplify::App")]
    if not apps:
        return
    account = preflight.account
    try:
        account.call("amplify", "list_apps", maxResults=1)
    except AwsCallFailed as failure:
        if isinstance(failure, AwsCallRefused):
            yield failed("amplify hosting", failure)
        elif isinstance(failure.__cause__, EndpointConnectionError):
            yield CheckResult(
                FAIL,
                "amplify hosting",
                f"Amplify Hosting does not answer in {account.region} ({failure.detail})",
                "deploy this stack to a region Amplify Hosting serves, or set "
                "hosting=cloudfront (the house static site runs in every region)",
            )
        else:
            yield CheckResult(
                NOTE, "amplify hosting", f"could not check Amplify Hosting: {failure.detail}"
            )
        return
    yield CheckResult(
        PASS, "amplify hosting", f"Amplify Hosting answers in {account.region} ({', '.join(apps)})"
    )


# --- 9. AWS Backup copies -----------------------------------------------------------------

DYNAMODB_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")


@check("backup copy")
def check_backup_copies(preflight: Preflight) -> Iterator[CheckResult]:
    """A plan that copies recovery points (`backup_copy_vault_arn`) needs, for DynamoDB tables,
    the region's advanced DynamoDB backup features (on by default only in accounts that started
    using AWS Backup after November 2021; without them the copy job fails) and, for another
    account, AWS Organizations' cross-account backup, which only the management account can
    turn on (so that is a NOTE)."""
    account = preflight.account
    for copy in backup_copies(preflight.template):
        if any(t in DYNAMODB_TYPES for t in copy.selected_types):
            try:
                settings = account.call("backup", "describe_region_settings")
            except AwsCallFailed as failure:
                yield failed("backup copy", failure)
                continue
            advanced = settings.get("ResourceTypeManagementPreference", {}).get("DynamoDB")
            command = (
                "aws backup update-region-settings --resource-type-management-preference "
                f"DynamoDB=true --region {account.region}"
            )
            if advanced:
                yield CheckResult(
                    PASS,
                    "backup copy",
                    f"advanced DynamoDB backup is on in {account.region}: {copy.plan} can copy "
                    "its tables' recovery points",
                )
            elif preflight.fix:
                try:
                    account.call(
                        "backup",
                        "update_region_settings",
                        ResourceTypeManagementPreference={"DynamoDB": True},
                    )
                except AwsCallFailed as failure:
                    yield failed("backup copy", failure)
                    continue
                yield CheckResult(
                    PASS,
                    "backup copy",
                    f"advanced DynamoDB backup turned on (--fix) for {copy.plan}",
                )
            else:
                yield CheckResult(
                    FAIL,
                    "backup copy",
                    f"{copy.plan} copies DynamoDB recovery points, which needs advanced DynamoDB "
                    f"backup in {account.region} (off: every copy job would fail)",
                    f"{command} (or: make preflight STACK={preflight.stack.id} "
                    f"STAGE={preflight.stage} FIX=1)",
                )
        destination_account = copy.destination.split(":")[4] if copy.destination else None
        if destination_account and destination_account != account.account_id:
            yield CheckResult(
                NOTE,
                "backup copy",
                f"{copy.plan} copies to account {destination_account}: both accounts must be in "
                "one AWS Organization with cross-account backup on, and that vault's access "
                "policy must allow backup:CopyIntoBackupVault from this account",
                "in the management account: aws backup update-global-settings --global-settings "
                "isCrossAccountBackupEnabled=true; then docs/deploying.md#backups",
            )


CHECKS: tuple[Check, ...] = (
    check_bootstrap,
    check_account_baseline,
    check_service_linked_roles,
    check_quotas,
    check_reserved_concurrency,
    check_ses,
    check_exports,
    check_docker,
    check_codebuild,
    check_domains,
    check_availability_zones,
    check_neptune_instances,
    check_instance_types,
    check_resource_types,
    check_app_runner,
    check_amplify,
    check_backup_copies,
)
