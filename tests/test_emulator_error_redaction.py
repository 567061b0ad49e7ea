"""An error answer quotes what the client sent; a secret the emulator holds is never quoted back."""

from __future__ import annotations

import http.client
import json
from urllib.parse import quote, urlsplit

from emulator_support import running


def _get(base_url: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_an_error_message_never_quotes_a_secret_the_client_sent():
    with running() as (emulator, _api):
        key, secret = emulator.api_key, emulator.core.signing_secret
        auth = {"Authorization": f"Bearer {key}"}
        cases = [
            (f"/v1/tasks/{quote(key)}", auth),
            (f"/v1/webhook_deliveries/{quote(secret)}", auth),
            (f"/v1/tasks?limit={quote(secret)}", auth),
            ("/v1/tasks", {**auth, "Moda-Version": key}),
        ]
        for path, headers in cases:
            status, body = _get(emulator.base_url, path, headers)
            assert 400 <= status < 500, (path, status, body)
            error = json.loads(body)["error"]
            assert error["message"], body
            for value in (key, secret):
                tail = value.split("_")[-1]
                assert tail[:8] not in body, (path, body)
            assert "redacted" in body, (path, body)
