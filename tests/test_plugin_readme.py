"""The docs' pytest-plugin examples pass when run by pytest, as a user would run them.

``tests/test_docs_examples.py`` execs every ```python block of README.md and docs/**/*.md (for
these, that only defines the tests); this module runs each block that defines a test using a
``hookmock_`` fixture as a test module in a pytester session and requires every test in it to pass.
(Blocks that are files of a page, ``# NAME.py`` on their first line, run together in
test_docs_examples.py instead.)
"""

from __future__ import annotations

import re

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
from docs_blocks import all_blocks

pytest_plugins = ["pytester"]

PLUGIN_TEST = re.compile(r"^def test_\w+\(.*hookmock_", re.M)
EXAMPLES = [
    b
    for b in all_blocks()
    if b.lang == "python" and b.file_name is None and not b.marker and PLUGIN_TEST.search(b.code)
]
BLOCKS = [b.code for b in EXAMPLES]


def test_the_fixtures_guide_has_plugin_examples() -> None:
    assert len([b for b in EXAMPLES if b.page.name == "fixtures.md"]) >= 10


@pytest.mark.parametrize("code", BLOCKS, ids=[b.id for b in EXAMPLES])
def test_readme_plugin_example_passes(code: str, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_readme_example=code)
    result = pytester.runpytest("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1, result.stdout.str()
    assert set(outcomes) <= {"passed", "seconds", "warnings"}, result.stdout.str()
