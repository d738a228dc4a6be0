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
- `ecs-service-waits-for-capacity-providers`: an ECS service (or Express service) created
  before its cluster's capacity-provider association can fail ("capacity provider ... is not
  associated with the cluster"); AWS's guidance is an explicit dependency.
- `managed-service-waits-for-role-policies`: an ECS Express or App Runner service uses its
  roles from the moment it is created, and ECS drains an Express service with its
  infrastructure role after CloudFormation deleted it; each role's separate policy must be a
  dependency of the service, or the first deploy fails on access denied and the delete hangs.
- `service-image-is-pinned`: an Express or App Runner service runs a fixed tag or digest, never
  `:latest`, and App Runner's automatic deployments stay off.
- `cognito-domain-prefix-allowed`: Cognito refuses a hosted-UI domain prefix that contains
  `aws`, `amazon` or `cognito` ("Domain cannot contain reserved word"), or other characters than
  lower-case letters, digits and hyphens; CDK checks a literal prefix, not one built from the
  stack name at deploy, which is how a stack named after AWS breaks.
- `amplify-token-only-by-reference`: an Amplify app's repository token (`AccessToken`,
  `OauthToken`) and basic-auth passwords must be Secrets Manager (or SSM SecureString) dynamic
  references, never a value: a template is stored and shown by CloudFormation in plain text.
