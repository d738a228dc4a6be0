"""Template assertions: every security, durability and cost property of the blueprint, in
dev and prod (the `assembly` fixture runs each test once per stage) and, for what the default
profiles leave off, in the variant synth (EC2 capacity, HTTPS, NAT, a public image)."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from tests.fargate_service.conftest import PUBLIC_IMAGE, STACK_ID
from tests.support.gates import nag_findings
from tests.support.iam_statements import actions_of, statements_of
from tests.support.template import resources


def one(template: dict, kind: str, path_suffix: str) -> tuple[str, dict]:
    found = [
        (lid, r)
        for lid, r in resources(template, kind).items()
        if r.get("Metadata", {}).get("aws:cdk:path", "").endswith(path_suffix)
    ]
    assert len(found) == 1, f"{len(found)} {kind} at *{path_suffix}"
    return found[0]


def task_definition(template: dict, name: str) -> dict:
    return one(template, "AWS::ECS::TaskDefinition", f"/{name}Task/Resource")[1]["Properties"]


def settings(assembly):
    """The settings this stage's template was built with (cdk.json's values are checked in
    test_shipped_settings.py)."""
    return assembly.settings("fargate-service")


def service(template: dict, name: str) -> dict:
    return one(template, "AWS::ECS::Service", f"/{name}/Service/Service")[1]["Properties"]


# -- deployments and scaling -----------------------------------------------------------------------


def test_both_services_roll_back_a_failed_deployment(assembly):
    template = assembly.template(STACK_ID)
    for name in ("Web", "Worker"):
        config = service(template, name)["DeploymentConfiguration"]
        assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    web = service(template, "Web")["DeploymentConfiguration"]
    assert (web["MinimumHealthyPercent"], web["MaximumPercent"]) == (100, 200)


def assert_services_wait_for_capacity_providers(template: dict) -> None:
    """A service created before its cluster's capacity-provider association is refused ("The
    specified capacity provider strategy cannot contain a capacity provider that is not
    associated with the cluster"): every service must list the association in DependsOn."""
    ((association_id, association),) = resources(
        template, "AWS::ECS::ClusterCapacityProviderAssociations"
    ).items()
    services = resources(template, "AWS::ECS::Service")
    assert len(services) == 2
    for logical_id, ecs_service in services.items():
        assert ecs_service["Properties"]["Cluster"] == association["Properties"]["Cluster"]
        assert association_id in ecs_service.get("DependsOn", []), logical_id


def test_every_service_waits_for_its_clusters_capacity_provider_association(assembly):
    assert_services_wait_for_capacity_providers(assembly.template(STACK_ID))


def test_variant_services_wait_for_the_association_with_the_ec2_provider(variant):
    assert_services_wait_for_capacity_providers(variant.template(STACK_ID))


def test_web_service_scales_on_cpu_memory_and_requests_per_target(assembly, template):
    s = settings(assembly)
    expected = {
        "ECSServiceAverageCPUUtilization": s.cpu_target_percent,
        "ECSServiceAverageMemoryUtilization": s.memory_target_percent,
        "ALBRequestCountPerTarget": s.requests_per_target,
    }
    for metric, target in expected.items():
        template.has_resource_properties(
            "AWS::ApplicationAutoScaling::ScalingPolicy",
            {
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                    {
                        "PredefinedMetricSpecification": Match.object_like(
                            {"PredefinedMetricType": metric}
                        ),
                        "TargetValue": target,
                    }
                ),
            },
        )
    bounds = (s.min_tasks, s.max_tasks)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        Match.object_like(
            {
                "MinCapacity": bounds[0],
                "MaxCapacity": bounds[1],
                "ScalableDimension": "ecs:service:DesiredCount",
            }
        ),
    )


def test_request_count_policy_tracks_the_web_target_group(assembly):
    template = assembly.template(STACK_ID)
    policy = next(
        p["Properties"]
        for p in resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
        if "ALBRequestCountPerTarget" in json.dumps(p)
    )
    group_id = one(template, "AWS::ElasticLoadBalancingV2::TargetGroup", "TasksGroup/Resource")[0]
    label = json.dumps(policy["TargetTrackingScalingPolicyConfiguration"])
    assert f'["{group_id}", "TargetGroupFullName"]' in label


def test_scheduled_scale_out_window_only_with_the_schedules_set(assembly):
    template = assembly.template(STACK_ID)
    s = settings(assembly)
    targets = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    scheduled = [a for t in targets for a in t["Properties"].get("ScheduledActions", [])]
    if s.scale_out_schedule is None:
        assert scheduled == []
    else:
        by_schedule = {a["Schedule"]: a["ScalableTargetAction"]["MinCapacity"] for a in scheduled}
        assert by_schedule == {
            s.scale_out_schedule: s.scheduled_min_tasks,
            s.scale_in_schedule: s.min_tasks,
        }
        assert {a["Timezone"] for a in scheduled} == {s.schedule_time_zone}


def test_worker_scales_on_queue_depth_down_to_the_stage_minimum(assembly):
    template = assembly.template(STACK_ID)
    queue_id = one(template, "AWS::SQS::Queue", "/Jobs/Resource")[0]
    jobs = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    # The house also alarms on the dead-letter queues' depth (tests/house/test_operations.py).
    alarms = [
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and a["Properties"]["Dimensions"] == jobs
    ]
    assert len(alarms) == 2
    assert {(a["ComparisonOperator"], a["Threshold"]) for a in alarms} == {
        ("LessThanOrEqualToThreshold", 0),
        ("GreaterThanOrEqualToThreshold", 1),
    }
    steps = [
        p["Properties"]["StepScalingPolicyConfiguration"]["StepAdjustments"]
        for p in resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
        if p["Properties"]["PolicyType"] == "StepScaling"
    ]
    assert sorted(s["ScalingAdjustment"] for step in steps for s in step) == [-1, 1, 3]
    worker_target = one(
        template,
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "/Worker/Service/TaskCount/Target/Resource",
    )[1]["Properties"]
    minimum = settings(assembly).worker_min_tasks
    assert worker_target["MinCapacity"] == minimum
    assert service(template, "Worker")["DesiredCount"] == minimum


