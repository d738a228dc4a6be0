"""AWS Control Tower proactive controls (deployment/controls.py) over every stack of every stage:
each failing control is a row of docs/compliance.md, each row still covers a failure, and proof
that the gate fails on resources that break a control and passes the house defaults."""

from __future__ import annotations

import json
import os
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from deployment import controls
from deployment.assembly import Assembly
from house.defaults import (
    access_log_bucket,
    customer_key,
    dead_letter_queue,
    encrypt_log_groups,
    log_group,
    queue_with_dlq,
    secure_bucket,
)
from house.operations import watch_failures
from tests.support.synth import Synthesized, cdk_json_context, starter_kit

# One cfn-guard run per assembly per test worker, whichever test asks first.
_FAILURES: dict[Path, list[controls.Failure]] = {}


def failures_of(assembly: Synthesized) -> list[controls.Failure]:
    if assembly.outdir not in _FAILURES:
        per_stack = controls.assembly_failures(Assembly(assembly.outdir))
        _FAILURES[assembly.outdir] = [f for failures in per_stack.values() for f in failures]
    return _FAILURES[assembly.outdir]


def explain(failures: list[controls.Failure]) -> str:
    return "\n".join(
        f"{failure}\n    fix: {controls.controls()[failure.control].fix}" for failure in failures
    )


def test_every_failing_control_is_documented(every_assembly):
    """The gate: a control that fails and that no row of docs/compliance.md covers."""
    rows = controls.documented_exceptions()
    found = controls.undocumented(failures_of(every_assembly), every_assembly.stage, rows)
    assert not found, (
        f"{len(found)} failing Control Tower controls in {every_assembly.outdir.name} are not in "
        "docs/compliance.md; fix each resource or add a row with the reason that holds for it:\n"
        + explain(found)
    )


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_blog_with_welcome_emails_documents_every_failing_control(
    variants_with_more_functions, stage
):
    """The resources only a non-default setting creates (MyBlog's welcome-email function)."""
    rows = controls.documented_exceptions()
    for assembly in variants_with_more_functions(stage):
        found = controls.undocumented(failures_of(assembly), stage, rows)
        assert not found, explain(found)


def test_every_documented_exception_still_fails(synth, prod_in_another_region):
    """A row that covers nothing any more was fixed (remove it) or names the wrong resource."""
    if os.environ.get("BLUEPRINTS") or starter_kit():
        pytest.skip("rows of the blueprints left out cover nothing here")
    failures = {
        "dev": failures_of(synth("dev")),
        "prod": failures_of(synth("prod")) + failures_of(prod_in_another_region),
    }
    unused = controls.unused_rows(failures, controls.documented_exceptions())
    assert not unused, "rows that cover no failing resource:\n" + "\n".join(map(str, unused))


def test_prod_documents_at_most_six_exceptions():
    """Issue 12's goal: prod passes every control that applies, but for six at most."""
    rows = controls.documented_exceptions()
    exceptions = [row for row in rows if "prod" in row.stages and not row.pending]
    assert len(exceptions) <= 6, "\n".join(map(str, exceptions))
    assert len({row.control for row in exceptions}) == len(exceptions), "one row per control"


# -- the table is read strictly ------------------------------------------------------------------

GOOD_ROW = (
    "| CT.SQS.PR.1 | dev | Probe | `Jobs` | exception | This queue is the probe's own dead "
    "letter queue, nothing behind it. |"
)
HEADER = "| Control | Stage | Stack | Resources | Status | Reason |\n|---|---|---|---|---|---|\n"


def table(tmp_path: Path, *rows: str) -> Path:
    doc = tmp_path / "compliance.md"
    doc.write_text("# Exceptions\n\n" + HEADER + "\n".join(rows) + "\n")
    return doc


def test_a_row_names_the_control_stage_stack_resources_status_and_reason(tmp_path):
    (row,) = controls.documented_exceptions(table(tmp_path, GOOD_ROW))
    assert (row.control, row.stages, row.stacks, row.resources, row.status) == (
        "CT.SQS.PR.1",
        ("dev",),
        ("Probe",),
        ("Jobs",),
        "exception",
    )
    failure = controls.Failure("Probe", "CT.SQS.PR.1", "Jobs", "Jobs1234")
    assert row.covers(failure, "dev")
    assert not row.covers(failure, "prod")
    assert not row.covers(controls.Failure("Probe", "CT.SQS.PR.2", "Jobs", "Jobs1234"), "dev")
    assert not row.covers(controls.Failure("Other", "CT.SQS.PR.1", "Jobs", "Jobs1234"), "dev")


