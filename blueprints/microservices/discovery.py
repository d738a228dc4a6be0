"""How the shop's services find each other: SSM parameters, never CloudFormation exports.

    /shop/<project>/<publishing stack's name>/<name>
    e.g. /shop/aws-architecture-blueprints/MicroservicesBus-dev/topic-arn

The fixed first level: SSM refuses a hierarchy whose first level begins with "aws" or "ssm"
("No access to reserved parameter name"), as this repository's own project name does.

The stack name carries the instance, the service and the stage (`TeamShopBus-prod`), so two
stages or two instances never share a parameter, and deployment/rules.py's unique-name rule
holds. A consumer reads a parameter as a CloudFormation parameter of type
`AWS::SSM::Parameter::Value<String>`: resolved at each deploy of the consumer, with no link
between the two stacks. So no stack blocks another's update or deletion (an export would refuse
to change while imported); the price is the order: a parameter must exist when its reader
deploys (`build()` makes each service stack depend on the stacks it reads, which orders
`cdk deploy`, and only that), and a reader keeps the value it read until its next deploy.
"""

from __future__ import annotations

from aws_cdk import aws_ssm as ssm
from constructs import Construct

ROOT = "shop"


def parameter_name(project: str, stack_name: str, name: str) -> str:
    return f"/{ROOT}/{project}/{stack_name}/{name}"


class Directory:
    """The parameters of one instance of the shop: `publish` in the stack that owns a value,
    `lookup` in a stack that needs it (by the owning stack's id)."""

    def __init__(self, project: str, stack_names: dict[str, str]) -> None:
        self.project = project
        self.stack_names = stack_names  # blueprint stack id -> CloudFormation stack name

    def name(self, owner: str, name: str) -> str:
        return parameter_name(self.project, self.stack_names[owner], name)

    def publish(
        self, scope: Construct, owner: str, name: str, value: str, description: str
    ) -> ssm.StringParameter:
        return ssm.StringParameter(
            scope,
            f"Parameter{''.join(part.title() for part in name.split('-'))}",
            parameter_name=self.name(owner, name),
            string_value=value,
            description=description,
        )

    def lookup(self, scope: Construct, owner: str, name: str) -> str:
        """The value `owner` published as `name`, read at deploy time."""
        return ssm.StringParameter.value_for_string_parameter(scope, self.name(owner, name))
