"""MicroservicesStock, Inventory's stock API on Fargate (`container_service`): the only way in is
the IAM-authorized HTTP API and its VPC link; the tasks are hardened, scaled and read one table
item; Orders may call one route. Every stage that builds it (prod ships it on), plus a variant
with what the shipped stages leave out (the stock API in dev: public task subnets, Container
Insights, dashboards), which must pass cdk-nag and cfn-lint too."""

from __future__ import annotations

import json

import pytest

from blueprints.microservices.common import openapi
from blueprints.microservices.discovery import parameter_name
from blueprints.microservices.stack import STACK_IDS
from blueprints.microservices.stock import STOCK_ENDPOINTS, stock_routes
from patterns.web.openapi_rest_api import operations
from tests.support.gates import lint_errors, nag_findings
from tests.support.iam_statements import all_statements, as_list
from tests.support.synth import REPO_ROOT, synthesize_once
from tests.support.template import only, resources

INSTANCE = "microservices"
BUS, INVENTORY, STOCK, ORDERS, NOTIFICATIONS = STACK_IDS


@pytest.fixture(scope="module")
def dev_variant(tmp_path_factory):
    """Dev with the stock API in public subnets, Container Insights and dashboards on."""
    settings = {
        "container_service": True,
        "container_subnets": "public",
        "container_insights": True,
        "dashboards": True,
    }
    return synthesize_once(
        tmp_path_factory,
        "dev",
        {"blueprints_only": INSTANCE, "blueprints": {INSTANCE: {"dev": settings}}},
    )


@pytest.fixture(params=["stage", "variant"])
def built(request, assembly, dev_variant):
    """(assembly, settings) of each synth that builds the stock API."""
    chosen = assembly if request.param == "stage" else dev_variant
    settings = chosen.settings(INSTANCE)
    if not settings.container_service:
        pytest.skip(f"{chosen.stage} has no container service")
    return chosen, settings


def by_type(template: dict, kind: str) -> dict:
    (_, resource) = only(template, kind)
    return resource["Properties"]


def ref(logical_id: str) -> dict:
    return {"Ref": logical_id}


def group_id(logical_id: str) -> dict:
    return {"Fn::GetAtt": [logical_id, "GroupId"]}


def logical_id_at(template: dict, kind: str, path_suffix: str) -> str:
    (found,) = [
        k
        for k, r in resources(template, kind).items()
        if r["Metadata"]["aws:cdk:path"].endswith(path_suffix)
    ]
    return found


def test_the_dev_variant_passes_cdk_nag_and_cfn_lint(dev_variant):
    assert nag_findings(dev_variant) == []
    assert lint_errors(dev_variant) == []
    assert dev_variant.error is None


def test_the_routes_are_the_checked_in_contract_and_each_needs_iam(built):
    assembly, _ = built
    routes = resources(assembly.template(STOCK), "AWS::ApiGatewayV2::Route").values()
    keys = {r["Properties"]["RouteKey"] for r in routes}
    assert keys == {f"{method} {path}" for method, path in operations(openapi("inventory"))}
    assert keys == {f"{method} {path}" for method, path in stock_routes()}
    assert {r["Properties"]["AuthorizationType"] for r in routes} == {"AWS_IAM"}