@pytest.mark.parametrize(
    ("row", "complaint"),
    [
        (GOOD_ROW.replace("CT.SQS.PR.1", "CT.SQS.PR.99"), "not a Control Tower"),
        (GOOD_ROW.replace("| dev |", "| staging |"), "stage 'staging'"),
        (GOOD_ROW.replace("| Probe |", "| |"), "name the stacks"),
        (GOOD_ROW.replace("| exception |", "| later |"), "status 'later'"),
        (GOOD_ROW.replace("| exception |", "| pending: |"), "status 'pending:'"),
        (GOOD_ROW.replace("This queue is the probe's own dead letter", "Cost"), "reason"),
        (GOOD_ROW.replace(" `Jobs` |", ""), "5 cells"),
    ],
)
def test_a_malformed_row_is_an_error_naming_its_line(tmp_path, row, complaint):
    with pytest.raises(ValueError, match=complaint) as error:
        controls.documented_exceptions(table(tmp_path, GOOD_ROW, row))
    assert "line 6" in str(error.value)


def test_a_document_without_the_table_is_an_error(tmp_path):
    doc = tmp_path / "compliance.md"
    doc.write_text("# Nothing here\n")
    with pytest.raises(ValueError, match="no exceptions table"):
        controls.documented_exceptions(doc)


# -- the gate fails on broken resources, and the house defaults pass -----------------------------


def probe(tmp_path: Path, build) -> Assembly:
    """A one-stack app, `Probe` named `Probe-dev`, built by `build(stack)` with cdk.json's
    feature flags (they decide e.g. bucket policy vs. ACL for server access logs)."""
    app = cdk.App(outdir=str(tmp_path), context=cdk_json_context("dev"))
    stack = cdk.Stack(app, "Probe", stack_name="Probe-dev")
    build(stack)
    app.synth()
    return Assembly(tmp_path)


def test_the_gate_names_stack_control_and_resource_and_fails_make_synth(
    tmp_path, monkeypatch, capsys
):
    def bare_queue(stack: Construct) -> None:
        sqs.Queue(stack, "Jobs")

    assembly = probe(tmp_path / "cdk.out", bare_queue)
    failures = controls.assembly_failures(assembly)["Probe"]
    (jobs,) = [f for f in failures if f.control == "CT.SQS.PR.1"]
    assert (jobs.stack, jobs.path) == ("Probe", "Jobs")
    assert jobs.logical_id.startswith("Jobs")

    monkeypatch.setattr(controls, "EXCEPTIONS_DOC", table(tmp_path, GOOD_ROW))
    assert controls.main(["--assembly", str(tmp_path / "cdk.out")]) == 1
    reported = [
        line for line in capsys.readouterr().out.splitlines() if "NOT DOCUMENTED Probe/" in line
    ]
    assert reported and all("NOT DOCUMENTED Probe/Jobs [Jobs" in line for line in reported)
    assert not any(": CT.SQS.PR.1 (" in line for line in reported)  # the row documents that one

    # Every failure documented: `make synth` passes and says so.
    rows = [
        f"| {control} | dev | Probe | `Jobs` | exception | The probe's bare queue is built to "
        "fail this control on purpose. |"
        for control in sorted({failure.control for failure in failures})
    ]
    monkeypatch.setattr(controls, "EXCEPTIONS_DOC", table(tmp_path, *rows))
    assert controls.main(["--assembly", str(tmp_path / "cdk.out")]) == 0
    assert "0 not documented" in capsys.readouterr().out


