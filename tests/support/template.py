"""Small readers of a synthesized template (a dict), shared by every blueprint's assertions."""

from __future__ import annotations


def resources(template: dict, kind: str) -> dict[str, dict]:
    """Logical id -> resource, for every resource of CloudFormation type `kind`."""
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def only(template: dict, kind: str) -> tuple[str, dict]:
    """The one resource of type `kind` (fails if there are none or several)."""
    found = resources(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {list(found)}"
    return next(iter(found.items()))


# ELB policies that accept TLS 1.2 and 1.3 only (what house LOAD_BALANCER_TLS_POLICY may render).
TLS_1_2_OR_NEWER = {
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
}


def alias_records(template: dict) -> set[tuple[str, str]]:
    """(name without the final dot, type) of every Route 53 record of the template."""
    return {
        (r["Properties"]["Name"].rstrip("."), r["Properties"]["Type"])
        for r in resources(template, "AWS::Route53::RecordSet").values()
    }


def assert_site_domain(template: dict, settings, *, stage: str) -> None:
    """The one distribution of `template` serves `settings.domain_names` (SiteDomainSettings)
    with an ACM certificate, SNI and TLSv1.2_2021, with alias A/AAAA records in the zone; a
    stage without them has CloudFront's default certificate, which prod allows only with
    allow_tls_below_1_2."""
    _, distribution = only(template, "AWS::CloudFront::Distribution")
    config = distribution["Properties"]["DistributionConfig"]
    viewer = config.get("ViewerCertificate")
    if not settings.domain_names:
        assert stage != "prod" or settings.allow_tls_below_1_2
        assert viewer is None or viewer == {"CloudFrontDefaultCertificate": True}
        assert "Aliases" not in config
        return
    assert config["Aliases"] == list(settings.domain_names)
    assert viewer["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert viewer["SslSupportMethod"] == "sni-only"
    assert "AcmCertificateArn" in viewer and "CloudFrontDefaultCertificate" not in viewer
    if settings.hosted_zone_id:
        expected = {(n, t) for n in settings.domain_names for t in ("A", "AAAA")}
        assert expected <= alias_records(template)
        for record in resources(template, "AWS::Route53::RecordSet").values():
            assert record["Properties"]["HostedZoneId"] == settings.hosted_zone_id
