"""The docs' generated parts (pictures, cost tables) match what the templates deploy, prices live
only in docgen/prices.toml, and the cost model prices what the template says.

Regenerating needs no Graphviz: the checked-in DOT sources are compared with fresh ones, and the
PNG next to each must be the one rendered from it (hashes in docs/images/pictures.json).
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import tokenize
from datetime import date

import pytest

from docgen import diagram, expected_files, expected_sections
from docgen.assembly import (
    BLUEPRINT_DOCS,
    DOC_STACKS,
    REPO_ROOT,
    Assembly,
    Stack,
    describes,
    doc_of,
)
from docgen.cost import (
    CONTAINER_INSIGHTS_METRICS,
    DETAILED_MONITORING_METRICS,
    idle_lines,
    per_request_rates,
    stack_cost,
    unknown_types,
    weekly_hours,
)
from docgen.markers import read_section, replace_section
from docgen.prices import PRICE_FILE, prices
from tests.support.synth import Synthesized, registered

STALE = "stale: run `make docs` and commit the result"
DOLLAR = re.compile(r"\$\d")


def assembly_of(synthesized: Synthesized) -> Assembly:
    return Assembly(synthesized.stage, synthesized.outdir)


@pytest.fixture(scope="module")
def assemblies(synth) -> dict[str, Assembly]:
    if os.environ.get("BLUEPRINTS"):
        pytest.skip("the generated docs describe every blueprint: run without BLUEPRINTS")
    return {stage: assembly_of(synth(stage)) for stage in ("dev", "prod")}


# --- the generated docs are up to date ----------------------------------------------------------


def test_every_stack_is_described_by_exactly_one_doc(assembly):
    for stack_id in assembly.stacks:
        assert sum(describes(doc, stack_id) for doc in DOC_STACKS) == 1, stack_id
        assert (REPO_ROOT / "docs" / f"{doc_of(stack_id)}.md").exists()


def test_generated_doc_sections_match_the_templates(assemblies):
    for doc, sections in expected_sections(assemblies).items():
        path = REPO_ROOT / "docs" / f"{doc}.md"
        text = path.read_text()
        for name, content in sections.items():
            assert read_section(text, name, path) == content.rstrip("\n"), f"{path} {name}: {STALE}"


def test_generated_files_match_the_templates(assemblies):
    for path, content in expected_files(assemblies).items():
        assert path.exists() and path.read_text() == content, f"{path}: {STALE}"


def test_each_picture_was_rendered_from_its_checked_in_source():
    assert diagram.stale_pictures() == [], f"pictures not rendered from their DOT source: {STALE}"


def test_every_blueprint_doc_opens_with_its_picture():
    for doc in BLUEPRINT_DOCS:
        lines = (REPO_ROOT / "docs" / f"{doc}.md").read_text().splitlines()
        assert lines[0].startswith("# ") and lines[2] == "<!-- generated:picture:begin -->", doc
        assert f"](images/{doc}.png)" in "\n".join(lines[:6]), doc


def test_the_picture_draws_what_the_template_holds(assemblies):
    """Every NAT gateway, load balancer, function, cache and table of prod is on the picture."""
    drawn_types = {
        "AWS::EC2::NatGateway",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::DAX::Cluster",
        "AWS::Neptune::DBCluster",
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::CloudFront::Distribution",
        "AWS::WAFv2::WebACL",
        "AWS::ECS::Service",
    }
    for doc in BLUEPRINT_DOCS:
        picture = diagram.Picture(doc, assemblies["prod"])
        for stack in assemblies["prod"].of_doc(doc):
            for logical_id, resource in stack.resources.items():
                if resource["Type"] in drawn_types:
                    assert (stack.id, logical_id) in picture.owner, (doc, logical_id)


def test_a_distribution_is_drawn_reaching_the_load_balancer_behind_its_vpc_origin(assemblies):
    """The VPC origin names the load balancer through an export of the app's stack: the
    picture follows it, as the request does (it once showed no way into the update servers)."""
    checked = 0
    for doc in BLUEPRINT_DOCS:
        picture = diagram.Picture(doc, assemblies["prod"])
        balancers = {
            node.id
            for node in picture.nodes.values()
            if node.kind.title == "Application Load Balancer"
        }
        for stack in assemblies["prod"].of_doc(doc):
            for logical_id, resource in stack.of_type("AWS::CloudFront::Distribution").items():
                if "VpcOriginConfig" not in json.dumps(resource):
                    continue
                start = picture.owner[(stack.id, logical_id)]
                reached = {b for a, b, style in picture.arrows if a == start and style == "use"}
                assert reached & balancers, (doc, logical_id, sorted(reached))
                checked += 1
    if not checked:
        # A starter kit of a blueprint without one (the update offload has it).
        assert "update-offload" not in registered(), "its distribution lost its VPC origin"
        pytest.skip("no prod distribution with a VPC origin in this build")


# --- prices live in one place -----------------------------------------------------------------


def test_every_price_names_its_source_and_the_day_it_was_checked():
    for key, entry in prices().entries().items():
        assert entry["source"].startswith("https://"), key
        assert date.fromisoformat(entry["checked"]) <= date.today(), key
        assert entry["confirmed"] and entry["unit"], key
        values = [entry.get("usd", entry.get("fraction"))] + [
            v for table in entry.values() if isinstance(table, dict) for v in table.values()
        ]
        assert all(isinstance(v, int | float) and v >= 0 for v in values if v is not None), key


def _outside_generated_text(path) -> str:
    text = path.read_text()
    # Every generated section, whichever generator (docgen GENERATORS) writes it.
    for name in re.findall(r"<!-- generated:([\w-]+):begin -->", text):
        text = replace_section(text, name, "", path)
    if path.name == "update-offload.md":
        from benchmarks.update_offload_model import DOC_SCENARIOS, markdown_table

        text = text.replace(markdown_table(DOC_SCENARIOS), "")  # the savings model's own table
    return text


def test_docs_state_no_price_outside_the_generated_tables():
    for path in [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]:
        for line in _outside_generated_text(path).splitlines():
            assert not DOLLAR.search(line), f"{path.name}: a hand-written price: {line.strip()}"


def _comments_and_strings(source: str):
    """Comments, docstrings and every other string literal (acknowledgment reasons, lifecycle
    rule texts, messages: they reach templates and users as surely as a comment does)."""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_code_states_no_price():
    found = []
    for folder in ("house", "patterns", "blueprints", "deployment"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            for line, text in _comments_and_strings(path.read_text()):
                if DOLLAR.search(text):
                    found.append(f"{path.relative_to(REPO_ROOT)}:{line}")
    assert found == [], f"prices belong in {PRICE_FILE.name}: {sorted(found)}"


def test_a_price_in_a_string_is_found():
    """The check reads string literals too, where acknowledgment reasons live."""
    source = 'acknowledge(x, "AwsSolutions-CFR2", "a web ACL costs $5/month")\n'
    assert any(DOLLAR.search(text) for _, text in _comments_and_strings(source))


# --- the cost model prices what the template says ---------------------------------------------


def test_every_resource_type_has_a_cost_model(assembly):
    for stack in assembly_of(assembly).stacks.values():
        assert unknown_types(stack) == set(), stack.id


def test_make_cost_prices_every_stack_of_the_stage(assembly):
    for stack in assembly_of(assembly).stacks.values():
        cost = stack_cost(stack, assembly.stage)
        assert cost.monthly == round(sum(line.monthly for line in cost.lines), 2)
        assert all(line.monthly > 0 for line in cost.lines), stack.id


def stack(resources: dict) -> Stack:
    return Stack(id="Test", name="Test", region="us-east-1", template={"Resources": resources})


def test_a_nat_gateway_idles_with_its_elastic_ip():
    lines = idle_lines(
        stack(
            {
                "Eip": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}},
                "Nat": {
                    "Type": "AWS::EC2::NatGateway",
                    "Properties": {"AllocationId": {"Fn::GetAtt": ["Eip", "AllocationId"]}},
                },
            }
        ),
        prices(),
    )
    hours = prices().hours_per_month
    total = sum(line.monthly for line in lines)
    expected = (prices()("nat_gateway_hour").usd + prices()("public_ipv4_hour").usd) * hours
    assert total == pytest.approx(expected)


def test_lambda_duration_is_priced_at_its_architecture_s_rate():
    for arch in ("arm64", "x86_64"):
        rates = per_request_rates(
            stack(
                {
                    "Fn": {
                        "Type": "AWS::Lambda::Function",
                        "Properties": {"Architectures": [arch], "MemorySize": 256},
                    }
                }
            ),
            prices(),
        )
        (duration,) = [r for r in rates if r.item.startswith("Lambda duration")]
        assert duration.price == prices()("lambda_gb_second", arch)
    assert prices()("lambda_gb_second", "arm64").usd < prices()("lambda_gb_second", "x86_64").usd


def _service(strategy, desired=4):
    return {
        "Task": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Cpu": "1024",
                "Memory": "2048",
                "RequiresCompatibilities": ["FARGATE"],
                "RuntimePlatform": {"CpuArchitecture": "X86_64"},
            },
        },
        "Service": {
            "Type": "AWS::ECS::Service",
            "Metadata": {"aws:cdk:path": "Test/Web/Service/Service"},
            "Properties": {
                "DesiredCount": desired,
                "TaskDefinition": {"Ref": "Task"},
                "CapacityProviderStrategy": strategy,
            },
        },
    }


def test_fargate_tasks_follow_the_capacity_provider_base_and_weights():
    strategy = [
        {"CapacityProvider": "FARGATE", "Base": 2, "Weight": 1},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 1},
    ]
    lines = {line.item: line for line in idle_lines(stack(_service(strategy)), prices())}
    on_demand = lines["Fargate: Web tasks (on demand)"]
    spot = lines["Fargate: Web tasks (Spot)"]
    assert (on_demand.count, spot.count) == (3, 1)  # base 2, then the other 2 split 1:1
    hourly = (
        prices()("fargate_vcpu_hour", "X86_64").usd + 2 * prices()("fargate_gb_hour", "X86_64").usd
    )
    assert on_demand.price.usd == pytest.approx(hourly, abs=1e-6)
    assert spot.price.usd == pytest.approx(hourly * prices()("fargate_spot_fraction").usd, 1e-4)


def test_container_insights_bills_the_metrics_of_running_services_only():
    resources = _service([{"CapacityProvider": "FARGATE", "Weight": 1}], desired=1)
    resources["Service"]["Properties"]["Cluster"] = {"Ref": "Cluster"}
    resources["Idle"] = {
        **resources["Service"],
        "Properties": {**resources["Service"]["Properties"], "DesiredCount": 0},
    }
    cluster = {"Type": "AWS::ECS::Cluster", "Properties": {}}
    assert not [
        line
        for line in idle_lines(stack({**resources, "Cluster": cluster}), prices())
        if "Insights" in line.item
    ]
    cluster["Properties"]["ClusterSettings"] = [{"Name": "containerInsights", "Value": "enabled"}]
    (insights,) = [
        line
        for line in idle_lines(stack({**resources, "Cluster": cluster}), prices())
        if "Insights" in line.item
    ]
    per = CONTAINER_INSIGHTS_METRICS
    assert insights.count == per["cluster"] + per["service"] + per["task family"]


def test_an_auto_scaling_group_bills_its_minimum_with_volumes_addresses_and_monitoring():
    lines = idle_lines(
        stack(
            {
                "Template": {
                    "Type": "AWS::EC2::LaunchTemplate",
                    "Properties": {
                        "LaunchTemplateData": {
                            "InstanceType": "t4g.micro",
                            "Monitoring": {"Enabled": True},
                            "NetworkInterfaces": [{"AssociatePublicIpAddress": True}],
                            "BlockDeviceMappings": [{"Ebs": {"VolumeSize": 8}}],
                        }
                    },
                },
                "Group": {
                    "Type": "AWS::AutoScaling::AutoScalingGroup",
                    "Properties": {
                        "MinSize": "2",
                        "MaxSize": "4",
                        "LaunchTemplate": {"LaunchTemplateId": {"Ref": "Template"}},
                    },
                },
            }
        ),
        prices(),
    )
    counts = {line.price.key: line.count for line in lines}
    assert counts == {
        "ec2_instance_hour.t4g.micro": 2,
        "public_ipv4_hour": 2,
        "ebs_gp3_gb_month": 16,
        "cloudwatch_metric_month": 2 * DETAILED_MONITORING_METRICS,
    }


def test_a_resource_type_without_a_cost_model_fails_naming_it():
    with pytest.raises(ValueError, match="AWS::Redshift::Cluster"):
        idle_lines(stack({"Db": {"Type": "AWS::Redshift::Cluster", "Properties": {}}}), prices())


def _public_subnet(name: str) -> dict:
    return {
        f"{name}": {"Type": "AWS::EC2::Subnet", "Properties": {}},
        f"{name}Routes": {"Type": "AWS::EC2::RouteTable", "Properties": {}},
        f"{name}Association": {
            "Type": "AWS::EC2::SubnetRouteTableAssociation",
            "Properties": {"SubnetId": {"Ref": name}, "RouteTableId": {"Ref": f"{name}Routes"}},
        },
        f"{name}Default": {
            "Type": "AWS::EC2::Route",
            "Properties": {
                "RouteTableId": {"Ref": f"{name}Routes"},
                "GatewayId": {"Ref": "Gateway"},
                "DestinationCidrBlock": "0.0.0.0/0",
            },
        },
    }


def test_an_express_service_bills_what_express_mode_creates_outside_the_template():
    resources = {
        "Gateway": {"Type": "AWS::EC2::InternetGateway", "Properties": {}},
        **_public_subnet("A"),
        **_public_subnet("B"),
        "Service": {
            "Type": "AWS::ECS::ExpressGatewayService",
            "Properties": {
                "Cpu": "512",
                "Memory": "1024",
                "ScalingTarget": {"MinTaskCount": 3, "MaxTaskCount": 6},
                "NetworkConfiguration": {"Subnets": [{"Ref": "A"}, {"Ref": "B"}]},
            },
        },
    }
    counts = {line.item: line.count for line in idle_lines(stack(resources), prices())}
    outside = "created by Express Mode, outside the template"
    assert counts[f"Fargate: Express service tasks (minimum, {outside})"] == 3
    assert counts["Public IPv4: Express service task"] == 3
    assert counts[f"Public IPv4: load balancer, one per AZ ({outside})"] == 2
    assert counts[f"Application Load Balancer ({outside}; shared by up to 25 services)"] == 1
    (tasks,) = [line for line in idle_lines(stack(resources), prices()) if "tasks" in line.item]
    hourly = (
        0.5 * prices()("fargate_vcpu_hour", "X86_64").usd
        + 1 * prices()("fargate_gb_hour", "X86_64").usd
    )
    assert tasks.price.usd == pytest.approx(hourly, abs=1e-6)
    # In private subnets: an internal load balancer, no public addresses at all.
    resources["Service"]["Properties"]["NetworkConfiguration"]["Subnets"] = [{"Ref": "Private"}]
    resources["Private"] = {"Type": "AWS::EC2::Subnet", "Properties": {}}
    items = {line.item for line in idle_lines(stack(resources), prices())}
    assert not [item for item in items if item.startswith("Public IPv4")]


def test_aurora_serverless_bills_its_minimum_acus_and_nothing_when_it_pauses():
    def cluster(minimum):
        return {
            "Cluster": {
                "Type": "AWS::RDS::DBCluster",
                "Properties": {
                    "Engine": "aurora-postgresql",
                    "ServerlessV2ScalingConfiguration": {"MinCapacity": minimum, "MaxCapacity": 8},
                },
            },
            **{
                name: {
                    "Type": "AWS::RDS::DBInstance",
                    "Properties": {
                        "DBInstanceClass": "db.serverless",
                        "DBClusterIdentifier": {"Ref": "Cluster"},
                    },
                }
                for name in ("Writer", "Reader")
            },
        }

    (line,) = idle_lines(stack(cluster(0.5)), prices())
    assert line.count == 1 and line.price == prices()("aurora_acu_hour")
    assert idle_lines(stack(cluster(0)), prices()) == []
    rates = {rate.price.key for rate in per_request_rates(stack(cluster(0)), prices())}
    assert {"aurora_storage_gb_month", "aurora_io_million", "aurora_acu_hour"} <= rates
    provisioned = cluster(0)
    provisioned["Writer"]["Properties"]["DBInstanceClass"] = "db.r7g.large"
    with pytest.raises(ValueError, match="db.r7g.large"):
        idle_lines(stack(provisioned), prices())


def test_app_runner_bills_the_memory_of_its_provisioned_instances_while_idle():
    resources = {
        "Scaling": {
            "Type": "AWS::AppRunner::AutoScalingConfiguration",
            "Properties": {"MinSize": 2, "MaxSize": 5},
        },
        "Service": {
            "Type": "AWS::AppRunner::Service",
            "Properties": {
                "InstanceConfiguration": {"Cpu": "1024", "Memory": "2048"},
                "AutoScalingConfigurationArn": {
                    "Fn::GetAtt": ["Scaling", "AutoScalingConfigurationArn"]
                },
            },
        },
    }
    (line,) = idle_lines(stack(resources), prices())
    assert line.count == 2 * 2 and line.price == prices()("app_runner_provisioned_gb_hour")
    rates = {rate.price.key for rate in per_request_rates(stack(resources), prices())}
    assert {"app_runner_active_vcpu_hour", "app_runner_active_gb_hour"} <= rates


def test_a_missing_price_names_the_entry_to_add():
    # (a type nobody prices: m7g.large was the example until EksCluster's prod needed it)
    with pytest.raises(KeyError, match=r"x2iedn.32xlarge.*ec2_instance_hour"):
        prices()("ec2_instance_hour", "x2iedn.32xlarge")


def test_scheduled_scale_out_hours_come_from_the_cron_pair():
    assert weekly_hours("cron(0 8 ? * MON-FRI *)", "cron(0 20 ? * MON-FRI *)") == 60
    assert weekly_hours("cron(30 6 ? * SAT *)", "cron(30 8 ? * SAT *)") == 2
    with pytest.raises(ValueError, match="cannot price"):
        weekly_hours("rate(1 hour)", "cron(0 20 ? * MON-FRI *)")


def test_tasks_on_an_ec2_capacity_provider_are_billed_as_its_instances_not_as_fargate():
    strategy = [{"CapacityProvider": {"Ref": "Ec2Capacity"}, "Weight": 1}]
    lines = idle_lines(stack(_service(strategy)), prices())
    assert not [line for line in lines if line.item.startswith("Fargate")]
