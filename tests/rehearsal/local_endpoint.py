"""The local AWS endpoint for the deploy rehearsal: moto in server mode, plus a few stand-ins.

    python -m tests.rehearsal.local_endpoint <port>

Each stand-in covers a gap of moto 5.2.5's CloudFormation that would otherwise stop a stack
this library deploys; none of them makes a resource "work", and the rehearsal reports every
resource type moto does not really create (docs/deploying.md lists them per blueprint):

- Custom resources: moto invokes their Lambda function in Docker and waits for it to answer.
  No Docker engine exists here, so the stand-in registers them as created at once, without
  running their code (S3 auto-delete, VPC default-SG restriction, bucket notifications, ...).
- AWS::DynamoDB::GlobalTable (what CDK's TableV2 emits) has no model: it is created as the
  single-region table moto does model (keys, indexes and stream as the template says).
- Types with no model that a template reads attributes of (CloudFront, Cognito, ...): moto
  fails the stack on `Fn::GetAtt`, so each gets a placeholder whose attributes are strings
  named after the resource. Nothing is created.
- Bugs: an API Gateway method with a MOCK integration (every CORS preflight) crashes moto,
  which expects an IntegrationHttpMethod and Uri on every integration; a tagged AWS::KMS::Key
  (every key here is tagged) crashes moto on the tag shape;
  `Fn::GetAtt` on an EFS file system or access point is unimplemented; and a Lambda function
  created from CloudFormation loses its Architectures (recorded as x86_64). The stand-ins fix
  those three so the rehearsal can check what the CLI actually deployed. An
  AWS::Events::Archive's EventPattern (an object in a template) crashes moto, which parses it as
  JSON text, and answers its `Ref` with no name: the stand-in hands the pattern over as text
  and makes `Ref` the archive's name, as CloudFormation does. A stack update whose parameter
  the CLI marks UsePreviousValue crashes moto when the stack took that parameter's default
  (CDK's SSM reads): the stand-in lets the default apply, which was the previous value. An
  AWS::SSM::Parameter's Tags (a key-value map in a template) crash moto, which expects a list
  of {Key, Value}: the stand-in converts them. A REST API imported from an OpenAPI `Body`
  (SpecRestApi) is created without its methods, so its deployment is refused ("The REST API
  doesn't contain any methods"): the stand-in imports the body's paths as `PutRestApi` would.
  And moto creates a resource early when another one refers to it, skipping that resource's
  own DependsOn (an API Gateway deployment before its methods, which API Gateway refuses): the
  stand-in creates the
  DependsOn targets first, as CloudFormation does. moto also names service-linked roles after
  the service principal's first label (`AWSServiceRoleForelasticloadbalancing`); IAM gives them
  fixed names (`AWSServiceRoleForElasticLoadBalancing`), which the preflight looks up. moto has
  no CloudFormation type registry (DescribeType): the stand-in answers that the region offers
  every AWS:: type, so the preflight's region check runs without deciding anything.

- EKS: moto has the EKS API for clusters, node groups and Fargate profiles but no
  CloudFormation models for them; the stand-ins create them through moto's EKS backend from
  the template's properties (version, upgrade policy, access config, Auto Mode, endpoint
  access, logging, encryption), plus the cluster security group EKS would make, so the
  preflight and the smoke read back what CloudFormation passed. Add-ons, access entries and
  Pod Identity associations are placeholders (moto has no API for them). Two APIs moto lacks
  answer as a new account would: DescribeClusterVersions (the asked version, in standard
  support) and Service Quotas' GetAWSDefaultServiceQuota (no value: the preflight falls back
  to the documented default). And an AWS::SSM::Parameter without a Name (the cluster's
  ready barrier) gets a generated one, as CloudFormation gives it; moto crashes on it. An
  AWS::EFS::FileSystem keeps its `FileSystemPolicy` (moto drops it), and `Ref` to an EFS
  access point is its id (moto answers the object's repr). NAT gateways, route tables,
  gateway endpoints and internet gateways are deleted with their stack (moto leaves them, so
  no VPC could be destroyed).
  fixed names (`AWSServiceRoleForElasticLoadBalancing`), which the preflight looks up. And moto
  has no `...FullName` attributes of load balancers and target groups (what CloudWatch's ALB
  metrics and request-count scaling name): the stand-in derives them from the ARNs.

Account state, where AWS refuses a first deploy and moto would not (each refusal becomes the
failed resource's CREATE_FAILED event and a ROLLBACK_COMPLETE stack, as in AWS, and the CLI
reports the message):

- API Gateway refuses a REST API stage that writes access or execution logs until the
  account's API Gateway settings name a CloudWatch Logs role ("CloudWatch Logs role ARN must
  be set in account settings to enable logging"). `AWS::ApiGateway::Account` sets that role,
  and is itself refused unless the role exists and API Gateway may assume it.
- The rehearsed account has asked for more VPCs per region (service quota L-F678F1CE, applied
  value VPC_QUOTA, which raises internet gateways per region, L-A4707A72, with it, as AWS
  does): every dev stack with a VPC stays deployed side by side, more than the
  default 5, and the preflight would refuse the sixth as it refuses it in a real account
  (`make preflight` prints the request-service-quota-increase command).

Three more gaps of moto's, filled so the deploy goes on: an Aurora Serverless v2 instance
(`aurora-postgresql`, no engine version on the instance) gets a default version as RDS gives
it; a security group ingress whose only source is a prefix list (CloudFront's origin-facing
list), or a source moto resolves to nothing, is a placeholder (moto's model refuses it; nothing
here reads the rule back).
"""

