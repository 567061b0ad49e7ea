"""``make_server`` that raises instead of exiting.

werkzeug's server prints a failed bind (port in use, address not on this machine) and calls
``sys.exit(1)``: right for ``flask run``, wrong for a library and for a CLI that promises exit 2 and a
message naming the bad value.  This wrapper turns that exit into an :class:`OSError`.
"""

from __future__ import annotations

from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

__all__ = ["make_server_or_raise"]


def make_server_or_raise(host: str, port: int, app: Any, **kwargs: Any) -> BaseWSGIServer:
    try:
        return make_server(host, port, app, **kwargs)
    except SystemExit:
        raise OSError(
            "the port is in use or the address is not on this machine "
            "(use a loopback address, or port 0 for a free port)"
        ) from None
