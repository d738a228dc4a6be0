"""What the ContainerWebApp template promises: Express Mode by default, a pinned image, explicit
sizes, secrets injected by reference only, a least-privilege infrastructure role, a database
that pauses in dev and is kept in prod, and egress as the settings chose it."""

from __future__ import annotations

import json
import re

import pytest

from blueprints.container_web_app.stack import VPC_CIDR
from patterns.containers.express_service import SCALING_METRICS
from patterns.data.serverless_postgres import ENHANCED_MONITORING_SECONDS
from tests.container_web_app.conftest import KEY, STACK_ID
from tests.support.synth import region_of

EXPRESS = "AWS::ECS::ExpressGatewayService"
APP_RUNNER = "AWS::AppRunner::Service"
SECRET_WORDS = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL", re.I)

# Everything the dev stack declares. Express Mode creates the rest (load balancer, listeners,
# rules, target groups, their security group, the certificate, the scalable target and policy,
# the rollback alarm, task definitions) outside the template: none of those types may appear.
OWNED_IN_DEV = {
    "AWS::CodeBuild::Project",
    "AWS::EC2::FlowLog",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::Route",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::Subnet",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::VPC",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::ECR::Repository",
    "AWS::ECS::Cluster",
    "AWS::ECS::ClusterCapacityProviderAssociations",
    "AWS::ECS::ExpressGatewayService",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::Lambda::Function",
    "AWS::Logs::LogGroup",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBClusterParameterGroup",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBSubnetGroup",
    "AWS::SecretsManager::Secret",
    "AWS::SecretsManager::SecretTargetAttachment",
    "Custom::CDKContainerImageBuild",
    "Custom::VpcRestrictDefaultSG",
}
CREATED_BY_EXPRESS_MODE = {
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::CertificateManager::Certificate",
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::ECS::TaskDefinition",
    "AWS::ECS::Service",
}


def settings(assembly):
    """The settings this stage's template was built with (cdk.json's values are checked in
    test_shipped_settings.py)."""
    return assembly.settings(KEY)


def resources(template: dict, resource_type: str) -> dict[str, dict]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def only(template: dict, resource_type: str) -> tuple[str, dict]:
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.items()))


def policy_statements(template: dict, role_id: str) -> list[dict]:
    statements = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def role_of(service: dict, prop: str) -> str:
    return service["Properties"][prop]["Fn::GetAtt"][0]


def actions(statement: dict) -> list[str]:
    value = statement["Action"]
    return [value] if isinstance(value, str) else value


def secret_ids(template: dict) -> set[str]:
    return set(resources(template, "AWS::SecretsManager::Secret")) | set(
        resources(template, "AWS::SecretsManager::SecretTargetAttachment")
    )


def assert_no_secret_in(pairs: list[dict], template: dict) -> None:
    """No name that reads like a secret, no value that is or resolves a secret."""
    secrets = secret_ids(template)
    for pair in pairs:
        assert not SECRET_WORDS.search(pair["Name"]), pair
        text = json.dumps(pair["Value"])
        assert "resolve:secretsmanager" not in text and "resolve:ssm-secure" not in text, pair
        assert not any(secret in text for secret in secrets), pair


# -- the engine and what the stack owns -----------------------------------------------------------


def test_the_stack_runs_the_engine_its_settings_name_and_no_other(assembly):
    template = assembly.template(STACK_ID)
    types = {r["Type"] for r in template["Resources"].values()}
    if settings(assembly).engine == "express":
        assert len(resources(template, EXPRESS)) == 1
        assert not [t for t in types if "AppRunner" in t]
    else:
        assert len(resources(template, APP_RUNNER)) == 1
        assert not [t for t in types if t.startswith("AWS::ECS::")]


def test_the_stack_owns_exactly_these_resource_types_and_none_express_mode_creates(synth):
    template = synth("dev").template(STACK_ID)
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert types == OWNED_IN_DEV
    assert not types & CREATED_BY_EXPRESS_MODE


