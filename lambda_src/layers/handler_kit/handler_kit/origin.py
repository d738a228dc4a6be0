"""The origin lock: an API that sits behind a CloudFront distribution answers only the requests
that came through it, and refuses direct calls to its own `execute-api` URL (around CloudFront's
WAF, cache and headers) with a 403.

CloudFront adds a secret header to every request it sends the origin; the function accepts a
request only if that header carries one of the accepted values. house/origin_verify.py makes the
secret (Secrets Manager) and sets both ends at deploy time: the distribution's origin header
(the current value) and, in the function's environment, the header name and the accepted values
(the current one and, after a rotation, the previous one, so a rotation never refuses CloudFront
while its edges switch over):

    ORIGIN_VERIFY_HEADER   the header's name, e.g. X-Origin-Verify
    ORIGIN_VERIFY_VALUES   the accepted values, comma-separated (the generated ones have no comma)

Neither set: no lock (a stage without it). One without the other, or a value too short to be a
secret, is a ConfigurationError at init.

    api = RestApi(..., origin_lock=origin.from_environment())

The comparison takes the same time whichever accepted value matches and wherever a guess
differs (`hmac.compare_digest` against every value).
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Sequence

from handler_kit.settings import ConfigurationError, environment

HEADER_VARIABLE = "ORIGIN_VERIFY_HEADER"
VALUES_VARIABLE = "ORIGIN_VERIFY_VALUES"
# A generated value is 32 characters; anything much shorter is a placeholder, not a secret.
MIN_VALUE_LENGTH = 16


@dataclasses.dataclass(frozen=True)
class OriginLock:
    """The header CloudFront adds (its name lower-cased) and the values it may carry."""

    header: str
    values: tuple[bytes, ...]

    @classmethod
    def of(cls, header: str, values: Sequence[str]) -> OriginLock:
        short = [v for v in values if len(v) < MIN_VALUE_LENGTH]
        if not header.strip() or not values or short:
            raise ConfigurationError(
                f"origin lock: header {header!r} with {len(values)} value(s), {len(short)} "
                f"shorter than {MIN_VALUE_LENGTH} characters; the function's construct sets "
                f"{HEADER_VARIABLE} and {VALUES_VARIABLE} from the origin-verify secret"
            )
        return cls(header.strip().lower(), tuple(v.encode() for v in values))

    def admits(self, value: str | None) -> bool:
        """Whether `value` (the request's header, None if absent) is an accepted value."""
        if value is None:
            return False
        given = value.encode("utf-8", "replace")
        matched = False
        for accepted in self.values:  # no early exit: every value is compared
            matched |= hmac.compare_digest(given, accepted)
        return matched


def from_environment() -> OriginLock | None:
    """The lock the function's environment configures, or None (no lock)."""
    with environment() as env:
        header = env.text(HEADER_VARIABLE, default="")
        values = env.items(VALUES_VARIABLE, default=())
    if not header and not values:
        return None
    return OriginLock.of(header, values)
