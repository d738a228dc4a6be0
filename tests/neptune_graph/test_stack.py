"""Fine-grained assertions on the synthesized NeptuneGraph stack, dev and prod. What a setting
decides is read from the settings the stage was built with (cdk.json's values are checked in
test_shipped_settings.py)."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from tests.support.template import only, resources

STACK = "NeptuneGraph"
INSTANCE = "neptune-graph"


def test_vpc_has_no_internet_path(assembly):
    t = assembly.template(STACK)
    for kind in (
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::EgressOnlyInternetGateway",
    ):
        assert not resources(t, kind), f"{kind} gives the graph VPC an internet path"
    for route in resources(t, "AWS::EC2::Route").values():
        pytest.fail(f"unexpected route {route['Properties']}")
    for subnet in resources(t, "AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    _, flow_log = only(t, "AWS::EC2::FlowLog")
    assert flow_log["Properties"]["TrafficType"] == "ALL"


def test_vpc_spans_two_azs_in_dev_and_three_in_prod(assembly):
    subnets = resources(assembly.template(STACK), "AWS::EC2::Subnet")
    assert len(subnets) == {"dev": 2, "prod": 3}[assembly.stage]


def test_s3_gateway_endpoint_reaches_only_the_staging_bucket(assembly):
    t = assembly.template(STACK)
    _, endpoint = only(t, "AWS::EC2::VPCEndpoint")
    props = endpoint["Properties"]
    assert props["VpcEndpointType"] == "Gateway"
    assert ".s3" in json.dumps(props["ServiceName"])
    bucket, _ = only_staging_bucket(t)
    statements = props["PolicyDocument"]["Statement"]
    assert len(statements) == 1
    assert sorted(statements[0]["Action"]) == ["s3:GetObject", "s3:ListBucket"]
    assert statements[0]["Resource"] == [
        {"Fn::GetAtt": [bucket, "Arn"]},
        {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]},
    ]


def only_staging_bucket(t: dict) -> tuple[str, dict]:
    staging = {k: r for k, r in resources(t, "AWS::S3::Bucket").items() if k.startswith("Staging")}
    assert len(staging) == 1
    return next(iter(staging.items()))


def graph_data_key(t: dict) -> tuple[str, dict]:
    """The cluster's and staging bucket's key (prod has the stack's log-group key as well)."""
    (found,) = [
        (k, r) for k, r in resources(t, "AWS::KMS::Key").items() if k.startswith("GraphDataKey")
    ]
    return found


def test_cluster_engine_encryption_iam_auth_and_audit(assembly):
    t = assembly.template(STACK)
    _, cluster = only(t, "AWS::Neptune::DBCluster")
    props = cluster["Properties"]
    # 1.4.6.3 fixed the bulk loader failing to reach S3 in some regions: nothing older.
    version = tuple(int(part) for part in props["EngineVersion"].split("."))
    assert (1, 4, 6, 3) <= version < (1, 5)
    assert props["StorageEncrypted"] is True
    key, key_resource = graph_data_key(t)
    assert props["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    assert key_resource["Properties"]["EnableKeyRotation"] is True
    assert props["IamAuthEnabled"] is True
    assert props["EnableCloudwatchLogsExports"] == ["audit"]
    _, parameters = only(t, "AWS::Neptune::DBClusterParameterGroup")
    assert parameters["Properties"]["Family"] == "neptune1.4"
    assert parameters["Properties"]["Parameters"]["neptune_enable_audit_log"] == "1"
    audit = [
        g
        for g in resources(t, "AWS::Logs::LogGroup").values()
        if g["Properties"].get("LogGroupName")
        == f"/aws/neptune/{props['DBClusterIdentifier']}/audit"
    ]
    assert len(audit) == 1
    assert audit[0]["Properties"]["RetentionInDays"] == assembly.stage_settings.log_retention_days


def test_settings_decide_backups_protection_removal_and_replicas(assembly):
    t = assembly.template(STACK)
    settings = assembly.settings(INSTANCE)
    _, cluster = only(t, "AWS::Neptune::DBCluster")
    instances = resources(t, "AWS::Neptune::DBInstance")
    keep = assembly.stage_settings.keep_data
    assert cluster["Properties"]["BackupRetentionPeriod"] == settings.backup_retention_days
    assert cluster["Properties"]["DeletionProtection"] is keep
    assert cluster["DeletionPolicy"] == ("Retain" if keep else "Delete")
    assert len(instances) == 1 + settings.read_replicas
    classes = {i["Properties"]["DBInstanceClass"] for i in instances.values()}
    provisioned = settings.capacity == "provisioned"
    assert classes == {settings.instance_class if provisioned else "db.serverless"}
    zones = [i["Properties"]["AvailabilityZone"] for i in instances.values()]
    assert len(set(map(json.dumps, zones))) == len(zones), "replica must be in another AZ"


def test_cluster_port_open_only_to_loader_functions(assembly):
    t = assembly.template(STACK)
    cluster_sg = next(k for k in resources(t, "AWS::EC2::SecurityGroup") if k.startswith("Graph"))
    ingress = [
        r["Properties"]
        for r in resources(t, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [cluster_sg, "GroupId"]}
    ]
    sources = sorted(i["SourceSecurityGroupId"]["Fn::GetAtt"][0] for i in ingress)
    assert [s.split("SecurityGroup")[0] for s in sources] == ["BulkLoad", "SmallLoads"]
    for rule in ingress:
        assert (
            rule["FromPort"]
            == rule["ToPort"]
            == {"Fn::GetAtt": [only(t, "AWS::Neptune::DBCluster")[0], "Port"]}
        )
    assert "0.0.0.0/0" not in json.dumps(
        [r for r in resources(t, "AWS::EC2::SecurityGroupIngress").values()]
    )
    for group in resources(t, "AWS::EC2::SecurityGroup").values():
        assert "SecurityGroupIngress" not in group["Properties"]


def test_load_role_trusts_rds_reads_only_staging_and_is_on_the_cluster(assembly):
    t = assembly.template(STACK)
    assertions = Template.from_json(t)
    role = next(k for k in resources(t, "AWS::IAM::Role") if k.startswith("StagingLoadRole"))
    trust = t["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "rds.amazonaws.com"},
        }
    ]
    bucket, _ = only_staging_bucket(t)
    key, _ = graph_data_key(t)
    assertions.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": role}],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": ["s3:GetObject", "s3:ListBucket"],
                        "Effect": "Allow",
                        "Sid": "ReadGraphStaging",
                        "Resource": [
                            {"Fn::GetAtt": [bucket, "Arn"]},
                            {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]},
                        ],
                    },
                    {
                        "Action": "kms:Decrypt",
                        "Effect": "Allow",
                        "Resource": {"Fn::GetAtt": [key, "Arn"]},
                    },
                ],
                "Version": "2012-10-17",
            },
        },
    )
    _, cluster = only(t, "AWS::Neptune::DBCluster")
    assert cluster["Properties"]["AssociatedRoles"] == [{"RoleArn": {"Fn::GetAtt": [role, "Arn"]}}]


