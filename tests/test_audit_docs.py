"""The project documents itself: the audit catalogue describes every check of the code, and no file
of the repository points outside it (to the ``shared/`` material it was written from)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from hookmock.auditing import every_check

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _sections(path: Path) -> dict[str, str]:
    """``### `name` …`` headings of a markdown file -> their text."""
    text = path.read_text(encoding="utf-8")
    parts = re.split(r"^### `([a-z0-9-]+)`.*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_the_catalogue_doc_describes_every_check_of_the_code_and_no_other() -> None:
    sections = _sections(DOCS / "audit-catalogue.md")
    names = [check.name for check in every_check()]
    missing = [n for n in names if n not in sections]
    assert not missing, f"docs/audit-catalogue.md has no section for: {', '.join(missing)}"
    unknown = [n for n in sections if n not in names]
    assert not unknown, f"docs/audit-catalogue.md describes checks the code does not have: {unknown}"
    for check in every_check():
        heading = re.search(
            rf"^### `{re.escape(check.name)}` \(#(\d+)", (DOCS / "audit-catalogue.md").read_text(), re.M
        )
        assert heading is not None and int(heading.group(1)) == check.defect, check.name


def test_every_defect_class_in_the_catalogue_doc_says_what_it_sends_and_what_is_correct() -> None:
    for name, text in _sections(DOCS / "audit-catalogue.md").items():
        if name == "constant-time":
            continue  # advisory: it sends nothing
        assert "**Sends:**" in text and "**Correct receiver:**" in text, name
        assert "**Fails" in text or "**Warns" in text, name


def _tracked_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
        ).stdout
        return [ROOT / name for name in out.decode().split("\0") if name]
    except (OSError, subprocess.SubprocessError):  # not a git checkout: walk the tree instead
        skip = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
        return [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]


def test_no_file_outside_the_tests_points_at_shared_material() -> None:
    offenders = []
    for path in _tracked_files():
        relative = path.relative_to(ROOT)
        if relative.parts[0] == "tests" or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if re.search(r"(?<![\w-])shared/", line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "files point outside the repository:\n" + "\n".join(offenders)


def test_the_docs_the_readme_and_the_code_point_at_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for link in ("docs/audit-catalogue.md", "docs/providers.md"):
        assert link in readme
        assert (ROOT / link).is_file()
    from hookmock.cli._reference import PAGES  # generated at build time: no file under docs/

    for doc in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([\w./-]+\.md)\)", doc.read_text(encoding="utf-8")):
            path = (doc.parent / target).resolve()
            generated = (
                path.is_relative_to(DOCS.resolve()) and path.relative_to(DOCS.resolve()).as_posix() in PAGES
            )
            assert generated or (doc.parent / target).is_file(), f"{doc.name} links to missing {target}"
