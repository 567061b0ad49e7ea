"""Every code block of README.md and docs/**/*.md runs as printed, or says why it cannot.

The conventions (markers, files, continued blocks) are described in ``docs_blocks.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from docs_blocks import PROVIDED_ELSEWHERE, ROOT, Block, all_blocks, blocks, pages

pytest_plugins = ["pytester"]

BLOCKS = all_blocks()
PYTHON = [b for b in BLOCKS if b.lang == "python" and b.file_name is None]
FILE_PAGES = sorted({b.page for b in BLOCKS if b.file_name is not None})
BASH = [b for b in BLOCKS if b.lang == "bash" and not b.marker]
YAML = [b for b in BLOCKS if b.lang in ("yaml", "yml")]
NEEDS_MARKER = {"py", "sh", "shell", "console", "js", "javascript", "ts", "go", "java"}


def _chain(block: Block) -> list[Block]:
    """The block, preceded by the page's blocks it continues (python blocks only)."""
    page = [b for b in blocks(block.page) if b.lang == "python" and b.file_name is None]
    at = next(i for i, b in enumerate(page) if b.index == block.index)
    start = at
    while start > 0 and page[start].marker == "continued":
        start -= 1
    return page[start : at + 1]


@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_block_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "docs_example"}
    for part in _chain(block):
        exec(compile(part.code, f"{part.page}:{part.line}", "exec"), namespace)


def write_files(page: Path, folder: Path) -> list[Block]:
    """Save the page's file blocks (``# NAME.py``) into folder, as the reader would."""
    files = [b for b in blocks(page) if b.file_name is not None]
    for block in files:
        target = folder / str(block.file_name)
        target.parent.mkdir(parents=True, exist_ok=True)
        before = target.read_text(encoding="utf-8") + "\n\n" if block.appends else ""
        target.write_text(before + block.code, encoding="utf-8")
    return files


@pytest.mark.parametrize("page", FILE_PAGES, ids=[str(p.relative_to(ROOT)) for p in FILE_PAGES])
def test_the_files_of_a_page_pass_under_pytest(page: Path, pytester: pytest.Pytester) -> None:
    """The tutorial's way: save the files, run ``python -m pytest`` (docs/tutorial.md)."""
    files = write_files(page, pytester.path)
    tests = sorted({b.file_name for b in files if Path(str(b.file_name)).name.startswith("test_")})
    assert tests, f"{page}: file blocks but no test_*.py among them"
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", *map(str, tests))
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= len(tests), result.stdout.str()
    assert set(outcomes) <= {"passed", "seconds", "warnings"}, result.stdout.str()


def bash_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKMOCK_")}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


@pytest.mark.parametrize("block", BASH, ids=[b.id for b in BASH])
def test_bash_block_runs(block: Block, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", block.code],
        cwd=tmp_path,
        env=bash_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: whatever it starts is stopped with it
    )
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == 0, f"{block.id}\n{out}\n{err}"


def test_every_block_is_run_or_accounted_for() -> None:
    problems = []
    for b in BLOCKS:
        if b.marker in ("not-run", "run-by") and not b.reason:
            problems.append(f"{b.id}: <!-- {b.marker}: ... --> needs a reason or a test file")
        if b.marker == "run-by":
            test = ROOT / b.reason
            if not test.is_file():
                problems.append(f"{b.id}: run-by names {b.reason}, which does not exist")
            elif str(b.page.relative_to(ROOT)) not in test.read_text(encoding="utf-8"):
                problems.append(f"{b.id}: {b.reason} does not mention {b.page.relative_to(ROOT)}")
        if b.lang in NEEDS_MARKER and b.marker not in ("not-run", "run-by"):
            problems.append(
                f"{b.id}: a ```{b.lang} block needs <!-- not-run: why --> or <!-- run-by: test -->"
            )
        if b.marker == "continued" and b.lang != "python":
            problems.append(f"{b.id}: only python blocks can be continued")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("block", YAML, ids=[b.id for b in YAML])
def test_yaml_block_parses(block: Block) -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: the YAML blocks are not parsed")
    assert isinstance(yaml.safe_load(block.code), dict), block.id


TOML = [b for b in BLOCKS if b.lang == "toml"]


@pytest.mark.parametrize("block", TOML, ids=[b.id for b in TOML])
def test_toml_block_is_a_valid_scenario(block: Block) -> None:
    from hookmock.scenarios.model import parse_scenario

    scenario = parse_scenario(block.code, source=block.id)  # raises, listing every problem
    assert scenario.steps, block.id


LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", pages(), ids=[str(p.relative_to(ROOT)) for p in pages()])
def test_links_stay_in_the_repository_and_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "shared/" not in text, f"{page} points at shared/"
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), f"{page}: {target} leaves the repository"
        relative = str(path.relative_to(ROOT))
        assert path.exists() or relative in PROVIDED_ELSEWHERE, f"{page}: {target} does not exist"


TUTORIAL = ROOT / "docs/tutorial.md"


@pytest.mark.parametrize(
    ("app", "old", "new", "caught"),
    [
        (
            "shop_flask.py",
            "if event_id in app.applied:",
            "if False:",
            "test_a_lost_acknowledgement_is_applied_once",
        ),
        (
            "shop_fastapi.py",
            "hmac.compare_digest(signature.encode(), expected)",
            "True",
            "test_a_forgery_is_refused_on_every_attempt",
        ),
    ],
)
def test_the_tutorial_tests_catch_the_bugs_it_says_they_catch(
    app: str, old: str, new: str, caught: str, pytester: pytest.Pytester
) -> None:
    """ "Try breaking the app": the dedupe removed, or the signature check, and the named test fails."""
    write_files(TUTORIAL, pytester.path)
    source = (pytester.path / app).read_text(encoding="utf-8")
    assert old in source, f"docs/tutorial.md: {app} no longer has {old!r}"
    (pytester.path / app).write_text(source.replace(old, new), encoding="utf-8")
    tests = "test_" + app
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", tests, "-k", caught)
    assert result.parseoutcomes().get("failed") == 1, result.stdout.str()