def test_capacity_strategy_splits_on_demand_and_spot_as_set(assembly):
    template = assembly.template(STACK_ID)
    s = settings(assembly)
    expected = []
    if s.on_demand_base or s.on_demand_weight:
        on_demand = {"CapacityProvider": "FARGATE", "Weight": s.on_demand_weight}
        expected.append({**on_demand, "Base": s.on_demand_base} if s.on_demand_base else on_demand)
    if s.spot_weight:
        expected.append({"CapacityProvider": "FARGATE_SPOT", "Weight": s.spot_weight})
    association = next(
        iter(resources(template, "AWS::ECS::ClusterCapacityProviderAssociations").values())
    )["Properties"]
    assert association["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert association["DefaultCapacityProviderStrategy"] == expected
    for name in ("Web", "Worker"):
        assert service(template, name)["CapacityProviderStrategy"] == expected
    # Every Fargate task definition runs the set architecture (Spot: X86_64 only).
    for name in ("Web", "Worker", "ProcessUpload", "Prune"):
        platform = task_definition(template, name)["RuntimePlatform"]
        assert platform["CpuArchitecture"] == s.cpu_architecture


# -- health, logs, ECS Exec ------------------------------------------------------------------------


def test_target_group_checks_health_on_the_health_path(assembly, template):
    s = settings(assembly)
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        Match.object_like(
            {
                "HealthCheckPath": s.health_check_path,
                "Matcher": {"HttpCode": "200"},
                "Port": s.container_port,
                "TargetType": "ip",
            }
        ),
    )


def test_every_log_group_has_a_retention(assembly):
    template = assembly.template(STACK_ID)
    days = assembly.stage_settings.log_retention_days
    groups = resources(template, "AWS::Logs::LogGroup")
    assert len(groups) >= 5
    for logical_id, group in groups.items():
        assert group["Properties"].get("RetentionInDays") == days, logical_id
    for name in ("Web", "Worker", "ProcessUpload", "Prune"):
        options = task_definition(template, name)["ContainerDefinitions"][0]["LogConfiguration"]
        assert options["LogDriver"] == "awslogs"
        assert options["Options"]["mode"] == "non-blocking"


def test_container_insights_on_and_ecs_exec_only_with_the_setting(assembly):
    template = assembly.template(STACK_ID)
    cluster = next(iter(resources(template, "AWS::ECS::Cluster").values()))["Properties"]
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]
    dev = settings(assembly).execute_command
    assert service(template, "Web").get("EnableExecuteCommand", False) is dev
    assert ("ExecuteCommandConfiguration" in cluster.get("Configuration", {})) is dev
    web = task_definition(template, "Web")["ContainerDefinitions"][0]
    # ECS Exec's agent needs a writable root; without exec the root filesystem is read-only.
    assert web["ReadonlyRootFilesystem"] is (not dev)
    for name in ("Worker", "ProcessUpload", "Prune"):
        assert task_definition(template, name)["ContainerDefinitions"][0]["ReadonlyRootFilesystem"]


# -- shared storage --------------------------------------------------------------------------------


def test_every_task_mounts_efs_through_the_access_point_with_tls_and_iam(assembly):
    template = assembly.template(STACK_ID)
    access_point = one(template, "AWS::EFS::AccessPoint", "/AppAccessPoint/Resource")
    file_system = one(template, "AWS::EFS::FileSystem", "/SharedStorage/FileSystem/Resource")
    assert access_point[1]["Properties"]["PosixUser"] == {"Uid": "1000", "Gid": "1000"}
    for name, read_only in (
        ("Web", True),
        ("Worker", False),
        ("ProcessUpload", False),
        ("Prune", False),
    ):
        definition = task_definition(template, name)
        assert definition["Volumes"] == [
            {
                "Name": "shared",
                "EFSVolumeConfiguration": {
                    "FilesystemId": {"Ref": file_system[0]},
                    "TransitEncryption": "ENABLED",
                    "AuthorizationConfig": {
                        "AccessPointId": {"Ref": access_point[0]},
                        "IAM": "ENABLED",
                    },
                },
            }
        ]
        mount = definition["ContainerDefinitions"][0]["MountPoints"]
        assert mount == [
            {"ContainerPath": "/mnt/shared", "ReadOnly": read_only, "SourceVolume": "shared"}
        ]


def test_file_system_encrypted_tls_only_and_backed_up_in_prod(assembly):
    template = assembly.template(STACK_ID)
    logical_id, file_system = one(template, "AWS::EFS::FileSystem", "/FileSystem/Resource")
    properties = file_system["Properties"]
    assert properties["Encrypted"] is True
    deny = properties["FileSystemPolicy"]["Statement"][0]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Without a BackupPolicy, a file system created through CloudFormation has no backups.
    backups = properties.get("BackupPolicy", {}).get("Status", "DISABLED")
    keep = assembly.stage_settings.keep_data
    assert backups == ("ENABLED" if keep else "DISABLED")
    assert file_system["DeletionPolicy"] == ("Retain" if keep else "Delete")