def test_staging_bucket_is_private_encrypted_versioned_logged(assembly):
    t = assembly.template(STACK)
    _, bucket = only_staging_bucket(t)
    props = bucket["Properties"]
    key, _ = graph_data_key(t)
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [key, "Arn"]},
    }
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith("AccessLogs")
    assert any("NoncurrentVersionExpiration" in r for r in props["LifecycleConfiguration"]["Rules"])
    assert props["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    Template.from_json(t).has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": only_staging_bucket(t)[0]},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_loader_functions_get_only_their_neptune_action_on_this_cluster(assembly):
    t = assembly.template(STACK)
    cluster, _ = only(t, "AWS::Neptune::DBCluster")
    expected = {
        "BulkLoadStartLoad": ["neptune-db:StartLoaderJob"],
        "BulkLoadLoadStatus": ["neptune-db:GetLoaderJobStatus"],
        "SmallLoadsFunction": ["neptune-db:ReadDataViaQuery", "neptune-db:WriteDataViaQuery"],
    }
    resource = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":neptune-db:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":",
                {"Fn::GetAtt": [cluster, "ClusterResourceId"]},
                "/*",
            ],
        ]
    }
    for prefix, actions in expected.items():
        policy = next(
            r
            for k, r in resources(t, "AWS::IAM::Policy").items()
            if k.startswith(prefix + "RoleDefaultPolicy")
        )
        neptune = [
            s
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if "neptune-db" in json.dumps(s["Action"])
        ]
        assert neptune == [
            {
                "Action": actions if len(actions) > 1 else actions[0],
                "Effect": "Allow",
                "Resource": resource,
            }
        ], prefix


