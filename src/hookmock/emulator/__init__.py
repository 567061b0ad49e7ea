"""The standalone emulator (``hookmock serve``): Moda's API and deliveries API, the mod.io
webhook settings and history, a control API under ``/_hookmock/``, a history page and an
OpenAPI document, in one process.  See :class:`Emulator`."""

from __future__ import annotations

from .config import EmulatorConfig
from .server import Emulator

__all__ = ["Emulator", "EmulatorConfig"]