from __future__ import annotations

import json
import secrets
import sys

from moto.apigateway.models import Method, RestAPI, apigateway_backends
from moto.awslambda.models import LambdaFunction
from moto.cloudformation import parsing
from moto.cloudformation.custom_model import CustomModel
from moto.cloudformation.models import CloudFormationBackend, Event, Stack, cloudformation_backends
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult
from moto.dynamodb.models.table import Table
from moto.efs.models import AccessPoint, FileSystem
from moto.elbv2.models import FakeLoadBalancer, FakeTargetGroup
from moto.events.models import Archive
from moto.iam.models import IAMBackend, iam_backends
from moto.kms.models import Key
from moto.ssm.models import Parameter

# Types created by a stand-in of this module through moto's own APIs, not by a model of moto's
# CloudFormation: the rehearsal names them in its report.
STAND_IN_TYPES = (
    "AWS::DynamoDB::GlobalTable",
    "AWS::EKS::Cluster",
    "AWS::EKS::Nodegroup",
    "AWS::EKS::FargateProfile",
)

# Unmodelled types whose attributes our templates read: placeholders keep moto going.
PLACEHOLDER_TYPES = (
    "AWS::CloudFront::Distribution",
    # UpdateOffload's origin inside the update server's VPC (moto has no model for it).
    "AWS::CloudFront::VpcOrigin",
    "AWS::CloudFront::Function",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::OriginRequestPolicy",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::IdentityPool",
    "AWS::Cognito::UserPoolDomain",
    "AWS::SES::EmailIdentity",
    "AWS::WAFv2::WebACL",
    "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator",
    "AWS::ApiGateway::ApiKey",  # its id is a stack output (MicroservicesOrders)
    "AWS::Scheduler::Schedule",
    "AWS::SecretsManager::RotationSchedule",
    "AWS::CodeBuild::Project",
    # EKS objects moto has no API for: nothing answers for them after the deploy.
    "AWS::EKS::Addon",
    "AWS::EKS::AccessEntry",
    "AWS::EKS::PodIdentityAssociation",
    # ECS Express Mode and App Runner (ContainerWebApp): no moto model; nothing runs, and the
    # load balancer, certificate and scaling Express Mode creates are not modelled at all.
    "AWS::ECS::ExpressGatewayService",
    "AWS::AppRunner::Service",
    "AWS::AppRunner::VpcConnector",
    "AWS::AppRunner::AutoScalingConfiguration",
    "AWS::AppRunner::ObservabilityConfiguration",
    # Aurora (ContainerWebApp): moto's CloudFormation has no DB cluster model, and the stack reads
    # the cluster's endpoint; its Serverless v2 instances are created as moto's DB instances.
    "AWS::RDS::DBCluster",
    # Attaches the database secret to its cluster; moto has no model (its Ref, the secret's
    # ARN, is what the app's execution role is granted).
    "AWS::SecretsManager::SecretTargetAttachment",
    "AWS::Amplify::App",
    "AWS::Amplify::Branch",
    # Unmodelled by moto's CloudFormation; a dashboard's alarm widget reads each alarm's Arn.
    "AWS::CloudWatch::Alarm",
    # MicroservicesStock's HTTP API (no moto model): its id is published to SSM, which refuses
    # an empty value, and the VPC link and integration ids are what its routes name.
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::VpcLink",
    "AWS::ApiGatewayV2::Integration",
)


def _custom_resource_succeeds(
    cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
):  # noqa: ANN001
    """Register the custom resource as created instead of invoking its handler in Docker and
    waiting for an answer that cannot come. Its data is empty, except what a template reads
    of it: a deploy-time image build (deploy-time-build's ContainerImageBuild) answers the
    tag it pushed, as its CodeBuild job does: the given tag, else <tagPrefix><32 hex>."""
    resource = CustomModel(region_name, "rehearsal", kwargs["LogicalId"], resource_name)
    data = {}
    if kwargs.get("ResourceType") == "Custom::CDKContainerImageBuild":
        properties = cloudformation_json.get("Properties", {})
        data["ImageTag"] = properties.get("imageTag") or (
            f"{properties.get('tagPrefix', '')}{secrets.token_hex(16)}"
        )
    resource.set_data(data)
    stack = cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"])
    stack.add_custom_resource(resource)
    return resource


