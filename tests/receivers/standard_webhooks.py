"""Standard Webhooks receivers for the audit corpus: a correct one written by hand from the
specification, one built on the reference ``standardwebhooks`` package, and broken ones, each
with one mistake.  Header names appear here because this is receiver code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from werkzeug.wrappers import Request, Response

from .base import WerkzeugReceiver

ID, TS, SIG = "webhook-id", "webhook-timestamp", "webhook-signature"


def _b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


class ManualStandardReceiver(WerkzeugReceiver):
    """Correct, by hand: ``whsec_`` -> v1 HMAC, ``whpk_``/``whsk_`` -> v1a ed25519; any signature of
    its scheme in the list may match; 5-minute window; dedupe on ``webhook-id``."""

    tolerance = 300

    def entries(self, header: str) -> list[tuple[str, str]]:
        return [(scheme, value) for scheme, _, value in (p.partition(",") for p in header.split(" ") if p)]

    def candidates(self, header: str) -> list[tuple[str, str]]:
        return self.entries(header)

    def asymmetric(self) -> bool:
        return self.secret.startswith(("whpk_", "whsk_"))

    def public_key(self) -> Any:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

        if self.secret.startswith("whsk_"):
            return Ed25519PrivateKey.from_private_bytes(_b64(self.secret[5:])[:32]).public_key()
        return Ed25519PublicKey.from_public_bytes(_b64(self.secret[5:]))

    def entry_ok(self, scheme: str, value: str, content: bytes) -> bool:
        try:
            given = base64.b64decode(value, validate=True)
        except ValueError:
            return False
        if self.asymmetric():
            if scheme != "v1a":
                return False
            try:
                self.public_key().verify(given, content)
            except Exception:
                return False
            return True
        if scheme != "v1":
            return False
        key = _b64(self.secret.removeprefix("whsec_"))
        return hmac.compare_digest(hmac.new(key, content, hashlib.sha256).digest(), given)

    def authenticate(self, request: Request, body: bytes) -> Response | None:
        msg_id, ts_raw, sig = (request.headers.get(n) for n in (ID, TS, SIG))
        if not msg_id or not ts_raw or not sig:
            return Response("missing webhook headers", status=401)
        content = f"{msg_id}.{ts_raw}.".encode() + body
        if not any(self.entry_ok(s, v, content) for s, v in self.candidates(sig)):
            return Response("no matching signature", status=401)
        if not ts_raw.isdigit() or not ts_raw.isascii():
            return Response("bad timestamp", status=400)
        if abs(int(self.clock.time()) - int(ts_raw)) > self.tolerance:
            return Response("stale", status=401)
        return None


class ReferenceLibraryReceiver(WerkzeugReceiver):
    """Correct: the reference ``standardwebhooks`` package (it reads the real clock: audit it on
    the real clock)."""

    def authenticate(self, request: Request, body: bytes) -> Response | None:
        from standardwebhooks import Webhook

        try:
            Webhook(self.secret).verify(body, dict(request.headers))
        except Exception:  # WebhookVerificationError, or a header it cannot split
            return Response("rejected", status=401)
        return None


# -- key rotation: only the first signature of the list is checked --------------------------------
class FirstSignatureOnlyReceiver(ManualStandardReceiver):
    def candidates(self, header: str) -> list[tuple[str, str]]:
        return self.entries(header)[:1]


# -- v1a: a symmetric endpoint that trusts a v1a signature it cannot verify -------------------------
class TrustsV1aReceiver(ManualStandardReceiver):
    def entry_ok(self, scheme: str, value: str, content: bytes) -> bool:
        return scheme == "v1a" or super().entry_ok(scheme, value, content)


# -- v1a: an asymmetric endpoint that also accepts v1, keyed with its public key ---------------------
class ConfusedV1aReceiver(ManualStandardReceiver):
    def entry_ok(self, scheme: str, value: str, content: bytes) -> bool:
        if scheme == "v1" and self.asymmetric():
            from cryptography.hazmat.primitives import serialization

            raw = self.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            expected = base64.b64encode(hmac.new(raw, content, hashlib.sha256).digest()).decode()
            return hmac.compare_digest(expected.encode(), value.encode())
        return super().entry_ok(scheme, value, content)


# -- 5: no replay protection -----------------------------------------------------------------------
class NoTimestampCheckReceiver(ManualStandardReceiver):
    tolerance = 10**12


# -- 11: dedupes on the signature (it changes on every attempt) -------------------------------------
class SignatureDedupeStandardReceiver(ManualStandardReceiver):
    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        key = request.headers.get(SIG, "")
        with self.store.lock:
            fresh = key not in self.store.seen
            self.store.seen.add(key)
        if fresh:
            self.store.apply_always(request.headers.get(ID, ""))
        return Response("ok", status=200)


# -- 10: dedupes on nothing ------------------------------------------------------------------------
class NoDedupeStandardReceiver(ManualStandardReceiver):
    def process(self, request: Request, payload: dict[str, Any]) -> Response:
        self.store.apply_always(request.headers.get(ID, ""))
        return Response(json.dumps({"ok": True}), status=200)
