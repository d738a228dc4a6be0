"""The update server: an internal ALB in front of an Auto Scaling group of Graviton instances
that serve update files, read-only, from an encrypted EFS file system.

It stands in for the application a user already runs (and is useful on its own): clients fetch
`/updates/latest.json`, read the version, relative URL, SHA-256 and size of the newest release
from it, then download `/updates/<version>/<file>`. Every instance mounts the same EFS file
system, so a release published once is served by all of them.

Reading order follows a request: load balancer -> target group -> instances -> file system.

    CloudFront VPC origin --HTTPS :443 (origin certificate) or HTTP :80 (no domain)-->
      internal ALB (isolated subnets; admits only CloudFront's origin-facing addresses)
      --> target group (/health) --> instances (Apache) --NFS, TLS + IAM, read-only--> EFS

Nothing on the internet reaches the load balancer: it has private addresses only, and CloudFront
reaches it through a VPC origin (the UpdateOffload stack). The instances may not write to the
file system at all (IAM grants them ClientMount only, no ClientWrite or ClientRootAccess, and
they mount it `ro`): one compromised web server cannot change what every client downloads.
Releases are written by one other principal, the ReleasePublisher (release_publisher.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from house.defaults import LOAD_BALANCER_TLS_POLICY, file_system, load_balancer
from house.settings import keeps_data
from patterns.compute.web_tier import instance_group, instance_targets, session_manager_role

# Where the instances mount EFS, and the URL prefix the files are served under.
MOUNT_POINT = "/mnt/efs"
UPDATES_PREFIX = "updates"
MANIFEST_NAME = "latest.json"
HEALTH_CHECK_PATH = "/health"


class UpdateServer(Construct):
    """Internal ALB + ASG (Graviton, AL2023, IMDSv2, encrypted EBS, Session Manager) + EFS.

    `cloudfront_prefix_list_id`: the region's CloudFront origin-facing prefix list, the only
    source the load balancer admits. `origin_certificate`: a certificate (in this region) for
    the name CloudFront uses for the origin; with it the load balancer listens on HTTPS :443
    only (TLS 1.2+), without it on plain HTTP :80 (inside the VPC; the blueprint allows that in
    dev, or in prod only when told by name). `fallback_instance_types`: types the group may
    launch, in this order, when `instance_type` has no capacity (omitted: `instance_type` only).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        instance_subnets: ec2.SubnetSelection,
        load_balancer_subnets: ec2.SubnetSelection,
        file_system_subnets: ec2.SubnetSelection,
        access_logs: s3.IBucket,
        instance_type: str,
        min_instances: int,
        max_instances: int,
        cpu_target_percent: int,
        public_instance_ips: bool,
        removal_policy: cdk.RemovalPolicy,
        cloudfront_prefix_list_id: str,
        origin_certificate: acm.ICertificate | None = None,
        fallback_instance_types: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id)
        port = 443 if origin_certificate else 80

        # -- load balancer: internal, CloudFront's only way in ----------------------------------
        self.load_balancer_security_group = ec2.SecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            vpc=vpc,
            description="Update server load balancer (internal): CloudFront VPC origin only",
            allow_all_outbound=False,
        )
        self.load_balancer_security_group.add_ingress_rule(
            ec2.Peer.prefix_list(cloudfront_prefix_list_id),
            ec2.Port.tcp(port),
            f"{'HTTPS' if origin_certificate else 'HTTP'} from CloudFront's origin-facing servers "
            "(the VPC origin) only",
        )
        self.load_balancer = load_balancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            access_logs=access_logs,
            deletion_protection=keeps_data(removal_policy),
            security_group=self.load_balancer_security_group,
            internet_facing=False,
            vpc_subnets=load_balancer_subnets,
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

        self.role = session_manager_role(
            self, "Update server instances: Session Manager, and mounting the releases read-only"
        )
        # ClientMount only: IAM-authorised NFS clients without ClientWrite get a read-only mount,
        # and without ClientRootAccess root on the instance is squashed to nobody.
        self.file_system.grant_read(self.role)

        # The surge the offload removes is CPU-bound (HTTP + NFS reads on small instances), so
        # CPU is the signal the group scales on.
        self.launch_template, self.auto_scaling_group = instance_group(
            self,
            vpc=vpc,
            instance_subnets=instance_subnets,
            role=self.role,
            security_group=self.instance_security_group,
            user_data=self._user_data(),
            instance_type=instance_type,
            fallback_instance_types=fallback_instance_types,
            min_instances=min_instances,
            max_instances=max_instances,
            cpu_target_percent=cpu_target_percent,
            public_instance_ips=public_instance_ips,
        )
        # User data mounts EFS at boot: no instance before the mount targets exist.
        self.auto_scaling_group.node.add_dependency(self.file_system.mount_targets_available)

        # -- routing ----------------------------------------------------------------------------
        self.target_group = instance_targets(
            self, vpc, self.auto_scaling_group, 80, HEALTH_CHECK_PATH
        )
        forward = elbv2.ListenerAction.forward([self.target_group])
        # One listener: HTTPS when there is a certificate (no port 80 at all then), else HTTP.
        self.listener = (
            self.load_balancer.add_listener(
                "Https",
                port=443,
                protocol=elbv2.ApplicationProtocol.HTTPS,
                certificates=[origin_certificate],
                ssl_policy=LOAD_BALANCER_TLS_POLICY,
                open=False,  # ingress is exactly what the security group above says
                default_action=forward,
            )
            if origin_certificate
            else self.load_balancer.add_listener(
                "Http",
                port=80,
                protocol=elbv2.ApplicationProtocol.HTTP,
                open=False,
                default_action=forward,
            )
        )

    def _user_data(self) -> ec2.UserData:
        """Install Apache and the EFS mount helper, mount EFS read-only over TLS, serve it under
        /updates/."""
        user_data = ec2.UserData.for_linux()
        updates = f"{MOUNT_POINT}/{UPDATES_PREFIX}"
        user_data.add_commands(
            "set -euo pipefail",
            "dnf install -y httpd amazon-efs-utils",
            f"mkdir -p {MOUNT_POINT}",
            # tls: encryption in transit (the file system policy denies anything else);
            # iam: the instance role authorises the mount (read-only: ClientMount only);
            # ro: the kernel refuses writes before EFS would; _netdev: wait for the network.
            f"echo '{self._file_system_id}:/ {MOUNT_POINT} efs _netdev,tls,iam,ro 0 0' "
            ">> /etc/fstab",
            f"mount {MOUNT_POINT}",
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
