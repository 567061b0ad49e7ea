"""Checks on authenticity and freshness: signature and token attacks, effect before verification,
replay and future timestamps, clock-skew tolerance, timestamp parsing and header-name case
(defect classes 3-9 and 18)."""

from __future__ import annotations

import json
from typing import Any

from ..profiles import DEFAULT_TOLERANCE_S
from .context import AuditContext, Outcome, summarize
from .effect import ProbeFailed
from .model import CaseResult, ProbeRequest

__all__ = [
    "check_effect_before_verify",
    "check_future",
    "check_header_case",
    "check_replay",
    "check_signature",
    "check_skew",
    "check_timestamp_parsing",
    "check_token",
    "rejected_requests",
    "skip_unless_signature",
    "skip_unless_timestamp",
    "skip_unless_token",
]

REJECT = "a 4xx rejection, and no effect"
HOUR = 3600
DAY = 86400
#: Clock skew a receiver must tolerate in both directions (well inside the tolerance).
SKEW_S = DEFAULT_TOLERANCE_S * 4 // 5


# -- applicability --------------------------------------------------------------------------
def skip_unless_signature(ctx: AuditContext) -> str | None:
    if ctx.shape.kind == "signature":
        return None
    return f"{ctx.profile.title} does not sign requests; its shared-secret attacks are the 'token' check"


def skip_unless_token(ctx: AuditContext) -> str | None:
    if ctx.shape.kind == "token":
        return None
    return f"{ctx.profile.title} sends no token; its authenticity attacks are the 'signature' check"


def skip_unless_timestamp(ctx: AuditContext) -> str | None:
    if ctx.profile.has_timestamp and ctx.shape.timestamp:
        return None
    return (
        f"{ctx.profile.title} sends no timestamp, so there is no timestamp to check; replays are caught "
        "by deduplicating on the event id (the 'idempotency' checks)"
    )


# -- signature attacks (#3) -----------------------------------------------------------------
def _tampered_body(ctx: AuditContext, payload: dict[str, Any], body: bytes) -> bytes:
    """``body`` with its event type swapped for another one (e.g. failed -> succeeded)."""
    current = ctx.profile.event_type_of(payload)
    others = [t for t in ctx.profile.event_types if t != current]
    if current and others:
        old = json.dumps(current).encode()
        if old in body:
            return body.replace(old, json.dumps(others[0]).encode(), 1)
    return body.replace(b"{", b"{ ", 1)


def _split_signature(value: str) -> tuple[str, str]:
    """``("v1=", "<hex>")`` for a prefixed signature, ``("", value)`` otherwise."""
    prefix, sep, rest = value.partition("=")
    return (prefix + sep, rest) if sep else ("", value)


