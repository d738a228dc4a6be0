"""Grant mutations: is every grant of every function and task role needed by a path we drive?

    .venv/bin/python benchmarks/grant_mutations.py [--blueprints my-blog,neptune-graph]
                                                   [--stages dev,prod] [--markdown FILE]

For every function (and ECS task / execution role, and each role those tests run as: the DAX
cluster's, the state machine's, the rules'), and every action of every Allow statement of its
role's policies, this removes that one action from the template, re-runs that function's wiring
tests (tests/<blueprint>/test_wiring.py) under IAM enforcement (tests/support/iam_enforcement.py)
and records whether a test failed, which one, and whether IAM refused the call (AccessDenied,
with the refused action) or a template assertion in the test caught the change.

How: one pytest session (one synth per stage, as `make test`), with a plugin that runs each
wiring test once as is (it must pass), notes which roles the test ran code as, then re-runs the
same test once per grant of those roles with the grant removed from the stack's template
(tests/support/grant_mutation.py), keeping the session's synthesized assemblies between runs.
The tests named `test_without_*` remove a grant themselves and are left out.

A grant no test fails without is listed as "not exercised" with the reason (REASONS below:
deploy-time custom resources and builds, what the ECS agent, EFS, Step Functions and DAX do
outside any request path). Our own constructs grant exactly the actions their code calls, so
there is no "CDK grant bundle wider than the calls" reason left: a grant that needs one is
replaced by the actions the code calls instead (`table.grant(fn, "dynamodb:GetItem", ...)`).
Exits 1 if a grant that the table says is needed by a handler is not detected (a REASON missing),
so a new unneeded grant is explained or removed. Takes a few minutes: run on demand, not in CI.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import fnmatch
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

BLUEPRINTS = {
    "my-blog": "my_blog",
    "my-todo-list": "my_todo_list",
    "neptune-graph": "neptune_graph",
    "fargate-service": "fargate_service",
    "update-offload": "update_offload",
}

# Why a grant no driven path needs is there: (role's construct path glob, action glob, reason).
REASONS = [
    ("*Custom::*", "*", "CDK custom-resource provider: runs only during a deploy"),
    (
        "*BucketNotificationsHandler*",
        "*",
        "CDK custom-resource provider: runs only during a deploy",
    ),
    (
        "*AWS679f53fac002430cb0da5b7982bd2287*",
        "*",
        "CDK's AwsCustomResource provider (a deploy-time lookup such as CloudFront's "
        "origin-facing prefix list): runs only during a deploy",
    ),
    ("*DeployTimeBuild*", "*", "deploy-time image build (CodeBuild): runs only during a deploy"),
    (
        "*ContainerImageBuild*",
        "*",
        "deploy-time image build (CodeBuild): runs only during a deploy",
    ),
    (
        "*Cache*ServiceRole",
        "dynamodb:DescribeTable",
        "DAX reads a table's key schema with DescribeTable when it starts serving the table, "
        "not on a request path (the DAX stand-in does not model the cluster's start)",
    ),
    (
        "*ExecutionRole*",
        "ecr:*",
        "the ECS agent pulls the image with the execution role; no "
        'image runs here (moto authorizes ECR against "*" only)',
    ),
    (
        "*",
        "elasticfilesystem:Client*",
        "authorized by EFS at mount time (IAM + the access-point "
        "condition), outside any API: asserted on the template "
        "(test_the_web_task_cannot_write_shared_storage)",
    ),
    (
        "*StagingLoadRole*",
        "*",
        "assumed by the Neptune cluster for a bulk load: the loader "
        "itself is a Neptune server-side feature (Stubber here)",
    ),
    (
        "*Workflow/Role*",
        "xray:*",
        "Step Functions sends the state machine's own X-Ray trace (tracing_enabled) with these; "
        "moto runs no Step Functions tracing",
    ),
    (
        "*TaskRole*",
        "ssmmessages:*",
        "ECS Exec (execute_command, on in dev): the SSM agent in the "
        "container opens its channels with the task role; no exec "
        "session runs here",
    ),
    (
        "*TaskRole*",
        "logs:*",
        "ECS Exec session logging (execute_command, on in dev): written by "
        "the SSM agent with the task role; no exec session runs here",
    ),
    (
        "*",
        "dynamodb:ListStreams",
        "granted twice to a DynamoDB stream consumer on a TableV2: aws-cdk-lib's stream grant "
        "names the stream ARN, which IAM never matches for ListStreams (no resource-level "
        "permissions), and patterns/events/stream_consumer.py adds it on '*'; moto matches the "
        "ARN one too, so removing either passes here (the '*' one is asserted on the template: "
        "tests/my_blog/test_stack.py)",
    ),
    (
        "*WelcomeEmail*",
        "kms:DescribeKey",
        "aws-cdk-lib's stream-read grant adds it beside kms:Decrypt for a table with a "
        "customer-managed key; none of our code describes the key, and Lambda's stream poller, "
        "which reads the stream with this role, is not modelled here",
    ),
    (
        "*Workflow/Role*",
        "logs:*",
        "Step Functions sets up the state machine's log delivery with "
        "these when it is created or updated: not a run-time call",
    ),
]

FUNCTION_TYPES = ("AWS::Lambda::Function",)
TABLE_HEADING = "\n## The table\n\n"


@dataclasses.dataclass
class Outcome:
    failed_tests: list[str] = dataclasses.field(default_factory=list)
    refused: set[str] = dataclasses.field(default_factory=set)
    steps: list[str] = dataclasses.field(default_factory=list)
    template_only: list[str] = dataclasses.field(default_factory=list)


class GrantMutations:
    """A pytest plugin: each wiring test, then once per grant of the roles it ran as."""

    def __init__(self) -> None:
        self.outcomes: dict[tuple, Outcome] = collections.defaultdict(Outcome)
        self.exercised_roles: set[tuple[str, str]] = set()  # (stack name, role id)
        # (stack name, id of the template) -> (stack id, template): a stack can have variants
        # (MyBlog with and without the welcome email), each with its own roles
        self.templates: dict[tuple[str, int], tuple[str, dict]] = {}
        self.baseline_failures: list[str] = []
        self.runs = 0

    def pytest_runtest_protocol(self, item, nextitem):
        from _pytest.runner import runtestprotocol

        from tests.support import grant_mutation
        from tests.support.iam_enforcement import refusals

        item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        keep = item.parent  # keeps the module's and session's fixtures (the synths) between runs
        grant_mutation.roles_used.clear()
        grant_mutation.templates_seen.clear()
        reports = runtestprotocol(item, nextitem=keep, log=False)
        self.runs += 1
        for report in reports:
            item.ihook.pytest_runtest_logreport(report=report)
        if any(r.failed for r in reports):
            self.baseline_failures.append(item.nodeid)
        else:
            used = set(grant_mutation.roles_used)
            seen = dict(grant_mutation.templates_seen)
            self.templates.update(
                {
                    (name, id(template)): (stack_id, template)
                    for name, (stack_id, template) in seen.items()
                }
            )
            by_id = {stack_id: (name, template) for name, (stack_id, template) in seen.items()}
            for stack_id, role in sorted(used):
                name, template = by_id[stack_id]
                self.exercised_roles.add((name, role))
                for mutation in grant_mutation.grants_of(template, stack_id, role):
                    with grant_mutation.active(mutation), refusals() as refused:
                        runs = runtestprotocol(item, nextitem=keep, log=False)
                    self.runs += 1
                    key = (name, *dataclasses.astuple(mutation)[1:])
                    outcome = self.outcomes[key]
                    failed = [r for r in runs if r.failed]
                    if failed:
                        test = item.nodeid.split("::", 1)[1]
                        outcome.failed_tests.append(test)
                        actions = {r.action for r in refused}
                        outcome.refused |= actions
                        crash = getattr(failed[0].longrepr, "reprcrash", None)
                        message = (crash.message if crash else str(failed[0].longrepr)).splitlines()
                        step = next(
                            (
                                line
                                for line in str(failed[0].longrepr).splitlines()
                                if "Lambda service step" in line
                            ),
                            "",
                        )
                        outcome.steps.append(step.strip() or (message[0][:100] if message else ""))
                        if not actions:
                            outcome.template_only.append(test)
        item.session._setupstate.teardown_exact(nextitem)
        item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True


def role_paths(template: dict) -> dict[str, str]:
    return {
        lid: r.get("Metadata", {}).get("aws:cdk:path", lid).removesuffix("/Resource")
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::IAM::Role"
    }


def runners(template: dict) -> dict[str, list[str]]:
    """Role id -> what runs as it: functions, ECS tasks (task and execution roles)."""
    found = collections.defaultdict(list)
    for lid, r in template["Resources"].items():
        path = (
            r.get("Metadata", {})
            .get("aws:cdk:path", lid)
            .split("/", 1)[-1]
            .removesuffix("/Resource")
        )
        props = r.get("Properties", {})
        if r["Type"] in FUNCTION_TYPES and isinstance(props.get("Role"), dict):
            found[props["Role"]["Fn::GetAtt"][0]].append(f"function {path}")
        if r["Type"] == "AWS::ECS::TaskDefinition":
            for kind, field in (("task", "TaskRoleArn"), ("execution", "ExecutionRoleArn")):
                if isinstance(props.get(field), dict):
                    found[props[field]["Fn::GetAtt"][0]].append(f"{kind} role of {path}")
    return found


def reason_for(role_path: str, action: str) -> str | None:
    for path_glob, action_glob, reason in REASONS:
        if fnmatch.fnmatchcase(role_path, path_glob) and fnmatch.fnmatchcase(action, action_glob):
            return reason
    return None


def table(plugin: GrantMutations) -> tuple[list[list[str]], list[str]]:
    from tests.support import grant_mutation

    rows, unexplained, done = [], [], set()
    for (stack_name, _), (stack_id, template) in sorted(
        plugin.templates.items(), key=lambda item: item[0][0]
    ):
        paths = role_paths(template)
        runs_as = runners(template)
        roles = sorted(
            (set(runs_as) | {r for n, r in plugin.exercised_roles if n == stack_name}) & set(paths)
        )
        for role in roles:
            who = ", ".join(runs_as.get(role, [])) or f"role {paths[role].split('/', 1)[-1]}"
            for mutation in grant_mutation.grants_of(template, stack_id, role):
                key = (stack_name, *dataclasses.astuple(mutation)[1:])
                if key in done:
                    continue
                done.add(key)
                outcome = plugin.outcomes.get(key)
                if outcome and outcome.failed_tests:
                    tests = sorted(set(outcome.failed_tests))
                    how = (
                        f"AccessDenied on {', '.join(sorted(outcome.refused))}"
                        if outcome.refused
                        else "template assertion"
                    )
                    step = next(
                        (s for s in outcome.steps if s.startswith("Lambda service step")), ""
                    )
                    verdict = (
                        f"FAILS: {how} in {tests[0]}"
                        + (f" (+{len(tests) - 1} more)" if len(tests) > 1 else "")
                        + (f" [{step.split(' as ')[0]}]" if step else "")
                    )
                else:
                    exercised = (stack_name, role) in plugin.exercised_roles
                    reason = reason_for(paths[role], mutation.action)
                    if reason is None:
                        reason = (
                            "no driven path calls it"
                            if exercised
                            else "no wiring test runs code as this role"
                        )
                        unexplained.append(f"{stack_name} {who}: {mutation.action}")
                    verdict = f"not exercised: {reason}"
                rows.append([stack_name, who, mutation.action, verdict])
    return rows, unexplained


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blueprints", default=",".join(BLUEPRINTS))
    parser.add_argument("--stages", default="dev,prod")
    parser.add_argument(
        "--markdown",
        type=Path,
        help="also write the table here (Markdown; an existing page keeps its text above '## The "
        "table')",
    )
    args = parser.parse_args()
    chosen = [b.strip() for b in args.blueprints.split(",") if b.strip()]
    unknown = sorted(set(chosen) - set(BLUEPRINTS))
    if unknown:
        parser.error(f"unknown blueprint(s) {unknown}; allowed: {', '.join(BLUEPRINTS)}")
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]

    import pytest

    os.environ["BLUEPRINTS"] = ",".join(chosen)
    os.chdir(REPO_ROOT)
    plugin = GrantMutations()
    started = time.monotonic()
    files = [f"tests/{BLUEPRINTS[b]}/test_wiring.py" for b in chosen]
    selection = "not test_without_"
    if set(stages) != {"dev", "prod"}:
        selection += f" and ({' or '.join(stages)} or not (dev or prod))"
    code = pytest.main([*files, "-q", "-p", "no:cacheprovider", "-k", selection], plugins=[plugin])
    rows, unexplained = table(plugin)
    widths = [max(len(r[i]) for r in rows + [["stack", "runs as", "action", ""]]) for i in range(3)]
    print(
        f"\n{'stack'.ljust(widths[0])}  {'runs as'.ljust(widths[1])}  "
        f"{'action removed'.ljust(widths[2])}  -> result"
    )
    for stack, who, action, verdict in rows:
        print(
            f"{stack.ljust(widths[0])}  {who.ljust(widths[1])}  {action.ljust(widths[2])}  -> "
            f"{verdict}"
        )
    failing = sum(r[3].startswith("FAILS") for r in rows)
    print(
        f"\n{len(rows)} grants: {failing} needed by a driven path, {len(rows) - failing} not "
        f"exercised; {plugin.runs} test runs in {time.monotonic() - started:.0f} s"
    )
    if args.markdown:
        lines = ["| stack | runs as | action removed | result |", "|---|---|---|---|"]
        lines += [f"| {' | '.join(r)} |" for r in rows]
        # An existing page keeps everything up to its table heading (docs/least-privilege.md).
        kept = args.markdown.read_text() if args.markdown.is_file() else ""
        head = ""
        if TABLE_HEADING in kept:
            head = kept[: kept.index(TABLE_HEADING) + len(TABLE_HEADING)]
        args.markdown.write_text(head + "\n".join(lines) + "\n")
    if plugin.baseline_failures:
        print("wiring tests failing before any mutation:", *plugin.baseline_failures, sep="\n  ")
        return 1
    if unexplained:
        print("grants no test needs and REASONS does not explain:", *unexplained, sep="\n  ")
        return 1
    return 0 if code in (0, 5) else code


if __name__ == "__main__":
    sys.exit(main())
