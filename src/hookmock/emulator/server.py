"""Running the emulator: a threaded werkzeug server on a socket, a runner that moves tasks on
the real clock, the start-up banner and the state file.

>>> with Emulator(EmulatorConfig(port=0, clock="virtual")) as emu:   # doctest: +SKIP
...     emu.base_url, emu.api_key
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import socket
import threading
from typing import Any

from .._util.files import write_private
from .._util.framing import HardenedRequestHandler
from .._util.redact import RedactingFilter
from .._util.serving import HardenedWSGIServer, ServerLimits, make_server_or_raise
from .._util.sqlite import DatabaseLocked, is_locked
from ..clock import Clock
from ..errors import UsageError
from .app import RAW_TARGET_KEY, EmulatorApp
from .config import EmulatorConfig, remove_state_file
from .core import EmulatorCore

__all__ = ["Emulator"]

#: The emulator's loggers (their records never show a secret).
LOGGERS = ("hookmock.emulator", "hookmock.emulator.access")
#: The real-clock runner looks at the task table at least this often (real seconds).
POLL_S = 0.2


class _QuietHandler(HardenedRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # the request line only: paths and statuses, never headers (API keys) or bodies
        logging.getLogger("hookmock.emulator.access").info('"%s" %s', self.requestline, code)

    def make_environ(self) -> Any:
        environ = super().make_environ()
        # the request target byte for byte: http.server has already merged leading slashes of
        # self.path ("//x" is "/x" there), error messages quote what the client sent
        parts = self.raw_requestline.split(b" ")
        if len(parts) == 3:
            environ[RAW_TARGET_KEY] = parts[1]
        return environ

    def log_error(self, format: str, *args: Any) -> None:
        # framing errors answered by the server (408, 413, 414, 431 ...): never headers or bodies
        logging.getLogger("hookmock.emulator.access").info(format, *args)


class Emulator:
    """The emulator on a socket.  ``limits`` bounds what one client may take (timeouts, header
    size, connections); the body limit is always ``config.max_body_bytes``."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        clock: Clock | None = None,
        limits: ServerLimits | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.core = EmulatorCore(self.config, clock=clock)
        self.app = EmulatorApp(self.core)
        self.limits = dataclasses.replace(limits or ServerLimits(), max_body_bytes=self.config.max_body_bytes)
        self._server: HardenedWSGIServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        #: Keeps the emulator's secrets out of its log records (messages and tracebacks).
        self._log_filter = RedactingFilter(self.core.gateway.redactor)

    # -- what a user needs -------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.core.base_url

    @property
    def api_key(self) -> str:
        return self.core.api_key

    @property
    def signing_secret(self) -> str:
        return self.core.signing_secret

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the emulator first"
        return int(self._server.server_port)

    def state(self) -> dict[str, Any]:
        """What the banner prints and the state file holds (secrets included: that is their job)."""
        return {
            "base_url": self.base_url,
            "api_key": self.api_key,
            "api_key_id": self.core.api_key_id,
            "signing_secret": self.signing_secret,
            "host": self.config.host,
            "port": self.port,
            "db": self.config.db_path,
            "clock": self.config.clock,
            "pid": os.getpid(),
            "openapi": self.base_url + "/_hookmock/openapi.json",
            "ui": self.base_url + "/_hookmock/ui",
        }

    # -- life --------------------------------------------------------------------------
    def start(self) -> Emulator:
        if self.config.state_file:  # a dead emulator's address and keys must not be read meanwhile
            self.config.check()
            remove_state_file(self.config.state_file)
        for name in LOGGERS:
            logging.getLogger(name).addFilter(self._log_filter)
        self._server = make_server_or_raise(
            self.config.host,
            self.config.port,
            self.app,
            request_handler=_QuietHandler,
            limits=self.limits,
            render_error=self.app.render_framing_error,
        )
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        self.core.base_url = f"http://{shown}:{self._server.server_port}"
        self.core.start()
        server = self._server
        serve = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), name="hookmock-emulator", daemon=True
        )
        serve.start()
        self._threads.append(serve)
        if not self.core.clock.is_virtual:
            runner = threading.Thread(target=self._run, name="hookmock-emulator-runner", daemon=True)
            runner.start()
            self._threads.append(runner)
        if self.config.state_file:
            try:
                self.write_state_file(self.config.state_file)
            except OSError as exc:
                self.stop()
                raise UsageError(
                    f"cannot write --state-file {self.config.state_file!r}: {exc.strerror or exc}"
                ) from None
        return self

    def _run(self) -> None:
        log = logging.getLogger("hookmock.emulator")
        locked = False
        while not self._stop.is_set():
            try:
                self.core.engine.tick()
                locked = False
            except Exception as exc:  # keep running; the API shows the task as it is
                if not (isinstance(exc, DatabaseLocked) or is_locked(exc)):
                    log.exception("task runner step failed")
                elif not locked:  # one line per spell, not a traceback every step
                    locked = True
                    log.warning(
                        "the database %r is locked by another process: tasks wait until it is free",
                        self.config.db_path,
                    )
            due = self.core.engine.next_due_ns()
            wait = POLL_S
            if due is not None:
                wait = max(0.0, min(POLL_S, (due - self.core.clock.now_ns()) / 1e9))
            self.core.wait(wait)

    def write_state_file(self, path: str) -> None:
        """Write :meth:`state` (secrets included) to ``path``, mode 0600, replacing it atomically
        through an exclusively created temporary file; a link or special file there is refused."""
        data = (json.dumps(self.state(), indent=2) + "\n").encode("utf-8")
        write_private(path, data, option="--state-file")

    #: How long (real seconds, in all) :meth:`stop` waits for the threads of connections in flight.
    STOP_JOIN_S = 1.0

    def stop(self) -> None:
        """Stop serving.  When this returns nothing more is accepted: connections in flight are
        closed without an answer and their threads joined (at most :attr:`STOP_JOIN_S` seconds),
        then the database is closed."""
        if self.config.state_file:
            with contextlib.suppress(UsageError):  # replaced by a link meanwhile: left alone
                remove_state_file(self.config.state_file)  # first: nobody reads a stopping emulator's
        self._stop.set()
        self.core.wake()
        server = self._server
        if server is not None:
            # Wake the serving loop at once (a shut-down listening socket is readable, its accept
            # fails and the loop sees the stop request): nothing more is accepted.
            with contextlib.suppress(OSError):
                server.socket.shutdown(socket.SHUT_RDWR)
            server.shutdown()
            # then end the connections accepted before (an idle keep-alive client, a request or a
            # body still arriving, an answer being written): werkzeug would serve them to their end
            server.close_connections(self.STOP_JOIN_S)
            server.server_close()
        for thread in self._threads:
            thread.join(5)
        self.core.close()
        for name in LOGGERS:
            logging.getLogger(name).removeFilter(self._log_filter)

    def serve_forever(self) -> None:
        """Block until interrupted (the CLI)."""
        self._stop.wait()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
