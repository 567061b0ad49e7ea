"""``hookmock serve`` start-up: what it loads before it is ready, and its garbage collector.

It loads nothing the ready route does not need: werkzeug's router (and with it ``uuid``,
``platform``, ``difflib``, ``pprint``), the history page's modules and the OpenAPI builder are
loaded at their first use, not at every start (issue 18: the emulator's start-up against a bare
werkzeug server).  A fresh interpreter, so that nothing another test imported counts.
"""

from __future__ import annotations

import json
import subprocess
import sys

NOT_AT_START = (
    "werkzeug.routing",
    "uuid",
    "platform",
    "difflib",
    "pprint",
    "hookmock.emulator.ui",
    "hookmock.emulator.ui_data",
    "hookmock.emulator.ui_static",
    "hookmock.emulator.openapi",
    "concurrent.futures",
)

_SCRIPT = """
import json, sys, urllib.request
from hookmock.cli import main
from hookmock.emulator import Emulator, EmulatorConfig
emu = Emulator(EmulatorConfig(port=0)).start()
try:
    with urllib.request.urlopen(emu.base_url + "/_hookmock/ready", timeout=10) as r:
        ready = json.load(r)["ready"]
    before = sorted(m for m in sys.modules if m in NAMES)
    with urllib.request.urlopen(emu.base_url + "/_hookmock/ui/app.css", timeout=10) as r:
        page = r.status
    after = sorted(m for m in sys.modules if m in NAMES)
finally:
    emu.stop()
print(json.dumps({"ready": ready, "before": before, "page": page, "after": after}))
"""


def test_start_up_loads_neither_the_router_of_werkzeug_nor_the_page_nor_the_openapi_builder():
    script = f"NAMES = {list(NOT_AT_START)!r}\n" + _SCRIPT
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ready"] is True
    assert result["before"] == []
    assert result["page"] == 200
    assert "hookmock.emulator.ui" in result["after"]


def test_a_failed_serve_start_leaves_the_garbage_collector_as_it_was(tmp_path):
    """``serve`` starts with the cyclic collector paused; a start that fails (here: a CA file that
    does not exist) turns it back on, and freezes nothing, in the process that called ``main``."""
    import gc

    from hookmock.cli import main

    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    assert main(["serve", "--port", "0", "--ca-file", str(tmp_path / "missing.pem")]) == 2
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    gc.disable()
    try:
        assert main(["serve", "--port", "0", "--ca-file", str(tmp_path / "missing.pem")]) == 2
        assert not gc.isenabled()  # as it was
    finally:
        gc.enable()


def test_serve_answers_ready_with_the_collector_on_and_its_start_up_frozen(tmp_path):
    """In a real ``hookmock serve`` process: ready, then collection works as usual (a cycle made
    after start-up is collected)."""
    state = tmp_path / "state.json"
    script = (
        "import gc, json, os, sys, threading, time\n"
        "from hookmock.cli import main\n"
        "def watch():\n"
        "    while not os.path.exists(sys.argv[1]):\n"
        "        time.sleep(0.01)\n"
        "    end = time.monotonic() + 10\n"
        "    while not (gc.isenabled() and gc.get_freeze_count()) and time.monotonic() < end:\n"
        "        time.sleep(0.01)\n"
        "    seen = {'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count()}\n"
        "    a = []\n"
        "    a.append(a)\n"
        "    del a\n"
        "    seen['collected'] = gc.collect()\n"
        "    print(json.dumps(seen), flush=True)\n"
        "    os.kill(os.getpid(), 15)\n"
        "threading.Thread(target=watch, daemon=True).start()\n"
        "sys.exit(main(['serve', '--port', '0', '--quiet', '--state-file', sys.argv[1]]))\n"
    )
    cmd = [sys.executable, "-c", script, str(state)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["enabled"] is True
    assert seen["frozen"] > 10_000
    assert seen["collected"] >= 1