class _GlobalTableAsTable(CloudFormationModel):
    __module__ = "moto.dynamodb.rehearsal"  # moto's model registry keys models by service

    @staticmethod
    def cloudformation_name_type() -> str:
        return "TableName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::DynamoDB::GlobalTable"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):  # noqa: ANN001
        properties = dict(cloudformation_json["Properties"])
        properties.pop("Replicas", None)
        return Table.create_from_cloudformation_json(
            resource_name,
            {**cloudformation_json, "Properties": properties},
            account_id,
            region_name,
            **kwargs,
        )


# The port a database engine listens on unless its template says otherwise (a security group
# rule reads `Endpoint.Port`, and moto's needs a number): aurora-postgresql, aurora-mysql.
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}


def _placeholder(resource_type: str) -> type:
    class Placeholder(CloudFormationModel):
        __module__ = "moto.cloudformation.rehearsal"

        def __init__(
            self, name: str, account_id: str = "", region_name: str = "", properties=None
        ) -> None:
            self.physical_resource_id = name
            self.account_id, self.region_name = account_id, region_name
            self.properties = properties or {}

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return resource_type

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return True

        def get_cfn_attribute(self, attribute_name: str) -> str:
            if attribute_name in ("DomainName",):
                return f"{self.physical_resource_id.lower()}.cloudfront.net"
            if attribute_name == "Arn":  # moto's IAM refuses a policy whose resource is no ARN
                service = resource_type.split("::")[1].lower()
                return (
                    f"arn:aws:{service}:{self.region_name}:{self.account_id}:"
                    f"{self.physical_resource_id}"
                )
            if attribute_name.endswith("Port"):  # a number where a template reads one
                engine = str(self.properties.get("Engine", ""))
                default = DEFAULT_PORTS.get(engine.split("-")[-1], 443)
                return str(self.properties.get("Port", default))
            return f"{self.physical_resource_id}.{attribute_name}"

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        ):  # noqa: ANN001
            properties = cloudformation_json.get("Properties", {})
            # CloudFormation's Ref of a SecretTargetAttachment is the secret's ARN (the one
            # a database secret's readers are granted; moto's IAM takes only ARNs).
            name = properties.get("SecretId")
            if resource_type == "AWS::SecretsManager::SecretTargetAttachment" and not (
                isinstance(name, str) and name.startswith("arn:")
            ):
                name = f"arn:aws:secretsmanager:{region_name}:{account_id}:secret:{resource_name}"
            return cls(str(name or resource_name), account_id, region_name, properties)

    Placeholder.__name__ = "Placeholder" + resource_type.replace("::", "")
    return Placeholder


# -- account state ---------------------------------------------------------------------------


class DeployRefused(Exception):
    """What the service answers a resource CloudFormation tries to create; becomes CREATE_FAILED."""

    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(reason)
        self.logical_id, self.resource_type, self.reason = logical_id, resource_type, reason


# API Gateway's own words (BadRequestException from CreateStage/UpdateStage).
NO_CLOUDWATCH_ROLE = "CloudWatch Logs role ARN must be set in account settings to enable logging"
ROLE_NOT_ASSUMABLE = "The role ARN does not have required permissions set to API Gateway"


def stage_logs(properties: dict) -> bool:
    """True when a REST API stage writes access logs or execution logs to CloudWatch."""
    if properties.get("AccessLogSetting"):
        return True
    return any(
        str(m.get("LoggingLevel", "OFF")).upper() != "OFF"
        or str(m.get("DataTraceEnabled", "false")).lower() == "true"
        for m in properties.get("MethodSettings", [])
    )


class _AccountStateModel:
    """A resource type whose creation depends on account state: a model names its type and
    decides in `create_from_cloudformation_json` whether the service refuses it. (A mixin: moto
    registers only direct subclasses of CloudFormationModel, and keys each by the service named
    in its own `__module__`, which every model therefore sets.)"""

    TYPE = ""

    def __init__(self, name: str) -> None:
        self.physical_resource_id = name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE


class _ApiGatewayStage(_AccountStateModel, CloudFormationModel):
    """A REST API stage, refused like API Gateway refuses it in an account without the role."""

    __module__ = "moto.apigateway.rehearsal"
    TYPE = "AWS::ApiGateway::Stage"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):  # noqa: ANN001
        properties = cloudformation_json.get("Properties", {})
        account = apigateway_backends[account_id][region_name].get_account()
        if stage_logs(properties) and not account.cloudwatch_role_arn:
            raise DeployRefused(
                kwargs["LogicalId"],
                cls.TYPE,
                f"{NO_CLOUDWATCH_ROLE} (Service: ApiGateway, Status Code: 400)",
            )
        return cls(properties.get("StageName", resource_name))


class _ApiGatewayAccount(_AccountStateModel, CloudFormationModel):
    """API Gateway's account settings: the CloudWatch Logs role every logging stage needs."""

    __module__ = "moto.apigateway.rehearsal"
    TYPE = "AWS::ApiGateway::Account"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):  # noqa: ANN001
        role_arn = cloudformation_json.get("Properties", {}).get("CloudWatchRoleArn")
        if role_arn:
            if not _apigateway_may_assume(account_id, role_arn):
                raise DeployRefused(
                    kwargs["LogicalId"],
                    cls.TYPE,
                    f"{ROLE_NOT_ASSUMABLE} (Service: ApiGateway, Status Code: 400)",
                )
            apigateway_backends[account_id][region_name].update_account(
                [{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}]
            )
        return cls(f"{kwargs['LogicalId']}-account")

    def delete(self, account_id: str, region_name: str) -> None:
        """Nothing: CloudFormation leaves the account setting in place (AWS's docs)."""


