"""The one rule for an e-mail address the library accepts: one SES can deliver to.

It lives in `definitions.json` beside this module, and every reader takes it from there: the API
Gateway request models (house/api_models.py resolves `{"$ref": "handler_kit/definitions.json#/
EmailAddress"}` at synth), the handlers' own body check (handler_kit.schema resolves the same
reference) and the functions that send mail (`deliverable()` below). tests/handler_kit keeps
house.types.EmailAddress, the settings' type, equal to it.

What it accepts: ASCII only (SES sends to no other address: no SMTPUTF8); a local part of
dot-separated RFC 5322 atoms (no quoted strings, no leading, trailing or doubled dot), at most 64
characters; a domain of DNS labels (letters, digits, inner hyphens, at most 63 each) whose last
label is letters only or an IDNA `xn--` label, so no IP literal and no dotless host; 254
characters in all. An address outside it would never be delivered, and would only burn the
stream's retries before landing in the on-failure queue.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

RULE: dict = json.loads(Path(__file__).with_name("definitions.json").read_text())["EmailAddress"]
PATTERN: str = RULE["pattern"]
MAX_LENGTH: int = RULE["maxLength"]
_MATCHER = re.compile(PATTERN)


def deliverable(address: object) -> bool:
    """Whether `address` is a string the rule accepts (a whole-string match: a trailing newline
    is refused too)."""
    return (
        isinstance(address, str)
        and len(address) <= MAX_LENGTH
        and _MATCHER.fullmatch(address) is not None
    )
