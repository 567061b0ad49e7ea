"""The record of everything a fake receiver received, and what it answered.

Each request becomes a :class:`ReceivedRequest`: the raw bytes and headers, the path, the arrival
time on the clock, the profile's verdict (signature/token valid, timestamp fresh: worked out when
first read, from what was captured on arrival), schema validity (checked on first use, off the
serving path),
the event id and type, the attempt number (how many times this event id has arrived so far) and
the answer (a status, or the fault).  :meth:`Record.timeline` renders it for humans; the sender
assertions print it when they fail.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..clock import SECOND, Clock
from ..profiles import Profile, Verdict

__all__ = ["ReceivedRequest", "Record"]


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as received.  ``answer``/``ended_ns`` are filled in once it was answered.

    Read-only: what arrived (and what the receiver answered) is not rewritten by assigning a field;
    copy what you need instead.  ``extra`` is a read-only mapping."""

    index: int
    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = field(repr=False)  # the token (mod.io): never in a repr
    body: bytes
    arrival_ns: int
    event_id: str | None
    event_type: str | None
    attempt: int
    verdict: Verdict | None
    schema: str | None
    json_error: str | None = None
    #: What the receiver did: "HTTP 500", "reset", "hang", ...
    answer: str = "pending"
    #: The status sent, when a complete response was sent.
    status: int | None = None
    #: Where the answer came from: "default", "plan", "chaos", "handler".
    source: str = "default"
    #: When the exchange ended on the clock, capped at arrival + deadline.
    ended_ns: int | None = None
    #: When the sender hung up while the receiver was still holding the answer back.
    gave_up_ns: int | None = None
    #: True when the receiver held the answer back until the sender's deadline (hang, long delay).
    held_past_deadline: bool = False
    #: True when the sender was still connected when the receiver stopped waiting (hang, dribble).
    sender_waited: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: Why ``body`` is not the whole body (over the limit, client left, released to bound the record).
    truncated: str | None = None
    #: Body bytes received (``len(body)`` unless the body was released).
    body_size: int = -1
    _violations: tuple[str, ...] | None = field(default=None, repr=False, compare=False)
    _sha256: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        fill = object.__setattr__
        if self.body_size < 0:
            fill(self, "body_size", len(self.body))
        if not isinstance(self.extra, MappingProxyType):  # the receiver's own notes, read-only outside
            fill(self, "extra", MappingProxyType(dict(self.extra)))

    def _fill(self, **fields: Any) -> None:
        """The receiver's own writes: the answer once known, the body released (never a user's)."""
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def _note(self, key: str, value: Any) -> None:
        """Add to ``extra`` (the receiver's own notes, such as why an upstream could not answer)."""
        notes = dict(self.extra)
        notes[key] = value
        object.__setattr__(self, "extra", MappingProxyType(notes))

    def _get_verdict(self) -> Verdict | None:
        pending = self.__dict__.get("_pending_verdict")
        if pending is not None:
            # worked out from what was captured on arrival (profile, headers, body, secret, time):
            # the same verdict as at arrival, whatever changed since
            profile, headers, body, secret, now = pending
            self.__dict__["_verdict"] = profile.check(headers, body, secret, now=now)
            self.__dict__["_pending_verdict"] = None
        return self.__dict__.get("_verdict")

    def _set_verdict(self, verdict: Verdict | None) -> None:
        self.__dict__["_verdict"] = verdict
        self.__dict__["_pending_verdict"] = None

    def verdict_on_first_read(
        self, profile: Profile, headers: tuple[tuple[str, str], ...], body: bytes, secret: str, now: int
    ) -> None:
        """The verdict is ``profile.check(headers, body, secret, now=now)``, worked out when first
        read (most tests never read it): the arguments are captured now, on arrival."""
        self.__dict__["_pending_verdict"] = (profile, headers, body, secret, now)

    @property
    def violations(self) -> tuple[str, ...]:
        """The body's schema violations, checked on first use rather than while the request is
        being answered (a JSON Schema check costs more than the rest of a request together)."""
        if self._violations is None:
            found: tuple[str, ...] = ()
            payload, _ = _decode(self.body) if self.schema is not None else (None, None)
            if isinstance(payload, dict) and self.schema is not None:
                from ..validation import violations

                try:
                    found = tuple(str(v) for v in violations(payload, self.schema, most=20))
                except RecursionError:
                    found = ("$: nested too deeply to check against the schema",)
            object.__setattr__(self, "_violations", found)
        return self._violations  # type: ignore[return-value]  # set just above

    @property
    def kept_bytes(self) -> int:
        """What this request holds in memory: its body and its headers."""
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers)

    def release(self, why: str) -> None:
        """Forget the body and the headers (the body's size and digest stay, and the schema problems
        found so far)."""
        object.__setattr__(self, "_sha256", self.body_sha256)
        self._get_verdict()  # it reads the headers and the body: work it out before they go
        if self._violations is None:
            self._fill(_violations=() if self.schema is None else (f"$: not checked ({why})",))
        self._fill(body=b"", headers=(), truncated=self.truncated or why)

    @property
    def schema_valid(self) -> bool:
        return self.json_error is None and not self.violations

    @property
    def body_sha256(self) -> str:
        if self._sha256 is None:
            return hashlib.sha256(self.body).hexdigest()
        return self._sha256

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def verdict_text(self) -> str:
        if self.verdict is None:
            return "not verified (no secret)"
        text = self.verdict.describe()
        if self.verdict.timestamp is not None:
            text += f" ts={self.verdict.timestamp}"
        return text

    def to_json(self, origin_ns: int | None = None) -> dict[str, Any]:
        """A JSON-friendly summary (no body, no secret-bearing headers)."""
        return {
            "index": self.index,
            "path": self.path,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "attempt": self.attempt,
            "arrival_ns": self.arrival_ns,
            "offset_s": None if origin_ns is None else (self.arrival_ns - origin_ns) / SECOND,
            "answer": self.answer,
            "status": self.status,
            "source": self.source,
            "verified": None if self.verdict is None else self.verdict.authentic,
            "fresh": None if self.verdict is None else self.verdict.fresh,
            "reason": None if self.verdict is None else self.verdict.reason,
            "schema_valid": self.schema_valid,
            "violations": list(self.violations) + ([self.json_error] if self.json_error else []),
            "bytes": self.body_size,
            "truncated": self.truncated,
        }


