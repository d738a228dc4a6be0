"""Deploy-time rules: what CloudFormation and the services refuse at deploy, checked at synth.

A template that synthesizes (and passes cdk-nag and cfn-lint) can still fail an hour into its
first deploy. Each rule here is one such failure, found in AWS's docs and public issue
trackers, stated over the synthesized cloud assembly so that it holds for every stack of every
stage, and for any blueprint added later:

- `logging-stage-needs-baseline`: API Gateway refuses a REST stage that writes access or
  execution logs until the account's API Gateway settings name a CloudWatch Logs role
  ("CloudWatch Logs role ARN must be set in account settings to enable logging"); the
  AccountBaseline stack sets it, so such a stack must depend on it.
- `api-gateway-account-only-in-baseline`: `AWS::ApiGateway::Account` is one per account and
  region; a second owner overwrites the first, and deleting it breaks every logging API.
- `no-service-linked-role-in-template`: `AWS::IAM::ServiceLinkedRole` fails when the role
  exists already (any account that used the service); `make preflight FIX=1` creates them.
- `unique-names-carry-the-stack-name`: an explicit physical name of a resource that must be
  unique per account or region (CloudFront policies and functions, roles, queues, clusters, ...)
  must contain the stack name, which carries the stage, or dev and prod (and two instances of
  one blueprint) cannot share an account. CDK derives several such names from the stack *id*.
- `cloudfront-scope-in-us-east-1`: a CLOUDFRONT-scope WAF web ACL, and an ACM certificate a
  distribution uses, can only be created in us-east-1.
- `deploys-without-docker`: a container image asset makes `cdk deploy` run `docker build`
  where you deploy from; the shipped settings of every stage must not need it.
- `ecs-service-waits-for-capacity-providers`: an ECS service created before its cluster's
  capacity-provider association can fail ("capacity provider ... is not associated with the
  cluster"); AWS's guidance is an explicit dependency.
- `no-launch-configuration`: accounts created on or after 1 October 2024 cannot create
  `AWS::AutoScaling::LaunchConfiguration` by any means (CloudFormation included), and no
  instance type newer than 2022 works in one; an Auto Scaling group must use a launch template.
- `stacks-share-no-unique-name` (within one assembly): no two stacks of one app (two
  instances of a blueprint, or two blueprints) declare the same unique name; the second deploy
  would fail with "already exists".
- `stages-share-no-unique-name` (across two assemblies): dev and prod synthesized for one
  account and region declare no unique name twice.

`violations(stack)` runs every single-stack rule; `stacks_sharing_unique_names(assembly)` the
within-app rule; `shared_unique_names(a, b, ...)` the cross-stage rule. Each violation names the
rule, the stack, the resource and what to do.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable

from deployment.assembly import Assembly, StackArtifact
from deployment.preflight_needs import logging_api_stages

BASELINE_STACK_ID = "AccountBaseline"


@dataclasses.dataclass(frozen=True)
class Violation:
    rule: str
    stack: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.stack}/{self.resource}: {self.message}"


# -- physical names that must be unique ----------------------------------------------------------

# Resource type -> the property path of its physical name, for every type whose name must be
# unique within an account (global services) or an account and region. CloudFormation generates
# a unique name when the property is absent; the rules look only at names a template sets.
UNIQUE_NAMES: dict[str, str] = {
    "AWS::ApiGateway::ApiKey": "Name",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "",  # unique per scalable target only
    "AWS::AutoScaling::AutoScalingGroup": "AutoScalingGroupName",
    "AWS::AutoScaling::LaunchConfiguration": "LaunchConfigurationName",
    "AWS::CertificateManager::Certificate": "",
    "AWS::CloudFront::CachePolicy": "CachePolicyConfig.Name",
    "AWS::CloudFront::Function": "Name",
    "AWS::CloudFront::KeyValueStore": "Name",
    "AWS::CloudFront::OriginAccessControl": "OriginAccessControlConfig.Name",
    "AWS::CloudFront::OriginRequestPolicy": "OriginRequestPolicyConfig.Name",
    "AWS::CloudFront::ResponseHeadersPolicy": "ResponseHeadersPolicyConfig.Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::CodeBuild::Project": "Name",
    "AWS::Cognito::UserPoolDomain": "Domain",
    "AWS::DAX::Cluster": "ClusterName",
    "AWS::DAX::ParameterGroup": "ParameterGroupName",
    "AWS::DAX::SubnetGroup": "SubnetGroupName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::EC2::LaunchTemplate": "LaunchTemplateName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::ECS::CapacityProvider": "Name",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Neptune::DBCluster": "DBClusterIdentifier",
    "AWS::Neptune::DBClusterParameterGroup": "Name",
    "AWS::Neptune::DBInstance": "DBInstanceIdentifier",
    "AWS::Neptune::DBParameterGroup": "Name",
    "AWS::Neptune::DBSubnetGroup": "DBSubnetGroupName",
    "AWS::NeptuneGraph::Graph": "GraphName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SageMaker::NotebookInstance": "NotebookInstanceName",
    "AWS::SageMaker::NotebookInstanceLifecycleConfig": "NotebookInstanceLifecycleConfigName",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SES::ConfigurationSet": "Name",
    "AWS::SES::EmailIdentity": "EmailIdentity",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SSM::Parameter": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::WAFv2::IPSet": "Name",
    "AWS::WAFv2::WebACL": "Name",
}
UNIQUE_NAMES = {t: p for t, p in UNIQUE_NAMES.items() if p}
# Names that are an address, not a label: they cannot carry a stage. Two stages in one account
# and region must use different addresses (checked across stages, and by the preflight).
ADDRESS_NAMES = {"AWS::SES::EmailIdentity"}


def resolve(
    value, stack: StackArtifact, region: str | None = None, account: str | None = None
) -> str:
    """A CloudFormation value as text, with pseudo parameters filled in (`region`/`account`
    default to the stack's own, else a `<AWS::Region>` marker) and a reference to a resource
    as `<ref:Stack/Logical>`: CloudFormation-generated ids are unique in their stack."""
    region = region or stack.region or "<AWS::Region>"
    account = account or stack.account or "<AWS::AccountId>"
    pseudo = {
        "AWS::StackName": stack.stack_name,
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }

    def text(v) -> str:
        if isinstance(v, str):
            return v
        if isinstance(v, (int, float, bool)):
            return str(v)
        if isinstance(v, list):
            return ",".join(text(i) for i in v)
        if isinstance(v, dict) and len(v) == 1:
            ((fn, arg),) = v.items()
            if fn == "Ref":
                return pseudo.get(arg, f"<ref:{stack.stack_name}/{arg}>")
            if fn == "Fn::GetAtt":
                target = arg if isinstance(arg, str) else ".".join(map(str, arg))
                return f"<ref:{stack.stack_name}/{target}>"
            if fn == "Fn::Join":
                return text(arg[0]).join(text(i) for i in arg[1])
            if fn == "Fn::Sub":
                body, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

                def sub(match: re.Match) -> str:
                    name = match.group(1)
                    if name in variables:
                        return text(variables[name])
                    return text(
                        {"Ref": name} if "." not in name else {"Fn::GetAtt": name.split(".", 1)}
                    )

                return re.sub(r"\$\{([^}!]+)\}", sub, body)
            if fn == "Fn::Select":
                return f"<select:{text(arg[1])}[{text(arg[0])}]>"
            if fn == "Fn::ImportValue":
                return f"<import:{text(arg)}>"
        return f"<{type(v).__name__}>"

    return text(value)


def _property(properties: dict, path: str):
    for part in path.split("."):
        if not isinstance(properties, dict) or part not in properties:
            return None
        properties = properties[part]
    return properties


def unique_names(
    stack: StackArtifact, region: str | None = None, account: str | None = None
) -> list[tuple[str, str, str]]:
    """(resource type, logical id, resolved name) for every unique name the template sets."""
    found = []
    for logical_id, resource in stack.resources(*UNIQUE_NAMES):
        name = _property(resource.get("Properties", {}), UNIQUE_NAMES[resource["Type"]])
        if name is not None:
            found.append((resource["Type"], logical_id, resolve(name, stack, region, account)))
    for key, output in stack.template.get("Outputs", {}).items():
        export = (output.get("Export") or {}).get("Name")
        if export is not None:  # export names are unique per account and region too
            found.append(
                ("AWS::CloudFormation::Export", key, resolve(export, stack, region, account))
            )
    return found


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


# -- single-stack rules --------------------------------------------------------------------------


def logging_stage_needs_baseline(stack: StackArtifact) -> Iterable[Violation]:
    if stack.id == BASELINE_STACK_ID or BASELINE_STACK_ID in stack.dependencies:
        return
    for logical_id in logging_api_stages(stack.template):
        yield Violation(
            "logging-stage-needs-baseline",
            stack.id,
            logical_id,
            "this stage logs to CloudWatch, which API Gateway refuses until the "
            "account's CloudWatch Logs role is set: make the stack depend on the "
            "AccountBaseline stack (stacks/account_baseline.require_baseline)",
        )


def api_gateway_account_only_in_baseline(stack: StackArtifact) -> Iterable[Violation]:
    if stack.id == BASELINE_STACK_ID:
        return
    for logical_id, _ in stack.resources("AWS::ApiGateway::Account"):
        yield Violation(
            "api-gateway-account-only-in-baseline",
            stack.id,
            logical_id,
            "API Gateway's account settings are one per account and region and "
            "belong to the AccountBaseline stack (set cloud_watch_role=False)",
        )


def no_service_linked_role_in_template(stack: StackArtifact) -> Iterable[Violation]:
    for logical_id, resource in stack.resources("AWS::IAM::ServiceLinkedRole"):
        service = resource.get("Properties", {}).get("AWSServiceName", "?")
        yield Violation(
            "no-service-linked-role-in-template",
            stack.id,
            logical_id,
            f"creating the service-linked role of {service} fails in every account "
            "that has it already; `make preflight FIX=1` creates missing ones",
        )


def unique_names_carry_the_stack_name(stack: StackArtifact) -> Iterable[Violation]:
    if stack.id == BASELINE_STACK_ID:  # one per account and region by design
        return
    own_refs = f"<ref:{stack.stack_name}/"
    for resource_type, logical_id, name in unique_names(stack):
        if resource_type in ADDRESS_NAMES:
            continue
        if _normal(stack.stack_name) in _normal(name) or own_refs in name:
            continue
        yield Violation(
            "unique-names-carry-the-stack-name",
            stack.id,
            logical_id,
            f"{resource_type} name {name!r} must be unique per account or region "
            f"but does not contain the stack name {stack.stack_name!r}: dev and "
            "prod (or two instances) would collide; derive it from the stack name",
        )


def cloudfront_scope_in_us_east_1(stack: StackArtifact) -> Iterable[Violation]:
    if stack.region == "us-east-1":
        return
    where = stack.region or "an environment-agnostic stack (region unknown at synth)"
    for logical_id, resource in stack.resources("AWS::WAFv2::WebACL"):
        if resource.get("Properties", {}).get("Scope") == "CLOUDFRONT":
            yield Violation(
                "cloudfront-scope-in-us-east-1",
                stack.id,
                logical_id,
                f"a CLOUDFRONT-scope web ACL can only be created in us-east-1, not "
                f"in {where}: put it in a us-east-1 companion stack",
            )
    certificates = {
        logical_id for logical_id, _ in stack.resources("AWS::CertificateManager::Certificate")
    }
    for _, distribution in stack.resources("AWS::CloudFront::Distribution"):
        viewer = _property(
            distribution.get("Properties", {}),
            "DistributionConfig.ViewerCertificate.AcmCertificateArn",
        )
        if isinstance(viewer, dict) and viewer.get("Ref") in certificates:
            yield Violation(
                "cloudfront-scope-in-us-east-1",
                stack.id,
                viewer["Ref"],
                f"CloudFront reads certificates only from us-east-1, not from "
                f"{where}: create it in a us-east-1 companion stack",
            )


def deploys_without_docker(stack: StackArtifact) -> Iterable[Violation]:
    for asset_id, image in stack.docker_images.items():
        yield Violation(
            "deploys-without-docker",
            stack.id,
            image.get("displayName", asset_id),
            "a container image asset makes `cdk deploy` run `docker build` on the "
            "deploying machine: build it at deploy time in AWS instead (the "
            "blueprint's CodeBuild image setting) or reference a pushed image",
        )


def ecs_service_waits_for_capacity_providers(stack: StackArtifact) -> Iterable[Violation]:
    associations: dict[str, str] = {}  # cluster logical id -> association logical id
    for logical_id, resource in stack.resources("AWS::ECS::ClusterCapacityProviderAssociations"):
        cluster = resource.get("Properties", {}).get("Cluster")
        if isinstance(cluster, dict) and "Ref" in cluster:
            associations[cluster["Ref"]] = logical_id
    for logical_id, resource in stack.resources("AWS::ECS::Service"):
        cluster = resource.get("Properties", {}).get("Cluster")
        association = associations.get(cluster.get("Ref")) if isinstance(cluster, dict) else None
        depends_on = resource.get("DependsOn", [])
        depends_on = [depends_on] if isinstance(depends_on, str) else depends_on
        if association and association not in depends_on:
            yield Violation(
                "ecs-service-waits-for-capacity-providers",
                stack.id,
                logical_id,
                f"the service must depend on {association}, its cluster's "
                "capacity-provider association, or CloudFormation may create it "
                "first and ECS refuses its capacity provider strategy",
            )


def no_launch_configuration(stack: StackArtifact) -> Iterable[Violation]:
    for logical_id, _ in stack.resources("AWS::AutoScaling::LaunchConfiguration"):
        yield Violation(
            "no-launch-configuration",
            stack.id,
            logical_id,
            "accounts created on or after 2024-10-01 cannot create launch configurations "
            "(not even through CloudFormation): give the Auto Scaling group a launch template "
            "(CDK: `launch_template=`, or the feature flag "
            "@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig)",
        )


RULES: tuple[Callable[[StackArtifact], Iterable[Violation]], ...] = (
    logging_stage_needs_baseline,
    api_gateway_account_only_in_baseline,
    no_service_linked_role_in_template,
    unique_names_carry_the_stack_name,
    cloudfront_scope_in_us_east_1,
    deploys_without_docker,
    ecs_service_waits_for_capacity_providers,
    no_launch_configuration,
)


def violations(stack: StackArtifact) -> list[Violation]:
    """Every single-stack rule over one stack."""
    return [v for rule in RULES for v in rule(stack)]


# -- within one app ------------------------------------------------------------------------------

# Names unique per account whatever the region (global services, S3's one namespace).
ACCOUNT_WIDE_NAMES = {
    t for t in UNIQUE_NAMES if t.startswith(("AWS::IAM::", "AWS::CloudFront::"))
} | {"AWS::S3::Bucket"}


def stacks_sharing_unique_names(assembly: Assembly) -> list[Violation]:
    """Unique names (and stack names) two stacks of one assembly both declare: two instances of
    a blueprint, or two blueprints, that would collide in one account. Regional names collide
    only between stacks of one region (an environment-agnostic stack counts as every region)."""
    by_name: dict[tuple[str, str], list[tuple[str, str, str | None]]] = {}
    for stack in assembly.stacks.values():
        names = [("AWS::CloudFormation::Stack", "", stack.stack_name), *unique_names(stack)]
        for resource_type, logical_id, name in names:
            by_name.setdefault((resource_type, name), []).append(
                (stack.id, logical_id, stack.region)
            )
    found = []
    for (resource_type, name), declared in sorted(by_name.items()):
        for position, (stack_id, logical_id, region) in enumerate(declared):
            clash = next(
                (
                    (other_id, other_logical_id)
                    for other_id, other_logical_id, other_region in declared[:position]
                    if other_id != stack_id
                    and (
                        resource_type in ACCOUNT_WIDE_NAMES
                        or region is None
                        or other_region is None
                        or region == other_region
                    )
                ),
                None,
            )
            if clash is not None:
                found.append(
                    Violation(
                        "stacks-share-no-unique-name",
                        stack_id,
                        logical_id or name,
                        f"{resource_type} name {name!r} is also declared by "
                        f"{'/'.join(filter(None, clash))}: both cannot exist in one account; "
                        "derive it from the stack name",
                    )
                )
    return found


# -- across stages -------------------------------------------------------------------------------


def shared_unique_names(
    first: Assembly, second: Assembly, *, region: str, account: str = "111122223333"
) -> list[Violation]:
    """Unique names (and stack names) that both assemblies would create in one account and
    `region`; the AccountBaseline stack is meant to be shared and is left out."""

    def names(assembly: Assembly) -> dict[tuple[str, str], tuple[str, str]]:
        found = {}
        for stack in assembly.stacks.values():
            if stack.id == BASELINE_STACK_ID or (
                stack.region and stack.region != region and stack.region != "us-east-1"
            ):
                continue
            found[("AWS::CloudFormation::Stack", stack.stack_name)] = (stack.id, "")
            for resource_type, logical_id, name in unique_names(stack, region, account):
                found[(resource_type, name)] = (stack.id, logical_id)
        return found

    mine, theirs = names(first), names(second)
    return [
        Violation(
            "stages-share-no-unique-name",
            stack_id,
            logical_id,
            f"{key[0]} name {key[1]!r} is also declared by "
            f"{'/'.join(filter(None, theirs[key]))} of the other assembly: both "
            f"cannot exist in one account and region",
        )
        for key, (stack_id, logical_id) in sorted(mine.items())
        if key in theirs
    ]
