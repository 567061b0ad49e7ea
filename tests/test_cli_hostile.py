"""Hostile input to the CLI: every subcommand, bad flags and values, files that are missing, are
directories, are binary, cannot be read or are not what they claim, bad URLs and ports, missing
secrets.  Each case exits 2 with a message on stderr that names the problem, and never a traceback.

In-process through ``hookmock.cli.main`` (fast), plus a few as real processes; ``serve`` cases always
run as processes (a case that wrongly started the server would otherwise block the test).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hookmock.cli import main
from hookmock.delivery.log import DeliveryLog

UNREADABLE = "/proc/self/mem"  # exists, is a file, read() fails even as root
URL = "http://127.0.0.1:9/hook"  # the discard port: nothing is ever sent by these cases


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    binary = tmp_path / "binary.bin"
    binary.write_bytes(bytes(range(256)) * 8)
    not_json = tmp_path / "not.json"
    not_json.write_text("{this is not json", encoding="utf-8")
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"name": "caf\xe9"}'.encode("latin-1"))
    bad_payload = tmp_path / "bad-payload.json"
    bad_payload.write_text(json.dumps({"id": 5, "type": "task.succeeded", "data": {"status": 7}}))
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[scenario\nname = ", encoding="utf-8")
    bad_scenario = tmp_path / "bad-scenario.toml"
    bad_scenario.write_text('[scenario]\nname = 5\nprofile = "moda"\n[[steps]]\naction = "fly"\n')
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    log = tmp_path / "log.db"
    DeliveryLog(log).close()
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="ascii")
    bigint = tmp_path / "bigint.json"
    bigint.write_text('{"id": ' + "9" * 10_000 + "}", encoding="ascii")
    deep_toml = tmp_path / "deep.toml"
    deep_toml.write_text("a = " + "[" * 5_000 + "]" * 5_000 + "\n", encoding="ascii")
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as fh:  # sparse: 17 MiB on paper, nothing on disk
        fh.truncate(17 * 1024 * 1024)
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf{}")
    after = tmp_path / "after.toml"
    after.write_text(
        '[scenario]\nname = "x"\nprofile = "moda"\n[[steps]]\naction = "advance"\nafter = inf\n'
        '[[steps]]\naction = "advance"\nafter = nan\n[[steps]]\naction = "advance"\nafter = 1e20\n',
        encoding="utf-8",
    )
    toml_head = (
        '[scenario]\nname = "x"\nprofile = "moda"\n[[steps]]\naction = "send"\nevent = "task.succeeded"\n'
    )
    toml_bigint = tmp_path / "bigint.toml"
    toml_bigint.write_text(toml_head + "data = { n = " + "9" * 5_000 + " }\n", encoding="utf-8")
    toml_inf = tmp_path / "inf.toml"
    toml_inf.write_text(toml_head + "data = { n = [1, inf], m = { k = nan } }\n", encoding="utf-8")
    nan = tmp_path / "nan.json"
    nan.write_text('{"id": "evt_1", "n": [1, -Infinity]}', encoding="utf-8")
    nul = tmp_path / "nul.json"
    nul.write_bytes(b'{"id": "a\x00b"}\x00')
    return {
        "dir": str(tmp_path),
        "missing": str(tmp_path / "nope" / "missing.json"),
        "bin": str(binary),
        "notjson": str(not_json),
        "latin1": str(latin1),
        "badpayload": str(bad_payload),
        "badtoml": str(bad_toml),
        "badscenario": str(bad_scenario),
        "log": str(log),
        "unreadable": UNREADABLE,
        "deep": str(deep),
        "bigint": str(bigint),
        "deeptoml": str(deep_toml),
        "huge": str(huge),
        "bom": str(bom),
        "nul": str(nul),
        "after": str(after),
        "tomlbigint": str(toml_bigint),
        "tomlinf": str(toml_inf),
        "nan": str(nan),
    }


S = ["--secret", "whsec_hostile0123456789"]

#: (argv, what stderr must mention).  ``{name}`` is replaced from the ``files`` fixture.
CASES: list[tuple[list[str], str]] = [
    (["--no-such-flag"], "unrecognized"),
    (["fly"], "invalid choice"),
    # send
    (["send"], "required"),
    (["send", "--resume", "whd_x", *S], "--db"),
    (["wait"], "required"),
    (["wait", "{missing}", "--timeout", "soon"], "soon"),
    (["wait", "{missing}", "--timeout", "-1"], "out of range"),
    (["send", URL, "--profile", "stripe", *S], "stripe"),
    (["send", URL], "HOOKMOCK_SECRET"),
    (["send", URL, "--secret", ""], "HOOKMOCK_SECRET"),
    (["send", "not a url", *S], "not a url"),
    (["send", "ftp://127.0.0.1/hook", *S], "ftp"),
    (["send", "http://127.0.0.1:99999/hook", *S], "99999"),
    (["send", "http://127.0.0.1:port/hook", *S], "port"),
    (["send", "http://192.0.2.7/hook", *S], "192.0.2.7"),
    (["send", "http://[::ffff:8.8.8.8]/hook", *S], "8.8.8.8"),
    (["send", URL, *S, "--data", "{missing}"], "missing.json"),
    (["send", URL, *S, "--data", "{dir}"], "directory"),
    (["send", URL, *S, "--data", "{bin}"], "binary.bin"),
    (["send", URL, *S, "--data", "{notjson}"], "not.json"),
    (["send", URL, *S, "--data", "{unreadable}"], "/proc/self/mem"),
    (["send", URL, *S, "--event", "task.exploded"], "task.exploded"),
    (["send", URL, *S, "--db", "{dir}"], "directory"),
    (["send", URL, *S, "--db", "{bin}"], "binary.bin"),
    (["send", URL, *S, "--deadline", "-1"], "argument --deadline: '-1'"),
    (["send", URL, *S, "--deadline", "0"], "--deadline"),
    (["send", URL, *S, "--retry-delays", "1,-2"], "--retry-delays"),
    (["send", URL, *S, "--deadline", "soon"], "soon"),
    (["send", URL, *S, "--retry-delays", "1,two"], "1,two"),
    (["send", "https://127.0.0.1:9/hook", *S, "--ca-file", "{missing}"], "missing.json"),
    (["send", "https://127.0.0.1:9/hook", *S, "--ca-file", "{bin}"], "binary.bin"),
    # deliveries
    (["deliveries"], "--db"),
    (["deliveries", "--db", "{missing}"], "missing.json"),
    (["deliveries", "--db", "{dir}"], "directory"),
    (["deliveries", "--db", "{bin}"], "binary.bin"),
    (["deliveries", "--db", "{log}", "--status", "lost"], "lost"),
    (["deliveries", "--db", "{log}", "--limit", "0"], "limit"),
    (["deliveries", "--db", "{log}", "--limit", "5000"], "5000"),
    (["deliveries", "--db", "{log}", "--limit", "ten"], "ten"),
    (["deliveries", "--db", "{log}", "--from", "yesterday"], "yesterday"),
    (["deliveries", "--db", "{log}", "--cursor", "garbage!"], "cursor"),
    (["deliveries", "--db", "{log}", "--show", "whd_nope"], "whd_nope"),
    # redeliver
    (["redeliver", "whd_nope"], "--db"),
    (["redeliver", "whd_nope", "--db", "{missing}", *S], "missing.json"),
    (["redeliver", "whd_nope", "--db", "{log}", *S], "whd_nope"),
    (["redeliver", "whd_nope", "--db", "{bin}", *S], "binary.bin"),
    # listen (none of these may start listening)
    (["listen", "--port", "99999", *S], "99999"),
    (["listen", "--port", "-1", *S], "-1"),
    (["listen", "--port", "eighty", *S], "eighty"),
    (["listen", "--profile", "nope", *S], "nope"),
    (["listen"], "HOOKMOCK_SECRET"),
    (["listen", *S, "--script", "500,explode"], "explode"),
    (["listen", *S, "--forward-to", "ftp://127.0.0.1/x"], "ftp"),
    (["listen", *S, "--forward-to", "http://192.0.2.7/x"], "192.0.2.7"),
    (["listen", *S, "--host", "192.0.2.7"], "192.0.2.7"),
    (["listen", *S, "--host", "0.0.0.0"], "HOOKMOCK_ADMIN_TOKEN"),
    (["listen", *S, "--host", "::"], "HOOKMOCK_ADMIN_TOKEN"),
    # audit (test_audit_cli.py has more)
    (["audit"], "required"),
    (["audit", "not a url", *S], "not a url"),
    (["audit", URL], "--secret"),
    (["audit", URL, "--profile", "nope", *S], "nope"),
    (["audit", "https://127.0.0.1:9/hook", *S, "--ca-file", "{missing}"], "missing.json"),
    (["audit", URL, *S, "--probe-url", "not a url"], "not a url"),
    (["audit", URL, *S, "--junit", "{dir}"], "--junit"),
    (["audit", URL, *S, "--junit", "{missing}"], "does not exist"),
    # scenario
    (["scenario", "run", "{missing}", "--target", URL, *S], "missing.json"),
    (["scenario", "run", "{dir}", "--target", URL, *S], "bad"),
    (["scenario", "run", "{bin}", "--target", URL, *S], "binary.bin"),
    (["scenario", "run", "{badtoml}", "--target", URL, *S], "bad.toml"),
    (["scenario", "run", "moda-lost-ack", "--target", "not a url", *S], "not a url"),
    (["scenario", "run", "moda-lost-ack", "--target", URL], "HOOKMOCK_SECRET"),
    (["scenario", "run", "moda-lost-ack", "--target", URL, *S, "--profile", "nope"], "nope"),
    (["scenario", "validate", "{unreadable}"], "/proc/self/mem"),
    (["scenario", "run"], "required"),
    (["scenario", "run", "moda-lost-ack", "--target", URL, *S, "--junit", "{dir}"], "--junit"),
    # validate
    (["validate", "{missing}"], "missing.json"),
    (["validate", "{dir}"], "directory"),
    (["validate", "{bin}"], "binary.bin"),
    (["validate", "{latin1}"], "latin1.json"),
    (["validate", "{notjson}"], "line 1"),
    (["validate", "{unreadable}"], "/proc/self/mem"),
    (["validate", "{badpayload}", "--schema", "no-such-schema"], "no-such-schema"),
    # schema, events, sign, demo
    (["schema", "no-such-schema"], "no-such-schema"),
    (["schema", "--out", "{bin}"], "is a file, not a folder"),
    (["schema", "--out", "{bin}/sub"], "cannot create the folder"),
    (["schema", "--bundle"], "--bundle needs a schema NAME"),
    (["openapi", "--out", "{dir}"], "cannot write the OpenAPI document"),
    (["openapi", "--out", "{missing}"], "missing.json"),
    (["events", "--profile", "nope"], "nope"),
    (["events", "--example", "task.exploded"], "task.exploded"),
    (["events", "--seed", "abc"], "abc"),
    (["sign", "{missing}", *S], "missing.json"),
    (["sign", "{dir}", *S], "directory"),
    (["sign", "{unreadable}", *S], "/proc/self/mem"),
    (["sign", "{bin}"], "--secret"),
    (["sign", "{bin}", *S, "--profile", "nope"], "nope"),
    (["sign", "{bin}", *S, "--timestamp", "noon"], "noon"),
    (["sign", "{bin}", "--secret", ""], "secret"),
    (["sign", "{bin}", *S, "--timestamp", "-5"], "--timestamp: '-5'"),
    (["demo", "--fast"], "unrecognized"),
    # verify: the body file, the header file and each -H are named
    (["verify", "{missing}", *S, "-H", "a: b"], "missing.json"),
    (["verify", "{dir}", *S, "-H", "a: b"], "directory"),
    (["verify", "{bin}", *S], "no headers given"),
    (["verify", "{bin}", *S, "-H", "no colon"], "no colon"),
    (["verify", "{bin}", *S, "-H", ": empty name"], "empty name"),
    (["verify", "{bin}", *S, "--headers", "{notjson}"], "not valid JSON"),
    (["verify", "{bin}", *S, "--headers", "{deep}"], "too deeply"),
    (["verify", "{bin}", *S, "--headers", "{bom}"], "byte order mark"),
    (["verify", "{bin}", *S, "--headers", "{bin}"], "--headers"),
    (["verify", "{bin}", *S, "--headers", "{missing}"], "missing.json"),
    (["verify", "{bin}", *S, "--headers", "{huge}"], "huge.json"),
    (["verify", "{bin}", *S, "-H", "a: b", "--now", "yesterday"], "yesterday"),
    (["verify", "{bin}", *S, "-H", "a: b", "--tolerance", "-1"], "'-1'"),
    (["verify", "{bin}", *S, "-H", "a: b", "--profile", "nope"], "nope"),
    (["verify", "{bin}", "-H", "a: b"], "--secret"),
    # storm (more in test_storm.py)
    (["storm", URL, *S], "--count N or --duration"),
    (["storm", URL, *S, "--count", "-1"], "'-1'"),
    (["storm", URL, *S, "--count", "1", "--rate", "nan"], "'nan'"),
    (["storm", URL, *S, "--count", "1", "--stale", "2"], "'2'"),
    (["storm", "http://192.0.2.7/hook", *S, "--count", "1"], "192.0.2.7"),
    (["storm", URL, *S, "--count", "1", "--junit", "{dir}"], "directory"),
    ([], "usage: hookmock"),
    # send (continued)
    (["send", URL, *S, "--db", "{missing}"], "does not exist"),
    # issue 12, item 8: inputs that exhausted memory (FIFOs: test_fifo_inputs_never_hang)
    (["validate", "/dev/zero"], "larger than 16777216 bytes"),
    (["validate", "{huge}"], "huge.json' is larger than"),
    (["validate", "{huge}", "--max-input-bytes", "0"], "--max-input-bytes: '0'"),
    (["validate", "{huge}", "--max-input-bytes", "1e99"], "1e99"),
    (["sign", "/dev/zero", *S], "/dev/zero"),
    (["send", URL, *S, "--data", "/dev/zero"], "--data '/dev/zero' is larger"),
    (["scenario", "validate", "/dev/zero"], "/dev/zero"),
    (["scenario", "run", "{huge}", "--target", URL, *S], "huge.json"),
    (["listen", *S, "--script", "500*1000000000"], "more than 1000 steps"),
    (["listen", *S, "--script", "500*999,ok*2"], "1001"),
    (["listen", *S, "--script", "\u00b2"], "\u00b2"),
    (["listen", *S, "--script", "500*\u00b2"], "500*\u00b2"),
    (["listen", *S, "--max-body-bytes", "0"], "--max-body-bytes: '0' is out of range"),
    (["listen", *S, "--max-body-bytes", "99999999999999"], "99999999999999"),
    (["listen", *S, "--script", "x" * 100_000], "unknown fault 'xxxxxxxx"),
    (["send", URL, *S, "--deadline", "9" * 100_000], "is out of range"),
    # issue 12, item 10: each of these was a traceback
    (["validate", "{deep}"], "deep.json' nests arrays/objects too deeply"),
    (["validate", "{bigint}"], "bigint.json' holds an integer with more than"),
    (["send", URL, *S, "--data", "{deep}"], "deep.json"),
    (["send", URL, *S, "--data", "{bigint}"], "bigint.json"),
    (["scenario", "validate", "{deeptoml}"], "nested too deeply"),
    (["send", "http://" + "a" * 70 + ".localhost/x", *S], "a" * 20),
    (["send", "http://a..localhost/x", *S], "a..localhost"),
    (["send", URL, *S, "--deadline", "1e308"], "1e308"),
    (["send", URL, *S, "--deadline", "nan"], "nan"),
    (["send", URL, *S, "--deadline", "inf"], "inf"),
    (["send", URL, *S, "--deadline", "1e-300"], "1e-300"),
    (["send", URL, *S, "--retry-delays", "1e20"], "1e20"),
    (["send", URL, *S, "--retry-delays", "1,nan"], "nan"),
    (["deliveries", "--db", "{log}", "--from", "9999-12-31T23:59:59Z"], "9999-12-31T23:59:59Z"),
    (["deliveries", "--db", "{log}", "--to", "9999-12-31T23:59:59Z"], "9999-12-31T23:59:59Z"),
    (["deliveries", "--db", "{log}", "--from", "0001-01-01T00:00:00Z"], "0001-01-01T00:00:00Z"),
    (["sign", "{bin}", *S, "--timestamp", "99999999999999999999"], "99999999999999999999"),
    (["scenario", "run", "moda-lost-ack", "--target", "http://a..localhost/x", *S], "a..localhost"),
    (["listen", *S, "--forward-to", "http://a..localhost/x"], "a..localhost"),
    # further hostile files
    (
        ["sign", "{bin}", "--secret", "whsec_\udcff"],
        "signing secret in --secret has a byte that is not UTF-8",
    ),
    (
        ["sign", "{bin}", "--profile", "modio", "--secret", "tok\r\nX-Evil: 1"],
        "has a line break at position 3",
    ),
    (["send", URL, "--secret", "whsec_a\nb"], "line break"),
    (["listen", "--secret", "whsec_\udcff"], "not UTF-8"),
    # empty values are values, not "not given"
    (["scenario", "validate", ""], "FILE is empty"),
    (["listen", *S, "--forward-to", ""], "target URL ''"),
    (["listen", *S, "--script", ""], "empty fault script"),
    (["schema", ""], "unknown schema ''"),
    (["events", "--example", ""], "'' is not a Moda event"),
    (["validate", "{badpayload}", "--schema", ""], "unknown schema ''"),
    (["validate", "{bom}"], "byte order mark"),
    (["validate", "{nan}"], "nan.json' is not valid JSON: -Infinity is not a JSON number"),
    (["send", URL, *S, "--data", "{nan}"], "-Infinity is not a JSON number"),
    (["validate", "{nul}"], "nul.json"),
    (["sign", "{dir}", *S], "directory"),
    (["scenario", "validate", "{dir}"], "directory"),
    (["scenario", "validate", "{bin}"], "binary.bin"),
    (["send", "https://127.0.0.1:9/hook", *S, "--ca-file", "/dev/zero"], "not a regular file"),
    (["send", "https://127.0.0.1:9/hook", *S, "--ca-file", "{huge}"], "huge.json' is larger than"),
    (["send", "https://127.0.0.1:9/hook", *S, "--ca-file", "{dir}"], "is a directory"),
    (["scenario", "validate", "{after}"], "steps[1].after: nan is not a number of seconds"),
    (["scenario", "validate", "{tomlbigint}"], "an integer with more than"),
    (["scenario", "validate", "{tomlinf}"], "steps[0].data.n[1]: inf is not a JSON number"),
    (["scenario", "run", "{tomlinf}", "--target", URL, *S], "steps[0].data.m.k: nan"),
    (["scenario", "run", "{after}", "--target", URL, *S], "steps[0].after: inf"),
]


def _argv(argv: list[str], files: dict[str, str]) -> list[str]:
    return [a.format(**files) if "{" in a else a for a in argv]


@pytest.mark.parametrize(("argv", "expect"), CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_exits_2_with_a_message(
    argv: list[str],
    expect: str,
    files: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HOOKMOCK_SECRET", raising=False)
    monkeypatch.delenv("HOOKMOCK_ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    code = main(_argv(argv, files))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == 2, f"exit {code}; stdout={out!r} stderr={err!r}"
    assert err.strip(), "no message on stderr"
    assert expect.lower() in err.lower(), f"stderr does not mention {expect!r}: {err!r}"
    assert len(err) < 4000, f"a {len(err)}-character message: a huge value was echoed whole"


def test_every_subcommand_has_hostile_cases() -> None:
    from hookmock.cli import _commands

    covered = {argv[0] for argv, _ in CASES if argv} | {"serve"}  # serve: test_serve_bad_input below
    assert set(_commands()) <= covered, set(_commands()) - covered


def test_schema_errors_in_payload_files_name_their_path(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", files["badpayload"], "--schema", "moda-envelope"])
    out, err = capsys.readouterr()
    text = out + err
    assert code == 1 and "Traceback" not in text
    assert "$.data.status" in text and "$.id" in text, text  # the JSON paths of the bad fields


def test_schema_errors_in_scenario_files_name_their_path(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scenario", "validate", files["badscenario"]])
    out, err = capsys.readouterr()
    text = out + err
    assert code == 2 and "Traceback" not in text
    assert "bad-scenario.toml" in text
    assert "scenario.name" in text and "steps[0].action" in text, text


SERVE_CASES: list[tuple[list[str], str]] = [
    (["--port", "99999"], "99999"),
    (["--port", "-5"], "-5"),
    (["--port", "http"], "http"),
    (["--clock", "sundial"], "sundial"),
    (["--host", "0.0.0.0"], "HOOKMOCK_ADMIN_TOKEN"),
    (["--host", "192.0.2.7"], "HOOKMOCK_ADMIN_TOKEN"),
    (["--db", "{dir}"], "--db"),
    (["--db", "{bin}"], "binary.bin"),
    (["--ca-file", "{missing}"], "missing.json"),
    (["--api-key", " "], "--api-key"),
    (["--signing-secret", ""], "--signing-secret"),
    (["--port", "0", "--state-file", "{missing}"], "--state-file"),
    (["--port", "0", "--state-file", "{dir}"], "--state-file"),
    (["--port", "0", "--api-key", "key\nsecond line"], "--api-key has a line break at position 3"),
    (["--port", "0", "--signing-secret", "whsec_\udcff"], "--signing-secret has a byte that is not UTF-8"),
]


@pytest.mark.parametrize(("argv", "expect"), SERVE_CASES, ids=[" ".join(c[0]) for c in SERVE_CASES])
def test_serve_bad_input(argv: list[str], expect: str, files: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HOOKMOCK_ADMIN_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "hookmock", "serve", *_argv(argv, files)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert expect.lower() in proc.stderr.lower(), proc.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["send", URL, "--data", "{bin}", *S],
        ["deliveries", "--db", "{bin}"],
        ["validate", "{dir}"],
        ["listen", "--port", "99999", *S],
        ["sign", "{unreadable}", *S],
    ],
    ids=["send", "deliveries", "validate", "listen", "sign"],
)
def test_as_a_process_no_traceback(argv: list[str], files: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hookmock", *_argv(argv, files)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.startswith(("hookmock", "usage"))


@pytest.mark.parametrize("command", ["serve", "listen"])
def test_port_in_use_is_one_message_without_werkzeugs_lines(command: str) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        extra = S if command == "listen" else []
        proc = subprocess.run(
            [sys.executable, "-m", "hookmock", command, "--port", str(port), *extra],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    expected = f"hookmock {command}: error: cannot listen on 127.0.0.1:{port}"
    assert proc.stderr.startswith(expected), proc.stderr
    assert "Address already in use" in proc.stderr
    assert "in use by another program" not in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_sign_reads_the_secret_from_the_environment_like_every_command(
    files: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hookmock import sign

    monkeypatch.setenv("HOOKMOCK_SECRET", "whsec_from_the_environment")
    assert main(["sign", files["notjson"], "--timestamp", "1700000000"]) == 0
    headers = json.loads(capsys.readouterr().out)
    body = Path(files["notjson"]).read_bytes()
    assert headers == sign("moda", body, "whsec_from_the_environment", timestamp=1700000000)


def test_secret_and_target_options_are_defined_once() -> None:
    """``--secret``, ``--allow-target`` and ``--ca-file`` come from the helpers in ``cli/_common.py``."""
    import hookmock.cli as cli

    folder = Path(cli.__file__).parent
    for module in folder.glob("cmd_*.py"):
        text = module.read_text(encoding="utf-8")
        for flag in ('"--secret"', '"--allow-target"', '"--ca-file"'):
            assert flag not in text, f"{module.name} defines {flag} itself; use cli._common's helper"


def test_a_receiver_bound_to_every_interface_prints_a_url_that_works() -> None:
    import urllib.request

    from hookmock.receiver.server import FakeReceiver

    with FakeReceiver("moda", host="0.0.0.0") as receiver:
        assert receiver.url == f"http://127.0.0.1:{receiver.port}/webhook"
        request = urllib.request.Request(receiver.url, data=b"{}", method="POST")
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=5) as answer:
            assert answer.status == 200
        assert len(receiver.requests) == 1


def test_audit_list_needs_no_url(capsys: pytest.CaptureFixture[str]) -> None:
    from hookmock.auditing import CATALOGUE

    assert main(["audit", "--list"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == len(CATALOGUE) and all(c.name in out for c in CATALOGUE)


def test_validate_a_payload_of_no_known_schema_is_invalid_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hookmock import ABSENT, EventFactory

    envelope = EventFactory("moda", seed=3).event("task.succeeded", type=ABSENT)
    path = tmp_path / "no-type.json"
    path.write_text(json.dumps(envelope), encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "invalid" in out and "--schema" in out and "Traceback" not in out + err


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["send", URL, "--colour"], "usage: hookmock send"),
        (["demo", "--extra"], "usage: hookmock demo"),
        (["scenario", "run", "x.toml", "--target", URL, "--zzz"], "usage: hookmock scenario run"),
    ],
)
def test_an_unknown_flag_shows_the_subcommands_usage(
    argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(usage) and f"{usage[7:]}: error: unrecognized arguments: {argv[-1]}" in err, err


def test_scenario_validation_reports_every_problem_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drill = tmp_path / "drill.toml"
    drill.write_text(
        '[scenario]\nname = 5\nprofile = "moda"\n'
        '[[steps]]\naction = "send"\nevent = "task.nope"\nproxy = ["banana", "lost_ack:abc", "pass"]\n'
        '[[steps]]\naction = "duplicate"\nof = "ghost"\n'
        '[[steps]]\naction = "fly"\n',
        encoding="utf-8",
    )
    assert main(["scenario", "validate", str(drill)]) == 2
    err = capsys.readouterr().err
    paths = ["scenario.name", "steps[0].event", "steps[0].proxy[0]", "steps[0].proxy[1]", "steps[1].of"]
    paths.append("steps[2].action")
    positions = [err.find(f"  - {p}:") for p in paths]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), err
    assert "(6 problem(s))" in err and "steps[0].proxy[2]" not in err
    assert "^(" not in err, "a raw regular expression leaked into the message"
    assert "'banana' is not a proxy action; use one of pass, fail[:<status>]" in err
    assert "lost acknowledgement" in err and "script" not in err and "500,500,ok" not in err


@pytest.mark.parametrize(
    "action",
    ["pass", "fail", "fail:503", "fail:99", "fail:600", "fail:abc", "lost_ack", "lost_ack:500",
     "lost_ack:timeout", "lost_ack:delay:2.5", "lost_ack:delay:2.5:503", "lost_ack:abc", "lost_ack:Timeout",
     "lost_ack:", "timeout_after_processing", "duplicate", "duplicate:3", "duplicate:0", "duplicate:100",
     "concurrent:99", "tamper", "tamper:1", "banana", ""],
)  # fmt: skip
def test_proxy_action_check_agrees_with_the_schema(action: str) -> None:
    import re

    from hookmock.scenarios.model import _proxy_problem
    from hookmock.validation import load_schema

    pattern = load_schema("scenario")["$defs"]["proxy_action"]["pattern"]
    if _proxy_problem(action) is None:
        assert re.search(pattern, action), f"{action!r} accepted by hookmock but not by the schema"


def _run_with_idle_timeout(argv: list[str], idle_s: float = 0.5) -> subprocess.CompletedProcess[str]:
    """``hookmock ARGV`` in a child process whose FIFO idle timeout is ``idle_s`` (10 s normally)."""
    code = (
        "import sys, hookmock.cli._inputs as inputs\n"
        f"inputs.IDLE_TIMEOUT_S = {idle_s}\n"
        "from hookmock.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    child = [sys.executable, "-c", code, *argv]
    return subprocess.run(child, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


NOBODY_WRITES = "{fifo!r}: nothing to read for 0.5 s"
NOBODY_READS = "--junit {fifo!r} is a FIFO nobody is reading from"


@pytest.mark.parametrize(
    ("argv", "expect"),
    [
        (["validate", "{fifo}"], NOBODY_WRITES),
        (["sign", "{fifo}", *S], NOBODY_WRITES),
        (["scenario", "validate", "{fifo}"], NOBODY_WRITES),
        (["scenario", "run", "{fifo}", "--target", URL, *S], NOBODY_WRITES),
        (["send", URL, *S, "--data", "{fifo}"], NOBODY_WRITES),
        (["scenario", "run", "moda-lost-ack", "--target", URL, *S, "--junit", "{fifo}"], NOBODY_READS),
        (["audit", URL, *S, "--junit", "{fifo}"], NOBODY_READS),
    ],
    ids=[
        "validate",
        "sign",
        "scenario validate",
        "scenario run",
        "send --data",
        "scenario --junit",
        "audit --junit",
    ],
)
def test_fifos_are_an_error_not_a_hang(argv: list[str], expect: str, tmp_path: Path) -> None:
    fifo = str(tmp_path / "pipe")
    os.mkfifo(fifo)
    proc = _run_with_idle_timeout([a.replace("{fifo}", fifo) for a in argv])
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert expect.format(fifo=fifo) in proc.stderr, proc.stderr


def test_a_fifo_that_is_written_is_read_like_a_file(tmp_path: Path) -> None:
    """``hookmock sign <(cmd)``: a FIFO with a writer is read to its end."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    body = b'{"id": "evt_1"}'

    def write() -> None:
        with open(fifo, "wb") as fh:  # blocks until the reader opens it
            fh.write(body)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    proc = _run_with_idle_timeout(["sign", str(fifo), *S, "--timestamp", "1700000000"], idle_s=10)
    writer.join(timeout=10)
    assert proc.returncode == 0, proc.stderr
    from hookmock import sign

    assert json.loads(proc.stdout) == sign("moda", body, S[1], timestamp=1700000000)


