"""The README's pytest-plugin examples pass when run by pytest, as a user would run them.

``tests/test_readme.py`` execs every ```python block (for these, that only defines the tests); this
module runs each block that defines a test using a ``hookmock_`` fixture as a test module in a
pytester session and requires every test in it to pass.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

# Imported here, in the outer process, so that pytester's in-process runs share one copy of
# hookmock's and cryptography's classes (see test_plugin_fixtures.py).
import hookmock._util.tls
import hookmock.auditing
import hookmock.pytest_plugin.receiver
import hookmock.pytest_plugin.support
import hookmock.receiver.proxy
import hookmock.scenarios
import hookmock.sender  # noqa: F401

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[1] / "README.md"


def plugin_blocks(text: str) -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    return [b for b in blocks if re.search(r"^def test_\w+\(.*hookmock_", b, re.M)]


BLOCKS = plugin_blocks(README.read_text()) if README.exists() else []


@pytest.mark.skipif(not BLOCKS, reason="README.md has no pytest-plugin examples yet")
@pytest.mark.parametrize("code", BLOCKS, ids=[f"example{i}" for i in range(len(BLOCKS))])
def test_readme_plugin_example_passes(code: str, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_readme_example=code)
    result = pytester.runpytest("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1, result.stdout.str()
    assert set(outcomes) <= {"passed", "seconds", "warnings"}, result.stdout.str()
