"""A transport given a CA file reads that file at once (a bad one is a usage error there) but loads
the system's CA store only at its first HTTPS attempt: a sender trusting a test CA that only talks
plain HTTP never pays for it (tens of ms per sender; the pytest plugin gives every sender its CA)."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import pytest

from hookmock._util.tls import make_tls_files
from hookmock.clock import SECOND, VirtualClock
from hookmock.transport.http import HTTPTransport


@pytest.fixture
def system_store_loads(monkeypatch):
    loads: list[object] = []
    real = ssl.SSLContext.load_default_certs

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        loads.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_default_certs", counting)
    return loads


def _serve_once(context: ssl.SSLContext | None) -> tuple[str, threading.Thread]:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def run() -> None:
        with listener:
            listener.settimeout(10)
            conn, _ = listener.accept()
            if context is not None:
                conn = context.wrap_socket(conn, server_side=True)
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(
                    next(
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                )
                while len(body) < length:
                    body += conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    scheme = "https" if context is not None else "http"
    return f"{scheme}://127.0.0.1:{port}/hook", thread


def _send(transport: HTTPTransport, url: str):  # type: ignore[no-untyped-def]
    return transport.send(
        url, {"Content-Type": "application/json"}, b"{}", deadline_ns=5 * SECOND, clock=VirtualClock()
    )


def test_plain_http_with_a_ca_file_never_loads_the_system_store(tmp_path, system_store_loads):
    files = make_tls_files(tmp_path, ["127.0.0.1"])
    transport = HTTPTransport(ca_file=files.ca_file)
    url, thread = _serve_once(None)

    result = _send(transport, url)
    thread.join(10)

    assert (result.outcome, result.status) == ("response", 200)
    assert system_store_loads == []


def test_the_first_https_attempt_loads_it_once_and_trusts_the_ca_file(tmp_path, system_store_loads):
    files = make_tls_files(tmp_path, ["127.0.0.1"])
    transport = HTTPTransport(ca_file=files.ca_file)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(files.cert_file, files.key_file)

    for _ in range(2):
        url, thread = _serve_once(server)
        result = _send(transport, url)
        thread.join(10)
        assert (result.outcome, result.status) == ("response", 200), result.detail

    assert len(system_store_loads) == 1  # the system store as well as the given CA, built once


def test_the_ca_file_is_read_when_the_transport_is_made(tmp_path, system_store_loads):
    """As before: the CA file's certificates as they were when the transport was made (it may be
    removed afterwards, as a test's temporary folder is)."""
    files = make_tls_files(tmp_path, ["127.0.0.1"])
    transport = HTTPTransport(ca_file=files.ca_file)
    Path(files.ca_file).unlink()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(files.cert_file, files.key_file)

    url, thread = _serve_once(server)
    result = _send(transport, url)
    thread.join(10)

    assert (result.outcome, result.status) == ("response", 200), result.detail
