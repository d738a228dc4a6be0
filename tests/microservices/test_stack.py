"""Microservices template assertions: independence of the service stacks (SSM, no exports),
the OpenAPI front door, the hardened asynchronous paths, scaling and protection, dashboards and
alarms, cost. Both stages; what a setting decides is read from the settings the stage was built
with (cdk.json's values are checked in test_shipped_settings.py)."""

from __future__ import annotations

import json

import pytest

from blueprints.microservices.common import openapi
from blueprints.microservices.discovery import parameter_name
from blueprints.microservices.stack import STACK_IDS, built_stacks
from house.operations import OPERATIONS_ID
from patterns.web.openapi_rest_api import operations
from tests.support.iam_statements import all_statements, as_list, statements_of
from tests.support.template import only, resources

INSTANCE = "microservices"
BUS, INVENTORY, STOCK, ORDERS, NOTIFICATIONS = STACK_IDS
SERVICES = (INVENTORY, ORDERS, NOTIFICATIONS)  # the Lambda services (STOCK: test_stock.py)


@pytest.fixture
def settings(assembly):
    return assembly.settings(INSTANCE)


def ssm_reads(template: dict) -> set[str]:
    return {
        parameter["Default"]
        for parameter in template.get("Parameters", {}).values()
        if parameter.get("Type") == "AWS::SSM::Parameter::Value<String>"
        and not parameter["Default"].startswith("/cdk-bootstrap/")  # the CLI's own
    }


# -- independence ---------------------------------------------------------------------------------


def test_no_parameter_name_is_one_ssm_reserves(assembly, settings):
    """SSM refuses a hierarchy whose first level begins with "aws" or "ssm"."""
    for stack_id in built_stacks(settings):
        template = assembly.template(stack_id)
        names = [
            r["Properties"]["Name"] for r in resources(template, "AWS::SSM::Parameter").values()
        ]
        for name in names + sorted(ssm_reads(template)):
            assert not name.lstrip("/").lower().startswith(("aws", "ssm")), name


def test_the_stock_api_stack_is_built_exactly_when_the_container_service_is_on(assembly, settings):
    assert (STOCK in assembly.stacks) is settings.container_service
    assert [s for s in STACK_IDS if s in assembly.stacks] == list(built_stacks(settings))


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_no_stack_exports_or_imports_anything(assembly, settings, stack_id):
    if stack_id not in built_stacks(settings):
        pytest.skip(f"{stack_id} is not built with these settings")
    template = assembly.template(stack_id)
    text = json.dumps(template)
    assert "Fn::ImportValue" not in text
    assert not any("Export" in o for o in template.get("Outputs", {}).values())


@pytest.mark.parametrize("stack_id", SERVICES)
def test_each_service_reads_the_bus_from_ssm_under_its_stack_name(assembly, settings, stack_id):
    project = assembly.stage_settings.project
    bus_name = assembly.stack_name(BUS)
    reads = ssm_reads(assembly.template(stack_id))
    assert (
        parameter_name(project, bus_name, "topic-arn") in reads
        or parameter_name(project, bus_name, "event-bus-arn") in reads
    )
    published = {
        r["Properties"]["Name"]
        for r in resources(assembly.template(BUS), "AWS::SSM::Parameter").values()
    }
    assert reads <= published | {
        r["Properties"]["Name"]
        for other in built_stacks(settings)
        for r in resources(assembly.template(other), "AWS::SSM::Parameter").values()
    }, "every parameter a service reads is published by a stack of the shop"


def test_the_services_depend_on_the_bus_for_deploy_order_only(assembly):
    for stack_id in SERVICES:
        assert BUS in assembly.require(stack_id).get("dependencies", [])
    assert not any(s in assembly.require(BUS).get("dependencies", []) for s in STACK_IDS)


def test_orders_deploys_after_the_stock_api_only_when_it_calls_it(assembly, settings):
    orders = assembly.require(ORDERS).get("dependencies", [])
    assert (STOCK in orders) is settings.container_service
    if settings.container_service:
        assert INVENTORY in assembly.require(STOCK).get("dependencies", [])
        assert STOCK not in assembly.require(INVENTORY).get("dependencies", [])


# -- the front door -------------------------------------------------------------------------------