def test_the_service_runs_on_a_cluster_of_its_own_with_fargate_capacity(assembly):
    template = assembly.template(STACK_ID)
    _, service = only(template, EXPRESS)
    cluster_id, _ = only(template, "AWS::ECS::Cluster")
    assert service["Properties"]["Cluster"] == {"Ref": cluster_id}
    association_id, association = only(template, "AWS::ECS::ClusterCapacityProviderAssociations")
    assert "FARGATE" in association["Properties"]["CapacityProviders"]
    assert association_id in service["DependsOn"]


# -- image, size, scaling, health, logs ------------------------------------------------------------


def test_the_image_is_the_fresh_immutable_tag_of_the_deploy_time_build(assembly):
    template = assembly.template(STACK_ID)
    _, service = only(template, EXPRESS)
    image = service["Properties"]["PrimaryContainer"]["Image"]
    build_id, _ = only(template, "Custom::CDKContainerImageBuild")
    parts = image["Fn::Join"][1]
    assert parts[-2:] == [":", {"Fn::GetAtt": [build_id, "ImageTag"]}]
    repository_id, repository = only(template, "AWS::ECR::Repository")
    assert repository["Properties"]["ImageTagMutability"] == "IMMUTABLE"
    assert {"Ref": repository_id} in parts


def test_size_and_scaling_are_explicit_and_follow_the_settings(assembly):
    s = settings(assembly)
    _, service = only(assembly.template(STACK_ID), EXPRESS)
    properties = service["Properties"]
    # Never Express Mode's console default (1 vCPU / 2 GB) by omission.
    assert (properties["Cpu"], properties["Memory"]) == (str(s.cpu), str(s.memory_mib))
    assert properties["ScalingTarget"] == {
        "MinTaskCount": s.min_tasks,
        "MaxTaskCount": s.max_tasks,
        "AutoScalingMetric": SCALING_METRICS[s.scaling_metric],
        "AutoScalingTargetValue": s.scaling_target,
    }
    assert properties["HealthCheckPath"] == s.health_check_path
    assert properties["PrimaryContainer"]["ContainerPort"] == s.container_port


def test_logs_go_to_a_group_the_stack_owns_with_the_stages_retention(assembly):
    template = assembly.template(STACK_ID)
    _, service = only(template, EXPRESS)
    logs = service["Properties"]["PrimaryContainer"]["AwsLogsConfiguration"]
    group = template["Resources"][logs["LogGroup"]["Ref"]]
    assert group["Properties"]["RetentionInDays"] == assembly.stage_settings.log_retention_days
    execution = role_of(service, "ExecutionRoleArn")
    writes = [
        s for s in policy_statements(template, execution) if "logs:PutLogEvents" in actions(s)
    ]
    assert writes and all(
        s["Resource"] == {"Fn::GetAtt": [logs["LogGroup"]["Ref"], "Arn"]} for s in writes
    )


# -- secrets --------------------------------------------------------------------------------------


def test_database_credentials_are_injected_as_a_secret_never_as_environment(assembly):
    template = assembly.template(STACK_ID)
    _, service = only(template, EXPRESS)
    container = service["Properties"]["PrimaryContainer"]
    assert_no_secret_in(container["Environment"], template)
    assert {pair["Name"] for pair in container["Environment"]} == {"PORT", "APP_ENGINE"}
    (secret,) = container["Secrets"]
    assert secret["Name"] == "DATABASE_SECRET"
    attachment_id, _ = only(template, "AWS::SecretsManager::SecretTargetAttachment")
    assert secret["ValueFrom"] == {"Ref": attachment_id}


