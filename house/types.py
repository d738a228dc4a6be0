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

import ipaddress
import re
import zoneinfo
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from house.defaults import RETENTION_DAYS
from house.images import pinned

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
# The one address rule (lambda_src/layers/handler_kit/handler_kit/definitions.json, which the
# API models, the handlers and the mailer read): an address SES can deliver to. A test keeps
# this copy equal to it (tests/handler_kit/test_email_address.py).
EMAIL_ADDRESS = (
    r"(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
)
EmailAddress = matching(
    EMAIL_ADDRESS,
    "an e-mail address SES can deliver to, like welcome@example.com (ASCII, no quoted local "
    "part, a domain name with a top-level label)",
)
REGION = r"[a-z]{2}(-[a-z]+)+-\d"
Region = matching(REGION, "an AWS region name like eu-west-1")
_INSTANCE_SIZE = r"(nano|micro|small|medium|large|metal|\d*xlarge)"
# Graviton (arm64) EC2 types: a family with a 'g' after its generation (t4g, c7g, m7gd, ...).
GRAVITON_INSTANCE_TYPE = rf"[a-z]+\d+g[a-z]*\.{_INSTANCE_SIZE}"
GravitonInstanceType = matching(
    GRAVITON_INSTANCE_TYPE, "a Graviton (arm64) instance type like t4g.small or c7g.medium"
)
# Any EC2 instance type: a family (letters, generation, attributes) and a size.
InstanceType = matching(
    rf"[a-z]+\d+[a-z-]*\.{_INSTANCE_SIZE}", "an EC2 instance type like m7g.large or c6a.xlarge"
)


def is_graviton(instance_type: str) -> bool:
    """Whether an EC2 instance type runs on Graviton (arm64): what AMI or image it needs."""
    return re.fullmatch(GRAVITON_INSTANCE_TYPE, instance_type) is not None


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
BackupVaultArn = matching(
    rf"arn:aws(-[a-z]+)*:backup:{REGION}:\d{{12}}:backup-vault:[A-Za-z0-9_-]{{2,50}}",
    "a backup vault ARN like arn:aws:backup:eu-west-1:111122223333:backup-vault:Name",
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
# IAM principals a resource policy or access entry may name: a role or a user of an account.
IamPrincipalArn = matching(
    r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}",
    "an IAM role or user ARN like arn:aws:iam::111122223333:role/Admin",
)
# A Kubernetes namespace: a DNS label (RFC 1123), lower case, at most 63 characters.
KubernetesNamespace = matching(_LABEL, "a Kubernetes namespace name like 'apps' (a DNS label)")


def _ipv4_cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        network = None
    if network is None or network.version != 4 or "/" not in value:
        raise ValueError(
            "expected an IPv4 CIDR with no host bits set, like 203.0.113.7/32 or 198.51.100.0/24"
        )
    return value


# An IPv4 network in CIDR notation (an address is x.x.x.x/32), e.g. for an allow-list.
Ipv4Cidr = Annotated[
    str,
    AfterValidator(_ipv4_cidr),
    Field(json_schema_extra={ALLOWED: "an IPv4 CIDR like 203.0.113.7/32 (no host bits set)"}),
]


def pinned_image(value: str) -> str:
    """`value`, an image reference, if it names one image for good (a digest, or a tag other
    than `latest`); else a ValueError saying so. The container blueprints' image settings use
    it (patterns/containers/registry.py ImageSetting); the deploy rules check the same with
    house.images.pinned over every template."""
    if not pinned(value):
        raise ValueError(
            f"'{value}' must name a fixed tag or a digest (e.g. "
            "'public.ecr.aws/nginx/nginx:1.27' or '...@sha256:<digest>'): an untagged or "
            "':latest' image runs whatever was pushed last, not what was deployed"
        )
    return value


# The path a load balancer (or App Runner) checks a container on: HTTP 200 means healthy.
HealthCheckPath = matching(r"/[\w\-./~%]{0,1023}", "a URL path starting with '/', e.g. '/health'")
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
