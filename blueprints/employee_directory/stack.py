"""Employee directory blueprint: the notes' CRUD directory twice, around one contract
(lambda_src/employee_api/openapi.json) and one data model (data.py). Doc:
docs/employee-directory.md.

EmployeeDirectoryClassic (`EmployeeDirectoryClassic-<stage>`), the notes' first design:

    browsers in allowed_cidrs --HTTPS--> ALB (public subnets, access logs; with
        classic_domain_name HTTPS with TLS 1.2+ and port 80 only redirecting, else plain HTTP)
        --> Auto Scaling group of Graviton instances (isolated subnets: no internet route,
            no NAT; launch template, IMDSv2, no key pair; CPU and request-count scaling)
              app: classic_server/ on waitress, the shared routes (classic_app.py)
              --> DynamoDB (gateway endpoint)  --> S3 photos, app asset, dnf repos (gateway
                  endpoint)  --> ssm, ssmmessages, logs (interface endpoints)
        CloudWatch alarms (5xx, unhealthy hosts, latency) and a dashboard

EmployeeDirectoryServerless (`EmployeeDirectoryServerless-<stage>`), the redesign:

    browsers --HTTPS--> CloudFront (security headers, optional WAF, domain_names with TLS 1.2+;
                        +Edge companion outside us-east-1 for the WAF and certificate)
        /*      --OAC--> the site bucket (the same page as classic)
        /api/*  -------> API Gateway REST (from the contract) --> one Lambda per operation
                         (HR admin group's Cognito authorizer on the writes)
    both: table + photo bucket; uploads/ --> thumbnail Lambda --> thumbnails/ (data.py)
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from blueprints.employee_directory.classic_app import APP_PORT, SITE, ClassicApp
from blueprints.employee_directory.contract import contract
from blueprints.employee_directory.data import (
    OPERATION_GRANTS,
    DirectoryData,
    content_security_policy,
)
from blueprints.employee_directory.directory_api import DirectoryApi
from blueprints.employee_directory.settings import EmployeeDirectorySettings
from house.compliance import acknowledge, add_serverless_checks
from house.defaults import access_log_bucket, customer_key, log_group
from house.network import ISOLATED, InterfaceEndpoints, vpc
from house.settings import Instance
from patterns.compute.web_tier import WebTier, WebTierDomain
from patterns.identity.user_identity import UserIdentity, UserIdentityOptions
from patterns.web.static_site import StaticSite

CLASSIC_STACK_ID = "EmployeeDirectoryClassic"
SERVERLESS_STACK_ID = "EmployeeDirectoryServerless"
SETTINGS = EmployeeDirectorySettings
STACK_IDS = (CLASSIC_STACK_ID, SERVERLESS_STACK_ID)
HR_ADMIN_GROUP = "hr-admin"
# What the instances call besides S3 and DynamoDB (gateway endpoints, free): Session Manager
# (ssm to register, ssmmessages for the sessions) and CloudWatch Logs (the agent). No
# ec2messages: it carries Run Command, which the instance role does not allow (web_tier's
# session_manager_role), so an endpoint for it would bill per AZ-hour and serve nothing.
INSTANCE_ENDPOINTS = {
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "SsmMessages": ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
}
_PRICE_CLASSES = {
    "PriceClass_100": cloudfront.PriceClass.PRICE_CLASS_100,
    "PriceClass_200": cloudfront.PriceClass.PRICE_CLASS_200,
    "PriceClass_All": cloudfront.PriceClass.PRICE_CLASS_ALL,
}


def _data(
    stack: cdk.Stack, instance: Instance[EmployeeDirectorySettings]
) -> tuple[s3.Bucket, DirectoryData]:
    """The stack's access-log bucket and the directory's data, the same in both stacks."""
    stage, settings = instance.stage, instance.settings
    access_logs = access_log_bucket(stack, "AccessLogs", removal_policy=stage.removal_policy)
    return access_logs, DirectoryData(
        stack,
        "Data",
        removal_policy=stage.removal_policy,
        log_retention_days=stage.log_retention_days,
        access_logs=access_logs,
        max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
        thumbnail_size=settings.thumbnail_size,
    )


# -- classic ----------------------------------------------------------------------------------


class EmployeeDirectoryClassicStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        instance: Instance[EmployeeDirectorySettings],
        **kwargs,
    ) -> None:
        super().__init__(
            scope,
            id,
            description="Employee directory, classic: ALB, Graviton Auto Scaling group in "
            "isolated subnets, DynamoDB and S3 through gateway endpoints",
            **kwargs,
        )
        stage, settings = instance.stage, instance.settings
        logs = dict(
            log_retention_days=stage.log_retention_days, removal_policy=stage.removal_policy
        )
        # Isolated subnets for the instances: no NAT gateway (billed per hour and GB); AWS is
        # reached through endpoints only. Public subnets hold the load balancer alone.
        self.vpc = vpc(
            self,
            "Network",
            availability_zones=stage.availability_zones,
            public_subnets=True,
            **logs,
        )
        self.access_logs, self.data = _data(self, instance)

        self.endpoints = None
        if settings.instance_endpoints != "none":
            subnets = (
                ec2.SubnetSelection(subnets=self.vpc.isolated_subnets[:1])
                if settings.instance_endpoints == "one-az"
                else ISOLATED
            )
            self.endpoints = InterfaceEndpoints(
                self,
                "Endpoints",
                vpc=self.vpc,
                subnets=subnets,
                services=INSTANCE_ENDPOINTS,
                description="Session Manager and CloudWatch Logs endpoints: HTTPS from the "
                "employee directory instances only",
            )
        self.app_logs = (
            log_group(
                self,
                "AppLogs",
                retention_days=stage.log_retention_days,
                removal_policy=stage.removal_policy,
            )
            if self.endpoints is not None
            else None
        )
        self.app = ClassicApp(
            self,
            "App",
            environment={
                **self.data.environment,
                "CONTENT_SECURITY_POLICY": content_security_policy(self.data),
            },
            log_group=self.app_logs,
        )
        self.web = WebTier(
            Construct(self, "Web"),
            vpc=self.vpc,
            instance_subnets=ISOLATED,
            access_logs=self.access_logs,
            instance_type=settings.instance_type,
            fallback_instance_types=settings.fallback_instance_types,
            domain=WebTierDomain(
                settings.classic_domain_name, settings.hosted_zone_id, settings.hosted_zone_name
            )
            if settings.classic_domain_name
            else None,
            min_instances=settings.min_instances,
            max_instances=settings.max_instances,
            cpu_target_percent=settings.cpu_target_percent,
            requests_per_instance_per_minute=settings.requests_per_instance_per_minute,
            user_data=self.app.user_data,
            removal_policy=stage.removal_policy,
            instance_port=APP_PORT,
            # No signals (cfn-signal would need a CloudFormation endpoint): each batch of new
            # instances gets five minutes to boot and pass the load balancer's health check.
            update_policy=autoscaling.UpdatePolicy.rolling_update(
                min_instances_in_service=settings.min_instances
                if settings.max_instances > settings.min_instances
                else 0,
                pause_time=cdk.Duration.minutes(5),
            ),
            descriptions={
                "load_balancer": "Employee directory load balancer: "
                f"{'HTTPS (port 80 redirects)' if settings.classic_domain_name else 'HTTP'} "
                "from allowed_cidrs only",
                "instances": "Employee directory instances: the app port from the load balancer "
                "only, no SSH",
                "egress": "HTTPS to the VPC endpoints (the subnets have no other route)",
                "role": "Employee directory instances: the directory's table and photo "
                "prefixes, the app's asset and log group, Session Manager",
            },
        )
        protocol = "HTTPS" if settings.classic_domain_name else "HTTP"
        for cidr in settings.allowed_cidrs:
            self.web.allow_clients(ec2.Peer.ipv4(cidr), f"{protocol} from {cidr} (allowed_cidrs)")
        if "0.0.0.0/0" in settings.allowed_cidrs:
            acknowledge(
                self.web.load_balancer_security_group,
                "AwsSolutions-EC23",
                f"{instance.setting('allowed_cidrs')} includes 0.0.0.0/0: the operator opened "
                "this directory (writes included) to the internet on purpose.",
            )
        if self.endpoints is not None:
            self.endpoints.allow_from(
                self.web.instance_security_group, description="HTTPS from the directory's instances"
            )
        role = self.web.role
        self.data.grant(role, *contract.operations())
        self.app.grant(role)
        # The first boot reads the asset with these permissions: no instance before they exist.
        self.web.auto_scaling_group.node.add_dependency(role)
        # The load balancer's name is AWS's choice (known after the deploy), and naming it here
        # would make the bucket wait for it while its access logs wait for the bucket: the
        # region's load balancer names instead. The pre-signed POST is what admits an upload.
        self.data.allow_uploads_from(
            [self.web.url]
            if settings.classic_domain_name
            else [f"http://*.{self.region}.elb.{self.url_suffix}"]
        )
        self._gateway_endpoints()
        self._monitoring(settings, stage.removal_policy)
        self._outputs(settings)

    def _gateway_endpoints(self) -> None:
        """S3 and DynamoDB without a NAT gateway, each admitting only what this stack uses."""
        s3 = self.vpc.add_gateway_endpoint(
            "S3", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[ISOLATED]
        )
        s3.add_to_policy(
            iam.PolicyStatement(
                sid="BootReads",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject"],
                resources=self.app.repository_objects(),
            )
        )
        s3.add_to_policy(
            iam.PolicyStatement(
                sid="DirectoryPhotos",
                principals=[iam.AnyPrincipal()],
                actions=sorted({a for g in OPERATION_GRANTS.values() for w, a in g if "s3:" in a}),
                resources=[self.data.bucket.arn_for_objects("*")],
            )
        )
        dynamodb = self.vpc.add_gateway_endpoint(
            "DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB, subnets=[ISOLATED]
        )
        dynamodb.add_to_policy(
            iam.PolicyStatement(
                sid="DirectoryTable",
                principals=[iam.AnyPrincipal()],
                actions=sorted(
                    {a for g in OPERATION_GRANTS.values() for w, a in g if "dynamodb:" in a}
                ),
                resources=[self.data.resource("table"), self.data.resource("index")],
            )
        )

    def _monitoring(
        self, settings: EmployeeDirectorySettings, removal_policy: cdk.RemovalPolicy
    ) -> None:
        # CloudWatch cannot publish to a topic encrypted with the AWS managed aws/sns key (its
        # policy cannot admit CloudWatch): the alarms' topic has a key of its own.
        key = customer_key(
            self,
            "AlarmsKey",
            description=f"Encrypts the alarm notifications of {self.stack_name}",
            removal_policy=removal_policy,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        self.alarm_topic = sns.Topic(
            self,
            "Alarms",
            display_name="employee directory alarms",
            enforce_ssl=True,
            master_key=key,
        )
        if settings.alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        balancer, targets = self.web.load_balancer, self.web.target_group
        five_minutes = cdk.Duration.minutes(5)
        alarms = {
            "ServerErrors": (
                balancer.metrics.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=five_minutes
                ),
                5,
                "The app answered 5xx more than 5 times in 5 minutes",
            ),
            "LoadBalancerErrors": (
                balancer.metrics.http_code_elb(
                    elbv2.HttpCodeElb.ELB_5XX_COUNT, period=five_minutes
                ),
                5,
                "The load balancer answered 5xx (no healthy instance, timeouts) more than 5 "
                "times in 5 minutes",
            ),
            "UnhealthyInstances": (
                targets.metrics.unhealthy_host_count(period=five_minutes, statistic="Maximum"),
                0,
                "An instance fails the load balancer's health check",
            ),
            "SlowAnswers": (
                targets.metrics.target_response_time(period=five_minutes, statistic="p95"),
                1,
                "The app's 95th-percentile answer took longer than a second",
            ),
        }
        self.alarms = {
            name: cloudwatch.Alarm(
                self,
                name,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
            for name, (metric, threshold, description) in alarms.items()
        }
        for alarm in self.alarms.values():
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.alarm_topic))
        group = self.web.auto_scaling_group.auto_scaling_group_name
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", default_interval=cdk.Duration.hours(3)
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(alarms=list(self.alarms.values()), width=24, height=3),
            cloudwatch.GraphWidget(
                title="Requests and errors",
                left=[balancer.metrics.request_count(period=cdk.Duration.minutes(1))],
                right=[m for m, _, _ in (alarms["ServerErrors"], alarms["LoadBalancerErrors"])],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Answer time (p50, p95)",
                left=[targets.metrics.target_response_time(statistic=s) for s in ("p50", "p95")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Instances",
                left=[
                    cloudwatch.Metric(
                        namespace="AWS/AutoScaling",
                        metric_name=name,
                        dimensions_map={"AutoScalingGroupName": group},
                        statistic="Average",
                    )
                    for name in ("GroupInServiceInstances", "GroupDesiredCapacity")
                ],
                right=[
                    targets.metrics.healthy_host_count(),
                    targets.metrics.unhealthy_host_count(),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="CPU",
                left=[
                    cloudwatch.Metric(
                        namespace="AWS/EC2",
                        metric_name="CPUUtilization",
                        dimensions_map={"AutoScalingGroupName": group},
                        statistic="Average",
                    )
                ],
                width=12,
            ),
        )

    def _outputs(self, settings: EmployeeDirectorySettings) -> None:
        cdk.CfnOutput(
            self,
            "SiteUrl",
            value=self.web.url,
            description="The directory (reachable from allowed_cidrs only)",
        )
        cdk.CfnOutput(
            self,
            "AutoScalingGroupName",
            value=self.web.auto_scaling_group.auto_scaling_group_name,
            description="Open a shell on one of its instances: aws ssm start-session --target <id>",
        )
        cdk.CfnOutput(self, "TableName", value=self.data.table.table_name)
        cdk.CfnOutput(self, "MediaBucketName", value=self.data.bucket.bucket_name)
        cdk.CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name)
        cdk.CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.alarm_topic.topic_arn,
            description="Subscribe to the alarms (or set alarm_email)",
        )
        if self.app_logs is not None:
            cdk.CfnOutput(self, "AppLogGroupName", value=self.app_logs.log_group_name)


# -- serverless -------------------------------------------------------------------------------


class EmployeeDirectoryServerlessStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        instance: Instance[EmployeeDirectorySettings],
        **kwargs,
    ) -> None:
        super().__init__(
            scope,
            id,
            description="Employee directory, serverless: CloudFront site and API, one Lambda "
            "function per operation, DynamoDB, S3 photos",
            **kwargs,
        )
        add_serverless_checks(self)
        stage, settings = instance.stage, instance.settings
        logs = dict(
            log_retention_days=stage.log_retention_days, removal_policy=stage.removal_policy
        )
        self.access_logs, self.data = _data(self, instance)

        self.hr_admins = None
        connect = []
        if settings.hr_admin:
            self.hr_admins = UserIdentity(
                self,
                "HrAdmins",
                options=UserIdentityOptions(
                    mfa=settings.hr_admin_mfa,
                    threat_protection=settings.threat_protection,
                    access_token_minutes=60,
                    refresh_token_days=1,
                ),
                removal_policy=stage.removal_policy,
                access_logs=self.access_logs,
                self_sign_up=False,
                user_files=False,
                groups={HR_ADMIN_GROUP: "May add, change and delete employees and their photos"},
                password_sign_in=True,
                mfa_optional_because="MFA is OPTIONAL (TOTP) in this stage so an HR admin "
                "invited in dev can sign in from the directory's page before enrolling an "
                "authenticator app; prod sets mfa=REQUIRED.",
            )
            # The page signs HR admins in with Cognito's API, from the browser.
            connect.append(f"https://cognito-idp.{self.region}.{self.url_suffix}")
        site_config = {
            "hrAdmin": {
                "region": self.region,
                "clientId": self.hr_admins.client.user_pool_client_id,
            }
            if self.hr_admins
            else None
        }
        # A created web ACL goes to us-east-1: here, or EmployeeDirectoryServerlessEdge there.
        self.edge = stage.cloudfront_edge(self)
        # The site bucket's replica in failover_region: EmployeeDirectoryServerlessFailover there.
        self.failover = (
            stage.failover_companion(self, settings.failover_region)
            if settings.failover_region
            else None
        )
        self.site = StaticSite(
            self,
            "Site",
            access_logs=self.access_logs,
            content=SITE,
            extra_content=[s3deploy.Source.json_data("config.json", site_config)],
            content_security_policy=content_security_policy(self.data, *connect),
            price_class=_PRICE_CLASSES[settings.price_class],
            domain=settings.site_domain(),
            waf=settings.waf,
            waf_rate_limit=settings.waf_rate_limit,
            comment=f"Employee directory ({stage.name})",
            edge=self.edge,
            failover=self.failover,
            # The API answers 403 to a signed-in non-admin, in its own JSON body.
            error_pages=False,
            **logs,
        )
        self.api = DirectoryApi(
            self,
            "Api",
            data=self.data,
            hr_admins=self.hr_admins.user_pool if self.hr_admins else None,
            hr_admin_group=HR_ADMIN_GROUP,
            throttle_rate=settings.api_throttle_rate,
            throttle_burst=settings.api_throttle_burst,
            **logs,
        )
        rest = self.api.api
        self.site.add_dynamic_path(
            "/api/*",
            rest.origin,
            cache_policy=rest.cache_policy,
            origin_request_policy=rest.origin_request_policy,
        )
        # The distribution's name is CloudFront's choice, and the site's security headers name
        # the bucket: naming the distribution here would be a cycle. The pre-signed POST, not
        # CORS, is what admits an upload.
        self.data.allow_uploads_from(
            [f"https://{name}" for name in settings.domain_names] or ["https://*.cloudfront.net"]
        )
        self._outputs()

    def _outputs(self) -> None:
        cdk.CfnOutput(self, "SiteUrl", value=self.site.url, description="The directory")
        cdk.CfnOutput(
            self,
            "ApiBaseUrl",
            value=cdk.Fn.join("", [self.site.url, "/api/"]),
            description="The API, through the same distribution (no CORS)",
        )
        cdk.CfnOutput(self, "TableName", value=self.data.table.table_name)
        cdk.CfnOutput(self, "MediaBucketName", value=self.data.bucket.bucket_name)
        if self.hr_admins is not None:
            pool = self.hr_admins.user_pool.user_pool_id
            cdk.CfnOutput(self, "HrAdminUserPoolId", value=pool)
            cdk.CfnOutput(self, "HrAdminClientId", value=self.hr_admins.client.user_pool_client_id)
            cdk.CfnOutput(
                self,
                "AddHrAdminCommand",
                description="Invite an HR admin (replace the address), then add them to the group",
                value=cdk.Fn.join(
                    "",
                    [
                        "aws cognito-idp admin-create-user --user-pool-id ",
                        pool,
                        " --username hr@example.com --user-attributes Name=email,"
                        "Value=hr@example.com Name=email_verified,Value=true && "
                        "aws cognito-idp admin-add-user-to-group --user-pool-id ",
                        pool,
                        f" --username hr@example.com --group-name {HR_ADMIN_GROUP}",
                    ],
                ),
            )


def build(app: cdk.App, instance: Instance[EmployeeDirectorySettings]) -> list[cdk.Stack]:
    """EmployeeDirectoryClassic and EmployeeDirectoryServerless (either may be turned off), and
    the serverless stack's us-east-1 companion when it creates a web ACL elsewhere and its
    Failover companion (the site bucket's replica) with failover_region."""
    stage, settings = instance.stage, instance.settings
    classic_id, serverless_id = instance.stack_ids(*STACK_IDS)
    stacks: list[cdk.Stack] = []
    if settings.classic:
        stacks.append(
            EmployeeDirectoryClassicStack(
                app, classic_id, instance=instance, **stage.stack_kwargs(classic_id)
            )
        )
    if settings.serverless:
        serverless = EmployeeDirectoryServerlessStack(
            app,
            serverless_id,
            instance=instance,
            **stage.stack_kwargs(serverless_id, cross_region_references=True),
        )
        failover = serverless.failover.stacks if serverless.failover else []
        stacks += [serverless, *serverless.edge.stacks, *failover]
    return stacks
