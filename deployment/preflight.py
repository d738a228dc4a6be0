"""`make preflight`: read-only checks of your AWS account before a blueprint stack deploys.

    npx cdk synth -c stage=dev                     # or: make synth STAGE=dev
    python -m deployment.preflight MyBlog [--assembly cdk.out] [--fix] [--exclusively]

It checks the stacks `cdk deploy <stack>` would deploy, dependencies first (AccountBaseline,
a us-east-1 edge companion, each in its own region), unless `--exclusively`. It reads what
the synthesized template needs (from `cdk.out`, so synthesize the stage you
deploy first) and asks the account for it with your own credentials, the way `cdk deploy`
would find them (AWS_PROFILE, AWS_REGION, ...). One line per check: PASS, FAIL with what is
missing and the command that fixes it, or NOTE for something to do after the deploy; then a
summary. The exit status is 1 when any check FAILs, else 0. It changes nothing in the account,
except that `--fix` creates missing service-linked roles and turns on advanced DynamoDB backup
for a plan that copies tables (and nothing else).

What each check proves, and what it cannot:

credentials / region
    `sts get-caller-identity` answers, so the credentials work; a stack bound to an account
    (concrete `env`) is checked against the caller's account. The region is the stack's own
    or, for an environment-agnostic stack, the session's (AWS_REGION, AWS_DEFAULT_REGION,
    the profile), as the CDK CLI resolves it. Without credentials or a region nothing else
    runs. It cannot tell whether these credentials may deploy (CloudFormation and the CDK
    bootstrap roles decide that), or whether an SCP or a Control Tower control will refuse a
    resource.

bootstrap
    The SSM parameter the template names (`/cdk-bootstrap/<qualifier>/version`) holds at
    least the bootstrap version the template and its assets need. It does not check that the
    bootstrap roles and buckets behind it are intact, or that your credentials may assume them.

account baseline
    Only for a template with a REST API stage that writes access or execution logs: API
    Gateway's account settings in the region name a CloudWatch Logs role, and that role
    exists. API Gateway refuses such a stage otherwise ("CloudWatch Logs role ARN must be set
    in account settings to enable logging"). The `AccountBaseline` stack sets it; stacks that
    need it depend on it, so `npx cdk deploy <stack>` deploys it first. It does not check the
    role's trust or permissions, or WebSocket (API Gateway v2) stages.

service-linked role
    Each service-linked role the template's services use exists:
        AWSServiceRoleForECS                       any AWS::ECS:: resource
        AWSServiceRoleForRDS                       AWS::RDS::, AWS::Neptune:: resources
        AWSServiceRoleForDAX                       DAX clusters
        AWSServiceRoleForElasticLoadBalancing      load balancers
        AWSServiceRoleForAutoScaling               Auto Scaling groups without a role of their own
        AWSServiceRoleForAmazonElasticFileSystem   EFS file systems
        AWSServiceRoleForApplicationAutoScaling_ECSService / _DynamoDBTable   scalable targets
        AWSServiceRoleForDynamoDBReplication       global tables with replicas
        AWSServiceRoleForAmazonEKS                 EKS clusters (also Auto Mode's nodes)
        AWSServiceRoleForAmazonEKSNodegroup        EKS managed node groups (+ the Auto
                                                   Scaling role: each group is an ASG)
        AWSServiceRoleForAmazonEKSForFargate       EKS Fargate profiles
        AWSServiceRoleForBackup                    any AWS::Backup:: resource
    Services create these on first use, and first use inside a CloudFormation deploy can race
    ("Unable to assume the service linked role"); a template cannot create them safely
    (AWS::IAM::ServiceLinkedRole fails when the role exists). A missing one FAILs with
    `aws iam create-service-linked-role --aws-service-name <service>`; `--fix` creates it. The
    list covers the services these blueprints use, not every service there is.

quota
    For VPCs (vpc L-F678F1CE), internet gateways (vpc L-A4707A72), NAT gateways per
    Availability Zone (vpc L-FE5A380F) and Elastic IPs (ec2 L-0263D0A3): what the region
    already uses, this stack's own resources left out, plus what the template creates fits the
    quota. The quota is the applied value from Service Quotas, else the AWS default from
    Service Quotas, else the documented default (5 for each); the line says which. Other
    quotas (ENIs, Fargate vCPUs, security groups, ...) are not checked, and other deploys
    running at the same time can still use up the headroom.

concurrency
    Only for functions with reserved concurrency: their reservations fit what the account
    leaves unreserved (`lambda get-account-settings`; an update's own functions give back
    what `get-function-concurrency` says they hold) less the 100 AWS always keeps unreserved,
    so an account limited to 100 or fewer concurrent executions (as many new ones are) can
    reserve none. A FAIL prints the quota increase (lambda L-B99A9384) that makes room.

ses identity / ses sandbox / exports
    An SES identity the template creates must not exist already unless this very stack owns
    it (CloudFormation cannot create it twice, e.g. dev and prod of one blueprint sending from
    one address in one account). After deploy SES mails a verification link (address) or
    shows DKIM records (domain), and a sandboxed account sends only to verified addresses:
    both are NOTEs, with the command that requests production access. Export names the
    template declares must not be exported by another stack in the region. Names that are
    only known at deploy time are reported as not checked.

docker
    A stack with container image assets needs a Docker engine where `cdk deploy` runs:
    `docker info` (or $CDK_DOCKER) must succeed. It does not build the image. FargateService
    can instead build in AWS CodeBuild during the deploy (`-c fargate-service.image=codebuild`).

domain
    No certificate name, alias record, its hosted zone or CloudFront alias is a shipped
    placeholder: a name under example.com (or another reserved domain) or the zone id
    ZREPLACEWITHYOURZONE, which the prod profiles name so that they synthesize without an
    account. A certificate for them could never be validated. Read from the template only: it
    does not check that a real zone is in the account or delegated to.

availability zones / neptune instance / instance type
    Explicit AZ names in the template exist in the region, and `Fn::GetAZs` positions are
    within the region's zones. Each Neptune instance class is orderable for the cluster's
    engine version in the region (and in the instance's AZ); a cluster that names no engine
    version gets the region's default, and then any version offering the class passes. Each
    EC2 instance type the template launches (launch templates, launch configurations,
    instances) is offered in every AZ the template's subnets use; AZ names map to different
    physical zones in each account, which is why offerings are checked per AZ, in this
    account. `Fn::GetAZs` positions are mapped to the region's zones in name order, which is
    what CloudFormation returns unless only some AZs have a default subnet; a stack bound to
    an account and region at synth has literal AZ names and no such doubt. Capacity
    (InsufficientInstanceCapacity) cannot be checked before a launch. DAX node types have no
    orderable-options API and are not checked.

eks version / eks zones / eks endpoint / eks quota / log groups / endpoint services
    deployment/preflight_eks.py: the cluster's Kubernetes version in standard support, no
    subnet in an AZ EKS refuses, a public endpoint someone can reach, cluster and node-group
    quotas; named log groups not left over from an earlier stack; interface endpoint services
    the region offers.

backup copy
    Only for a backup plan that copies recovery points (`backup_copy_vault_arn`): where it backs
    up a DynamoDB table, the region's advanced DynamoDB backup features are on
    (`backup describe-region-settings`, ResourceTypeManagementPreference DynamoDB); without
    them a table's recovery point is a DynamoDB backup that AWS Backup cannot copy, and every
    copy job fails. `--fix` turns them on. A copy to another account is a NOTE: the accounts
    must share an AWS Organization with cross-account backup on (only the management account can
    read or set that) and the destination vault must admit this account; neither is checked.

AWS permissions it uses (all read-only but the last): sts:GetCallerIdentity, ssm:GetParameter,
apigateway:GET, iam:GetRole, servicequotas:GetServiceQuota,
servicequotas:GetAWSDefaultServiceQuota, ec2:DescribeVpcs, ec2:DescribeInternetGateways,
ec2:DescribeNatGateways, ec2:DescribeSubnets, ec2:DescribeAddresses,
ec2:DescribeAvailabilityZones, ec2:DescribeInstanceTypeOfferings, ses:GetEmailIdentity,
ses:GetAccount, cloudformation:ListStackResources, cloudformation:ListExports,
rds:DescribeOrderableDBInstanceOptions, eks:DescribeClusterVersions, eks:ListClusters,
ec2:DescribeVpcEndpointServices, logs:DescribeLogGroups, backup:DescribeRegionSettings,
lambda:GetAccountSettings, lambda:GetFunctionConcurrency; with --fix,
iam:CreateServiceLinkedRole and backup:UpdateRegionSettings. A refused read is a FAIL that
names the call and the permission it needs.

Python API: `run_checks(Assembly("cdk.out").stack("MyBlog"), boto3.Session())` returns the
`CheckResult`s; `format_report` renders them as the command prints them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import boto3
import botocore.exceptions
from boto3 import Session

from deployment.assembly import Assembly, StackArtifact
from deployment.preflight_account import AwsCallFailed
from deployment.preflight_checks import (
    CHECK_WIDTH,
    CHECKS,
    FAIL,
    NO_CREDENTIALS_FIX,
    NOTE,
    PASS,
    CheckResult,
    Preflight,
    connect,
    stage_of,
)
from deployment.preflight_eks import EKS_CHECKS

__all__ = ["CheckResult", "format_report", "main", "run_checks"]


def run_checks(
    stack: StackArtifact,
    session: boto3.Session,
    fix: bool = False,
    deployed_first: frozenset[str] = frozenset(),
) -> list[CheckResult]:
    """Every check for `stack` against the account `session` reaches. Read-only unless `fix`,
    which creates missing service-linked roles. `deployed_first`: the stacks the same deploy
    creates before this one (its dependencies), whose work need not be there yet."""
    results, account = connect(stack, session)
    if account is None:
        return results
    preflight = Preflight(stack, account, fix, deployed_first)
    for check in (*CHECKS, *EKS_CHECKS):
        try:
            results.extend(check(preflight))
        except AwsCallFailed as failure:
            results.append(CheckResult(FAIL, check.check_name, failure.detail, failure.fix))
    return results


def format_report(results: Sequence[CheckResult], stack: StackArtifact) -> str:
    """One aligned line per result, then a summary (left out when the credentials did not work:
    then the one line says what to set)."""
    width = max(CHECK_WIDTH, *(len(result.check) + 1 for result in results))
    lines = [result.line(width) for result in results]
    if len(results) == 1 and results[0].check == "credentials" and results[0].status == FAIL:
        return lines[0]
    counts = {
        status: sum(result.status == status for result in results) for status in (FAIL, NOTE, PASS)
    }
    stage = stage_of(stack)
    target = f"STACK={stack.id}" + (f" STAGE={stage}" if stage != "<stage>" else "")
    verdict = (
        "fix each FAIL, then run the preflight again"
        if counts[FAIL]
        else f"ready: make deploy {target}"
    )
    lines.append(
        f"preflight {stack.id} ({stack.stack_name}): {counts[FAIL]} FAIL, "
        f"{counts[NOTE]} NOTE, {counts[PASS]} PASS; {verdict}"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployment.preflight",
        description="Read-only checks of the AWS account before a stack deploys "
        "(run from the repo root after `cdk synth`).",
    )
    parser.add_argument("stack_id", help="the stack id, e.g. MyBlog (as `cdk list` shows it)")
    parser.add_argument(
        "--assembly", default="cdk.out", help="the synthesized cloud assembly (default: cdk.out)"
    )
    parser.add_argument(
        "--fix", action="store_true", help="create missing service-linked roles (and nothing else)"
    )
    parser.add_argument(
        "--credentials-only",
        action="store_true",
        help="only check that credentials and a region are there (what "
        "`make diff` and `make destroy` need), one line",
    )
    parser.add_argument(
        "--exclusively",
        action="store_true",
        help="check only this stack, not the dependencies `cdk deploy` would "
        "deploy first (as `cdk deploy --exclusively`)",
    )
    args = parser.parse_args(argv)
    try:
        assembly = Assembly(args.assembly)
        stacks = (
            [assembly.stack(args.stack_id)]
            if args.exclusively
            else assembly.deploy_order(args.stack_id)
        )
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 2
    try:
        session = Session()
    except botocore.exceptions.BotoCoreError as error:  # e.g. AWS_PROFILE names no profile
        print(CheckResult(FAIL, "credentials", str(error), NO_CREDENTIALS_FIX).line())
        return 1
    if args.credentials_only:
        results, _ = connect(stacks[-1], session)
        problems = [result for result in results if result.status == FAIL]
        for result in problems:
            print(result.line())
        return 1 if problems else 0
    failed = False
    for position, stack in enumerate(stacks):
        if len(stacks) > 1:  # dependencies first, each in its own region (e.g. us-east-1)
            role = (
                ""
                if stack.id == args.stack_id
                else f", deployed first: {args.stack_id} depends on it"
            )
            print(f"{'' if position == 0 else chr(10)}== {stack.id} ({stack.stack_name}{role})")
        results = run_checks(
            stack, session, fix=args.fix, deployed_first=frozenset(s.id for s in stacks[:position])
        )
        print(format_report(results, stack))
        failed = failed or any(result.status == FAIL for result in results)
        if len(results) == 1 and results[0].check == "credentials":
            break  # no credentials: nothing else can be checked either
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