- `failures-raise-an-alarm`: every queue or topic something names as its dead-letter queue or
  on-failure destination (house/failures.py), and every DynamoDB or Kinesis stream mapping, has
  a CloudWatch alarm on it (first message waiting; iterator age) that notifies an SNS topic:
  otherwise failed work waits unseen until its retention deletes it (14 days for a house
  dead-letter queue; a stream's records after 24 hours).
- `kept-data-is-backed-up`: every data store kept when its stack is deleted (DynamoDB table,
  EFS file system, Neptune/RDS/DocumentDB cluster, RDS instance) is selected by an AWS Backup
  plan of its stack, or (EFS) has its automatic backups on: keeping a store without a copy
  protects it from `cdk destroy`, not from a bad write, a deleted table or a lost region.
- `s3-rules-see-bucket-events`: S3 sends a bucket's object events to EventBridge only when the
  bucket's notification configuration says so (`EventBridgeConfiguration`, on the bucket or in
  CDK's notifications custom resource); a rule that matches `aws.s3` events of a bucket of the
  template without it deploys fine and never fires.
- `eventbridge-can-send-to-queues`: EventBridge delivers to an SQS queue (a rule target, or a
  target's dead-letter queue) only if the queue's policy allows `events.amazonaws.com`
  `sqs:SendMessage`, limited to the rule (`aws:SourceArn`) or at least the account
  (`aws:SourceAccount`: what CDK writes for a KMS-encrypted queue) so no other account's rule can
  write to it; a queue encrypted with a KMS key needs that key's policy to let EventBridge
  `kms:GenerateDataKey` and `kms:Decrypt`, which the AWS managed `alias/aws/sqs` key can never
  do. Without these the deploy succeeds and every event fails delivery ("permissions to a
  target": dropped, or parked in the dead-letter queue without retries).
- `endpoints-have-policies`: every VPC endpoint has a policy, and none allows every action on
  every resource to every principal without a condition (the default when the policy is left
  out): a compromised task could otherwise copy data to any account through it.
- `ecs-service-waits-for-capacity-providers`: an ECS service created before its cluster's
  capacity-provider association can fail ("capacity provider ... is not associated with the
  cluster"); AWS's guidance is an explicit dependency.
- `cloudfront-can-decrypt-its-origins`: CloudFront reads an S3 origin through origin access
  control with its service principal, and S3 decrypts an SSE-KMS object with the caller's
  rights; IAM cannot grant a service principal, so the KEY policy must allow
  `cloudfront.amazonaws.com` kms:Decrypt for the distribution (aws:SourceArn), and a bucket on
  the AWS managed aws/s3 key (whose policy admits only the account) cannot be an origin at all.
  Otherwise the deploy succeeds and every request answers 403 (CloudFront Developer Guide,
  "Restrict access to an Amazon S3 origin", SSE-KMS). An origin read through
  `Fn::GetStackOutput` (a failover replica in a companion stack) is checked in that stack's
  template.
- `origin-group-methods`: CloudFront fails over only GET, HEAD and OPTIONS requests, and
  refuses a distribution whose cache behaviour targets an origin group but allows other methods
  (CloudFront Developer Guide, "Optimize high availability with CloudFront origin failover");
  the default behaviour of an app that takes POST/PUT stays on a single origin.
- `origin-groups-are-whole`: an origin group has exactly two members (a primary and a second
  origin; `Quantity` says so), both origins of the same distribution and not the same origin,
  an id no origin has, and failover status codes CloudFront accepts (400, 403, 404, 416, 500,
  502, 503, 504) with a matching `Quantity`; CloudFront refuses anything else at deploy.
- `no-launch-configuration`: accounts created on or after 1 October 2024 cannot create
  `AWS::AutoScaling::LaunchConfiguration` by any means (CloudFormation included), and no
  instance type newer than 2022 works in one; an Auto Scaling group must use a launch template.
- `replication-needs-versioning`: S3 refuses a replication configuration on a bucket without
  versioning, and a destination bucket without it; the destination is checked where the
  template shows it (this template, or a companion's through `Fn::GetStackOutput`).
- `replication-is-deployable`: what else S3 refuses or silently skips: a rule with a Filter
  needs a Priority and DeleteMarkerReplication (priorities unique), delete markers replicate
  only under a Filter, an SSE-KMS source needs `SseKmsEncryptedObjects` Enabled (else S3 skips
  every object) and then a `ReplicaKmsKeyID`, and a replication role in the template must be
  assumable by s3.amazonaws.com (else every object's replication fails after a clean deploy).
- `stacks-share-no-unique-name` (within one assembly): no two stacks of one app (two
  instances of a blueprint, or two blueprints) declare the same unique name; the second deploy
  would fail with "already exists".
- EKS (deployment/rules_eks.py): upgrade policy stated, secrets key usable before the
  cluster, no access entry EKS creates itself, add-ons and nodes after what they need,
  Fargate profiles one at a time and in private subnets, control plane in two AZs.
- `stages-share-no-unique-name` (across two assemblies): dev and prod synthesized for one
  account and region declare no unique name twice.

`violations(stack)` runs every single-stack rule; `stacks_sharing_unique_names(assembly)` the
within-app rule; `shared_unique_names(a, b, ...)` the cross-stage rule. Each violation names the
rule, the stack, the resource and what to do.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Callable, Iterable

from deployment.assembly import Assembly, StackArtifact
from deployment.preflight_needs import logging_api_stages
from deployment.rules_eks import EKS_RULES
from house import failures
from house.backup import needs_backup
from house.images import pinned

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
    "AWS::AppRunner::AutoScalingConfiguration": "AutoScalingConfigurationName",
    "AWS::AppRunner::ObservabilityConfiguration": "ObservabilityConfigurationName",
    "AWS::AppRunner::Service": "ServiceName",
    "AWS::AppRunner::VpcConnector": "VpcConnectorName",
    "AWS::AutoScaling::AutoScalingGroup": "AutoScalingGroupName",
    "AWS::AutoScaling::LaunchConfiguration": "LaunchConfigurationName",
    "AWS::Backup::BackupVault": "BackupVaultName",
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
    "AWS::EKS::Cluster": "Name",
    "AWS::ECS::ExpressGatewayService": "ServiceName",  # unique per cluster
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
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
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
    for logical_id, resource in stack.resources("AWS::ECS::Service", EXPRESS_SERVICE):
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


EXPRESS_SERVICE = "AWS::ECS::ExpressGatewayService"
APP_RUNNER_SERVICE = "AWS::AppRunner::Service"


def _depends_on(resource: dict) -> list[str]:
    depends_on = resource.get("DependsOn", [])
    return [depends_on] if isinstance(depends_on, str) else list(depends_on)


def _roles_named(value, roles: set[str]) -> set[str]:
    """Logical ids of the template's roles whose ARN appears anywhere in `value`."""
    found: set[str] = set()
    if isinstance(value, dict):
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and len(attribute) == 2 and attribute[0] in roles:
            found.add(attribute[0])
        for item in value.values():
            found |= _roles_named(item, roles)
    elif isinstance(value, list):
        for item in value:
            found |= _roles_named(item, roles)
    return found


def managed_service_waits_for_role_policies(stack: StackArtifact) -> Iterable[Violation]:
    """An ECS Express service or App Runner service assumes the roles it names as soon as it is
    created (to pull the image, read secrets, create the load balancer), and ECS drains an
    Express service with its infrastructure role after CloudFormation reports it deleted. A
    role's separate AWS::IAM::Policy is ordered against neither: created after the service, the
    first deploy fails on access denied; deleted in parallel, the service hangs in DRAINING."""
    roles = {logical_id for logical_id, _ in stack.resources("AWS::IAM::Role")}
    policies: dict[str, set[str]] = {}
    for logical_id, policy in stack.resources("AWS::IAM::Policy"):
        for role in policy.get("Properties", {}).get("Roles", []):
            if isinstance(role, dict) and role.get("Ref") in roles:
                policies.setdefault(role["Ref"], set()).add(logical_id)
    for logical_id, service in stack.resources(EXPRESS_SERVICE, APP_RUNNER_SERVICE):
        waits_for = set(_depends_on(service))
        for role in sorted(_roles_named(service.get("Properties", {}), roles)):
            for policy in sorted(policies.get(role, set()) - waits_for):
                yield Violation(
                    "managed-service-waits-for-role-policies",
                    stack.id,
                    logical_id,
                    f"the service assumes role {role} but does not depend on its policy "
                    f"{policy}: add the dependency (service.node.add_dependency(role)) so the "
                    "policy exists before the service and outlives it",
                )


def service_image_is_pinned(stack: StackArtifact) -> Iterable[Violation]:
    """A managed service that runs `:latest` (or an untagged image) runs whatever was pushed
    last: a rollback redeploys the new image, and two tasks of one deployment can differ; with
    App Runner's automatic deployments every push goes live without a deploy."""
    for logical_id, service in stack.resources(EXPRESS_SERVICE):
        image = _property(service.get("Properties", {}), "PrimaryContainer.Image")
        if isinstance(image, str) and not pinned(image):
            yield Violation(
                "service-image-is-pinned",
                stack.id,
                logical_id,
                f"image {image!r} names no fixed tag or digest: deploy a tag or a digest",
            )
    for logical_id, service in stack.resources(APP_RUNNER_SERVICE):
        source = service.get("Properties", {}).get("SourceConfiguration", {})
        image = _property(source, "ImageRepository.ImageIdentifier")
        if isinstance(image, str) and not pinned(image):
            yield Violation(
                "service-image-is-pinned",
                stack.id,
                logical_id,
                f"image {image!r} names no fixed tag or digest: deploy a tag or a digest",
            )
        if source.get("AutoDeploymentsEnabled") not in (None, False, "false"):
            yield Violation(
                "service-image-is-pinned",
                stack.id,
                logical_id,
                "automatic deployments put every push live without a deploy (and outside "
                "the template): set AutoDeploymentsEnabled false and deploy new tags",
            )


# Words Cognito refuses in a hosted-UI domain prefix (patterns/identity/user_identity.py).
COGNITO_RESERVED_WORDS = ("aws", "amazon", "cognito")
SECRET_REFERENCE = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):[^}]+\}\}")


def _literals(value) -> list[str]:
    """The literal strings of a CloudFormation value (what is fixed at synth), not the names in
    Ref/GetAtt or the delimiters of Fn::Join/Fn::Split."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _literals(item)]
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn in ("Ref", "Fn::GetAtt", "Fn::ImportValue", "Fn::GetAZs"):
            return []
        if fn in ("Fn::Join", "Fn::Split"):
            return _literals(arg[1])
        if fn == "Fn::Select":
            return _literals(arg[1])
        return _literals(arg)
    return []


def cognito_domain_prefix_allowed(stack: StackArtifact) -> Iterable[Violation]:
    for logical_id, resource in stack.resources("AWS::Cognito::UserPoolDomain"):
        properties = resource.get("Properties", {})
        if properties.get("CustomDomainConfig"):
            continue  # a domain of your own (auth.example.com), not a prefix
        for literal in _literals(properties.get("Domain")):
            refused = [w for w in COGNITO_RESERVED_WORDS if w in literal.lower()]
            bad = re.sub(r"[a-z0-9-]", "", literal)
            if refused or bad:
                yield Violation(
                    "cognito-domain-prefix-allowed",
                    stack.id,
                    logical_id,
                    f"Cognito refuses the domain prefix part {literal!r}: "
                    + (
                        f"it contains the reserved word(s) {', '.join(refused)}"
                        if refused
                        else f"it has characters other than a-z, 0-9 and '-' ({bad!r})"
                    )
                    + "; rename the stack or instance",
                )


def amplify_token_only_by_reference(stack: StackArtifact) -> Iterable[Violation]:
    secrets = {
        "AWS::Amplify::App": (
            "AccessToken",
            "OauthToken",
            "BasicAuthConfig.Password",
            "AutoBranchCreationConfig.BasicAuthConfig.Password",
        ),
        "AWS::Amplify::Branch": ("BasicAuthConfig.Password",),
    }
    for logical_id, resource in stack.resources(*secrets):
        for path in secrets[resource["Type"]]:
            value = _property(resource.get("Properties", {}), path)
            if value is None:
                continue
            if isinstance(value, str) and SECRET_REFERENCE.fullmatch(value):
                continue
            yield Violation(
                "amplify-token-only-by-reference",
                stack.id,
                logical_id,
                f"{path} must be a Secrets Manager dynamic reference "
                "({{resolve:secretsmanager:<name>}}, e.g. cdk.SecretValue.secrets_manager), "
                "not a value: CloudFormation stores and shows a template in plain text",
            )


def _alarms(stack: StackArtifact) -> list[dict]:
    """The properties of every alarm of the stack that notifies an SNS topic."""
    found = []
    for _, alarm in stack.resources("AWS::CloudWatch::Alarm"):
        properties = alarm.get("Properties", {})
        actions = properties.get("AlarmActions") or []
        if any(
            stack.template["Resources"].get(target, {}).get("Type") == "AWS::SNS::Topic"
            for target in failures.referenced(actions)
        ) or any(isinstance(a, str) and ":sns:" in a for a in actions):
            found.append(properties)
    return found


def _watched(alarms: list[dict], metric: str, dimension: str, value) -> bool:
    return any(
        alarm.get("MetricName") == metric
        and any(
            d.get("Name") == dimension and d.get("Value") == value
            for d in alarm.get("Dimensions") or []
        )
        for alarm in alarms
    )


def failures_raise_an_alarm(stack: StackArtifact) -> Iterable[Violation]:
    resources = stack.template.get("Resources", {})
    alarms = _alarms(stack)
    for target, sources in sorted(failures.watched_destinations(resources).items()):
        if resources[target]["Type"] == failures.QUEUE:
            watched = _watched(
                alarms,
                "ApproximateNumberOfMessagesVisible",
                "QueueName",
                {"Fn::GetAtt": [target, "QueueName"]},
            )
        else:
            watched = _watched(
                alarms,
                "NumberOfMessagesPublished",
                "TopicName",
                {"Fn::GetAtt": [target, "TopicName"]},
            )
        if not watched:
            yield Violation(
                "failures-raise-an-alarm",
                stack.id,
                target,
                f"failed work of {', '.join(sorted(sources))} lands here and no alarm that "
                "notifies an SNS topic watches it: it would wait unseen until its retention "
                "deletes it (house/operations.py adds the alarm to every stack app.py builds)",
            )
    for mapping, properties in sorted(failures.stream_mappings(resources).items()):
        if not _watched(alarms, "IteratorAge", "FunctionName", properties.get("FunctionName")):
            yield Violation(
                "failures-raise-an-alarm",
                stack.id,
                mapping,
                "no alarm that notifies an SNS topic watches this stream mapping's iterator age: "
                "a stuck shard would go unseen until the stream drops its records",
            )


def kept_data_is_backed_up(stack: StackArtifact) -> Iterable[Violation]:
    resources = stack.template.get("Resources", {})
    selected = {
        target
        for _, selection in stack.resources("AWS::Backup::BackupSelection")
        for target in failures.referenced(
            selection.get("Properties", {}).get("BackupSelection", {}).get("Resources")
        )
    }
    for logical_id, resource in resources.items():
        if needs_backup(resource) and logical_id not in selected:
            yield Violation(
                "kept-data-is-backed-up",
                stack.id,
                logical_id,
                f"this {resource['Type']} is kept when the stack is deleted but no AWS Backup "
                "selection of the stack names it: a bad write or a deleted store could not be "
                "undone (house/backup.py selects every kept store of the stacks app.py builds)",
            )


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _event_bridge_on(configuration, *, s3_api: bool = False) -> bool:
    """CloudFormation's bucket property says `EventBridgeEnabled: true`; S3's API (what CDK's
    notifications custom resource passes on) switches it on by the empty structure's presence."""
    if not isinstance(configuration, dict) or "EventBridgeConfiguration" not in configuration:
        return False
    setting = configuration["EventBridgeConfiguration"]
    return s3_api or (
        isinstance(setting, dict) and setting.get("EventBridgeEnabled") in (True, "true")
    )


def s3_rules_see_bucket_events(stack: StackArtifact) -> Iterable[Violation]:
    resources = stack.template.get("Resources", {})
    sending = {
        logical_id
        for logical_id, bucket in stack.resources("AWS::S3::Bucket")
        if _event_bridge_on(bucket.get("Properties", {}).get("NotificationConfiguration"))
    } | {
        bucket
        for _, custom in stack.resources("Custom::S3BucketNotifications")
        if _event_bridge_on(
            custom.get("Properties", {}).get("NotificationConfiguration"), s3_api=True
        )
        for bucket in failures.referenced(custom["Properties"].get("BucketName"))
    }
    for rule_id, rule in stack.resources("AWS::Events::Rule"):
        pattern = rule.get("Properties", {}).get("EventPattern")
        if not isinstance(pattern, dict) or "aws.s3" not in _as_list(pattern.get("source")):
            continue
        named = (pattern.get("detail") or {}).get("bucket", {}).get("name")
        for bucket in sorted(set(failures.referenced(named))):
            if resources.get(bucket, {}).get("Type") == "AWS::S3::Bucket" and bucket not in sending:
                yield Violation(
                    "s3-rules-see-bucket-events",
                    stack.id,
                    rule_id,
                    f"this rule matches S3 events of bucket {bucket}, which does not send its "
                    "events to EventBridge: the rule would never fire (turn EventBridge "
                    "delivery on in the bucket's NotificationConfiguration; the house buckets "
                    "do, house/defaults.py)",
                )


def _statements(document) -> list[dict]:
    found = (document or {}).get("Statement", []) if isinstance(document, dict) else []
    return [s for s in _as_list(found) if isinstance(s, dict)]


def _for_eventbridge(statement: dict) -> bool:
    principal = statement.get("Principal")
    services = principal.get("Service") if isinstance(principal, dict) else None
    return statement.get("Effect") == "Allow" and "events.amazonaws.com" in _as_list(services)


def _allows(statement: dict, action: str) -> bool:
    return any(
        isinstance(a, str) and fnmatch.fnmatchcase(action.lower(), a.lower())
        for a in _as_list(statement.get("Action"))
    )


def _limited_to(statement: dict, rule_id: str) -> bool:
    """True if the statement admits EventBridge for this rule only (aws:SourceArn naming it) or
    for this account only (aws:SourceAccount)."""
    for operator, keys in (statement.get("Condition") or {}).items():
        if not isinstance(keys, dict):
            continue
        for key, value in keys.items():
            if key.lower() == "aws:sourcearn" and operator in (
                "ArnEquals",
                "ArnLike",
                "StringEquals",
            ):
                if rule_id in set(failures.referenced(value)):
                    return True
            if key.lower() == "aws:sourceaccount" and operator == "StringEquals":
                return True
    return False


def eventbridge_can_send_to_queues(stack: StackArtifact) -> Iterable[Violation]:
    resources = stack.template.get("Resources", {})
    policies = [
        (set(failures.referenced(p.get("Properties", {}).get("Queues"))), p["Properties"])
        for _, p in stack.resources("AWS::SQS::QueuePolicy")
    ]
    for rule_id, rule in stack.resources("AWS::Events::Rule"):
        for target in rule.get("Properties", {}).get("Targets") or []:
            sends_to = [("target", target.get("Arn"))]
            sends_to.append(
                ("dead-letter queue", (target.get("DeadLetterConfig") or {}).get("Arn"))
            )
            for role, arn in sends_to:
                for queue in sorted(set(failures.referenced(arn))):
                    if resources.get(queue, {}).get("Type") != "AWS::SQS::Queue":
                        continue
                    yield from _queue_admits(stack, rule_id, queue, role, policies)


def _queue_admits(stack, rule_id, queue, role, policies) -> Iterable[Violation]:
    resources = stack.template["Resources"]
    admitting = [
        statement
        for queues, policy in policies
        if queue in queues
        for statement in _statements(policy.get("PolicyDocument"))
        if _for_eventbridge(statement) and _allows(statement, "sqs:SendMessage")
    ]
    where = f"its {role} {queue}"
    if not admitting:
        yield Violation(
            "eventbridge-can-send-to-queues",
            stack.id,
            rule_id,
            f"{where} has no queue policy that lets events.amazonaws.com sqs:SendMessage: every "
            "event would fail delivery (CDK's targets.SqsQueue and dead_letter_queue= add it)",
        )
    elif not any(_limited_to(statement, rule_id) for statement in admitting):
        yield Violation(
            "eventbridge-can-send-to-queues",
            stack.id,
            rule_id,
            f"{where} admits events.amazonaws.com without an aws:SourceArn condition naming "
            "this rule (or aws:SourceAccount): a rule of any account could write to it",
        )
    key = resources[queue].get("Properties", {}).get("KmsMasterKeyId")
    if key is None:
        return
    keys = [
        k for k in failures.referenced(key) if resources.get(k, {}).get("Type") == "AWS::KMS::Key"
    ]
    if not keys:
        if "alias/aws/sqs" in str(key):
            yield Violation(
                "eventbridge-can-send-to-queues",
                stack.id,
                rule_id,
                f"{where} is encrypted with the AWS managed alias/aws/sqs key, whose policy "
                "cannot admit EventBridge: every event would fail delivery; use SQS-managed "
                "encryption or a customer-managed key whose policy admits events.amazonaws.com",
            )
        return  # a key from outside the template: its policy is not ours to read
    policy = resources[keys[0]].get("Properties", {}).get("KeyPolicy")
    usable = [s for s in _statements(policy) if _for_eventbridge(s)]
    if not all(
        any(_allows(s, action) for s in usable) for action in ("kms:GenerateDataKey", "kms:Decrypt")
    ):
        yield Violation(
            "eventbridge-can-send-to-queues",
            stack.id,
            rule_id,
            f"{where} is encrypted with key {keys[0]}, whose policy does not let "
            "events.amazonaws.com kms:GenerateDataKey and kms:Decrypt: every event would fail "
            "delivery (queue.encryption_master_key.grant_encrypt_decrypt(ServicePrincipal("
            '"events.amazonaws.com")))',
        )


def _allows_everything(statement: dict) -> bool:
    def every(value) -> bool:
        return value == "*" or (isinstance(value, list) and "*" in value)

    principal = statement.get("Principal")
    return (
        statement.get("Effect") == "Allow"
        and not statement.get("Condition")
        and (every(principal) or (isinstance(principal, dict) and every(principal.get("AWS"))))
        and every(statement.get("Action"))
        and every(statement.get("Resource"))
    )


def endpoints_have_policies(stack: StackArtifact) -> Iterable[Violation]:
    for logical_id, endpoint in stack.resources("AWS::EC2::VPCEndpoint"):
        policy = endpoint.get("Properties", {}).get("PolicyDocument")
        if policy is None:
            problem = "has no policy, so it admits any principal to any resource of any account"
        elif any(_allows_everything(s) for s in policy.get("Statement", [])):
            problem = "has a policy statement that allows everything to everyone, unconditionally"
        else:
            continue
        yield Violation(
            "endpoints-have-policies",
            stack.id,
            logical_id,
            f"this VPC endpoint {problem}: a compromised task could copy data to another "
            "account through it (house/network.limit_endpoints_to_account gives every endpoint "
            "without a policy the account-only one)",
        )


def _target(value) -> str | None:
    """The logical id a `Ref` or `Fn::GetAtt` names, else None."""
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref" and isinstance(arg, str):
            return arg
        if fn == "Fn::GetAtt":
            return arg.split(".")[0] if isinstance(arg, str) else arg[0]
    return None


def _admits_cloudfront(statement: dict, distribution: str, stack: StackArtifact) -> bool:
    principal = statement.get("Principal")
    services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
    actions = _as_list(statement.get("Action", []))
    if (
        statement.get("Effect") != "Allow"
        or "cloudfront.amazonaws.com" not in services
        or not {"kms:Decrypt", "kms:*", "*"} & set(actions)
    ):
        return False
    source_arns = [
        resolve(arn, stack)
        for operator in (statement.get("Condition") or {}).values()
        for name, value in operator.items()
        if name.lower() == "aws:sourcearn"
        for arn in _as_list(value)
    ]
    # This distribution, or (what CDK writes to break the key/bucket/distribution cycle) every
    # distribution of this account; never unconditioned, which admits any account's.
    return any(
        ":distribution/" in arn
        and (arn.endswith("/*") or f"<ref:{stack.stack_name}/{distribution}" in arn)
        for arn in source_arns
    )


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def cloudfront_can_decrypt_its_origins(stack: StackArtifact) -> Iterable[Violation]:
    resources = stack.template.get("Resources", {})
    for distribution, resource in stack.resources("AWS::CloudFront::Distribution"):
        config = resource.get("Properties", {}).get("DistributionConfig", {})
        for origin in config.get("Origins", []):
            bucket_id = _target(origin.get("DomainName"))
            bucket = resources.get(bucket_id or "", {})
            # A bucket of a companion stack (a failover replica in another region), read
            # through Fn::GetStackOutput: its key is in that stack's template.
            template_resources = resources
            related = _output_of_related(stack, origin.get("DomainName"))
            if related is not None:
                template, value = related
                template_resources = template.get("Resources", {})
                bucket_id = _target(value)
                bucket = template_resources.get(bucket_id or "", {})
            if not origin.get("OriginAccessControlId") or bucket.get("Type") != "AWS::S3::Bucket":
                continue
            encryption = bucket.get("Properties", {}).get("BucketEncryption", {})
            for rule in encryption.get("ServerSideEncryptionConfiguration", []):
                default = rule.get("ServerSideEncryptionByDefault", {})
                if not default.get("SSEAlgorithm", "").startswith("aws:kms"):
                    continue
                key_id = _target(default.get("KMSMasterKeyID"))
                key = template_resources.get(key_id or "", {})
                if "KMSMasterKeyID" in default and key.get("Type") != "AWS::KMS::Key":
                    continue  # a key from elsewhere: its policy is not in this template
                statements = key.get("Properties", {}).get("KeyPolicy", {}).get("Statement", [])
                if any(_admits_cloudfront(s, distribution, stack) for s in statements):
                    continue
                problem = (
                    f"its key {key_id} has no key-policy statement allowing "
                    "cloudfront.amazonaws.com kms:Decrypt for this distribution (aws:SourceArn)"
                    if key_id
                    else "it is encrypted with the AWS managed aws/s3 key, whose policy admits "
                    "only principals of the account"
                )
                yield Violation(
                    "cloudfront-can-decrypt-its-origins",
                    stack.id,
                    bucket_id or "",
                    f"distribution {distribution} reads this bucket through origin access control "
                    f"but {problem}: every request would answer 403 (give the bucket the stack's "
                    "house.defaults.origin_key and serve it with patterns/web/static_site.py)",
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


# What CloudFront allows on a cache behaviour that targets an origin group, and as failover
# criteria (CloudFront Developer Guide, "Create an origin group").
ORIGIN_GROUP_METHODS = {"GET", "HEAD", "OPTIONS"}
FAILOVER_STATUS_CODES = {400, 403, 404, 416, 500, 502, 503, 504}


def _origin_groups(config: dict) -> list[dict]:
    groups = config.get("OriginGroups") or {}
    return groups.get("Items", []) if isinstance(groups, dict) else []


def origin_group_methods(stack: StackArtifact) -> Iterable[Violation]:
    for distribution, resource in stack.resources("AWS::CloudFront::Distribution"):
        config = resource.get("Properties", {}).get("DistributionConfig", {})
        groups = {g.get("Id") for g in _origin_groups(config)}
        behaviours = [config.get("DefaultCacheBehavior") or {}, *config.get("CacheBehaviors", [])]
        for behaviour in behaviours:
            if behaviour.get("TargetOriginId") not in groups:
                continue
            # CloudFormation's default when AllowedMethods is left out is GET and HEAD.
            extra = set(_as_list(behaviour.get("AllowedMethods", ["GET", "HEAD"])))
            extra -= ORIGIN_GROUP_METHODS
            if extra:
                where = behaviour.get("PathPattern", "the default behaviour")
                yield Violation(
                    "origin-group-methods",
                    stack.id,
                    distribution,
                    f"{where} targets origin group {behaviour['TargetOriginId']} but allows "
                    f"{sorted(extra)}: CloudFront accepts an origin group only on behaviours "
                    "that allow GET, HEAD (and OPTIONS); give such a behaviour a single origin",
                )


def origin_groups_are_whole(stack: StackArtifact) -> Iterable[Violation]:
    for distribution, resource in stack.resources("AWS::CloudFront::Distribution"):
        config = resource.get("Properties", {}).get("DistributionConfig", {})
        origins = {o.get("Id") for o in config.get("Origins", [])}
        groups = _origin_groups(config)
        declared = (config.get("OriginGroups") or {}).get("Quantity", len(groups))
        problems = [] if declared == len(groups) else [f"OriginGroups.Quantity {declared}"]
        for group in groups:
            members = (group.get("Members") or {}).get("Items", [])
            ids = [m.get("OriginId") for m in members]
            quantity = (group.get("Members") or {}).get("Quantity")
            codes = ((group.get("FailoverCriteria") or {}).get("StatusCodes")) or {}
            items = codes.get("Items", [])
            if len(ids) != 2 or quantity != 2:
                problems.append(f"{group.get('Id')} has {len(ids)} members (Quantity {quantity})")
            if len(set(ids)) != len(ids):
                problems.append(f"{group.get('Id')} names one origin twice")
            if set(ids) - origins:
                problems.append(
                    f"{group.get('Id')} names no such origin {sorted(set(ids) - origins)}"
                )
            if group.get("Id") in origins:
                problems.append(f"{group.get('Id')} is also an origin's id")
            if not items or codes.get("Quantity") != len(items):
                problems.append(
                    f"{group.get('Id')} status codes {items} (Quantity {codes.get('Quantity')})"
                )
            if set(items) - FAILOVER_STATUS_CODES:
                problems.append(
                    f"{group.get('Id')} fails over on {sorted(set(items) - FAILOVER_STATUS_CODES)}"
                )
        for problem in problems:
            yield Violation(
                "origin-groups-are-whole",
                stack.id,
                distribution,
                f"{problem}: CloudFront refuses the distribution; an origin group is two origins "
                "of this distribution (primary, then second) failing over on status codes among "
                f"{sorted(FAILOVER_STATUS_CODES)}",
            )


# -- S3 replication and CloudFront origin groups (origin failover) -------------------------------


def _output_of_related(stack: StackArtifact, reference) -> tuple[dict, object] | None:
    """For `Fn::GetStackOutput` of a stack this one depends on (a cross-region companion): that
    stack's template and the output's value; None for anything else or a stack not at hand."""
    if not isinstance(reference, dict) or "Fn::GetStackOutput" not in reference:
        return None
    read = reference["Fn::GetStackOutput"]
    for artifact in stack.related:
        properties = artifact.get("properties", {})
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        if properties.get("stackName") != read.get("StackName"):
            continue
        template = StackArtifact(stack.assembly_dir, "", artifact).template
        output = template.get("Outputs", {}).get(read.get("OutputName"), {})
        return template, output.get("Value")
    return None


def _bucket_named(stack: StackArtifact, arn) -> tuple[str, dict] | None:
    """The bucket resource an ARN value names, in this template or (through
    `Fn::GetStackOutput`) a companion's: (where, resource); None when the template cannot
    show it (a literal ARN, an import)."""
    resources = stack.template.get("Resources", {})
    target = _target(arn)
    if resources.get(target or "", {}).get("Type") == "AWS::S3::Bucket":
        return f"{stack.id}/{target}", resources[target]
    related = _output_of_related(stack, arn)
    if related is not None:
        template, value = related
        target = _target(value)
        bucket = template.get("Resources", {}).get(target or "", {})
        if bucket.get("Type") == "AWS::S3::Bucket":
            return f"{arn['Fn::GetStackOutput'].get('StackName')}/{target}", bucket
    return None


def _versioned(bucket: dict) -> bool:
    versioning = bucket.get("Properties", {}).get("VersioningConfiguration", {})
    return versioning.get("Status") == "Enabled"


def replication_needs_versioning(stack: StackArtifact) -> Iterable[Violation]:
    for logical_id, bucket in stack.resources("AWS::S3::Bucket"):
        replication = bucket.get("Properties", {}).get("ReplicationConfiguration")
        if not replication:
            continue
        if not _versioned(bucket):
            yield Violation(
                "replication-needs-versioning",
                stack.id,
                logical_id,
                "S3 refuses a replication configuration on a bucket without versioning "
                "(\"Versioning must be 'Enabled' on the bucket to apply a replication "
                'configuration"): set VersioningConfiguration Status Enabled (CDK: '
                "versioned=True; house secure_bucket does)",
            )
        for rule in _as_list(replication.get("Rules", [])):
            destination = (rule.get("Destination") or {}).get("Bucket")
            found = _bucket_named(stack, destination)
            if found is not None and not _versioned(found[1]):
                yield Violation(
                    "replication-needs-versioning",
                    stack.id,
                    logical_id,
                    f"replication rule {rule.get('Id', '')!r} writes to {found[0]}, which is "
                    "not versioned: S3 refuses a destination bucket without versioning "
                    '("Destination bucket must have versioning enabled")',
                )


def _trusts_s3(role: dict) -> bool:
    document = role.get("Properties", {}).get("AssumeRolePolicyDocument", {})
    for statement in _statements(document):
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        if statement.get("Effect") == "Allow" and "s3.amazonaws.com" in services:
            return True
    return False


def replication_is_deployable(stack: StackArtifact) -> Iterable[Violation]:
    resources = stack.template.get("Resources", {})
    for logical_id, bucket in stack.resources("AWS::S3::Bucket"):
        properties = bucket.get("Properties", {})
        replication = properties.get("ReplicationConfiguration")
        if not replication:
            continue

        def violation(message: str, bucket_id: str = logical_id) -> Violation:
            return Violation("replication-is-deployable", stack.id, bucket_id, message)

        role = resources.get(_target(replication.get("Role")) or "", {})
        if role.get("Type") == "AWS::IAM::Role" and not _trusts_s3(role):
            yield violation(
                f"its replication role {_target(replication.get('Role'))} does not trust "
                "s3.amazonaws.com: S3 cannot assume it, and every object's replication FAILS "
                "(the deploy succeeds)"
            )
        encryption = properties.get("BucketEncryption", {})
        kms_source = any(
            (rule.get("ServerSideEncryptionByDefault") or {})
            .get("SSEAlgorithm", "")
            .startswith("aws:kms")
            for rule in encryption.get("ServerSideEncryptionConfiguration", [])
        )
        rules = _as_list(replication.get("Rules", []))
        for rule in rules:
            name = repr(rule.get("Id", ""))
            if "Filter" in rule and (
                "Priority" not in rule or "DeleteMarkerReplication" not in rule
            ):
                yield violation(
                    f"replication rule {name} has a Filter but no Priority or "
                    'DeleteMarkerReplication: S3 refuses it ("Priority must be specified for '
                    'this version of Cross Region Replication configuration schema")'
                )
            if "Filter" not in rule and "DeleteMarkerReplication" in rule:
                yield violation(
                    f"replication rule {name} sets DeleteMarkerReplication without a Filter: "
                    "only a rule with a Filter (S3's V2 schema) may replicate delete markers"
                )
            criteria = (rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects")
            replicates_kms = (criteria or {}).get("Status") == "Enabled"
            if kms_source and not replicates_kms:
                yield violation(
                    f"the bucket is SSE-KMS but replication rule {name} does not set "
                    "SourceSelectionCriteria.SseKmsEncryptedObjects Enabled: S3 skips every "
                    "SSE-KMS object, so nothing reaches the destination"
                )
            replica_key = (
                (rule.get("Destination") or {}).get("EncryptionConfiguration") or {}
            ).get("ReplicaKmsKeyID")
            if replicates_kms and not replica_key:
                yield violation(
                    f"replication rule {name} replicates SSE-KMS objects without "
                    "Destination.EncryptionConfiguration.ReplicaKmsKeyID: S3 refuses it (the "
                    "replica's key must be named)"
                )
        priorities = [r["Priority"] for r in rules if "Priority" in r]
        if len(priorities) != len(set(priorities)):
            yield violation(f"replication rules share a Priority ({priorities}): S3 refuses it")


READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}


RULES: tuple[Callable[[StackArtifact], Iterable[Violation]], ...] = (
    logging_stage_needs_baseline,
    api_gateway_account_only_in_baseline,
    no_service_linked_role_in_template,
    unique_names_carry_the_stack_name,
    cloudfront_scope_in_us_east_1,
    deploys_without_docker,
    ecs_service_waits_for_capacity_providers,
    *EKS_RULES,
    managed_service_waits_for_role_policies,
    service_image_is_pinned,
    cognito_domain_prefix_allowed,
    amplify_token_only_by_reference,
    failures_raise_an_alarm,
    kept_data_is_backed_up,
    s3_rules_see_bucket_events,
    eventbridge_can_send_to_queues,
    endpoints_have_policies,
    cloudfront_can_decrypt_its_origins,
    no_launch_configuration,
    origin_group_methods,
    origin_groups_are_whole,
    replication_needs_versioning,
    replication_is_deployable,
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