def test_nfs_is_open_only_to_the_task_security_groups(assembly):
    template = assembly.template(STACK_ID)
    efs_group = one(template, "AWS::EC2::SecurityGroup", "/FileSystem/EfsSecurityGroup/Resource")[0]
    web_group = one(template, "AWS::EC2::SecurityGroup", "/Web/TaskSecurityGroup/Resource")[0]
    background = one(template, "AWS::EC2::SecurityGroup", "/BackgroundTaskSecurityGroup/Resource")[
        0
    ]
    rules = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [efs_group, "GroupId"]}
    ]
    assert sorted(r["SourceSecurityGroupId"]["Fn::GetAtt"][0] for r in rules) == sorted(
        [web_group, background]
    )
    assert {(r["FromPort"], r["ToPort"]) for r in rules} == {(2049, 2049)}
    inline = template["Resources"][efs_group]["Properties"].get("SecurityGroupIngress", [])
    assert inline == []


# -- IAM -------------------------------------------------------------------------------------------


def test_task_and_execution_roles_are_distinct_and_scoped(assembly):
    template = assembly.template(STACK_ID)
    execution_only = {
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:GetAuthorizationToken",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    seen_roles = set()
    for name in ("Web", "Worker", "ProcessUpload", "Prune"):
        definition = task_definition(template, name)
        task_role = definition["TaskRoleArn"]["Fn::GetAtt"][0]
        execution_role = definition["ExecutionRoleArn"]["Fn::GetAtt"][0]
        assert task_role != execution_role
        assert not {task_role, execution_role} & seen_roles, "roles shared between task definitions"
        seen_roles |= {task_role, execution_role}
        for role in (task_role, execution_role):
            trust = template["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]
            assert trust["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
            assert not template["Resources"][role]["Properties"].get("ManagedPolicyArns")
        assert actions_of(statements_of(template, execution_role)) <= execution_only
        task_actions = actions_of(statements_of(template, task_role))
        # The app never pulls images or writes through the driver's permissions.
        assert not task_actions & {"ecr:GetAuthorizationToken", "ecr:BatchGetImage"}
        assert not any(a.endswith("*") and not a.startswith("ssmmessages") for a in task_actions)

    def task_actions(name):
        role = task_definition(template, name)["TaskRoleArn"]["Fn::GetAtt"][0]
        return actions_of(statements_of(template, role)) - {
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
            "logs:DescribeLogGroups",
            "logs:CreateLogStream",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
        }

    # Exactly the queue calls the code makes (no CDK send/consume bundle extras).
    assert task_actions("Web") == {"elasticfilesystem:ClientMount", "sqs:SendMessage"}
    assert task_actions("Worker") == {
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientWrite",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
    }
    assert task_actions("ProcessUpload") == {
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientWrite",
        "s3:GetObject",
    }
    assert task_actions("Prune") == {
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientWrite",
    }


def test_efs_client_permissions_name_the_access_point(assembly):
    template = assembly.template(STACK_ID)
    access_point = one(template, "AWS::EFS::AccessPoint", "/AppAccessPoint/Resource")[0]
    role = task_definition(template, "Worker")["TaskRoleArn"]["Fn::GetAtt"][0]
    statement = next(
        s for s in statements_of(template, role) if "elasticfilesystem:ClientWrite" in s["Action"]
    )
    condition = json.dumps(
        statement["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"]
    )
    assert access_point in condition


def test_upload_task_reads_objects_of_the_upload_bucket_only(assembly):
    template = assembly.template(STACK_ID)
    bucket = one(template, "AWS::S3::Bucket", "/Uploads/Resource")[0]
    role = task_definition(template, "ProcessUpload")["TaskRoleArn"]["Fn::GetAtt"][0]
    statement = next(s for s in statements_of(template, role) if s["Action"] == "s3:GetObject")
    assert statement["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]}


def test_no_wildcard_resource_without_its_acknowledgment(assembly):
    """Every `*` in a resource is either acknowledged (and so listed by cdk-nag's gate) or gone."""
    assert not [f for f in nag_findings(assembly) if "FargateService" in f]


# -- network and security groups -------------------------------------------------------------------


def test_only_the_load_balancer_listens_to_the_world(assembly):
    template = assembly.template(STACK_ID)
    alb_group = one(template, "AWS::EC2::SecurityGroup", "/LoadBalancerSecurityGroup/Resource")[0]
    open_rules = []
    for logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            if rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0":
                open_rules.append((logical_id, rule["FromPort"]))
    for rule in resources(template, "AWS::EC2::SecurityGroupIngress").values():
        properties = rule["Properties"]
        if properties.get("CidrIp") == "0.0.0.0/0" or properties.get("CidrIpv6") == "::/0":
            open_rules.append((properties["GroupId"]["Fn::GetAtt"][0], properties["FromPort"]))
    # With a domain (prod) port 80 only redirects to 443 (the test below); without, plain HTTP.
    ports = [443, 80] if settings(assembly).domain_name else [80]
    assert sorted(open_rules, key=lambda r: -r[1]) == [(alb_group, port) for port in ports]


def test_with_a_domain_port_80_only_redirects_to_tls_1_2_or_newer(assembly):
    """Issue 12: prod never serves plain HTTP; its HTTPS listener refuses TLS below 1.2."""
    template = assembly.template(STACK_ID)
    listeners = {
        r["Properties"]["Port"]: r["Properties"]
        for r in resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    }
    s = settings(assembly)
    if not s.domain_name:
        assert assembly.stage == "dev" or s.allow_plain_http
        assert set(listeners) == {80} and listeners[80]["Protocol"] == "HTTP"
        return
    assert set(listeners) == {80, 443}
    assert listeners[80]["DefaultActions"] == [
        {
            "Type": "redirect",
            "RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"},
        }
    ]
    assert listeners[443]["Protocol"] == "HTTPS"
    assert listeners[443]["SslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    ((_, certificate),) = resources(template, "AWS::CertificateManager::Certificate").items()
    assert certificate["Properties"]["DomainName"] == s.domain_name
    assert template["Outputs"]["ServiceUrl"]["Value"] == f"https://{s.domain_name}"


def test_web_tasks_admit_only_the_load_balancer_on_the_container_port(assembly):
    template = assembly.template(STACK_ID)
    task_group = one(template, "AWS::EC2::SecurityGroup", "/Web/TaskSecurityGroup/Resource")[0]
    alb_group = one(template, "AWS::EC2::SecurityGroup", "/LoadBalancerSecurityGroup/Resource")[0]
    rules = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [task_group, "GroupId"]}
    ]
    assert len(rules) == 1
    assert rules[0]["SourceSecurityGroupId"] == {"Fn::GetAtt": [alb_group, "GroupId"]}
    port = settings(assembly).container_port
    assert (rules[0]["FromPort"], rules[0]["ToPort"]) == (port, port)
    background = one(template, "AWS::EC2::SecurityGroup", "/BackgroundTaskSecurityGroup/Resource")
    assert not background[1]["Properties"].get("SecurityGroupIngress")
    assert not [
        r
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [background[0], "GroupId"]}
    ]


def test_public_task_subnets_use_public_ips_private_ones_endpoints_and_no_nat(assembly):
    template = assembly.template(STACK_ID)
    s = settings(assembly)
    is_public = s.task_subnets == "public"
    nats = resources(template, "AWS::EC2::NatGateway")
    assert len(nats) == min(s.nat_gateways, len(assembly.stage_settings.availability_zones) or 2)
    endpoints = [e["Properties"] for e in resources(template, "AWS::EC2::VPCEndpoint").values()]
    names = sorted(json.dumps(e["ServiceName"]) for e in endpoints)
    for name in ("Web", "Worker"):
        network = service(template, name)["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == ("ENABLED" if is_public else "DISABLED")
        subnet = network["Subnets"][0]["Ref"]
        expected = "public" if is_public else ("private" if s.nat_gateways else "isolated")
        assert expected in subnet
    if is_public:
        assert len(endpoints) == 1 and ".s3" in names[0]  # the free gateway endpoint only
    else:
        interface = [e for e in endpoints if e.get("VpcEndpointType") == "Interface"]
        services = sorted(
            json.dumps(e["ServiceName"]).split(".")[-1].strip('"]}') for e in interface
        )
        assert services == ["api", "dkr", "logs", "sqs"]
        assert all(e["PrivateDnsEnabled"] for e in interface)
        assert any(".s3" in n for n in names)


def test_endpoints_admit_https_from_the_tasks_only(assembly):
    template = assembly.template(STACK_ID)
    if settings(assembly).task_subnets == "public":  # public IPs, no endpoints to admit to
        assert not [
            r
            for r in resources(template, "AWS::EC2::SecurityGroup").values()
            if "/Endpoints/" in r["Metadata"]["aws:cdk:path"]
        ]
        return
    group = one(template, "AWS::EC2::SecurityGroup", "/Endpoints/SecurityGroup/Resource")[0]
    rules = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group, "GroupId"]}
    ]
    assert {(r["FromPort"], r["SourceSecurityGroupId"]["Fn::GetAtt"][0]) for r in rules} == {
        (443, one(template, "AWS::EC2::SecurityGroup", "/Web/TaskSecurityGroup/Resource")[0]),
        (443, one(template, "AWS::EC2::SecurityGroup", "/BackgroundTaskSecurityGroup/Resource")[0]),
    }


