"""``make_server`` that raises instead of printing and exiting.

werkzeug's server prints a failed bind itself ("Address already in use" / "Port N is in use by another
program…") and calls ``sys.exit(1)``: right for ``flask run``, wrong for a library and for a CLI that
promises exit 2 and one message naming the bad value.  So the socket is bound here, a real
:class:`OSError` (with its ``errno``) propagates untouched, and werkzeug is handed the listening socket.
"""

from __future__ import annotations

import socket
from typing import Any

from werkzeug.serving import LISTEN_QUEUE, BaseWSGIServer, get_sockaddr, make_server, select_address_family

__all__ = ["bind_listening_socket", "make_server_or_raise"]


def bind_listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening, as werkzeug would bind it; ``OSError`` if not."""
    family = select_address_family(host, port)
    if family not in (socket.AF_INET, socket.AF_INET6):
        raise OSError(f"{host!r} is not a TCP address")
    address = get_sockaddr(host, int(port), family)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server does
        sock.bind(address)
        sock.listen(LISTEN_QUEUE)
    except BaseException:
        sock.close()
        raise
    return sock


def make_server_or_raise(host: str, port: int, app: Any, **kwargs: Any) -> BaseWSGIServer:
    """werkzeug's ``make_server`` on a socket bound here: a failed bind raises ``OSError`` and prints
    nothing."""
    sock = bind_listening_socket(host, port)
    try:
        try:
            server = make_server(host, port, app, fd=sock.fileno(), **kwargs)
        except SystemExit:  # pragma: no cover - werkzeug does not bind when given a socket
            raise OSError("the address could not be bound (use a loopback address, or port 0)") from None
    finally:
        sock.close()  # werkzeug works on its own duplicate of the descriptor
    # http.server sets these in server_bind, which is skipped for a socket passed in.
    bound = server.socket.getsockname()
    server.server_name = host
    server.server_port = int(bound[1])
    return server
