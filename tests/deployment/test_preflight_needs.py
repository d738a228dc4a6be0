"""What a template needs, read from small hand-written templates (no AWS, no synth)."""

from __future__ import annotations

import pytest

from deployment import preflight_needs as needs

PSEUDO = {
    "AWS::StackName": "MyBlog-dev",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "111122223333",
    "AWS::Partition": "aws",
}


def template(**resources: dict) -> dict:
    return {"Resources": resources}


def resource(resource_type: str, **properties) -> dict:
    return {"Type": resource_type, "Properties": properties}


GET_AZ_0 = {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
GET_AZ_1 = {"Fn::Select": [1, {"Fn::GetAZs": {"Ref": "AWS::Region"}}]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        (7, "7"),
        ({"Ref": "AWS::StackName"}, "MyBlog-dev"),
        ({"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "Url"]]}, "MyBlog-dev-Url"),
        ({"Fn::Sub": "${AWS::StackName}-${AWS::Region}"}, "MyBlog-dev-eu-west-1"),
        (
            {"Fn::Sub": ["${Name}@example.com", {"Name": {"Ref": "AWS::StackName"}}]},
            "MyBlog-dev@example.com",
        ),
        ({"Fn::Sub": "${!Literal}-x"}, "${Literal}-x"),
        ({"Ref": "SomeParameter"}, None),
        ({"Fn::GetAtt": ["Bucket", "Arn"]}, None),
        ({"Fn::Join": ["", ["a", {"Fn::GetAtt": ["Bucket", "Arn"]}]]}, None),
        ({"Fn::Sub": "${Bucket.Arn}"}, None),
        (True, None),
    ],
)
def test_literal_resolves_only_what_is_known_before_deploy(value, expected):
    assert needs.literal(value, PSEUDO) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("us-east-1a", "us-east-1a"),
        (GET_AZ_0, 0),
        (GET_AZ_1, 1),
        ({"Fn::Select": [0, {"Fn::GetAZs": "eu-west-1"}]}, None),  # another region's zones
        ({"Ref": "ZoneParameter"}, None),
        (None, None),
    ],
)
def test_availability_zone_refs(value, expected):
    assert needs.availability_zone_ref(value) == expected


def test_availability_zones_collects_subnets_instances_and_neptune_without_duplicates():
    zones = needs.availability_zones(
        template(
            A=resource("AWS::EC2::Subnet", AvailabilityZone=GET_AZ_0),
            B=resource("AWS::EC2::Subnet", AvailabilityZone=GET_AZ_0),
            C=resource("AWS::EC2::Subnet", AvailabilityZone="us-east-1c"),
            D=resource("AWS::EC2::Instance", AvailabilityZone="us-east-1d"),
            E=resource("AWS::Neptune::DBInstance", AvailabilityZone=GET_AZ_1),
            F=resource("AWS::EC2::Subnet", AvailabilityZone={"Ref": "Unknown"}),
        )
    )
    assert zones == [0, "us-east-1c", "us-east-1d", 1]


# --- API Gateway logging ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage_properties", "logs"),
    [
        ({"AccessLogSetting": {"DestinationArn": "arn", "Format": "$context.requestId"}}, True),
        (
            {"MethodSettings": [{"HttpMethod": "*", "ResourcePath": "/*", "LoggingLevel": "INFO"}]},
            True,
        ),
        (
            {
                "MethodSettings": [
                    {"HttpMethod": "*", "ResourcePath": "/*", "LoggingLevel": "ERROR"}
                ]
            },
            True,
        ),
        (
            {
                "MethodSettings": [
                    {"HttpMethod": "*", "ResourcePath": "/*", "DataTraceEnabled": True}
                ]
            },
            True,
        ),
        (
            {
                "MethodSettings": [
                    {
                        "HttpMethod": "*",
                        "ResourcePath": "/*",
                        "LoggingLevel": "OFF",
                        "DataTraceEnabled": False,
                        "MetricsEnabled": True,
                    }
                ]
            },
            False,
        ),
        ({"MethodSettings": [{"ThrottlingRateLimit": 10}]}, False),
        ({"MethodSettings": {"Fn::If": ["Prod", [], []]}}, True),  # unknown until deploy
        ({"StageName": "v1"}, False),
    ],
)
def test_logging_api_stages(stage_properties, logs):
    found = needs.logging_api_stages(
        template(Stage=resource("AWS::ApiGateway::Stage", **stage_properties))
    )
    assert found == (["Stage"] if logs else [])


def test_a_deployment_that_creates_a_logging_stage_counts():
    found = needs.logging_api_stages(
        template(
            Logs=resource("AWS::ApiGateway::Deployment", StageDescription={"LoggingLevel": "INFO"}),
            Quiet=resource(
                "AWS::ApiGateway::Deployment", StageDescription={"MetricsEnabled": True}
            ),
            Bare=resource("AWS::ApiGateway::Deployment", RestApiId="api"),
        )
    )
    assert found == ["Logs"]


