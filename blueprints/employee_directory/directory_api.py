"""DirectoryApi: the serverless directory API, generated from the contract (openapi.json): one
Lambda function per operation, each holding only its operation's grants, behind API Gateway
(patterns/web/contract_api.py), with the HR admin group's Cognito authorizer on the writes.

    /api/employees                 GET  listEmployees      dynamodb:Query on the name index
                                   POST createEmployee     dynamodb:PutItem            (HR admin)
    /api/employees/{employeeId}    GET  getEmployee        dynamodb:GetItem
                                   PUT  updateEmployee     dynamodb:UpdateItem         (HR admin)
                                   DELETE deleteEmployee   dynamodb:DeleteItem, s3:DeleteObject
                                                           on uploads/ and thumbnails/ (HR admin)
    /api/employees/{id}/photo      GET  getEmployeePhoto   dynamodb:GetItem, s3:GetObject on
                                                           thumbnails/ (a pre-signed redirect)
                                   POST requestPhotoUpload dynamodb:GetItem, s3:PutObject on
                                                           uploads/ (a pre-signed POST) (HR admin)

The grants are data.OPERATION_GRANTS; every function runs the same code asset
(lambda_src/employee_api), its handler module named after its operation.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from blueprints.employee_directory.contract import SOURCE, contract, handler_module
from blueprints.employee_directory.data import DirectoryData
from house.lambda_function import python_function
from patterns.web.contract_api import ContractApi


class DirectoryApi(Construct):
    """Attributes: functions (operation id -> function), api (ContractApi)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data: DirectoryData,
        hr_admins: cognito.IUserPool | None,
        hr_admin_group: str,
        throttle_rate: int,
        throttle_burst: int,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        environment = dict(data.environment)
        if hr_admins is not None:
            environment["HR_ADMIN_GROUP"] = hr_admin_group
        operations = contract.operations()
        self.functions: dict[str, lambda_.Function] = {}
        for operation_id, operation in operations.items():
            module = handler_module(operation_id)
            if not (SOURCE / f"{module}.py").is_file():
                raise ValueError(
                    f"the contract's operation {operation_id} has no handler module "
                    f"lambda_src/employee_api/{module}.py"
                )
            function = python_function(
                self,
                operation_id[0].upper() + operation_id[1:],
                source=SOURCE.name,
                handler=f"{module}.handler",
                description=f"Employee directory: {operation_id} "
                f"({operation.method} {operation.path})",
                environment=environment,
                timeout=cdk.Duration.seconds(10),
                invoked_synchronously_by="API Gateway, which returns its error to the caller",
                log_retention_days=log_retention_days,
                removal_policy=removal_policy,
            )
            data.grant(function.role, operation_id)
            self.functions[operation_id] = function

        self.api = ContractApi(
            self,
            "Rest",
            operations=operations.values(),
            schemas={
                o.body: contract.request_schema(o.body) for o in operations.values() if o.body
            },
            functions=self.functions,
            description="Employee directory API (served at /api/ of the site's distribution)",
            log_retention_days=log_retention_days,
            removal_policy=removal_policy,
            throttle_rate=throttle_rate,
            throttle_burst=throttle_burst,
            user_pool=hr_admins,
            open_operations_reason=(
                "the directory is readable by everyone who reaches the site, validated and "
                "throttled; writes need an HR admin's Cognito ID token"
                if hr_admins is not None
                else "hr_admin is false in this stage: the operator chose a directory anyone "
                "who reaches the site may change (validated and throttled)"
            ),
        )
