"""WebTier: an internet-facing ALB in front of an Auto Scaling group of Graviton instances
launched from a launch template, the way a new account lets you build one.

    clients --HTTP--> ALB (drops invalid headers, desync mitigation, access logs to the stack's
                      log bucket; security group: only the ingress the caller adds)
                        --> target group (health check on `health_check_path`)
                              --> Auto Scaling group (launch template: Amazon Linux 2023 arm64,
                                  IMDSv2 only with one hop, encrypted gp3 root volume, detailed
                                  monitoring, no key pair, an instance role with Session Manager;
                                  scaling on CPU and optionally on requests per instance;
                                  rolling replacement when the launch template changes)

Decided here, for every EC2 web tier of the library:
- A launch template, never a launch configuration: accounts created since 2024 cannot create
  launch configurations at all, and deployment/rules.py refuses one in any template.
- No SSH: no key pair, no port 22; Session Manager (AmazonSSMManagedInstanceCore) is the shell.
  In subnets without internet egress it needs the ssm, ssmmessages and ec2messages interface
  endpoints (house.network.InterfaceEndpoints); the caller decides.
- Instances accept traffic from the load balancer only (the target group's port); out, they
  reach HTTPS only, which in isolated subnets means the VPC's endpoints.
- A change of the launch template (new user data, a new AMI, another type) replaces the
  instances batch by batch (CloudFormation's rolling update), keeping `min_instances` in
  service where the group may grow to do so.

Builds into `scope` itself, not under a construct of its own: a stack that already has these
resources (blueprints/update_offload/update_server.py) can adopt the pattern without a logical id
changing, i.e. without CloudFormation replacing its load balancer and instances. A new stack
gives it a construct of its own (`WebTier(Construct(self, "Web"), ...)`).

Attributes: load_balancer_security_group, load_balancer, instance_security_group, role,
launch_template, auto_scaling_group, target_group, listener, dns_name.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from house.compliance import acknowledge
from house.defaults import load_balancer
from house.network import availability_zones
from house.settings import keeps_data

SSM_POLICY = "AmazonSSMManagedInstanceCore"


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
        self.role = iam.Role(
            scope,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description=descriptions["role"],
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(SSM_POLICY)],
        )
        acknowledge(
            self.role,
            f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{SSM_POLICY}]",
            "AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, which "
            "replaces SSH on these instances; AWS updates it when the agent needs new actions.",
        )
        self.launch_template = ec2.LaunchTemplate(
            scope,
            "LaunchTemplate",
            instance_type=ec2.InstanceType(instance_type),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(
                cpu_type=ec2.AmazonLinuxCpuType.ARM_64
            ),
            role=self.role,
            security_group=self.instance_security_group,
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
        self.auto_scaling_group = autoscaling.AutoScalingGroup(
            scope,
            "Instances",
            vpc=vpc,
            vpc_subnets=instance_subnets,
            launch_template=self.launch_template,
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
        )
        # The group spans the AZs of its subnets; the AZs are said on the group as well, which is
        # what Control Tower checks (CT.AUTOSCALING.PR.1).
        self.auto_scaling_group.node.default_child.availability_zones = availability_zones(
            vpc, instance_subnets
        )
        acknowledge(
            self.auto_scaling_group,
            "AwsSolutions-AS3",
            "Scaling activity of this group is recorded in its activity history and all group "
            "metrics are published to CloudWatch; a notification topic nobody subscribes to adds "
            "nothing.",
        )
        self.auto_scaling_group.scale_on_cpu_utilization(
            "CpuTarget", target_utilization_percent=cpu_target_percent
        )

        # -- routing ----------------------------------------------------------------------------
        self.target_group = elbv2.ApplicationTargetGroup(
            scope,
            "Targets",
            vpc=vpc,
            port=instance_port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.auto_scaling_group],
            deregistration_delay=cdk.Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                path=health_check_path,
                healthy_http_codes="200",
                interval=cdk.Duration.seconds(15),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )
        self.listener = self.load_balancer.add_listener(
            "Http",
            port=80,
            protocol=elbv2.ApplicationProtocol.HTTP,
            open=False,  # ingress is exactly what the caller adds to the security group
            default_action=listener_default_action
            or elbv2.ListenerAction.forward([self.target_group]),
        )
        if requests_per_instance_per_minute is not None:
            # Request count tracks load that CPU misses (an app waiting on DynamoDB or S3).
            self.auto_scaling_group.scale_on_request_count(
                "RequestTarget", target_requests_per_minute=requests_per_instance_per_minute
            )

    @property
    def dns_name(self) -> str:
        return self.load_balancer.load_balancer_dns_name

    def allow_clients(self, peer: ec2.IPeer, description: str) -> None:
        """Admit HTTP from `peer` to the load balancer (nothing is admitted until called)."""
        self.load_balancer_security_group.add_ingress_rule(peer, ec2.Port.tcp(80), description)
