"""Effect probes: "how many times has the receiver applied event X?".

Idempotency cannot be seen from status codes.  An effect probe is a callable
``probe(event_id) -> int`` (Python, pytest) or a URL template containing ``{event_id}`` (command
line) whose answer is a bare integer or JSON ``{"count": N}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

from ..errors import HookmockError, UsageError

__all__ = ["EffectProbe", "ProbeFailed", "effect_probe", "url_probe"]

EffectProbe = Callable[[str], int]

#: How long the effect probe URL may take to answer, in seconds.
PROBE_TIMEOUT_S = 10.0


class ProbeFailed(HookmockError):
    """The effect probe did not give a count."""


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


def url_probe(
    template: str, *, allow_targets: tuple[str, ...] = (), ca_file: str | None = None
) -> EffectProbe:
    """An effect probe that GETs ``template`` with ``{event_id}`` filled in (percent-encoded).

    The URL passes the same outbound-safety check as webhook targets (loopback unless allowed);
    proxy environment variables are ignored.
    """
    if "{event_id}" not in template:
        raise UsageError(
            f"--probe-url {template!r} has no {{event_id}} placeholder; write it like "
            "http://127.0.0.1:8000/effects/{event_id}"
        )
    from ..transport.targets import TargetPolicy

    policy = TargetPolicy(allow_targets)
    policy.check(template.replace("{event_id}", "x"))

    def probe(event_id: str) -> int:
        import ssl
        import urllib.error
        import urllib.request

        url = template.replace("{event_id}", quote(event_id, safe=""))
        context = ssl.create_default_context(cafile=ca_file) if url.lower().startswith("https") else None
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(url, timeout=PROBE_TIMEOUT_S) as response:
                return parse_count(response.read(65536), f"the effect probe {url}")
        except urllib.error.HTTPError as exc:
            raise ProbeFailed(f"the effect probe {url} answered HTTP {exc.code}") from None
        except (OSError, ValueError) as exc:
            raise ProbeFailed(f"the effect probe {url} failed: {exc}") from None

    return probe


def effect_probe(
    probe: EffectProbe | str | None, *, allow_targets: tuple[str, ...] = (), ca_file: str | None = None
) -> EffectProbe | None:
    """A callable probe from what the caller gave (callable, URL template or None)."""
    if probe is None or callable(probe):
        return probe
    if isinstance(probe, str):
        return url_probe(probe, allow_targets=allow_targets, ca_file=ca_file)
    raise UsageError(f"probe= must be a callable probe(event_id) -> int or a URL template, not {probe!r}")
