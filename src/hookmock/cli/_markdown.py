"""Markdown pieces the generated reference pages share (:mod:`._reference`, :mod:`._reference_http`)."""

from __future__ import annotations

__all__ = ["GENERATED", "cell", "code"]

GENERATED = "<!-- generated at build time by hookmock.cli._reference: do not edit -->\n"


def cell(text: object) -> str:
    """``text`` made safe for one cell of a Markdown table (one line, no HTML, no table syntax)."""
    out = " ".join(str(text).split())
    for char, escaped in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("|", "\\|"),
        ("*", "\\*"),
        ("[", "\\["),
        ("]", "\\]"),
    ):
        out = out.replace(char, escaped)
    return out


def code(text: object) -> str:
    """``text`` as inline code in a table cell (backticks inside are doubled around)."""
    value = " ".join(str(text).split())
    fence = "``" if "`" in value else "`"
    return f"{fence} {value} {fence}" if fence == "``" else f"`{value}`"
