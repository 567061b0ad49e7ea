"""What the delivery log holds, as frozen records, and the providers' views of them.

:meth:`DeliveryRecord.moda_row` is a row of Moda's ``GET /v1/webhook_deliveries`` (valid against
the ``moda-delivery`` schema); :meth:`DeliveryRecord.modio_entry` a mod.io webhook-history entry
(valid against ``modio-history-entry``; mod.io publishes no history API, so that JSON shape is a
hookmock extension).  Neither holds a secret: the log never stores one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..clock import MS, format_iso
from .machine import DeliveryState

__all__ = [
    "HEADERS_MAX",
    "HEADERS_MAX_BYTES",
    "HEADER_VALUE_MAX",
    "INTERRUPTED",
    "IN_FLIGHT",
    "AttemptRecord",
    "DeliveryRecord",
    "Page",
    "bound_headers",
    "headers_from_json",
    "headers_to_json",
]

#: ``outcome`` of an attempt row that has been started and not completed yet.
IN_FLIGHT = "in_flight"
#: ``outcome`` of an attempt cut short by a crash (set on recovery).
INTERRUPTED = "interrupted"

#: What the log keeps of an attempt's response headers: the first 50, each value cut to 1 KB,
#: 8 KB in all (names and values; a header past that is left out).
HEADERS_MAX = 50
HEADER_VALUE_MAX = 1024
HEADERS_MAX_BYTES = 8192

Headers = tuple[tuple[str, str], ...]


def bound_headers(
    headers: Iterable[tuple[str, str]], redact: Callable[[str, bool], str] | None = None
) -> Headers:
    """``headers`` as the log keeps them: at most :data:`HEADERS_MAX`, values cut to
    :data:`HEADER_VALUE_MAX` characters, :data:`HEADERS_MAX_BYTES` in all.  ``redact(text, cut)``
    is applied to each name and value whole, then again (as a cut) to a value that was cut."""
    kept: list[tuple[str, str]] = []
    total = 0
    for name, value in headers:
        if len(kept) >= HEADERS_MAX:
            break
        name, value = str(name)[:HEADER_VALUE_MAX], str(value)
        if redact is not None:
            name, value = redact(name, False), redact(value, False)
        if len(value) > HEADER_VALUE_MAX:
            value = value[:HEADER_VALUE_MAX]
            if redact is not None:
                value = redact(value, True)
        if name.isascii() and value.isascii():  # the usual case: a byte per character
            size = len(name) + len(value)
        else:
            size = len(name.encode("utf-8", "replace")) + len(value.encode("utf-8", "replace"))
        if total + size > HEADERS_MAX_BYTES:
            break
        total += size
        kept.append((name, value))
    return tuple(kept)


#: short header sets -> their JSON: a receiver answers every attempt with the same few headers,
#: so the log encodes each such set once (bounded in count and size; the log stores only headers
#: already redacted, and the JSON is a pure function of them)
_JSON_OF: dict[Headers, str] = {}
_JSON_OF_MAX = 256
_JSON_OF_TEXT_MAX = 512


def headers_to_json(headers: Headers) -> str | None:
    if not headers:
        return None
    try:
        text = _JSON_OF.get(headers)
    except TypeError:  # not hashable (lists given for the tuples): encoded each time
        return json.dumps([list(h) for h in headers], ensure_ascii=False)
    if text is None:
        text = json.dumps([list(h) for h in headers], ensure_ascii=False)
        if len(text) <= _JSON_OF_TEXT_MAX:
            if len(_JSON_OF) >= _JSON_OF_MAX:
                _JSON_OF.clear()
            _JSON_OF[headers] = text
    return text


def headers_from_json(text: str | None) -> Headers:
    """The stored headers column (None in rows written before it existed, or without headers)."""
    if not text:
        return ()
    try:
        return tuple((str(n), str(v)) for n, v in json.loads(text))
    except (ValueError, TypeError):
        return ()


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt: append-only; inserted in flight before the request leaves, completed once."""

    number: int
    started_ns: int
    duration_ns: int | None
    outcome: str
    status: int | None
    excerpt: bytes
    detail: str
    #: the timestamp (unix s) the attempt was signed with, where the profile has one
    timestamp: int | None = None
    #: the response's headers, bounded (see :func:`bound_headers`) and with secrets redacted
    headers: Headers = ()

    def __init__(
        self,
        number: int,
        started_ns: int,
        duration_ns: int | None,
        outcome: str,
        status: int | None,
        excerpt: bytes,
        detail: str,
        timestamp: int | None = None,
        headers: Headers = (),
    ) -> None:
        # the generated frozen __init__'s work at a third of its cost (two per attempt; see
        # tests/test_perf_inproc.py, which keeps the two in step)
        fields = self.__dict__
        fields["number"] = number
        fields["started_ns"] = started_ns
        fields["duration_ns"] = duration_ns
        fields["outcome"] = outcome
        fields["status"] = status
        fields["excerpt"] = excerpt
        fields["detail"] = detail
        fields["timestamp"] = timestamp
        fields["headers"] = headers

    @property
    def in_flight(self) -> bool:
        return self.outcome == IN_FLIGHT

    @property
    def ended_ns(self) -> int | None:
        return None if self.duration_ns is None else self.started_ns + self.duration_ns

    @property
    def excerpt_text(self) -> str:
        return self.excerpt.decode("utf-8", "replace")

    def describe(self) -> str:
        if self.outcome == "response":
            return f"HTTP {self.status}"
        return f"{self.outcome}: {self.detail}" if self.detail else self.outcome

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "started_at": format_iso(self.started_ns),
            "started_ns": self.started_ns,
            "duration_ms": None if self.duration_ns is None else self.duration_ns // MS,
            "outcome": self.outcome,
            "status_code": self.status,
            "response_body_excerpt": self.excerpt_text,
            "detail": self.detail,
            "response_headers": [[name, value] for name, value in self.headers],
        }


