"""What IAM refused while enforced (iam_enforcement.py), whatever the code under test made of it.

with refusals() as refused: ...          # every Refusal(action, resource, principal)
outcome = attempt(handler, event, ctx)   # what it returned or raised, and what was refused
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any


@dataclasses.dataclass(frozen=True)
class Refusal:
    """One request IAM refused while enforced: what, on which resource, for whom."""

    action: str
    resource: str
    principal: str


_collectors: list[list[Refusal]] = []  # one per open `refusals()` block


@contextlib.contextmanager
def refusals() -> Iterator[list[Refusal]]:
    """The refusals made inside this block, whatever the code under test did with the error
    (raised it, turned it into a 500, reported a batch item failure, logged it)."""
    found: list[Refusal] = []
    _collectors.append(found)
    try:
        yield found
    finally:
        # By identity: blocks nest (a grant mutation around a test's attempt()), and list.remove
        # would take the first *equal* list, another block's while both are empty.
        del _collectors[next(i for i, c in enumerate(_collectors) if c is found)]


def record_refusal(action: str, resource: str, principal: str) -> None:
    for collector in _collectors:
        collector.append(Refusal(action, resource, principal))


@dataclasses.dataclass
class Attempt:
    """What running some code under enforcement came to."""

    result: Any
    error: BaseException | None
    refused: list[Refusal]

    @property
    def refused_actions(self) -> set[str]:
        return {r.action for r in self.refused}

    @property
    def failed(self) -> bool:
        """It raised, answered with a 5xx status, or reported failed batch items."""
        if self.error is not None:
            return True
        if isinstance(self.result, dict):
            status = self.result.get("statusCode")
            return (isinstance(status, int) and status >= 500) or bool(
                self.result.get("batchItemFailures")
            )
        return False


def attempt(call, *args, **kwargs) -> Attempt:
    """Run `call`, keeping what it returned or raised and what IAM refused meanwhile."""
    with refusals() as refused:
        try:
            result, error = call(*args, **kwargs), None
        except Exception as err:  # noqa: BLE001 - the caller asserts on it
            result, error = None, err
    return Attempt(result, error, refused)
