"""WebTier: an internet-facing ALB in front of an Auto Scaling group of Graviton instances
launched from a launch template, the way a new account lets you build one.

    clients --HTTPS--> ALB (with `domain`: HTTPS :443, ELB's TLS 1.2+ policy, port 80 only
                      redirects; without: plain HTTP :80. Drops invalid headers, desync
                      mitigation, access logs to the stack's log bucket; security group: only
                      the ingress the caller adds)
                        --> target group (health check on `health_check_path`)
                              --> Auto Scaling group (launch template: Amazon Linux 2023 arm64,
                                  IMDSv2 only with one hop, encrypted gp3 root volume, detailed
                                  monitoring, no key pair, an instance role with Session Manager
                                  only;
                                  scaling on CPU and optionally on requests per instance;
                                  rolling replacement when the launch template changes)

Decided here, for every EC2 web tier of the library:
- A launch template, never a launch configuration: accounts created since 2024 cannot create
  launch configurations at all, and deployment/rules.py refuses one in any template.
- No SSH: no key pair, no port 22; Session Manager is the shell, with only what it needs
  (`session_manager_role`; not AmazonSSMManagedInstanceCore, which reads every SSM parameter).
  In subnets without internet egress it needs the ssm and ssmmessages interface endpoints
  (house.network.InterfaceEndpoints; not ec2messages, which carries Run Command, not allowed
  here); the caller decides.
- Instances accept traffic from the load balancer only (the target group's port); out, they
  reach HTTPS only, which in isolated subnets means the VPC's endpoints.
- A change of the launch template (new user data, a new AMI, another type) replaces the
  instances batch by batch (CloudFormation's rolling update), keeping `min_instances` in
  service where the group may grow to do so.

Builds into `scope` itself, not under a construct of its own: a stack that already has these
resources can adopt the pattern without a logical id changing, i.e. without CloudFormation
replacing its load balancer and instances. A new stack gives it a construct of its own
(`WebTier(Construct(self, "Web"), ...)`). Its instance half is two functions a fleet behind
another kind of load balancer uses too (blueprints/update_offload/update_server.py, internal
and reached through CloudFront): `session_manager_role`, `instance_group` and `instance_targets`.

Attributes: load_balancer_security_group, load_balancer, instance_security_group, role,
launch_template, auto_scaling_group, target_group, listener (HTTPS with a domain, else HTTP),
certificate (None without a domain), dns_name, url.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from house.compliance import acknowledge, acknowledge_wildcard_resources
from house.defaults import LOAD_BALANCER_TLS_POLICY, load_balancer
from house.edge import domain_certificate, hosted_zone
from house.network import availability_zones
from house.settings import keeps_data

# What Session Manager needs on an instance besides registering it (session_manager_role).
SESSION_MANAGER_CHANNELS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)


@dataclasses.dataclass(frozen=True)
class WebTierDomain:
    """The tier's name in a Route 53 hosted zone of yours: a certificate validated in it, an
    alias A record to the load balancer."""

    domain_name: str
    hosted_zone_id: str
    hosted_zone_name: str


def launch_options(
    launch_template: ec2.ILaunchTemplate, instance_type: str, fallback_instance_types: Sequence[str]
) -> dict:
    """The AutoScalingGroup arguments that launch `launch_template`: with fallbacks, a
    mixed-instances policy that launches the first type with capacity, in this order, on demand:
    `instance_type` while it can (same price and behaviour as without), another when an AZ runs
    out of it (CT.AUTOSCALING.PR.6). Each type once, and not `instance_type` (ValueError)."""
    if instance_type in fallback_instance_types or len(set(fallback_instance_types)) != len(
        fallback_instance_types
    ):
        raise ValueError(
            f"fallback_instance_types {list(fallback_instance_types)}: each type once, and "
            f"not instance_type ({instance_type}) itself"
        )
    if not fallback_instance_types:
        return {"launch_template": launch_template}
    return {
        "mixed_instances_policy": autoscaling.MixedInstancesPolicy(
            launch_template=launch_template,
            launch_template_overrides=[
                autoscaling.LaunchTemplateOverrides(instance_type=ec2.InstanceType(t))
                for t in (instance_type, *fallback_instance_types)
            ],
            instances_distribution=autoscaling.InstancesDistribution(
                on_demand_allocation_strategy=autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
                on_demand_base_capacity=0,
                on_demand_percentage_above_base_capacity=100,
            ),
        )
    }


def acknowledge_mixed_instances(group: autoscaling.AutoScalingGroup) -> None:
    """cdk-nag's EC26 on a group launched through `launch_options` with fallbacks."""
    acknowledge(
        group,
        "AwsSolutions-EC26",
        "cdk-nag cannot follow this group's mixed-instances policy to its launch template "
        "(the rule errors on the reference); that template's one EBS volume, the root "
        "gp3 volume, is encrypted, for every instance type the policy lists.",
    )


