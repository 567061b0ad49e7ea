"""Audit a ported receiver (in-process or over loopback sockets) and judge every finding against
its ground truth (``DEFECTS``): the figures of ``docs/audit-catalogue.md``, "Measured on real
receivers".

* A **finding** is a check that fails or warns (a ``see`` is the same root cause as another
  check's finding, not a finding of its own).  It is **true** when the ground truth lists that check
  with that status, else false.  Precision = true findings / findings.
* A **defect** is a ground-truth entry with status ``fail`` or ``warn``.  It is **found** when its
  check has that status.  Recall = found / defects.  ``advisory`` entries (not observable over
  HTTP) are counted apart.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server

from hookmock.auditing import AuditReport, audit
from hookmock.clock import VirtualClock
from hookmock.transport.apps import is_asgi

from . import Ported

#: The deadline check's "sluggish" threshold for the measurement (the fail threshold stays the
#: provider's deadline).
WARN_AFTER_S = 5.0
MODA_SECRET = "whsec_ported0123456789abcdefghijklmn"
MODIO_TOKEN = "modio_ported_0123456789abcdef"


def secret_for(port: Ported) -> str:
    return MODIO_TOKEN if port.profile == "modio" else MODA_SECRET


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` on a loopback port (uvicorn for an ASGI app, werkzeug for WSGI); yields its base URL."""
    if is_asgi(app):
        with _serving_asgi(app) as url:
            yield url
        return
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def _serving_asgi(app: Any) -> Iterator[str]:
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def audit_port(port: Ported, *, sockets: bool = False, seed: int | None = 7, **kwargs: Any) -> AuditReport:
    """One audit of a fresh instance of ``port``, with its effect probe (``count``) and its
    fail-once hook (``apply_effect``, the receiver's work; ``fail_once=None`` leaves it out).
    In-process it runs on a virtual clock started at the real time (three ports verify with the
    real ``stripe`` library, which reads ``time.time()``)."""
    secret = secret_for(port)
    clock = None if sockets else VirtualClock(start=int(time.time()))
    app = port.make(port.profile, secret, clock)
    kwargs.setdefault("fail_once", (app, port.work))
    # None of the ports does slow work; on a loaded machine the first request of a port that uses
    # ``stripe`` (whose modules load on the first event) took over the default 1 s.
    kwargs.setdefault("warn_after_s", WARN_AFTER_S)
    common: dict[str, Any] = {"profile": port.profile, "secret": secret, "probe": app.count, "seed": seed}
    if sockets:
        with serving(app) as url:
            return audit(url + app.path, **common, **kwargs)
    return audit((app, app.path), clock=clock, **common, **kwargs)


@dataclass
class Judgement:
    port: str
    true: list[str] = field(default_factory=list)
    false: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    advisory: list[str] = field(default_factory=list)
    #: check -> status, for every check of the report (the verdicts, for determinism checks)
    verdicts: dict[str, str] = field(default_factory=dict)


def judge(port: Ported, report: AuditReport) -> Judgement:
    expected = port.expected()
    got = {check.name: check.status for check in report}
    out = Judgement(port.name, verdicts=got)
    for name, status in got.items():
        if status in ("fail", "warn"):
            (out.true if expected.get(name) == status else out.false).append(f"{name}={status}")
    for name, status, _ in port.defects:
        if status == "advisory":
            out.advisory.append(name)
        elif status in ("fail", "warn"):
            (out.found if got.get(name) == status else out.missed).append(f"{name}={status}")
    return out


def figures(judgements: list[Judgement]) -> dict[str, Any]:
    true = sum(len(j.true) for j in judgements)
    false = sum(len(j.false) for j in judgements)
    found = sum(len(j.found) for j in judgements)
    missed = sum(len(j.missed) for j in judgements)
    return {
        "receivers": len(judgements),
        "findings": true + false,
        "true": true,
        "precision": true / (true + false) if true + false else 1.0,
        "defects": found + missed,
        "found": found,
        "recall": found / (found + missed) if found + missed else 1.0,
        "advisory": sum(len(j.advisory) for j in judgements),
        "false": [f"{j.port}: {f}" for j in judgements for f in j.false],
        "missed": [f"{j.port}: {m}" for j in judgements for m in j.missed],
    }