# The verdict field is read through a property: computed on first read (see verdict_on_first_read).
# Its setter serves the dataclass's __init__ only (which sets fields with object.__setattr__).
ReceivedRequest.verdict = property(  # type: ignore[assignment]
    ReceivedRequest._get_verdict, ReceivedRequest._set_verdict, doc="The profile's verdict (None: no secret)."
)


def _read_only(self: ReceivedRequest, name: str, value: Any = None) -> None:
    raise AttributeError(
        f"ReceivedRequest.{name} cannot be changed: the record is what arrived at the receiver (and "
        "what it answered); copy the value to change it, e.g. body = bytearray(request.body)"
    )


# Refused with hookmock's message rather than the frozen dataclass's "cannot assign to field".
ReceivedRequest.__setattr__ = _read_only  # type: ignore[method-assign,assignment]
ReceivedRequest.__delattr__ = _read_only  # type: ignore[method-assign,assignment]

#: Body bytes a record keeps in all; past this the oldest bodies are released (size and digest stay).
DEFAULT_KEEP_BYTES = 256 * 1024 * 1024
#: Event ids whose attempts are counted when ``keep_requests`` is set (oldest forgotten first).
_COUNTED_EVENTS = 100_000


class Record:
    """Thread-safe list of :class:`ReceivedRequest`, with attempt numbering per event id.

    Bounded: bodies and headers past ``keep_bytes`` in all are released oldest first (the request
    stays, marked ``truncated``); with ``keep_requests`` only the newest that many requests are kept
    (``dropped`` counts the others), as ``hookmock listen`` does for a receiver that runs for days."""

    def __init__(
        self,
        profile: Profile,
        secret: str | None,
        clock: Clock,
        *,
        keep_bytes: int = DEFAULT_KEEP_BYTES,
        keep_requests: int | None = None,
    ) -> None:
        self.profile = profile
        #: Every secret this record verified with, redacted from its timeline.
        self._secrets: list[str] = []
        self.secret = secret
        self.clock = clock
        self.keep_bytes = keep_bytes
        self.keep_requests = keep_requests
        self._lock = threading.Lock()
        self._items: deque[ReceivedRequest] = deque()
        self._counts: dict[str | None, int] = {}
        self._received = 0
        self._kept_bytes = 0
        #: Requests forgotten to honour ``keep_requests``.
        self.dropped = 0
        #: Extra lines printed at the top of the timeline (e.g. the chaos seed).
        self.notes: list[str] = []

    @property
    def secret(self) -> str | None:
        """The secret requests arriving from now on are verified with."""
        return self._secret

    @secret.setter
    def secret(self, value: str | None) -> None:
        if value is not None and value not in self._secrets:
            self._secrets.append(value)
        self._secret = value

    # -- writing -----------------------------------------------------------------------
    def receive(
        self,
        method: str,
        path: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
        arrival_ns: int,
        *,
        truncated: str | None = None,
    ) -> ReceivedRequest:
        payload, json_error = _decode(body) if truncated is None else (None, f"body not checked: {truncated}")
        event_id = event_type = schema = None
        if isinstance(payload, dict):
            event_id = self.profile.received_event_id(headers, payload)
            event_type = self.profile.event_type_of(payload)
            schema = self.profile.schema_for(payload)  # checked when violations are first read
        elif json_error is None:
            json_error = f"body is JSON {type(payload).__name__}, not an object"
        secret = self.secret
        with self._lock:
            attempt = self._counts.pop(event_id, 0) + 1
            self._counts[event_id] = attempt  # re-inserted: the dict is in order of last arrival
            self._received += 1
            item = ReceivedRequest(
                index=self._received,
                method=method,
                path=path,
                headers=headers,
                body=body,
                arrival_ns=arrival_ns,
                event_id=event_id,
                event_type=event_type,
                attempt=attempt,
                verdict=None,
                schema=schema,
                json_error=json_error,
                truncated=truncated,
            )
            if secret is not None:
                item.verdict_on_first_read(self.profile, headers, body, secret, arrival_ns // SECOND)
            self._items.append(item)
            self._bound(item)
        return item

    def _bound(self, newest: ReceivedRequest) -> None:
        """Keep the record within its bounds (called with the lock held)."""
        self._kept_bytes += newest.kept_bytes
        if self.keep_requests is not None:
            while len(self._items) > self.keep_requests:
                self._kept_bytes -= self._items.popleft().kept_bytes
                self.dropped += 1
            while len(self._counts) > max(_COUNTED_EVENTS, self.keep_requests):
                del self._counts[next(iter(self._counts))]
        if self._kept_bytes > self.keep_bytes:
            for item in self._items:
                if item is newest or self._kept_bytes <= self.keep_bytes:
                    break
                if item.body or item.headers:
                    self._kept_bytes -= item.kept_bytes
                    item.release(
                        f"released with its headers: the record keeps at most {self.keep_bytes} bytes"
                    )

    def clear(self) -> None:
        with self._lock:
            self._items = deque()
            self._counts = {}
            self._received = 0
            self._kept_bytes = 0
            self.dropped = 0
            self.notes = []

    # -- reading -----------------------------------------------------------------------
    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[ReceivedRequest]:
        return iter(self.requests)

    def __getitem__(self, index: int) -> ReceivedRequest:
        return self.requests[index]

    def for_event(self, event_id: str | None) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.event_id == event_id]

    def event_ids(self) -> list[str | None]:
        seen: dict[str | None, None] = {}
        for r in self.requests:
            seen.setdefault(r.event_id, None)
        return list(seen)

    def attempts(self, event_id: str | None = None) -> list[ReceivedRequest]:
        """The attempts of one delivery: every request, or those carrying ``event_id``."""
        return self.requests if event_id is None else self.for_event(event_id)

    def timeline(self, event_id: str | None = None) -> str:
        """The delivery timeline: attempt, time, what was received, answered, and the verdict."""
        items = self.attempts(event_id)
        profile = self.profile
        schedule = "/".join(f"{d / SECOND:g}s" for d in profile.retry_delays_ns) or "none"
        kind = "virtual" if self.clock.is_virtual else "real"
        lines = [
            f"delivery timeline ({profile.name}: deadline {profile.deadline_ns / SECOND:g}s, "
            f"retries {schedule}, max {profile.max_attempts} attempt(s); {kind} clock; "
            f"{len(items)} request(s))"
        ]
        lines.extend(f"  {note}" for note in self.notes)
        if self.dropped and event_id is None:
            lines.append(
                f"  ({self.dropped} earlier request(s) forgotten: "
                f"only the last {self.keep_requests} are kept)"
            )
        if not items:
            lines.append("  (nothing received)")
        origin = items[0].arrival_ns if items else 0
        for r in items:
            ended = "" if r.ended_ns is None else f", ended +{(r.ended_ns - origin) / SECOND:.3f}s"
            gave_up = ""
            if r.gave_up_ns is not None:
                gave_up = f", sender hung up +{(r.gave_up_ns - origin) / SECOND:.3f}s"
            elif r.sender_waited:
                gave_up = ", sender still waiting past the deadline"
            schema = (
                "schema ok"
                if r.schema_valid
                else "schema INVALID: "
                + "; ".join([*r.violations, *([r.json_error] if r.json_error else [])][:3])
            )
            lines.append(
                f"  #{r.index} attempt {r.attempt} at +{(r.arrival_ns - origin) / SECOND:.3f}s: "
                f"{r.method} {r.path} event {r.event_id} ({r.event_type}); {r.body_size} B "
                f"sha256 {r.body_sha256[:12]}; {r.verdict_text()}; {schema} -> {r.answer} "
                f"[{r.source}]{ended}{gave_up}" + (f" (body {r.truncated})" if r.truncated else "")
            )
        text = "\n".join(lines)  # shown in test failures: never a secret (a path may carry it)
        for secret in self._secrets:  # the one of now and any it replaced
            text = self.profile.redact(text, secret)
        return text


def _decode(body: bytes) -> tuple[Any, str | None]:
    from ..validation import JSONInputError, parse_json

    try:
        return parse_json(body, what="body"), None
    except JSONInputError as exc:
        return None, str(exc)