def test_only_the_execution_role_reads_the_secret_and_the_task_role_holds_nothing(assembly):
    template = assembly.template(STACK_ID)
    _, service = only(template, EXPRESS)
    attachment_id, _ = only(template, "AWS::SecretsManager::SecretTargetAttachment")
    reads = [
        s
        for s in policy_statements(template, role_of(service, "ExecutionRoleArn"))
        if "secretsmanager:GetSecretValue" in actions(s)
    ]
    assert [s["Resource"] for s in reads] == [{"Ref": attachment_id}]
    assert policy_statements(template, role_of(service, "TaskRoleArn")) == []


def test_app_runner_injects_the_same_secret_by_reference(app_runner):
    template = app_runner.template(STACK_ID)
    _, service = only(template, APP_RUNNER)
    image = service["Properties"]["SourceConfiguration"]["ImageRepository"]
    configuration = image["ImageConfiguration"]
    assert_no_secret_in(configuration["RuntimeEnvironmentVariables"], template)
    attachment_id, _ = only(template, "AWS::SecretsManager::SecretTargetAttachment")
    assert configuration["RuntimeEnvironmentSecrets"] == [
        {"Name": "DATABASE_SECRET", "Value": {"Ref": attachment_id}}
    ]


def test_the_secret_check_itself_catches_a_password_in_the_environment(assembly):
    template = assembly.template(STACK_ID)
    attachment_id, _ = only(template, "AWS::SecretsManager::SecretTargetAttachment")
    for leaked in (
        {"Name": "DB_PASSWORD", "Value": "hunter2"},
        {"Name": "DB", "Value": {"Ref": attachment_id}},
        {"Name": "DB", "Value": "{{resolve:secretsmanager:x:SecretString:password}}"},
    ):
        with pytest.raises(AssertionError):
            assert_no_secret_in([leaked], template)


# -- the infrastructure role ---------------------------------------------------------------------


def test_the_infrastructure_role_is_trusted_by_ecs_and_holds_no_managed_policy(assembly):
    template = assembly.template(STACK_ID)
    _, service = only(template, EXPRESS)
    role = template["Resources"][role_of(service, "InfrastructureRoleArn")]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert "ManagedPolicyArns" not in role["Properties"]


def test_the_infrastructure_role_is_scoped_to_this_account_region_vpc_and_ecs_tags(assembly):
    template = assembly.template(STACK_ID)
    _, service = only(template, EXPRESS)
    statements = policy_statements(template, role_of(service, "InfrastructureRoleArn"))
    assert statements
    read_only = re.compile(r"^[a-z0-9-]+:(Describe|List|Get)")
    vpc_id, _ = only(template, "AWS::EC2::VPC")
    for statement in statements:
        names = actions(statement)
        # The preflight creates the service-linked roles: this role may create none.
        assert "iam:CreateServiceLinkedRole" not in names
        resources_ = statement["Resource"]
        resources_ = resources_ if isinstance(resources_, list) else [resources_]
        if resources_ == ["*"]:
            assert all(read_only.match(name) for name in names), statement
            continue
        for resource in resources_:
            text = json.dumps(resource)
            region = "AWS::Region" in text or f":{region_of(assembly, STACK_ID)}:" in text
            assert region and "AWS::AccountId" in text, resource
        if all(read_only.match(name) for name in names):
            continue
        if names == ["ec2:CreateSecurityGroup"] and "Condition" not in statement:
            assert vpc_id in json.dumps(resources_)
            continue
        assert "Condition" in statement, statement


def test_the_service_waits_for_every_policy_of_its_roles(assembly):
    template = assembly.template(STACK_ID)
    _, service = only(template, EXPRESS)
    for prop in ("InfrastructureRoleArn", "ExecutionRoleArn", "TaskRoleArn"):
        role = role_of(service, prop)
        assert role in service["DependsOn"]
        for policy_id, policy in resources(template, "AWS::IAM::Policy").items():
            if {"Ref": role} in policy["Properties"]["Roles"]:
                assert policy_id in service["DependsOn"]


# -- database -------------------------------------------------------------------------------------


