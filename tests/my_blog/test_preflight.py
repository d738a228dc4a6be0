"""`python -m deployment.preflight MyBlog` end to end: the real dev template (with a sender
address, so it creates an SES identity whatever cdk.json's default is) against a moto account."""

from __future__ import annotations

import re

import pytest

from deployment.assembly import Assembly
from deployment.preflight import format_report, main, run_checks
from tests.support.preflight_fakes import StubbedSession
from tests.support.synth import synthesize_once


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    return synthesize_once(
        tmp_path_factory,
        "dev",
        {"blueprints_only": "my-blog", "my-blog.sender_email": "welcome@example.com"},
    ).outdir


def test_my_blog_through_the_python_api(aws, synthesized):
    session = StubbedSession()  # moto 5.2.5 has no sesv2 GetAccount
    ses = session.stub("sesv2")
    ses.add_client_error(
        "get_email_identity", service_error_code="NotFoundException", http_status_code=404
    )
    ses.add_response("get_account", {"ProductionAccessEnabled": False})
    stack = Assembly(synthesized).stack("MyBlog")
    results = run_checks(stack, session)
    by_check = {result.check: result for result in results}
    assert by_check["account baseline"].status == "FAIL"
    assert by_check["account baseline"].fix == (
        "make deploy STACK=AccountBaseline STAGE=dev (`npx cdk deploy MyBlog` also deploys it "
        "first, as its dependency)"
    )
    assert by_check["ses identity"].status == "NOTE"
    assert "welcome@example.com" in by_check["ses identity"].detail
    assert by_check["ses sandbox"].status == "NOTE"
    assert (
        format_report(results, stack)
        .splitlines()[-1]
        .startswith("preflight MyBlog (MyBlog-dev): 2 FAIL, 2 NOTE, ")
    )


def test_dependencies_are_checked_first_and_the_baseline_they_create_is_a_note(
    aws, synthesized, monkeypatch, capsys
):
    """`cdk deploy MyBlog` deploys AccountBaseline first: the preflight checks both, in that
    order, and MyBlog's missing logging role is a NOTE because the baseline sets it."""

    def session(region_name="us-east-1", **_):  # moto 5.2.5 has no sesv2 GetAccount
        stubbed = StubbedSession(region_name)
        ses = stubbed.stub("sesv2")
        ses.add_client_error(
            "get_email_identity", service_error_code="NotFoundException", http_status_code=404
        )
        ses.add_response("get_account", {"ProductionAccessEnabled": True})
        return stubbed

    monkeypatch.setattr("deployment.preflight.Session", session)
    main(["MyBlog", "--assembly", str(synthesized)])
    output = capsys.readouterr().out
    assert output.index("== AccountBaseline (AccountBaseline, deployed first") < output.index(
        "== MyBlog (MyBlog-dev)"
    )
    blog = output[output.index("== MyBlog") :]
    assert re.search(
        r"^NOTE  account baseline .*AccountBaseline, which this deploy creates "
        r"first, sets it",
        blog,
        re.MULTILINE,
    )
    main(["MyBlog", "--assembly", str(synthesized), "--exclusively"])
    alone = capsys.readouterr().out
    assert "== " not in alone and re.search(r"^FAIL  account baseline", alone, re.MULTILINE)
