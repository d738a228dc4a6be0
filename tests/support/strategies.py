"""Hypothesis strategies for what JSON can carry to a handler: arbitrary Unicode (with lone
surrogates, which JSON's "\\ud800" escape delivers and st.characters() alone would almost never
draw) and arbitrary JSON values. The bounds come from the house profile (tests/conftest.py)."""

from __future__ import annotations

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
