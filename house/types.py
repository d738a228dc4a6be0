"""The value types settings are made of, each declared once: what a domain name, an e-mail
address, a region or a Graviton instance type is, for every blueprint.

Each is an annotated type for pydantic settings models (house/settings.py): a string checked
with `re.fullmatch` (never `$`, which also matches before a trailing newline) and described for
the error message and the generated settings reference (docgen/settings_reference.py) by the
same words. Use them as field types:

    sender_email: EmailAddress | None = Field(None, description="...")
    replica_regions: tuple[Region, ...] = Field((), description="...")
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from house.defaults import RETENTION_DAYS

# The key the generated settings reference reads a type's allowed values from.
ALLOWED = "x-allowed"


def matching(pattern: str, allowed: str):
    """A string type that must match `pattern` as a whole; `allowed` says what it is, for the
    error message ("expected <allowed>") and the settings reference."""
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if regex.fullmatch(value) is None:
            raise ValueError(f"expected {allowed}")
        return value

    return Annotated[str, AfterValidator(check), Field(json_schema_extra={ALLOWED: allowed})]


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"

# A host name in DNS: lower case, labels of 1..63 characters, a top-level domain of letters.
DOMAIN_NAME = rf"(?=.{{1,253}}\Z)({_LABEL}\.)+[a-z]{{2,63}}"
DomainName = matching(DOMAIN_NAME, "a lowercase DNS name like blog.example.com")
# A Route 53 hosted zone's name; the trailing dot of a fully qualified name is allowed.
HostedZoneName = matching(
    rf"{DOMAIN_NAME}\.?", "a lowercase DNS zone name like example.com (or example.com.)"
)
HostedZoneId = matching(r"Z[A-Z0-9]{1,31}", "a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ")
EmailAddress = matching(
    r"[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+",
    "an e-mail address like welcome@example.com",
)
REGION = r"[a-z]{2}(-[a-z]+)+-\d"
Region = matching(REGION, "an AWS region name like eu-west-1")
# Graviton (arm64) EC2 types: a family with a 'g' after its generation (t4g, c7g, m7gd, ...).
GravitonInstanceType = matching(
    r"[a-z]+\d+g[a-z]*\.(nano|micro|small|medium|large|metal|\d*xlarge)",
    "a Graviton (arm64) instance type like t4g.small or c7g.medium",
)
# A browser origin for CORS: scheme://host[:port] without a path, or * for any.
Origin = matching(
    r"\*|[a-z][a-z0-9+.-]*://[A-Za-z0-9.-]+(:\d{1,5})?",
    "an origin scheme://host[:port] without a path (each origin), or *",
)
# An IPv4 network in CIDR notation, e.g. 203.0.113.0/24 (0.0.0.0/0 is the whole internet).
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
Ipv4Cidr = matching(
    rf"{_OCTET}(\.{_OCTET}){{3}}/(3[0-2]|[12]?[0-9])",
    "an IPv4 network in CIDR notation like 203.0.113.0/24",
)
# S3 "folders": key prefixes of safe characters, each ending in '/'.
_S3_FOLDER = r"[A-Za-z0-9!_.'()-]+/"
S3Folder = matching(f"({_S3_FOLDER})+", "an S3 folder ending in '/', like 'uploads/'")
S3FolderOrRoot = matching(
    f"({_S3_FOLDER})*", "'' (the bucket's root) or S3 folders ending in '/', like 'incoming/'"
)
ScheduleExpression = matching(
    r"(cron|rate|at)\(.+\)", "a schedule expression: cron(...), rate(...) or at(...)"
)
SecurityGroupId = matching(r"sg-[0-9a-f]{8,17}", "a security group id like sg-0123456789abcdef0")
VpcId = matching(r"vpc-[0-9a-f]{8,17}", "a VPC id like vpc-0123456789abcdef0")
PrefixListId = matching(r"pl-[0-9a-f]{8,17}", "a managed prefix list id like pl-3b927c52")
# CloudFront reads certificates and CLOUDFRONT-scope web ACLs only in us-east-1.
CloudFrontCertificateArn = matching(
    r"arn:aws:acm:us-east-1:\d{12}:certificate/.+",
    "the ARN of an ACM certificate in us-east-1 (the only region CloudFront reads)",
)
CloudFrontWebAclArn = matching(
    r"arn:aws:wafv2:us-east-1:\d{12}:global/webacl/.+",
    "the ARN of a CLOUDFRONT-scope web ACL (arn:aws:wafv2:us-east-1:...:global/webacl/...)",
)
# One line of text (names, headers): no line breaks, no leading or trailing blanks.
OneLine = matching(r"\S([^\r\n]*\S)?", "one line of text")


def _time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("expected an IANA time zone like 'UTC' or 'Europe/Berlin'") from None
    return value


TimeZone = Annotated[
    str,
    AfterValidator(_time_zone),
    Field(json_schema_extra={ALLOWED: "an IANA time zone like 'UTC' or 'Europe/Berlin'"}),
]

# CloudFront price classes: 100 = North America and Europe edges (cheapest), All = every edge.
PriceClass = Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]
# The retention periods CloudWatch Logs accepts, in days.
LogRetentionDays = Literal[tuple(RETENTION_DAYS)]