def test_the_database_scales_between_the_settings_and_pauses_only_at_zero(assembly):
    s = settings(assembly)
    _, cluster = only(assembly.template(STACK_ID), "AWS::RDS::DBCluster")
    properties = cluster["Properties"]
    expected = {"MinCapacity": s.database_min_acu, "MaxCapacity": s.database_max_acu}
    if s.database_min_acu == 0:
        expected["SecondsUntilAutoPause"] = s.database_auto_pause_minutes * 60
    assert properties["ServerlessV2ScalingConfiguration"] == expected
    assert properties["BackupRetentionPeriod"] == s.database_backup_retention_days


def test_the_database_keeps_its_data_exactly_when_the_stage_does(assembly):
    keep = assembly.stage_settings.keep_data
    template = assembly.template(STACK_ID)
    _, cluster = only(template, "AWS::RDS::DBCluster")
    assert cluster["DeletionPolicy"] == ("Retain" if keep else "Delete")
    assert cluster["Properties"]["DeletionProtection"] is keep
    instances = resources(template, "AWS::RDS::DBInstance")
    assert all(i["DeletionPolicy"] == cluster["DeletionPolicy"] for i in instances.values())


def test_readers_scale_with_the_writer_one_per_replica(assembly):
    s = settings(assembly)
    instances = resources(assembly.template(STACK_ID), "AWS::RDS::DBInstance")
    assert len(instances) == 1 + s.database_read_replicas
    # Promotion tier 0-1: a reader scales with the writer, so a failover lands on a warm one.
    assert (
        sorted(i["Properties"]["PromotionTier"] for i in instances.values())
        == [0] + [1] * s.database_read_replicas
    )


def test_the_database_is_encrypted_private_tls_only_and_on_a_recent_postgres(assembly):
    template = assembly.template(STACK_ID)
    _, cluster = only(template, "AWS::RDS::DBCluster")
    properties = cluster["Properties"]
    assert properties["Engine"] == "aurora-postgresql"
    major, minor = map(int, properties["EngineVersion"].split("."))
    assert (major, minor) >= (16, 3)  # scale-to-zero needs 13.15/14.12/15.7/16.3 or later
    assert properties["StorageEncrypted"] is True
    assert properties["EnableIAMDatabaseAuthentication"] is True
    assert properties["EnableCloudwatchLogsExports"] == ["postgresql"]
    for instance in resources(template, "AWS::RDS::DBInstance").values():
        assert instance["Properties"]["DBInstanceClass"] == "db.serverless"
        assert instance["Properties"]["PubliclyAccessible"] is False
        # Enhanced Monitoring (Control Tower CT.RDS.PR.2), through a role only RDS assumes.
        assert instance["Properties"]["MonitoringInterval"] == ENHANCED_MONITORING_SECONDS
        role = template["Resources"][instance["Properties"]["MonitoringRoleArn"]["Fn::GetAtt"][0]]
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert properties.get("AutoMinorVersionUpgrade", True) is True  # patches arrive
    _, parameters = only(template, "AWS::RDS::DBClusterParameterGroup")
    assert parameters["Properties"]["Parameters"]["rds.force_ssl"] == "1"
    _, subnet_group = only(template, "AWS::RDS::DBSubnetGroup")
    for subnet in subnet_group["Properties"]["SubnetIds"]:
        assert "isolated" in subnet["Ref"]
    logs = [
        group
        for group in resources(template, "AWS::Logs::LogGroup").values()
        if "postgresql" in json.dumps(group["Properties"].get("LogGroupName", ""))
    ]
    assert len(logs) == 1
    assert logs[0]["Properties"]["RetentionInDays"] == assembly.stage_settings.log_retention_days


