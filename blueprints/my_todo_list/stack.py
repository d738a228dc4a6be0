"""MyTodoList blueprint: a mobile backend with Cognito sign-in, per-user S3 folders and a
Cognito-protected to-do REST API over DynamoDB, read-cached by DAX and API Gateway in prod.

Stack `MyTodoList` (CloudFormation name `MyTodoList-<stage>`). Doc: docs/my-todo-list.md.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from blueprints.my_todo_list.settings import MyTodoListSettings
from blueprints.my_todo_list.todo_api import TodoApi
from house.compliance import add_serverless_checks
from house.defaults import access_log_bucket
from house.network import vpc
from house.settings import Instance, StageSettings
from patterns.identity.user_identity import UserIdentity

SETTINGS = MyTodoListSettings
STACK_IDS = ("MyTodoList",)


class MyTodoListStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        settings: MyTodoListSettings,
        **kwargs,
    ) -> None:
        super().__init__(
            scope,
            id,
            description="MyTodoList: mobile backend (Cognito, REST API, "
            "DynamoDB, per-user S3 folders)",
            **kwargs,
        )
        add_serverless_checks(self)
        logs = access_log_bucket(self, "AccessLogs", removal_policy=stage.removal_policy)

        self.identity = UserIdentity(
            self,
            "Identity",
            options=settings,
            removal_policy=stage.removal_policy,
            access_logs=logs,
        )

        self.network = None
        if settings.dax:
            # Isolated subnets only: the handler talks to DAX inside the VPC and to DynamoDB
            # through a free gateway endpoint, so no NAT gateway and no interface endpoint (each
            # billed every hour per AZ, idle or not) is needed. See the doc's cost table.
            self.network = vpc(
                self,
                "Network",
                availability_zones=stage.availability_zones,
                log_retention_days=stage.log_retention_days,
                removal_policy=stage.removal_policy,
            )

        self.todo_api = TodoApi(
            self,
            "TodoApi",
            user_pool=self.identity.user_pool,
            options=settings,
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
            vpc=self.network,
        )

        outputs = {
            "ApiUrl": (self.todo_api.url, "Base URL of the to-do REST API (ends with the stage)"),
            "UserPoolId": (self.identity.user_pool.user_pool_id, "Cognito user pool id"),
            "UserPoolClientId": (
                self.identity.client.user_pool_client_id,
                "App client id (SRP sign-in, no secret)",
            ),
            "IdentityPoolId": (self.identity.identity_pool.ref, "Cognito identity pool id"),
            "UserFilesBucketName": (
                self.identity.user_files.bucket_name,
                "Bucket of per-user folders private/<identity id>/",
            ),
            "Region": (self.region, "Region of every resource above"),
            "ExampleClient": (
                cdk.Fn.join(
                    "",
                    [
                        "python examples/todo_client.py --stack ",
                        self.stack_name,
                        " --region ",
                        self.region,
                        " --email you@example.com",
                    ],
                ),
                "Sign up, use the API and your S3 folder (reads the outputs above)",
            ),
        }
        for name, (value, description) in outputs.items():
            cdk.CfnOutput(self, name, value=value, description=description)


def build(app: cdk.App, instance: Instance[MyTodoListSettings]) -> list[cdk.Stack]:
    (stack_id,) = instance.stack_ids(*STACK_IDS)
    return [
        MyTodoListStack(
            app,
            stack_id,
            stage=instance.stage,
            settings=instance.settings,
            **instance.stage.stack_kwargs(stack_id),
        )
    ]
