"""``hookmock storm --workers N``: Locust's distributed mode, run locally (hookmock[storm])."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import UsageError


def run_distributed(args: argparse.Namespace, profile: Any, secret: str) -> int:
    try:
        import locust  # noqa: F401
    except ImportError:
        raise UsageError(
            '--workers needs Locust: install the extra with pip install "hookmock[storm]"'
        ) from None
    raise UsageError("--workers is not available yet")