def _apigateway_may_assume(account_id: str, role_arn: str) -> bool:
    role_name = role_arn.rsplit("/", 1)[-1]
    roles = [r for r in iam_backends[account_id]["aws"].roles.values() if r.name == role_name]
    if not roles:
        return False
    trust = roles[0].assume_role_policy_document
    trust = json.loads(trust) if isinstance(trust, str) else trust
    for statement in trust.get("Statement", []):
        services = statement.get("Principal", {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        if statement.get("Effect") == "Allow" and "apigateway.amazonaws.com" in services:
            return True
    return False


class _NoOutputs(dict):
    exports: list = []


def _rolls_back_when_refused(original):
    """A refused resource fails the stack the way CloudFormation does: CREATE_FAILED with the
    service's message, then ROLLBACK_COMPLETE (moto alone would answer 500 and hang)."""

    def create_resources(self: Stack) -> None:
        try:
            original(self)
        except DeployRefused as refused:
            self.events.append(
                Event(
                    stack_id=self.stack_id,
                    stack_name=self.name,
                    logical_resource_id=refused.logical_id,
                    physical_resource_id="",
                    resource_type=refused.resource_type,
                    resource_status="CREATE_FAILED",
                    resource_status_reason=refused.reason,
                    resource_properties=None,
                )
            )
            self._add_stack_event(
                "ROLLBACK_IN_PROGRESS",
                resource_status_reason=(
                    f"The following resource(s) failed to create: [{refused.logical_id}]. "
                    "Rollback requested by user."
                ),
            )
            try:
                self.resource_map.delete()
            except Exception:  # noqa: BLE001 - best effort, as moto's own delete is
                pass
            backend = cloudformation_backends[self.account_id][self.region_name]
            for export in self.exports:
                backend.exports.pop(export.name, None)
            # A rolled-back stack has no resources and no outputs (moto would otherwise create
            # the refused resource again the next time anything reads them).
            self.resource_map._resource_json_map = {}
            self.output_map = _NoOutputs()
            self.status = "ROLLBACK_COMPLETE"
            self._add_stack_event("ROLLBACK_COMPLETE")

    return create_resources


def _key_with_tags(original):
    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        tags = [
            {"TagKey": t["Key"], "TagValue": t["Value"]} if "Key" in t else t
            for t in properties.get("Tags", [])
        ]
        cloudformation_json = {**cloudformation_json, "Properties": {**properties, "Tags": tags}}
        return original(resource_name, cloudformation_json, account_id, region_name, **kwargs)

    return classmethod(create)


def _efs_attributes(model: type, attributes: dict[str, str]) -> None:
    """`Fn::GetAtt` names -> the moto object's attribute holding the value."""
    model.has_cfn_attr = classmethod(lambda cls, attr: attr in attributes)
    model.get_cfn_attribute = lambda self, attr: getattr(self, attributes[attr])


def _full_names(original):
    """The `...FullName` attributes CloudWatch's ALB metrics (and request-count scaling) name:
    the ARN's resource after `loadbalancer/` (app/<name>/<id>) or from `targetgroup/`. moto 5.2.5
    has none: a target group has no `Fn::GetAtt` at all (an AttributeError, a 500 the CLI
    retries into "already exists"), a load balancer refuses LoadBalancerFullName."""

    def get(self, attribute_name: str):
        resource = self.arn.split(":", 5)[5]
        if attribute_name == "LoadBalancerFullName":
            return resource.removeprefix("loadbalancer/")
        if attribute_name == "TargetGroupFullName":
            return resource
        if attribute_name == "TargetGroupName":
            return self.name
        return original(self, attribute_name)

    return get


def _no_attributes(self, attribute_name: str):
    raise NotImplementedError(f'"Fn::GetAtt" : [ "{{0}}" , "{attribute_name}" ]"')


def _mock_integration_allowed(original):
    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        integration = properties.get("Integration", {})
        if integration.get("Type") == "MOCK":
            integration = {"IntegrationHttpMethod": None, "Uri": None, **integration}
        cloudformation_json = {
            **cloudformation_json,
            "Properties": {**properties, "Integration": integration},
        }
        return original(resource_name, cloudformation_json, account_id, region_name, **kwargs)

    return classmethod(create)


def _function_keeps_architecture(original):
    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        function = original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        function.architectures = cloudformation_json["Properties"].get("Architectures", ["x86_64"])
        return function

    return classmethod(create)


def _archive_pattern_as_text(original):
    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        if isinstance(properties.get("EventPattern"), dict):
            properties = {**properties, "EventPattern": json.dumps(properties["EventPattern"])}
            cloudformation_json = {**cloudformation_json, "Properties": properties}
        return original(resource_name, cloudformation_json, account_id, region_name, **kwargs)

    return classmethod(create)


def _parameter_tags_as_list(original):
    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        if isinstance(properties.get("Tags"), dict):
            tags = [{"Key": k, "Value": v} for k, v in properties["Tags"].items()]
            cloudformation_json = {
                **cloudformation_json,
                "Properties": {**properties, "Tags": tags},
            }
        return original(resource_name, cloudformation_json, account_id, region_name, **kwargs)

    return classmethod(create)


def _rest_api_imports_its_body(original):
    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        api = original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        body = cloudformation_json.get("Properties", {}).get("Body")
        if isinstance(body, dict) and str(body.get("openapi", "")).startswith("3"):
            backend = apigateway_backends[account_id][region_name]
            backend.put_rest_api(api.id, body, fail_on_warnings=False, mode="overwrite")
        return api

    return classmethod(create)


def _dependencies_first(original):
    def getitem(self, key: str):  # noqa: ANN001
        if key not in self._parsed_resources:
            depends_on = (self._resource_json_map.get(key) or {}).get("DependsOn", [])
            for dependency in [depends_on] if isinstance(depends_on, str) else depends_on:
                if dependency in self._resource_json_map:
                    getitem(self, dependency)
        return original(self, key)

    return getitem


# IAM's names for the service-linked roles these blueprints use (AWS docs, per service).
SERVICE_LINKED_ROLE_NAMES = {
    "ecs.amazonaws.com": "AWSServiceRoleForECS",
    "rds.amazonaws.com": "AWSServiceRoleForRDS",
    "dax.amazonaws.com": "AWSServiceRoleForDAX",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
    "autoscaling.amazonaws.com": "AWSServiceRoleForAutoScaling",
    "elasticfilesystem.amazonaws.com": "AWSServiceRoleForAmazonElasticFileSystem",
    "ecs.application-autoscaling.amazonaws.com": (
        "AWSServiceRoleForApplicationAutoScaling_ECSService"
    ),
    "dynamodb.application-autoscaling.amazonaws.com": (
        "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
    ),
    "replication.dynamodb.amazonaws.com": "AWSServiceRoleForDynamoDBReplication",
    "eks.amazonaws.com": "AWSServiceRoleForAmazonEKS",
    "eks-nodegroup.amazonaws.com": "AWSServiceRoleForAmazonEKSNodegroup",
    "eks-fargate.amazonaws.com": "AWSServiceRoleForAmazonEKSForFargate",
}


def _service_linked_role_named_as_iam_does(original):
    def create(self, service_name: str, description: str, suffix: str):  # noqa: ANN001
        name = SERVICE_LINKED_ROLE_NAMES.get(service_name)
        if not name or suffix:
            return original(self, service_name, description, suffix)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": ["sts:AssumeRole"],
                    "Effect": "Allow",
                    "Principal": {"Service": [service_name]},
                }
            ],
        }
        return self.create_role(
            name,
            json.dumps(trust),
            f"/aws-service-role/{service_name}/",
            permissions_boundary=None,
            description=description,
            tags=[],
            max_session_duration="3600",
            linked_service=service_name,
        )

    return create


