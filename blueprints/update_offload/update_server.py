"""The existing update server: an internet-facing ALB in front of an Auto Scaling group of
Graviton instances that serve update files from an encrypted EFS file system.

It stands in for the application a user already runs (and is useful on its own): clients fetch
`/updates/latest.json`, read the version and relative URL of the newest release from it, then
download `/updates/<version>/<file>`. Every instance mounts the same EFS file system, so an
update published once (by an operator over SSM, or a pipeline) is served by all of them.

Reading order follows a request: load balancer -> target group -> instances -> file system.

`origin_lock` is the one optional change the CloudFront offload asks of this side: the load
balancer then accepts only CloudFront's origin-facing addresses, and only requests that carry
the secret origin-verify header of *this* deployment's distribution.
"""

from __future__ import annotations

import dataclasses

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from house.compliance import acknowledge
from house.defaults import file_system, load_balancer
from house.network import availability_zones
from house.settings import keeps_data

# Where the instances mount EFS, and the URL prefix the files are served under.
MOUNT_POINT = "/mnt/efs"
UPDATES_PREFIX = "updates"
HEALTH_CHECK_PATH = "/health"
# The header CloudFront adds to every origin request when the origin is locked.
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
SAMPLE_VERSION = "1.0.0"


@dataclasses.dataclass(frozen=True)
class OriginLock:
    """Accept only this deployment's CloudFront distribution.

    `prefix_list_id`: the region's `com.amazonaws.global.cloudfront.origin-facing` managed
    prefix list (network level: only CloudFront's origin fleet reaches the ALB).
    `secret_name`: a generated Secrets Manager secret whose value CloudFront sends in
    `X-Origin-Verify`; the listener forwards only requests that carry it (application level:
    some *other* CloudFront distribution pointed at this ALB gets 403).
    """

    prefix_list_id: str
    secret_name: str