def _limit_output_file_size() -> None:  # runs in the child before exec
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))


@pytest.mark.parametrize("argv", [["schema", "moda-envelope"], ["events"], ["scenario", "list"]])
def test_output_that_cannot_be_written_is_one_line_not_a_traceback(argv: list[str], tmp_path: Path) -> None:
    """stdout on a full disk (here: a file over RLIMIT_FSIZE, as ``> /dev/full`` would be)."""
    with open(tmp_path / "out.txt", "wb") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "hookmock", *argv],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=30,
            preexec_fn=_limit_output_file_size,
        )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == f"hookmock {argv[0]}: cannot write the output: File too large\n"


def test_output_the_terminal_cannot_encode_is_escaped(tmp_path: Path) -> None:
    payload = tmp_path / "caf\u00e9.json"
    payload.write_text('{"id": "caf\u00e9", "type": "task.succeeded", "data": {}}', encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    proc = subprocess.run(
        [sys.executable, "-m", "hookmock", "validate", str(payload)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        encoding="ascii",
    )
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1, proc.stderr
    assert "caf\\xe9.json: invalid moda-envelope" in proc.stdout and "$.id: 'caf\\xe9'" in proc.stdout


def test_a_document_with_thousands_of_errors_stops_at_the_first_hundred(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every error of a 12 MB document of 3 million bad steps took minutes and gigabytes; checking
    now stops after 100 (here: 20,000 bad steps)."""
    payload = tmp_path / "steps.json"
    payload.write_text(json.dumps({"steps": [{}] * 20_000}), encoding="utf-8")
    assert main(["validate", str(payload)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{payload}: invalid scenario (the first 100 violations)"
    assert len(out) == 101
    drill = tmp_path / "steps.toml"
    drill.write_text('[scenario]\nname = "x"\n' + "[[steps]]\n" * 20_000, encoding="utf-8")
    assert main(["scenario", "validate", str(drill)]) == 2
    err = capsys.readouterr().err
    assert "(100 problem(s); the schema check stopped after 100, there may be more)" in err
    assert err.count("\n  - ") == 100
