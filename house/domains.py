"""Domain names that can never be yours: the shipped prod profiles name them as placeholders.

Prod serves only over HTTPS with a certificate for a domain of yours (docs/deploying.md, "Custom
domains"), and a template must synthesize without an AWS account, so the prod profiles in
cdk.json ship names under `example.com` and a hosted-zone id that says what to put there. The
synth accepts them; `make preflight` refuses them (its `domain` check,
deployment/preflight_checks.py) before a deploy would wait for a certificate that can never be
validated.

Pure Python on purpose: the preflight imports it without loading aws-cdk-lib.
"""

from __future__ import annotations

# Reserved for documentation and testing: RFC 2606 (example.com/.net/.org; .example, .test,
# .invalid, .localhost) and RFC 6761. Nobody can be delegated these, so no certificate for them
# can ever be validated.
RESERVED_DOMAINS = (
    "example.com",
    "example.net",
    "example.org",
    "example",
    "test",
    "invalid",
    "localhost",
)
# What the shipped prod profiles put in hosted_zone_id: a well-formed id that names no zone.
PLACEHOLDER_HOSTED_ZONE_ID = "ZREPLACEWITHYOURZONE"


def reserved_domain(name: str) -> str | None:
    """The reserved domain `name` is (or is under), or None for a name that can be yours."""
    name = name.lower().rstrip(".")
    for reserved in RESERVED_DOMAINS:
        if name == reserved or name.endswith("." + reserved):
            return reserved
    return None


def is_placeholder(name: str | None = None, hosted_zone_id: str | None = None) -> bool:
    """A domain name under a reserved domain, or the placeholder hosted-zone id."""
    return (name is not None and reserved_domain(name) is not None) or (
        hosted_zone_id == PLACEHOLDER_HOSTED_ZONE_ID
    )


def zone_covers(zone_name: str, domain_name: str) -> bool:
    """Whether a hosted zone named `zone_name` holds the records of `domain_name` (the zone's
    apex or a name below it)."""
    zone = zone_name.lower().rstrip(".")
    name = domain_name.lower().rstrip(".")
    return name == zone or name.endswith("." + zone)