class UpdateServer(Construct):
    """ALB + ASG (Graviton, AL2023, IMDSv2, encrypted EBS, SSM) + encrypted EFS."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        instance_subnets: ec2.SubnetSelection,
        file_system_subnets: ec2.SubnetSelection,
        access_logs: s3.IBucket,
        instance_type: str,
        min_instances: int,
        max_instances: int,
        cpu_target_percent: int,
        public_instance_ips: bool,
        removal_policy: cdk.RemovalPolicy,
        origin_lock: OriginLock | None = None,
    ) -> None:
        super().__init__(scope, id)

        # -- load balancer: the only way in -----------------------------------------------------
        self.load_balancer_security_group = ec2.SecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            vpc=vpc,
            description=(
                "Update server load balancer: HTTP from clients (or only CloudFront when locked)"
            ),
            allow_all_outbound=False,
        )
        if origin_lock:
            self.load_balancer_security_group.add_ingress_rule(
                ec2.Peer.prefix_list(origin_lock.prefix_list_id),
                ec2.Port.tcp(80),
                "HTTP from CloudFront origin-facing servers only (origin lock)",
            )
        else:
            self.load_balancer_security_group.add_ingress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(80), "HTTP from update clients on the internet"
            )
            acknowledge(
                self.load_balancer_security_group,
                "AwsSolutions-EC23",
                "This is the internet-facing listener of a public update server: clients anywhere "
                "download updates from it; instances and EFS admit only this load balancer.",
            )
        self.load_balancer = load_balancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            access_logs=access_logs,
            deletion_protection=keeps_data(removal_policy),
            security_group=self.load_balancer_security_group,
        )

        # -- instances --------------------------------------------------------------------------
        self.instance_security_group = ec2.SecurityGroup(
            self,
            "InstanceSecurityGroup",
            vpc=vpc,
            description="Update server instances: HTTP from the load balancer only, no SSH",
            allow_all_outbound=False,
        )
        # HTTPS out for the package repositories (S3) and Systems Manager; NFS to EFS is added
        # by the file system's connections below. Nothing else leaves an instance.
        self.instance_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to dnf repositories and Systems Manager"
        )

        self.file_system = file_system(
            self,
            "Files",
            vpc=vpc,
            vpc_subnets=file_system_subnets,
            removal_policy=removal_policy,
            backups=keeps_data(removal_policy),
        )
        self.file_system.connections.allow_default_port_from(
            self.instance_security_group, "NFS from update server instances"
        )

        self.role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description=(
                "Update server instances: SSM Session Manager and mounting the update files"
            ),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")
            ],
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
            "AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, which "
            "replaces SSH on these instances; AWS updates it when the agent needs new actions.",
        )
        # Read to serve, write to publish (an operator copies a release over SSM) and to seed the
        # sample release on first boot; root access because user data runs as root.
        self.file_system.grant_read_write(self.role)
        self.file_system.grant_root_access(self.role)

        self.launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            instance_type=ec2.InstanceType(instance_type),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(
                cpu_type=ec2.AmazonLinuxCpuType.ARM_64
            ),
            role=self.role,
            security_group=self.instance_security_group,
            user_data=self._user_data(),
            require_imdsv2=True,
            # 1 hop: only processes on the instance reach the metadata service, not containers.
            http_put_response_hop_limit=1,
            associate_public_ip_address=public_instance_ips,
            detailed_monitoring=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        8,
                        encrypted=True,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        delete_on_termination=True,
                    ),
                )
            ],
        )
        self.auto_scaling_group = autoscaling.AutoScalingGroup(
            self,
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
            update_policy=autoscaling.UpdatePolicy.rolling_update(
                min_instances_in_service=min_instances if max_instances > min_instances else 0
            ),
            group_metrics=[autoscaling.GroupMetrics.all()],
        )
        # The group spans the AZs of its subnets; the AZs are said on the group as well, which is
        # what Control Tower checks (CT.AUTOSCALING.PR.1).
        self.auto_scaling_group.node.default_child.availability_zones = availability_zones(
            vpc, instance_subnets
        )
        # User data mounts EFS at boot: no instance before the mount targets exist.
        self.auto_scaling_group.node.add_dependency(self.file_system.mount_targets_available)
        acknowledge(
            self.auto_scaling_group,
            "AwsSolutions-AS3",
            "Scaling activity of this group is recorded in its activity history and all group "
            "metrics are published to CloudWatch; a notification topic nobody subscribes to adds "
            "nothing.",
        )
        # The surge the offload removes is CPU-bound (TLS-less HTTP + NFS reads on small
        # instances), so CPU is the signal that tracks it.
        self.auto_scaling_group.scale_on_cpu_utilization(
            "CpuTarget", target_utilization_percent=cpu_target_percent
        )

        # -- routing ----------------------------------------------------------------------------
        self.target_group = elbv2.ApplicationTargetGroup(
            self,
            "Targets",
            vpc=vpc,
            port=80,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.auto_scaling_group],
            deregistration_delay=cdk.Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                path=HEALTH_CHECK_PATH,
                healthy_http_codes="200",
                interval=cdk.Duration.seconds(15),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )
        forward = elbv2.ListenerAction.forward([self.target_group])
        self.listener = self.load_balancer.add_listener(
            "Http",
            port=80,
            protocol=elbv2.ApplicationProtocol.HTTP,
            open=False,  # ingress is exactly what the security group above says
            default_action=(
                elbv2.ListenerAction.fixed_response(
                    403, content_type="text/plain", message_body="Forbidden"
                )
                if origin_lock
                else forward
            ),
        )
        self.origin_verify_secret: secretsmanager.Secret | None = None
        if origin_lock:
            self.origin_verify_secret = secretsmanager.Secret(
                self,
                "OriginVerifySecret",
                secret_name=origin_lock.secret_name,
                description=(
                    "Value CloudFront sends in X-Origin-Verify; the update server's listener "
                    "requires it"
                ),
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    exclude_punctuation=True, password_length=32
                ),
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            acknowledge(
                self.origin_verify_secret,
                "AwsSolutions-SMG4",
                "This shared origin-verify value is copied into the listener rule and the "
                "CloudFront "
                "origin when CloudFormation deploys them; rotation has to update both in order, "
                "which "
                "docs/update-offload.md describes as an operator step instead of a rotation "
                "Lambda.",
            )
            self.listener.add_action(
                "FromCloudFront",
                priority=1,
                conditions=[
                    elbv2.ListenerCondition.http_header(
                        ORIGIN_VERIFY_HEADER,
                        [self.origin_verify_secret.secret_value.unsafe_unwrap()],
                    )
                ],
                action=forward,
            )

    def _user_data(self) -> ec2.UserData:
        """Install Apache and the EFS mount helper, mount EFS over TLS, serve it under /updates/."""
        user_data = ec2.UserData.for_linux()
        updates = f"{MOUNT_POINT}/{UPDATES_PREFIX}"
        sample = f"{updates}/{SAMPLE_VERSION}"
        user_data.add_commands(
            "set -euo pipefail",
            "dnf install -y httpd amazon-efs-utils",
            f"mkdir -p {MOUNT_POINT}",
            # tls: encryption in transit (the file system policy denies anything else);
            # iam: the instance role authorises the mount; _netdev: wait for the network at boot.
            f"echo '{self._file_system_id}:/ {MOUNT_POINT} efs _netdev,tls,iam 0 0' >> /etc/fstab",
            f"mount {MOUNT_POINT}",
            f"mkdir -p {updates}",
            # First instance to boot seeds a sample release; mkdir is atomic on NFS, so exactly one
            # of several instances booting together does it.
            f"if mkdir {sample} 2>/dev/null; then",
            "  work=$(mktemp -d)",
            f"  echo 'Sample update {SAMPLE_VERSION}: replace with your own release.' > "
            '"$work/README"',
            f'  tar -C "$work" -czf {sample}/app-{SAMPLE_VERSION}.tar.gz README',
            f"  sum=$(sha256sum {sample}/app-{SAMPLE_VERSION}.tar.gz | cut -d' ' -f1)",
            f"  size=$(stat -c %s {sample}/app-{SAMPLE_VERSION}.tar.gz)",
            f'  printf \'{{"version": "%s", "url": "%s", "sha256": "%s", "size": %s}}\\n\' '
            f"'{SAMPLE_VERSION}' '/{UPDATES_PREFIX}/{SAMPLE_VERSION}/app-{SAMPLE_VERSION}.tar.gz' "
            f'"$sum" "$size" > {updates}/latest.json.tmp',
            # Rename is atomic: a client never reads a half-written manifest.
            f"  mv {updates}/latest.json.tmp {updates}/latest.json",
            '  rm -rf "$work"',
            "fi",
            "cat > /etc/httpd/conf.d/updates.conf <<'CONF'",
            "ServerTokens Prod",
            "ServerSignature Off",
            f"Alias /{UPDATES_PREFIX}/ {updates}/",
            f"<Directory {updates}>",
            "    Options None",
            "    AllowOverride None",
            "    Require all granted",
            "</Directory>",
            "CONF",
            "rm -f /etc/httpd/conf.d/welcome.conf",
            # Written only after the mount succeeded (set -e): an instance without its files
            # never turns healthy and the group replaces it.
            f"echo ok > /var/www/html{HEALTH_CHECK_PATH}",
            "systemctl enable --now httpd",
        )
        return user_data

    @property
    def _file_system_id(self) -> str:
        return self.file_system.file_system_id

    @property
    def dns_name(self) -> str:
        return self.load_balancer.load_balancer_dns_name
