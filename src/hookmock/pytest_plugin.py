"""hookmock's pytest plugin (registered under the name ``hookmock`` via the ``pytest11`` entry point).

It must stay cheap to import: pytest loads it in every run of every project where hookmock is
installed.  Nothing heavy is imported until a fixture is requested.
"""

from __future__ import annotations

from typing import Any


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "hookmock(profile=None, secret=None, seed=None, tls=None): configure hookmock's fixtures"
    )