def session_manager_role(scope: Construct, description: str) -> iam.Role:
    """`InstanceRole` in `scope`: the role of an EC2 fleet whose shell is Session Manager, with
    only what Session Manager needs (the agent registers the instance, then opens a session's
    channels). Not AmazonSSMManagedInstanceCore, which also reads every SSM parameter of the
    account, its documents and associations. The caller grants what its application uses."""
    role = iam.Role(
        scope,
        "InstanceRole",
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        description=description,
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="RegisterWithSessionManager",
            actions=["ssm:UpdateInstanceInformation"],
            resources=[
                cdk.Stack.of(scope).format_arn(
                    service="ec2", resource="instance", resource_name="*"
                )
            ],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="SessionManagerChannels", actions=list(SESSION_MANAGER_CHANNELS), resources=["*"]
        )
    )
    acknowledge_wildcard_resources(
        role,
        {"ssm:UpdateInstanceInformation"},
        "The SSM agent registers the instance it runs on, whose id is known only at launch; "
        "the resource is this account's and region's EC2 instances.",
        exactly=True,
    )
    acknowledge_wildcard_resources(
        role,
        set(SESSION_MANAGER_CHANNELS),
        "Session Manager's ssmmessages channel actions have no resource-level permissions; "
        "they carry the sessions an operator opens, nothing else.",
        exactly=True,
    )
    return role


def instance_group(
    scope: Construct,
    *,
    vpc: ec2.IVpc,
    instance_subnets: ec2.SubnetSelection,
    role: iam.IRole,
    security_group: ec2.ISecurityGroup,
    user_data: ec2.UserData,
    instance_type: str,
    fallback_instance_types: Sequence[str],
    min_instances: int,
    max_instances: int,
    cpu_target_percent: int,
    public_instance_ips: bool = False,
    root_volume_gb: int = 8,
    update_policy: autoscaling.UpdatePolicy | None = None,
) -> tuple[ec2.LaunchTemplate, autoscaling.AutoScalingGroup]:
    """`LaunchTemplate` and `Instances` (the Auto Scaling group) in `scope`: Amazon Linux 2023
    arm64, IMDSv2 only with one hop, detailed monitoring, an encrypted gp3 root volume, no key
    pair; the group in `instance_subnets`' AZs (said on the group too: CT.AUTOSCALING.PR.1),
    ELB health checks, a rolling update keeping `min_instances` in service where it may grow
    (unless `update_policy`), every group metric, scaling on CPU (`CpuTarget`), and with
    `fallback_instance_types` a mixed-instances policy (`launch_options`)."""
    launch_template = ec2.LaunchTemplate(
        scope,
        "LaunchTemplate",
        instance_type=ec2.InstanceType(instance_type),
        machine_image=ec2.MachineImage.latest_amazon_linux2023(
            cpu_type=ec2.AmazonLinuxCpuType.ARM_64
        ),
        role=role,
        security_group=security_group,
        user_data=user_data,
        require_imdsv2=True,
        # 1 hop: only processes on the instance reach the metadata service, not containers.
        http_put_response_hop_limit=1,
        associate_public_ip_address=public_instance_ips,
        detailed_monitoring=True,
        block_devices=[
            ec2.BlockDevice(
                device_name="/dev/xvda",
                volume=ec2.BlockDeviceVolume.ebs(
                    root_volume_gb,
                    encrypted=True,
                    volume_type=ec2.EbsDeviceVolumeType.GP3,
                    delete_on_termination=True,
                ),
            )
        ],
    )
    group = autoscaling.AutoScalingGroup(
        scope,
        "Instances",
        vpc=vpc,
        vpc_subnets=instance_subnets,
        min_capacity=min_instances,
        max_capacity=max_instances,
        health_checks=autoscaling.HealthChecks.with_additional_checks(
            additional_types=[autoscaling.AdditionalHealthCheckType.ELB],
            grace_period=cdk.Duration.minutes(5),
        ),
        default_instance_warmup=cdk.Duration.minutes(3),
        update_policy=update_policy
        or autoscaling.UpdatePolicy.rolling_update(
            min_instances_in_service=min_instances if max_instances > min_instances else 0
        ),
        group_metrics=[autoscaling.GroupMetrics.all()],
        **launch_options(launch_template, instance_type, fallback_instance_types),
    )
    if fallback_instance_types:
        acknowledge_mixed_instances(group)
    # The group spans the AZs of its subnets; the AZs are said on the group as well, which is
    # what Control Tower checks (CT.AUTOSCALING.PR.1).
    group.node.default_child.availability_zones = availability_zones(vpc, instance_subnets)
    acknowledge(
        group,
        "AwsSolutions-AS3",
        "This group scales on CPU, so launches and terminations are routine: a notification "
        "per event on the stack's operations topic would bury its alarms. Each activity is "
        "in the group's activity history, and every group metric is published to CloudWatch.",
    )
    group.scale_on_cpu_utilization("CpuTarget", target_utilization_percent=cpu_target_percent)
    return launch_template, group


