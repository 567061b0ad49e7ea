"""The probe catalogue: one check per defect class.

``docs/audit-catalogue.md`` is its documentation: for every check, what it sends, what a correct
receiver does, when it fails and when it only warns (and why), and a public source for the defect
class.  ``tests/test_audit_docs.py`` keeps the two in step: a check added here must be described
there.

A check that a profile cannot have (timestamp checks for a provider that sends no timestamp,
token checks for one that signs) is reported as ``skip`` with the reason, never silently dropped,
so a report always shows the whole catalogue.  A profile may declare more generic checks that do
not apply to it, with its own reason (:attr:`Profile.audit_skips`), and contribute checks of
defect classes only its format has (:meth:`Profile.audit_checks`): :func:`catalogue_for` is the
catalogue of one profile, run before ``deadline`` (which must see every valid delivery).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..profiles import Profile, available_profiles, get_profile
from ..profiles._audit import ProfileCheck
from . import probes_auth as auth
from . import probes_body as body
from . import probes_delivery as delivery
from . import probes_effects as effects
from .context import AuditContext, Outcome, summarize
from .model import ProbeRequest
from .verdicts import judged

__all__ = ["CATALOGUE", "Check", "catalogue_for", "check_names", "every_check"]


@dataclass(frozen=True)
class Check:
    """One check: its name (stable, used by ``only=`` and in JUnit), the defect class it finds,
    a title, what a correct receiver does, how to run it, and when it does not apply."""

    name: str
    defect: int
    title: str
    expected: str
    run: Callable[[AuditContext], Outcome]
    applies: Callable[[AuditContext], str | None] = lambda ctx: None
    needs_probe: bool = False


def _needs_probe(ctx: AuditContext) -> str | None:
    return delivery.needs_probe(ctx)


CATALOGUE: tuple[Check, ...] = (
    Check(
        "baseline",
        0,
        "A valid delivery is acknowledged",
        "2xx (and, with a probe, applied once)",
        delivery.check_baseline,
    ),
    Check(
        "raw-body",
        1,
        "Verifies the raw bytes, not re-serialized JSON",
        "2xx for every byte-exact body variant, applied once",
        body.check_raw_body,
    ),
    Check(
        "charset",
        2,
        "Decodes the body as UTF-8",
        "2xx for non-ASCII and astral-plane text",
        body.check_charset,
    ),
    Check(
        "signature",
        3,
        "Rejects missing, forged and damaged signatures",
        "4xx, no effect",
        auth.check_signature,
        auth.skip_unless_signature,
    ),
    Check(
        "effect-before-verify",
        4,
        "Verifies before applying the effect",
        "no effect for a rejected request",
        auth.check_effect_before_verify,
        _needs_probe,
        needs_probe=True,
    ),
    Check(
        "replay",
        5,
        "Rejects stale timestamps (replay protection)",
        "4xx just past the tolerance, 1 h and 30 days old",
        auth.check_replay,
        auth.skip_unless_timestamp,
    ),
    Check(
        "future-timestamp",
        6,
        "Rejects far-future timestamps",
        "4xx just past the tolerance and 1 h ahead",
        auth.check_future,
        auth.skip_unless_timestamp,
    ),
    Check(
        "clock-skew",
        7,
        "Tolerates ordinary clock skew",
        "2xx for a few minutes of skew either way",
        auth.check_skew,
        auth.skip_unless_timestamp,
    ),
    Check(
        "timestamp-parsing",
        8,
        "Rejects malformed timestamps without crashing",
        "4xx, never 5xx",
        auth.check_timestamp_parsing,
        auth.skip_unless_timestamp,
    ),
    Check(
        "header-case",
        9,
        "Reads header names case-insensitively",
        "2xx whatever the header-name case",
        auth.check_header_case,
    ),
    Check(
        "idempotency",
        10,
        "Applies a redelivered event once",
        "2xx each time, effect once",
        delivery.check_idempotency,
        _needs_probe,
        needs_probe=True,
    ),
    Check(
        "dedupe-key",
        11,
        "Deduplicates on the event id, not on per-attempt values",
        "effect once across re-signed redeliveries",
        delivery.check_dedupe_key,
        delivery.skip_unless_fresh_signatures,
        needs_probe=True,
    ),
    Check(
        "concurrent-duplicates",
        12,
        "Applies concurrent copies once (no check-then-insert race)",
        "2xx for each copy, effect once",
        delivery.check_concurrent,
    ),
    Check(
        "duplicate-status",
        13,
        "Acknowledges duplicates with a 2xx",
        "2xx for a duplicate",
        delivery.check_duplicate_status,
    ),
    Check(
        "dedupe-poisoning",
        21,
        "A forged copy carrying a real event id cannot block the genuine delivery",
        "the genuine delivery applied once after a forged copy (verify, then deduplicate)",
        effects.check_dedupe_poisoning,
        effects.skip_unless_auth,
        needs_probe=True,
    ),
    Check(
        "retry-after-failure",
        22,
        "A retry after a failed attempt still applies the event",
        "attempt 1 fails (non-2xx), the retry is applied once (needs the fail-once hook)",
        effects.check_retry_after_failure,
        effects.needs_fail_once,
        needs_probe=True,
    ),
    Check(
        "event-types",
        15,
        "Acknowledges every event type, handled or not",
        "2xx for each event type",
        body.check_event_types,
    ),
    Check(
        "payload-variants",
        16,
        "Copes with legal payload variants",
        "2xx with optional fields null or absent",
        body.check_payload_variants,
    ),
    Check(
        "bad-input", 17, "Answers bad input with a 4xx, never a 5xx", "4xx, never 5xx", body.check_bad_input
    ),
    Check(
        "token",
        18,
        "Compares the webhook token exactly",
        "4xx for every token but the exact one",
        auth.check_token,
        auth.skip_unless_token,
    ),
    Check(
        "ordering", 19, "Copes with events out of order (advisory)", "2xx for both", delivery.check_ordering
    ),
    Check(
        "constant-time",
        20,
        "Compares secrets in constant time (advisory)",
        "hmac.compare_digest (Python), crypto.timingSafeEqual (Node), hmac.Equal (Go), "
        "MessageDigest.isEqual (Java)",
        delivery.check_constant_time,
    ),
    # Last, so that it sees the response times of every valid delivery the audit sent.
    Check(
        "deadline",
        14,
        "Answers well within the provider's deadline",
        "a complete response within the deadline; warn above 1 s",
        delivery.check_deadline,
    ),
)


def check_names() -> list[str]:
    return [c.name for c in CATALOGUE]


def _adapt(contributed: ProfileCheck) -> Check:
    """A profile's check as a check of the catalogue: its probes are sent and judged by the same
    rules as every other check (:func:`.verdicts.judged`)."""

    def run(ctx: AuditContext) -> Outcome:
        cases = []
        for probe in contributed.probes(ctx):
            request = ProbeRequest(probe.label, dict(probe.headers), probe.body, probe.event_id)
            cases.append(
                judged(
                    ctx,
                    request,
                    probe.expect,
                    probe.expected,
                    signed=probe.signed,
                    lenient=probe.lenient,
                    cause=probe.cause,
                )
            )
        if not cases:
            return "skip", f"{ctx.profile.title} has no case of this check here", []
        return summarize(cases, contributed.passed)

    return Check(
        contributed.name,
        contributed.defect,
        contributed.title,
        contributed.expected,
        run,
        contributed.applies,  # an AuditContext is an AuditKit
    )


def catalogue_for(profile: str | Profile) -> tuple[Check, ...]:
    """The checks an audit of ``profile`` runs, in order: the generic ones, then the profile's
    own, then ``deadline``."""
    extra = tuple(_adapt(c) for c in get_profile(profile).audit_checks())
    if not extra:
        return CATALOGUE
    return (*CATALOGUE[:-1], *extra, CATALOGUE[-1])


def every_check() -> tuple[Check, ...]:
    """Every check of every built-in and registered profile (each once): what the catalogue
    page documents."""
    seen = {c.name for c in CATALOGUE}
    found = list(CATALOGUE)
    for name in available_profiles():
        for check in catalogue_for(name):
            if check.name not in seen:
                seen.add(check.name)
                found.append(check)
    return tuple(found)