def test_only_the_tasks_reach_the_database_and_only_the_vpc_reaches_the_tasks(assembly):
    template = assembly.template(STACK_ID)
    _, service = only(template, EXPRESS)
    (task_group,) = service["Properties"]["NetworkConfiguration"]["SecurityGroups"]
    task_group_id = task_group["Fn::GetAtt"][0]
    (ingress,) = resources(template, "AWS::EC2::SecurityGroupIngress").values()
    assert ingress["Properties"]["SourceSecurityGroupId"] == task_group
    cluster_id, _ = only(template, "AWS::RDS::DBCluster")
    port = {"Fn::GetAtt": [cluster_id, "Endpoint.Port"]}  # 5432, the cluster's port
    assert (ingress["Properties"]["FromPort"], ingress["Properties"]["ToPort"]) == (port, port)
    rules = template["Resources"][task_group_id]["Properties"]["SecurityGroupIngress"]
    port = settings(assembly).container_port
    assert rules == [
        {
            "CidrIp": VPC_CIDR,
            "Description": "From the Express Mode load balancer inside the VPC",
            "FromPort": port,
            "IpProtocol": "tcp",
            "ToPort": port,
        }
    ]


def test_without_a_database_nothing_of_it_is_created(no_database):
    template = no_database.template(STACK_ID)
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert not [t for t in types if t.startswith(("AWS::RDS::", "AWS::SecretsManager::"))]
    _, service = only(template, EXPRESS)
    assert "Secrets" not in service["Properties"]["PrimaryContainer"]


# -- egress ---------------------------------------------------------------------------------------


def endpoint_services(template: dict) -> set[str]:
    found = set()
    for endpoint in resources(template, "AWS::EC2::VPCEndpoint").values():
        name = json.dumps(endpoint["Properties"]["ServiceName"])
        found.add(re.findall(r"\.([a-z.-]+)\"", name)[-1] if "Fn::Join" in name else name)
    return found


def test_public_task_subnets_need_neither_nat_nor_endpoints(assembly):
    if settings(assembly).task_subnets != "public":
        pytest.skip("this stage's tasks are in private subnets: the private variants cover it")
    template = assembly.template(STACK_ID)
    assert not resources(template, "AWS::EC2::NatGateway")
    assert not resources(template, "AWS::EC2::VPCEndpoint")
    _, service = only(template, EXPRESS)
    for subnet in service["Properties"]["NetworkConfiguration"]["Subnets"]:
        assert "public" in subnet["Ref"]


def test_private_task_subnets_reach_aws_through_endpoints_only(private):
    template = private.template(STACK_ID)
    assert not resources(template, "AWS::EC2::NatGateway")
    assert not resources(template, "AWS::EC2::InternetGateway")
    names = json.dumps(
        [
            e["Properties"]["ServiceName"]
            for e in resources(template, "AWS::EC2::VPCEndpoint").values()
        ]
    )
    for service in ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "s3"):
        assert f".{service}" in names, service
    assert len(resources(template, "AWS::EC2::VPCEndpoint")) == 5
    _, service = only(template, EXPRESS)
    for subnet in service["Properties"]["NetworkConfiguration"]["Subnets"]:
        assert "isolated" in subnet["Ref"]
    outputs = template["Outputs"]
    assert outputs["ServiceAccess"]["Value"] == "internal"


def test_private_task_subnets_with_nat_have_no_endpoints(private_with_nat):
    template = private_with_nat.template(STACK_ID)
    assert len(resources(template, "AWS::EC2::NatGateway")) == 1
    assert not resources(template, "AWS::EC2::VPCEndpoint")
    _, service = only(template, EXPRESS)
    for subnet in service["Properties"]["NetworkConfiguration"]["Subnets"]:
        assert "private" in subnet["Ref"]


# -- App Runner, for existing App Runner customers -------------------------------------------------