# -- EKS -------------------------------------------------------------------------------------


def _camel(value):
    """CloudFormation's PascalCase property shapes as the EKS API's camelCase ones."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value


class _EksCluster(CloudFormationModel):
    """AWS::EKS::Cluster through moto's EKS backend, carrying what moto's model lacks
    (upgrade policy, access config, Auto Mode, deletion protection) so DescribeCluster answers
    with the template's values, and the cluster security group EKS creates."""

    __module__ = "moto.eks.rehearsal"
    ATTRIBUTES = (
        "Arn",
        "Endpoint",
        "CertificateAuthorityData",
        "ClusterSecurityGroupId",
        "EncryptionConfigKeyArn",
        "OpenIdConnectIssuerUrl",
        "Id",
    )

    def __init__(self, cluster, security_group, account_id: str, region_name: str) -> None:
        self.cluster, self.security_group = cluster, security_group
        self.physical_resource_id = cluster.name
        self.account_id, self.region_name = account_id, region_name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EKS::Cluster"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> str:
        cluster = self.cluster
        return {
            "Arn": cluster.arn,
            "Endpoint": cluster.endpoint,
            "CertificateAuthorityData": cluster.certificate_authority["data"],
            "ClusterSecurityGroupId": self.security_group.id,
            "EncryptionConfigKeyArn": next(
                (c.get("provider", {}).get("keyArn", "") for c in cluster.encryption_config), ""
            ),
            "OpenIdConnectIssuerUrl": cluster.identity["oidc"]["issuer"],
            "Id": cluster.name,
        }[attribute_name]

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):  # noqa: ANN001
        from moto.ec2.models import ec2_backends
        from moto.eks.models import eks_backends

        props = cloudformation_json["Properties"]
        name = props.get("Name") or resource_name
        network = _camel(props["ResourcesVpcConfig"])
        ec2 = ec2_backends[account_id][region_name]
        vpc_id = ec2.get_subnet(network["subnetIds"][0]).vpc_id
        group = ec2.create_security_group(
            name=f"eks-cluster-sg-{name}",
            description=f"EKS created security group {name}",
            vpc_id=vpc_id,
        )
        network["clusterSecurityGroupId"] = group.id
        enabled = [
            t["Type"]
            for t in props.get("Logging", {}).get("ClusterLogging", {}).get("EnabledTypes", [])
        ]
        cluster = eks_backends[account_id][region_name].create_cluster(
            name=name,
            role_arn=props["RoleArn"],
            resources_vpc_config=network,
            version=props.get("Version"),
            logging={"clusterLogging": [{"types": enabled, "enabled": True}]} if enabled else None,
            encryption_config=_camel(props.get("EncryptionConfig", [])),
            tags={t["Key"]: t["Value"] for t in props.get("Tags", [])},
        )
        # CloudFormation's default upgrade policy is EXTENDED.
        cluster.upgrade_policy = _camel(props.get("UpgradePolicy") or {"SupportType": "EXTENDED"})
        cluster.access_config = _camel(
            props.get("AccessConfig") or {"AuthenticationMode": "API_AND_CONFIG_MAP"}
        )
        cluster.compute_config = _camel(props.get("ComputeConfig") or {"Enabled": False})
        cluster.deletion_protection = bool(props.get("DeletionProtection"))
        return cls(cluster, group, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        """EKS deletes the security group it made with the cluster (else the VPC cannot go)."""
        from moto.ec2.models import ec2_backends
        from moto.eks.models import eks_backends

        eks_backends[account_id][region_name].delete_cluster(self.cluster.name)
        ec2_backends[account_id][region_name].delete_security_group(group_id=self.security_group.id)


class _EksClusterPart:
    """A node group or Fargate profile made through moto's EKS backend; CloudFormation's `Ref`
    to it is `<cluster>/<name>`. (A mixin: see _AccountStateModel.)"""

    TYPE = NAME_PROPERTY = ""

    def __init__(self, part, name: str) -> None:
        self.part = part
        self.physical_resource_id = f"{part.cluster_name}/{name}"

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.attributes(None)

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.attributes(self.part)[attribute_name]

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):  # noqa: ANN001
        from moto.eks.models import eks_backends

        props = cloudformation_json["Properties"]
        name = props.get(cls.NAME_PROPERTY) or resource_name
        return cls(cls.create(eks_backends[account_id][region_name], props, name), name)


