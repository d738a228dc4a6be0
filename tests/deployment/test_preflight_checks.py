"""Each preflight check against an account state where it passes and one where it fails: moto
(`aws` fixture) where moto 5.2.5 has the API, botocore's Stubber where it does not."""

from __future__ import annotations

import json
import subprocess

import boto3
import pytest

from deployment import preflight_checks as checks
from deployment.preflight import run_checks
from tests.support.preflight_fakes import (
    MOTO_ACCOUNT,
    StubbedSession,
    lines,
    preflight_for,
    without_credentials,
    write_assembly,
)

GET_AZ_0 = {"Fn::Select": [0, {"Fn::GetAZs": ""}]}
GET_AZ_1 = {"Fn::Select": [1, {"Fn::GetAZs": ""}]}
LOGGING_STAGE = {
    "Type": "AWS::ApiGateway::Stage",
    "Properties": {
        "AccessLogSetting": {
            "DestinationArn": "arn:aws:logs:us-east-1:1:log-group:x",
            "Format": "x",
        }
    },
}


def template(**resources: dict) -> dict:
    return {"Resources": resources}


def resource(resource_type: str, **properties) -> dict:
    return {"Type": resource_type, "Properties": properties}


@pytest.fixture
def session(aws):
    return boto3.Session(region_name="us-east-1")


@pytest.fixture
def stubbed(aws):
    return StubbedSession()


@pytest.fixture
def assembly(tmp_path):
    """`assembly(template, **artifact)` -> the StackArtifact of a one-stack assembly."""
    return lambda body, **artifact: write_assembly(tmp_path / "cdk.out", body, **artifact)


def run(check, stack, session, fix: bool = False) -> list[checks.CheckResult]:
    return list(check(preflight_for(stack, session, fix)))


def statuses(results) -> list[tuple[str, str]]:
    return [(result.status, result.check) for result in results]


# --- 1. credentials and region ------------------------------------------------------------


def test_credentials_and_the_sessions_region_for_an_environment_agnostic_stack(session, assembly):
    results, account = checks.connect(assembly(template()), session)
    assert lines(results) == [
        f"PASS  credentials         account {MOTO_ACCOUNT} as "
        f"arn:aws:sts::{MOTO_ACCOUNT}:user/moto",
        "PASS  region              us-east-1 (the session's region: the stack is "
        "environment-agnostic)",
    ]
    assert (account.account_id, account.region) == (MOTO_ACCOUNT, "us-east-1")


def test_a_bound_stack_uses_its_own_region(session, assembly):
    stack = assembly(template(), environment=f"aws://{MOTO_ACCOUNT}/eu-west-1")
    results, account = checks.connect(stack, session)
    assert account.region == "eu-west-1"
    assert (
        "eu-west-1 (the stack's own region; the session's default us-east-1 does not apply)"
        in lines(results, "region")[0]
    )


def test_a_stack_bound_to_another_account_fails_and_stops(session, assembly):
    stack = assembly(template(), environment="aws://111122223333/us-east-1")
    results = run_checks(stack, session)
    assert statuses(results) == [("FAIL", "credentials")]
    assert (
        "bound to account 111122223333, the credentials are for 123456789012" in results[0].detail
    )


def test_no_region_anywhere_fails_and_says_what_to_set(aws, assembly, monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    session = boto3.Session()
    assert session.region_name is None
    results = run_checks(assembly(template()), session)
    assert statuses(results) == [("PASS", "credentials"), ("FAIL", "region")]
    assert "set AWS_REGION" in results[1].fix and "stages.<stage>.region" in results[1].fix


def test_no_credentials_is_one_result_saying_what_to_set(assembly, monkeypatch, tmp_path):
    without_credentials(monkeypatch, tmp_path)
    results = run_checks(assembly(template()), boto3.Session(region_name="us-east-1"))
    assert statuses(results) == [("FAIL", "credentials")]
    assert "AWS_PROFILE" in results[0].fix and "AWS_ACCESS_KEY_ID" in results[0].fix


# --- 2. bootstrap -------------------------------------------------------------------------


def put_bootstrap_version(session, version: str, name="/cdk-bootstrap/hnb659fds/version"):
    session.client("ssm").put_parameter(Name=name, Value=version, Type="String")


def test_bootstrap_new_enough_passes(session, assembly):
    put_bootstrap_version(session, "27")
    assert lines(run(checks.check_bootstrap, assembly(template()), session)) == [
        "PASS  bootstrap           version 27 >= 6 (/cdk-bootstrap/hnb659fds/version)"
    ]


def test_no_bootstrap_fails_with_the_bootstrap_command(session, assembly):
    [result] = run(checks.check_bootstrap, assembly(template()), session)
    assert result.status == "FAIL"
    assert result.fix == f"npx cdk bootstrap aws://{MOTO_ACCOUNT}/us-east-1"


def test_an_old_bootstrap_fails(session, assembly):
    put_bootstrap_version(session, "5")
    [result] = run(
        checks.check_bootstrap, assembly(template(), required_bootstrap_version=21), session
    )
    assert (result.status, result.detail) == (
        "FAIL",
        "version 5 < 21, the version this template needs (/cdk-bootstrap/hnb659fds/version)",
    )
    assert result.fix.startswith(f"npx cdk bootstrap aws://{MOTO_ACCOUNT}/us-east-1")


def test_a_custom_qualifier_is_in_the_bootstrap_command(session, assembly):
    stack = assembly(template(), bootstrap_parameter="/cdk-bootstrap/team42/version")
    [result] = run(checks.check_bootstrap, stack, session)
    assert result.fix == f"npx cdk bootstrap aws://{MOTO_ACCOUNT}/us-east-1 --qualifier team42"


def test_a_refused_read_is_a_fail_naming_the_call_and_permission(stubbed, assembly):
    stubbed.stub("ssm").add_client_error(
        "get_parameter",
        service_error_code="AccessDeniedException",
        http_status_code=400,
        service_message="User: arn:aws:iam::123456789012:user/dev is not authorized",
    )
    results = run_checks(assembly(template()), stubbed)
    [line] = lines(results, "bootstrap")
    assert line == (
        "FAIL  bootstrap           ssm.get_parameter refused (AccessDeniedException): "
        "the credentials lack ssm:GetParameter -> allow ssm:GetParameter for these "
        "credentials (read-only), then run again"
    )


def test_any_other_aws_error_is_a_fail_naming_the_call(stubbed, assembly):
    stubbed.stub("ssm").add_client_error(
        "get_parameter", service_error_code="ThrottlingException", service_message="Rate exceeded"
    )
    [line] = lines(run_checks(assembly(template()), stubbed), "bootstrap")
    assert line.endswith("ssm.get_parameter failed: ThrottlingException: Rate exceeded")


# --- 3. account baseline ------------------------------------------------------------------


def set_api_gateway_role(session, role_arn: str) -> None:
    session.client("apigateway").update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": role_arn}]
    )


