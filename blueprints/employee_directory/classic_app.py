"""ClassicApp: the classic tier's application as an S3 asset, and the user data that installs and
starts it on an instance with no internet route.

The asset is built at synth, without Docker: the app (classic_server/), the directory's shared
code (lambda_src/employee_api: the routes, logic and data access the Lambda functions run), the
handler_kit package, the site's files, and the app's dependencies as wheels for Python 3.12 on
arm64 in vendor/ (house/bundling.py's pip bundler). At boot the instance

    1. installs python3.12 (and, with the logs endpoint, the CloudWatch agent) with dnf: Amazon
       Linux 2023's repositories are S3 buckets of the region, reached through the S3 gateway
       endpoint, whose policy admits them (al2023-repos-<region>-de612dc2);
    2. copies the asset from the CDK asset bucket through the same endpoint, retrying while the
       instance profile's permissions propagate;
    3. writes the app's environment (the same variables the Lambda functions get) and a
       hardened systemd unit (own user, read-only system, no new privileges), and starts it;
    4. with a log group: ships the app's log to it with the CloudWatch agent (logs endpoint).

A new asset (any change to the code, the site or the pins) changes the user data, hence the
launch template, and the Auto Scaling group replaces its instances (patterns/compute/web_tier).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from blueprints.employee_directory.contract import SOURCE
from house.bundling import LAMBDA_SRC, install_dependencies

HERE = Path(__file__).resolve().parent
SERVER = HERE / "classic_server"
SITE = HERE / "site"
HANDLER_KIT = LAMBDA_SRC / "layers" / "handler_kit" / "handler_kit"
PYTHON = "3.12"
APP_DIR = "/opt/employee-directory"
APP_LOG = "/var/log/employee-directory/app.log"
APP_PORT = 8080
APP_USER = "directory"
UNIT = "employee-directory"
# Amazon Linux 2023's package repositories: one S3 bucket per region (same suffix everywhere).
AL2023_REPOSITORIES = "al2023-repos-{region}-de612dc2"
_SKIP = {"__pycache__", "requirements.txt"}


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not set(p.relative_to(folder).parts) & _SKIP and p.suffix != ".pyc"
    )


# (source folder, where it goes in the bundle): the app's and the shared modules at the top, as
# in a Lambda asset (`import routes`), then the handler_kit package and the site.
PARTS = ((SERVER, ""), (SOURCE, ""), (HANDLER_KIT, "handler_kit"), (SITE, "site"))


def fingerprint() -> str:
    digest = hashlib.sha256(f"python{PYTHON}".encode())
    for folder, target in PARTS:
        for path in _files(folder):
            digest.update(f"{target}/{path.relative_to(folder)}".encode())
            digest.update(path.read_bytes())
    digest.update((SERVER / "requirements.txt").read_bytes())
    return digest.hexdigest()


@jsii.implements(cdk.ILocalBundling)
class _AppBundler:
    def try_bundle(self, output_dir: str, _options=None, **_kwargs) -> bool:
        out = Path(output_dir)
        for folder, target in PARTS:
            for path in _files(folder):
                destination = out / target / path.relative_to(folder)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)
        wheels = install_dependencies(SERVER / "requirements.txt", python_version=PYTHON)
        shutil.copytree(wheels, out / "vendor", dirs_exist_ok=True)
        return True


class ClassicApp(Construct):
    """Attributes: asset, user_data, environment (what the app is started with)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment: dict[str, str],
        log_group: logs.ILogGroup | None,
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.asset = s3_assets.Asset(
            self,
            "Code",
            path=str(SERVER),
            asset_hash_type=cdk.AssetHashType.CUSTOM,
            asset_hash=fingerprint(),
            bundling=cdk.BundlingOptions(
                image=cdk.DockerImage.from_registry(
                    f"public.ecr.aws/docker/library/python:{PYTHON}"
                ),
                local=_AppBundler(),
            ),
        )
        self.log_group = log_group
        self.environment = {
            **environment,
            "POWERTOOLS_SERVICE_NAME": "employee-directory-classic",
            "POWERTOOLS_METRICS_NAMESPACE": stack.stack_name,
            # No X-Ray daemon and no X-Ray endpoint on these instances.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_DEFAULT_REGION": stack.region,
            "AWS_REGION": stack.region,
            "SITE_DIR": f"{APP_DIR}/site",
            "APP_PORT": str(APP_PORT),
        }
        self.user_data = ec2.UserData.for_linux()
        self.user_data.add_commands(*self._commands(stack))

    def _commands(self, stack: cdk.Stack) -> list[str]:
        packages = f"python{PYTHON}" + (" amazon-cloudwatch-agent" if self.log_group else "")
        archive = "/tmp/employee-directory.zip"
        source = f"s3://{self.asset.s3_bucket_name}/{self.asset.s3_object_key}"
        commands = [
            "set -euo pipefail",
            f"dnf install -y --setopt=retries=10 {packages}",
            # The instance profile's policy can take a few seconds to apply to a new instance.
            f"for attempt in $(seq 1 30); do aws s3 cp --only-show-errors --region {stack.region} "
            f"'{source}' {archive} && break; [ $attempt = 30 ] && exit 1; sleep 10; done",
            f"install -d -m 0755 {APP_DIR}",
            f"python{PYTHON} -m zipfile -e {archive} {APP_DIR}",
            f"rm -f {archive}",
            f"cat > {APP_DIR}/environment.json <<'JSON'",
            stack.to_json_string(self.environment),
            "JSON",
            f"id {APP_USER} >/dev/null 2>&1 || useradd --system --no-create-home "
            f"--shell /sbin/nologin {APP_USER}",
            f"install -d -o {APP_USER} -g {APP_USER} -m 0750 {Path(APP_LOG).parent}",
            f"cat > /etc/systemd/system/{UNIT}.service <<'UNIT'",
            "[Unit]",
            "Description=Employee directory (classic app)",
            "After=network-online.target",
            "Wants=network-online.target",
            "[Service]",
            f"User={APP_USER}",
            f"Group={APP_USER}",
            f"WorkingDirectory={APP_DIR}",
            f"ExecStart=/usr/bin/python{PYTHON} {APP_DIR}/serve.py {APP_DIR}/environment.json",
            f"StandardOutput=append:{APP_LOG}",
            "StandardError=inherit",
            "Restart=always",
            "RestartSec=2",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateTmp=yes",
            f"ReadWritePaths={Path(APP_LOG).parent}",
            "[Install]",
            "WantedBy=multi-user.target",
            "UNIT",
            f"cat > /etc/logrotate.d/{UNIT} <<'ROTATE'",
            f"{APP_LOG} {{",
            "  daily",
            "  rotate 7",
            "  compress",
            "  missingok",
            "  copytruncate",
            "}",
            "ROTATE",
            "systemctl daemon-reload",
            f"systemctl enable --now {UNIT}",
        ]
        if self.log_group is not None:
            agent = "/opt/aws/amazon-cloudwatch-agent"
            config = {
                "logs": {
                    "logs_collected": {
                        "files": {
                            "collect_list": [
                                {
                                    "file_path": APP_LOG,
                                    "log_group_name": self.log_group.log_group_name,
                                    "log_stream_name": "{instance_id}",
                                }
                            ]
                        }
                    }
                }
            }
            commands += [
                f"cat > {agent}/etc/{UNIT}.json <<'JSON'",
                stack.to_json_string(config),
                "JSON",
                f"{agent}/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s "
                f"-c file:{agent}/etc/{UNIT}.json",
            ]
        return commands

    def grant(self, role: iam.IRole) -> None:
        """The instance may read this asset's one object, and write the app's log group."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[self.asset.bucket.arn_for_objects(self.asset.s3_object_key)],
            )
        )
        if self.log_group is not None:
            self.log_group.grant_write(role)

    def repository_objects(self) -> list[str]:
        """The S3 objects the instance reads at boot: the asset and the dnf repositories."""
        stack = cdk.Stack.of(self)
        repositories = AL2023_REPOSITORIES.format(region=stack.region)
        return [
            self.asset.bucket.arn_for_objects(self.asset.s3_object_key),
            f"arn:{stack.partition}:s3:::{repositories}/*",
        ]
