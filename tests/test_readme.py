"""The README is a front page: the two commands first (``.ci/run`` reads them), under about 10 KB,
linking into the docs. Its code blocks run with the docs' (tests/test_docs_examples.py)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_opens_with_the_two_commands():
    first = re.search(r"```bash\n(.*?)```", README.read_text(), re.S)
    assert first is not None
    lines = first.group(1).strip().splitlines()
    assert lines[0].startswith("pip install . && hookmock ")
    assert lines[1] == 'pip install ".[test]" && python -m pytest'


def test_readme_is_a_front_page():
    text = README.read_text(encoding="utf-8")
    assert len(text.encode()) < 10_500, len(text.encode())
    links = set(re.findall(r"\]\((docs/[\w./-]+\.md)(?:#[\w-]+)?\)", text))
    for page in ("docs/tutorial.md", "docs/how-to/fixtures.md", "docs/how-to/emulator-ci.md"):
        assert page in links, page
