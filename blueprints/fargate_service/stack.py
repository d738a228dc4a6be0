"""ECS/Fargate service blueprint: a production container service with scaling, storage and tasks.

    internet -> ALB -> web service (Fargate, FARGATE/FARGATE_SPOT, scales on CPU/memory/requests)
                        | POST /jobs                      | GET /jobs/<id>, /uploads
                        v                                 |
                   SQS job queue (+DLQ) -> queue worker --+--> EFS (TLS + IAM, access point)
                                          (scales on depth)|
    upload bucket --S3 event--> EventBridge --> process-upload task --'
    EventBridge Scheduler --------------------> prune task ------------'
    any task STOPPED --> EventBridge --> SNS topic (KMS)
    containers/web --deploy--> CodeBuild --> ECR repository <-- (or your docker push)

Networking: dev runs tasks in public subnets with public IPs and security groups that admit
only the ALB (no NAT gateway, no interface endpoints); prod runs them in private subnets that
reach AWS through VPC endpoints. docs/fargate-service.md has the measured idle-cost difference.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from blueprints.fargate_service.settings import FargateServiceSettings
from house.compliance import acknowledge_wildcard_resources, add_serverless_checks
from house.defaults import (
    access_log_bucket,
    customer_key,
    dead_letter_queue,
    queue_with_dlq,
    secure_bucket,
)
from house.network import ISOLATED, PRIVATE_WITH_EGRESS, PUBLIC
from house.network import vpc as house_vpc
from house.settings import Instance, StageSettings
from patterns.containers.cluster import (
    ContainerCluster,
    Ec2Capacity,
    TaskEndpoints,
    app_container,
    s3_gateway_endpoint,
)
from patterns.containers.queue_worker import QueueWorker
from patterns.containers.registry import ContainerRegistry
from patterns.containers.tasks import (
    ObjectCreatedTask,
    RetryPolicy,
    ScheduledTask,
    StoppedTaskNotifications,
    operations_topic,
)
from patterns.containers.web_service import (
    SHARED_MOUNT_PATH,
    SharedStorage,
    WebDomain,
    WebScaling,
    WebService,
)

STACK_ID = "FargateService"
# The sample app `image: codebuild` and `image: docker` build (its web, worker, process-upload
# and prune commands).
SAMPLE_APP = Path(__file__).resolve().parents[2] / "containers" / "web"
SETTINGS = FargateServiceSettings
STACK_IDS = (STACK_ID,)
# The sample app CodeBuild (or your Docker) builds: one image, four roles (containers/web).
SAMPLE_APP = Path(__file__).resolve().parents[2] / "containers" / "web"


class FargateServiceStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        settings: FargateServiceSettings,
        **kwargs,
    ) -> None:
        super().__init__(
            scope,
            id,
            description="ECS/Fargate web service with queue worker, "
            "EFS and event-started tasks (aws-architecture-blueprints)",
            **kwargs,
        )
        removal = stage.removal_policy
        logs = dict(log_retention_days=stage.log_retention_days, removal_policy=removal)
        self._network(stage, settings)
        self.access_logs = access_log_bucket(self, "AccessLogs", removal_policy=removal)

        # One customer key for the notifications topic: EventBridge can only publish to an
        # encrypted topic whose key policy lets it (AWS-managed keys cannot).
        self.key = customer_key(
            self,
            "NotificationsKey",
            removal_policy=removal,
            description=f"Encrypts {self.stack_name} notifications",
        )
        # Where EventBridge parks events it could not deliver (RunTask/SNS failures).
        self.event_dead_letters = dead_letter_queue(
            self, "EventDeadLetters", removal_policy=removal
        )
        self.topic = operations_topic(
            self,
            "Notifications",
            key=self.key,
            email=settings.notification_email,
            dead_letter_queue=self.event_dead_letters,
        )

        # A readable, per-stage name: it appears in every docker push (fargateservice-dev/web).
        self.registry = ContainerRegistry(
            self,
            "Registry",
            image=settings.image,
            keep_images=settings.repository_keep_images,
            sample_app=SAMPLE_APP,
            removal_policy=removal,
            log_retention_days=stage.log_retention_days,
            repository_name=f"{self.stack_name.lower()}/web",
        )
        self.containers = ContainerCluster(
            self,
            "Containers",
            vpc=self.vpc,
            strategy=settings.strategy,
            execute_command=settings.execute_command,
            **logs,
            ec2_capacity=Ec2Capacity(
                settings.ec2_instance_type, settings.ec2_min_instances, settings.ec2_max_instances
            )
            if settings.ec2_capacity
            else None,
            ec2_subnets=self.task_subnets,
            notifications=self.topic,
            notifications_key=self.key,
        )
        cluster = self.containers.cluster

        self.storage = SharedStorage(
            self,
            "SharedStorage",
            vpc=self.vpc,
            subnets=ISOLATED,
            removal_policy=removal,
        )
        self.queue, self.queue_dead_letters = queue_with_dlq(
            self, "Jobs", removal_policy=removal, visibility_timeout=cdk.Duration.seconds(60)
        )
        self.uploads = secure_bucket(
            self,
            "Uploads",
            removal_policy=removal,
            access_logs=self.access_logs,
        )

        self._web(stage, settings, cluster)
        self._background(stage, settings, cluster)
        if self.endpoints:
            self.endpoints.allow_from(
                self.web.task_security_group,
                self.background_security_group,
                *(
                    [self.containers.instance_security_group]
                    if self.containers.ec2_provider
                    else []
                ),
            )
        self._outputs(settings)
        self._acknowledge(settings)
        add_serverless_checks(self)

    def _acknowledge(self, settings: FargateServiceSettings) -> None:
        """The findings that are the price of a feature, each on the one resource it is about."""
        if settings.execute_command:
            acknowledge_wildcard_resources(
                self.web_task.task_role,
                {
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                    "logs:DescribeLogGroups",
                },
                "ECS Exec (execute_command on, a dev default) needs the ssmmessages channel "
                "actions, which support no resource-level permissions, and "
                "logs:DescribeLogGroups, which lists the account's log groups; with "
                "execute_command off this statement is not created.",
            )
            acknowledge_wildcard_resources(
                self.web_task.task_role,
                {"logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"},
                "ECS Exec writes each session to its own new stream in the exec-session log "
                "group; the wildcard is the stream names inside that one group.",
            )

    # -- network -------------------------------------------------------------------------------

    def _network(self, stage: StageSettings, settings: FargateServiceSettings) -> None:
        private = settings.task_subnets == "private"
        # Public subnets always (the ALB lives there); NAT only when asked for.
        self.vpc = house_vpc(
            self,
            "Network",
            availability_zones=stage.availability_zones,
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
            public_subnets=True,
            nat_gateways=settings.nat_gateways,
        )
        if not private:
            self.task_subnets, self.assign_public_ip = PUBLIC, True
        else:
            self.task_subnets = PRIVATE_WITH_EGRESS if settings.nat_gateways else ISOLATED
            self.assign_public_ip = False
        self.s3_endpoint = s3_gateway_endpoint(self.vpc, [self.task_subnets])
        self.endpoints = (
            TaskEndpoints(
                self,
                "Endpoints",
                vpc=self.vpc,
                subnets=self.task_subnets,
                execute_command=settings.execute_command,
                ec2_agent=settings.ec2_capacity,
            )
            if private
            else None
        )

    # -- web -----------------------------------------------------------------------------------

    def _env(self, **extra: str) -> dict[str, str]:
        return {"AWS_DEFAULT_REGION": cdk.Aws.REGION, "SHARED_DIR": SHARED_MOUNT_PATH, **extra}

    def _web(
        self, stage: StageSettings, settings: FargateServiceSettings, cluster: ecs.ICluster
    ) -> None:
        task_definition, container = app_container(
            self,
            "Web",
            image=self.registry.image(settings.cpu_architecture),
            cpu=settings.cpu,
            memory_mib=settings.memory_mib,
            architecture=settings.architecture,
            environment=self._env(
                QUEUE_URL=self.queue.queue_url, PORT=str(settings.container_port)
            ),
            port=settings.container_port,
            # ECS Exec's agent needs a writable root filesystem: read-only only without exec.
            read_only_root_filesystem=self.registry.runs_our_app and not settings.execute_command,
            user=self.registry.app_user,
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
        )
        domain = (
            WebDomain(settings.domain_name, settings.hosted_zone_id, settings.hosted_zone_name)
            if settings.domain_name
            else None
        )
        self.web = WebService(
            self,
            "Web",
            cluster=cluster,
            vpc=self.vpc,
            task_definition=task_definition,
            container=container,
            container_port=settings.container_port,
            health_check_path=settings.health_check_path,
            task_subnets=self.task_subnets,
            assign_public_ip=self.assign_public_ip,
            strategy=settings.strategy,
            scaling=WebScaling(
                min_tasks=settings.min_tasks,
                max_tasks=settings.max_tasks,
                cpu_target_percent=settings.cpu_target_percent,
                memory_target_percent=settings.memory_target_percent,
                requests_per_target=settings.requests_per_target,
                scale_out_schedule=settings.scale_out_schedule,
                scale_in_schedule=settings.scale_in_schedule,
                scheduled_min_tasks=settings.scheduled_min_tasks,
                schedule_time_zone=settings.schedule_time_zone,
            ),
            min_healthy_percent=settings.min_healthy_percent,
            max_healthy_percent=settings.max_healthy_percent,
            execute_command=settings.execute_command,
            access_logs=self.access_logs,
            removal_policy=stage.removal_policy,
            domain=domain,
        )
        # The web tasks only read shared storage (results, upload summaries) and enqueue jobs.
        self.storage.mount(task_definition, container, self.web.task_security_group, read_only=True)
        # SendMessage only: the web app is given the queue URL (grant_send_messages would add
        # GetQueueAttributes and GetQueueUrl; the queue's key is SQS-managed, no KMS grant).
        self.queue.grant(task_definition.task_role, "sqs:SendMessage")
        self.web_task = task_definition

    # -- background: worker, event-started tasks, notifications ---------------------------------

    def _background(
        self, stage: StageSettings, settings: FargateServiceSettings, cluster: ecs.ICluster
    ) -> None:
        self.background_security_group = ec2.SecurityGroup(
            self,
            "BackgroundTaskSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Worker and event-started tasks: no inbound; HTTPS out to AWS APIs",
        )
        self.background_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "AWS APIs over HTTPS"
        )
        on_ec2 = settings.worker_capacity == "ec2"
        # Graviton instances run arm64 images; Fargate tasks run the configured architecture.
        worker_arch_name = "ARM64" if on_ec2 else settings.cpu_architecture
        worker_arch = getattr(ecs.CpuArchitecture, worker_arch_name)
        sizes = dict(
            cpu=settings.worker_cpu,
            memory_mib=settings.worker_memory_mib,
            read_only_root_filesystem=self.registry.runs_our_app,
            user=self.registry.app_user,
            log_retention_days=stage.log_retention_days,
            removal_policy=stage.removal_policy,
        )

        worker_task, worker_container = app_container(
            self,
            "Worker",
            image=self.registry.image(worker_arch_name),
            architecture=worker_arch,
            command=["worker"],
            environment=self._env(QUEUE_URL=self.queue.queue_url),
            compatibility=ecs.Compatibility.EC2 if on_ec2 else ecs.Compatibility.FARGATE,
            **sizes,
        )
        self.storage.mount(
            worker_task, worker_container, self.background_security_group, read_only=False
        )
        self.worker = QueueWorker(
            self,
            "Worker",
            cluster=cluster,
            task_definition=worker_task,
            queue=self.queue,
            task_subnets=self.task_subnets,
            assign_public_ip=self.assign_public_ip,
            security_group=self.background_security_group,
            min_tasks=settings.worker_min_tasks,
            max_tasks=settings.worker_max_tasks,
            strategy=None if on_ec2 else settings.strategy,
            ec2_provider=self.containers.ec2_provider if on_ec2 else None,
        )

        retry = RetryPolicy(
            attempts=settings.task_retry_attempts,
            max_event_age=cdk.Duration.hours(settings.task_max_event_age_hours),
            dead_letter_queue=self.event_dead_letters,
        )
        # Another image has no process-upload or prune command: every task EventBridge started
        # would exit at once and notify. The rule and schedule exist but start switched off.
        upload_task, upload_container = app_container(
            self,
            "ProcessUpload",
            image=self.registry.image(settings.cpu_architecture),
            architecture=settings.architecture,
            command=["process-upload"],
            environment=self._env(UPLOAD_BUCKET=self.uploads.bucket_name),
            **sizes,
        )
        self.storage.mount(
            upload_task, upload_container, self.background_security_group, read_only=False
        )
        self.upload_task = ObjectCreatedTask(
            self,
            "ProcessUploads",
            cluster=cluster,
            task_definition=upload_task,
            container=upload_container,
            bucket=self.uploads,
            task_subnets=self.task_subnets,
            assign_public_ip=self.assign_public_ip,
            security_group=self.background_security_group,
            strategy=settings.strategy,
            retry=retry,
            enabled=self.registry.runs_our_app,
        )

        prune_task, prune_container = app_container(
            self,
            "Prune",
            image=self.registry.image(settings.cpu_architecture),
            architecture=settings.architecture,
            command=["prune"],
            environment=self._env(RETENTION_DAYS=str(settings.shared_file_retention_days)),
            **sizes,
        )
        self.storage.mount(
            prune_task, prune_container, self.background_security_group, read_only=False
        )
        self.prune = ScheduledTask(
            self,
            "PruneSharedFiles",
            cluster=cluster,
            task_definition=prune_task,
            expression=settings.prune_schedule,
            time_zone=settings.schedule_time_zone,
            task_subnets=self.task_subnets,
            assign_public_ip=self.assign_public_ip,
            security_group=self.background_security_group,
            strategy=settings.strategy,
            retry=retry,
            enabled=self.registry.runs_our_app,
        )

        self.stopped_tasks = StoppedTaskNotifications(
            self, "StoppedTasks", cluster=cluster, topic=self.topic, retry=retry
        )

    # -- outputs --------------------------------------------------------------------------------

    def _outputs(self, settings: FargateServiceSettings) -> None:
        cdk.CfnOutput(
            self,
            "ServiceUrl",
            value=self.web.url,
            description="The web service behind the load balancer",
        )
        cdk.CfnOutput(self, "RepositoryUri", value=self.registry.repository.repository_uri)
        cdk.CfnOutput(
            self,
            "DockerPushCommands",
            value=self.registry.push_commands(
                "linux/arm64" if settings.cpu_architecture == "ARM64" else "linux/amd64"
            ),
            description="Build and push containers/web as v1 (run from the repo root), then "
            "deploy with -c fargate-service.image=repository:v1",
        )
        cdk.CfnOutput(self, "QueueUrl", value=self.queue.queue_url)
        cdk.CfnOutput(
            self,
            "UploadBucketName",
            value=self.uploads.bucket_name,
            description="Each object put here starts a process-upload task",
        )
        cdk.CfnOutput(self, "NotificationsTopicArn", value=self.topic.topic_arn)
        cdk.CfnOutput(self, "ClusterName", value=self.containers.cluster.cluster_name)
        if settings.execute_command:
            cdk.CfnOutput(
                self,
                "ExecCommand",
                description="A shell in a running web task (ECS Exec)",
                value=cdk.Fn.join(
                    "",
                    [
                        "aws ecs execute-command --cluster ",
                        self.containers.cluster.cluster_name,
                        " --container App --interactive --command /bin/sh --task $(aws ecs "
                        "list-tasks --cluster ",
                        self.containers.cluster.cluster_name,
                        " --service-name ",
                        self.web.service.service_name,
                        " --query 'taskArns[0]' --output text)",
                    ],
                ),
            )
        if self.containers.ec2_provider:
            cdk.CfnOutput(
                self,
                "Ec2CapacityProviderName",
                value=self.containers.ec2_provider.capacity_provider_name,
            )


def build(app: cdk.App, instance: Instance[FargateServiceSettings]) -> list[cdk.Stack]:
    (stack_id,) = instance.stack_ids(*STACK_IDS)
    return [
        FargateServiceStack(
            app,
            stack_id,
            stage=instance.stage,
            settings=instance.settings,
            stack_name=instance.stage.stack_name(stack_id),
            env=instance.stage.environment,
        )
    ]