def test_the_only_way_to_the_tasks_is_the_vpc_link_to_an_internal_load_balancer(built):
    assembly, _ = built
    template = assembly.template(STOCK)
    balancer = by_type(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert balancer["Scheme"] == "internal"
    link = by_type(template, "AWS::ApiGatewayV2::VpcLink")
    assert balancer["Subnets"] == link["SubnetIds"]
    assert all("isolated" in s["Ref"] for s in balancer["Subnets"])
    integration = by_type(template, "AWS::ApiGatewayV2::Integration")
    listener_id, _ = only(template, "AWS::ElasticLoadBalancingV2::Listener")
    assert (integration["ConnectionType"], integration["IntegrationUri"]) == (
        "VPC_LINK",
        ref(listener_id),
    )
    (link_group,) = link["SecurityGroupIds"]
    (alb_group,) = balancer["SecurityGroups"]
    groups = resources(template, "AWS::EC2::SecurityGroup")
    for logical_id, group in groups.items():
        assert "SecurityGroupIngress" not in group["Properties"], f"{logical_id} admits an address"
    admitted = {
        (
            json.dumps(r["Properties"]["GroupId"]),
            json.dumps(r["Properties"]["SourceSecurityGroupId"]),
        )
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
    }
    task_group = group_id(
        logical_id_at(template, "AWS::EC2::SecurityGroup", "TaskSecurityGroup/Resource")
    )
    expected = {
        (json.dumps(alb_group), json.dumps(link_group)),
        (json.dumps(task_group), json.dumps(alb_group)),
    }
    endpoint_groups = {
        json.dumps(e["Properties"]["SecurityGroupIds"][0])
        for e in resources(template, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"]["VpcEndpointType"] == "Interface"
    }
    expected |= {(g, json.dumps(task_group)) for g in endpoint_groups}
    assert admitted == expected


def test_the_vpc_link_speaks_https_to_the_load_balancer_where_the_stage_names_a_domain(built):
    """With stock_api_domain_name: a DNS-validated certificate for it on an HTTPS-only
    listener (TLS 1.2+), whose name the integration verifies (CT.ELASTICLOADBALANCING.PR.1);
    no DNS record (nobody resolves it: the VPC link reaches the listener). Without: plain
    HTTP on 80 and no certificate."""
    assembly, settings = built
    template = assembly.template(STOCK)
    _, listener = only(template, "AWS::ElasticLoadBalancingV2::Listener")
    listener = listener["Properties"]
    integration = by_type(template, "AWS::ApiGatewayV2::Integration")
    certificates = resources(template, "AWS::CertificateManager::Certificate")
    (link_rule,) = [
        r["Properties"]
        for r in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["Description"] == "The stock API's VPC link"
    ]
    assert not resources(template, "AWS::Route53::RecordSet")
    name = settings.stock_api_domain_name
    if name is None:
        assert (listener["Protocol"], listener["Port"]) == ("HTTP", 80)
        assert "TlsConfig" not in integration and not certificates
        assert (link_rule["FromPort"], link_rule["ToPort"]) == (80, 80)
        return
    (certificate_id,) = certificates
    certificate = certificates[certificate_id]["Properties"]
    assert certificate["DomainName"] == name
    assert certificate["ValidationMethod"] == "DNS"
    assert certificate["DomainValidationOptions"] == [
        {"DomainName": name, "HostedZoneId": settings.hosted_zone_id}
    ]
    assert (listener["Protocol"], listener["Port"]) == ("HTTPS", 443)
    assert listener["Certificates"] == [{"CertificateArn": ref(certificate_id)}]
    # The house policy (LOAD_BALANCER_TLS_POLICY): TLS 1.3 and 1.2 only.
    assert listener["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert integration["TlsConfig"] == {"ServerNameToVerify": name}
    assert (link_rule["FromPort"], link_rule["ToPort"]) == (443, 443)


def test_the_tasks_run_the_stock_app_hardened_on_graviton(built):
    assembly, settings = built
    template = assembly.template(STOCK)
    task = by_type(template, "AWS::ECS::TaskDefinition")
    (container,) = task["ContainerDefinitions"]
    assert task["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    assert (task["Cpu"], task["Memory"]) == (
        str(settings.container_cpu),
        str(settings.container_memory_mib),
    )
    assert container["ReadonlyRootFilesystem"] is True
    assert container["User"] == "1000:1000"
    image = json.dumps(container["Image"])
    build_id, build = only(template, "Custom::CDKContainerImageBuild")
    assert build_id in image and "RegistryRepository" in image
    assert "linux/arm64" in build["Properties"]["buildCommand"]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    parameter = template["Parameters"][environment["STOCK_TABLE"]["Ref"]]
    project = assembly.stage_settings.project
    assert parameter["Default"] == parameter_name(
        project, assembly.stack_name(INVENTORY), "stock-table-name"
    )


def test_codebuild_builds_the_image_from_containers_stock(built):
    """The asset the build downloads is containers/stock (its Dockerfile and app), not the
    Fargate blueprint's containers/web."""
    assembly, _ = built
    assets = json.loads((assembly.outdir / f"{STOCK}.assets.json").read_text())["files"].values()
    folders = [
        assembly.outdir / a["source"]["path"]
        for a in assets
        if a["source"].get("packaging") == "zip"
        and (assembly.outdir / a["source"]["path"] / "Dockerfile").exists()
    ]
    (folder,) = folders
    source = REPO_ROOT / "containers" / "stock"
    assert (folder / "Dockerfile").read_text() == (source / "Dockerfile").read_text()
    assert (folder / "stock_api" / "api.py").read_text() == (
        source / "stock_api" / "api.py"
    ).read_text()


def test_the_task_may_read_one_item_of_inventorys_table_and_nothing_else(built):
    assembly, _ = built
    template = assembly.template(STOCK)
    task_role = logical_id_at(template, "AWS::IAM::Role", "TaskRole/Resource")
    statements = [
        s
        for _, s in all_statements(template)
        if any(
            ref(task_role) in p["Properties"].get("Roles", [])
            for p in resources(template, "AWS::IAM::Policy").values()
            if s in p["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    assert [as_list(s["Action"]) for s in statements] == [["dynamodb:GetItem"]]
    parameter = template["Parameters"][statements[0]["Resource"]["Ref"]]
    assert parameter["Default"].endswith(f"{assembly.stack_name(INVENTORY)}/stock-table-arn")


def test_the_service_scales_on_cpu_memory_and_requests_within_the_settings(built):
    assembly, settings = built
    template = assembly.template(STOCK)
    target = by_type(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (
        settings.container_min_tasks,
        settings.container_max_tasks,
    )
    metrics = {
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"][
            "PredefinedMetricSpecification"
        ]["PredefinedMetricType"]
        for p in resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    }
    assert metrics == {
        "ECSServiceAverageCPUUtilization",
        "ECSServiceAverageMemoryUtilization",
        "ALBRequestCountPerTarget",
    }
    service = by_type(template, "AWS::ECS::Service")
    assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": True,
    }


def test_the_stage_is_throttled_and_logs_every_call(built):
    assembly, settings = built
    template = assembly.template(STOCK)
    stage = by_type(template, "AWS::ApiGatewayV2::Stage")
    assert stage["StageName"] == "$default"
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == settings.stock_api_throttle_rate
    assert (
        stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == settings.stock_api_throttle_burst
    )
    log_format = json.loads(stage["AccessLogSettings"]["Format"])
    assert log_format["requestId"] == "$context.requestId"
    assert log_format["caller"] == "$context.identity.userArn"
    integration = by_type(template, "AWS::ApiGatewayV2::Integration")
    assert integration["RequestParameters"] == {
        "overwrite:header.x-request-id": "$context.requestId"
    }, "the request id reaches the container's log too"


def test_the_subnets_setting_decides_public_addresses_and_endpoints(built):
    assembly, settings = built
    template = assembly.template(STOCK)
    network = by_type(template, "AWS::ECS::Service")["NetworkConfiguration"]["AwsvpcConfiguration"]
    endpoints = resources(template, "AWS::EC2::VPCEndpoint").values()
    interface = sorted(
        json.dumps(e["Properties"]["ServiceName"])
        for e in endpoints
        if e["Properties"]["VpcEndpointType"] == "Interface"
    )
    gateways = {
        json.dumps(e["Properties"]["ServiceName"])
        for e in endpoints
        if e["Properties"]["VpcEndpointType"] == "Gateway"
    }
    assert len(gateways) == 2 and any("dynamodb" in g for g in gateways)
    assert resources(template, "AWS::EC2::NatGateway") == {}
    if settings.container_subnets == "public":
        assert network["AssignPublicIp"] == "ENABLED"
        assert all("public" in s["Ref"] for s in network["Subnets"])
        assert interface == []
    else:
        assert network["AssignPublicIp"] == "DISABLED"
        assert all("isolated" in s["Ref"] for s in network["Subnets"])
        assert resources(template, "AWS::EC2::InternetGateway") == {}
        assert len(interface) == len(STOCK_ENDPOINTS)


def test_container_insights_and_the_dashboard_follow_the_settings(built):
    assembly, settings = built
    template = assembly.template(STOCK)
    cluster = by_type(template, "AWS::ECS::Cluster")
    assert cluster["ClusterSettings"] == [
        {
            "Name": "containerInsights",
            "Value": "enabled" if settings.container_insights else "disabled",
        }
    ]
    assert len(resources(template, "AWS::CloudWatch::Dashboard")) == int(settings.dashboards)
    alarms = {k.removeprefix("Dashboard") for k in resources(template, "AWS::CloudWatch::Alarm")}
    assert {a[: len(w)] for a in alarms for w in ("Api5xx", "ApiLatencyP99")} >= {
        "Api5xx",
        "ApiLatencyP99",
    }


def test_orders_may_call_only_the_stock_route_and_reads_its_url_from_ssm(built):
    assembly, _ = built
    template = assembly.template(ORDERS)
    invoke = [
        s for _, s in all_statements(template) if "execute-api:Invoke" in as_list(s["Action"])
    ]
    (statement,) = invoke
    resource = json.dumps(statement["Resource"])
    assert resource.endswith('"/$default/GET/stock/*"]]}')
    project = assembly.stage_settings.project
    stock = assembly.stack_name(STOCK)
    reads = {
        p["Default"]
        for p in template["Parameters"].values()
        if p["Type"] == "AWS::SSM::Parameter::Value<String>"
    }
    wanted = {
        parameter_name(project, stock, "stock-api-url"),
        parameter_name(project, stock, "stock-api-id"),
    }
    assert wanted <= reads
    published = {
        r["Properties"]["Name"]
        for r in resources(assembly.template(STOCK), "AWS::SSM::Parameter").values()
    }
    assert published == wanted
    functions = [
        f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if "INVENTORY_URL" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert len(functions) == 1, "the orders API function, and only it, calls the stock API"


def test_the_preflight_refuses_the_shipped_placeholder_domain(built, tmp_path):
    """Prod's cdk.json names stock.shop.example.com in ZREPLACEWITHYOURZONE so that it
    synthesizes without an account; `make preflight` refuses to deploy that certificate (it
    would wait for DNS validation until CloudFormation gives up)."""
    from deployment.preflight_checks import Preflight, check_domains
    from house.domains import is_placeholder
    from tests.support.preflight_fakes import write_assembly

    assembly, settings = built
    if settings.stock_api_domain_name is None:
        pytest.skip("no certificate without stock_api_domain_name")
    stack = write_assembly(
        tmp_path,
        assembly.template(STOCK),
        stack_id=STOCK,
        stack_name=assembly.stack_name(STOCK),
    )
    (result,) = check_domains(Preflight(stack, account=None))
    placeholder = is_placeholder(settings.stock_api_domain_name, settings.hosted_zone_id)
    assert result.status == ("FAIL" if placeholder else "PASS")
    assert settings.stock_api_domain_name in result.detail