def test_no_logging_stage_needs_no_baseline(session, assembly):
    quiet = template(Stage=resource("AWS::ApiGateway::Stage", StageName="v1"))
    assert run(checks.check_account_baseline, assembly(quiet), session) == []


def test_baseline_role_set_and_present_passes(session, assembly):
    role = session.client("iam").create_role(
        RoleName="ApiGatewayLogsRole", AssumeRolePolicyDocument=json.dumps({})
    )["Role"]
    set_api_gateway_role(session, role["Arn"])
    [result] = run(checks.check_account_baseline, assembly(template(Stage=LOGGING_STAGE)), session)
    assert (result.status, result.detail) == (
        "PASS",
        "API Gateway logs through ApiGatewayLogsRole (1 API stage(s) with CloudWatch "
        "logging (Stage))",
    )


def test_no_baseline_role_fails_with_the_baseline_deploy(session, assembly):
    stack = assembly(
        template(Stage=LOGGING_STAGE),
        stack_id="MyBlog",
        stack_name="MyBlog-prod",
        dependencies=("AccountBaseline",),
    )
    [result] = run(checks.check_account_baseline, stack, session)
    assert result.status == "FAIL"
    assert "name no CloudWatch Logs role" in result.detail
    assert result.fix == (
        "make deploy STACK=AccountBaseline STAGE=prod (`npx cdk deploy MyBlog` "
        "also deploys it first, as its dependency)"
    )


def test_a_baseline_role_that_no_longer_exists_fails(session, assembly):
    set_api_gateway_role(session, f"arn:aws:iam::{MOTO_ACCOUNT}:role/Deleted")
    [result] = run(checks.check_account_baseline, assembly(template(Stage=LOGGING_STAGE)), session)
    assert result.status == "FAIL" and "role/Deleted, which does not exist" in result.detail


def test_a_stack_not_depending_on_the_baseline_is_told_so(session, assembly):
    [result] = run(checks.check_account_baseline, assembly(template(Stage=LOGGING_STAGE)), session)
    assert "Blueprint does not depend on AccountBaseline" in result.fix


def test_api_gateway_permissions_are_http_verbs(stubbed, assembly):
    stubbed.stub("apigateway").add_client_error(
        "get_account", service_error_code="AccessDeniedException"
    )
    [line] = lines(run_checks(assembly(template(Stage=LOGGING_STAGE)), stubbed), "account baseline")
    assert "apigateway.get_account refused" in line and "lack apigateway:GET" in line


# --- 4. service-linked roles --------------------------------------------------------------

ECS_TEMPLATE = template(Cluster=resource("AWS::ECS::Cluster"))


def test_a_missing_service_linked_role_fails_with_both_fixes(session, assembly):
    [result] = run(checks.check_service_linked_roles, assembly(ECS_TEMPLATE), session)
    assert result.line() == (
        "FAIL  service-linked role AWSServiceRoleForECS missing (for AWS::ECS::*) -> aws iam "
        "create-service-linked-role --aws-service-name ecs.amazonaws.com (or: make preflight "
        "STACK=Blueprint STAGE=dev FIX=1)"
    )


def test_an_existing_service_linked_role_passes(session, assembly):
    session.client("iam").create_role(
        RoleName="AWSServiceRoleForECS",
        Path="/aws-service-role/ecs.amazonaws.com/",
        AssumeRolePolicyDocument=json.dumps({}),
    )
    [result] = run(checks.check_service_linked_roles, assembly(ECS_TEMPLATE), session)
    assert (result.status, result.detail) == (
        "PASS",
        "AWSServiceRoleForECS exists (for AWS::ECS::*)",
    )


def test_fix_creates_the_missing_role_and_reports_it(session, assembly):
    [result] = run(checks.check_service_linked_roles, assembly(ECS_TEMPLATE), session, fix=True)
    assert (result.status, result.detail) == (
        "PASS",
        "AWSServiceRoleForECS created (--fix) (for AWS::ECS::*)",
    )
    created = session.client("iam").list_roles(PathPrefix="/aws-service-role/ecs.amazonaws.com/")
    assert len(created["Roles"]) == 1


