"""Hypothesis strategies for what JSON can carry to a handler: arbitrary Unicode (with lone
surrogates, which JSON's "\\ud800" escape delivers and st.characters() alone would almost never
draw) and arbitrary JSON values. The bounds come from the house profile (tests/conftest.py)."""

from __future__ import annotations

import base64
import json

from hypothesis import strategies as st

# Arbitrary Unicode; one text in five holds a lone surrogate, which JSON's "\ud800" escape
# delivers to a handler and which st.characters() alone would almost never draw.
_TEXT = st.text(st.characters(exclude_categories=()), max_size=24)
_WITH_SURROGATE = st.builds(
    lambda head, lone, tail: head + lone + tail, _TEXT, st.characters(categories=["Cs"]), _TEXT
)
ANY_TEXT = st.integers(0, 4).flatmap(lambda n: _WITH_SURROGATE if n == 0 else _TEXT)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=6,
)
NOT_OBJECTS = JSON_VALUES.filter(lambda v: not isinstance(v, dict))


def utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@st.composite
def request_bodies(draw, valid, fields: tuple[str, ...], *, text, values):
    """(body text or None, isBase64Encoded) for a REST handler: valid bodies, valid bodies with
    a field or two replaced by anything, other JSON objects (names mostly the schema's own),
    other JSON, or plain text; base64 one time in four, well-formed or not. `text` and `values`
    are the caller's strategies for any text and any JSON value."""
    names = st.sampled_from(fields) | text
    kind = draw(st.sampled_from(["valid", "valid", "mutated", "object", "json", "text", "none"]))
    if kind in ("valid", "mutated"):
        value = draw(valid)
        if kind == "mutated":
            value.update(draw(st.dictionaries(names, values, min_size=1, max_size=2)))
    elif kind == "object":
        value = draw(st.dictionaries(names, values, max_size=5))
    elif kind == "json":
        value = draw(values)
    if kind in ("valid", "mutated", "object", "json"):
        # Lone surrogates either escaped ("\\ud800", as JSON allows) or raw in the event's string.
        body = json.dumps(value, ensure_ascii=draw(st.booleans()))
    else:
        body = draw(text) if kind == "text" else None
    if body is None or not draw(st.sampled_from([False, False, False, True])):  # base64 1 in 4
        return body, False
    if draw(st.booleans()):  # well-formed base64, of UTF-8 or (surrogates) of invalid UTF-8
        return base64.b64encode(body.encode("utf-8", "surrogatepass")).decode(), True
    return body, True


# Addresses the one address rule accepts (handler_kit/definitions.json), built from its parts:
# RFC 5322 atoms for the local part, DNS labels for the domain, a letters-only top-level label.
_ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
_ATOM = st.text(st.sampled_from(_ATEXT), min_size=1, max_size=12)
_LABEL = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True)
DELIVERABLE_ADDRESSES = st.builds(
    lambda atoms, labels, tld: ".".join(atoms)[:64] + "@" + ".".join([*labels, tld]),
    st.lists(_ATOM, min_size=1, max_size=4),
    st.lists(_LABEL, min_size=1, max_size=3),
    st.from_regex(r"[A-Za-z]{2,6}", fullmatch=True),
).filter(lambda a: not a.split("@")[0].endswith("."))