def test_app_runner_runs_the_same_image_and_settings_without_auto_deployments(app_runner):
    s = app_runner.settings(KEY)
    template = app_runner.template(STACK_ID)
    assert not resources(template, EXPRESS) and not resources(template, "AWS::ECS::Cluster")
    _, service = only(template, APP_RUNNER)
    properties = service["Properties"]
    source = properties["SourceConfiguration"]
    assert source["AutoDeploymentsEnabled"] is False
    build_id, _ = only(template, "Custom::CDKContainerImageBuild")
    image = source["ImageRepository"]
    assert image["ImageRepositoryType"] == "ECR"
    assert image["ImageIdentifier"]["Fn::Join"][1][-1] == {"Fn::GetAtt": [build_id, "ImageTag"]}
    assert image["ImageConfiguration"]["Port"] == str(s.container_port)
    assert properties["InstanceConfiguration"]["Cpu"] == str(s.cpu)
    assert properties["InstanceConfiguration"]["Memory"] == str(s.memory_mib)
    assert properties["HealthCheckConfiguration"]["Path"] == s.health_check_path
    access = template["Resources"][
        source["AuthenticationConfiguration"]["AccessRoleArn"]["Fn::GetAtt"][0]
    ]
    (trust,) = access["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "build.apprunner.amazonaws.com"}
    _, scaling = only(template, "AWS::AppRunner::AutoScalingConfiguration")
    assert (scaling["Properties"]["MinSize"], scaling["Properties"]["MaxSize"]) == (
        s.min_tasks,
        s.max_tasks,
    )
    assert scaling["Properties"]["MaxConcurrency"] == s.app_runner_max_concurrency
    _, tracing = only(template, "AWS::AppRunner::ObservabilityConfiguration")
    assert tracing["Properties"]["TraceConfiguration"] == {"Vendor": "AWSXRAY"}
    assert properties["ObservabilityConfiguration"]["ObservabilityEnabled"] is True


def test_app_runner_reaches_the_database_through_a_vpc_connector_in_isolated_subnets(app_runner):
    template = app_runner.template(STACK_ID)
    connector_id, connector = only(template, "AWS::AppRunner::VpcConnector")
    for subnet in connector["Properties"]["Subnets"]:
        assert "isolated" in subnet["Ref"]
    _, service = only(template, APP_RUNNER)
    egress = service["Properties"]["NetworkConfiguration"]["EgressConfiguration"]
    assert egress == {
        "EgressType": "VPC",
        "VpcConnectorArn": {"Fn::GetAtt": [connector_id, "VpcConnectorArn"]},
    }
    assert not resources(template, "AWS::EC2::InternetGateway")


def test_app_runner_without_a_database_needs_no_vpc(app_runner_no_database):
    template = app_runner_no_database.template(STACK_ID)
    assert not resources(template, "AWS::EC2::VPC")
    _, service = only(template, APP_RUNNER)
    egress = service["Properties"]["NetworkConfiguration"]["EgressConfiguration"]
    assert egress == {"EgressType": "DEFAULT"}


def test_app_runner_names_carry_the_stack_name(app_runner_prod):
    template = app_runner_prod.template(STACK_ID)
    for resource_type, prop in (
        (APP_RUNNER, "ServiceName"),
        ("AWS::AppRunner::VpcConnector", "VpcConnectorName"),
        ("AWS::AppRunner::AutoScalingConfiguration", "AutoScalingConfigurationName"),
        ("AWS::AppRunner::ObservabilityConfiguration", "ObservabilityConfigurationName"),
    ):
        _, resource = only(template, resource_type)
        name = resource["Properties"][prop]
        assert name.startswith(app_runner_prod.stack_name(STACK_ID)) and 4 <= len(name) <= 40, name


def test_outputs_name_the_url_engine_and_database(assembly):
    s = settings(assembly)
    outputs = assembly.template(STACK_ID)["Outputs"]
    assert {"ServiceUrl", "ServiceAccess", "Engine", "RepositoryUri", "Image"} <= set(outputs)
    assert {"DatabaseEndpoint", "DatabaseSecretArn"} <= set(outputs)
    assert outputs["Engine"]["Value"] == s.engine
    assert outputs["ServiceAccess"]["Value"] == ("internal" if s.private else "public")