def test_fix_without_permission_to_create_fails_naming_it(stubbed, assembly):
    iam = stubbed.stub("iam")
    iam.add_client_error("get_role", service_error_code="NoSuchEntity", http_status_code=404)
    iam.add_client_error(
        "create_service_linked_role", service_error_code="AccessDenied", http_status_code=403
    )
    [result] = run(checks.check_service_linked_roles, assembly(ECS_TEMPLATE), stubbed, fix=True)
    assert result.status == "FAIL"
    assert "lack iam:CreateServiceLinkedRole" in result.detail


def test_fix_accepts_a_role_created_meanwhile(stubbed, assembly):
    iam = stubbed.stub("iam")
    iam.add_client_error("get_role", service_error_code="NoSuchEntity", http_status_code=404)
    iam.add_client_error(
        "create_service_linked_role",
        service_error_code="InvalidInput",
        service_message="Service role name AWSServiceRoleForECS has been taken "
        "in this account, please try a different suffix.",
    )
    [result] = run(checks.check_service_linked_roles, assembly(ECS_TEMPLATE), stubbed, fix=True)
    assert (result.status, result.detail) == (
        "PASS",
        "AWSServiceRoleForECS exists (for AWS::ECS::*)",
    )


# --- 5. quotas ----------------------------------------------------------------------------

ONE_VPC = template(Vpc=resource("AWS::EC2::VPC", CidrBlock="10.0.0.0/16"))


def test_vpc_headroom_passes_with_the_applied_quota(session, assembly):
    [result] = run(checks.check_quotas, assembly(ONE_VPC), session)
    assert result.line() == (
        "PASS  quota               VPCs per Region: 1 in use + 1 new <= 5 (applied quota)"
    )  # moto's default VPC is the one in use


def test_a_full_vpc_quota_fails_with_the_increase_request(session, assembly):
    for index in range(4):
        session.client("ec2").create_vpc(CidrBlock=f"10.{index}.0.0/16")
    [result] = run(checks.check_quotas, assembly(ONE_VPC), session)
    assert (result.status, result.detail) == (
        "FAIL",
        "VPCs per Region: 5 in use + 1 new > 5 (applied quota)",
    )
    assert result.fix == (
        "aws service-quotas request-service-quota-increase --service-code vpc "
        "--quota-code L-F678F1CE --desired-value 6 --region us-east-1"
    )


def test_an_update_does_not_count_its_own_vpc_against_the_quota(session, assembly):
    for index in range(3):
        session.client("ec2").create_vpc(CidrBlock=f"10.{index}.0.0/16")
    session.client("cloudformation").create_stack(
        StackName="Blueprint-dev", TemplateBody=json.dumps(ONE_VPC)
    )
    assert len(session.client("ec2").describe_vpcs()["Vpcs"]) == 5
    [result] = run(checks.check_quotas, assembly(ONE_VPC), session)
    assert (result.status, result.detail) == (
        "PASS",
        "VPCs per Region: 4 in use + 1 new <= 5 (applied quota)",
    )


def nat_template(*zones) -> dict:
    body = {}
    for index, zone in enumerate(zones):
        body[f"Subnet{index}"] = resource("AWS::EC2::Subnet", AvailabilityZone=zone)
        body[f"Nat{index}"] = resource("AWS::EC2::NatGateway", SubnetId={"Ref": f"Subnet{index}"})
    return template(**body)


def fill_nat_gateways(session, zone: str, count: int) -> None:
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24", AvailabilityZone=zone)["Subnet"][
        "SubnetId"
    ]
    for _ in range(count):
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)


def test_nat_gateways_are_counted_per_availability_zone(session, assembly):
    fill_nat_gateways(session, "us-east-1a", 4)
    [result] = run(checks.check_quotas, assembly(nat_template(GET_AZ_0, GET_AZ_1)), session)
    assert (result.status, result.detail) == (
        "PASS",
        "NAT gateways per Availability Zone: 4 in use in us-east-1a + 1 new <= 5 (applied quota)",
    )


def test_a_full_availability_zone_fails_the_nat_gateway_quota(session, assembly):
    fill_nat_gateways(session, "us-east-1a", 5)
    [result] = run(checks.check_quotas, assembly(nat_template(GET_AZ_0, GET_AZ_1)), session)
    assert (result.status, result.detail) == (
        "FAIL",
        "NAT gateways per Availability Zone: 5 in use in us-east-1a + 1 new > 5 (applied quota)",
    )
    assert "--quota-code L-FE5A380F --desired-value 6" in result.fix


TWO_EIPS = template(
    A=resource("AWS::EC2::EIP", Domain="vpc"), B=resource("AWS::EC2::EIP", Domain="vpc")
)


def no_applied_quota(stubbed, code: str = "L-0263D0A3"):
    quotas = stubbed.stub("service-quotas")
    quotas.add_client_error(
        "get_service_quota",
        service_error_code="NoSuchResourceException",
        expected_params={"ServiceCode": "ec2", "QuotaCode": code},
    )
    return quotas


def test_elastic_ips_fall_back_to_the_aws_default(stubbed, assembly):
    no_applied_quota(stubbed).add_response(
        "get_aws_default_service_quota",
        {"Quota": {"QuotaCode": "L-0263D0A3", "Value": 10.0}},
        {"ServiceCode": "ec2", "QuotaCode": "L-0263D0A3"},
    )
    for _ in range(8):
        stubbed.client("ec2").allocate_address(Domain="vpc")
    [result] = run(checks.check_quotas, assembly(TWO_EIPS), stubbed)
    assert (result.status, result.detail) == (
        "PASS",
        "EC2-VPC Elastic IPs: 8 in use + 2 new <= 10 (AWS default)",
    )