class _EksNodegroup(_EksClusterPart, CloudFormationModel):
    __module__ = "moto.eks.rehearsal"
    TYPE, NAME_PROPERTY = "AWS::EKS::Nodegroup", "NodegroupName"

    @staticmethod
    def attributes(group) -> dict:
        if group is None:
            return {"Arn": "", "ClusterName": "", "NodegroupName": ""}
        return {
            "Arn": group.arn,
            "ClusterName": group.cluster_name,
            "NodegroupName": group.nodegroup_name,
        }

    @staticmethod
    def create(backend, props: dict, name: str):  # noqa: ANN001
        template = props.get("LaunchTemplate")
        return backend.create_nodegroup(
            cluster_name=props["ClusterName"],
            node_role=props["NodeRole"],
            nodegroup_name=name,
            subnets=props["Subnets"],
            scaling_config=_camel(props.get("ScalingConfig")),
            instance_types=props.get("InstanceTypes"),
            ami_type=props.get("AmiType"),
            labels=props.get("Labels"),
            launch_template=_camel(template) if template else None,
            capacity_type=props.get("CapacityType"),
            tags=props.get("Tags"),
        )

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.eks.models import eks_backends

        eks_backends[account_id][region_name].delete_nodegroup(
            self.part.cluster_name, self.part.nodegroup_name
        )


class _EksFargateProfile(_EksClusterPart, CloudFormationModel):
    __module__ = "moto.eks.rehearsal"
    TYPE, NAME_PROPERTY = "AWS::EKS::FargateProfile", "FargateProfileName"

    @staticmethod
    def attributes(profile) -> dict:
        return {"Arn": profile.fargate_profile_arn if profile else ""}

    @staticmethod
    def create(backend, props: dict, name: str):  # noqa: ANN001
        return backend.create_fargate_profile(
            fargate_profile_name=name,
            cluster_name=props["ClusterName"],
            selectors=[
                {
                    "namespace": selector["Namespace"],
                    "labels": {
                        label["Key"]: label["Value"] for label in selector.get("Labels", [])
                    },
                }
                for selector in props["Selectors"]
            ],
            pod_execution_role_arn=props["PodExecutionRoleArn"],
            subnets=props.get("Subnets"),
        )

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.eks.models import eks_backends

        eks_backends[account_id][region_name].delete_fargate_profile(
            self.part.cluster_name, self.part.fargate_profile_name
        )