def signature_attacks(ctx: AuditContext) -> list[ProbeRequest]:
    shape = ctx.shape
    sig_name = shape.signature[0]
    out: list[ProbeRequest] = []
    base = ctx.valid("missing signature header")
    out.append(ctx.edited(base, base.label, drop=shape.signature))
    if shape.timestamp:
        base = ctx.valid("missing timestamp header")
        out.append(ctx.edited(base, base.label, drop=shape.timestamp))
    payload = ctx.event()
    body = ctx.profile.serialize(payload)
    other = ctx.profile.generate_secret(ctx.factory.rng)
    out.append(
        ProbeRequest(
            "signed with another secret", ctx.headers(body, secret=other), body, ctx.event_id(payload)
        )
    )
    payload = ctx.event()
    body = ctx.profile.serialize(payload)
    out.append(
        ProbeRequest("signed with an empty secret", ctx.headers(body, secret=""), body, ctx.event_id(payload))
    )
    payload = ctx.event()
    base = ctx.signed("tampered body (event type changed after signing)", payload)
    out.append(ctx.edited(base, base.label, body=_tampered_body(ctx, payload, base.body)))
    base = ctx.valid("tampered signature (last digit changed)")
    value = base.headers[sig_name]
    flipped = value[:-1] + ("0" if value[-1:] != "0" else "1")
    out.append(ctx.edited(base, base.label, set_headers={sig_name: flipped}))
    prefix, _digest = _split_signature(value)
    if prefix:
        base = ctx.valid(f"bare signature without the {prefix!r} prefix")
        out.append(
            ctx.edited(base, base.label, set_headers={sig_name: _split_signature(base.headers[sig_name])[1]})
        )
    base = ctx.valid("truncated signature (first half)")
    prefix, digest = _split_signature(base.headers[sig_name])
    out.append(ctx.edited(base, base.label, set_headers={sig_name: prefix + digest[: len(digest) // 2]}))
    base = ctx.valid("signature that is not hex")
    prefix, digest = _split_signature(base.headers[sig_name])
    out.append(ctx.edited(base, base.label, set_headers={sig_name: prefix + "z" * len(digest)}))
    base = ctx.valid("empty signature header")
    out.append(ctx.edited(base, base.label, set_headers={sig_name: ""}))
    if shape.timestamp:
        payload = ctx.event()
        body = ctx.profile.serialize(payload)
        now = ctx.now()
        headers = ctx.headers(body, timestamp=now - 60)
        headers.update({n: str(now) for n in shape.timestamp})
        out.append(
            ProbeRequest("timestamp header changed after signing", headers, body, ctx.event_id(payload))
        )
    return out


def check_signature(ctx: AuditContext) -> Outcome:
    cases = [ctx.case(r, "reject", REJECT) for r in signature_attacks(ctx)]
    return summarize(cases, f"all {len(cases)} forged or damaged signatures were rejected with a 4xx")


# -- token attacks (#18) --------------------------------------------------------------------
def token_attacks(ctx: AuditContext) -> list[ProbeRequest]:
    name = ctx.shape.token[0]
    token = ctx.secret
    out: list[ProbeRequest] = []
    base = ctx.valid("missing token header")
    out.append(ctx.edited(base, base.label, drop=ctx.shape.token))
    base = ctx.valid("empty token")
    out.append(ctx.edited(base, base.label, set_headers={name: ""}))
    base = ctx.valid("wrong token")
    out.append(ctx.edited(base, base.label, set_headers={name: ctx.profile.generate_secret(ctx.factory.rng)}))
    variants: list[tuple[str, str, str]] = []
    if len(token) >= 2:
        variants.append(
            ("prefix of the token (first half)", token[: len(token) // 2], "<first half of the token>")
        )
        variants.append(("token without its last character", token[:-1], "<the token minus one character>"))
    variants.append(("token with a character appended", token + "0", "<the token plus one character>"))
    if token.swapcase() != token:
        variants.append(("token with its letter case changed", token.swapcase(), "<the token, case swapped>"))
    if token.upper() != token and token.upper() != token.swapcase():
        variants.append(("token in upper case", token.upper(), "<the token, upper-cased>"))
    for label, value, mask in variants:
        base = ctx.valid(label)
        out.append(ctx.edited(base, label, set_headers={name: value}, masks=((value, mask),)))
    return out


def check_token(ctx: AuditContext) -> Outcome:
    cases = [ctx.case(r, "reject", REJECT) for r in token_attacks(ctx)]
    return summarize(cases, f"all {len(cases)} wrong, partial or missing tokens were rejected with a 4xx")


# -- effect before verification (#4) ---------------------------------------------------------
def rejected_requests(ctx: AuditContext) -> list[ProbeRequest]:
    """One request of each rejected family, each a fresh event."""
    if ctx.shape.kind == "signature":
        attacks = signature_attacks(ctx)
        wanted = ("missing signature header", "signed with another secret", "tampered body")
        chosen = [r for r in attacks if r.label.startswith(wanted)]
    elif ctx.shape.kind == "token":
        chosen = [r for r in token_attacks(ctx) if r.label in ("missing token header", "wrong token")]
    else:
        chosen = []
    if ctx.profile.has_timestamp and ctx.shape.timestamp:
        chosen.append(ctx.signed("timestamp 1 h old", ctx.event(), timestamp=ctx.now() - HOUR))
    return chosen


def check_effect_before_verify(ctx: AuditContext) -> Outcome:
    cases: list[CaseResult] = []
    for request in rejected_requests(ctx):
        exchange = ctx.send(request)
        try:
            count = ctx.effect(request.event_id)
        except ProbeFailed as exc:
            cases.append(CaseResult(request.label, "fail", str(exc), "no effect", (exchange,)))
            continue
        if count:
            why = f"the effect probe counts {count} application(s) of a request that must be rejected"
            if exchange.status is not None and 400 <= exchange.status <= 499:
                why += f" (answered {exchange.status} after applying it: verify before acting)"
            cases.append(CaseResult(request.label, "fail", why, "no effect", (exchange,), count))
        else:
            cases.append(CaseResult(request.label, "pass", "no effect", "no effect", (exchange,), 0))
    return summarize(cases, f"none of {len(cases)} rejected requests had an effect")


# -- timestamps (#5, #6, #7, #8) -------------------------------------------------------------
def _aged(ctx: AuditContext, label: str, offset_s: int) -> ProbeRequest:
    return ctx.signed(label, ctx.event(), timestamp=ctx.now() + offset_s)


def _edge_is_warning(case: CaseResult, why: str) -> CaseResult:
    if case.status != "fail" or not case.exchanges or case.exchanges[0].status is None:
        return case
    if 200 <= case.exchanges[0].status <= 299:
        return CaseResult(case.label, "warn", why, case.expected, case.exchanges)
    return case


def check_replay(ctx: AuditContext) -> Outcome:
    edge = DEFAULT_TOLERANCE_S + 1
    cases = [
        _edge_is_warning(
            ctx.case(_aged(ctx, f"timestamp {edge} s old", -edge), "reject", REJECT),
            f"accepted a timestamp {edge} s old: looser than the provider's {DEFAULT_TOLERANCE_S} s",
        ),
        ctx.case(_aged(ctx, "timestamp 1 h old", -HOUR), "reject", REJECT),
        ctx.case(_aged(ctx, "timestamp 30 days old", -30 * DAY), "reject", REJECT),
    ]
    return summarize(cases, "stale timestamps (just past the tolerance, 1 h, 30 days) were rejected")


def check_future(ctx: AuditContext) -> Outcome:
    edge = DEFAULT_TOLERANCE_S + 1
    cases = [
        _edge_is_warning(
            ctx.case(_aged(ctx, f"timestamp {edge} s ahead", edge), "reject", REJECT),
            f"accepted a timestamp {edge} s ahead: looser than the provider's {DEFAULT_TOLERANCE_S} s",
        ),
        ctx.case(_aged(ctx, "timestamp 1 h ahead", HOUR), "reject", REJECT),
    ]
    return summarize(cases, "far-future timestamps were rejected")


def check_skew(ctx: AuditContext) -> Outcome:
    expected = f"2xx: a clock {SKEW_S} s off either way is inside the tolerance"
    cases = [
        ctx.case(_aged(ctx, f"timestamp {SKEW_S} s old (clock skew)", -SKEW_S), "accept", expected),
        ctx.case(_aged(ctx, f"timestamp {SKEW_S} s ahead (clock skew)", SKEW_S), "accept", expected),
    ]
    return summarize(cases, f"timestamps {SKEW_S} s off either way were accepted")


def check_timestamp_parsing(ctx: AuditContext) -> Outcome:
    now = ctx.now()
    texts = [
        (f"{now} ", "trailing space", True),
        ("1.5", "decimal", False),
        ("1e9", "exponent", False),
        ("-1", "negative", False),
        (str(now * 1000), "milliseconds (13 digits)", False),
        ("NaN", "NaN", False),
        ("9" * 400, "400 digits", False),
        ("", "empty", False),
    ]
    cases: list[CaseResult] = []
    for text, what, lenient_ok in texts:
        payload = ctx.event()
        body = ctx.profile.serialize(payload)
        signed = ctx.profile.sign_timestamp_text(body, ctx.secret, text)
        if signed is None:
            return "skip", f"{ctx.profile.title} cannot sign a malformed timestamp", []
        headers = ctx.headers(body)
        headers.update(signed)
        request = ProbeRequest(
            f"timestamp {what} {text[:24]!r}, validly signed", headers, body, ctx.event_id(payload)
        )
        case = ctx.case(request, "reject", "a 4xx rejection, never a 5xx")
        if lenient_ok:
            case = _edge_is_warning(case, "accepted a timestamp with surrounding whitespace (lenient)")
        cases.append(case)
    return summarize(cases, f"all {len(cases)} malformed timestamps were rejected with a 4xx, none crashed")


# -- header-name case (#9) -------------------------------------------------------------------
def check_header_case(ctx: AuditContext) -> Outcome:
    expected = "2xx: HTTP header names are case-insensitive"
    cases: list[CaseResult] = []
    for label, rename in (
        ("canonical header names", lambda n: n),
        ("lower-case header names", str.lower),
        ("upper-case header names", str.upper),
    ):
        base = ctx.valid(label)
        request = ProbeRequest(
            label, {rename(k): v for k, v in base.headers.items()}, base.body, base.event_id
        )
        cases.append(ctx.case(request, "accept", expected))
    return summarize(cases, "canonical, lower-case and upper-case header names were all accepted")
