"""What every provider profile provides.

A profile is one module under :mod:`hookmock.profiles` that defines ``PROFILE``, an instance of a
:class:`Profile` subclass.  It holds every fact about its provider: the event catalogue, how a
payload is built, how a request is signed and verified, the response deadline, the retry
schedule and what counts as success.  Nothing outside a profile module knows these facts.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import random
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._util.headers import HeadersLike, get_header
from .._util.redact import Redactor, redactor_for
from .._version import __version__
from ..clock import SECOND
from ..errors import TimestampTooNew, TimestampTooOld, UsageError, VerificationError

if TYPE_CHECKING:  # pragma: no cover
    from faker import Faker

    from ._audit import ProfileCheck

__all__ = ["DEFAULT_TOLERANCE_S", "Profile", "Verdict"]

#: How far a timestamp may be from ``now`` (either way) before verification rejects it.
DEFAULT_TOLERANCE_S = 300

#: A timestamp header's value as a receiver may accept it: digits only.
_TS_RE = re.compile(r"^[0-9]{1,15}$")

USER_AGENT = f"hookmock/{__version__}"


#: ``json.dumps(payload, ensure_ascii=False, separators=(",", ":"))`` without a new encoder per call
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one received request against a profile.

    ``authentic`` is whether the signature (or token) matched; ``fresh`` whether the timestamp
    was inside the tolerance (``None`` where the profile has no timestamp).  ``error`` is the
    first problem found, as the exception :meth:`Profile.verify` would raise.
    """

    ok: bool
    authentic: bool | None
    fresh: bool | None
    error: VerificationError | None = None
    timestamp: int | None = None

    @property
    def reason(self) -> str:
        return "ok" if self.error is None else self.error.reason

    def describe(self) -> str:
        return "valid" if self.ok else f"{self.reason}: {self.error}"


@dataclass(frozen=True)
class EventSpec:
    """One entry of a profile's event catalogue."""

    name: str
    description: str
    inferred: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


