"""Smoke tests: prove a deployed stack works, the way AWS Quick Starts are tested in real accounts.

    make smoke STACK=MyBlog STAGE=dev
    # = after `make synth STAGE=dev`, from the repository root:
    .venv/bin/python -m deployment.smoke MyBlog [--assembly cdk.out] [--timeout 300] \\
        [--skip http,...]

It reads the deployed stack's outputs (CloudFormation `DescribeStacks` on the stack's
CloudFormation name, e.g. `MyBlog-dev`, taken with its region from the synthesized assembly)
and exercises the blueprint's main path, one line per step:

    PASS site: 200 HTML with strict-transport-security, content-security-policy, ...
    FAIL thumbnail: no thumbnail: s3://myblog-dev-media.../thumbnails/smoke-1a2b3c4d5e6f.jpg:
         still not after 120.0 s (see RejectedUploadsQueueUrl and the thumbnail function's logs)
    SKIP thumbnail-via-site: needs thumbnail (that step failed)
    PASS cleanup:delete-test-photo: 1 object version(s) deleted, item PHOTO#smoke-1a2b3c4d5e6f
         deleted

Exit status 0 when nothing failed, 1 when a step failed (or the stack is not deployed and
complete), 2 for a usage error (unknown stack id, no assembly, no credentials or region). The
whole run is bounded by `--timeout` (default 300 s; every HTTP and AWS call has its own
timeout too, never longer than the time left), plus up to 60 s for the clean-ups, which always
run, also after a failure, Ctrl-C or a cancelled CI job (SIGTERM): whatever a smoke creates
(test users, identities, uploaded objects with all their versions, table items, graph vertices,
executions) carries the run's random id and is deleted at the end. It needs only your own
credentials (boto3's usual chain) and the standard library's HTTP client.

## What each smoke proves, and what it costs

Each step is listed with the capabilities it needs beyond plain AWS API calls, if any.

- `AccountBaseline`: `logs-role`, `api-gateway-account`. API Gateway's account settings name
  the `ApiGatewayCloudWatchRoleArn` role, which exists and trusts API Gateway (without it every
  REST API stage that logs is refused).
- `MyTodoList`: `user-files-bucket`; `api-refuses-anonymous` (http); `create-test-user`,
  `sign-in` (cognito-auth); `todo-create`, `todo-list`, `todo-read`, `todo-delete`
  (cognito-auth, http); `own-folder` (cognito-auth); `folder-isolation` (cognito-auth,
  iam-enforced). `ApiUrl` answers 401 without a token; a user made with the admin APIs (email
  verified, permanent random password, no email sent) signs in with SRP through
  `examples/todo_client.py`, enrolling TOTP when the pool requires MFA (prod); the API creates,
  lists, reads and deletes a to-do with the ID token; identity-pool credentials reach the
  user's own folder and not another identity's.
- `MyBlog`: `site`, `api-posts` (http); `upload-photo`; `thumbnail` (lambda-runs);
  `thumbnail-via-site` (lambda-runs, http). The site is HTML with the security headers (HSTS,
  CSP, nosniff, frame options, referrer policy) and `ApiBaseUrl` + `posts` is JSON through the
  same distribution; a generated PNG put under the upload prefix becomes a JPEG under the
  thumbnail prefix (S3 event on EventBridge, the rule, function, Pillow, permissions all work) and
  CloudFront serves it.
- `NeptuneGraph`: `small-load-write`, `small-load-read` (lambda-runs, neptune); `stage-csv`;
  `bulk-load` (sfn-runs, lambda-runs, neptune); `bulk-load-read` (lambda-runs, neptune). The
  small-load function writes and reads a vertex with openCypher; a one-line CSV in the staging
  bucket is bulk-loaded by the state machine (loader role, S3 gateway endpoint, KMS) and read
  back. The cluster is reachable only inside its VPC, so the smoke goes through the stack's
  functions, never to port 8182 (and needs no `neptunedata` client).
- `FargateService`: `queue`; `health`, `sample-app`, `job` (http). The job queue exists; the
  service answers its health check through the load balancer; with the sample app
  (`containers/web`) a job POSTed to `/jobs` is done by the queue worker (scaled out from zero
  on queue depth: allow a few minutes) and `GET /jobs/<id>` serves the right result. With
  another image, `job` is skipped, saying so.
- `EksCluster` (and `EksCluster<Region>` per extra region): `cluster`, `compute`;
  `access-entries`, `addons`, `pod-identity` (eks-control-plane); `shared-files`. Read back
  through the EKS API: the cluster is ACTIVE at the template's version, upgrade policy,
  authentication mode (access entries only), secrets encryption, log types and endpoint
  access; Auto Mode is on, or every node group / Fargate profile is ACTIVE; the admin role's
  access entry holds cluster admin (and Auto Mode's node role its EC2 entry); every add-on is
  ACTIVE and every Pod Identity association exists; the EFS file system is encrypted, TLS-only
  and has its access point. It never calls the Kubernetes API (prod's endpoint is private).
- `ContainerWebApp`: `health`, `sample-app`, `database` (http). ServiceUrl (ECS Express Mode's
  or App Runner's HTTPS URL) answers its health check; the sample app (`containers/web_app`)
  names the engine; with a database, `GET /visits` writes and counts a row in PostgreSQL
  through the injected credentials (polling while a paused dev database resumes, ~15 s).
  With `task_subnets: private` the load balancer is internal and the steps are skipped.
- `UpdateServer`: `targets`; `publish` (lambda-runs); `mirror`; `failed-publications`. The load
  balancer is internal (only CloudFront's VPC origin reaches it), so nothing is fetched from it:
  every registered instance is healthy (mounted the releases, serves /health); the release
  publisher publishes the newest upload of the releases bucket (when there is none yet, the
  sample `0.0.0-smoke/sample.txt` is uploaded first and stays the published release) and answers
  its manifest; the update mirror holds that file (its SHA-256 as in the manifest) and a
  manifest naming it; the failed-publications queue is empty.
- `UpdateOffload`: `manifest`, `download`, `download-again` (http). The manifest and the update
  download through the distribution (checksum as in the manifest); the second download reports
  whether it was an edge cache hit (`x-cache`). A miss is reported, not failed: another edge
  location may have answered.
- `ServerlessWebApp`, `ServerlessWebAppAmplify`: `page`, `config`, `api-refuses-anonymous`
  (http); `create-test-user`, `sign-in` (cognito-auth); `book`, `book-again`, `list`, `cancel`
  (cognito-auth, http). The page has the security headers, its config.json names the stack's own
  user pool, app client and sign-in pages, the API answers 401 JSON without a token; a user made
  with the admin APIs signs in with SRP, books a ride, gets the same request back for the same
  Idempotency-Key, lists it and cancels it (then GET is 404).
- `EmployeeDirectoryServerless`: `site`, `api-list` (http); with the HR admin sign-in
  `api-refuses-anonymous-write` (http), else `api-round-trip` (http, lambda-runs). The page
  and the list answer through the distribution with the security headers; an anonymous write
  is refused 401 with the JSON error body, or (no sign-in) an employee is created, read back
  and deleted through the API (deployment/smoke_employees.py).
- `EmployeeDirectoryClassic`: `instances`; `site`, `health`, `api-round-trip` (http, from a
  network in `allowed_cidrs`). The Auto Scaling group has an instance in service; the load
  balancer serves the page with the security headers and the health check, and an employee is
  created, read back and deleted through `/api/`.
- `MyBlogEdge`, `UpdateOffloadEdge`, `ServerlessWebAppEdge`, `EmployeeDirectoryServerlessEdge`
  (the us-east-1 companions of a prod stage elsewhere): `web-acl:<output>`,
  `certificate:<output>`. Each published web ACL exists with CLOUDFRONT scope; each
  certificate is ISSUED (pending means its DNS validation record is missing).
- `MyBlogFailover`, `ServerlessWebAppFailover`, `EmployeeDirectoryServerlessFailover` (the
  replica of a prod site bucket in `failover_region`): `replica:<output>`. Each published
  bucket is versioned and holds files, which only S3 replication from the site bucket puts
  there.

Capabilities (`--skip` takes these names): `http` (reaching a URL from the outputs over the
internet), `cognito-auth` (a real Cognito user pool), `lambda-runs` (Lambda code executing),
`sfn-runs` (Step Functions executions running), `neptune` (a running Neptune cluster),
`iam-enforced` (IAM denials being real). A skipped step prints `SKIP <step>: needs <capability>
(<why>)`; steps that build on a failed or skipped step are skipped naming it. A missing stack
output fails the step that reads it, naming the output, even when the step is skipped.

Cost: cents or less per run (unit prices: docgen/prices.toml). Requests: a few dozen S3,
DynamoDB, SQS, API Gateway, Lambda and CloudFront requests; the MyBlog thumbnail is one 1024 MB
Lambda run; the Neptune bulk load a handful of Step Functions transitions. `MyTodoList` signs
in one monthly active user per run: free within Cognito Essentials' monthly allowance (dev),
one Plus-plan active user per run (prod). What costs money is the deployed stack
itself while it exists (docs/<blueprint>.md), so deploy, smoke and destroy in one job.

Left behind, on purpose: the MyBlog "thumbnail ready" message in its SQS queue (expires with
the queue's retention; other consumers may be reading it), and a FargateService job the worker
had not picked up when the smoke gave up (taking it back would mean receiving other jobs too,
counting towards their maxReceiveCount); it is done at the next scale-out and its result
expires with the prune task. A bulk load stopped by the clean-up may still finish inside
Neptune (the loader job cannot be cancelled from outside the VPC); its vertex carries the
`SmokeTest` label and the run id.

## From GitHub Actions, with OIDC (no stored keys)

docs/deploying.md has the workflow (preflight, deploy, smoke, destroy per stack, with an OIDC
role). The job's role needs what `cdk deploy` needs (`sts:AssumeRole` on the bootstrap roles
`arn:aws:iam::<account>:role/cdk-hnb659fds-*`, which do the deploying) plus, for the smoke
itself, only this (physical names CloudFormation generates start with the stack name, which is
why the patterns below work; tighten them to the real names after a first deploy):

```json
{"Version": "2012-10-17", "Statement": [
 {"Sid": "ReadOutputs", "Effect": "Allow", "Action": "cloudformation:DescribeStacks",
  "Resource": "arn:aws:cloudformation:<region>:<account>:stack/*"},
 {"Sid": "AccountBaseline", "Effect": "Allow", "Action": ["iam:GetRole", "apigateway:GET"],
  "Resource": ["arn:aws:iam::<account>:role/AccountBaseline-*",
               "arn:aws:apigateway:<region>::/account"]},
 {"Sid": "TodoUsers", "Effect": "Allow", "Action": ["cognito-idp:AdminCreateUser",
  "cognito-idp:AdminSetUserPassword", "cognito-idp:AdminDeleteUser",
  "cognito-identity:DeleteIdentities"],
  "Resource": ["arn:aws:cognito-idp:<region>:<account>:userpool/*",
               "arn:aws:cognito-identity:<region>:<account>:identitypool/*"]},
 {"Sid": "Buckets", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
  "Resource": ["arn:aws:s3:::myblog-*", "arn:aws:s3:::neptunegraph-*"]},
 {"Sid": "UserFilesBucket", "Effect": "Allow", "Action": "s3:GetBucketLocation",
  "Resource": "arn:aws:s3:::mytodolist-*"},
 {"Sid": "SmokeObjects", "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject",
  "s3:DeleteObject", "s3:DeleteObjectVersion"],
  "Resource": ["arn:aws:s3:::myblog-*/uploads/smoke-*", "arn:aws:s3:::myblog-*/thumbnails/smoke-*",
               "arn:aws:s3:::neptunegraph-*/smoke/*"]},
 {"Sid": "StagingKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
  "Resource": "arn:aws:kms:<region>:<account>:key/*",
  "Condition": {"StringEquals": {"kms:ViaService": "s3.<region>.amazonaws.com"}}},
 {"Sid": "BlogPhotoItem", "Effect": "Allow", "Action": "dynamodb:DeleteItem",
  "Resource": "arn:aws:dynamodb:<region>:<account>:table/MyBlog-*"},
 {"Sid": "Graph", "Effect": "Allow", "Action": ["lambda:InvokeFunction", "states:StartExecution",
  "states:DescribeExecution", "states:StopExecution"],
  "Resource": ["arn:aws:lambda:<region>:<account>:function:NeptuneGraph-*",
               "arn:aws:states:<region>:<account>:stateMachine:*",
               "arn:aws:states:<region>:<account>:execution:*"]},
 {"Sid": "Jobs", "Effect": "Allow", "Action": "sqs:GetQueueAttributes",
  "Resource": "arn:aws:sqs:<region>:<account>:FargateService-*"},
 {"Sid": "Clusters", "Effect": "Allow", "Action": ["eks:Describe*", "eks:List*"],
  "Resource": ["arn:aws:eks:<region>:<account>:cluster/EksCluster*",
               "arn:aws:eks:<region>:<account>:*/EksCluster*/*"]},
 {"Sid": "ClusterFiles", "Effect": "Allow", "Action": ["elasticfilesystem:DescribeFileSystems",
  "elasticfilesystem:DescribeFileSystemPolicy", "elasticfilesystem:DescribeAccessPoints"],
  "Resource": "arn:aws:elasticfilesystem:<region>:<account>:file-system/*"}]}
```

The sign-in, the to-do API, the site, the ALB and the distribution need no IAM permission: they
are public endpoints, called with the test user's tokens or anonymously; the test user's own
folder is written and deleted with its identity-pool credentials. The policy deliberately grants
nothing on the MyTodoList user-files objects (listing or deleting versions there would reach
every user's files), so the one noncurrent version of the test file expires with the bucket's
lifecycle rule; in a throwaway dev account, add `s3:ListBucketVersions` and
`s3:DeleteObjectVersion` on `mytodolist-*` to have the clean-up remove it at once. MyBlog's
object patterns assume the default `uploads/` and `thumbnails/` prefixes. Prod's user pool runs
threat protection; if a CI runner's sign-in is judged risky, `sign-in` fails with the reason.

## From Python (the deploy rehearsal)

    results = run_smoke("MyBlog", outputs, boto3.Session(region_name="us-east-1"),
                        skip=LOCAL_ENDPOINT_SKIP, deadline=time.monotonic() + 120,
                        endpoint_url="http://localhost:4566", template=template)

`outputs` is OutputKey -> OutputValue, `deadline` a `time.monotonic()` value (a `time.time()`
one is converted), `template` the synthesized template (optional: MyBlog's prefixes, the
Fargate health path is read from it; defaults otherwise).
`LOCAL_ENDPOINT_SKIP` is every capability: what remains against moto is the plain AWS API
steps (the baseline role and account setting, buckets, the photo upload and its clean-up, the
CSV staging, the job queue) and the check that every output a step reads exists.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable, Collection, Mapping

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from deployment import (
    smoke_account,
    smoke_blog,
    smoke_container_app,
    smoke_edge,
    smoke_eks,
    smoke_employees,
    smoke_failover,
    smoke_fargate,
    smoke_microservices,
    smoke_neptune,
    smoke_todo,
    smoke_updates,
    smoke_webapp,
)
from deployment.assembly import Assembly, home_stack_id
from deployment.smoke_support import (
    CAPABILITIES,
    FAIL,
    LOCAL_ENDPOINT_SKIP,
    PASS,
    SKIP,
    Smoke,
    StepResult,
    describe_error,
    monotonic_deadline,
)

__all__ = [
    "CAPABILITIES",
    "LOCAL_ENDPOINT_SKIP",
    "SMOKES",
    "StepResult",
    "UnknownStack",
    "run_smoke",
    "stack_outputs",
    "main",
]

# Stack id (as in the assembly and `make deploy STACK=`) -> its smoke.
SMOKES: dict[str, Callable[[Smoke], None]] = {
    "AccountBaseline": smoke_account.smoke,
    "MyTodoList": smoke_todo.smoke,
    "MyBlog": smoke_blog.smoke,
    "NeptuneGraph": smoke_neptune.smoke,
    "FargateService": smoke_fargate.smoke,
    "ContainerWebApp": smoke_container_app.smoke,
    "UpdateServer": smoke_updates.server_smoke,
    "UpdateOffload": smoke_updates.offload_smoke,
    "MicroservicesBus": smoke_microservices.bus_smoke,
    "MicroservicesInventory": smoke_microservices.inventory_smoke,
    "MicroservicesStock": smoke_microservices.stock_smoke,
    "MicroservicesOrders": smoke_microservices.orders_smoke,
    "MicroservicesNotifications": smoke_microservices.notifications_smoke,
    # The us-east-1 companions of a prod stage elsewhere (house/edge.py).
    "MyBlogEdge": smoke_edge.smoke,
    "UpdateOffloadEdge": smoke_edge.smoke,
    "EksCluster": smoke_eks.smoke,
    "ServerlessWebApp": smoke_webapp.smoke,
    "ServerlessWebAppAmplify": smoke_webapp.smoke,
    "ServerlessWebAppEdge": smoke_edge.smoke,
    "EmployeeDirectoryClassic": smoke_employees.classic_smoke,
    "EmployeeDirectoryServerless": smoke_employees.serverless_smoke,
    "EmployeeDirectoryServerlessEdge": smoke_edge.smoke,
    # The replicas a prod site fails over to (patterns/web/static_site.py).
    "MyBlogFailover": smoke_failover.smoke,
    "ServerlessWebAppFailover": smoke_failover.smoke,
    "EmployeeDirectoryServerlessFailover": smoke_failover.smoke,
}
DEFAULT_TIMEOUT = 300.0
# A stack in any other state did not (fully) deploy what the template says.
DEPLOYED = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")


def smoke_for(stack_id: str) -> Callable[[Smoke], None] | None:
    """The smoke of `stack_id`, or of its home stack for a per-region copy (`EksClusterEuWest1`
    takes EksCluster's); None if none."""
    home = home_stack_id(stack_id, SMOKES)
    return SMOKES[home] if home else None


class UnknownStack(ValueError):
    def __init__(self, stack_id: str) -> None:
        super().__init__(f"no smoke test for stack {stack_id!r}; known stacks: {', '.join(SMOKES)}")


def run_smoke(
    stack_id: str,
    outputs: Mapping[str, str],
    session: boto3.Session,
    *,
    skip: Collection[str] = frozenset(),
    deadline: float,
    endpoint_url: str | None = None,
    template: Mapping | None = None,
    poll_interval: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    say: Callable[[str], None] | None = None,
) -> list[StepResult]:
    """Run the smoke of `stack_id` against a deployed stack with these outputs; every step's
    result, clean-ups included (named `cleanup:<what>`), in the order they ran.

    skip: capabilities the target cannot answer (see CAPABILITIES; LOCAL_ENDPOINT_SKIP for
    moto). deadline: time.monotonic() by which the steps must be done (clean-ups get 60 s more).
    endpoint_url: every AWS client goes there (a local endpoint). poll_interval, sleep, clock:
    the pace of waiting and the time it is measured by (tests make waiting fast, or skip it
    on a clock that advances only by what the smoke sleeps). say: where each result line goes
    (default: stdout).
    Raises UnknownStack for a stack id with no smoke, ValueError for an unknown capability.
    """
    run = smoke_for(stack_id)
    if run is None:
        raise UnknownStack(stack_id)
    smoke = Smoke(
        stack_id,
        outputs,
        session,
        skip=skip,
        deadline=monotonic_deadline(deadline),
        endpoint_url=endpoint_url,
        template=template,
        poll_interval=poll_interval,
        sleep=sleep,
        clock=clock,
        say=say,
    )
    try:
        run(smoke)
    finally:
        smoke.finish()
    return smoke.results


def stack_outputs(
    session: boto3.Session,
    stack_name: str,
    *,
    endpoint_url: str | None = None,
    timeout: float = 30.0,
) -> tuple[str, dict[str, str]]:
    """(stack status, OutputKey -> OutputValue) of a deployed stack."""
    from botocore.config import Config

    client = session.client(
        "cloudformation",
        endpoint_url=endpoint_url,
        config=Config(
            connect_timeout=min(10.0, timeout),
            read_timeout=timeout,
            retries={"mode": "standard", "max_attempts": 3},
        ),
    )
    stack = client.describe_stacks(StackName=stack_name)["Stacks"][0]
    return stack["StackStatus"], {
        o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])
    }


