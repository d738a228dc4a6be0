"""The quality gates' readers, shared by tests/test_compliance.py and every test that synthesizes
a variant of its own: cdk-nag findings from validation-report.json, cfn-lint errors per stack in
its own region."""

from __future__ import annotations

from collections.abc import Collection

from cfnlint.api import lint

from tests.support.synth import Synthesized, region_of


def nag_findings(assembly: Synthesized) -> list[str]:
    findings = []
    for plugin in (assembly.validation_report or {}).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation["violatingConstructs"]:
                findings.append(
                    f"{violation['ruleName']} ({violation['severity']}) at "
                    f"{construct['constructPath']}: {violation['description']}"
                )
    return findings


def lint_errors(assembly: Synthesized) -> list[str]:
    """cfn-lint errors (not warnings) of every stack, linted for the region it deploys to."""
    errors = []
    for stack_id, artifact in assembly.stacks.items():
        region = region_of(assembly, stack_id)
        regions = [region] if region and region != "unknown-region" else ["us-east-1"]
        text = (assembly.outdir / artifact["properties"]["templateFile"]).read_text()
        errors += [
            f"{stack_id}: {match}"
            for match in lint(text, regions=regions)
            if match.rule.id.startswith("E")
        ]
    return errors


def assert_gates_pass(assembly: Synthesized, *, expected_findings: Collection[str] = ()) -> None:
    """No cdk-nag finding (but the ones starting with an `expected_findings` prefix, e.g. a
    deliberate warning annotation) and no cfn-lint error."""
    findings = [
        f
        for f in nag_findings(assembly)
        if not any(f.startswith(prefix) for prefix in expected_findings)
    ]
    assert findings == [], "\n".join(findings)
    assert assembly.error is None, assembly.error
    errors = lint_errors(assembly)
    assert errors == [], "\n".join(errors)
