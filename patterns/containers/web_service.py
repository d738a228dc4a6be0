"""A Fargate web service behind an ALB, with service auto scaling and shared EFS storage.

internet --80/443--> ALB (access logs, drops invalid headers)
                      | with a domain: HTTPS (TLS 1.2+) + certificate + DNS record, and port 80
                      | only redirects to it; without one: plain HTTP (the blueprint's prod
                      | refuses that unless told by name)
                      | (or, `internet_facing=False`: an internal ALB in `load_balancer_subnets`
                      | that admits only the clients the caller allows, e.g. a VPC link)
                      v  container port, from the ALB's security group only
               Fargate service (circuit breaker with rollback, health checks on /health)
               | scaling: target tracking on CPU, memory, ALB requests per target;
               |          optional scheduled scale-out window
               '--NFS 2049 (TLS, IAM)--> EFS access point --> encrypted file system
"""

from __future__ import annotations

import dataclasses

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_efs as efs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from house.compliance import acknowledge
from house.defaults import LOAD_BALANCER_TLS_POLICY, file_system, load_balancer
from house.settings import keeps_data
from patterns.containers.cluster import CapacityStrategy, wait_for_capacity_providers

SHARED_MOUNT_PATH = "/mnt/shared"
APP_UID = "1000"  # the sample image's user; the access point enforces it for every client