def test_the_house_defaults_pass_the_controls_they_carry(tmp_path):
    """secure_bucket, access_log_bucket, queues, customer_key and (where data is kept) log-group
    encryption, with the alarms app.py adds to every stack: only what docs/compliance.md
    documents for every stack remains."""

    def house(stack: Construct) -> None:
        removal = cdk.RemovalPolicy.RETAIN
        logs_bucket = access_log_bucket(stack, "AccessLogs", removal_policy=removal)
        secure_bucket(stack, "Data", removal_policy=removal, access_logs=logs_bucket)
        queue_with_dlq(stack, "Jobs", removal_policy=removal)
        dead_letter_queue(stack, "Failures", removal_policy=removal)
        customer_key(stack, "Key", description="probe", removal_policy=removal)
        log_group(stack, "Logs", retention_days=365, removal_policy=removal)
        encrypt_log_groups(cdk.Stack.of(stack), keep_data=True)
        watch_failures(cdk.Stack.of(stack), keep_data=True, email="ops@example.com")

    failures = controls.assembly_failures(probe(tmp_path, house))["Probe"]
    assert {(f.control, f.path) for f in failures} == {
        ("CT.S3.PR.2", "AccessLogs"),  # the log bucket does not log into itself
        ("CT.S3.PR.10", "AccessLogs"),  # server access logs and ALB logs need SSE-S3
        ("CT.S3.PR.9", "AccessLogs"),  # no Object Lock retention fits (docs/compliance.md)
        ("CT.S3.PR.9", "Data"),
        # Failures: a dead-letter queue nothing sends to is a queue without one (CT.SQS.PR.1);
        # JobsDeadLetters and the operations e-mail's own dead-letter queue say what they are.
        ("CT.SQS.PR.1", "Failures"),
    }


def test_without_a_stage_that_keeps_data_log_groups_use_the_service_key(tmp_path):
    """Dev: no $1/month key per stack; CT.CLOUDWATCH.PR.3 is a documented dev exception."""

    def dev_logs(stack: Construct) -> None:
        log_group(stack, "Logs", retention_days=365, removal_policy=cdk.RemovalPolicy.DESTROY)
        encrypt_log_groups(cdk.Stack.of(stack), keep_data=False)

    failures = controls.assembly_failures(probe(tmp_path, dev_logs))["Probe"]
    assert {(f.control, f.path) for f in failures} == {("CT.CLOUDWATCH.PR.3", "Logs")}


# -- the house helpers that acknowledge CDK's own handlers (blueprints/my_blog/stack.py) ----------


def test_cdk_handlers_and_their_findings_are_read_from_the_constructs(tmp_path):
    """The handler of a BucketDeployment is found from its custom resource, and a reason for a
    wildcard action the policy does not have (or a wildcard without a reason) is an error."""
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_s3_deployment as s3deploy

    from house.compliance import acknowledge_wildcard_actions, custom_resource_handler

    app = cdk.App(outdir=str(tmp_path), context=cdk_json_context("dev"))
    stack = cdk.Stack(app, "Probe")
    site = s3.Bucket(stack, "Site")
    content = tmp_path / "site"
    content.mkdir()
    (content / "index.html").write_text("hello")
    deployment = s3deploy.BucketDeployment(
        stack,
        "Content",
        destination_bucket=site,
        sources=[s3deploy.Source.asset(str(content))],
    )
    handler = custom_resource_handler(deployment)
    assert handler.node.id.startswith("Custom::CDKBucketDeployment")
    assert deployment.handler_role.node.scope is handler or (
        deployment.handler_role.node.path.startswith(handler.node.path)
    )
    wildcards = {"s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:Abort*", "s3:DeleteObject*"}
    with pytest.raises(ValueError, match="wildcard actions"):
        acknowledge_wildcard_actions(
            deployment.handler_role,
            {a: "a reason of enough words here" for a in wildcards - {"s3:List*"}},
        )
    with pytest.raises(ValueError, match="wildcard actions"):
        acknowledge_wildcard_actions(
            deployment.handler_role,
            {a: "a reason of enough words here" for a in wildcards | {"s3:Put*"}},
        )
    rules = acknowledge_wildcard_actions(
        deployment.handler_role,
        {a: "CDK's upload function needs this for the site bucket only" for a in wildcards},
    )
    assert rules == sorted(f"AwsSolutions-IAM5[Action::{a}]" for a in wildcards)


# -- values from other stacks: checked as the hook sees them at deploy ----------------------------


