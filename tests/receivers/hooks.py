"""What an integrator's *test build* exposes next to the effect probe: ``POST /fail-once/<event_id>``
arms a one-time failure of the receiver's work for that event (``hookmock.fail_once`` inside),
for ``hookmock audit --fail-once-url``."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

import hookmock


class WithFailOnceHook:
    """Wraps a corpus receiver (a WSGI app whose work is ``apply_effect``)."""

    def __init__(self, app: Any, name: str = "apply_effect") -> None:
        self.app = app
        self.name = name
        self.armed: list[hookmock.FailOnce] = []

    def count(self, event_id: str) -> int:
        return int(self.app.count(event_id))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method == "POST" and request.path.startswith("/fail-once/"):
            event_id = request.path[len("/fail-once/") :]
            failure = hookmock.fail_once(self.app, self.name, event_id=event_id)
            failure.__enter__()  # stays armed: it fails the first call for the event, then passes
            self.armed.append(failure)
            return Response("armed", status=200)(environ, start_response)
        return self.app(environ, start_response)
