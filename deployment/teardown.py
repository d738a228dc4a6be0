"""`make destroy` runs this first: remove what Kubernetes created in AWS for a stack's EKS
clusters, so that `cdk destroy` does not hang on it.

    .venv/bin/python -m deployment.teardown EksCluster [--assembly cdk.out] [--dry-run]

A Service of type LoadBalancer or an Ingress makes a controller in the cluster (Auto Mode's, the
AWS Load Balancer Controller, the cloud provider's) create a load balancer, its target groups
and security groups. CloudFormation does not know them: when `cdk destroy` deletes the VPC, their
network interfaces keep the subnets alive and the delete stalls, then fails. Deleting the
Services and Ingresses with kubectl first is the clean way (docs/eks-cluster.md); this sweeps
what is left, found by the tags the controllers put on it:

    kubernetes.io/cluster/<cluster name>    (cloud provider: classic load balancers, groups)
    elbv2.k8s.aws/cluster = <cluster name>  (AWS Load Balancer Controller)
    eks:eks-cluster-name = <cluster name>   (EKS Auto Mode)

It deletes those load balancers (ELBv2 and classic), waits until they are gone, then their
target groups and security groups (a group still held by a network interface is retried until
the deadline). EBS volumes that dynamically provisioned claims left behind are listed, never
deleted: they may hold data. Stacks without an EKS cluster: nothing to do. Resources that belong
to a CloudFormation stack (tag aws:cloudformation:stack-name) are never touched.

AWS permissions: elasticloadbalancing:Describe*, DeleteLoadBalancer, DeleteTargetGroup,
ec2:DescribeSecurityGroups, DeleteSecurityGroup, DescribeVolumes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from deployment.assembly import Assembly, StackArtifact
from deployment.preflight_needs import literal, properties, resources

CLOUDFORMATION_TAG = "aws:cloudformation:stack-name"


def cluster_names(stack: StackArtifact, region: str) -> list[str]:
    pseudo = {"AWS::StackName": stack.stack_name, "AWS::Region": region}
    return [
        name
        for _, cluster in resources(stack.template, "AWS::EKS::Cluster")
        if (name := literal(properties(cluster).get("Name"), pseudo))
    ]


def made_for(tags: Iterable[dict], cluster: str) -> bool:
    """Whether these tags (Key/Value dicts) mark a resource a controller of `cluster` made."""
    found = {tag.get("Key"): tag.get("Value") for tag in tags}
    if CLOUDFORMATION_TAG in found:
        return False
    return (
        f"kubernetes.io/cluster/{cluster}" in found
        or found.get("elbv2.k8s.aws/cluster") == cluster
        or found.get("eks:eks-cluster-name") == cluster
    )


class Sweep:
    def __init__(
        self,
        session,
        region: str,
        *,
        dry_run: bool = False,
        timeout: float = 600.0,
        poll: float = 10.0,
        say: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.elbv2 = session.client("elbv2", region_name=region)
        self.elb = session.client("elb", region_name=region)
        self.ec2 = session.client("ec2", region_name=region)
        self.dry_run, self.poll, self.say, self.sleep = dry_run, poll, say, sleep
        self.deadline = time.monotonic() + timeout

    # -- finding ----------------------------------------------------------------------------

    def load_balancers(self, cluster: str) -> list[str]:
        arns = [
            lb["LoadBalancerArn"]
            for page in self.elbv2.get_paginator("describe_load_balancers").paginate()
            for lb in page["LoadBalancers"]
        ]
        return [arn for arn in arns if made_for(self._elbv2_tags(arn), cluster)]

    def classic_load_balancers(self, cluster: str) -> list[str]:
        names = [
            lb["LoadBalancerName"]
            for page in self.elb.get_paginator("describe_load_balancers").paginate()
            for lb in page["LoadBalancerDescriptions"]
        ]
        found = []
        for start in range(0, len(names), 20):  # DescribeTags takes 20 names at a time
            batch = names[start : start + 20]
            for description in self.elb.describe_tags(LoadBalancerNames=batch)["TagDescriptions"]:
                if made_for(description.get("Tags", []), cluster):
                    found.append(description["LoadBalancerName"])
        return found

    def target_groups(self, cluster: str) -> list[str]:
        arns = [
            group["TargetGroupArn"]
            for page in self.elbv2.get_paginator("describe_target_groups").paginate()
            for group in page["TargetGroups"]
        ]
        return [arn for arn in arns if made_for(self._elbv2_tags(arn), cluster)]

    def security_groups(self, cluster: str) -> list[str]:
        groups = [
            group
            for page in self.ec2.get_paginator("describe_security_groups").paginate()
            for group in page["SecurityGroups"]
        ]
        return [g["GroupId"] for g in groups if made_for(g.get("Tags", []), cluster)]

    def volumes(self, cluster: str) -> list[str]:
        volumes = [
            volume
            for page in self.ec2.get_paginator("describe_volumes").paginate(
                Filters=[{"Name": "status", "Values": ["available"]}]
            )
            for volume in page["Volumes"]
        ]
        return [v["VolumeId"] for v in volumes if made_for(v.get("Tags", []), cluster)]

    def _elbv2_tags(self, arn: str) -> list[dict]:
        descriptions = self.elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"]
        return descriptions[0].get("Tags", []) if descriptions else []

    # -- deleting ---------------------------------------------------------------------------

    def run(self, cluster: str) -> bool:
        """True when nothing Kubernetes made for `cluster` is left (volumes aside)."""
        balancers = self.load_balancers(cluster)
        classic = self.classic_load_balancers(cluster)
        for arn in balancers:
            self._do(
                f"delete load balancer {arn}", self.elbv2.delete_load_balancer, LoadBalancerArn=arn
            )
        for name in classic:
            self._do(
                f"delete classic load balancer {name}",
                self.elb.delete_load_balancer,
                LoadBalancerName=name,
            )
        if not self.dry_run and (balancers or classic):
            self._wait(
                "the load balancers to go",
                lambda: (
                    not self.load_balancers(cluster) and not self.classic_load_balancers(cluster)
                ),
            )
        for arn in self.target_groups(cluster):
            self._do(
                f"delete target group {arn}", self.elbv2.delete_target_group, TargetGroupArn=arn
            )
        clean = True
        for group in self.security_groups(cluster):
            clean &= self._delete_security_group(group)
        for volume in self.volumes(cluster):
            self.say(
                f"kept    EBS volume {volume} (left by a persistent volume claim; it may hold "
                f"data): aws ec2 delete-volume --volume-id {volume} once you are sure"
            )
        if not (balancers or classic) and clean:
            self.say(f"clean   nothing Kubernetes created for {cluster} is left")
        return clean

    def _delete_security_group(self, group: str) -> bool:
        while True:
            try:
                self._do(
                    f"delete security group {group}", self.ec2.delete_security_group, GroupId=group
                )
                return True
            except ClientError as error:
                if error.response["Error"]["Code"] != "DependencyViolation":
                    raise
                if time.monotonic() > self.deadline:
                    self.say(
                        f"left    security group {group}: still in use (a network interface "
                        "of a load balancer that is going away); run again in a few minutes"
                    )
                    return False
                self.sleep(self.poll)

    def _do(self, what: str, call: Callable, **params) -> None:
        if self.dry_run:
            self.say(f"would   {what}")
            return
        call(**params)
        self.say(f"done    {what}")

    def _wait(self, what: str, done: Callable[[], bool]) -> None:
        while not done():
            if time.monotonic() > self.deadline:
                raise TimeoutError(
                    f"waited for {what} until the deadline: a controller in the cluster may "
                    "be creating them again; delete the Services and Ingresses first"
                )
            self.sleep(self.poll)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployment.teardown",
        description="Delete the load balancers, target groups and security groups Kubernetes "
        "created for a stack's EKS clusters (run before cdk destroy).",
    )
    parser.add_argument("stack_id")
    parser.add_argument("--assembly", default="cdk.out")
    parser.add_argument("--dry-run", action="store_true", help="say what would go, delete nothing")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    try:
        stack = Assembly(args.assembly).stack(args.stack_id)
    except (FileNotFoundError, KeyError) as error:
        print(f"error: {error.args[0] if error.args else error}", file=sys.stderr)
        return 2
    if not list(resources(stack.template, "AWS::EKS::Cluster")):
        return 0  # nothing Kubernetes could have made
    session = boto3.Session(region_name=stack.region)
    region = session.region_name
    if not region:
        print("error: set AWS_REGION: the stack is environment-agnostic", file=sys.stderr)
        return 2
    sweep = Sweep(session, region, dry_run=args.dry_run, timeout=args.timeout)
    try:
        clean = all([sweep.run(cluster) for cluster in cluster_names(stack, region)])
    except (ClientError, BotoCoreError, TimeoutError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
