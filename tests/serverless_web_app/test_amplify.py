"""Amplify Hosting from a Git repository: the access token is never in the template, only a
Secrets Manager dynamic reference CloudFormation resolves when it calls Amplify."""

from __future__ import annotations

import json

import pytest

from deployment import rules
from deployment.assembly import Assembly
from tests.serverless_web_app.conftest import INSTANCES, REPOSITORY, TOKEN_SECRET, Built
from tests.support.gates import assert_gates_pass

STACK = INSTANCES["serverless-web-app-amplify"]


@pytest.fixture(params=["dev", "prod"])
def git(request, variant) -> Built:
    return Built(variant(request.param, "git"), "serverless-web-app-amplify", STACK)


def test_the_token_is_only_a_secrets_manager_reference(git):
    _, app = git.only("AWS::Amplify::App")
    p = app["Properties"]
    assert p["Repository"] == REPOSITORY
    assert p["AccessToken"] == f"{{{{resolve:secretsmanager:{TOKEN_SECRET}:SecretString:::}}}}"
    assert "OauthToken" not in p, "GitHub takes AccessToken (the Amplify GitHub App)"
    text = json.dumps(git.template)
    assert text.count("resolve:secretsmanager") == 1, "nowhere else, not in an output"
    assert not any(prefix in text for prefix in ("ghp_", "github_pat_", "glpat-"))


def test_the_branch_builds_every_push_with_a_pinned_build_image(git):
    _, branch = git.only("AWS::Amplify::Branch")
    assert branch["Properties"]["EnableAutoBuild"] is True
    assert branch["Properties"]["BranchName"] == git.settings.amplify_branch
    _, app = git.only("AWS::Amplify::App")
    variables = {v["Name"]: v["Value"] for v in app["Properties"]["EnvironmentVariables"]}
    assert variables == {"_CUSTOM_IMAGE": "amplify:al2023"}
    _, release = git.only("Custom::AWS")
    create = json.dumps(git.resolver.resolve(release["Properties"]["Create"]))
    assert '\\"action\\":\\"startJob\\"' in create and "RELEASE" in create


def test_git_mode_passes_the_gates_and_the_deploy_rules(git):
    assert_gates_pass(git.assembly)
    found = [v for v in rules.violations(Assembly(git.assembly.outdir).stack(STACK))]
    assert found == []


def test_a_token_pasted_into_the_template_breaks_the_deploy_rule(git):
    """The rule over every stack would catch a token that reached the template another way."""
    assembly = Assembly(git.assembly.outdir)
    stack = assembly.stack(STACK)
    resources = stack.template["Resources"]
    (app_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::Amplify::App"]
    resources[app_id]["Properties"]["AccessToken"] = "ghp_0123456789abcdef"
    assert {v.rule for v in rules.violations(stack)} == {"amplify-token-only-by-reference"}