# --- service-linked roles -----------------------------------------------------------------


def roles(**resources: dict) -> dict[str, list[str]]:
    return {
        role.role_name: types
        for role, types in needs.service_linked_roles(template(**resources)).items()
    }


def test_service_linked_roles_by_resource_type():
    assert roles(
        Cluster=resource("AWS::ECS::Cluster"),
        Service=resource("AWS::ECS::Service"),
        Graph=resource("AWS::Neptune::DBCluster"),
        Database=resource("AWS::RDS::DBInstance"),
        Cache=resource("AWS::DAX::Cluster"),
        Alb=resource("AWS::ElasticLoadBalancingV2::LoadBalancer"),
        Files=resource("AWS::EFS::FileSystem"),
        Group=resource("AWS::AutoScaling::AutoScalingGroup"),
    ) == {
        "AWSServiceRoleForECS": ["AWS::ECS::*"],
        "AWSServiceRoleForRDS": ["AWS::Neptune::*", "AWS::RDS::*"],
        "AWSServiceRoleForDAX": ["AWS::DAX::Cluster"],
        "AWSServiceRoleForElasticLoadBalancing": ["AWS::ElasticLoadBalancingV2::LoadBalancer"],
        "AWSServiceRoleForAmazonElasticFileSystem": ["AWS::EFS::FileSystem"],
        "AWSServiceRoleForAutoScaling": ["AWS::AutoScaling::AutoScalingGroup"],
    }


def test_service_linked_role_principals_are_the_create_service_linked_role_names():
    principals = {
        role.role_name: role.service
        for role in needs.service_linked_roles(
            template(
                Cluster=resource("AWS::ECS::Cluster"),
                Graph=resource("AWS::Neptune::DBCluster"),
                Cache=resource("AWS::DAX::Cluster"),
            )
        )
    }
    assert principals == {
        "AWSServiceRoleForECS": "ecs.amazonaws.com",
        "AWSServiceRoleForRDS": "rds.amazonaws.com",
        "AWSServiceRoleForDAX": "dax.amazonaws.com",
    }


def test_scalable_targets_need_the_application_auto_scaling_role_of_their_namespace():
    slr_arn = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":iam::",
                {"Ref": "AWS::AccountId"},
                ":role/aws-service-role/ecs.application-autoscaling.amazonaws"
                ".com/AWSServiceRoleForApplicationAutoScaling_ECSService",
            ],
        ]
    }
    assert roles(
        Ecs=resource(
            "AWS::ApplicationAutoScaling::ScalableTarget", ServiceNamespace="ecs", RoleARN=slr_arn
        ),
        Table=resource("AWS::ApplicationAutoScaling::ScalableTarget", ServiceNamespace="dynamodb"),
        Legacy=resource(
            "AWS::ApplicationAutoScaling::ScalableTarget",
            ServiceNamespace="ecs",
            RoleARN="arn:aws:iam::111122223333:role/my-scaling-role",
        ),
    ) == {
        "AWSServiceRoleForApplicationAutoScaling_ECSService": [
            "AWS::ApplicationAutoScaling::ScalableTarget (ecs)"
        ],
        "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable": [
            "AWS::ApplicationAutoScaling::ScalableTarget (dynamodb)"
        ],
    }


def test_roles_the_template_does_not_need():
    assert (
        roles(
            Own=resource("AWS::AutoScaling::AutoScalingGroup", ServiceLinkedRoleARN="arn:custom"),
            Single=resource("AWS::DynamoDB::GlobalTable", Replicas=[{"Region": "us-east-1"}]),
            Queue=resource("AWS::SQS::Queue"),
        )
        == {}
    )


def test_a_global_table_with_replicas_needs_the_replication_role():
    assert roles(
        Table=resource(
            "AWS::DynamoDB::GlobalTable",
            Replicas=[{"Region": "us-east-1"}, {"Region": "eu-west-1"}],
        )
    ) == {"AWSServiceRoleForDynamoDBReplication": ["AWS::DynamoDB::GlobalTable (replicas)"]}


# --- quotas -------------------------------------------------------------------------------


def test_regional_quota_demand_counts_resources():
    vpc_template = template(
        A=resource("AWS::EC2::VPC"),
        B=resource("AWS::EC2::VPC"),
        Ip=resource("AWS::EC2::EIP", Domain="vpc"),
    )
    assert needs.quota_demand(vpc_template, needs.VPCS) == {None: 2}
    assert needs.quota_demand(vpc_template, needs.ELASTIC_IPS) == {None: 1}
    assert not needs.quota_demand(vpc_template, needs.INTERNET_GATEWAYS)


