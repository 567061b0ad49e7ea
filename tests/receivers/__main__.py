"""Serve one receiver of the corpus on 127.0.0.1 (for real-socket tests in a separate process).

    python -m receivers STYLE_OR_BROKEN_NAME PROFILE SECRET

Prints the base URL on the first line of stdout, then serves until killed.
"""

from __future__ import annotations

import sys

from werkzeug.serving import make_server

from . import BROKEN, CORRECT, build


def main(argv: list[str]) -> int:
    name, profile, secret = argv
    factories = dict(CORRECT)
    factories.update({b.name: b.factory for b in BROKEN})
    app = build(factories[name], profile, secret)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"http://127.0.0.1:{server.server_port}/", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