def _distribution_with_certificate(certificate_arn) -> dict:
    """DistributionConfig of a distribution serving `certificate_arn` for its own name."""
    return {
        "Enabled": True,
        "Aliases": ["www.example.com"],
        "DefaultCacheBehavior": {
            "TargetOriginId": "site",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
        "Origins": [
            {
                "Id": "site",
                "DomainName": "example.com",
                "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"},
            }
        ],
        "ViewerCertificate": {
            "AcmCertificateArn": certificate_arn,
            "MinimumProtocolVersion": "TLSv1.2_2021",
            "SslSupportMethod": "sni-only",
        },
    }


CERTIFICATE_SHAPES = {
    # The us-east-1 certificate of a stack elsewhere, read from its Edge companion (house/edge.py).
    "another stack's output": {
        "Fn::GetStackOutput": {
            "StackName": "SiteEdge-prod",
            "Region": "us-east-1",
            "OutputName": "CertificateArn",
        }
    },
    "an import": {"Fn::ImportValue": "SiteEdge-prod-CertificateArn"},
}


@pytest.mark.parametrize("shape", sorted(CERTIFICATE_SHAPES))
def test_a_certificate_from_another_stack_passes_as_the_hook_sees_it(tmp_path, shape):
    """The raw template fails CT.CLOUDFRONT.PR.6 and PR.7 (the rule follows only references
    inside the template); the gate, which checks the value the hook receives, passes them; and a
    distribution on CloudFront's default certificate still fails."""

    def distribution(stack: Construct) -> None:
        cdk.CfnResource(
            stack,
            "Distribution",
            type="AWS::CloudFront::Distribution",
            properties={
                "DistributionConfig": _distribution_with_certificate(CERTIFICATE_SHAPES[shape])
            },
        )

    assembly = probe(tmp_path / "cdk.out", distribution)
    template_file = tmp_path / "cdk.out" / "Probe.template.json"
    certificate_controls = [
        controls.controls()[c] for c in ("CT.CLOUDFRONT.PR.6", "CT.CLOUDFRONT.PR.7")
    ]
    raw = controls._guard(template_file, certificate_controls)
    assert raw.returncode == 19, raw.stdout  # what cfn-guard says of the template as written
    failing = {f.control for f in controls.assembly_failures(assembly)["Probe"]}
    assert not failing & {"CT.CLOUDFRONT.PR.6", "CT.CLOUDFRONT.PR.7"}

    view = controls.deploy_time_view(json.loads(template_file.read_text()))
    (resolved,) = [
        r["Properties"]["DistributionConfig"]["ViewerCertificate"]["AcmCertificateArn"]
        for r in view["Resources"].values()
        if r["Type"] == "AWS::CloudFront::Distribution"
    ]
    assert isinstance(resolved, str) and "resolved at deploy" in resolved

    def default_certificate(stack: Construct) -> None:
        config = _distribution_with_certificate(CERTIFICATE_SHAPES[shape])
        config.pop("Aliases")
        config["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True}
        cdk.CfnResource(
            stack,
            "Distribution",
            type="AWS::CloudFront::Distribution",
            properties={"DistributionConfig": config},
        )

    failing = {
        f.control
        for f in controls.assembly_failures(probe(tmp_path / "default", default_certificate))[
            "Probe"
        ]
    }
    assert "CT.CLOUDFRONT.PR.6" in failing


@pytest.mark.parametrize(
    ("certificate_arn", "passes"),
    [
        (
            "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
            True,
        ),
        ({"Ref": "Certificate"}, False),
        ("", False),
    ],
)
def test_the_hook_branch_of_the_rule_accepts_a_certificate_only_as_a_value(
    tmp_path, certificate_arn, passes
):
    """CT.CLOUDFRONT.PR.6's branch for a hook's input (`<Type>.resourceProperties`, no
    `Resources`) cannot follow a `Ref`: a certificate of the same template, which its template
    branch accepts, passes at deploy only if the hook gets it resolved. That is the premise of
    controls.deploy_time_view."""
    hook_input = tmp_path / "hook-input.json"
    hook_input.write_text(
        json.dumps(
            {
                "AWS::CloudFront::Distribution": {
                    "resourceProperties": {
                        "DistributionConfig": _distribution_with_certificate(certificate_arn)
                    }
                }
            }
        )
    )
    run = controls._guard(hook_input, [controls.controls()["CT.CLOUDFRONT.PR.6"]])
    assert run.returncode == (0 if passes else 19), run.stdout