class Profile(ABC):
    """Base class of provider profiles.  Subclasses set the class attributes and methods."""

    #: Registry name, e.g. ``"moda"``.
    name: str
    #: Human name, e.g. ``"Moda"``.
    title: str
    #: What the shared secret is called in messages (``"signing secret"`` / ``"webhook token"``).
    secret_name: str
    #: A public prefix every generated secret starts with (kept when the secret is redacted).
    secret_prefix: str = ""
    #: Whole-response deadline of one attempt, in ns.
    deadline_ns: int
    #: Waits before each automatic retry, in ns (empty: no automatic retries).
    retry_delays_ns: tuple[int, ...]
    #: Whether a manual retry creates a new delivery (``"new_delivery"``) or re-sends the same
    #: history entry and bumps its attempts (``"same_entry"``).
    manual_retry: str
    #: Whether a receiver is expected to check the timestamp (replay protection).
    has_timestamp: bool
    #: Schema names this profile owns; the first is the name of its event payload schema.
    schemas: tuple[str, ...]
    #: How the signature's digest is written (``"hex"``, ``"base64"``): the audit's "not hex"
    #: probe uses characters outside it.
    signature_encoding: str = "hex"
    #: Generic audit checks that do not apply to this provider, by check name, with the reason
    #: shown in the report (e.g. ``{"replay": "GitHub sends no timestamp: ..."}``).
    audit_skips: Mapping[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Profiles written before ``message_id`` existed (a ``sign(body, secret, timestamp)``
        without it) keep working: the keyword is dropped for them rather than raising TypeError."""
        super().__init_subclass__(**kwargs)
        for name in ("sign", "sign_timestamp_text"):
            method = cls.__dict__.get(name)
            if method is not None and not _takes_message_id(method):
                setattr(cls, name, _without_message_id(method))

    # -- rules -------------------------------------------------------------------------
    @property
    def max_attempts(self) -> int:
        return 1 + len(self.retry_delays_ns)

    @property
    def deadline_s(self) -> float:
        return self.deadline_ns / SECOND

    def is_success(self, status: int) -> bool:
        """Only 2xx is success; 3xx is a failure and redirects are never followed."""
        return 200 <= status <= 299

    # -- catalogue ---------------------------------------------------------------------
    @property
    @abstractmethod
    def event_types(self) -> tuple[str, ...]:
        """Every event name this profile can send, in catalogue order."""

    @abstractmethod
    def event_spec(self, event_type: str) -> EventSpec:
        """The catalogue entry for ``event_type``; raises :class:`UnknownEventType`."""

    # -- payloads ----------------------------------------------------------------------
    @abstractmethod
    def build_payload(
        self, event_type: str, *, fake: Faker, rng: random.Random, now_s: int, overrides: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A realistic, schema-valid payload for ``event_type`` with ``overrides`` applied."""

    def optional_fields(self, payload: Mapping[str, Any]) -> dict[tuple[str, ...], bool]:
        """Fields a receiver must cope with being absent, mapped to whether null is legal too."""
        return {}

    @abstractmethod
    def event_id(self, payload: Mapping[str, Any]) -> str | None:
        """The event's idempotency key (stable across retries), or None if absent."""

    @abstractmethod
    def event_type_of(self, payload: Mapping[str, Any]) -> str | None:
        """The event name carried by ``payload``."""

    # -- message identity --------------------------------------------------------------
    def new_message_id(self, rng: random.Random | None = None) -> str | None:
        """A fresh message id, for a provider that identifies a message outside its payload (a
        header that stays the same on every retry of the message); None when the payload carries
        its own id (:meth:`event_id`)."""
        return None

    def message_id_for(self, payload: Any, rng: random.Random | None = None) -> str | None:
        """The id a message of ``payload`` is sent under: the payload's own event id, or else a new
        message id (:meth:`new_message_id`); None when the provider has neither."""
        own = self.event_id(payload) if isinstance(payload, Mapping) else None
        return own if own is not None else self.new_message_id(rng)

    def received_event_id(self, headers: HeadersLike, payload: Any) -> str | None:
        """The idempotency key of a received request: the payload's event id by default (a
        profile whose id travels in a header reads it there)."""
        return self.event_id(payload) if isinstance(payload, Mapping) else None

    @abstractmethod
    def schema_for(self, payload: Mapping[str, Any]) -> str:
        """Name of the schema ``payload`` should validate against."""

    def serialize(self, payload: Mapping[str, Any]) -> bytes:
        """The exact bytes sent.  Sign, store and send these; never re-serialize."""
        return _ENCODE(payload).encode("utf-8")

    # -- authenticity ------------------------------------------------------------------
    @abstractmethod
    def sign(
        self, body: bytes, secret: str, timestamp: int, *, message_id: str | None = None
    ) -> dict[str, str]:
        """The authenticity headers for one attempt sent at ``timestamp`` (unix seconds).
        ``message_id``: the message's id (the same on every attempt), for a provider that sends and
        signs one; others ignore it, and a profile that needs one makes a new one when it is None."""

    #: Whether one request can carry several signatures, one per secret (key rotation).
    multi_signature: bool = False

    def sign_rotated(
        self, body: bytes, secrets: Sequence[str], timestamp: int, *, message_id: str | None = None
    ) -> dict[str, str]:
        """Authenticity headers signed with every secret of ``secrets`` (key rotation: the new
        and the old secret); with one secret, :meth:`sign`."""
        if len(secrets) == 1:
            return self.sign(body, secrets[0], timestamp, message_id=message_id)
        raise UsageError(
            f"{self.title} sends one signature per request; signing with {len(secrets)} secrets "
            "(key rotation) is not part of its format: give one secret"
        )

    def sign_timestamp_text(
        self, body: bytes, secret: str, timestamp_text: str, *, message_id: str | None = None
    ) -> dict[str, str] | None:
        """Authenticity headers carrying ``timestamp_text`` verbatim as the timestamp and signed over
        it, even when it is not a valid timestamp (the audit's malformed-timestamp probes).  None when
        the profile sends no timestamp."""
        return None

    def auth_header_names(self) -> tuple[str, ...]:
        """The names of the headers :meth:`sign` produces (what a re-signed request replaces)."""
        secret = self.generate_secret(random.Random(0))
        return tuple(self.sign(b"", secret, 0, message_id=self.new_message_id(random.Random(0))))

    def split_signature(self, value: str) -> tuple[str, str]:
        """``("v1=", "<digest>")`` for a signature header value with a scheme prefix, ``("", value)``
        without one: the audit damages the digest and keeps the prefix."""
        prefix, sep, rest = value.partition("=")
        return (prefix + sep, rest) if sep else ("", value)

    @abstractmethod
    def verify(
        self,
        headers: HeadersLike,
        body: bytes,
        secret: str,
        *,
        now: int,
        tolerance: int = DEFAULT_TOLERANCE_S,
    ) -> int | None:
        """Raise a :class:`VerificationError` subclass unless the request is authentic and fresh;
        return the request's timestamp (None where the profile sends none)."""

    def check(
        self,
        headers: HeadersLike,
        body: bytes,
        secret: str,
        *,
        now: int,
        tolerance: int = DEFAULT_TOLERANCE_S,
    ) -> Verdict:
        """Like :meth:`verify` but returns a :class:`Verdict` instead of raising."""
        try:
            ts = self.verify(headers, body, secret, now=now, tolerance=tolerance)
        except VerificationError as exc:
            # The verdict keeps the exception: without its traceback, which would keep every frame
            # of the check alive (and with them the request body) for as long as the verdict lives.
            exc = exc.with_traceback(None)
            return self._verdict_for(exc, headers, now=now, tolerance=tolerance)
        return Verdict(ok=True, authentic=True, fresh=True if self.has_timestamp else None, timestamp=ts)

    def _verdict_for(
        self, exc: VerificationError, headers: HeadersLike, *, now: int, tolerance: int
    ) -> Verdict:
        """The verdict of a refused request: for a profile with a timestamp header, whether the
        timestamp was fresh (a stale or future one was authentic, only too old or too new)."""
        name = getattr(self, "timestamp_header", None)
        if not self.has_timestamp or not name:
            return Verdict(ok=False, authentic=False, fresh=None, error=exc)
        ts_text = get_header(headers, name)
        ts = int(ts_text) if ts_text and _TS_RE.match(ts_text) else None
        if isinstance(exc, (TimestampTooOld, TimestampTooNew)):
            return Verdict(ok=False, authentic=True, fresh=False, error=exc, timestamp=ts)
        fresh = None if ts is None else abs(now - ts) <= tolerance
        return Verdict(ok=False, authentic=False, fresh=fresh, error=exc, timestamp=ts)

    def delivery_headers(
        self,
        body: bytes,
        secret: str,
        timestamp: float,
        *,
        message_id: str | None = None,
        extra_secrets: Sequence[str] = (),
    ) -> dict[str, str]:
        """Every header of one delivery attempt: content type, user agent, authenticity.
        ``timestamp``: unix seconds; a float (``clock.time()``) is floored to whole seconds.
        ``message_id``: see :meth:`sign`; ``extra_secrets``: more secrets to sign with as well
        (key rotation, see :meth:`sign_rotated`)."""
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        whole = math.floor(timestamp) if isinstance(timestamp, float) else timestamp
        if extra_secrets:
            headers.update(self.sign_rotated(body, [secret, *extra_secrets], whole, message_id=message_id))
        else:
            headers.update(self.sign(body, secret, whole, message_id=message_id))
        return headers

    def event_headers(self, event_type: str) -> dict[str, str]:
        """Headers naming the event, for a provider that sends its name in a header rather than
        in the payload (GitHub's ``X-GitHub-Event``); empty for the others.  Senders that know the
        event's name add these to :meth:`delivery_headers`."""
        return {}

    @abstractmethod
    def generate_secret(self, rng: random.Random | None = None) -> str:
        """A new secret in the provider's format."""

    def check_secret(self, secret: str, *, signing: bool = True) -> None:
        """Raise :class:`~hookmock.UsageError` unless ``secret`` is usable to sign with (``signing``)
        or to verify with; called when a sender or receiver is made, before anything is logged or
        served.  Any non-empty text by default; a profile whose keys have a format checks it."""
        return None

    def secret_prefix_of(self, secret: str) -> str:
        """The public prefix of ``secret`` kept when it is redacted (a profile with several key
        formats, e.g. a signing secret and a key pair, picks the one ``secret`` starts with)."""
        return self.secret_prefix

    def redactor(self, secret: str) -> Redactor:
        """The redactor of ``secret``: every form of it (escaped, re-cased, base64, percent, hex)
        and every piece of one, as :mod:`hookmock._util.redact` describes.  Cached per secret."""
        return redactor_for(secret, self.secret_prefix_of(secret))

    # -- audit ---------------------------------------------------------------------------
    def audit_checks(self) -> tuple[ProfileCheck, ...]:
        """Checks of defect classes only this provider's format has (see
        :mod:`hookmock.profiles._audit`); the audit runs them after the generic ones."""
        return ()

    def redact(self, text: str, secret: str, *, cut: bool = False) -> str:
        """``text`` with the secret removed, in any form and in pieces; ``cut``: ``text`` may have
        been cut short, so a shorter piece of the secret at its very end is removed too."""
        return self.redactor(secret).text(text, cut=cut) if secret else text

    # -- hostile-but-legal body variants (defect #1) -------------------------------------
    def body_variants(self, payload: Mapping[str, Any]) -> dict[str, bytes]:
        """Byte-different encodings of ``payload`` that decode to equal JSON values, and that a
        receiver re-serializing the JSON before verifying would get wrong."""
        from .._util.bodies import hostile_variants

        return hostile_variants(payload)

    def __repr__(self) -> str:
        return f"<Profile {self.name}>"


def _takes_message_id(method: Any) -> bool:
    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins: assume the modern signature
        return True
    return "message_id" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _without_message_id(method: Any) -> Any:
    @functools.wraps(method)
    def call(self: Any, *args: Any, message_id: str | None = None, **kwargs: Any) -> Any:
        return method(self, *args, **kwargs)

    return call
