"""DynamoDB conditional writes as every store module here makes them: an update built from a dict
of changes (None removes the attribute), and the one error a failed condition raises, told apart
from every other error (which the caller lets through)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


def condition_failed(err: ClientError) -> bool:
    """True when `err` is the write's condition failing (the item was not as expected)."""
    return err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def update_expression(
    changes: dict[str, Any], *, sets: list[str], names: dict[str, str], values: dict[str, Any]
) -> str:
    """The UpdateExpression that runs `sets` (SET clauses whose #names and :values are already in
    `names`/`values`) and applies `changes`: a value sets the attribute, None removes it. The
    changes' placeholders (#f0, :v0, ...) are added to `names` and `values`; attribute names
    never appear in the expression itself, so any name is safe."""
    sets, removes = list(sets), []
    for index, (name, value) in enumerate(sorted(changes.items())):
        names[f"#f{index}"] = name
        if value is None:
            removes.append(f"#f{index}")
        else:
            values[f":v{index}"] = value
            sets.append(f"#f{index} = :v{index}")
    return "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
