"""The optional settings, synthesized once together in a us-east-1 dev stage: custom domain
(certificate created, Route 53 aliases), WAF, an SES domain identity with a sandbox recipient,
DAX with one node, a replica, no "thumbnail ready" queue. They must be cdk-nag clean too."""

from __future__ import annotations

import json

import pytest

from tests.my_blog.test_stack import as_list, by_path, flat, only, resources, statements_of
from tests.support.gates import nag_findings
from tests.support.synth import REPO_ROOT, synthesize_once

STACK = "MyBlog"
ZONE = "Z0123456789ABCDEFGHIJ"


@pytest.fixture(scope="module")
def everything_on(tmp_path_factory):
    stages = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["stages"]
    stages["dev"] = {**stages["dev"], "region": "us-east-1"}
    settings = {
        "domain_names": ["blog.example.com", "www.blog.example.com"],
        "hosted_zone_id": ZONE,
        "hosted_zone_name": "example.com",
        "waf": True,
        "waf_rate_limit": 500,
        "sender_email": "news@example.com",
        "ses_domain": "example.com",
        "ses_sandbox_recipients": ["me@example.org"],
        "dax": True,
        "dax_nodes": 1,
        "replica_regions": ["eu-west-1"],
        "thumbnail_ready_queue": False,
    }
    return synthesize_once(
        tmp_path_factory,
        "dev",
        {
            "blueprints_only": "my-blog",
            "stages": stages,
            "blueprints": {"my-blog": {"dev": settings}},
        },
    )


@pytest.fixture(scope="module")
def t(everything_on) -> dict:
    return everything_on.template(STACK)


def test_optional_features_are_cdk_nag_clean(everything_on):
    assert nag_findings(everything_on) == []
    assert everything_on.error is None


def test_custom_domain_with_a_created_certificate_and_alias_records(t):
    cert_id, cert = only(t, "AWS::CertificateManager::Certificate")
    assert cert["Properties"]["DomainName"] == "blog.example.com"
    assert cert["Properties"]["SubjectAlternativeNames"] == ["www.blog.example.com"]
    assert cert["Properties"]["ValidationMethod"] == "DNS"
    dist_id, dist = only(t, "AWS::CloudFront::Distribution")
    config = dist["Properties"]["DistributionConfig"]
    assert config["Aliases"] == ["blog.example.com", "www.blog.example.com"]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": {"Ref": cert_id},
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    records = [r["Properties"] for r in resources(t, "AWS::Route53::RecordSet").values()]
    assert sorted((r["Name"], r["Type"]) for r in records) == [
        ("blog.example.com.", "A"),
        ("blog.example.com.", "AAAA"),
        ("www.blog.example.com.", "A"),
        ("www.blog.example.com.", "AAAA"),
    ]
    for record in records:
        assert record["HostedZoneId"] == ZONE
        assert record["AliasTarget"]["DNSName"] == {"Fn::GetAtt": [dist_id, "DomainName"]}


def test_waf_rate_limit_is_the_setting(t):
    acl_id, acl = only(t, "AWS::WAFv2::WebACL")
    (rate,) = [r for r in acl["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == 500
    assert rate["Action"] == {"Block": {}}


def test_ses_domain_identity_and_sandbox_recipient_are_the_only_send_resources(t):
    identities = {
        r["Properties"]["EmailIdentity"]: k
        for k, r in resources(t, "AWS::SES::EmailIdentity").items()
    }
    assert set(identities) == {"example.com", "me@example.org"}
    role_id, _ = by_path(t, "WelcomeEmail/FunctionRole/Resource")
    (send,) = [s for s in statements_of(t, role_id) if s["Action"] == "ses:SendEmail"]
    assert sorted(flat(r).rsplit("/", 1)[1] for r in as_list(send["Resource"])) == sorted(
        "${" + identities[name] + "}" for name in identities
    )
    assert send["Condition"] == {"StringEquals": {"ses:FromAddress": "news@example.com"}}
    welcome = by_path(t, "WelcomeEmail/Function/Resource")[1]
    assert welcome["Properties"]["Environment"]["Variables"]["SENDER"] == "news@example.com"
    variables = welcome["Properties"]["Environment"]["Variables"]
    assert variables["SITE_URL"] == "https://blog.example.com"


def test_dax_with_one_node_and_a_replica_in_dev(t):
    _, cluster = only(t, "AWS::DAX::Cluster")
    assert cluster["Properties"]["ReplicationFactor"] == 1
    _, table = by_path(t, "MyBlog/Table/Resource")  # the posts (the subscribers': one region)
    regions = sorted(r["Region"] for r in table["Properties"]["Replicas"])
    assert regions == ["eu-west-1", "us-east-1"]
    assert table["DeletionPolicy"] == "Delete"  # still dev: disposable
    _, subscribers = by_path(t, "Subscriptions/Table/Resource")
    assert [r["Region"] for r in subscribers["Properties"]["Replicas"]] == ["us-east-1"]


def test_no_ready_queue_means_no_subscription(t):
    assert not resources(t, "AWS::SNS::Subscription")
    topics = [
        r["Metadata"]["aws:cdk:path"]
        for r in resources(t, "AWS::SNS::Topic").values()
        if "/Operations/" not in r["Metadata"]["aws:cdk:path"]  # the house alarm topic
    ]
    assert topics == ["MyBlog/Thumbnails/Ready/Resource"]


def test_optional_features_pass_cfn_lint(everything_on):
    from cfnlint.api import lint

    text = json.dumps(everything_on.template(STACK))
    errors = [str(m) for m in lint(text, regions=["us-east-1"]) if m.rule.id.startswith("E")]
    assert errors == []
