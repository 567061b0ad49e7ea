"""Deliberately broken receivers: each gets exactly one thing wrong (one defect class each).

They are what integrators really write (see the public bug trackers cited in
``docs/audit-catalogue.md``).  Header names appear here because this is receiver code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from hookmock.clock import SECOND, VirtualClock

from .base import WerkzeugReceiver

SIG = "X-Webhook-Signature"
TS = "X-Webhook-Timestamp"
TOKEN = "X-Modio-Webhook-Token"


def _hmac(secret: str, ts: str, body: bytes) -> str:
    return hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()


class _ManualModa(WerkzeugReceiver):
    """Moda verification spelled out, with hooks for the mistakes."""

    tolerance_past = 300
    tolerance_future = 300

    def signed_bytes(self, body: bytes) -> bytes:
        return body

    def parse_ts(self, raw: str) -> float:
        if not raw.isdigit():
            raise ValueError(raw)
        return int(raw)

    def signature_ok(self, got: str | None, expected: str) -> bool:
        # bytes, not str: compare_digest raises TypeError on non-ASCII text (see receivers.hostile)
        return got is not None and hmac.compare_digest(got.encode(), ("v1=" + expected).encode())

    def authenticate(self, request: Request, body: bytes) -> Response | None:
        ts_raw = request.headers.get(TS)
        if ts_raw is None:
            return Response("no timestamp", status=401)
        expected = _hmac(self.secret, ts_raw, self.signed_bytes(body))
        if not self.signature_ok(request.headers.get(SIG), expected):
            return Response("bad signature", status=401)
        try:
            ts = self.parse_ts(ts_raw)
        except ValueError:
            return Response("bad timestamp", status=400)
        now = int(self.clock.time())
        if now - ts > self.tolerance_past or ts - now > self.tolerance_future:
            return Response("stale", status=401)
        return None


# -- 1: verifies re-serialized JSON ------------------------------------------------------------
class ReserializingReceiver(_ManualModa):
    def signed_bytes(self, body: bytes) -> bytes:
        try:
            return json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
        except ValueError:
            return body


# -- 2: wrong charset ----------------------------------------------------------------------------
class AsciiReceiver(WerkzeugReceiver):
    def parse(self, request: Request, body: bytes) -> dict[str, Any] | Response:
        text = body.decode("ascii")  # UnicodeDecodeError on any non-ASCII byte: a 500
        try:
            payload = json.loads(text)
        except ValueError:
            return Response("bad json", status=400)
        return payload if isinstance(payload, dict) else Response("not an event", status=400)


# -- 3: no or lenient signature check --------------------------------------------------------
class NoSignatureCheckReceiver(WerkzeugReceiver):
    def authenticate(self, request: Request, body: bytes) -> Response | None:
        return None


class OptionalSignatureReceiver(_ManualModa):
    """Checks the signature only when the header is there."""

    def signature_ok(self, got: str | None, expected: str) -> bool:
        return got is None or hmac.compare_digest(got.encode(), ("v1=" + expected).encode())


class PrefixSignatureReceiver(_ManualModa):
    """Accepts a signature that is a prefix of the right one (truncated, empty), with or without v1=."""

    def signature_ok(self, got: str | None, expected: str) -> bool:
        if got is None:
            return False
        return expected.startswith(got.removeprefix("v1="))


# -- 4: applies the effect before verifying ------------------------------------------------------
class EffectFirstReceiver(WerkzeugReceiver):
    def handle(self, request: Request) -> Response:
        body = request.get_data(cache=False)
        try:
            payload = json.loads(body)
            self.store.apply_once(self.profile.event_id(payload) or "")
        except (ValueError, TypeError, AttributeError):
            pass
        return super().authenticate(request, body) or Response("ok", status=200)


# -- 5, 6, 7: timestamp windows -------------------------------------------------------------------
class NoReplayCheckReceiver(_ManualModa):
    tolerance_past = 10**12


class OneSidedWindowReceiver(_ManualModa):
    tolerance_future = 10**12


class StrictWindowReceiver(_ManualModa):
    tolerance_past = 60
    tolerance_future = 60


# -- 8: timestamp parsing --------------------------------------------------------------------------
class IntCrashReceiver(_ManualModa):
    """int() before anything else: any malformed timestamp is a 500."""

    def authenticate(self, request: Request, body: bytes) -> Response | None:
        int(request.headers.get(TS, ""))
        return super().authenticate(request, body)


class FloatTimestampReceiver(_ManualModa):
    """float(): 'NaN' is never "too old" or "too new"."""

    def parse_ts(self, raw: str) -> float:
        return float(raw)


# -- 10, 11, 12, 13: duplicates -----------------------------------------------------------------
class NoDedupeReceiver(WerkzeugReceiver):
    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        self.store.apply_always(self.profile.event_id(payload) or "")
        return Response("ok", status=200)


class SignatureDedupeReceiver(WerkzeugReceiver):
    """Deduplicates on the signature header, which changes on every attempt."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signatures: set[str] = set()

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        key = request.headers.get(SIG, "")
        with self.store.lock:
            fresh = key not in self.signatures
            self.signatures.add(key)
        if fresh:
            self.store.apply_always(self.profile.event_id(payload) or "")
        return Response("ok", status=200)


