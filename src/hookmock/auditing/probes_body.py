"""Checks on bodies: raw-byte verification, charsets, the whole event catalogue, legal payload
variants and bad input (defect classes 1, 2, 15, 16 and 17).

What the provider sends must be acknowledged (anything else fails).  Bad input is judged by
:mod:`.verdicts`: a validly signed body the provider never sends, acknowledged, is a warning; a
crash on it fails only when a forged copy crashes too (anyone can trigger it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._util.overrides import ABSENT
from ..validation import violations
from .context import AuditContext, Outcome, summarize
from .effect import ProbeFailed
from .model import CaseResult, ProbeRequest
from .verdicts import judged

__all__ = [
    "check_bad_input",
    "check_charset",
    "check_event_types",
    "check_payload_variants",
    "check_raw_body",
]

ACCEPT_ONCE = "2xx, and the event applied exactly once"
#: Why acknowledging a validly signed body that is not an event is a warning, not a failure.
ACK_LENIENT = (
    "acknowledged a body that is not a valid event; only a holder of the secret can send one, so "
    "this is harmless if the receiver drops it later"
)
LONG_TEXT = "ünïcødé ☃ 𝔘𝔫𝔦 🚀 " * 2048


def _with_effect(ctx: AuditContext, case: CaseResult) -> CaseResult:
    """Add the effect-count verdict (exactly once) to an accepted case when a probe is given."""
    if ctx.probe is None or case.status != "pass" or not case.exchanges:
        return case
    event_id = case.exchanges[0].request.event_id
    try:
        count = ctx.effect(event_id)
    except ProbeFailed as exc:
        return CaseResult(case.label, "fail", str(exc), case.expected, case.exchanges)
    if count != 1:
        why = f"{case.why}, but the effect probe counts {count} application(s) of event {event_id}"
        return CaseResult(case.label, "fail", why, case.expected, case.exchanges, count)
    return CaseResult(case.label, "pass", f"{case.why}, applied once", case.expected, case.exchanges, count)


def _variant_request(ctx: AuditContext, name: str) -> ProbeRequest | None:
    payload = ctx.event()
    body = ctx.profile.body_variants(payload).get(name)
    if body is None:
        return None
    return ctx.signed(f"body variant {name}", payload, body=body)


def check_raw_body(ctx: AuditContext) -> Outcome:
    names = list(ctx.profile.body_variants(ctx.event()))
    expected = f"{ACCEPT_ONCE}: verify the raw bytes received, never re-serialized JSON"
    cases = []
    for name in names:
        request = _variant_request(ctx, name)
        if request is not None:
            cases.append(_with_effect(ctx, judged(ctx, request, "accept", expected)))
    return summarize(cases, f"all {len(cases)} byte-exact body variants were accepted")


def check_charset(ctx: AuditContext) -> Outcome:
    sample = ctx.profile.body_variants(ctx.event())
    names = [n for n, body in sample.items() if any(b > 0x7F for b in body)]
    if not names:
        return "skip", f"{ctx.profile.title} has no non-ASCII body variant", []
    expected = "2xx: the body is UTF-8 JSON; decode it as UTF-8 (after verifying the raw bytes)"
    cases = []
    for name in names:
        request = _variant_request(ctx, name)
        if request is not None:
            cases.append(judged(ctx, request, "accept", expected))
    return summarize(cases, "non-ASCII, astral-plane and line-separator text was accepted")


def check_event_types(ctx: AuditContext) -> Outcome:
    expected = "2xx for every event the provider sends, including ones the receiver does not handle"
    cases = [judged(ctx, ctx.valid(f"event {t}", t), "accept", expected) for t in ctx.profile.event_types]
    return summarize(cases, f"all {len(cases)} event types were acknowledged")


def _bool_paths(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, bool):
                yield (*path, key)
            else:
                yield from _bool_paths(value, (*path, key))


def _lookup(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return ABSENT
        node = node[key]
    return node


def _legal(ctx: AuditContext, payload: dict[str, Any]) -> bool:
    return not violations(payload, ctx.profile.schema_for(payload))


def payload_variants(ctx: AuditContext) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, event type, overrides) for every legal variant worth sending, each once."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    seen: set[tuple[tuple[str, ...], str]] = set()
    for event_type in ctx.profile.event_types:
        sample = ctx.event(event_type)
        for path, nullable in ctx.profile.optional_fields(sample).items():
            value = _lookup(sample, path)
            if value is ABSENT or value is None:
                continue
            key = "__".join(path)
            modes = [("absent", ABSENT)] + ([("null", None)] if nullable else [])
            for mode, replacement in modes:
                if (path, mode) not in seen:
                    seen.add((path, mode))
                    out.append((f"{'.'.join(path)} {mode} ({event_type})", event_type, {key: replacement}))
        for path in _bool_paths(sample):
            for flag in (True, False):
                if (path, str(flag)) not in seen:
                    seen.add((path, str(flag)))
                    out.append(
                        (
                            f"{'.'.join(path)} = {str(flag).lower()} ({event_type})",
                            event_type,
                            {"__".join(path): flag},
                        )
                    )
    slot = getattr(ctx.profile, "free_form_path", None)
    if slot:
        key = "__".join((*slot, "hookmock_long_text"))
        for event_type in ctx.profile.event_types[:1]:
            out.append(
                (f"a {len(LONG_TEXT)}-character unicode string ({event_type})", event_type, {key: LONG_TEXT})
            )
    return out


def check_payload_variants(ctx: AuditContext) -> Outcome:
    expected = "2xx: optional fields may be null or absent; every legal payload must be handled"
    cases: list[CaseResult] = []
    for label, event_type, overrides in payload_variants(ctx):
        payload = ctx.event(event_type, **overrides)
        if not _legal(ctx, payload):
            continue
        cases.append(judged(ctx, ctx.signed(label, payload), "accept", expected))
    if not cases:
        return "skip", f"{ctx.profile.title} payloads have no optional fields", []
    return summarize(cases, f"all {len(cases)} legal payload variants were accepted")


def check_bad_input(ctx: AuditContext) -> Outcome:
    payload = ctx.event()
    body = ctx.profile.serialize(payload)
    raw: list[tuple[str, bytes]] = [
        ("malformed JSON (truncated)", body[: max(1, len(body) // 2)]),
        ("empty body", b""),
        ("JSON array instead of an object", b"[]"),
        ("JSON null", b"null"),
        ("JSON string", b'"hookmock"'),
        ("empty JSON object", b"{}"),
        ("body that is not UTF-8", b'{"hookmock":"\xff\xfe\xc3"}'),
    ]
    bad_expected = (
        "a 4xx rejection (never a 5xx, which makes the sender retry a request that can never succeed)"
    )
    cases: list[CaseResult] = []
    for label, data in raw:
        request = ProbeRequest(label, ctx.headers(data), data, ctx.event_id(payload))
        cases.append(
            judged(ctx, request, "reject", bad_expected, signed=True, lenient=ACK_LENIENT, cause="body")
        )
    valid = ctx.valid("valid delivery with Content-Type: text/plain")
    request = ctx.edited(valid, valid.label, set_headers={"Content-Type": "text/plain"})
    cases.append(judged(ctx, request, "no_5xx", "2xx or 4xx, never a 5xx", signed=True, cause="body"))
    return summarize(cases, f"all {len(cases)} bad inputs got a 4xx (none crashed the receiver)")
