"""Employee directory template assertions: each security, durability and cost property issue 17
lists, in both stages, written so that removing the feature fails a test. What a setting decides
is read from the settings the stage was built with (cdk.json's values are asserted in
test_shipped_settings.py only)."""

from __future__ import annotations

import json
import re

import pytest

from blueprints.employee_directory.contract import contract
from blueprints.employee_directory.data import THUMBNAIL_PREFIX, UPLOAD_PREFIX
from blueprints.employee_directory.stack import CLASSIC_STACK_ID, SERVERLESS_STACK_ID
from house.settings import keeps_data
from patterns.compute.web_tier import SESSION_MANAGER_CHANNELS
from tests.employee_directory.contract_checks import operation
from tests.support.iam_statements import as_list
from tests.support.origin_key import assert_cloudfront_origins_encrypted, roles_using_origin_key
from tests.support.photos import assert_thumbnails_start_from_eventbridge
from tests.support.site_failover import assert_site_failover
from tests.support.template import (
    TLS_1_2_OR_NEWER,
    alias_records,
    assert_site_domain,
    only,
    resources,
)

INSTANCE = "employee-directory"
ISOLATED_ROUTES = ("GatewayId", "NatGatewayId", "InstanceId", "TransitGatewayId")


@pytest.fixture
def settings(assembly):
    return assembly.settings(INSTANCE)


@pytest.fixture
def classic(assembly) -> dict:
    return assembly.template(CLASSIC_STACK_ID)


@pytest.fixture
def serverless(assembly) -> dict:
    return assembly.template(SERVERLESS_STACK_ID)


def props(resource: dict) -> dict:
    return resource["Properties"]


# -- classic: the web tier ------------------------------------------------------------------------


def test_the_group_launches_from_a_launch_template_never_a_launch_configuration(classic):
    assert not resources(classic, "AWS::AutoScaling::LaunchConfiguration")
    template_id, _ = only(classic, "AWS::EC2::LaunchTemplate")
    _, group = only(classic, "AWS::AutoScaling::AutoScalingGroup")
    launch = (
        props(group)["MixedInstancesPolicy"]["LaunchTemplate"]["LaunchTemplateSpecification"]
        if "MixedInstancesPolicy" in props(group)
        else props(group)["LaunchTemplate"]
    )
    assert launch["LaunchTemplateId"] == {"Ref": template_id}


def test_fallback_instance_types_in_a_mixed_instances_policy(classic, settings):
    """CT.AUTOSCALING.PR.6: with fallback_instance_types the group launches instance_type first
    and the fallbacks, in order, when an AZ has no capacity; all on demand."""
    _, group = only(classic, "AWS::AutoScaling::AutoScalingGroup")
    if not settings.fallback_instance_types:
        assert "MixedInstancesPolicy" not in props(group)
        return
    policy = props(group)["MixedInstancesPolicy"]
    assert [o["InstanceType"] for o in policy["LaunchTemplate"]["Overrides"]] == [
        settings.instance_type,
        *settings.fallback_instance_types,
    ]
    assert policy["InstancesDistribution"] == {
        "OnDemandAllocationStrategy": "prioritized",
        "OnDemandBaseCapacity": 0,
        "OnDemandPercentageAboveBaseCapacity": 100,
    }


