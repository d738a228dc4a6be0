"""The domain errors a function's logic raises. No HTTP in here: a REST API maps them to status
codes in one place (handler_kit.rest.STATUS), an event handler reports them (a poison record, a
rejected upload), a Step Functions task fails with them.

Each carries a message meant for the caller (it names the field or the thing and says what is
allowed; never a stack trace or a store's own error text) and a `code` a client can branch on
(the class name unless given, e.g. Conflict("...", code="StaleVersion")).
"""

from __future__ import annotations


class DomainError(Exception):
    """A request this function refuses; retrying the same request cannot succeed."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or type(self).__name__


class InvalidInput(DomainError):
    """The input is malformed or breaks a rule (a field, a parameter, a header)."""


class NotAuthenticated(DomainError):
    """No verified identity where one is required."""


class NotFound(DomainError):
    """No such thing, or not the caller's: the two are told apart by no one."""


class Conflict(DomainError):
    """The request contradicts what is stored (it exists already, a stale version)."""


class TooLarge(DomainError):
    """The input is larger than the function takes."""


class UnsupportedMediaType(DomainError):
    """The input is not in a format the function reads (a body that is not JSON)."""
