"""hookmock's exceptions, in one tree.

::

    HookmockError
    ├── UsageError                 you asked for something hookmock cannot do (bad value, bad option)
    │   ├── UnknownProfile
    │   ├── UnknownEventType
    │   └── TargetNotAllowed       an outbound target outside the allowed addresses
    ├── SchemaValidationError      a payload does not match its JSON Schema (lists every violation)
    └── VerificationError          a webhook request failed the profile's authenticity check
        ├── MissingHeader
        ├── MalformedHeader
        ├── BadSignature
        ├── BadToken
        ├── TimestampTooOld
        └── TimestampTooNew
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BadSignature",
    "BadToken",
    "HookmockError",
    "MalformedHeader",
    "MissingHeader",
    "SchemaValidationError",
    "TargetNotAllowed",
    "TimestampTooNew",
    "TimestampTooOld",
    "UnknownEventType",
    "UnknownProfile",
    "UsageError",
    "VerificationError",
    "Violation",
]


class HookmockError(Exception):
    """Base class of every error hookmock raises on purpose."""


class UsageError(HookmockError, ValueError):
    """A value or option given to hookmock is wrong; the message says which and what to do."""


class UnknownProfile(UsageError, LookupError):
    pass


class UnknownEventType(UsageError, LookupError):
    pass


class TargetNotAllowed(UsageError):
    """An outbound webhook target resolved to an address that is not allowed."""


class VerificationError(HookmockError):
    """A webhook request is not authentic or not fresh.  ``reason`` is a short machine code."""

    reason = "invalid"


class MissingHeader(VerificationError):
    reason = "missing_header"


class MalformedHeader(VerificationError):
    reason = "malformed_header"


class BadSignature(VerificationError):
    reason = "bad_signature"


class BadToken(VerificationError):
    reason = "bad_token"


class TimestampTooOld(VerificationError):
    reason = "timestamp_too_old"


class TimestampTooNew(VerificationError):
    reason = "timestamp_too_new"


@dataclass(frozen=True)
class Violation:
    """One schema violation: where (a JSON path such as ``$.data.status``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SchemaValidationError(HookmockError, ValueError):
    """Raised by :func:`hookmock.validate`; ``violations`` lists every problem found."""

    def __init__(self, schema: str, violations: Sequence[Violation]) -> None:
        self.schema = schema
        self.violations = list(violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(
            f"payload does not match schema {schema!r} ({len(self.violations)} violation(s)):\n{lines}"
        )