def test_the_classic_app_is_https_on_its_domain_and_port_80_only_redirects(
    classic, settings, assembly
):
    """With classic_domain_name: HTTPS :443 with a DNS-validated certificate and a TLS 1.2+
    policy, port 80 a redirect to it, an alias record in the zone; without (dev): plain HTTP,
    which prod allows only with allow_plain_http."""
    listeners = {
        props(r)["Port"]: props(r)
        for r in resources(classic, "AWS::ElasticLoadBalancingV2::Listener").values()
    }
    if settings.classic_domain_name is None:
        assert list(listeners) == [80] and listeners[80]["Protocol"] == "HTTP"
        assert listeners[80]["DefaultActions"][0]["Type"] == "forward"
        assert assembly.stage_settings.name != "prod" or settings.allow_plain_http
        return
    assert sorted(listeners) == [80, 443]
    https, http = listeners[443], listeners[80]
    assert https["Protocol"] == "HTTPS" and https["SslPolicy"] in TLS_1_2_OR_NEWER
    assert https["DefaultActions"][0]["Type"] == "forward"
    (certificate_id, certificate), *others = resources(
        classic, "AWS::CertificateManager::Certificate"
    ).items()
    assert not others
    assert https["Certificates"] == [{"CertificateArn": {"Ref": certificate_id}}]
    assert props(certificate)["DomainName"] == settings.classic_domain_name
    assert props(certificate)["DomainValidationOptions"][0]["HostedZoneId"] == (
        settings.hosted_zone_id
    )
    assert http["DefaultActions"] == [
        {
            "Type": "redirect",
            "RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"},
        }
    ]
    assert alias_records(classic) == {(settings.classic_domain_name, "A")}


def test_instances_are_graviton_al2023_with_imdsv2_no_key_pair_no_public_ip(classic, settings):
    _, launch = only(classic, "AWS::EC2::LaunchTemplate")
    data = props(launch)["LaunchTemplateData"]
    assert data["InstanceType"] == settings.instance_type
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert "KeyName" not in data, "Session Manager instead of SSH keys"
    assert "al2023" in json.dumps(data["ImageId"]) and "arm64" in json.dumps(data["ImageId"])
    assert [n["AssociatePublicIpAddress"] for n in data["NetworkInterfaces"]] == [False]
    assert all(d["Ebs"]["Encrypted"] for d in data["BlockDeviceMappings"])


