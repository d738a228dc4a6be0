"""What the account has: every AWS call the preflight makes goes through `Account`.

One place turns AWS errors into something a user can act on: an access-denied answer names the
boto3 call and the IAM permission it needs (`AwsCallRefused`), any other error the call, the
error code and AWS's message (`AwsCallFailed`) — never a traceback. Reads that several checks
share (the region's AZs, this stack's existing resources) are made once.
"""

from __future__ import annotations

from functools import cached_property

import botocore.exceptions

from deployment.preflight_needs import AzRef

# Error codes AWS services use for "your credentials may not do this".
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthorizationError",
        "Forbidden",
    }
)


class AwsCallFailed(Exception):
    def __init__(self, call: str, code: str, message: str) -> None:
        super().__init__(f"{call} failed: {code}: {message}")
        self.call, self.code, self.message = call, code, message

    @property
    def detail(self) -> str:
        return f"{self.call} failed: {self.code}: {self.message}"

    @property
    def fix(self) -> str | None:
        return None


class AwsCallRefused(AwsCallFailed):
    def __init__(self, call: str, code: str, message: str, permission: str) -> None:
        super().__init__(call, code, message)
        self.permission = permission

    @property
    def detail(self) -> str:
        return f"{self.call} refused ({self.code}): the credentials lack {self.permission}"

    @property
    def fix(self) -> str:
        return f"allow {self.permission} for these credentials (read-only), then run again"


def iam_permission(client, operation_name: str) -> str:
    """The IAM action an API operation needs, e.g. `ssm:GetParameter`."""
    model = client.meta.service_model
    # API Gateway's control-plane actions are HTTP verbs on resource paths.
    if model.signing_name == "apigateway":
        return f"apigateway:{model.operation_model(operation_name).http['method']}"
    return f"{model.signing_name}:{operation_name}"


class Account:
    """One account and region, read through one boto3 session."""

    def __init__(self, session, region: str, account_id: str, stack_name: str) -> None:
        self.session = session
        self.region = region
        self.account_id = account_id
        self.stack_name = stack_name
        self._clients: dict[str, object] = {}

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        return "aws-us-gov" if self.region.startswith("us-gov-") else "aws"

    @property
    def pseudo_parameters(self) -> dict[str, str]:
        """What CloudFormation substitutes for `Ref: AWS::...` in this stack."""
        return {
            "AWS::StackName": self.stack_name,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
        }

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    def call(self, service: str, method: str, **params) -> dict:
        client = self.client(service)
        try:
            return getattr(client, method)(**params)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
            raise _failure(client, f"{service}.{method}", method, error) from error

    def pages(self, service: str, method: str, result_key: str, **params) -> list:
        """Every item of `result_key` across all pages."""
        client = self.client(service)
        items: list = []
        try:
            for page in client.get_paginator(method).paginate(**params):
                items.extend(page.get(result_key, []))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
            raise _failure(client, f"{service}.{method}", method, error) from error
        return items

    # --- reads several checks share -------------------------------------------------------

    @cached_property
    def availability_zones(self) -> list[str]:
        """The region's AZs in name order: what `Fn::GetAZs` returns (see the caveat in
        deployment/preflight.py)."""
        zones = self.call("ec2", "describe_availability_zones")["AvailabilityZones"]
        return sorted(
            zone["ZoneName"]
            for zone in zones
            if zone.get("ZoneType", "availability-zone") == "availability-zone"
        )

    def zone_name(self, ref: AzRef | None) -> str | None:
        """The AZ name a template's AZ reference means in this account and region."""
        if ref is None or isinstance(ref, str):
            return ref
        zones = self.availability_zones
        return zones[ref] if 0 <= ref < len(zones) else None

    @cached_property
    def stack_resources(self) -> list[dict]:
        """This stack's resources if it is already deployed (an update), else []."""
        try:
            return self.pages(
                "cloudformation",
                "list_stack_resources",
                "StackResourceSummaries",
                StackName=self.stack_name,
            )
        except AwsCallFailed as failure:
            if failure.code == "ValidationError" and "does not exist" in failure.message:
                return []
            raise

    def stack_physical_ids(self, resource_type: str) -> set[str]:
        return {
            resource.get("PhysicalResourceId", "")
            for resource in self.stack_resources
            if resource.get("ResourceType") == resource_type
        }


def _failure(client, call: str, method: str, error: Exception) -> AwsCallFailed:
    if isinstance(error, botocore.exceptions.ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code", "Unknown")
        message = details.get("Message", str(error))
        if code in ACCESS_DENIED_CODES:
            operation = client.meta.method_to_api_mapping.get(method, method)
            return AwsCallRefused(call, code, message, iam_permission(client, operation))
        return AwsCallFailed(call, code, message)
    return AwsCallFailed(call, type(error).__name__, str(error))