def test_elastic_ips_fall_back_to_the_documented_default_and_fail(stubbed, assembly):
    no_applied_quota(stubbed).add_client_error(
        "get_aws_default_service_quota", service_error_code="NoSuchResourceException"
    )
    for _ in range(4):
        stubbed.client("ec2").allocate_address(Domain="vpc")
    [result] = run(checks.check_quotas, assembly(TWO_EIPS), stubbed)
    assert (result.status, result.detail) == (
        "FAIL",
        "EC2-VPC Elastic IPs: 4 in use + 2 new > 5 (documented default; Service Quotas "
        "has no value)",
    )
    assert "--service-code ec2 --quota-code L-0263D0A3 --desired-value 6" in result.fix


def test_a_refused_quota_read_fails_that_quota_only(stubbed, assembly):
    stubbed.stub("service-quotas").add_client_error(
        "get_service_quota", service_error_code="AccessDeniedException"
    )
    [result] = run(checks.check_quotas, assembly(TWO_EIPS), stubbed)
    assert result.status == "FAIL"
    assert "lack servicequotas:GetServiceQuota" in result.detail


# --- 6. SES identities, sandbox, exports --------------------------------------------------


def ses_template(identity: object = "welcome@example.com") -> dict:
    return template(Sender=resource("AWS::SES::EmailIdentity", EmailIdentity=identity))


def ses_account(stubbed, identity: dict | None, production: bool = False):
    ses = stubbed.stub("sesv2")
    if identity is None:
        ses.add_client_error(
            "get_email_identity", service_error_code="NotFoundException", http_status_code=404
        )
    else:
        ses.add_response("get_email_identity", identity)
    ses.add_response("get_account", {"ProductionAccessEnabled": production, "SendingEnabled": True})
    return ses


def test_a_new_email_identity_and_the_sandbox_are_notes(stubbed, assembly):
    ses_account(stubbed, identity=None)
    results = run(checks.check_ses, assembly(ses_template()), stubbed)
    assert statuses(results) == [("NOTE", "ses identity"), ("NOTE", "ses sandbox")]
    assert "mails a verification link to welcome@example.com" in results[0].detail
    assert results[1].fix == (
        "aws sesv2 put-account-details --production-access-enabled "
        "--mail-type TRANSACTIONAL --website-url https://<your site> "
        "--region us-east-1"
    )


def test_a_new_domain_identity_note_points_at_the_dkim_records(stubbed, assembly):
    ses_account(stubbed, identity=None, production=True)
    results = run(checks.check_ses, assembly(ses_template("example.com")), stubbed)
    assert statuses(results) == [("NOTE", "ses identity"), ("PASS", "ses sandbox")]
    assert "DKIM CNAME records" in results[0].detail


def test_an_identity_another_stack_or_person_made_fails(stubbed, assembly):
    ses_account(
        stubbed, identity={"IdentityType": "EMAIL_ADDRESS", "VerifiedForSendingStatus": True}
    )
    results = run(checks.check_ses, assembly(ses_template()), stubbed)
    assert statuses(results)[0] == ("FAIL", "ses identity")
    assert results[0].detail == (
        "welcome@example.com already exists in SES in us-east-1 and is not a resource of "
        "Blueprint-dev: CloudFormation cannot create it again"
    )


def test_an_identity_this_stack_owns_passes(stubbed, assembly):
    ses_account(
        stubbed,
        identity={"IdentityType": "EMAIL_ADDRESS", "VerifiedForSendingStatus": True},
        production=True,
    )
    stubbed.stub("cloudformation").add_response(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                {
                    "LogicalResourceId": "Sender",
                    "PhysicalResourceId": "welcome@example.com",
                    "ResourceType": "AWS::SES::EmailIdentity",
                    "ResourceStatus": "CREATE_COMPLETE",
                    "LastUpdatedTimestamp": "2026-12-01T00:00:00Z",
                }
            ]
        },
        {"StackName": "Blueprint-dev"},
    )
    results = run(checks.check_ses, assembly(ses_template()), stubbed)
    assert lines(results) == [
        "PASS  ses identity        welcome@example.com belongs to Blueprint-dev and is verified",
        "PASS  ses sandbox         production access in us-east-1",
    ]


def test_an_identity_known_only_at_deploy_time_is_not_checked(stubbed, assembly):
    stubbed.stub("sesv2").add_response("get_account", {"ProductionAccessEnabled": True})
    results = run(checks.check_ses, assembly(ses_template({"Ref": "SenderParameter"})), stubbed)
    assert statuses(results) == [("NOTE", "ses identity"), ("PASS", "ses sandbox")]
    assert "not checked" in results[0].detail


def exporting(name: object) -> dict:
    return {
        "Resources": {"Queue": resource("AWS::SQS::Queue")},
        "Outputs": {"Url": {"Value": "x", "Export": {"Name": name}}},
    }


def test_an_export_name_another_stack_holds_fails(session, assembly):
    session.client("cloudformation").create_stack(
        StackName="Other", TemplateBody=json.dumps(exporting("Shared"))
    )
    [result] = run(checks.check_exports, assembly(exporting("Shared")), session)
    assert (result.status, result.detail) == (
        "FAIL",
        "Shared (output Url) is already exported by stack Other; export names are "
        "unique per account and region",
    )


