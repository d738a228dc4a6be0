"""The same web service on AWS App Runner: for accounts that already use App Runner only.

AWS closed App Runner to new customers on 2026-04-30 (existing customers keep using it; it gets
no new features) and points new users to ECS Express Mode (express_service.py). This pattern is
for an account that already runs App Runner services and wants this blueprint's image and
settings there:

    image (fixed tag or digest) --> App Runner service (public HTTPS URL, TLS by App Runner)
      access role:   pull the image from ECR (not needed for ECR Public)
      instance role: read the injected secrets (and what the app itself may call)
      auto scaling configuration: min..max instances, concurrency per instance
      observability configuration: X-Ray tracing
      optional VPC connector: all egress through your subnets (to the database)

App Runner creates, outside this stack, the log groups /aws/apprunner/<service>/<id>/service
and .../application with no expiry (their names carry the service id, known only after
create; set their retention after the first deploy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_apprunner as apprunner
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from house.compliance import acknowledge_wildcard_resources
from house.names import physical_name

# CPU units -> the memory sizes (MiB) App Runner accepts with it (API: InstanceConfiguration).
APP_RUNNER_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024),
    512: (1024,),
    1024: (2048, 3072, 4096),
    2048: (4096, 6144),
    4096: (8192, 10240, 12288),
}
# Per-service instance limits (App Runner quotas: 25 instances per service by default).
MAX_INSTANCES = 25
MAX_CONCURRENCY = (1, 200)
# App Runner names: 4-32 characters for auto scaling and observability configurations, 4-40 for
# services and VPC connectors; unique per account and region.
_CONFIGURATION_NAME_MAX = 32
_NAME_MAX = 40
PUBLIC_ECR = "public.ecr.aws/"


def app_runner_size_problem(cpu: int, memory_mib: int) -> str | None:
    """None if App Runner runs an instance of `cpu` units and `memory_mib`, else what it takes."""
    if cpu not in APP_RUNNER_SIZES:
        return f"App Runner CPU units are one of {', '.join(map(str, APP_RUNNER_SIZES))}"
    if memory_mib not in APP_RUNNER_SIZES[cpu]:
        return (
            f"with cpu {cpu} App Runner accepts memory "
            f"{', '.join(map(str, APP_RUNNER_SIZES[cpu]))} MiB"
        )
    return None


class AppRunnerWebService(Construct):
    """One App Runner service running `image`.

    A public HTTPS URL (TLS by App Runner), X-Ray tracing through an observability configuration,
    an auto scaling configuration, and an instance role for what the app itself may call. A deploy
    of the stack is the one way a new image goes live: automatic deployments are off.

    Args:
        `image`: the image to run, with a fixed tag or digest: in private ECR (an access role is
            then created and handed to `pull_from`) or in ECR Public (`public.ecr.aws/...`: no
            access role, no authentication). Required.
        `pull_from`: called with the access role to grant it the image pull (e.g.
            `registry.grant_pull`); never called for an ECR Public image, so None fits there.
            Required.
        `container_port`: the port App Runner sends the traffic to. Required.
        `health_check_path`: the path of App Runner's HTTP health check (every 10 s, 5 s timeout,
            healthy after 1 success, unhealthy after 3 failures). Required.
        `cpu`: CPU units of each instance; with `memory_mib` one of the combinations in
            APP_RUNNER_SIZES. Required.
        `memory_mib`: memory of each instance, in MiB. Required.
        `min_instances`: instances kept provisioned at all times (an idle provisioned instance bills
            for its memory only). Required.
        `max_instances`: the most instances App Runner scales out to (quota: 25 per service).
            Required.
        `max_concurrency`: concurrent requests per instance before App Runner adds an instance
            (1..200). Required.
        `environment`: plain environment variables of the app (visible in the template). Required.
        `secrets`: environment variable name -> Secrets Manager secret ARN, injected when an
            instance starts; the caller grants `instance_role` read on each secret. Required.
        `vpc_subnets`: when non-empty, a VPC connector in these subnets carries all of the service's
            egress (e.g. to a database in the VPC); ingress stays public. Default: None, egress goes
            straight to the internet (App Runner's DEFAULT egress) and `vpc_connector` is None.
        `vpc_security_group`: the VPC connector's security group; needed with `vpc_subnets`.
            Default: None, which only fits without `vpc_subnets`.

    Attributes: instance_role, access_role (None for ECR Public), scaling, observability,
    vpc_connector (None without `vpc_subnets`), service, url, endpoint.
    """

    access_role: iam.Role | None
    vpc_connector: apprunner.CfnVpcConnector | None

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        image: str,
        pull_from,
        container_port: int,
        health_check_path: str,
        cpu: int,
        memory_mib: int,
        min_instances: int,
        max_instances: int,
        max_concurrency: int,
        environment: Mapping[str, str],
        secrets: Mapping[str, str],
        vpc_subnets: Sequence[ec2.ISubnet] | None = None,
        vpc_security_group: ec2.ISecurityGroup | None = None,
    ) -> None:
        super().__init__(scope, id)
        public = image.startswith(PUBLIC_ECR)
        self.instance_role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("tasks.apprunner.amazonaws.com"),
            description="App Runner instances: read the injected secrets; the app's own calls",
        )
        self.access_role = None
        if not public:
            self.access_role = iam.Role(
                self,
                "AccessRole",
                assumed_by=iam.ServicePrincipal("build.apprunner.amazonaws.com"),
                description="App Runner: pull the service's image from ECR",
            )
            pull_from(self.access_role)
            acknowledge_wildcard_resources(
                self.access_role,
                {"ecr:GetAuthorizationToken"},
                "App Runner pulls the image with an ECR authorization token, and "
                "ecr:GetAuthorizationToken has no resource-level permissions; the pull "
                "itself is scoped to the one repository.",
            )
        self.scaling = apprunner.CfnAutoScalingConfiguration(
            self,
            "Scaling",
            auto_scaling_configuration_name=physical_name(
                self, "Scaling", max_length=_CONFIGURATION_NAME_MAX
            ),
            min_size=min_instances,
            max_size=max_instances,
            max_concurrency=max_concurrency,
        )
        self.observability = apprunner.CfnObservabilityConfiguration(
            self,
            "Observability",
            observability_configuration_name=physical_name(
                self, "Tracing", max_length=_CONFIGURATION_NAME_MAX
            ),
            trace_configuration=apprunner.CfnObservabilityConfiguration.TraceConfigurationProperty(
                vendor="AWSXRAY"
            ),
        )
        # X-Ray tracing needs the instance to send segments.
        self.instance_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                ],
                resources=["*"],
            )
        )
        acknowledge_wildcard_resources(
            self.instance_role,
            {
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
            },
            "X-Ray's segment and sampling actions support no resource-level permissions; "
            "App Runner's tracing (the observability configuration) sends them.",
        )
        self.vpc_connector = None
        egress = apprunner.CfnService.EgressConfigurationProperty(egress_type="DEFAULT")
        if vpc_subnets:
            self.vpc_connector = apprunner.CfnVpcConnector(
                self,
                "VpcConnector",
                vpc_connector_name=physical_name(self, "Vpc", max_length=_NAME_MAX),
                subnets=[subnet.subnet_id for subnet in vpc_subnets],
                security_groups=[vpc_security_group.security_group_id],
            )
            egress = apprunner.CfnService.EgressConfigurationProperty(
                egress_type="VPC", vpc_connector_arn=self.vpc_connector.attr_vpc_connector_arn
            )
        authentication = (
            apprunner.CfnService.AuthenticationConfigurationProperty(
                access_role_arn=self.access_role.role_arn
            )
            if self.access_role
            else None
        )
        self.service = apprunner.CfnService(
            self,
            "Service",
            service_name=physical_name(self, "Service", max_length=_NAME_MAX),
            source_configuration=apprunner.CfnService.SourceConfigurationProperty(
                authentication_configuration=authentication,
                # A deploy of this stack is the one way a new image goes live: the tag in the
                # template changes. Automatic deployments would also bill a monthly fee per service.
                auto_deployments_enabled=False,
                image_repository=apprunner.CfnService.ImageRepositoryProperty(
                    image_identifier=image,
                    image_repository_type="ECR_PUBLIC" if public else "ECR",
                    image_configuration=apprunner.CfnService.ImageConfigurationProperty(
                        port=str(container_port),
                        runtime_environment_variables=[
                            apprunner.CfnService.KeyValuePairProperty(name=name, value=value)
                            for name, value in sorted(environment.items())
                        ],
                        runtime_environment_secrets=[
                            apprunner.CfnService.KeyValuePairProperty(name=name, value=arn)
                            for name, arn in sorted(secrets.items())
                        ]
                        or None,
                    ),
                ),
            ),
            instance_configuration=apprunner.CfnService.InstanceConfigurationProperty(
                cpu=str(cpu),
                memory=str(memory_mib),
                instance_role_arn=self.instance_role.role_arn,
            ),
            health_check_configuration=apprunner.CfnService.HealthCheckConfigurationProperty(
                protocol="HTTP",
                path=health_check_path,
                interval=10,
                timeout=5,
                healthy_threshold=1,
                unhealthy_threshold=3,
            ),
            auto_scaling_configuration_arn=self.scaling.attr_auto_scaling_configuration_arn,
            observability_configuration=apprunner.CfnService.ServiceObservabilityConfigurationProperty(
                observability_enabled=True,
                observability_configuration_arn=self.observability.attr_observability_configuration_arn,
            ),
            network_configuration=apprunner.CfnService.NetworkConfigurationProperty(
                egress_configuration=egress,
                ingress_configuration=apprunner.CfnService.IngressConfigurationProperty(
                    is_publicly_accessible=True
                ),
                ip_address_type="IPV4",
            ),
        )
        # The roles' policies exist before App Runner pulls the image and reads the secrets.
        for role in filter(None, (self.instance_role, self.access_role)):
            self.service.node.add_dependency(role)
        self.url = cdk.Fn.join("", ["https://", self.service.attr_service_url])
        self.endpoint = self.service.attr_service_url
