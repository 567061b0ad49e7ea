"""Effect probes: "how many times has the receiver applied event X?".

Idempotency cannot be seen from status codes.  An effect probe is a callable
``probe(event_id) -> int`` (Python, pytest) or a URL template containing ``{event_id}`` (command
line) whose answer is a bare integer or JSON ``{"count": N}``.

A URL probe (and the fail-once hook URL, :func:`url_hook`) is fetched like a webhook delivery:
the same outbound policy (loopback unless allowed), checked on every URL after the event id is
filled in, connecting only to the checked addresses, no proxy from the environment, and **no
redirects**: a 3xx is reported as a probe error naming its ``Location``, never followed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from ..clock import SECOND, RealClock
from ..errors import HookmockError, TargetNotAllowed, UsageError

__all__ = ["EffectProbe", "ProbeFailed", "effect_probe", "url_hook", "url_probe"]

EffectProbe = Callable[[str], int]

#: How long the effect probe URL may take to answer, in seconds.
PROBE_TIMEOUT_S = 10.0

_PLACEHOLDER = "{event_id}"
_REAL = RealClock()


class ProbeFailed(HookmockError):
    """The effect probe (or the fail-once hook) did not give a usable answer."""


def parse_count(raw: bytes, where: str) -> int:
    """The count in a probe answer: a bare integer or ``{"count": N}``."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        value = json.loads(text)
    except ValueError:
        raise ProbeFailed(
            f'{where} answered {text[:80]!r}; expected a bare integer or {{"count": N}}'
        ) from None
    if isinstance(value, dict):
        value = value.get("count")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProbeFailed(f'{where} answered {text[:80]!r}; expected a bare integer or {{"count": N}}')
    return value


class _Fetcher:
    """GET or POST a templated URL through the delivery transport (policy, no redirects)."""

    def __init__(self, option: str, template: str, allow_targets: tuple[str, ...], ca_file: str | None):
        if not isinstance(template, str) or _PLACEHOLDER not in template:
            raise UsageError(
                f"{option} {template!r} has no {_PLACEHOLDER} placeholder; write it like "
                "http://127.0.0.1:8000/effects/{event_id}"
            )
        try:
            parts = urlsplit(template)
        except ValueError:
            parts = None
        if parts is not None and (_PLACEHOLDER in parts.netloc or _PLACEHOLDER in parts.scheme):
            raise UsageError(
                f"{option} {template!r} has {_PLACEHOLDER} in its host part; put it in the path or the "
                "query (the event id must never choose the host)"
            )
        from ..transport.http import HTTPTransport

        self.option = option
        self.template = template
        self.transport = HTTPTransport(allow_targets=allow_targets, ca_file=ca_file, excerpt_bytes=65536)
        sample = self.url("x")
        self.transport.check_target(sample)  # UsageError / TargetNotAllowed before any packet
        self.host = urlsplit(sample).hostname

    def url(self, event_id: str) -> str:
        return self.template.replace(_PLACEHOLDER, quote(str(event_id), safe=""))

    def fetch(self, event_id: str, method: str) -> tuple[str, bytes]:
        """``(url, body)`` of a 2xx answer; anything else is :class:`ProbeFailed`."""
        url = self.url(event_id)
        if urlsplit(url).hostname != self.host:  # cannot happen with a percent-encoded id; kept as a guard
            raise ProbeFailed(f"{self.option}: event id {event_id!r} changed the host of {url}")
        try:
            result = self.transport.send(
                url,
                {"Accept": "application/json"},
                b"",
                deadline_ns=int(PROBE_TIMEOUT_S * SECOND),
                clock=_REAL,
                method=method,
            )
        except (UsageError, TargetNotAllowed) as exc:
            raise ProbeFailed(f"{self.option} {url}: {exc}") from None
        what = f"the {self.option} {method} {url}"
        if result.outcome != "response" or result.status is None:
            raise ProbeFailed(f"{what} failed: {result.describe()}")
        if 300 <= result.status <= 399:
            location = next((v for k, v in result.headers if k.lower() == "location"), None)
            shown = f" to {location!r}" if location is not None else " (no Location header)"
            raise ProbeFailed(
                f"{what} answered HTTP {result.status}, a redirect{shown}; hookmock never follows "
                "redirects from the probe or hook URLs: give the final URL"
            )
        if not 200 <= result.status <= 299:
            raise ProbeFailed(f"{what} answered HTTP {result.status}")
        return url, result.excerpt


def url_probe(
    template: str, *, allow_targets: tuple[str, ...] = (), ca_file: str | None = None
) -> EffectProbe:
    """An effect probe that GETs ``template`` with ``{event_id}`` filled in (percent-encoded).

    The URL passes the same outbound-safety check as webhook targets (loopback unless allowed)
    on every call; redirects are errors, never followed; proxy environment variables are ignored.
    """
    fetcher = _Fetcher("effect probe", template, tuple(allow_targets), ca_file)

    def probe(event_id: str) -> int:
        url, body = fetcher.fetch(event_id, "GET")
        return parse_count(body, f"the effect probe {url}")

    probe.__qualname__ = probe.__name__ = f"url_probe({template!r})"
    return probe


def url_hook(
    template: str, *, allow_targets: tuple[str, ...] = (), ca_file: str | None = None
) -> Callable[[str], None]:
    """The fail-once hook over HTTP: ``POST template`` (``{event_id}`` filled in) arms a one-time
    failure of the receiver's work for that event; any 2xx means armed.  Same safety as
    :func:`url_probe`."""
    fetcher = _Fetcher("fail-once hook", template, tuple(allow_targets), ca_file)

    def arm(event_id: str) -> None:
        fetcher.fetch(event_id, "POST")

    return arm


def effect_probe(
    probe: EffectProbe | str | None, *, allow_targets: tuple[str, ...] = (), ca_file: str | None = None
) -> EffectProbe | None:
    """A callable probe from what the caller gave (callable, URL template or None)."""
    if probe is None or callable(probe):
        return probe
    if isinstance(probe, str):
        return url_probe(probe, allow_targets=allow_targets, ca_file=ca_file)
    raise UsageError(f"probe= must be a callable probe(event_id) -> int or a URL template, not {probe!r}")
