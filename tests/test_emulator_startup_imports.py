"""What ``hookmock serve`` loads before it is ready: nothing the ready route does not need.

werkzeug's router (and with it ``uuid``, ``platform``, ``difflib``, ``pprint``), the history page's
modules and the OpenAPI builder are loaded at their first use, not at every start (issue 18: the
emulator's start-up against a bare werkzeug server).  A fresh interpreter, so that nothing another
test imported counts.
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