def instance_targets(
    scope: Construct,
    vpc: ec2.IVpc,
    group: autoscaling.AutoScalingGroup,
    port: int,
    health_check_path: str,
) -> elbv2.ApplicationTargetGroup:
    """`Targets` in `scope`: the group's instances behind a load balancer, over HTTP on `port`
    (inside the VPC), healthy after 2 answers of 200 on `health_check_path` 15 s apart and
    out after 3 failures; 30 s to drain a leaving instance."""
    return elbv2.ApplicationTargetGroup(
        scope,
        "Targets",
        vpc=vpc,
        port=port,
        protocol=elbv2.ApplicationProtocol.HTTP,
        targets=[group],
        deregistration_delay=cdk.Duration.seconds(30),
        health_check=elbv2.HealthCheck(
            path=health_check_path,
            healthy_http_codes="200",
            interval=cdk.Duration.seconds(15),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        ),
    )


class WebTier:
    """ALB + target group + Graviton Auto Scaling group from a launch template, built in `scope`.

    Arguments:
        vpc, instance_subnets: where the instances go (the load balancer takes the public
            subnets).
        access_logs: the stack's access-log bucket (house.defaults.access_log_bucket).
        instance_type: a Graviton type (the AMI is arm64).
        min_instances, max_instances: the group's size.
        cpu_target_percent: average CPU the group scales to keep.
        user_data: what an instance runs at first boot (the caller may add commands later).
        removal_policy: the stage's; keeps the load balancer from deletion where data is kept.
        descriptions: `load_balancer`, `instances`, `egress`, `role` texts (security groups,
            the HTTPS egress rule, the instance role), which name the application.
        instance_port: the port the application listens on; default 80.
        health_check_path: default `/health`, answered 200 by a healthy instance.
        requests_per_instance_per_minute: also scale on the load balancer's request count per
            instance; default None (CPU only).
        public_instance_ips: a public IPv4 address per instance (public subnets); default False.
        update_policy: default a rolling update keeping `min_instances` in service when the
            group may grow beyond it.
        root_volume_gb: default 8.
        listener_default_action: default forward to the target group (e.g. a fixed 403 when
            only requests matching a rule may pass).
        fallback_instance_types: Graviton types the group launches, in this order, when
            `instance_type` has no capacity (`launch_options`); default (), `instance_type` only.
        domain: serve HTTPS on this name (WebTierDomain): a DNS-validated ACM certificate
            (`certificate`), a listener on 443 with LOAD_BALANCER_TLS_POLICY, port 80 only
            redirecting to it, an alias A record; `url` is https://<name>. Default None: plain
            HTTP on port 80 at the load balancer's name (`certificate` None).
    """

    def __init__(
        self,
        scope: Construct,
        *,
        vpc: ec2.IVpc,
        instance_subnets: ec2.SubnetSelection,
        access_logs: s3.IBucket,
        instance_type: str,
        min_instances: int,
        max_instances: int,
        cpu_target_percent: int,
        user_data: ec2.UserData,
        removal_policy: cdk.RemovalPolicy,
        descriptions: dict[str, str],
        instance_port: int = 80,
        health_check_path: str = "/health",
        requests_per_instance_per_minute: int | None = None,
        public_instance_ips: bool = False,
        update_policy: autoscaling.UpdatePolicy | None = None,
        root_volume_gb: int = 8,
        listener_default_action: elbv2.ListenerAction | None = None,
        fallback_instance_types: Sequence[str] = (),
        domain: WebTierDomain | None = None,
    ) -> None:
        if not 1 <= min_instances <= max_instances:
            raise ValueError(
                f"WebTier in {scope.node.path}: need 1 <= min_instances ({min_instances}) <= "
                f"max_instances ({max_instances})"
            )
        missing = {"load_balancer", "instances", "egress", "role"} - set(descriptions)
        if missing:
            raise ValueError(f"WebTier in {scope.node.path}: descriptions lacks {sorted(missing)}")

        # -- load balancer: the only way in -----------------------------------------------------
        self.load_balancer_security_group = ec2.SecurityGroup(
            scope,
            "LoadBalancerSecurityGroup",
            vpc=vpc,
            description=descriptions["load_balancer"],
            allow_all_outbound=False,
        )
        self.load_balancer = load_balancer(
            scope,
            "LoadBalancer",
            vpc=vpc,
            access_logs=access_logs,
            deletion_protection=keeps_data(removal_policy),
            security_group=self.load_balancer_security_group,
        )

        # -- instances --------------------------------------------------------------------------
        self.instance_security_group = ec2.SecurityGroup(
            scope,
            "InstanceSecurityGroup",
            vpc=vpc,
            description=descriptions["instances"],
            allow_all_outbound=False,
        )
        self.instance_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), descriptions["egress"]
        )
        self.role = session_manager_role(scope, descriptions["role"])
        self.launch_template, self.auto_scaling_group = instance_group(
            scope,
            vpc=vpc,
            instance_subnets=instance_subnets,
            role=self.role,
            security_group=self.instance_security_group,
            user_data=user_data,
            instance_type=instance_type,
            fallback_instance_types=fallback_instance_types,
            min_instances=min_instances,
            max_instances=max_instances,
            cpu_target_percent=cpu_target_percent,
            public_instance_ips=public_instance_ips,
            root_volume_gb=root_volume_gb,
            update_policy=update_policy,
        )

        # -- routing ----------------------------------------------------------------------------
        self.target_group = instance_targets(
            scope, vpc, self.auto_scaling_group, instance_port, health_check_path
        )
        default_action = listener_default_action or elbv2.ListenerAction.forward(
            [self.target_group]
        )
        self.domain, self.certificate = domain, None
        if domain is None:
            self.listener = self.load_balancer.add_listener(
                "Http",
                port=80,
                protocol=elbv2.ApplicationProtocol.HTTP,
                open=False,  # ingress is exactly what the caller adds to the security group
                default_action=default_action,
            )
        else:
            self.certificate = domain_certificate(
                scope,
                "Certificate",
                domain_names=[domain.domain_name],
                hosted_zone_id=domain.hosted_zone_id,
                hosted_zone_name=domain.hosted_zone_name,
            )
            self.listener = self.load_balancer.add_listener(
                "Https",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[self.certificate],
                ssl_policy=LOAD_BALANCER_TLS_POLICY,
                open=False,
                default_action=default_action,
            )
            # Port 80 answers only a redirect to HTTPS, to the same clients.
            self.load_balancer.add_redirect(source_port=80, target_port=443, open=False)
            route53.ARecord(
                scope,
                "AliasRecord",
                zone=hosted_zone(
                    scope,
                    "Zone",
                    hosted_zone_id=domain.hosted_zone_id,
                    hosted_zone_name=domain.hosted_zone_name,
                ),
                record_name=domain.domain_name,
                target=route53.RecordTarget.from_alias(
                    route53_targets.LoadBalancerTarget(self.load_balancer)
                ),
            )
        if requests_per_instance_per_minute is not None:
            # Request count tracks load that CPU misses (an app waiting on DynamoDB or S3).
            self.auto_scaling_group.scale_on_request_count(
                "RequestTarget", target_requests_per_minute=requests_per_instance_per_minute
            )

    @property
    def dns_name(self) -> str:
        return self.load_balancer.load_balancer_dns_name

    @property
    def url(self) -> str:
        if self.domain is not None:
            return f"https://{self.domain.domain_name}"
        return cdk.Fn.join("", ["http://", self.dns_name])

    def allow_clients(self, peer: ec2.IPeer, description: str) -> None:
        """Admit `peer` to the load balancer (nothing is admitted until called): HTTP, and with
        a domain HTTPS as well (port 80 then only redirects)."""
        if self.domain is not None:
            self.load_balancer_security_group.add_ingress_rule(peer, ec2.Port.tcp(443), description)
            description += ": port 80, redirected to HTTPS"
        self.load_balancer_security_group.add_ingress_rule(peer, ec2.Port.tcp(80), description)
