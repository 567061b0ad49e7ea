"""MkDocs hook: adds the generated reference pages (hookmock.cli._reference.PAGES) to the site.

The pages are made from the code at every build, so the command-line, HTTP API, error and Python API
references cannot drift from it; none of them is a file under docs/.
"""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files

from hookmock.cli._reference import PAGES, plain_roles


def on_files(files: Files, config: Any) -> Files:
    for path, write in PAGES.items():
        existing = files.get_file_from_path(path)
        if existing is not None:
            raise ValueError(f"docs/{path} is generated at build time; delete the file under docs/")
        files.append(File.generated(config, path, content=write()))
    return files


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """The Python API page's docstrings use Sphinx roles (:class:`X`): shown as plain code."""
    return plain_roles(html) if page.file.src_uri == "reference/python-api.md" else html
