"""AccountBaseline smoke: API Gateway's account settings name the stack's CloudWatch Logs role,
and that role exists and trusts API Gateway. Plain AWS API calls only (IAM, API Gateway)."""

from __future__ import annotations

import json
import urllib.parse

from deployment.smoke_support import Smoke, StepFailed

ROLE_OUTPUT = "ApiGatewayCloudWatchRoleArn"


def _trusted_services(document) -> set[str]:
    # IAM hands the trust policy out URL-encoded; botocore usually decodes it, not always.
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    services: set[str] = set()
    for statement in document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        named = statement.get("Principal", {}).get("Service", [])
        services.update([named] if isinstance(named, str) else named)
    return services


def smoke(smoke: Smoke) -> None:
    def role_exists() -> str:
        arn = smoke.output(ROLE_OUTPUT)
        name = arn.rsplit("/", 1)[-1]
        role = smoke.client("iam").get_role(RoleName=name)["Role"]
        if role["Arn"] != arn:
            raise StepFailed(f"role {name} has ARN {role['Arn']}, the output says {arn}")
        if "apigateway.amazonaws.com" not in _trusted_services(role["AssumeRolePolicyDocument"]):
            raise StepFailed(f"role {name} does not trust apigateway.amazonaws.com")
        return f"{name} exists and trusts apigateway.amazonaws.com"

    def account_names_role() -> str:
        arn = smoke.output(ROLE_OUTPUT)
        current = smoke.client("apigateway").get_account().get("cloudwatchRoleArn")
        if current != arn:
            raise StepFailed(
                f"API Gateway's account settings name {current or 'no role'}, "
                f"not {ROLE_OUTPUT} {arn}: REST API stages that log will be refused"
            )
        return f"API Gateway logs to CloudWatch as {arn}"

    smoke.step("logs-role", role_exists, uses=[ROLE_OUTPUT])
    smoke.step("api-gateway-account", account_names_role, uses=[ROLE_OUTPUT])