def test_the_public_api_is_the_checked_in_openapi_document_with_integrations(assembly):
    template = assembly.template(ORDERS)
    _, api = only(template, "AWS::ApiGateway::RestApi")
    body = api["Properties"]["Body"]
    document = openapi("orders")
    assert operations(body) == operations(document), "deployed methods == the spec's"
    assert body["components"]["schemas"] == document["components"]["schemas"]
    validators = body["x-amazon-apigateway-request-validators"]
    assert validators["all"] == {"validateRequestBody": True, "validateRequestParameters": True}
    for method, path in operations(body):
        operation = body["paths"][path][method.lower()]
        assert operation["x-amazon-apigateway-request-validator"] == "all"
        assert operation["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
    assert body["security"] == [{"sigv4": [], "api_key": []}]
    assert (
        body["components"]["securitySchemes"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    )
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        template_text = body["x-amazon-apigateway-gateway-responses"][kind]["responseTemplates"]
        assert '"code"' in template_text["application/json"]


def test_each_operation_invokes_the_function_as_a_role_that_may_invoke_nothing_else(assembly):
    """No function policy for API Gateway (CT.LAMBDA.PR.2): every operation's integration runs
    as the API's invoke role, which may invoke the orders function and nothing else."""
    template = assembly.template(ORDERS)
    assert not resources(template, "AWS::Lambda::Permission")
    (function,) = [
        logical_id
        for logical_id, f in resources(template, "AWS::Lambda::Function").items()
        if f["Metadata"]["aws:cdk:path"].endswith("/OrdersApi/Resource")
    ]
    _, api = only(template, "AWS::ApiGateway::RestApi")
    body = api["Properties"]["Body"]
    credentials = set()
    for method, path in operations(body):
        integration = body["paths"][path][method.lower()]["x-amazon-apigateway-integration"]
        assert integration["uri"]["Fn::Sub"][1] == {
            "FunctionArn": {"Fn::GetAtt": [function, "Arn"]}
        }
        credentials.add(json.dumps(integration["credentials"]))
    (role,) = credentials
    role_id = json.loads(role)["Fn::GetAtt"][0]
    (statement,) = statements_of(template, role_id)
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"] == {"Fn::GetAtt": [function, "Arn"]}


def test_the_stage_is_throttled_logged_traced_and_has_a_usage_plan(assembly, settings):
    template = assembly.template(ORDERS)
    _, stage = only(template, "AWS::ApiGateway::Stage")
    props = stage["Properties"]
    assert props["TracingEnabled"] is True and "AccessLogSetting" in props
    (method,) = props["MethodSettings"]
    assert method["ThrottlingRateLimit"] == settings.api_throttle_rate
    assert method["ThrottlingBurstLimit"] == settings.api_throttle_burst
    assert method["LoggingLevel"] == "ERROR" and method["DataTraceEnabled"] is False
    _, plan = only(template, "AWS::ApiGateway::UsagePlan")
    assert plan["Properties"]["Quota"] == {"Limit": settings.api_quota_per_day, "Period": "DAY"}
    assert plan["Properties"]["Throttle"]["RateLimit"] == settings.api_throttle_rate
    only(template, "AWS::ApiGateway::ApiKey")
    only(template, "AWS::ApiGateway::UsagePlanKey")


# -- asynchronous paths ---------------------------------------------------------------------------


def test_every_work_queue_has_a_dead_letter_queue_and_every_queue_is_encrypted_and_tls_only(
    assembly,
):
    for stack_id in SERVICES:
        template = assembly.template(stack_id)
        queues = resources(template, "AWS::SQS::Queue")
        for logical_id, queue in queues.items():
            assert queue["Properties"].get("SqsManagedSseEnabled", True) is not False
            is_dlq = queue["Properties"].get("MessageRetentionPeriod") == 14 * 24 * 3600
            assert is_dlq or "RedrivePolicy" in queue["Properties"], logical_id
        policies = resources(template, "AWS::SQS::QueuePolicy").values()
        denied = [
            s
            for p in policies
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool")
        ]
        assert len(denied) >= len(queues), "every queue denies non-TLS requests"


def test_the_topic_is_encrypted_and_tls_only_and_the_bus_is_archived(assembly, settings):
    template = assembly.template(BUS)
    _, topic = only(template, "AWS::SNS::Topic")
    assert topic["Properties"]["KmsMasterKeyId"]
    _, archive = only(template, "AWS::Events::Archive")
    assert archive["Properties"]["RetentionDays"] == settings.event_archive_days
    policy = json.dumps(resources(template, "AWS::SNS::TopicPolicy"))
    assert "aws:SecureTransport" in policy


def test_notifications_subscribe_raw_with_a_filter_policy_and_their_own_dead_letters(assembly):
    _, subscription = only(assembly.template(NOTIFICATIONS), "AWS::SNS::Subscription")
    props = subscription["Properties"]
    assert props["RawMessageDelivery"] is True
    assert props["FilterPolicy"] == {"eventType": ["OrderPlaced", "StockShortage"]}
    assert "RedrivePolicy" in props


def test_consumers_report_partial_batches_with_a_concurrency_cap(assembly, settings):
    for stack_id in (INVENTORY, NOTIFICATIONS):
        for mapping in resources(
            assembly.template(stack_id), "AWS::Lambda::EventSourceMapping"
        ).values():
            props = mapping["Properties"]
            assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            if "ScalingConfig" in props:
                assert (
                    props["ScalingConfig"]["MaximumConcurrency"]
                    == settings.consumer_max_concurrency
                )


def test_stream_consumers_bisect_retry_boundedly_and_park_failures(assembly, settings):
    streams = [
        m["Properties"]
        for stack_id in (ORDERS, INVENTORY)
        for m in resources(assembly.template(stack_id), "AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" in m["Properties"]
    ]
    assert len(streams) == (2 if settings.kinesis else 1)
    for props in streams:
        assert props["BisectBatchOnFunctionError"] is True
        assert props["MaximumRetryAttempts"] == settings.stream_retry_attempts
        assert props["DestinationConfig"]["OnFailure"]["Destination"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_kinesis_only_where_the_stage_turns_it_on_with_its_capacity(assembly, settings):
    streams = resources(assembly.template(BUS), "AWS::Kinesis::Stream")
    if not settings.kinesis:
        assert streams == {}
        return
    (stream,) = streams.values()
    if settings.kinesis_shards is None:
        assert stream["Properties"]["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    else:
        assert stream["Properties"]["ShardCount"] == settings.kinesis_shards
    assert stream["Properties"]["StreamEncryption"]["EncryptionType"] == "KMS"


def test_the_idempotency_tables_expire_their_records(assembly):
    for stack_id in (INVENTORY, NOTIFICATIONS):
        tables = resources(assembly.template(stack_id), "AWS::DynamoDB::Table")
        ttl = [t for t in tables.values() if "TimeToLiveSpecification" in t["Properties"]]
        assert [t["Properties"]["TimeToLiveSpecification"] for t in ttl] == [
            {"AttributeName": "expiration", "Enabled": True}
        ]


# -- scaling, protection, observability, cost -----------------------------------------------------


def test_functions_reserve_the_stages_concurrency_and_none_is_in_a_vpc(assembly, settings):
    for stack_id in SERVICES:
        for function in resources(assembly.template(stack_id), "AWS::Lambda::Function").values():
            props = function["Properties"]
            if props.get("Handler", "").startswith("index."):
                continue  # CDK's own custom-resource handlers
            assert props.get("ReservedConcurrentExecutions") == settings.reserved_concurrency
            assert "VpcConfig" not in props
            assert props["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize(
    ("stack_id", "wanted"),
    [
        (ORDERS, {"Api5xx", "ApiLatencyP99", "IteratorAge"}),
        (INVENTORY, set()),  # IteratorAge with the demand stream only
        (NOTIFICATIONS, set()),
    ],
)
def test_each_service_has_its_alarms_and_a_dashboard_where_the_stage_wants_one(
    assembly, settings, stack_id, wanted
):
    template = assembly.template(stack_id)
    dashboards = resources(template, "AWS::CloudWatch::Dashboard")
    assert len(dashboards) == (1 if settings.dashboards else 0)
    alarms = [k.removeprefix("Dashboard") for k in resources(template, "AWS::CloudWatch::Alarm")]
    assert {w for w in wanted if any(a.startswith(w) for a in alarms)} == wanted


def operations_topic(template: dict) -> str:
    """The logical id of the stack's house operations topic (house/operations.py)."""
    (topic,) = [
        k
        for k, t in resources(template, "AWS::SNS::Topic").items()
        if t["Metadata"]["aws:cdk:path"].endswith(f"/{OPERATIONS_ID}/Topic/Resource")
    ]
    return topic


@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_every_alarm_notifies_the_stacks_operations_topic(assembly, settings, stack_id):
    """The dashboards' 5XX, latency and iterator-age alarms as much as the
    house's own: an alarm nobody hears is none (AWS Control Tower CT.CLOUDWATCH.PR.1)."""
    if stack_id not in built_stacks(settings):
        pytest.skip(f"{stack_id} is not built with these settings")
    template = assembly.template(stack_id)
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    if stack_id == BUS:
        assert not alarms  # the bus parks no failed work of its own
        return
    topic = operations_topic(template)
    if stack_id == ORDERS:
        assert any(k.startswith("Dashboard") for k in alarms)
    for logical_id, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}], logical_id


def test_no_nat_gateway_anywhere_and_no_vpc_in_the_serverless_stacks(assembly, settings):
    for stack_id in built_stacks(settings):
        template = assembly.template(stack_id)
        assert resources(template, "AWS::EC2::NatGateway") == {}
        if stack_id != STOCK:
            assert resources(template, "AWS::EC2::VPC") == {}


def test_publisher_may_publish_only_to_the_shops_topic_bus_and_stream(assembly):
    statements = [s for _, s in all_statements(assembly.template(ORDERS))]
    publish = [s for s in statements if "sns:Publish" in as_list(s["Action"])]
    assert publish and all(s["Resource"] != "*" for s in publish)
    put = [s for s in statements if "events:PutEvents" in as_list(s["Action"])]
    assert put and all(s["Resource"] != "*" for s in put)
