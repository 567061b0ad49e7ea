"""A small JSON client for the emulator's HTTP API (used by ``hookmock demo`` and the tests)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from ..transport._urllib import direct_opener

__all__ = ["EmulatorClient"]


class EmulatorClient:
    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        # never use a proxy from the environment for a loopback emulator, never follow a redirect
        self._opener = direct_opener()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        """``(status, parsed JSON or text, headers)``; error statuses are returned, not raised."""
        h = {"Accept": "application/json"}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:  # raw bytes too: a JSON client (urllib would say form-urlencoded)
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=h)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, payload, rh = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            status, payload, rh = exc.code, exc.read(), dict(exc.headers)
        text = payload.decode("utf-8", "replace")
        try:
            parsed: Any = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return status, parsed, rh

    def get(self, path: str, **kw: Any) -> Any:
        return self._ok("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self._ok("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self._ok("PUT", path, body, **kw)

    def _ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        status, parsed, _ = self.call(method, path, body, **kw)
        if status >= 400:
            raise RuntimeError(f"{method} {path} answered {status}: {parsed}")
        return parsed

    def advance(self, seconds: float) -> Any:
        return self.post("/_hookmock/clock/advance", {"seconds": seconds})