class SharedStorage(Construct):
    """An encrypted EFS file system reached only through one access point, with TLS and IAM.

    Every client is uid/gid 1000 under /app, whatever user its image runs as; `mount()` adds the
    volume to a task and admits its security group on NFS.

    Args:
        `vpc`: the VPC of the file system. Required.
        `subnets`: the subnets of its mount targets. Required.
        `removal_policy`: the file system's; one that keeps data (RETAIN or SNAPSHOT) also turns on
            AWS Backup for it. Required.

    Attributes: file_system, access_point.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self.file_system = file_system(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnets=subnets,
            backups=keeps_data(removal_policy),
            removal_policy=removal_policy,
        )
        # Every client is uid/gid 1000 under /app, whatever user its image runs as.
        self.access_point = self.file_system.add_access_point(
            "AppAccessPoint",
            path="/app",
            posix_user=efs.PosixUser(uid=APP_UID, gid=APP_UID),
            create_acl=efs.Acl(owner_uid=APP_UID, owner_gid=APP_UID, permissions="750"),
        )

    def mount(
        self,
        task_definition: ecs.TaskDefinition,
        container: ecs.ContainerDefinition,
        client: ec2.IConnectable,
        *,
        read_only: bool,
    ) -> None:
        """Mount the access point at SHARED_MOUNT_PATH with TLS in transit and IAM authorisation;
        the task role may mount (and write unless `read_only`) through this access point only."""
        task_definition.add_volume(
            name="shared",
            efs_volume_configuration=ecs.EfsVolumeConfiguration(
                file_system_id=self.file_system.file_system_id,
                transit_encryption="ENABLED",
                authorization_config=ecs.AuthorizationConfig(
                    access_point_id=self.access_point.access_point_id, iam="ENABLED"
                ),
            ),
        )
        container.add_mount_points(
            ecs.MountPoint(
                source_volume="shared", container_path=SHARED_MOUNT_PATH, read_only=read_only
            )
        )
        actions = ["elasticfilesystem:ClientMount"]
        if not read_only:
            actions.append("elasticfilesystem:ClientWrite")
        task_definition.add_to_task_role_policy(
            iam.PolicyStatement(
                actions=actions,
                resources=[self.file_system.file_system_arn],
                conditions={
                    "StringEquals": {
                        "elasticfilesystem:AccessPointArn": self.access_point.access_point_arn
                    }
                },
            )
        )
        # NFS from this client's security group, nobody else.
        self.file_system.connections.allow_default_port_from(client, "NFS from the app tasks")


@dataclasses.dataclass(frozen=True)
class WebScaling:
    min_tasks: int
    max_tasks: int
    cpu_target_percent: int = 60
    memory_target_percent: int = 70
    requests_per_target: int = 1000
    # Optional window of extra minimum capacity, e.g. business hours (Application Auto Scaling
    # cron: "cron(0 8 ? * MON-FRI *)"), in `schedule_time_zone`.
    scale_out_schedule: str | None = None
    scale_in_schedule: str | None = None
    scheduled_min_tasks: int = 0
    schedule_time_zone: str = "UTC"


@dataclasses.dataclass(frozen=True)
class WebDomain:
    """A DNS name in a Route 53 hosted zone you own: certificate (DNS-validated) + alias record."""

    domain_name: str
    hosted_zone_id: str
    hosted_zone_name: str


class WebService(Construct):
    """The entry point: ALB -> Fargate tasks in `task_subnets`, scaled on load.

    The load balancer drops invalid headers and writes access logs; the service
    rolls a failed deployment back (circuit breaker) and scales on CPU, memory and requests per
    target (scale out after 60 s, in after 300 s).

    Args:
        `cluster`: the cluster the service runs in. Required.
        `vpc`: the VPC of the load balancer and of the security groups. Required.
        `task_definition`: the service's task. Required.
        `container`: the container the load balancer targets. Required.
        `container_port`: the port of `container` the target group sends traffic to; the tasks'
            security group admits it from the load balancer's group only. Required.
        `health_check_path`: the target group's HTTP health check (every 15 s, 5 s timeout, HTTP
            200 healthy; 2 successes healthy, 3 failures unhealthy). Required.
        `task_subnets`: the subnets of the tasks. Required.
        `assign_public_ip`: a public IP for each task (reaching AWS APIs from public subnets
            without NAT or endpoints). Required.
        `strategy`: the service's capacity provider strategy (FARGATE / FARGATE_SPOT). Required.
        `scaling`: minimum and maximum tasks (the minimum is also the desired count at deploy), the
            CPU, memory and requests-per-target targets and an optional scheduled window of a
            higher minimum (WebScaling). Required.
        `min_healthy_percent`: during a deployment, the lowest percentage of the desired count
            kept running and healthy. Required.
        `max_healthy_percent`: during a deployment, the highest percentage of the desired count
            running (old and new tasks together). Required.
        `execute_command`: turns on ECS Exec for the tasks (the cluster must log the sessions).
            Required.
        `access_logs`: the bucket the load balancer writes its access logs to. Required.
        `removal_policy`: one that keeps data (RETAIN or SNAPSHOT) turns on the load balancer's
            deletion protection, so the name clients resolve is not lost with a stack. Required.
        `domain`: a DNS name in a Route 53 hosted zone you own (WebDomain): a DNS-validated ACM
            certificate (`certificate`), an HTTPS listener on 443 with the recommended TLS policy,
            a redirect from HTTP 80 to HTTPS and an alias A record; `url` is https://<name>.
            An internal load balancer gets the certificate and the HTTPS listener only (no
            redirect, no record: its clients, e.g. an HTTP API's VPC link, reach the listener
            itself and verify the certificate's name). Default: None, a plain HTTP listener on
            port 80 at the load balancer's DNS name and no certificate (`certificate` is None):
            fine for a dev sample only.
        `internet_facing`: the load balancer's listener is open to the internet. Default:
            True; False: an internal load balancer in `load_balancer_subnets` whose security
            group admits no one until the caller allows a client
            (`service.load_balancer.connections.allow_from(...)`).
        `load_balancer_subnets`: where an internal load balancer goes. Default: None, CDK's
            choice (the public subnets when internet-facing, else the private ones).

    Attributes: alb_security_group, load_balancer, task_security_group, service, certificate (None
    without `domain`), listener, listener_port (443 with `domain`, else 80), url, target_group,
    scaling.
    """

    certificate: acm.Certificate | None

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        cluster: ecs.ICluster,
        vpc: ec2.IVpc,
        task_definition: ecs.TaskDefinition,
        container: ecs.ContainerDefinition,
        container_port: int,
        health_check_path: str,
        task_subnets: ec2.SubnetSelection,
        assign_public_ip: bool,
        strategy: CapacityStrategy,
        scaling: WebScaling,
        min_healthy_percent: int,
        max_healthy_percent: int,
        execute_command: bool,
        access_logs: s3.IBucket,
        removal_policy: cdk.RemovalPolicy,
        domain: WebDomain | None = None,
        internet_facing: bool = True,
        load_balancer_subnets: ec2.SubnetSelection | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.alb_security_group = ec2.SecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="Internet-facing ALB: HTTP(S) in from anywhere, out to the web tasks only"
            if internet_facing
            else "Internal ALB: HTTP in from the clients allowed by name, out to the tasks only",
        )
        self.load_balancer = load_balancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            access_logs=access_logs,
            deletion_protection=keeps_data(removal_policy),
            security_group=self.alb_security_group,
            internet_facing=internet_facing,
            vpc_subnets=load_balancer_subnets,
        )
        self.task_security_group = ec2.SecurityGroup(
            self,
            "TaskSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="Web tasks: the container port from the ALB only; HTTPS out to AWS APIs",
        )
        # AWS APIs (ECR, Logs, SQS) over HTTPS: through the IGW with a public IP in dev, through
        # VPC endpoints (or NAT) in private subnets. Nothing else leaves the task.
        self.task_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs over HTTPS"
        )

        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task_definition,
            desired_count=scaling.min_tasks,
            capacity_provider_strategies=strategy.providers(),
            vpc_subnets=task_subnets,
            assign_public_ip=assign_public_ip,
            security_groups=[self.task_security_group],
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            min_healthy_percent=min_healthy_percent,
            max_healthy_percent=max_healthy_percent,
            health_check_grace_period=cdk.Duration.seconds(60),
            enable_execute_command=execute_command,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_ecs_managed_tags=True,
        )
        wait_for_capacity_providers(self.service, cluster)

        health_check = elbv2.HealthCheck(
            path=health_check_path,
            healthy_http_codes="200",
            interval=cdk.Duration.seconds(15),
            timeout=cdk.Duration.seconds(5),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        )
        target = self.service.load_balancer_target(
            container_name=container.container_name, container_port=container_port
        )
        self.certificate = None
        if domain:
            zone = route53.HostedZone.from_hosted_zone_attributes(
                self,
                "Zone",
                hosted_zone_id=domain.hosted_zone_id,
                zone_name=domain.hosted_zone_name,
            )
            self.certificate = acm.Certificate(
                self,
                "Certificate",
                domain_name=domain.domain_name,
                validation=acm.CertificateValidation.from_dns(zone),
            )
            self.listener = self.load_balancer.add_listener(
                "Https",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[self.certificate],
                ssl_policy=LOAD_BALANCER_TLS_POLICY,
                open=internet_facing,
            )
            self.listener_port = 443
            if internet_facing:
                self.load_balancer.add_redirect(source_port=80, target_port=443)
                route53.ARecord(
                    self,
                    "AliasRecord",
                    zone=zone,
                    record_name=domain.domain_name,
                    target=route53.RecordTarget.from_alias(
                        route53_targets.LoadBalancerTarget(self.load_balancer)
                    ),
                )
            self.url = f"https://{domain.domain_name}"
        else:
            # Plain HTTP: without a domain there is no certificate to serve. Fine for a dev
            # sample; FargateServiceSettings refuses it in prod unless allow_plain_http.
            self.listener = self.load_balancer.add_listener(
                "Http", port=80, protocol=elbv2.ApplicationProtocol.HTTP, open=internet_facing
            )
            self.listener_port = 80
            self.url = cdk.Fn.join("", ["http://", self.load_balancer.load_balancer_dns_name])
        self.target_group = self.listener.add_targets(
            "Tasks",
            port=container_port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[target],
            health_check=health_check,
            # Short drain: the app answers in milliseconds; long drains only slow deploys down.
            deregistration_delay=cdk.Duration.seconds(30),
        )
        if internet_facing:
            self._acknowledge_open_listener()
        self._scale(scaling)

    def _acknowledge_open_listener(self) -> None:
        acknowledge(
            self.alb_security_group,
            "AwsSolutions-EC23",
            "This is the internet-facing load balancer's group: its listener ports (80, and 443 "
            "with a domain) must admit any client; the tasks behind it admit only this group.",
        )

    def _scale(self, scaling: WebScaling) -> None:
        self.scaling = self.service.auto_scale_task_count(
            min_capacity=scaling.min_tasks, max_capacity=scaling.max_tasks
        )
        # Three target-tracking policies: whichever asks for the most tasks wins, and a policy
        # only scales in when all agree. Scale out fast (60 s), in slowly (300 s).
        cooldowns = dict(
            scale_out_cooldown=cdk.Duration.seconds(60), scale_in_cooldown=cdk.Duration.seconds(300)
        )
        self.scaling.scale_on_cpu_utilization(
            "Cpu", target_utilization_percent=scaling.cpu_target_percent, **cooldowns
        )
        self.scaling.scale_on_memory_utilization(
            "Memory", target_utilization_percent=scaling.memory_target_percent, **cooldowns
        )
        self.scaling.scale_on_request_count(
            "Requests",
            requests_per_target=scaling.requests_per_target,
            target_group=self.target_group,
            **cooldowns,
        )
        if scaling.scale_out_schedule and scaling.scale_in_schedule:
            zone = cdk.TimeZone.of(scaling.schedule_time_zone)
            self.scaling.scale_on_schedule(
                "ScheduledScaleOut",
                schedule=appscaling.Schedule.expression(scaling.scale_out_schedule),
                min_capacity=scaling.scheduled_min_tasks,
                time_zone=zone,
            )
            self.scaling.scale_on_schedule(
                "ScheduledScaleIn",
                schedule=appscaling.Schedule.expression(scaling.scale_in_schedule),
                min_capacity=scaling.min_tasks,
                time_zone=zone,
            )