def _capabilities(text: str) -> frozenset[str]:
    names = frozenset(n.strip() for n in text.split(",") if n.strip())
    unknown = sorted(names - set(CAPABILITIES))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown capability {', '.join(unknown)}; known: {', '.join(CAPABILITIES)}"
        )
    return names


def _interrupt_on_sigterm() -> None:
    # A cancelled CI job gets SIGTERM; raising lets the clean-ups run before the exit.
    def interrupt(_signum, _frame):
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deployment.smoke",
        description="Exercise a deployed stack's main path; PASS/FAIL/SKIP per step.",
    )
    parser.add_argument("stack_id", metavar="STACK_ID", help=f"one of: {', '.join(SMOKES)}")
    parser.add_argument(
        "--assembly", default="cdk.out", help="the synthesized cloud assembly (default: cdk.out)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds for all steps (default {DEFAULT_TIMEOUT:.0f}; clean-ups "
        "get up to 60 s more)",
    )
    parser.add_argument(
        "--skip",
        type=_capabilities,
        default=frozenset(),
        metavar="CAPABILITY,...",
        help=f"capabilities to skip steps for: {', '.join(CAPABILITIES)}",
    )
    args = parser.parse_args(argv)
    if smoke_for(args.stack_id) is None:
        print(f"error: {UnknownStack(args.stack_id)}", file=sys.stderr)
        return 2
    if args.timeout <= 0:
        parser.error("--timeout must be a positive number of seconds")
    try:
        artifact = Assembly(args.assembly).stack(args.stack_id)
    except (FileNotFoundError, KeyError) as err:
        print(f"error: {err.args[0] if err.args else err}", file=sys.stderr)
        return 2
    session = boto3.Session(region_name=artifact.region)
    if not session.region_name:
        print(
            f"error: {artifact.stack_name} is environment-agnostic and no region is "
            "configured: set AWS_REGION (or AWS_DEFAULT_REGION)",
            file=sys.stderr,
        )
        return 2
    _interrupt_on_sigterm()
    started = time.monotonic()
    print(
        f"smoke {args.stack_id}: stack {artifact.stack_name} in {session.region_name}, "
        f"{args.timeout:.0f} s",
        flush=True,
    )
    try:
        status, outputs = stack_outputs(
            session, artifact.stack_name, timeout=min(30.0, args.timeout)
        )
    except (NoCredentialsError, NoRegionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as err:
        print(f"{FAIL} stack: {artifact.stack_name}: {describe_error(err)}", flush=True)
        return 1
    if status not in DEPLOYED:
        print(
            f"{FAIL} stack: {artifact.stack_name} is {status}, expected one of "
            f"{', '.join(DEPLOYED)}",
            flush=True,
        )
        return 1
    print(f"{PASS} stack: {artifact.stack_name} is {status} ({len(outputs)} outputs)", flush=True)
    try:
        results = run_smoke(
            args.stack_id,
            outputs,
            session,
            skip=args.skip,
            deadline=started + args.timeout,
            template=artifact.template,
        )
    except KeyboardInterrupt:
        print(f"{FAIL} smoke: interrupted (clean-ups ran)", flush=True)
        return 1
    counts = {status: sum(r.status == status for r in results) for status in (PASS, FAIL, SKIP)}
    print(
        f"{args.stack_id}: {counts[PASS]} passed, {counts[FAIL]} failed, {counts[SKIP]} "
        f"skipped in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    return 1 if counts[FAIL] else 0


if __name__ == "__main__":
    sys.exit(main())
