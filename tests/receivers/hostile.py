"""Receivers broken by what the issue tracker calls "measured on real receivers": one defect each,
each found in public receiver code.

* :class:`StrCompareDigestReceiver`: ``hmac.compare_digest`` on ``str`` header values.  It raises
  ``TypeError`` on any non-ASCII text, so anyone sending a non-ASCII signature gets a 500.
* :class:`StrCompareTokenReceiver`: the same mistake with the mod.io token.
* :class:`ParseFirstCrashReceiver`: parses the JSON body before authenticating, so malformed JSON
  crashes it whoever sends it (a crash after authentication is only a warning).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from werkzeug.wrappers import Request, Response

from .base import WerkzeugReceiver
from .broken import TOKEN, _ManualModa


class StrCompareDigestReceiver(_ManualModa):
    def signature_ok(self, got: str | None, expected: str) -> bool:
        return got is not None and hmac.compare_digest(got, "v1=" + expected)  # TypeError: non-ASCII


class StrCompareTokenReceiver(WerkzeugReceiver):
    def authenticate(self, request: Request, body: bytes) -> Response | None:
        got = request.headers.get(TOKEN)
        if got is None or not hmac.compare_digest(got, self.secret):  # TypeError: non-ASCII
            return Response("bad token", status=401)
        return None


class ParseFirstCrashReceiver(WerkzeugReceiver):
    def handle(self, request: Request) -> Response:
        body = request.get_data(cache=False)
        payload: Any = json.loads(body)  # before authenticating: a 500 for anyone's bad JSON
        rejection = self.authenticate(request, body)
        if rejection is not None:
            return rejection
        if not isinstance(payload, dict) or not self.profile.event_id(payload):
            return Response("not an event", status=400)
        return self.process(request, payload)