def test_free_and_own_export_names_pass(session, assembly):
    session.client("cloudformation").create_stack(
        StackName="Blueprint-dev", TemplateBody=json.dumps(exporting("Mine"))
    )
    [own] = run(checks.check_exports, assembly(exporting("Mine")), session)
    [free] = run(
        checks.check_exports,
        assembly(exporting({"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "Url"]]})),
        session,
    )
    assert (own.status, free.status) == ("PASS", "PASS")
    assert free.detail == "1 export name(s) free or this stack's own (Blueprint-dev-Url)"


# --- 7. Docker ----------------------------------------------------------------------------

IMAGE = {
    "abc123": {
        "displayName": "sample app (amd64)",
        "source": {"directory": "asset.abc"},
        "destinations": {},
    }
}


@pytest.fixture
def docker(monkeypatch):
    """`docker(returncode, stderr)` makes `docker info` answer so; `docker(None)`: no docker."""

    def answer(returncode: int | None, stderr: str = "") -> None:
        monkeypatch.setattr(
            checks.shutil, "which", lambda name: None if returncode is None else f"/usr/bin/{name}"
        )
        monkeypatch.setattr(
            checks.subprocess,
            "run",
            lambda command, **kwargs: subprocess.CompletedProcess(command, returncode, "", stderr),
        )

    return answer


def test_no_container_images_need_no_docker(session, assembly, docker):
    docker(None)
    assert run(checks.check_docker, assembly(template()), session) == []


def test_a_running_docker_engine_passes(session, assembly, docker):
    docker(0)
    [result] = run(checks.check_docker, assembly(template(), docker_images=IMAGE), session)
    assert (result.status, result.detail) == (
        "PASS",
        "the Docker engine answers; 1 container image asset(s) (sample app (amd64)) build locally",
    )


STOPPED_DOCKER = (
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the "
    "docker daemon running?\n"
)


def test_a_stopped_docker_engine_fails(session, assembly, docker):
    docker(1, STOPPED_DOCKER)
    stack = assembly(template(), stack_id="Service", docker_images=IMAGE)
    [result] = run(checks.check_docker, stack, session)
    assert result.status == "FAIL"
    assert "`docker info` failed: Cannot connect to the Docker daemon" in result.detail
    assert result.fix == (
        "start Docker (`docker info` must succeed), or switch the blueprint to an image that "
        "needs no local build"
    )


@pytest.mark.parametrize("stack_id, setting", sorted(checks.NO_DOCKER_IMAGE_SETTINGS.items()))
def test_a_stopped_docker_engine_fails_naming_the_stacks_no_docker_setting(
    session, assembly, docker, stack_id, setting
):
    """(tests/fargate_service/test_preflight.py checks FargateService's setting itself.)"""
    docker(1, STOPPED_DOCKER)
    [result] = run(
        checks.check_docker, assembly(template(), stack_id=stack_id, docker_images=IMAGE), session
    )
    assert result.status == "FAIL"
    assert result.fix == f"start Docker (`docker info` must succeed), or deploy with {setting}"


def test_no_docker_command_fails(session, assembly, docker):
    docker(None)
    [result] = run(checks.check_docker, assembly(template(), docker_images=IMAGE), session)
    assert result.status == "FAIL" and "no `docker` command on PATH" in result.detail


# --- 8. Availability Zones, Neptune, instance types ---------------------------------------


def test_availability_zones_that_exist_pass(session, assembly):
    subnets = template(
        A=resource("AWS::EC2::Subnet", AvailabilityZone=GET_AZ_0),
        B=resource("AWS::EC2::Subnet", AvailabilityZone="us-east-1c"),
    )
    [result] = run(checks.check_availability_zones, assembly(subnets), session)
    assert (result.status, result.detail) == (
        "PASS",
        "us-east-1a, us-east-1c exist in us-east-1 (Fn::GetAZs positions mapped to this "
        "account's zones)",
    )


def test_unknown_availability_zones_fail(session, assembly):
    subnets = template(
        A=resource("AWS::EC2::Subnet", AvailabilityZone="us-east-1z"),
        B=resource("AWS::EC2::Subnet", AvailabilityZone={"Fn::Select": [9, {"Fn::GetAZs": ""}]}),
    )
    [result] = run(checks.check_availability_zones, assembly(subnets), session)
    assert result.status == "FAIL"
    assert result.detail == (
        "us-east-1z is not an Availability Zone of us-east-1; Fn::GetAZs "
        "position 9 is past the region's 6 zones"
    )
    assert "stages.dev.availability_zones" in result.fix


def neptune(instance_class: str, version: str, zone: object = GET_AZ_0) -> dict:
    return template(
        Graph=resource("AWS::Neptune::DBCluster", EngineVersion=version),
        Writer=resource(
            "AWS::Neptune::DBInstance",
            DBInstanceClass=instance_class,
            DBClusterIdentifier={"Ref": "Graph"},
            AvailabilityZone=zone,
        ),
    )


def test_an_orderable_neptune_class_passes(session, assembly):
    [result] = run(
        checks.check_neptune_instances, assembly(neptune("db.t4g.medium", "1.2.0.2")), session
    )
    assert (result.status, result.detail) == (
        "PASS",
        "db.t4g.medium for Neptune 1.2.0.2 in us-east-1 is orderable (Writer)",
    )


def test_a_class_not_orderable_for_the_engine_version_fails_listing_the_classes(session, assembly):
    # db.t4g.medium came with Neptune 1.1; moto's copy of the options agrees.
    [result] = run(
        checks.check_neptune_instances, assembly(neptune("db.t4g.medium", "1.0.5.1")), session
    )
    assert result.status == "FAIL"
    assert (
        result.detail == "db.t4g.medium for Neptune 1.0.5.1 in us-east-1 is not orderable (Writer)"
    )
    assert result.fix.startswith("use an orderable class: ") and "db.t3.medium" in result.fix


def test_an_engine_version_the_region_does_not_offer_fails(session, assembly):
    [result] = run(
        checks.check_neptune_instances, assembly(neptune("db.r6g.large", "9.9.9.9")), session
    )
    assert result.status == "FAIL"
    assert "Neptune engine version 9.9.9.9 is not offered in us-east-1" in result.detail


def test_a_neptune_instance_in_a_zone_without_the_class_fails(session, assembly):
    [result] = run(
        checks.check_neptune_instances,
        assembly(neptune("db.t4g.medium", "1.2.0.2", zone="us-east-1e")),
        session,
    )
    assert result.status == "FAIL"
    assert "orderable, but not for Writer in us-east-1e" in result.detail


def launching(instance_type: str, *zones) -> dict:
    body = {
        f"Subnet{index}": resource("AWS::EC2::Subnet", AvailabilityZone=zone)
        for index, zone in enumerate(zones)
    }
    body["Launch"] = resource(
        "AWS::EC2::LaunchTemplate", LaunchTemplateData={"InstanceType": instance_type}
    )
    return template(**body)


def test_an_instance_type_offered_in_every_zone_passes(session, assembly):
    [result] = run(
        checks.check_instance_types, assembly(launching("t4g.micro", GET_AZ_0, GET_AZ_1)), session
    )
    assert (result.status, result.detail) == (
        "PASS",
        "t4g.micro (Launch) is offered in us-east-1a, us-east-1b",
    )


def test_an_instance_type_missing_in_one_zone_fails(session, assembly):
    # In moto's (real) offering data t4g.micro is not offered in us-east-1e.
    [result] = run(
        checks.check_instance_types,
        assembly(launching("t4g.micro", "us-east-1a", "us-east-1e")),
        session,
    )
    assert (result.status, result.detail) == (
        "FAIL",
        "t4g.micro (Launch) is not offered in us-east-1e",
    )
    assert "describe-instance-type-offerings" in result.fix


def test_without_subnets_the_region_offering_is_checked(session, assembly):
    results = run(
        checks.check_instance_types,
        assembly(
            template(
                A=resource("AWS::EC2::Instance", InstanceType="t4g.micro"),
                B=resource("AWS::EC2::Instance", InstanceType="zz9.huge"),
            )
        ),
        session,
    )
    assert lines(results) == [
        "PASS  instance type       t4g.micro (A) is offered in us-east-1",
        "FAIL  instance type       zz9.huge (B) is not offered in us-east-1 -> choose a type "
        "offered in us-east-1 (`aws ec2 describe-instance-type-offerings --location-type "
        "region --filters Name=location,Values=us-east-1 --region us-east-1`)",
    ]


def test_a_deploy_time_build_notes_the_new_account_codebuild_quota(aws, tmp_path):
    from deployment.preflight_checks import check_codebuild

    build = write_assembly(
        tmp_path / "build",
        {"Resources": {"ImageBuild": {"Type": "AWS::CodeBuild::Project", "Properties": {}}}},
    )
    (note,) = check_codebuild(preflight_for(build, boto3.Session()))
    assert note.status == "NOTE" and "0 builds in queue" in note.detail
    plain = write_assembly(tmp_path / "plain", {"Resources": {}})
    assert list(check_codebuild(preflight_for(plain, boto3.Session()))) == []


# --- resource types by region, App Runner's closed door -----------------------------------


def test_a_resource_type_the_region_lacks_fails_naming_it(stubbed, assembly):
    stubbed.stub("cloudformation").add_client_error(
        "describe_type",
        service_error_code="TypeNotFoundException",
        service_message="The type 'AWS::ECS::ExpressGatewayService' cannot be found.",
        expected_params={"Type": "RESOURCE", "TypeName": "AWS::ECS::ExpressGatewayService"},
    )
    stack = assembly(template(Service=resource("AWS::ECS::ExpressGatewayService")))
    [result] = run(checks.check_resource_types, stack, stubbed)
    assert result.status == checks.FAIL
    assert "AWS::ECS::ExpressGatewayService is not available in us-east-1" in result.detail


def test_an_available_resource_type_passes_and_others_are_not_asked(stubbed, assembly):
    stubber = stubbed.stub("cloudformation")
    stubber.add_response(
        "describe_type",
        {"TypeName": "AWS::ECS::ExpressGatewayService"},
        expected_params={"Type": "RESOURCE", "TypeName": "AWS::ECS::ExpressGatewayService"},
    )
    stack = assembly(
        template(
            Service=resource("AWS::ECS::ExpressGatewayService"),
            Bucket=resource("AWS::S3::Bucket"),
        )
    )
    assert statuses(run(checks.check_resource_types, stack, stubbed)) == [
        (checks.PASS, "resource types")
    ]
    stubber.assert_no_pending_responses()


def test_app_runner_in_an_account_that_uses_it_passes(stubbed, assembly):
    stubbed.stub("apprunner").add_response(
        "list_services",
        {"ServiceSummaryList": [{"ServiceName": "existing", "ServiceArn": "arn:aws:apprunner:x"}]},
        expected_params={"MaxResults": 20},
    )
    stack = assembly(template(Service=resource("AWS::AppRunner::Service")))
    [result] = run(checks.check_app_runner, stack, stubbed)
    assert result.status == checks.PASS and "already runs 1" in result.detail


def test_app_runner_in_an_account_without_services_is_told_it_is_closed(stubbed, assembly):
    stubbed.stub("apprunner").add_response("list_services", {"ServiceSummaryList": []})
    stack = assembly(template(Service=resource("AWS::AppRunner::Service")))
    [result] = run(checks.check_app_runner, stack, stubbed)
    assert result.status == checks.NOTE
    assert "closed to new customers" in result.detail and "engine express" in result.fix


def test_no_app_runner_in_the_template_asks_nothing(stubbed, assembly):
    assert run(checks.check_app_runner, assembly(template()), stubbed) == []


def test_an_amplify_app_needs_a_region_that_answers_amplify_hosting(aws, tmp_path):
    """Amplify Hosting is not in every region: the check lists apps, and a region whose endpoint
    does not answer fails naming the way out (another region, or hosting=cloudfront)."""
    from botocore.exceptions import EndpointConnectionError

    from deployment.preflight_checks import check_amplify

    site = write_assembly(
        tmp_path / "site", {"Resources": {"SiteApp": {"Type": "AWS::Amplify::App"}}}
    )
    serving = StubbedSession()
    serving.stub("amplify").add_response("list_apps", {"apps": []}, {"maxResults": 1})
    assert lines(list(check_amplify(preflight_for(site, serving)))) == [
        "PASS  amplify hosting     Amplify Hosting answers in us-east-1 (SiteApp)"
    ]

    absent = StubbedSession()
    absent.stub("amplify")

    def unreachable(**_params):
        raise EndpointConnectionError(endpoint_url="https://amplify.us-east-1.amazonaws.com/apps")

    absent._stubbed["amplify"].list_apps = unreachable
    (result,) = check_amplify(preflight_for(site, absent))
    assert result.status == "FAIL" and "does not answer in us-east-1" in result.detail
    assert "hosting=cloudfront" in result.fix

    refused = StubbedSession()
    refused.stub("amplify").add_client_error("list_apps", "AccessDeniedException", "no")
    (result,) = check_amplify(preflight_for(site, refused))
    assert result.status == "FAIL" and "amplify:ListApps" in result.detail

    broken = StubbedSession()
    broken.stub("amplify").add_client_error("list_apps", "InternalFailure", "try later")
    (result,) = check_amplify(preflight_for(site, broken))
    assert result.status == "NOTE" and "could not check" in result.detail

    plain = write_assembly(tmp_path / "plain", {"Resources": {}})
    assert list(check_amplify(preflight_for(plain, boto3.Session()))) == []


# --- 9. AWS Backup copies -------------------------------------------------------------------


def backup_template(destination: str) -> dict:
    """What house/backup.py writes: a table selected by a plan that copies to `destination`."""
    return template(
        Table=resource("AWS::DynamoDB::Table"),
        Plan=resource(
            "AWS::Backup::BackupPlan",
            BackupPlan={
                "BackupPlanName": "Blueprint-dev-DailyBackups",
                "BackupPlanRule": [
                    {
                        "RuleName": "Daily",
                        "CopyActions": [{"DestinationBackupVaultArn": destination}],
                    }
                ],
            },
        ),
        Selection=resource(
            "AWS::Backup::BackupSelection",
            BackupPlanId={"Fn::GetAtt": ["Plan", "BackupPlanId"]},
            BackupSelection={"Resources": [{"Fn::GetAtt": ["Table", "Arn"]}]},
        ),
    )


SAME_ACCOUNT_COPY = f"arn:aws:backup:eu-west-1:{MOTO_ACCOUNT}:backup-vault:Archive"
OTHER_ACCOUNT_COPY = "arn:aws:backup:us-east-1:999988887777:backup-vault:Archive"


def test_copying_dynamodb_backups_without_advanced_features_fails_with_the_command(
    stubbed, assembly
):
    stubbed.stub("backup").add_response(
        "describe_region_settings", {"ResourceTypeManagementPreference": {"DynamoDB": False}}
    )
    [result] = run(
        checks.check_backup_copies, assembly(backup_template(SAME_ACCOUNT_COPY)), stubbed
    )
    assert result.status == "FAIL"
    assert result.fix.startswith(
        "aws backup update-region-settings --resource-type-management-preference DynamoDB=true"
    )


def test_fix_turns_advanced_dynamodb_backup_on(stubbed, assembly):
    backup = stubbed.stub("backup")
    backup.add_response("describe_region_settings", {"ResourceTypeManagementPreference": {}})
    backup.add_response(
        "update_region_settings",
        {},
        {"ResourceTypeManagementPreference": {"DynamoDB": True}},
    )
    [result] = run(
        checks.check_backup_copies, assembly(backup_template(SAME_ACCOUNT_COPY)), stubbed, fix=True
    )
    assert (result.status, result.detail) == (
        "PASS",
        "advanced DynamoDB backup turned on (--fix) for Plan",
    )
    backup.assert_no_pending_responses()


def test_a_copy_to_another_account_is_a_note_on_organizations(stubbed, assembly):
    stubbed.stub("backup").add_response(
        "describe_region_settings", {"ResourceTypeManagementPreference": {"DynamoDB": True}}
    )
    results = run(
        checks.check_backup_copies, assembly(backup_template(OTHER_ACCOUNT_COPY)), stubbed
    )
    assert statuses(results) == [("PASS", "backup copy"), ("NOTE", "backup copy")]
    assert "999988887777" in results[1].detail
    assert "isCrossAccountBackupEnabled=true" in results[1].fix


def test_a_plan_without_copies_needs_nothing(session, assembly):
    body = backup_template(SAME_ACCOUNT_COPY)
    body["Resources"]["Plan"]["Properties"]["BackupPlan"]["BackupPlanRule"][0].pop("CopyActions")
    assert run(checks.check_backup_copies, assembly(body), session) == []


def test_backup_needs_its_service_linked_role(session, assembly):
    [result] = run(
        checks.check_service_linked_roles, assembly(backup_template(SAME_ACCOUNT_COPY)), session
    )
    assert result.detail.startswith("AWSServiceRoleForBackup missing")


def test_the_shipped_placeholder_domain_fails_until_it_is_yours(aws, tmp_path):
    """Issue 12 item 1: the prod profiles synthesize with example.com and ZREPLACEWITHYOURZONE;
    the preflight refuses them (a certificate for them would wait for validation forever)."""
    from deployment.preflight_checks import check_domains

    def stack(name: str, zone: str, folder: str):
        return write_assembly(
            tmp_path / folder,
            template(
                Certificate=resource(
                    "AWS::CertificateManager::Certificate",
                    DomainName=name,
                    DomainValidationOptions=[{"DomainName": name, "HostedZoneId": zone}],
                ),
                Alias=resource(
                    "AWS::Route53::RecordSet", Name=f"{name}.", HostedZoneId=zone, Type="A"
                ),
            ),
            stack_id="FargateService",
            stack_name="FargateService-prod",
        )

    (fail,) = check_domains(
        preflight_for(stack("app.example.com", "ZREPLACEWITHYOURZONE", "shipped"), boto3.Session())
    )
    assert fail.status == "FAIL"
    assert "app.example.com" in fail.detail and "ZREPLACEWITHYOURZONE" in fail.detail
    assert "blueprints.<blueprint>.prod" in fail.fix
    (ok,) = check_domains(
        preflight_for(stack("app.mycorp.io", "Z0123456789ABCDEFGHIJ", "yours"), boto3.Session())
    )
    assert ok.status == "PASS"
    plain = write_assembly(tmp_path / "plain", {"Resources": {}})
    assert list(check_domains(preflight_for(plain, boto3.Session()))) == []


def test_an_amplify_domain_association_on_the_placeholder_zone_fails(aws, tmp_path):
    """ServerlessWebAppAmplify's prod profile associates rides-amplify.example.com with the app:
    the name is the zone (DomainName) plus a prefix, and the preflight reads it so."""
    from deployment.preflight_checks import check_domains

    def stack(zone: str, prefixes: list[str], folder: str):
        return write_assembly(
            tmp_path / folder,
            template(
                Domain=resource(
                    "AWS::Amplify::Domain",
                    AppId="d1",
                    DomainName=zone,
                    SubDomainSettings=[{"Prefix": p, "BranchName": "main"} for p in prefixes],
                )
            ),
            stack_id="ServerlessWebAppAmplify",
            stack_name="ServerlessWebAppAmplify-prod",
        )

    (fail,) = check_domains(
        preflight_for(stack("example.com", ["rides-amplify"], "shipped"), boto3.Session())
    )
    assert fail.status == "FAIL" and "rides-amplify.example.com" in fail.detail
    (ok,) = check_domains(preflight_for(stack("corp.io", ["rides", ""], "yours"), boto3.Session()))
    assert ok.status == "PASS" and "corp.io" in ok.detail and "rides.corp.io" in ok.detail


# --- reserved concurrency -----------------------------------------------------------------


def reserving(*values: int) -> dict:
    return template(
        **{
            f"Fn{i}": resource("AWS::Lambda::Function", ReservedConcurrentExecutions=value)
            for i, value in enumerate(values)
        },
        Plain=resource("AWS::Lambda::Function"),
    )


def lambda_account(stubbed, limit: int, unreserved: int):
    stub = stubbed.stub("lambda")
    stub.add_response(
        "get_account_settings",
        {
            "AccountLimit": {
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": unreserved,
            }
        },
    )
    return stub


def test_no_reservation_needs_no_concurrency_check(session, assembly):
    assert run(checks.check_reserved_concurrency, assembly(reserving()), session) == []


def test_reservations_that_leave_100_unreserved_pass(stubbed, assembly):
    lambda_account(stubbed, 1000, 1000)
    (result,) = run(checks.check_reserved_concurrency, assembly(reserving(20, 20)), stubbed)
    assert result.line() == (
        "PASS  concurrency         2 function(s) reserve 40; the account's limit is 1000, "
        "1000 unreserved, of which AWS keeps 100"
    )


def test_a_new_accounts_limit_of_10_fails_with_the_increase_request(stubbed, assembly):
    lambda_account(stubbed, 10, 10)
    (result,) = run(checks.check_reserved_concurrency, assembly(reserving(20)), stubbed)
    assert result.status == "FAIL"
    assert result.fix.startswith(
        "aws service-quotas request-service-quota-increase --service-code lambda --quota-code "
        "L-B99A9384 --desired-value 120 --region us-east-1"
    )
    assert "reserve less" in result.fix


def test_an_update_gets_back_what_its_own_functions_hold(stubbed, assembly):
    stub = lambda_account(stubbed, 1000, 110)
    stub.add_response(
        "get_function_concurrency",
        {"ReservedConcurrentExecutions": 20},
        {"FunctionName": "shop-orders"},
    )
    stubbed.stub("cloudformation").add_response(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                {
                    "LogicalResourceId": "Fn0",
                    "PhysicalResourceId": "shop-orders",
                    "ResourceType": "AWS::Lambda::Function",
                    "LastUpdatedTimestamp": "2026-12-01T00:00:00Z",
                    "ResourceStatus": "CREATE_COMPLETE",
                }
            ]
        },
    )
    (result,) = run(checks.check_reserved_concurrency, assembly(reserving(30)), stubbed)
    assert result.status == "PASS", result.line()
    assert "130 unreserved (with the 20 this stack holds now)" in result.detail


def test_a_refused_account_settings_read_fails_naming_the_permission(stubbed, assembly):
    stubbed.stub("lambda").add_client_error(
        "get_account_settings", service_error_code="AccessDeniedException", http_status_code=403
    )
    (result,) = run(checks.check_reserved_concurrency, assembly(reserving(5)), stubbed)
    assert result.status == "FAIL" and "lambda:GetAccountSettings" in result.line()