def _describe_cluster_versions(self) -> str:  # noqa: ANN001
    """DescribeClusterVersions as a new account sees it: the asked versions in standard
    support for a year (moto has no such API; the preflight's version check needs one)."""
    import datetime

    asked = self.querystring.get("clusterVersions", []) or self.querystring.get(
        "clusterVersions[]", []
    )
    end = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=365)).timestamp()
    return json.dumps(
        {
            "clusterVersions": [
                {
                    "clusterVersion": version,
                    "versionStatus": "STANDARD_SUPPORT",
                    "status": "standard-support",
                    "endOfStandardSupportDate": end,
                }
                for version in asked
            ]
        }
    )


def _get_aws_default_service_quota(self) -> str:  # noqa: ANN001
    params = json.loads(self.body)
    return json.dumps(
        {
            "Quota": self.backend.get_service_quota(
                service_code=str(params.get("ServiceCode")),
                quota_code=str(params.get("QuotaCode")),
            )
        }
    )


def _parameter_named_as_cloudformation_does(original):
    """An AWS::SSM::Parameter without a Name (the aws_eks_v2 cluster's ready barrier) gets one
    as CloudFormation gives it, `<stack>-<logical id>-<random>`; moto crashes on None."""

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        if not properties.get("Name"):
            properties = {**properties, "Name": f"{resource_name}-{secrets.token_hex(6)}"}
            cloudformation_json = {**cloudformation_json, "Properties": properties}
        return original(resource_name, cloudformation_json, account_id, region_name, **kwargs)

    return classmethod(create)


