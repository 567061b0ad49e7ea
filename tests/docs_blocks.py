"""The fenced code blocks of README.md and docs/**/*.md, and the conventions that say how each one runs.

* ```python blocks are executed, each in a fresh namespace in an empty temporary folder.
  A block preceded by ``<!-- continued -->`` runs after the page's previous blocks, in their
  namespace (back to the nearest block without the marker).
* A ```python block whose first line is ``# NAME.py`` is a file the reader saves. The test writes
  every such block of the page into one folder and runs pytest there, as the reader would;
  ``# NAME.py, continued`` adds the block to the end of that file.
* A ```python block that defines ``def test_...(... hookmock_...)`` is also run as a test module by
  pytest (tests/test_plugin_readme.py).
* ```bash blocks are run with bash (``set -euo pipefail``) in an empty temporary folder, loopback
  only, with a time bound, unless the HTML comment right before the fence says otherwise:
  ``<!-- not-run: REASON -->`` (a reader's command this suite cannot run) or
  ``<!-- run-by: tests/test_x.py -->`` (a test that runs it in its own way).
* ```yaml blocks must parse (PyYAML, when installed); ```toml blocks are scenario files and must be valid.
* Any other fenced block (```text, ```toml, ```py …) is not code the suite runs; a ```py or
  ```sh block needs one of the two markers, so no runnable block is silently left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hookmock.cli._reference import PAGES

ROOT = Path(__file__).resolve().parents[1]

#: Pages generated when the site is built (no file under docs/): the reference pages.
PROVIDED_ELSEWHERE = {f"docs/{page}" for page in PAGES}

FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
MARKER = re.compile(r"<!--\s*(not-run|run-by|continued)\s*:?\s*(.*?)\s*-->\s*\Z", re.S)
FILE_LINE = re.compile(r"\A# ([\w./-]+\.py)(, continued)?\n")


@dataclass(frozen=True)
class Block:
    page: Path
    index: int  # position among the page's blocks
    lang: str
    code: str
    line: int
    marker: str  # "", "not-run", "run-by", "continued"
    reason: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def file_name(self) -> str | None:
        match = FILE_LINE.match(self.code) if self.lang == "python" else None
        return match.group(1) if match else None

    @property
    def appends(self) -> bool:
        """``# NAME.py, continued``: the block adds to the file an earlier block of the page began."""
        match = FILE_LINE.match(self.code) if self.lang == "python" else None
        return bool(match and match.group(2))


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for index, match in enumerate(FENCE.finditer(text)):
        before = text[: match.start()].rstrip()
        marker = MARKER.search(before[-400:])
        found.append(
            Block(
                page=page,
                index=index,
                lang=match.group(1),
                code=match.group(2),
                line=text.count("\n", 0, match.start()) + 1,
                marker=marker.group(1) if marker else "",
                reason=marker.group(2) if marker else "",
            )
        )
    return found


def all_blocks() -> list[Block]:
    return [b for page in pages() for b in blocks(page)]