@dataclass(frozen=True)
class DeliveryRecord:
    """One delivery row."""

    seq: int
    id: str
    profile: str
    event_id: str | None
    event_type: str
    target_url: str
    state: DeliveryState
    created_ns: int
    last_attempted_ns: int | None
    response_status_code: int | None
    response_body_excerpt: bytes | None
    last_duration_ns: int | None
    api_key_id: str | None
    replayed_from_id: str | None
    agent_job_id: str | None
    body: bytes

    def __init__(
        self,
        seq: int,
        id: str,
        profile: str,
        event_id: str | None,
        event_type: str,
        target_url: str,
        state: DeliveryState,
        created_ns: int,
        last_attempted_ns: int | None,
        response_status_code: int | None,
        response_body_excerpt: bytes | None,
        last_duration_ns: int | None,
        api_key_id: str | None,
        replayed_from_id: str | None,
        agent_job_id: str | None,
        body: bytes,
    ) -> None:
        # the generated frozen __init__'s work at a third of its cost (see tests/test_perf_inproc.py)
        fields = self.__dict__
        fields["seq"] = seq
        fields["id"] = id
        fields["profile"] = profile
        fields["event_id"] = event_id
        fields["event_type"] = event_type
        fields["target_url"] = target_url
        fields["state"] = state
        fields["created_ns"] = created_ns
        fields["last_attempted_ns"] = last_attempted_ns
        fields["response_status_code"] = response_status_code
        fields["response_body_excerpt"] = response_body_excerpt
        fields["last_duration_ns"] = last_duration_ns
        fields["api_key_id"] = api_key_id
        fields["replayed_from_id"] = replayed_from_id
        fields["agent_job_id"] = agent_job_id
        fields["body"] = body

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def attempts(self) -> int:
        return self.state.attempts

    def changed(self, **changes: Any) -> DeliveryRecord:
        """A copy with ``changes`` (what ``dataclasses.replace`` does, for the fields of this plain
        frozen class, without its per-call look at every field: the log does this per attempt)."""
        unknown = changes.keys() - self.__dict__.keys()
        if unknown:
            raise TypeError(f"DeliveryRecord has no field {sorted(unknown)[0]!r}")
        return self.replaced(changes)

    def replaced(self, changes: dict[str, Any]) -> DeliveryRecord:
        """:meth:`changed` for changes known to name fields only (the log's own, per attempt)."""
        copy = object.__new__(DeliveryRecord)
        fields = copy.__dict__
        fields.update(self.__dict__)
        fields.update(changes)
        return copy

    def moda_row(self) -> dict[str, Any]:
        """A row of Moda's ``GET /v1/webhook_deliveries`` (plus ``event_id``)."""
        return {
            "id": self.id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "target_url": self.target_url,
            "status": self.status,
            "attempts": self.attempts,
            "created_at": format_iso(self.created_ns),
            "last_attempted_at": None
            if self.last_attempted_ns is None
            else format_iso(self.last_attempted_ns),
            "response_status_code": self.response_status_code,
            "response_body_excerpt": None
            if self.response_body_excerpt is None
            else self.response_body_excerpt.decode("utf-8", "replace"),
            "api_key_id": self.api_key_id,
            "replayed_from_id": self.replayed_from_id,
            "agent_job_id": self.agent_job_id,
        }

    def payload(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None

    def modio_entry(self) -> dict[str, Any]:
        """An entry of mod.io's webhook history (hookmock's JSON for it is an extension)."""
        payload = self.payload()
        payload_obj = payload if isinstance(payload, dict) else {}
        resource = payload_obj.get("request_resource")
        resource_id = resource.get("resource_id") if isinstance(resource, dict) else None
        return {
            "id": self.id,
            "date": format_iso(self.created_ns),
            "name": self.event_type,
            "http_status": self.response_status_code,
            "response": None
            if self.response_body_excerpt is None
            else self.response_body_excerpt.decode("utf-8", "replace"),
            "duration_ms": None if self.last_duration_ns is None else self.last_duration_ns // MS,
            "attempts": self.attempts,
            "last_attempted": None if self.last_attempted_ns is None else format_iso(self.last_attempted_ns),
            "event_uuid": self.event_id,
            "ruleset_uuid": None,
            "url": self.target_url,
            "resource_id": resource_id if isinstance(resource_id, int) else None,
            "status": self.status,
            "payload": payload_obj,
        }

    def view(self) -> dict[str, Any]:
        """The view of this row in its own provider's shape."""
        return self.modio_entry() if self.profile == "modio" else self.moda_row()


@dataclass(frozen=True)
class Page:
    """One page of a log query: rows newest first, and the cursor of the next page (or None)."""

    records: list[DeliveryRecord]
    next_cursor: str | None

    def moda(self) -> dict[str, Any]:
        """``{"data": [...], "next_cursor": ...}`` as Moda's list endpoints answer."""
        return {"data": [r.moda_row() for r in self.records], "next_cursor": self.next_cursor}

    def modio(self) -> dict[str, Any]:
        return {"data": [r.modio_entry() for r in self.records], "next_cursor": self.next_cursor}

    def __len__(self) -> int:
        return len(self.records)