def _file_system_keeps_its_policy(original):
    """moto's AWS::EFS::FileSystem ignores `FileSystemPolicy`; EFS applies it with the file
    system, and the smokes read it back (TLS-only)."""

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        file_system = original(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        policy = cloudformation_json.get("Properties", {}).get("FileSystemPolicy")
        if policy:
            file_system.file_system_policy = json.dumps(policy)
        return file_system

    return classmethod(create)


def _network_deletes() -> None:
    """moto's CloudFormation deletes no NAT gateway, route table, gateway endpoint or internet
    gateway (their models have no delete), so no VPC with them goes away; `cdk destroy` of any
    such stack fails with "The vpc ... has dependencies". These delete as EC2 does."""
    from moto.ec2.exceptions import InvalidRouteTableIdError
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.internet_gateways import InternetGateway
    from moto.ec2.models.nat_gateways import NatGateway
    from moto.ec2.models.route_tables import RouteTable
    from moto.ec2.models.vpcs import VPCEndPoint

    def ec2(account_id: str, region_name: str):
        return ec2_backends[account_id][region_name]

    def delete_route_table(self, account_id: str, region_name: str) -> None:
        backend = ec2(account_id, region_name)
        for association in list(self.associations):
            backend.disassociate_route_table(association)
        backend.delete_route_table(self.id)

    def delete_internet_gateway(self, account_id: str, region_name: str) -> None:
        backend = ec2(account_id, region_name)
        if self.vpc:
            backend.detach_internet_gateway(self.id, self.vpc.id)
        backend.delete_internet_gateway(self.id)

    def delete_endpoint(self, account_id: str, region_name: str) -> None:
        backend = ec2(account_id, region_name)
        try:
            backend.delete_vpc_endpoints([self.id])
        except InvalidRouteTableIdError:  # its route tables went first: the routes with them
            backend.vpc_end_points.pop(self.id, None)

    NatGateway.delete = lambda self, a, r: ec2(a, r).delete_nat_gateway(self.id)
    VPCEndPoint.delete = delete_endpoint
    RouteTable.delete = delete_route_table
    InternetGateway.delete = delete_internet_gateway


def _install_eks_stand_ins() -> None:
    from moto.eks import urls as eks_urls
    from moto.eks.responses import EKSResponse
    from moto.servicequotas.responses import ServiceQuotasResponse
    from moto.ssm.models import Parameter

    EKSResponse.describe_cluster_versions = _describe_cluster_versions
    eks_urls.url_paths["{0}/cluster-versions$"] = eks_urls.response.dispatch
    ServiceQuotasResponse.get_aws_default_service_quota = _get_aws_default_service_quota
    Parameter.create_from_cloudformation_json = _parameter_named_as_cloudformation_does(
        Parameter.create_from_cloudformation_json
    )


def _describe_type(self: CloudFormationResponse) -> ActionResult:
    """CloudFormation's type registry, which the preflight asks whether the region offers a
    newer resource type (AWS::ECS::ExpressGatewayService): moto does not implement it. The
    local endpoint stands for a region that offers every AWS:: type."""
    name = self._get_param("TypeName")
    arn = f"arn:aws:cloudformation:{self.region}::type/resource/{name.replace('::', '-')}"
    return ActionResult({"Arn": arn, "Type": "RESOURCE", "TypeName": name})


VPC_QUOTA = 20


def _vpc_quota_raised(original):
    def get_service_quota(self, service_code: str, quota_code: str):
        quota = original(self, service_code, quota_code)
        # Raising VPCs per Region raises internet gateways per Region (L-A4707A72) by the same
        # amount (Amazon VPC quotas): each public dev VPC has one.
        if (service_code, quota_code) in (("vpc", "L-F678F1CE"), ("vpc", "L-A4707A72")):
            return {**quota, "Value": float(VPC_QUOTA)}
        return quota

    return get_service_quota


def _prefix_list_ingress_as_placeholder(original):
    sources = ("CidrIp", "CidrIpv6", "SourceSecurityGroupId", "SourceSecurityGroupName")

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        # A prefix list (CloudFront's origin-facing list, read by a Custom::AWS lookup), or a
        # source moto resolved to nothing: moto's model asserts a CIDR or a group.
        if not any(properties.get(k) for k in sources):
            placeholder = _placeholder("AWS::EC2::SecurityGroupIngress")
            return placeholder(resource_name, account_id, region_name, properties)
        return original(resource_name, cloudformation_json, account_id, region_name, **kwargs)

    return classmethod(create)


def _previous_values_of_defaulted_parameters(original):
    """An update whose parameter says UsePreviousValue (what the CLI sends for every parameter
    it passes no value for, such as CDK's SSM-parameter reads) crashes moto when the previous
    stack took that parameter's default: moto kept only the values passed in. The previous
    value was then the default, which the update applies when given no value."""

    def resolve(self, instance, incoming_params):  # noqa: ANN001
        kept = [
            p
            for p in incoming_params
            if not p.get("UsePreviousValue") or p["ParameterKey"] in instance.parameters
        ]
        return original(self, instance, kept)

    return resolve


def install_stand_ins() -> None:
    from moto.ec2.models.security_groups import SecurityGroupIngress
    from moto.rds.models import DBInstance
    from moto.servicequotas.models import ServiceQuotasBackend

    ServiceQuotasBackend.get_service_quota = _vpc_quota_raised(
        ServiceQuotasBackend.get_service_quota
    )
    DBInstance.default_engine_versions.setdefault("aurora-postgresql", "16.6")
    SecurityGroupIngress.create_from_cloudformation_json = _prefix_list_ingress_as_placeholder(
        SecurityGroupIngress.create_from_cloudformation_json
    )
    CloudFormationResponse.describe_type = _describe_type
    Stack.create_resources = _rolls_back_when_refused(Stack.create_resources)
    CloudFormationBackend._resolve_update_parameters = _previous_values_of_defaulted_parameters(
        CloudFormationBackend._resolve_update_parameters
    )
    parsing.ResourceMap.__getitem__ = _dependencies_first(parsing.ResourceMap.__getitem__)
    IAMBackend.create_service_linked_role = _service_linked_role_named_as_iam_does(
        IAMBackend.create_service_linked_role
    )
    CustomModel.create_from_cloudformation_json = classmethod(_custom_resource_succeeds)
    Key.create_from_cloudformation_json = _key_with_tags(Key.create_from_cloudformation_json)
    LambdaFunction.create_from_cloudformation_json = _function_keeps_architecture(
        LambdaFunction.create_from_cloudformation_json
    )
    Archive.create_from_cloudformation_json = _archive_pattern_as_text(
        Archive.create_from_cloudformation_json
    )
    Archive.physical_resource_id = property(lambda archive: archive.name)
    Parameter.create_from_cloudformation_json = _parameter_tags_as_list(
        Parameter.create_from_cloudformation_json
    )
    RestAPI.create_from_cloudformation_json = _rest_api_imports_its_body(
        RestAPI.create_from_cloudformation_json
    )
    Method.create_from_cloudformation_json = _mock_integration_allowed(
        Method.create_from_cloudformation_json
    )
    FileSystem.create_from_cloudformation_json = _file_system_keeps_its_policy(
        FileSystem.create_from_cloudformation_json
    )
    FakeLoadBalancer.get_cfn_attribute = _full_names(FakeLoadBalancer.get_cfn_attribute)
    FakeTargetGroup.has_cfn_attr = classmethod(lambda cls, attr: True)
    FakeTargetGroup.get_cfn_attribute = _full_names(_no_attributes)
    _efs_attributes(FileSystem, {"Arn": "file_system_arn", "FileSystemId": "file_system_id"})
    _efs_attributes(AccessPoint, {"Arn": "access_point_arn", "AccessPointId": "access_point_id"})
    # `Ref` to an access point is its id (moto answers the object's repr).
    AccessPoint.physical_resource_id = property(lambda self: self.access_point_id)
    # Subclassing CloudFormationModel registers a model; clear moto's cached lookups after.
    _install_eks_stand_ins()
    _network_deletes()
    globals()["_models"] = [
        _EksCluster,
        _EksNodegroup,
        _EksFargateProfile,
        _GlobalTableAsTable,
        _ApiGatewayStage,
        _ApiGatewayAccount,
        *map(_placeholder, PLACEHOLDER_TYPES),
    ]
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()


def main(port: int) -> None:
    install_stand_ins()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"local AWS endpoint on http://localhost:{port}", flush=True)
    try:
        server._thread.join()  # serve until terminated
    finally:
        server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]))