class RacyDedupeReceiver(WerkzeugReceiver):
    """Check, then (after some work) insert: concurrent copies all pass the check."""

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        event_id = self.profile.event_id(payload) or ""
        if self.store.count(event_id):
            return Response("duplicate", status=200)
        time.sleep(0.01)  # the receiver's own work between check and insert: the race window
        self.store.apply_always(event_id)
        return Response("ok", status=200)


class ConflictOnDuplicateReceiver(WerkzeugReceiver):
    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        if not self.store.apply_once(self.profile.event_id(payload) or ""):
            return Response("already processed", status=409)
        return Response("ok", status=200)


# -- 14: slower than the deadline ----------------------------------------------------------------
class SlowReceiver(WerkzeugReceiver):
    """Works before answering; on a virtual clock the work advances the clock instead: to the
    request's arrival + ``work_ns``, so that copies handled at once (the concurrency check holds
    them together) each take ``work_ns``, as parallel work does, instead of adding up."""

    work_ns = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["slow.arrived_ns"] = self.clock.now_ns()
        return super().__call__(environ, start_response)

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        if isinstance(self.clock, VirtualClock):
            self.clock.advance_to(request.environ["slow.arrived_ns"] + self.work_ns)
        return super().process(request, payload)


class TooSlowReceiver(SlowReceiver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.work_ns = self.profile.deadline_ns + SECOND


class SluggishReceiver(SlowReceiver):
    work_ns = 2 * SECOND


# -- 15: rejects events it does not handle --------------------------------------------------------
class OnlyFirstEventReceiver(WerkzeugReceiver):
    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        if self.profile.event_type_of(payload) != self.profile.event_types[0]:
            return Response("unsupported event", status=400)
        return super().process(request, payload)


# -- 16: crashes on legal payload variants ---------------------------------------------------------
class OptionalFieldCrashReceiver(WerkzeugReceiver):
    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        if self.profile.name == "modio":
            if "event_name" in payload:
                payload["request_secondary_resource"]  # KeyError when absent (null is handled)
        else:
            payload["data"]["progress"]  # KeyError when absent
        return super().process(request, payload)


# -- 17: 5xx on bad input ------------------------------------------------------------------------
class JsonCrashReceiver(WerkzeugReceiver):
    def parse(self, request: Request, body: bytes) -> dict[str, Any] | Response:
        payload = json.loads(body)  # ValueError on malformed JSON: a 500
        payload.get("x")  # AttributeError on a JSON array: a 500
        return payload


# -- 18: token compared loosely ------------------------------------------------------------------
class _LooseToken(WerkzeugReceiver):
    def token_ok(self, got: str) -> bool:
        raise NotImplementedError

    def authenticate(self, request: Request, body: bytes) -> Response | None:
        got = request.headers.get(TOKEN)
        if got is None or not self.token_ok(got):
            return Response("bad token", status=401)
        return None


class PrefixTokenReceiver(_LooseToken):
    def token_ok(self, got: str) -> bool:
        return self.secret.startswith(got)


class CaseInsensitiveTokenReceiver(_LooseToken):
    def token_ok(self, got: str) -> bool:
        return got.lower() == self.secret.lower()


class StartsWithTokenReceiver(_LooseToken):
    def token_ok(self, got: str) -> bool:
        return got.startswith(self.secret)


# -- 19: assumes ordering ----------------------------------------------------------------------------
class OrderingReceiver(WerkzeugReceiver):
    """Rejects an event created before the last one it saw."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latest = ""

    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        created = str(payload.get("created", payload.get("event_timestamp", "")))
        if created < self.latest:
            return Response("out of order", status=409)
        self.latest = created
        return super().process(request, payload)


# -- 20: non-constant-time comparison (not observable: the audit must not claim it) -------------------
class PlainEqualsReceiver(_ManualModa):
    def signature_ok(self, got: str | None, expected: str) -> bool:
        return got == "v1=" + expected