def test_functions_run_in_isolated_subnets_on_arm64(assembly):
    t = assembly.template(STACK)
    functions = {
        k: r
        for k, r in resources(t, "AWS::Lambda::Function").items()
        if r["Properties"].get("Runtime", "").startswith("python")
    }
    assert len(functions) == 3
    isolated = {k for k in resources(t, "AWS::EC2::Subnet") if "isolated" in k}
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Architectures"] == ["arm64"], name
        assert {s["Ref"] for s in props["VpcConfig"]["SubnetIds"]} == isolated, name
        assert props["LoggingConfig"]["LogFormat"] == "JSON"


def test_workflow_polls_until_terminal_and_fails_with_loader_status(assembly):
    t = assembly.template(STACK)
    _, machine = only(t, "AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    definition = "".join(
        p if isinstance(p, str) else "<ref>" for p in props["DefinitionString"]["Fn::Join"][1]
    )
    states = json.loads(definition)["States"]
    assert set(states) == {
        "Start load",
        "Wait before polling",
        "Get load status",
        "Finished?",
        "Loaded",
        "Load failed",
    }
    retry = {e for r in states["Start load"]["Retry"] for e in r["ErrorEquals"]}
    assert (
        "NeptuneBusy" in retry and "NeptuneRejected" not in retry and "InvalidRequest" not in retry
    )
    choice = states["Finished?"]
    assert choice["Choices"][0] == {
        "Variable": "$.status.done",
        "BooleanEquals": False,
        "Next": "Wait before polling",
    }
    assert choice["Choices"][1]["StringEquals"] == "LOAD_COMPLETED"
    assert choice["Default"] == "Load failed"
    assert states["Load failed"] == {
        "Type": "Fail",
        "ErrorPath": "$.status.status",
        "CausePath": "$.status.cause",
    }
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["TracingConfiguration"] == {"Enabled": True}


def test_marker_in_staging_bucket_starts_the_workflow_with_retry_and_dlq(assembly):
    t = assembly.template(STACK)
    settings = assembly.settings(INSTANCE)
    _, rule = only(t, "AWS::Events::Rule")
    props = rule["Properties"]
    bucket, _ = only_staging_bucket(t)
    machine, _ = only(t, "AWS::StepFunctions::StateMachine")
    assert props["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [{"Ref": bucket}]},
            "object": {
                "key": [{"wildcard": f"{settings.auto_load_prefix}*{settings.marker_suffix}"}]
            },
        },
    }
    target = props["Targets"][0]
    assert target["Arn"] == {"Ref": machine}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    assert "DeadLetterConfig" in target
    assert json.loads(
        target["InputTransformer"]["InputTemplate"]
        .replace("<detail-bucket-name>", '"b"')
        .replace("<detail-object-key>", '"k"')
    ) == {"marker": {"bucket": "b", "key": "k"}}


def test_outputs_a_user_needs_right_after_deploy(assembly):
    outputs = assembly.template(STACK)["Outputs"]
    assert {
        "ClusterEndpoint",
        "ReaderEndpoint",
        "StagingBucketName",
        "LoadRoleArn",
        "BulkLoadStateMachineArn",
        "SmallLoadFunctionName",
        "LoadSampleCommand",
        "AutoLoadCommand",
    } <= set(outputs)
    command = json.dumps(outputs["LoadSampleCommand"])
    assert "aws s3 cp sample_data/fraud_graph/" in command and "start-execution" in command


def test_cost_allocation_tags_on_every_taggable_resource(assembly):
    cluster = only(assembly.template(STACK), "AWS::Neptune::DBCluster")[1]
    tags = {t["Key"]: t["Value"] for t in cluster["Properties"]["Tags"]}
    assert tags == {
        "Project": "aws-architecture-blueprints",
        "Environment": assembly.stage,
        "Team": "platform-engineering",
    }


def test_optional_tools_are_off_by_default(assembly):
    t = assembly.template(STACK)
    assert not resources(t, "AWS::SageMaker::NotebookInstance")
    assert not resources(t, "AWS::NeptuneGraph::Graph")


def test_snapshot(assembly, snapshot):
    from tests.support.snapshots import assert_blueprint_matches_snapshots

    assert_blueprint_matches_snapshots(assembly, "neptune-graph", snapshot)
