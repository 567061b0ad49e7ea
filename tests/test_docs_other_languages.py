"""docs/how-to/other-languages.md works as printed: the schemas taken out with ``hookmock schema``,
validated offline by ajv-cli, by Ajv from JavaScript and by check-jsonschema (a valid event passes, a
mutated one fails, as ``hookmock validate`` says), and the signature checks in Node and Java accept
what hookmock signs and refuse another secret and a stale timestamp.

ajv-cli and ajv-formats are installed once into pytest's cache, as tests/test_schemas_portable.py does
(skipped only where Node is missing); the validation itself runs offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hookmock
from docs_blocks import ROOT, Block, blocks
from hookmock.cli import main as hookmock_cli
from schema_tools import OFFLINE, ajv_dir

PAGE = ROOT / "docs/how-to/other-languages.md"
ME = "tests/test_docs_other_languages.py"
SECRET = "whsec_other_languages_0123456789ab"


def _page_blocks() -> list[Block]:
    return blocks(PAGE)


def _block(lang: str, first_line: str) -> str:
    found = [b.code for b in _page_blocks() if b.lang == lang and b.code.startswith(first_line)]
    assert len(found) == 1, f"{PAGE.name}: one ```{lang} block starting {first_line!r}"
    return found[0]


def _env() -> dict[str, str]:
    env = {k: v for k, v in OFFLINE.items() if not k.startswith("HOOKMOCK_")}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _bash(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The page's first block run in an empty folder: event.json and the schemas, as printed."""
    export = _block("bash", "hookmock events --example")
    done = _bash(export, tmp_path)
    assert done.returncode == 0, done.stderr
    (tmp_path / "bad.json").write_text(
        json.dumps({**json.loads((tmp_path / "event.json").read_text()), "type": 1})
    )
    return tmp_path


@pytest.fixture
def node_modules(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(request.config, "cache", None)
    where = ajv_dir(
        Path(cache.mkdir("hookmock-tools") if cache is not None else tmp_path_factory.mktemp("tools"))
    )
    return where / "node_modules"


def _with_event(code: str, name: str) -> str:
    return code.replace("event.json", name)


def test_ajv_cli_commands_agree_with_hookmock(folder: Path, node_modules: Path) -> None:
    (folder / "node_modules").symlink_to(node_modules)
    code = _block("bash", "npm install")
    commands = code.split("\n", 1)[1]  # the npm install line is the reader's; the cache has the packages
    assert "npx ajv validate" in commands and "npm" not in commands.replace("npx", "")
    done = _bash(commands, folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (done.stdout + done.stderr).count("event.json valid") == 2
    bad = _bash(_with_event(commands.split("\nnpx", 1)[0], "bad.json"), folder)
    assert bad.returncode != 0 and "bad.json invalid" in bad.stdout + bad.stderr
    bad = _bash(_with_event("npx" + commands.split("\nnpx", 1)[1], "bad.json"), folder)
    assert bad.returncode != 0 and "bad.json invalid" in bad.stdout + bad.stderr
    assert hookmock_cli(["validate", str(folder / "bad.json")]) == 1


def test_the_ajv_script_agrees_with_hookmock(folder: Path, node_modules: Path) -> None:
    (folder / "node_modules").symlink_to(node_modules)
    (folder / "validate-fixture.js").write_text(_block("js", "// validate-fixture.js"))
    run = [shutil.which("node") or "node", "validate-fixture.js"]
    good = subprocess.run(
        [*run, "event.json"], cwd=folder, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert good.returncode == 0 and "event.json valid" in good.stdout, good.stderr
    bad = subprocess.run(
        [*run, "bad.json"], cwd=folder, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 1 and "type" in bad.stderr, bad.stderr


def test_check_jsonschema_commands_agree_with_hookmock(folder: Path) -> None:
    code = _block("bash", "check-jsonschema")
    done = _bash(code, folder)
    assert done.returncode == 0, done.stdout + done.stderr
    for line in code.replace("\\\n", " ").splitlines():
        bad = _bash(_with_event(line, "bad.json"), folder)
        assert bad.returncode == 1, bad.stdout + bad.stderr


def _signed(secret: str, age_s: int = 0) -> tuple[bytes, dict[str, str]]:
    body = hookmock.EventFactory("moda", seed=3).body("task.succeeded")
    return body, hookmock.sign("moda", body, secret, timestamp=int(time.time()) - age_s)


CASES = [
    ("genuine", SECRET, 0, "true"),
    ("forged", "whsec_" + "f" * 32, 0, "false"),
    ("stale", SECRET, 301, "false"),
]


def test_the_node_signature_check(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed: the Node signature check is not run")
    (tmp_path / "moda-signature.js").write_text(_block("js", "// moda-signature.js"))
    driver = (
        'const fs = require("node:fs"); const { verifyModa } = require("./moda-signature.js");\n'
        'const [ts, sig] = fs.readFileSync("headers.txt", "utf8").split("\\n");\n'
        'console.log(verifyModa(process.argv[2], ts, sig, fs.readFileSync("body.bin")));\n'
    )
    (tmp_path / "driver.js").write_text(driver)
    for name, secret_used, age, expected in CASES:
        body, headers = _signed(secret_used, age)
        (tmp_path / "body.bin").write_bytes(body)
        (tmp_path / "headers.txt").write_text(
            f"{headers['X-Webhook-Timestamp']}\n{headers['X-Webhook-Signature']}"
        )
        done = subprocess.run(
            ["node", "driver.js", SECRET], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.stdout.strip() == expected, (name, done.stdout, done.stderr)


def test_the_java_signature_check(tmp_path: Path) -> None:
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("no JDK (javac, java): the Java signature check is not run")
    (tmp_path / "ModaSignature.java").write_text(_block("java", "// ModaSignature.java"))
    driver = """import java.nio.file.*;
public class Main {
    public static void main(String[] args) throws Exception {
        String[] h = Files.readString(Path.of("headers.txt")).split("\\n");
        byte[] body = Files.readAllBytes(Path.of("body.bin"));
        System.out.println(ModaSignature.verify(args[0], h[0], h[1], body));
    }
}
"""
    (tmp_path / "Main.java").write_text(driver)
    built = subprocess.run(
        ["javac", "ModaSignature.java", "Main.java"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    for name, secret_used, age, expected in CASES:
        body, headers = _signed(secret_used, age)
        (tmp_path / "body.bin").write_bytes(body)
        (tmp_path / "headers.txt").write_text(
            f"{headers['X-Webhook-Timestamp']}\n{headers['X-Webhook-Signature']}"
        )
        done = subprocess.run(
            ["java", "-cp", ".", "Main", SECRET], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.stdout.strip() == expected, (name, done.stdout, done.stderr)


def test_every_other_language_block_is_run_here_or_said_not_to_be() -> None:
    for b in _page_blocks():
        if b.lang in ("js", "java") or (b.lang == "bash" and b.marker):
            assert b.marker == "run-by" and b.reason == ME, b.id