def test_load_balancer_logs_access_and_is_protected_when_the_stage_keeps_data(assembly, template):
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Scheme": "internet-facing",
            "LoadBalancerAttributes": Match.array_with(
                [
                    {
                        "Key": "deletion_protection.enabled",
                        "Value": str(assembly.stage_settings.keep_data).lower(),
                    },
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                ]
            ),
        },
    )
    if settings(assembly).domain_name is not None:
        return  # HTTPS and the redirect: the variant's test
    # No domain: one plain HTTP listener (see the variant for HTTPS).
    template.resource_count_is("AWS::ElasticLoadBalancingV2::Listener", 1)
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener", {"Port": 80, "Protocol": "HTTP"}
    )


# -- registry --------------------------------------------------------------------------------------


def test_repository_scans_is_immutable_encrypted_and_keeps_the_last_images(assembly):
    template = assembly.template(STACK_ID)
    repository = next(iter(resources(template, "AWS::ECR::Repository").values()))
    properties = repository["Properties"]
    assert properties["RepositoryName"] == f"{assembly.stack_name(STACK_ID).lower()}/web"
    assert properties["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert properties["ImageTagMutability"] == "IMMUTABLE"
    assert properties["EncryptionConfiguration"] == {"EncryptionType": "KMS"}
    rules = json.loads(properties["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    keep = settings(assembly).repository_keep_images
    assert {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep} in [
        r["selection"] for r in rules
    ]
    kept = assembly.stage_settings.keep_data
    assert repository["DeletionPolicy"] == ("Retain" if kept else "Delete")
    assert properties.get("EmptyOnDelete", False) is (not kept)


def image_builds(template: dict) -> dict[str, dict]:
    """The deploy-time builds (Custom::CDKContainerImageBuild) by logical id."""
    return resources(template, "Custom::CDKContainerImageBuild")


def image_of(template: dict, name: str) -> dict:
    return task_definition(template, name)["ContainerDefinitions"][0]["Image"]


def built_image(build_id: str, repository_id: str) -> dict:
    """`<repository uri>:<tag the build reported>`, as every task definition names it."""
    return {
        "Fn::Join": [
            "",
            [
                {"Fn::Select": [4, {"Fn::Split": [":", {"Fn::GetAtt": [repository_id, "Arn"]}]}]},
                ".dkr.ecr.",
                {"Fn::Select": [3, {"Fn::Split": [":", {"Fn::GetAtt": [repository_id, "Arn"]}]}]},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/",
                {"Ref": repository_id},
                ":",
                {"Fn::GetAtt": [build_id, "ImageTag"]},
            ],
        ]
    }


def test_default_image_is_built_by_codebuild_at_deploy_with_no_docker_anywhere(assembly):
    """`image: codebuild`: no container image asset for `cdk deploy` to `docker build`; the
    source folder is a zip asset that a CodeBuild project builds and pushes to the
    blueprint's own repository, and every task runs the tag that build reports."""
    if settings(assembly).image != "codebuild":
        pytest.skip(f"this stage's image is {settings(assembly).image!r}")
    template = assembly.template(STACK_ID)
    manifest = json.loads((assembly.outdir / f"{STACK_ID}.assets.json").read_text())
    assert manifest.get("dockerImages", {}) == {}
    (source,) = [
        a["source"]
        for a in manifest["files"].values()
        if a["displayName"].endswith("SampleAppAmd64Build/Source")
    ]
    assert source["packaging"] == "zip"
    staged = assembly.outdir / source["path"]
    assert (staged / "Dockerfile").exists() and (staged / "sample_app" / "web.py").exists()
    assert not list(staged.rglob("__pycache__")), ".dockerignore applies to the source zip"

    repository = next(iter(resources(template, "AWS::ECR::Repository")))
    ((build_id, build),) = image_builds(template).items()
    properties = build["Properties"]
    assert "--platform linux/amd64" in properties["buildCommand"]
    assert {"Ref": repository} in properties["repositoryUri"]["Fn::Join"][1]
    # No fixed tag: each build pushes `sample-app-amd64-<random>`, never an existing tag of
    # the IMMUTABLE repository.
    assert properties["tagPrefix"] == "sample-app-amd64-" and "imageTag" not in properties
    for name in ("Web", "Worker", "ProcessUpload", "Prune"):
        assert image_of(template, name) == built_image(build_id, repository), name


def test_codebuild_project_pushes_only_to_the_repository_and_logs_with_a_retention(assembly):
    template = assembly.template(STACK_ID)
    ((project_id, project),) = resources(template, "AWS::CodeBuild::Project").items()
    properties = project["Properties"]
    assert properties["Environment"]["ComputeType"] == "BUILD_GENERAL1_SMALL"
    assert properties["Environment"]["Type"] == "LINUX_CONTAINER"
    assert properties["Artifacts"] == {"Type": "NO_ARTIFACTS"}
    role = properties["ServiceRole"]["Fn::GetAtt"][0]
    repository = next(iter(resources(template, "AWS::ECR::Repository")))
    statements = statements_of(template, role)
    push = next(s for s in statements if "ecr:PutImage" in s["Action"])
    assert push["Resource"] == {"Fn::GetAtt": [repository, "Arn"]}
    read = next(s for s in statements if "s3:GetObject*" in s["Action"])
    assert "cdk-hnb659fds-assets-" in json.dumps(read["Resource"])
    assert not any(
        a.startswith(("s3:Put", "s3:Delete", "iam:", "ecs:")) for a in actions_of(statements)
    )
    # The group CodeBuild would create with no expiry, created first with the stage's.
    ((logs_id, logs),) = [
        (i, g)
        for i, g in resources(template, "AWS::Logs::LogGroup").items()
        if g["Metadata"]["aws:cdk:path"].endswith("/BuildLogs/Resource")
    ]
    assert logs["Properties"]["LogGroupName"] == {
        "Fn::Join": ["", ["/aws/codebuild/", {"Ref": project_id}]]
    }
    assert logs["Properties"]["RetentionInDays"] == assembly.stage_settings.log_retention_days
    ((build_id, build),) = image_builds(template).items()
    assert {project_id, logs_id} <= set(build["DependsOn"])


def test_build_handler_writes_only_its_own_log_group_and_starts_only_the_build(assembly):
    template = assembly.template(STACK_ID)
    ((build_id, build),) = image_builds(template).items()
    handler_id = build["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    handler = template["Resources"][handler_id]["Properties"]
    assert handler["MemorySize"] == 128
    role = handler["Role"]["Fn::GetAtt"][0]
    assert not template["Resources"][role]["Properties"].get("ManagedPolicyArns")
    statements = statements_of(template, role)
    project = next(iter(resources(template, "AWS::CodeBuild::Project")))
    start = next(s for s in statements if s["Action"] == "codebuild:StartBuild")
    assert start["Resource"] == {"Fn::GetAtt": [project, "Arn"]}
    ((logs_id, logs),) = [
        (i, g)
        for i, g in resources(template, "AWS::Logs::LogGroup").items()
        if json.dumps({"Ref": handler_id}) in json.dumps(g["Properties"].get("LogGroupName"))
    ]
    assert logs["Properties"]["RetentionInDays"] == assembly.stage_settings.log_retention_days
    write = next(s for s in statements if "logs:PutLogEvents" in s["Action"])
    assert write["Resource"] == {"Fn::GetAtt": [logs_id, "Arn"]}
    assert actions_of(statements) == {
        "codebuild:StartBuild",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    keep = assembly.stage_settings.keep_data
    assert logs["DeletionPolicy"] == ("Retain" if keep else "Delete")
    # The build's first log lines need the policy attached before the handler runs.
    own_logs = next(
        i
        for i, p in resources(template, "AWS::IAM::Policy").items()
        if p["Metadata"]["aws:cdk:path"].endswith("/OwnLogs/Resource")
    )
    assert own_logs in build["DependsOn"]


def test_one_image_build_per_cpu_architecture(built_for_two_architectures):
    """Fargate tasks run x86, the worker on Graviton EC2 capacity runs arm64: two builds, each
    on a CodeBuild host of its own architecture (no emulation), one handler for both."""
    assembly = built_for_two_architectures
    template = assembly.template(STACK_ID)
    assert not nag_findings(assembly) and assembly.error is None
    manifest = json.loads((assembly.outdir / f"{STACK_ID}.assets.json").read_text())
    assert manifest.get("dockerImages", {}) == {}
    repository = next(iter(resources(template, "AWS::ECR::Repository")))
    builds = {b["Properties"]["tagPrefix"]: (i, b) for i, b in image_builds(template).items()}
    assert set(builds) == {"sample-app-amd64-", "sample-app-arm64-"}
    arm_id, arm = builds["sample-app-arm64-"]
    amd_id, _ = builds["sample-app-amd64-"]
    assert "--platform linux/arm64" in arm["Properties"]["buildCommand"]
    assert image_of(template, "Worker") == built_image(arm_id, repository)
    for name in ("Web", "ProcessUpload", "Prune"):
        assert image_of(template, name) == built_image(amd_id, repository), name
    hosts = {
        p["Properties"]["Environment"]["Type"]: p["Properties"]["Environment"]["Image"]
        for p in resources(template, "AWS::CodeBuild::Project").values()
    }
    assert (
        set(hosts) == {"LINUX_CONTAINER", "ARM_CONTAINER"} and "aarch64" in hosts["ARM_CONTAINER"]
    )
    assert len({b["Properties"]["ServiceToken"]["Fn::GetAtt"][0] for _, b in builds.values()}) == 1


def test_image_docker_is_the_local_docker_build_per_architecture(docker_built):
    """`image: docker`: container image assets (`cdk deploy` runs `docker build`), one per
    platform, and no CodeBuild project."""
    template = docker_built.template(STACK_ID)
    manifest = json.loads((docker_built.outdir / f"{STACK_ID}.assets.json").read_text())
    images = manifest.get("dockerImages", {})
    assert sorted(a["source"]["platform"] for a in images.values()) == [
        "linux/amd64",
        "linux/arm64",
    ]
    assert all(
        (docker_built.outdir / a["source"]["directory"] / "Dockerfile").exists()
        for a in images.values()
    )
    assert "container-assets" in json.dumps(image_of(template, "Web"))
    assert not resources(template, "AWS::CodeBuild::Project")
    assert not image_builds(template)


# -- event-started tasks and notifications ---------------------------------------------------------


def test_upload_rule_starts_the_task_with_the_object_key_retries_and_a_dlq(assembly):
    template = assembly.template(STACK_ID)
    bucket = one(template, "AWS::S3::Bucket", "/Uploads/Resource")
    # S3 -> EventBridge delivery is switched on on the bucket itself (what Control Tower's
    # CT.S3.PR.4 checks), with no notifications custom resource and its Lambda function.
    assert bucket[1]["Properties"]["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    assert not resources(template, "Custom::S3BucketNotifications")
    rule = one(template, "AWS::Events::Rule", "/ProcessUploads/ObjectCreated/Resource")[1][
        "Properties"
    ]
    assert rule["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [{"Ref": bucket[0]}]}},
    }
    target = rule["Targets"][0]
    dlq = one(template, "AWS::SQS::Queue", "/EventDeadLetters/Resource")[0]
    s = settings(assembly)
    assert target["RetryPolicy"] == {
        "MaximumRetryAttempts": s.task_retry_attempts,
        "MaximumEventAgeInSeconds": s.task_max_event_age_hours * 3600,
    }
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}
    parameters = target["EcsParameters"]
    assert "LaunchType" not in parameters  # the capacity provider strategy decides
    assert (
        parameters["CapacityProviderStrategy"]
        == service(template, "Web")["CapacityProviderStrategy"]
    )
    assert "OBJECT_KEY" in target["InputTransformer"]["InputTemplate"]
    assert target["InputTransformer"]["InputPathsMap"] == {
        "detail-object-key": "$.detail.object.key"
    }


def test_event_started_tasks_are_switched_on_for_the_sample_app(assembly):
    template = assembly.template(STACK_ID)
    assert (
        one(template, "AWS::Events::Rule", "/ProcessUploads/ObjectCreated/Resource")[1][
            "Properties"
        ]["State"]
        == "ENABLED"
    )
    assert (
        one(template, "AWS::Scheduler::Schedule", "/PruneSharedFiles/Schedule/Resource")[1][
            "Properties"
        ].get("State", "ENABLED")
        == "ENABLED"
    )


def test_scheduled_prune_task_has_retries_and_a_dlq(template, assembly):
    dlq = one(assembly.template(STACK_ID), "AWS::SQS::Queue", "/EventDeadLetters/Resource")[0]
    s = settings(assembly)
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": s.prune_schedule,
            "ScheduleExpressionTimezone": s.schedule_time_zone,
            "Target": Match.object_like(
                {
                    "RetryPolicy": {
                        "MaximumRetryAttempts": s.task_retry_attempts,
                        "MaximumEventAgeInSeconds": s.task_max_event_age_hours * 3600,
                    },
                    "DeadLetterConfig": {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}},
                    "EcsParameters": Match.object_like({"TaskDefinitionArn": Match.any_value()}),
                }
            ),
        },
    )


def test_stopped_tasks_of_the_cluster_notify_the_encrypted_topic(assembly):
    template = assembly.template(STACK_ID)
    cluster = next(iter(resources(template, "AWS::ECS::Cluster")))
    topic_id, topic = one(template, "AWS::SNS::Topic", "/Notifications/Resource")
    rule = one(template, "AWS::Events::Rule", "/StoppedTasks/TaskStopped/Resource")[1]["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {"clusterArn": [{"Fn::GetAtt": [cluster, "Arn"]}], "lastStatus": ["STOPPED"]},
    }
    target = rule["Targets"][0]
    assert target["Arn"] == {"Ref": topic_id}
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 3
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = template["Resources"][key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    assert any(
        s.get("Principal") == {"Service": "events.amazonaws.com"}
        for s in key["KeyPolicy"]["Statement"]
    )


def test_queues_are_encrypted_tls_only_with_a_dead_letter_queue(assembly):
    template = assembly.template(STACK_ID)
    jobs = one(template, "AWS::SQS::Queue", "/Jobs/Resource")[1]["Properties"]
    dlq = one(template, "AWS::SQS::Queue", "/JobsDeadLetters/Resource")[0]
    assert jobs["SqsManagedSseEnabled"] is True
    assert jobs["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
        "maxReceiveCount": 5,
    }
    policies = json.dumps(resources(template, "AWS::SQS::QueuePolicy"))
    assert '"aws:SecureTransport": "false"' in policies


def test_data_is_retained_or_disposable_as_the_stage_says(assembly):
    template = assembly.template(STACK_ID)
    policy = "Retain" if assembly.stage_settings.keep_data else "Delete"
    for kind, path in (
        ("AWS::S3::Bucket", "/Uploads/Resource"),
        ("AWS::SQS::Queue", "/Jobs/Resource"),
        ("AWS::EFS::FileSystem", "/FileSystem/Resource"),
    ):
        assert one(template, kind, path)[1]["DeletionPolicy"] == policy, kind


def test_outputs_a_user_needs_after_deploy(assembly):
    outputs = assembly.template(STACK_ID)["Outputs"]
    for name in (
        "ServiceUrl",
        "RepositoryUri",
        "DockerPushCommands",
        "QueueUrl",
        "UploadBucketName",
        "NotificationsTopicArn",
        "ClusterName",
    ):
        assert name in outputs
    push = json.dumps(outputs["DockerPushCommands"]["Value"])
    assert "docker login" in push and "docker push ${Uri}:v1" in push
    assert ("ExecCommand" in outputs) is settings(assembly).execute_command
    assert ("Ec2CapacityProviderName" in outputs) is settings(assembly).ec2_capacity


def test_no_ec2_capacity_unless_enabled(assembly):
    template = assembly.template(STACK_ID)
    for kind in (
        "AWS::ECS::CapacityProvider",
        "AWS::AutoScaling::AutoScalingGroup",
        "AWS::EC2::LaunchTemplate",
    ):
        assert bool(resources(template, kind)) is settings(assembly).ec2_capacity, kind


# -- the variant: every optional feature on --------------------------------------------------------


@pytest.fixture
def variant_template(variant):
    return variant.template(STACK_ID)


def test_variant_passes_cdk_nag_and_cfn_lint(variant):
    from cfnlint.api import lint

    assert not nag_findings(variant) and variant.error is None
    text = (variant.outdir / f"{STACK_ID}.template.json").read_text()
    assert not [m for m in lint(text, regions=["us-east-1"]) if m.rule.id.startswith("E")]


def test_variant_ec2_capacity_provider_is_managed_graviton_and_runs_the_worker(variant_template):
    template = variant_template
    ((provider_id, provider),) = resources(template, "AWS::ECS::CapacityProvider").items()
    group = provider["Properties"]["AutoScalingGroupProvider"]
    assert group["ManagedScaling"]["Status"] == "ENABLED"
    assert group["ManagedTerminationProtection"] == "ENABLED"
    ((group_id, asg),) = resources(template, "AWS::AutoScaling::AutoScalingGroup").items()
    assert asg["Properties"]["NewInstancesProtectedFromScaleIn"] is True
    assert asg["Properties"]["NotificationConfigurations"][0]["TopicARN"]["Ref"].startswith(
        "Notifications"
    )
    ((_, launch),) = resources(template, "AWS::EC2::LaunchTemplate").items()
    data = launch["Properties"]["LaunchTemplateData"]
    image_parameter = template["Parameters"][data["ImageId"]["Ref"]]["Default"]
    assert image_parameter == (
        "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"
    )
    assert data["InstanceType"] == "t4g.small"
    assert data["MetadataOptions"] == {"HttpTokens": "required", "HttpPutResponseHopLimit": 1}
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    association = next(
        iter(resources(template, "AWS::ECS::ClusterCapacityProviderAssociations").values())
    )["Properties"]
    assert {"Ref": provider_id} in association["CapacityProviders"]
    worker = service(template, "Worker")
    assert worker["CapacityProviderStrategy"] == [
        {"CapacityProvider": {"Ref": provider_id}, "Weight": 1}
    ]
    assert task_definition(template, "Worker")["RequiresCompatibilities"] == ["EC2"]
    assert template["Outputs"]["Ec2CapacityProviderName"]["Value"] == {"Ref": provider_id}


def test_variant_instance_role_has_only_the_agents_statements(variant_template):
    template = variant_template
    role = one(template, "AWS::IAM::Role", "/Containers/InstanceRole/Resource")[0]
    assert not template["Resources"][role]["Properties"].get("ManagedPolicyArns")
    cluster = next(iter(resources(template, "AWS::ECS::Cluster")))
    statements = statements_of(template, role)
    assert actions_of(statements) == {
        "ecs:DeregisterContainerInstance",
        "ecs:RegisterContainerInstance",
        "ecs:Submit*",
        "ecs:Poll",
        "ecs:StartTelemetrySession",
        "ecr:GetAuthorizationToken",
        "ecs:DiscoverPollEndpoint",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    register = next(s for s in statements if "ecs:RegisterContainerInstance" in s["Action"])
    assert register["Resource"] == {"Fn::GetAtt": [cluster, "Arn"]}
    poll = next(s for s in statements if "ecs:Poll" in s["Action"])
    assert poll["Condition"] == {"ArnEquals": {"ecs:cluster": {"Fn::GetAtt": [cluster, "Arn"]}}}


def test_variant_https_with_certificate_redirect_and_dns_record(variant_template):
    template = variant_template
    listeners = {
        r["Properties"]["Port"]: r["Properties"]
        for r in resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    }
    assert listeners[443]["Protocol"] == "HTTPS" and listeners[443]["Certificates"]
    assert listeners[443]["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert listeners[80]["DefaultActions"] == [
        {
            "Type": "redirect",
            "RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"},
        }
    ]
    ((_, certificate),) = resources(template, "AWS::CertificateManager::Certificate").items()
    assert certificate["Properties"]["DomainName"] == "app.example.com"
    assert certificate["Properties"]["ValidationMethod"] == "DNS"
    ((_, record),) = resources(template, "AWS::Route53::RecordSet").items()
    assert (record["Properties"]["Name"], record["Properties"]["Type"]) == ("app.example.com.", "A")
    assert template["Outputs"]["ServiceUrl"]["Value"] == "https://app.example.com"
    # World-open ingress: exactly the two listener ports.
    alb = one(template, "AWS::EC2::SecurityGroup", "/LoadBalancerSecurityGroup/Resource")[1]
    assert sorted(r["FromPort"] for r in alb["Properties"]["SecurityGroupIngress"]) == [80, 443]


def test_variant_public_image_needs_no_docker_and_runs_as_is(variant, variant_template):
    manifest = json.loads((variant.outdir / f"{STACK_ID}.assets.json").read_text())
    assert not manifest.get("dockerImages"), "a public image must not need docker build"
    web = task_definition(variant_template, "Web")["ContainerDefinitions"][0]
    assert web["Image"] == PUBLIC_IMAGE and "Command" not in web
    assert web["ReadonlyRootFilesystem"] is False  # an arbitrary image may write to its root
    assert web["PortMappings"][0]["ContainerPort"] == 80
    template = variant_template
    template_group = next(
        r for r in resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup").values()
    )
    assert template_group["Properties"]["HealthCheckPath"] == "/"
    # No ECR pull permission for an image that is not in ECR.
    execution = task_definition(template, "Web")["ExecutionRoleArn"]["Fn::GetAtt"][0]
    assert not {a for a in actions_of(statements_of(template, execution)) if a.startswith("ecr:")}
    # Nothing is built, and nothing EventBridge would start can run: the image has no
    # process-upload or prune command, so the rule and the schedule exist switched off.
    assert not resources(template, "AWS::CodeBuild::Project")
    assert (
        one(template, "AWS::Events::Rule", "/ProcessUploads/ObjectCreated/Resource")[1][
            "Properties"
        ]["State"]
        == "DISABLED"
    )
    assert (
        one(template, "AWS::Scheduler::Schedule", "/PruneSharedFiles/Schedule/Resource")[1][
            "Properties"
        ]["State"]
        == "DISABLED"
    )
    assert service(template, "Worker")["DesiredCount"] == 0


def test_variant_private_subnets_with_nat_and_agent_endpoints(variant_template):
    template = variant_template
    assert len(resources(template, "AWS::EC2::NatGateway")) == 1
    network = service(template, "Web")["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED" and "private" in network["Subnets"][0]["Ref"]
    services = {
        json.dumps(e["Properties"]["ServiceName"]).split(".")[-1].strip('"]}')
        for e in resources(template, "AWS::EC2::VPCEndpoint").values()
    }
    assert {"api", "dkr", "logs", "sqs", "ecs", "ecs-agent", "ecs-telemetry", "s3"} <= services
    assert "ssmmessages" not in services  # ECS Exec off in the variant
    endpoint_group = one(template, "AWS::EC2::SecurityGroup", "/Endpoints/SecurityGroup/Resource")[
        0
    ]
    instance_group = one(
        template, "AWS::EC2::SecurityGroup", "/Containers/InstanceSecurityGroup/Resource"
    )[0]
    sources = {
        r["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0]
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [endpoint_group, "GroupId"]}
    }
    assert instance_group in sources and len(sources) == 3


def test_variant_email_subscription_has_a_dead_letter_queue(variant_template):
    ((_, subscription),) = resources(variant_template, "AWS::SNS::Subscription").items()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"
    assert "RedrivePolicy" in subscription["Properties"]


def test_variant_key_lets_auto_scaling_notify_through_a_condition(variant_template):
    key = next(iter(resources(variant_template, "AWS::KMS::Key").values()))["Properties"]
    statement = next(
        s for s in key["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowAutoScalingNotifications"
    )
    assert statement["Principal"] == {"AWS": "*"}
    assert "AWSServiceRoleForAutoScaling" in json.dumps(statement["Condition"])
