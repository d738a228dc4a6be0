"""A function's configuration, read once from the environment its construct sets, and validated.

    import dataclasses, functools
    from handler_kit.settings import environment

    @dataclasses.dataclass(frozen=True)
    class Settings:
        table_name: str
        page_size: int

    @functools.cache
    def settings() -> Settings:
        with environment() as env:
            return Settings(
                table_name=env.text("TABLE_NAME"),
                page_size=env.integer("PAGE_SIZE", default=25, minimum=1),
            )

    settings()  # at import: a misconfigured function fails its init, not its first event

Every accessor names its variable; a variable without `default=` is required. When the `with`
block ends, every problem found (missing, empty, not a number, out of range, not one of the
choices) is raised at once as a ConfigurationError naming each variable, its value and what is
allowed. Accessors return a placeholder for a bad variable so the block can go on and report
the others; the placeholder never escapes (the block raises).

tests/test_environment_contract.py reads these calls to check what each function reads against
what its template sets: give the name as a string literal or a module-level string constant.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

_REQUIRED: Any = object()


class ConfigurationError(RuntimeError):
    """The function's environment is missing or has a malformed variable; the message names each."""


class Environment:
    """Typed reads of environment variables; problems are collected, see `environment()`."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values
        self.problems: list[str] = []

    def _raw(self, name: str, default: Any) -> str | None:
        value = self._values.get(name)
        if value is None or value.strip() == "":
            if default is _REQUIRED:
                self.problems.append(
                    f"{name} is {'empty' if value is not None else 'not set'}: the function's "
                    "construct sets it"
                )
            return None
        return value

    def text(self, name: str, default: Any = _REQUIRED, *, pattern: str | None = None) -> str:
        value = self._raw(name, default)
        if value is None:
            return "" if default is _REQUIRED else default
        if pattern is not None and not re.fullmatch(pattern, value):
            self.problems.append(f"{name}={value!r:.80} does not match {pattern}")
        return value

    def integer(
        self,
        name: str,
        default: Any = _REQUIRED,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = self._raw(name, default)
        if value is None:
            return 0 if default is _REQUIRED else default
        if not re.fullmatch(r"-?[0-9]{1,18}", value.strip()):
            self.problems.append(f"{name}={value!r:.80} is not a whole number")
            return 0
        number = int(value)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            allowed = f"{'' if minimum is None else minimum}..{'' if maximum is None else maximum}"
            self.problems.append(f"{name}={number} is out of range; allowed: {allowed}")
        return number

    def flag(self, name: str, default: Any = _REQUIRED) -> bool:
        value = self._raw(name, default)
        if value is None:
            return False if default is _REQUIRED else default
        if value.strip().lower() not in ("true", "false"):
            self.problems.append(f"{name}={value!r:.80}; allowed: true, false")
            return False
        return value.strip().lower() == "true"

    def choice(self, name: str, choices: Sequence[str], default: Any = _REQUIRED) -> str:
        value = self._raw(name, default)
        if value is None:
            return choices[0] if default is _REQUIRED else default
        if value not in choices:
            self.problems.append(f"{name}={value!r:.80}; allowed: {', '.join(choices)}")
        return value

    def items(self, name: str, default: Any = _REQUIRED) -> tuple[str, ...]:
        """A comma-separated list, blanks dropped (e.g. ALLOWED_ORIGINS)."""
        value = self._raw(name, default)
        if value is None:
            return () if default is _REQUIRED else tuple(default)
        return tuple(item.strip() for item in value.split(",") if item.strip())


@contextlib.contextmanager
def environment(values: Mapping[str, str] | None = None) -> Iterator[Environment]:
    """An Environment over `values` (default: os.environ); raises ConfigurationError at the end
    of the block if any read found a problem."""
    env = Environment(os.environ if values is None else values)
    yield env
    if env.problems:
        raise ConfigurationError(
            f"{len(env.problems)} problem(s) with the function's environment: "
            + "; ".join(env.problems)
        )
