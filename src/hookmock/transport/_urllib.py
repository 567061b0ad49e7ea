"""urllib for hookmock's own loopback calls (the emulator client, the plugin's emulator handle):
no proxy from the environment and no redirects.  A 3xx comes back as the answer
(``urllib.error.HTTPError``), exactly as the delivery transport reports it, never followed."""

from __future__ import annotations

import urllib.request
from typing import Any

__all__ = ["direct_opener"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


def direct_opener(*handlers: urllib.request.BaseHandler) -> urllib.request.OpenerDirector:
    """An opener that ignores ``*_proxy`` variables and never follows a redirect."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect(), *handlers)
