"""Signed, expiring tokens for the links a function mails (confirm a subscription, unsubscribe):
an HMAC made and checked by AWS KMS (GenerateMac / VerifyMac) under an HMAC_256 key.

    token = sign(key_id, "confirm", "reader@example.com", expires_at=1767225600)  # the mailer
    subject = verify(key_id, token, "confirm")     # the API: the address, or InvalidInput

Why KMS and not a secret: the key never leaves KMS, so no function holds it, and IAM decides who
may do what with it: the function that mails gets kms:GenerateMac, the public API only
kms:VerifyMac, so even a compromised API cannot mint a link. The price is one KMS request per
signature or check (milliseconds, a fraction of a cent per thousand; see the cost table) and no
cold-start cost (no secret to fetch).

Format (URL- and JSON-safe, no padding): `<purpose>.<subject>.<expires_at>.<mac>`, where
`subject` is base64url(UTF-8), `expires_at` epoch seconds (0: never expires) and `mac`
base64url(HMAC_SHA_256 over `CONTEXT`, purpose, subject and expiry, one per line). A token of
another purpose, another key or another expiry fails the check. The format, the purpose and the
expiry are checked before KMS is asked, so a malformed or expired token costs no KMS request.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import re
import time

import boto3
from botocore.exceptions import ClientError

from handler_kit.errors import InvalidInput

ALGORITHM = "HMAC_SHA_256"
# Bound into every MAC: a MAC of this key made for anything else is never a valid token.
CONTEXT = "handler_kit.signed_tokens/v1"
PURPOSE = re.compile(r"[a-z][a-z0-9-]{0,30}")
# purpose . subject (base64url) . expiry (digits) . mac (43 base64url characters for 32 bytes)
TOKEN = re.compile(
    r"([a-z][a-z0-9-]{0,30})\.([A-Za-z0-9_-]{1,400})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})"
)
MAX_TOKEN_LENGTH = 500


@dataclasses.dataclass(frozen=True)
class Signed:
    subject: str
    expires_at: int  # epoch seconds, 0: never


@functools.cache
def kms():
    return boto3.client("kms")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _message(purpose: str, subject: str, expires_at: int) -> bytes:
    return f"{CONTEXT}\n{purpose}\n{subject}\n{expires_at}".encode()


def sign(key_id: str, purpose: str, subject: str, *, expires_at: int = 0) -> str:
    """A token for `subject`, valid for `purpose` until `expires_at` (0: always)."""
    if not PURPOSE.fullmatch(purpose) or expires_at < 0:
        raise ValueError(f"purpose {purpose!r} / expiry {expires_at}: not a token's")
    mac = kms().generate_mac(
        KeyId=key_id, MacAlgorithm=ALGORITHM, Message=_message(purpose, subject, expires_at)
    )["Mac"]
    return ".".join((purpose, _b64(subject.encode()), str(expires_at), _b64(mac)))


def verify(key_id: str, token: object, purpose: str, *, now: float | None = None) -> Signed:
    """The subject of a genuine, unexpired `purpose` token; InvalidInput (code InvalidLink or
    LinkExpired) for anything else. KMS errors other than a wrong MAC propagate (throttling and
    outages are retryable: the REST kit answers 503)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidInput("this link is not one we sent", code="InvalidLink")
    parsed = TOKEN.fullmatch(token)
    if parsed is None or parsed.group(1) != purpose:
        raise InvalidInput("this link is not one we sent", code="InvalidLink")
    try:
        subject = _unb64(parsed.group(2)).decode("utf-8")
        mac = _unb64(parsed.group(4))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("this link is not one we sent", code="InvalidLink") from None
    expires_at = int(parsed.group(3))
    if expires_at and expires_at <= (time.time() if now is None else now):
        raise InvalidInput("this link has expired", code="LinkExpired")
    try:
        kms().verify_mac(
            KeyId=key_id,
            MacAlgorithm=ALGORITHM,
            Message=_message(purpose, subject, expires_at),
            Mac=mac,
        )
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "KMSInvalidMacException":
            raise InvalidInput("this link is not one we sent", code="InvalidLink") from None
        raise
    return Signed(subject, expires_at)
