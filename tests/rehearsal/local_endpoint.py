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
  which expects an IntegrationHttpMethod and Uri on every integration; a tagged AWS::KMS::Key (every key here is tagged) crashes moto on the tag shape;
  `Fn::GetAtt` on an EFS file system or access point is unimplemented; and a Lambda function
  created from CloudFormation loses its Architectures (recorded as x86_64). The stand-ins fix
  those three so the rehearsal can check what the CLI actually deployed.
"""

from __future__ import annotations

import sys
from moto.apigateway.models import Method
from moto.awslambda.models import LambdaFunction
from moto.cloudformation import parsing
from moto.cloudformation.custom_model import CustomModel
from moto.cloudformation.models import cloudformation_backends
from moto.core.common_models import CloudFormationModel
from moto.dynamodb.models.table import Table
from moto.efs.models import AccessPoint, FileSystem
from moto.kms.models import Key

# Unmodelled types whose attributes our templates read: placeholders keep moto going.
PLACEHOLDER_TYPES = (
    "AWS::CloudFront::Distribution", "AWS::CloudFront::Function",
    "AWS::CloudFront::OriginAccessControl", "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::OriginRequestPolicy", "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient", "AWS::Cognito::IdentityPool",
    "AWS::Cognito::UserPoolDomain", "AWS::SES::EmailIdentity", "AWS::WAFv2::WebACL",
    "AWS::ApiGateway::Authorizer", "AWS::ApiGateway::Model", "AWS::ApiGateway::RequestValidator",
    "AWS::Scheduler::Schedule", "AWS::SecretsManager::RotationSchedule",
)


def _custom_resource_succeeds(cls, resource_name, cloudformation_json, account_id, region_name,
                              **kwargs):  # noqa: ANN001
    """Register the custom resource as created, with no output data, instead of invoking its
    handler in Docker and waiting for an answer that cannot come."""
    resource = CustomModel(region_name, "rehearsal", kwargs["LogicalId"], resource_name)
    resource.set_data({})
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
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                        region_name, **kwargs):  # noqa: ANN001
        properties = dict(cloudformation_json["Properties"])
        properties.pop("Replicas", None)
        return Table.create_from_cloudformation_json(
            resource_name, {**cloudformation_json, "Properties": properties}, account_id,
            region_name, **kwargs)


def _placeholder(resource_type: str) -> type:
    class Placeholder(CloudFormationModel):
        __module__ = "moto.cloudformation.rehearsal"

        def __init__(self, name: str) -> None:
            self.physical_resource_id = name

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
            return f"{self.physical_resource_id}.{attribute_name}"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                            region_name, **kwargs):  # noqa: ANN001
            return cls(resource_name)

    Placeholder.__name__ = "Placeholder" + resource_type.replace("::", "")
    return Placeholder


def _key_with_tags(original):
    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        tags = [{"TagKey": t["Key"], "TagValue": t["Value"]} if "Key" in t else t
                for t in properties.get("Tags", [])]
        cloudformation_json = {**cloudformation_json, "Properties": {**properties, "Tags": tags}}
        return original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
    return classmethod(create)


def _efs_attributes(model: type, attributes: dict[str, str]) -> None:
    """`Fn::GetAtt` names -> the moto object's attribute holding the value."""
    model.has_cfn_attr = classmethod(lambda cls, attr: attr in attributes)
    model.get_cfn_attribute = lambda self, attr: getattr(self, attributes[attr])


def _mock_integration_allowed(original):
    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        integration = properties.get("Integration", {})
        if integration.get("Type") == "MOCK":
            integration = {"IntegrationHttpMethod": None, "Uri": None, **integration}
        cloudformation_json = {**cloudformation_json,
                               "Properties": {**properties, "Integration": integration}}
        return original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
    return classmethod(create)


def _function_keeps_architecture(original):
    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        function = original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        function.architectures = cloudformation_json["Properties"].get("Architectures", ["x86_64"])
        return function
    return classmethod(create)


def install_stand_ins() -> None:
    CustomModel.create_from_cloudformation_json = classmethod(_custom_resource_succeeds)
    Key.create_from_cloudformation_json = _key_with_tags(Key.create_from_cloudformation_json)
    LambdaFunction.create_from_cloudformation_json = _function_keeps_architecture(
        LambdaFunction.create_from_cloudformation_json)
    Method.create_from_cloudformation_json = _mock_integration_allowed(
        Method.create_from_cloudformation_json)
    _efs_attributes(FileSystem, {"Arn": "file_system_arn", "FileSystemId": "file_system_id"})
    _efs_attributes(AccessPoint, {"Arn": "access_point_arn", "AccessPointId": "access_point_id"})
    # Subclassing CloudFormationModel registers a model; clear moto's cached lookups after.
    globals()["_models"] = [_GlobalTableAsTable, *map(_placeholder, PLACEHOLDER_TYPES)]
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