def test_nat_gateway_demand_is_per_availability_zone_of_its_subnet():
    demand = needs.quota_demand(
        template(
            Public1=resource("AWS::EC2::Subnet", AvailabilityZone=GET_AZ_0),
            Public2=resource("AWS::EC2::Subnet", AvailabilityZone="us-east-1b"),
            Nat1=resource("AWS::EC2::NatGateway", SubnetId={"Ref": "Public1"}),
            Nat1b=resource("AWS::EC2::NatGateway", SubnetId={"Ref": "Public1"}),
            Nat2=resource("AWS::EC2::NatGateway", SubnetId={"Ref": "Public2"}),
            Imported=resource("AWS::EC2::NatGateway", SubnetId="subnet-0123"),
        ),
        needs.NAT_GATEWAYS,
    )
    assert demand == {0: 2, "us-east-1b": 1, None: 1}


def test_quota_codes():
    assert [
        (quota.service_code, quota.quota_code, quota.documented_default) for quota in needs.QUOTAS
    ] == [
        ("vpc", "L-F678F1CE", 5),
        ("vpc", "L-A4707A72", 5),
        ("vpc", "L-FE5A380F", 5),
        ("ec2", "L-0263D0A3", 5),
    ]


# --- SES, exports, instance classes and types ---------------------------------------------


def test_email_identities_and_export_names_as_written():
    declared = {
        "Resources": {
            "Sender": resource("AWS::SES::EmailIdentity", EmailIdentity="welcome@example.com")
        },
        "Outputs": {
            "Url": {"Value": "x", "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-Url"}}},
            "Plain": {"Value": "y"},
        },
    }
    assert needs.email_identities(declared) == [("Sender", "welcome@example.com")]
    assert needs.export_names(declared) == [("Url", {"Fn::Sub": "${AWS::StackName}-Url"})]


def test_neptune_instances_take_the_engine_version_of_their_cluster():
    instances = needs.neptune_instances(
        template(
            Graph=resource("AWS::Neptune::DBCluster", EngineVersion="1.4.6.1"),
            Default=resource("AWS::Neptune::DBCluster"),
            Writer=resource(
                "AWS::Neptune::DBInstance",
                DBInstanceClass="db.r6g.large",
                DBClusterIdentifier={"Ref": "Graph"},
                AvailabilityZone="us-east-1a",
            ),
            Other=resource(
                "AWS::Neptune::DBInstance",
                DBInstanceClass={"Ref": "ClassParameter"},
                DBClusterIdentifier={"Ref": "Default"},
            ),
        )
    )
    assert instances == [
        needs.NeptuneInstance("Writer", "db.r6g.large", "1.4.6.1", "us-east-1a"),
        needs.NeptuneInstance("Other", None, None, None),
    ]


def test_launched_instance_types():
    assert needs.launched_instance_types(
        template(
            Launch=resource(
                "AWS::EC2::LaunchTemplate", LaunchTemplateData={"InstanceType": "t4g.micro"}
            ),
            Bastion=resource("AWS::EC2::Instance", InstanceType="t4g.nano"),
            Old=resource("AWS::AutoScaling::LaunchConfiguration", InstanceType="t4g.micro"),
            Mixed=resource(
                "AWS::AutoScaling::AutoScalingGroup",
                MixedInstancesPolicy={
                    "LaunchTemplate": {
                        "Overrides": [{"InstanceType": "c7g.medium"}, {"InstanceRequirements": {}}]
                    }
                },
            ),
            Parameterised=resource("AWS::EC2::Instance", InstanceType={"Ref": "TypeParameter"}),
        )
    ) == {"t4g.micro": ["Launch", "Old"], "t4g.nano": ["Bastion"], "c7g.medium": ["Mixed"]}


def test_an_express_service_needs_the_roles_of_what_ecs_creates_outside_the_template():
    # Its infrastructure role may not create service-linked roles: the preflight must.
    assert roles(Service=resource("AWS::ECS::ExpressGatewayService")) == {
        "AWSServiceRoleForECS": ["AWS::ECS::*"],
        "AWSServiceRoleForElasticLoadBalancing": ["AWS::ECS::ExpressGatewayService"],
        "AWSServiceRoleForApplicationAutoScaling_ECSService": ["AWS::ECS::ExpressGatewayService"],
    }


def test_app_runner_needs_its_own_and_its_networking_role():
    found = {
        role.role_name: role.service
        for role in needs.service_linked_roles(
            template(
                Service=resource("AWS::AppRunner::Service"),
                Connector=resource("AWS::AppRunner::VpcConnector"),
            )
        )
    }
    assert found == {
        "AWSServiceRoleForAppRunner": "apprunner.amazonaws.com",
        "AWSServiceRoleForAppRunnerNetworking": "networking.apprunner.amazonaws.com",
    }