def test_the_group_scales_on_cpu_and_on_requests_within_its_bounds(classic, settings):
    _, group = only(classic, "AWS::AutoScaling::AutoScalingGroup")
    assert (props(group)["MinSize"], props(group)["MaxSize"]) == (
        str(settings.min_instances),
        str(settings.max_instances),
    )
    assert props(group)["HealthCheckType"] == "ELB"
    targets = {
        props(p)["TargetTrackingConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]: props(p)["TargetTrackingConfiguration"]["TargetValue"]
        for p in resources(classic, "AWS::AutoScaling::ScalingPolicy").values()
    }
    assert targets == {
        "ASGAverageCPUUtilization": settings.cpu_target_percent,
        "ALBRequestCountPerTarget": settings.requests_per_instance_per_minute,
    }
    # A new launch template version (any change of the app) replaces the instances.
    assert "AutoScalingRollingUpdate" in group["UpdatePolicy"]


def _isolated(template: dict) -> set[str]:
    """Subnets whose route table has no route out of the VPC."""
    tables_out = {
        props(r)["RouteTableId"]["Ref"]
        for r in resources(template, "AWS::EC2::Route").values()
        if any(k in props(r) for k in ISOLATED_ROUTES)
    }
    return {
        props(a)["SubnetId"]["Ref"]
        for a in resources(template, "AWS::EC2::SubnetRouteTableAssociation").values()
        if props(a)["RouteTableId"]["Ref"] not in tables_out
    }


def test_instances_sit_in_isolated_subnets_and_there_is_no_nat(classic):
    assert not resources(classic, "AWS::EC2::NatGateway")
    _, group = only(classic, "AWS::AutoScaling::AutoScalingGroup")
    subnets = {s["Ref"] for s in props(group)["VPCZoneIdentifier"]}
    assert subnets and subnets <= _isolated(classic)


def test_gateway_endpoints_admit_only_this_stacks_table_bucket_and_boot_reads(classic):
    gateways = {
        json.dumps(props(e)["ServiceName"]).rsplit(".", 1)[-1].strip('"]}'): props(e)
        for e in resources(classic, "AWS::EC2::VPCEndpoint").values()
        if props(e).get("VpcEndpointType", "Gateway") == "Gateway"
    }
    assert set(gateways) == {"s3", "dynamodb"}
    (table,) = resources(classic, "AWS::DynamoDB::Table")
    for service, endpoint in gateways.items():
        for statement in as_list(endpoint["PolicyDocument"]["Statement"]):
            assert statement["Effect"] == "Allow"
            assert "*" not in as_list(statement["Resource"]), service
            assert not any(a.endswith(":*") or a == "*" for a in as_list(statement["Action"]))
    (table_statement,) = as_list(gateways["dynamodb"]["PolicyDocument"]["Statement"])
    assert table in json.dumps(table_statement["Resource"])


def test_interface_endpoints_follow_the_setting(classic, settings, assembly):
    interface = [
        props(e)
        for e in resources(classic, "AWS::EC2::VPCEndpoint").values()
        if props(e).get("VpcEndpointType") == "Interface"
    ]
    if settings.instance_endpoints == "none":
        assert not interface
        return
    zones = len(assembly.stage_settings.availability_zones or ()) or 2
    per_endpoint = 1 if settings.instance_endpoints == "one-az" else zones
    # Session Manager (register, sessions) and the log agent; no ec2messages (Run Command),
    # which the instance role does not allow.
    services = sorted(
        re.findall(r"\.([a-z0-9]+)\W*$", json.dumps(e["ServiceName"]))[0] for e in interface
    )
    assert services == ["logs", "ssm", "ssmmessages"], services
    assert {len(e["SubnetIds"]) for e in interface} == {per_endpoint}
    assert all(e["PrivateDnsEnabled"] for e in interface)


def _ingress(template: dict, group_id: str) -> list[dict]:
    inline = props(template["Resources"][group_id]).get("SecurityGroupIngress", [])
    separate = [
        props(r)
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if props(r)["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    ]
    return inline + separate


def _group(template: dict, path: str) -> str:
    (found,) = [
        lid
        for lid, r in resources(template, "AWS::EC2::SecurityGroup").items()
        if r["Metadata"]["aws:cdk:path"].endswith(f"/{path}/Resource")
    ]
    return found


def test_instances_take_the_app_port_from_the_load_balancer_only_no_ssh(classic):
    instances = _group(classic, "Web/InstanceSecurityGroup")
    balancer = _group(classic, "Web/LoadBalancerSecurityGroup")
    rules = _ingress(classic, instances)
    assert rules and all(
        r.get("SourceSecurityGroupId") == {"Fn::GetAtt": [balancer, "GroupId"]} for r in rules
    )
    assert all(r["FromPort"] != 22 for r in rules)


def test_the_load_balancer_admits_allowed_cidrs_only(classic, settings):
    balancer = _group(classic, "Web/LoadBalancerSecurityGroup")
    ports = (80, 443) if settings.classic_domain_name else (80,)
    admitted = sorted((r["CidrIp"], r["FromPort"]) for r in _ingress(classic, balancer))
    assert admitted == sorted((cidr, port) for cidr in settings.allowed_cidrs for port in ports)


def test_alarms_notify_an_encrypted_topic_and_a_dashboard_shows_the_tier(classic, settings):
    topics = resources(classic, "AWS::SNS::Topic")
    (topic_id,) = [t for t in topics if t.startswith("Alarms")]
    topic = topics[topic_id]
    assert "KmsMasterKeyId" in props(topic)
    with_actions = [
        props(a)
        for a in resources(classic, "AWS::CloudWatch::Alarm").values()
        if "AlarmActions" in props(a)
    ]
    tier = [a for a in with_actions if a["AlarmActions"] == [{"Ref": topic_id}]]
    assert len(tier) == 4
    # The rest are the house's (house/operations.py: parked failures, failed backups), on the
    # stack's operations topic.
    (operations_id,) = [t for t in topics if t.startswith("Operations")]
    assert all(a["AlarmActions"] == [{"Ref": operations_id}] for a in with_actions if a not in tier)
    subscriptions = props(topic).get("Subscription", [])
    assert [s["Endpoint"] for s in subscriptions] == (
        [settings.alarm_email] if settings.alarm_email else []
    )
    only(classic, "AWS::CloudWatch::Dashboard")


def test_the_instance_role_has_only_session_manager_and_no_other_wildcard_resource(classic):
    """Not AmazonSSMManagedInstanceCore (it reads every SSM parameter of the account): the
    statements of patterns/compute/web_tier.session_manager_role, whose channel actions are
    the one wildcard (they have no resource-level permissions)."""
    (role_id,) = [
        lid
        for lid, r in resources(classic, "AWS::IAM::Role").items()
        if r["Metadata"]["aws:cdk:path"].endswith("/Web/InstanceRole/Resource")
    ]
    assert "ManagedPolicyArns" not in props(classic["Resources"][role_id])
    statements = [
        statement
        for policy in resources(classic, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in props(policy)["Roles"]
        for statement in as_list(props(policy)["PolicyDocument"]["Statement"])
    ]
    by_sid = {st.get("Sid"): st for st in statements}
    assert by_sid["RegisterWithSessionManager"]["Action"] == "ssm:UpdateInstanceInformation"
    assert "instance/*" in json.dumps(by_sid["RegisterWithSessionManager"]["Resource"])
    assert by_sid["SessionManagerChannels"]["Action"] == list(SESSION_MANAGER_CHANNELS)
    for statement in statements:
        if statement.get("Sid") != "SessionManagerChannels":
            assert "*" not in as_list(statement["Resource"]), statement


# -- serverless -------------------------------------------------------------------------------


def _methods(template: dict) -> dict[tuple[str, str], dict]:
    parts = {lid: props(r) for lid, r in resources(template, "AWS::ApiGateway::Resource").items()}

    def path(ref) -> str:
        if isinstance(ref, dict) and ref.get("Ref") in parts:
            part = parts[ref["Ref"]]
            return path(part["ParentId"]) + "/" + part["PathPart"]
        return ""

    return {
        (props(m)["HttpMethod"], path(props(m)["ResourceId"])): props(m)
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if props(m)["HttpMethod"] != "OPTIONS"
    }


def test_the_api_is_the_contract_one_function_per_operation(serverless):
    methods = _methods(serverless)
    expected = {operation(o)[:2] for o in contract.operations()}
    assert set(methods) == expected
    functions = [
        json.dumps(m["Integration"]["Uri"]).split('"Fn::GetAtt": ["', 1)[1].split('"', 1)[0]
        for m in methods.values()
    ]
    assert len(set(functions)) == len(methods), "one function per operation"


def test_writes_need_the_hr_admin_authorizer_reads_are_public(serverless, settings):
    for (verb, path), method in _methods(serverless).items():
        secured = next(o for o in contract.operations() if operation(o)[:2] == (verb, path))
        write = contract.operations()[secured].secured
        expected = "COGNITO_USER_POOLS" if settings.hr_admin and write else "NONE"
        assert method["AuthorizationType"] == expected, (verb, path)
    pools = resources(serverless, "AWS::Cognito::UserPool")
    assert bool(pools) == settings.hr_admin
    for pool in pools.values():
        assert props(pool)["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
        assert props(pool)["MfaConfiguration"] == (
            "ON" if settings.hr_admin_mfa == "REQUIRED" else "OPTIONAL"
        )


def test_the_api_stage_is_throttled_as_set(serverless, settings):
    _, stage = only(serverless, "AWS::ApiGateway::Stage")
    (throttle,) = [s for s in props(stage)["MethodSettings"] if s["HttpMethod"] == "*"]
    assert throttle["ThrottlingRateLimit"] == settings.api_throttle_rate
    assert throttle["ThrottlingBurstLimit"] == settings.api_throttle_burst


def test_site_and_api_share_one_distribution_site_through_oac(serverless, settings):
    _, distribution = only(serverless, "AWS::CloudFront::Distribution")
    config = props(distribution)["DistributionConfig"]
    assert [b["PathPattern"] for b in config.get("CacheBehaviors", [])] == ["/api/*"]
    s3_origins = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert s3_origins and all(o.get("OriginAccessControlId") for o in s3_origins)
    assert config["PriceClass"] == settings.price_class
    assert bool(config.get("WebACLId")) == settings.waf


def test_the_site_is_served_on_its_domain_with_tls_1_2(serverless, settings, assembly):
    assert_site_domain(serverless, settings, stage=assembly.stage_settings.name)


def test_prod_encrypts_the_site_bucket_with_the_stacks_key(serverless, assembly, settings):
    """CT.S3.PR.10 in prod: CloudFront reads an SSE-KMS site bucket whose key it may decrypt
    with, and only the site upload may use the key besides; dev stays on SSE-S3. The log bucket
    stays SSE-S3 in every stage (S3 server access logs are delivered to SSE-S3 buckets only)."""
    keep = keeps_data(assembly.stage_settings.removal_policy)
    assert_cloudfront_origins_encrypted(serverless, keep, "Site/Bucket/Resource")
    (logs,) = [
        b
        for b in resources(serverless, "AWS::S3::Bucket").values()
        if b["Metadata"]["aws:cdk:path"].endswith("/AccessLogs/Resource")
    ]
    (rule,) = props(logs)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    users = roles_using_origin_key(serverless)
    if keep:
        if settings.failover_region:  # S3 replication reads the site for its failover replica
            path = f"{SERVERLESS_STACK_ID}/Site/ReplicationRole"
            assert users.pop(path) == {"kms:Decrypt"}
        ((upload, actions),) = users.items()
        assert "CDKBucketDeployment" in upload
        assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= actions
    else:
        assert users == {}


def test_the_site_fails_over_to_its_replica_with_a_failover_region(assembly, settings):
    """Prod (failover_region): the site bucket's replica in EmployeeDirectoryServerlessFailover
    serves the page when the bucket fails; /api/* (every method) keeps its one origin; dev
    (none): one origin, no companion."""
    assembly.require(SERVERLESS_STACK_ID)
    assert_site_failover(
        assembly,
        SERVERLESS_STACK_ID,
        failover_region=settings.failover_region,
        keep_data=keeps_data(assembly.stage_settings.removal_policy),
    )


# -- both: one data model, durable where the stage keeps data ------------------------------------


def test_both_stacks_keep_the_directory_in_one_table_schema(classic, serverless):
    def schema(template):
        _, table = only(template, "AWS::DynamoDB::Table")
        p = props(table)
        return (p["KeySchema"], p["AttributeDefinitions"], p["GlobalSecondaryIndexes"])

    assert schema(classic) == schema(serverless)


@pytest.mark.parametrize("stack_id", [CLASSIC_STACK_ID, SERVERLESS_STACK_ID])
def test_data_is_recoverable_and_kept_where_the_stage_keeps_data(assembly, stack_id):
    template = assembly.template(stack_id)
    keep = keeps_data(assembly.stage_settings.removal_policy)
    _, table = only(template, "AWS::DynamoDB::Table")
    assert props(table)["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
    assert props(table)["DeletionProtectionEnabled"] is keep
    assert (table["DeletionPolicy"] == "Retain") is keep
    photos = [
        (lid, b)
        for lid, b in resources(template, "AWS::S3::Bucket").items()
        if b["Metadata"]["aws:cdk:path"].endswith("/Data/Photos/Resource")
    ]
    ((_, bucket),) = photos
    assert props(bucket)["VersioningConfiguration"]["Status"] == "Enabled"
    assert (bucket["DeletionPolicy"] == "Retain") is keep
    assert props(bucket)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True


@pytest.mark.parametrize("stack_id", [CLASSIC_STACK_ID, SERVERLESS_STACK_ID])
def test_photo_uploads_start_thumbnails_from_eventbridge(assembly, stack_id):
    template = assembly.template(stack_id)
    ((bucket_id, _),) = [
        (lid, b)
        for lid, b in resources(template, "AWS::S3::Bucket").items()
        if b["Metadata"]["aws:cdk:path"].endswith("/Data/Photos/Resource")
    ]
    assert_thumbnails_start_from_eventbridge(
        template,
        bucket_id=bucket_id,
        scope="Data/Thumbnails",
        upload_prefix=UPLOAD_PREFIX,
        thumbnail_prefix=THUMBNAIL_PREFIX,
    )
