"""The emulator's settings, checked once, with errors that name the option to change."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field

from .._util.files import check_regular_or_absent
from ..errors import UsageError

__all__ = [
    "ADMIN_TOKEN_ENV",
    "LOOPBACK_HOSTS",
    "EmulatorConfig",
    "is_loopback_host",
    "remove_state_file",
    "require_admin_token",
]

#: The environment variable that holds the admin token (never a command-line argument: argv is
#: visible to every user of the machine in ``ps``).
ADMIN_TOKEN_ENV = "HOOKMOCK_ADMIN_TOKEN"
#: The header that carries the admin token.
ADMIN_TOKEN_HEADER = "X-Hookmock-Admin-Token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_EVENT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
#: Largest request body accepted (bigger ones get a 413 in Moda's error body).
DEFAULT_MAX_BODY = 1024 * 1024


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_admin_token(host: str, admin_token: str | None, *, exposes: str) -> None:
    """The rule for every hookmock server: a non-loopback bind needs an admin token (from
    ``HOOKMOCK_ADMIN_TOKEN``); ``exposes`` names the server in the message."""
    if not is_loopback_host(host) and not admin_token:
        raise UsageError(
            f"--host {host} is not a loopback address; binding there exposes {exposes} to "
            f"the network, so set an admin token in the {ADMIN_TOKEN_ENV} environment variable first"
        )


def check_state_file(path: str) -> None:
    """Fail before binding when ``--state-file`` cannot be written (folder missing, a directory)."""
    if not path.strip():
        raise UsageError("--state-file is empty; give a file path such as ./hookmock-state.json")
    if os.path.isdir(path):
        raise UsageError(f"--state-file {path!r} is a directory; give a file path inside it")
    check_regular_or_absent(path, "--state-file")  # a link, device or FIFO is never replaced
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--state-file {path!r}: its folder {folder!r} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--state-file {path!r}: its folder {folder!r} is not writable; pick another path")


def remove_state_file(path: str) -> None:
    """Remove the state file if it is there (at start, so a wait loop cannot read a dead emulator's
    address and keys, and on exit); a link or special file there is refused, never followed."""
    check_regular_or_absent(path, "--state-file")
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise UsageError(f"cannot remove the old --state-file {path!r}: {exc.strerror or exc}") from None


@dataclass
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    db_path: str | None = None
    clock: str = "real"
    state_file: str | None = None
    api_key: str | None = field(default=None, repr=False)  # secrets: never in a repr
    signing_secret: str | None = field(default=None, repr=False)
    allow_http_callbacks: bool = False
    ca_file: str | None = None
    allow_targets: tuple[str, ...] = ()
    #: Required when ``host`` is not a loopback address; read from ``HOOKMOCK_ADMIN_TOKEN``.
    admin_token: str | None = field(default=None, repr=False)
    #: Extra names accepted in the Host header (loopback names and the bound host always are).
    allowed_hosts: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY
    #: NOT faithful: replaces the providers' attempt deadline (seconds), for benchmarks only.
    deadline_s: float | None = None
    #: ``--rate-limit``: requests per second on /v1 before a 429 ``rate_limited`` (None: no limit).
    rate_limit: float | None = None
    #: ``--modio-event``: mod.io event names to register at start (besides the catalogue).
    modio_events: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)

    def check(self) -> None:
        if self.clock not in ("real", "virtual"):
            raise UsageError(f"--clock {self.clock!r} is not a clock; choose 'real' or 'virtual'")
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port {self.port} is out of range; give 0 (any free port) to 65535")
        require_admin_token(self.host, self.admin_token, exposes="the emulator")
        if self.api_key is not None and not self.api_key.strip():
            raise UsageError("--api-key is empty; give a key such as the one printed at start-up")
        if self.signing_secret is not None and not self.signing_secret.strip():
            raise UsageError("--signing-secret is empty; omit it to have one generated")
        if self.state_file is not None:
            check_state_file(self.state_file)
        if self.rate_limit is not None and not 0 < self.rate_limit <= 100_000:
            raise UsageError(
                f"--rate-limit {self.rate_limit!r} must be from 0.001 to 100000 requests per second"
            )
        for name in self.modio_events:
            if not _EVENT_NAME.match(name) or name == "PING":
                raise UsageError(
                    f"--modio-event {name!r} is not a mod.io event name; use upper-case words joined "
                    "by '_', such as ADD_MOD_RATING (PING is the Test button's and built in)"
                )
        if self.max_body_bytes < 1024:
            raise UsageError(f"max body size {self.max_body_bytes} is too small; give at least 1024 bytes")

    @property
    def needs_admin_token(self) -> bool:
        return bool(self.admin_token)

    def host_allowed(self, host_header: str | None) -> bool:
        """DNS-rebinding guard: the Host header must name this server."""
        if not host_header:
            return False
        name = host_header.strip().lower()
        if name.startswith("["):
            name = name[1 : name.find("]")] if "]" in name else name
        elif name.count(":") == 1:
            name = name.split(":", 1)[0]
        allowed = {*LOOPBACK_HOSTS, self.host.lower().strip("[]"), *(h.lower() for h in self.allowed_hosts)}
        return name in allowed
