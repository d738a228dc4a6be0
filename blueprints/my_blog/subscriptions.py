"""Subscriptions: double opt-in e-mail subscriptions, on when the blog has a sender address.

    POST /api/subscribers{,/confirm,/unsubscribe} --> subscriptions Lambda (outside the VPC)
         |  per-source request count, signed-link check (KMS VerifyMac)
         v
    subscribers table (its own; customer-managed key where data is kept; TTL forgets pending
         |              addresses and request counts)
         | stream: a pending subscriber not yet mailed, a confirmed one not yet welcomed
         v
    welcome-email Lambda --> signs the links (KMS GenerateMac) --> SES: confirmation mail, then
                             the welcome mail; an unsubscribe link in both

Decided:
- A table of its own, not items in the posts table: subscriber addresses are the blog's personal
  data, and this table is the one that gets a customer-managed key (prod), a TTL and a narrow
  set of roles. The posts table stays as it was: DAX cannot cache a table under a
  customer-managed key (DynamoDB developer guide, encryption usage notes), and global-table
  replicas would need a key in every replica region; subscriptions need neither a cache nor a
  replica (written a few times a day, read by nobody but these two functions).
- The key for the links is a KMS HMAC key: the mailing function may only sign
  (kms:GenerateMac), the public API only verify (kms:VerifyMac); nothing holds key material.
- Dev (no data kept) uses DynamoDB's own key: a customer-managed key bills per key-month.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from house.defaults import customer_key
from house.lambda_function import python_function
from house.settings import keeps_data
from patterns.events.stream_consumer import StreamConsumer

SUBSCRIBER_PREFIX = "SUBSCRIBER#"
TTL_ATTRIBUTE = "expiresAt"


class Subscriptions(Construct):
    """Attributes: table, table_key (None where DynamoDB's own key is used), link_key, function
    (the routes' handler), mailer (the welcome-email StreamConsumer)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        sender: str,
        sender_identity_arns: Sequence[str],
        blog_name: str,
        site_url: str,
        confirm_link_hours: int,
        requests_per_hour: int,
        retry_attempts: int,
        log_retention_days: int,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        logs = dict(log_retention_days=log_retention_days, removal_policy=removal_policy)
        keep = keeps_data(removal_policy)
        self.table_key = (
            customer_key(
                self,
                "TableKey",
                description=f"Encrypts the subscriber addresses of {cdk.Stack.of(self).stack_name}",
                removal_policy=removal_policy,
            )
            if keep
            else None
        )
        self.table = dynamodb.TableV2(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(self.table_key)
            if self.table_key
            else dynamodb.TableEncryptionV2.dynamo_owned_key(),
            # The welcome function needs the old image to tell a confirmation from its own claim.
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=keep,
            removal_policy=removal_policy,
        )
        self.link_key = customer_key(
            self,
            "LinkKey",
            description="Signs the confirm and unsubscribe links of "
            f"{cdk.Stack.of(self).stack_name}'s subscription mails",
            removal_policy=removal_policy,
            mac=True,
        )

        self.function = python_function(
            self,
            "Handler",
            source="subscriptions",
            description="MyBlog subscriptions: subscribe, confirm, unsubscribe (double opt-in)",
            environment={
                "TABLE_NAME": self.table.table_name,
                "TOKEN_KEY_ID": self.link_key.key_arn,
                "REQUESTS_PER_HOUR": str(requests_per_hour),
                "CONFIRM_LINK_HOURS": str(confirm_link_hours),
            },
            memory_size=256,
            timeout=cdk.Duration.seconds(10),
            invoked_synchronously_by="API Gateway, which returns its error to the caller",
            **logs,
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                # Count requests (UpdateItem), add a pending address (PutItem), confirm
                # (UpdateItem), forget one (DeleteItem); nothing is ever read back.
                actions=["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                resources=[self.table.table_arn],
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:VerifyMac"], resources=[self.link_key.key_arn])
        )
        self._use_table_key(self.function)

        self.mailer = StreamConsumer(
            self,
            "WelcomeEmail",
            table=self.table,
            source="welcome_email",
            description="Sends the confirmation mail of each subscription request and the welcome "
            "mail after it is confirmed (table stream -> SES)",
            environment={
                "TABLE_NAME": self.table.table_name,
                "SENDER": sender,
                "BLOG_NAME": blog_name,
                "SITE_URL": site_url,
                "TOKEN_KEY_ID": self.link_key.key_arn,
            },
            filters=_mail_filters(),
            retry_attempts=retry_attempts,
            **logs,
        )
        mailer = self.mailer.function
        mailer.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:UpdateItem"], resources=[self.table.table_arn])
        )
        mailer.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:GenerateMac"], resources=[self.link_key.key_arn])
        )
        # SendEmail on the verified identities only, and only with the configured From.
        mailer.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail"],
                resources=list(sender_identity_arns),
                conditions={"StringEquals": {"ses:FromAddress": sender}},
            )
        )

    def _use_table_key(self, function: lambda_.IFunction) -> None:
        """With a customer-managed key, DynamoDB decrypts the table key as the caller: the role
        needs kms:Decrypt on it, through DynamoDB only. (The welcome function has it already:
        CDK's stream-read grant adds it for the event source mapping.)"""
        if self.table_key is None:
            return
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[self.table_key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"dynamodb.{cdk.Stack.of(self).region}.amazonaws.com"
                    }
                },
            )
        )


def _mail_filters() -> list[dict]:
    """The records the welcome function is woken for (Lambda drops the rest before invoking,
    free of charge): a pending subscriber no confirmation was sent for (a new request, or a new
    one after the link expired: the put replaces the item, claim and all), and a confirmed one
    not welcomed yet (the confirmation). The function's own claims set the attribute these
    filters ask to be absent, so they never wake it; deletions (unsubscribe, TTL) have no new
    image; request counts are not subscribers."""
    subscriber = {"pk": {"S": lambda_.FilterRule.begins_with(SUBSCRIBER_PREFIX)}}
    return [
        lambda_.FilterCriteria.filter(
            {
                "eventName": lambda_.FilterRule.or_("INSERT", "MODIFY"),
                "dynamodb": {
                    "NewImage": {
                        **subscriber,
                        "status": {"S": lambda_.FilterRule.is_equal("pending")},
                        "confirmationFor": lambda_.FilterRule.not_exists(),
                    }
                },
            }
        ),
        lambda_.FilterCriteria.filter(
            {
                "eventName": lambda_.FilterRule.is_equal("MODIFY"),
                "dynamodb": {
                    "NewImage": {
                        **subscriber,
                        "status": {"S": lambda_.FilterRule.is_equal("confirmed")},
                        "welcomedAt": lambda_.FilterRule.not_exists(),
                    }
                },
            }
        ),
    ]
