"""The one constant the plugin's start-up hooks and its fixtures share: where a test's hookmock
objects are kept.

It lives here, below both, so that :mod:`hookmock.pytest_plugin` (which imports the fixtures lazily)
and :mod:`hookmock.pytest_plugin.fixtures` (which fills the stash) do not import each other.
pytest only here: this is loaded at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from .support import TestState

__all__ = ["STATE"]

#: Where a test's hookmock objects are kept (for the end-of-test checks and the failure report).
STATE: pytest.StashKey[TestState] = pytest.StashKey()
