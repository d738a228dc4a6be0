"""Quality gates over every stack of every stage: cdk-nag and cfn-lint."""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from tests.support.gates import lint_errors, nag_findings
from tests.support.synth import synthesize


def test_no_unacknowledged_cdk_nag_findings(every_assembly):
    """A Python `cdk synth` may exit 0 with findings, so the report itself is read."""
    findings = nag_findings(every_assembly)
    assert not findings, (
        f"{len(findings)} unacknowledged cdk-nag findings in "
        f"{every_assembly.outdir.name}:\n" + "\n".join(findings)
    )
    assert every_assembly.error is None, every_assembly.error


def test_cdk_nag_is_wired_into_the_app(tmp_path, monkeypatch):
    """Proof the gate above can fail: an insecure bucket and a bare Lambda function added to a
    real (serverless-checked) stack are reported by AwsSolutions and by Serverless."""
    import app as cdk_app

    built = {}
    real_build = cdk_app.build_app

    def build_with_insecure_bucket(app):
        stacks = real_build(app)
        (graph,) = [s for s in stacks if s.node.id == "NeptuneGraph"]
        s3.Bucket(graph, "DeliberatelyInsecure")
        lambda_.Function(
            graph,
            "DeliberatelyBare",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(e, c): pass"),
        )
        built["stack"] = graph.node.path
        return stacks

    monkeypatch.setattr(cdk_app, "build_app", build_with_insecure_bucket)
    assembly = synthesize("dev", tmp_path, {"blueprints_only": "neptune-graph"})
    findings = nag_findings(assembly)
    assert any(f.startswith("AwsSolutions-S10") and "/DeliberatelyInsecure/" in f for f in findings)
    assert any(f.startswith("AwsSolutions-S1 ") and "/DeliberatelyInsecure/" in f for f in findings)
    assert any(
        f.startswith("Serverless-LambdaDefaultMemorySize") and "/DeliberatelyBare/" in f
        for f in findings
    )
    assert assembly.error and "ValidationFailed" in assembly.error


def test_cfn_lint_reports_no_errors(every_assembly):
    errors = lint_errors(every_assembly)
    assert not errors, "\n".join(errors)
