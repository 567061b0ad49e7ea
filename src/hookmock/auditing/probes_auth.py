"""Checks on authenticity and freshness: signature and token attacks (hostile header encodings
included), effect before verification, replay and future timestamps, clock-skew tolerance,
timestamp parsing and header-name case (defect classes 3-9 and 18).

Verdicts follow :mod:`.verdicts`: a forged request that is accepted or crashes the receiver fails;
what only a holder of the secret can send (a validly signed malformed or future timestamp) warns.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from ..profiles import DEFAULT_TOLERANCE_S
from .context import AuditContext, Outcome, summarize
from .effect import ProbeFailed
from .model import CaseResult, ProbeRequest
from .verdicts import judged

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
NO_5XX = "a 2xx or a 4xx, never a 5xx"
HOUR = 3600
#: How long the "very long header" probes are (servers commonly cap a header line at 8 KB).
LONG_HEADER = 8000
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


def raw_header(data: bytes) -> str:
    """A header value made of these exact bytes on the wire: the text a WSGI server hands the app
    (PEP 3333: header values are decoded as latin-1), and what the HTTP transport sends back as
    the same bytes."""
    return data.decode("latin-1")


def hostile_values(prefix: str, length: int) -> list[tuple[str, str]]:
    """(what, value) for hostile header encodings: non-ASCII latin-1 bytes, non-latin-1 text as
    raw UTF-8 bytes, and a very long value."""
    return [
        ("non-ASCII (latin-1 bytes)", raw_header(prefix.encode() + b"\xe9" * length)),
        ("non-latin-1 (raw UTF-8 bytes)", raw_header((prefix + "€" * max(1, length // 3)).encode())),
        (f"very long ({LONG_HEADER} characters)", prefix + "0" * LONG_HEADER),
    ]


def repeated(request: ProbeRequest, label: str, name: str, first: str, second: str) -> ProbeRequest:
    """``request`` with header ``name`` sent twice (as two header lines over HTTP; joined with a
    comma in a WSGI environ, as servers do)."""
    other = name.lower() if name.lower() != name else name.upper()
    headers = {k: v for k, v in request.headers.items() if k.lower() != name.lower()}
    headers[name] = first
    headers[other] = second
    return ProbeRequest(label, headers, request.body, request.event_id, request.masks)


def _cause(label: str) -> str:
    return "timestamp" if "timestamp" in label else "signature"


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
            "signed with another secret",
            ctx.headers(body, secret=other, message_id=ctx.event_id(payload)),
            body,
            ctx.event_id(payload),
        )
    )
    payload = ctx.event()
    body = ctx.profile.serialize(payload)
    out.append(
        ProbeRequest(
            "signed with an empty secret",
            ctx.headers(body, secret="", message_id=ctx.event_id(payload)),
            body,
            ctx.event_id(payload),
        )
    )
    payload = ctx.event()
    base = ctx.signed("tampered body (event type changed after signing)", payload)
    out.append(ctx.edited(base, base.label, body=_tampered_body(ctx, payload, base.body)))
    base = ctx.valid("tampered signature (last digit changed)")
    value = base.headers[sig_name]
    flipped = value[:-1] + ("0" if value[-1:] != "0" else "1")
    out.append(ctx.edited(base, base.label, set_headers={sig_name: flipped}))
    prefix, _digest = ctx.profile.split_signature(value)
    if prefix:
        base = ctx.valid(f"bare signature without the {prefix!r} prefix")
        out.append(
            ctx.edited(
                base,
                base.label,
                set_headers={sig_name: ctx.profile.split_signature(base.headers[sig_name])[1]},
            )
        )
    base = ctx.valid("truncated signature (first half)")
    prefix, digest = ctx.profile.split_signature(base.headers[sig_name])
    out.append(ctx.edited(base, base.label, set_headers={sig_name: prefix + digest[: len(digest) // 2]}))
    encoding = ctx.profile.signature_encoding
    base = ctx.valid(f"signature that is not {encoding}")
    prefix, digest = ctx.profile.split_signature(base.headers[sig_name])
    garbage = "z" if encoding == "hex" else "!"
    out.append(ctx.edited(base, base.label, set_headers={sig_name: prefix + garbage * len(digest)}))
    base = ctx.valid("empty signature header")
    out.append(ctx.edited(base, base.label, set_headers={sig_name: ""}))
    for what, value in hostile_values(prefix, 64):
        base = ctx.valid(f"signature header {what}")
        out.append(ctx.edited(base, base.label, set_headers={sig_name: value}))
    base = ctx.valid("signature header sent twice, both forged")
    prefix, digest = ctx.profile.split_signature(base.headers[sig_name])
    out.append(repeated(base, base.label, sig_name, prefix + "0" * len(digest), prefix + "1" * len(digest)))
    if shape.timestamp:
        payload = ctx.event()
        body = ctx.profile.serialize(payload)
        now = ctx.now()
        headers = ctx.headers(body, timestamp=now - 60, message_id=ctx.event_id(payload))
        headers.update({n: str(now) for n in shape.timestamp})
        out.append(
            ProbeRequest("timestamp header changed after signing", headers, body, ctx.event_id(payload))
        )
    return out


#: The right HMAC without its scheme prefix: only a holder of the secret can make it.
BARE_LABEL = "bare signature without the"
BARE_LENIENT = (
    "accepted the right signature without its scheme prefix: lenient parsing, not exploitable "
    "(only a holder of the secret can compute the signature; a forged one is still refused)"
)


def _judge_attack(ctx: AuditContext, request: ProbeRequest) -> CaseResult:
    if request.label.startswith(BARE_LABEL):
        # Validly signed, only the prefix is missing: acknowledging it is lenient, and a crash
        # on it is repeated with a forged bare signature (anyone can send that one).
        return judged(ctx, request, "reject", REJECT, signed=True, lenient=BARE_LENIENT, cause="signature")
    return judged(ctx, request, "reject", REJECT, cause=_cause(request.label))


def check_signature(ctx: AuditContext) -> Outcome:
    cases = [_judge_attack(ctx, r) for r in signature_attacks(ctx)]
    sig_name = ctx.shape.signature[0]
    base = ctx.valid("signature header sent twice, the valid one first and a forged one")
    value = base.headers[sig_name]
    prefix, digest = ctx.profile.split_signature(value)
    request = repeated(base, base.label, sig_name, value, prefix + "0" * len(digest))
    cases.append(judged(ctx, request, "no_5xx", NO_5XX, signed=True, cause="signature"))
    return summarize(cases, f"all {len(cases)} forged, damaged or hostile signatures were handled")


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
    for what, value in hostile_values("", max(len(token), 1)):
        base = ctx.valid(f"token header {what}")
        out.append(ctx.edited(base, base.label, set_headers={name: value}))
    base = ctx.valid("token header sent twice, both wrong")
    wrong = ctx.profile.generate_secret(ctx.factory.rng)
    out.append(repeated(base, base.label, name, wrong, wrong[::-1]))
    return out


def check_token(ctx: AuditContext) -> Outcome:
    cases = [judged(ctx, r, "reject", REJECT, cause="token") for r in token_attacks(ctx)]
    name = ctx.shape.token[0]
    base = ctx.valid("token header sent twice, the right one first and a wrong one")
    wrong = ctx.profile.generate_secret(ctx.factory.rng)
    request = repeated(base, base.label, name, ctx.secret, wrong)
    cases.append(judged(ctx, request, "no_5xx", NO_5XX, signed=True, cause="token"))
    return summarize(cases, f"all {len(cases)} wrong, partial, missing or hostile tokens were handled")


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
            code = exchange.status
            cause = None
            if code is not None and 200 <= code <= 299:
                # Not an effect before verification: the receiver accepted the request, and the
                # check that sent it (signature, token, replay) reports that acceptance.
                why += f" (it was accepted with HTTP {code}, so it was applied like a valid delivery)"
                cause = "accepted"
            elif code is not None and 400 <= code <= 499:
                why += f" (answered {code} after applying it: verify before acting)"
            cases.append(CaseResult(request.label, "fail", why, "no effect", (exchange,), count, cause=cause))
        else:
            cases.append(CaseResult(request.label, "pass", "no effect", "no effect", (exchange,), 0))
    return summarize(cases, f"none of {len(cases)} rejected requests had an effect")


# -- timestamps (#5, #6, #7, #8) -------------------------------------------------------------
def _aged(ctx: AuditContext, label: str, offset_s: int) -> ProbeRequest:
    return ctx.signed(label, ctx.event(), timestamp=ctx.now() + offset_s)


def _stale(ctx: AuditContext, label: str, offset_s: int, lenient: str | None = None) -> CaseResult:
    case = judged(ctx, _aged(ctx, label, offset_s), "reject", REJECT, signed=True, lenient=lenient)
    return replace(case, reads_as="past" if offset_s < 0 else "future")


#: The replay case no receiver that checks the timestamp's age at all accepts.
NEVER_CHECKED_LABEL = "timestamp 30 days old"


def reads_as(text: str, now: int) -> str | None:
    """``"past"`` / ``"future"`` when ``text``, read as a number the way ``float()`` reads it,
    lies beyond the provider's tolerance that way; None otherwise (or when it is no number)."""
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return None
    if value != value:  # NaN
        return None
    if value < now - DEFAULT_TOLERANCE_S:
        return "past"
    if value > now + DEFAULT_TOLERANCE_S:
        return "future"
    return None


def check_replay(ctx: AuditContext) -> Outcome:
    edge = DEFAULT_TOLERANCE_S + 1
    loose = f"accepted a timestamp {edge} s old: a second looser than the provider's {DEFAULT_TOLERANCE_S} s"
    cases = [
        _stale(ctx, f"timestamp {edge} s old", -edge, loose),
        # Anyone who captured a delivery can replay it: accepting these is exploitable.
        _stale(ctx, "timestamp 1 h old", -HOUR),
        _stale(ctx, NEVER_CHECKED_LABEL, -30 * DAY),
    ]
    return summarize(cases, "stale timestamps (just past the tolerance, 1 h, 30 days) were rejected")


#: Why accepting a future timestamp is a warning, not a failure.
FUTURE_LENIENT = (
    "accepted a timestamp {what}: the provider says reject beyond {tol} s either way, but no one "
    "without the secret can make a future timestamp (stripe's own verifier checks only the past)"
)


#: How far past the tolerance the "just ahead" case is on a real clock: the receiver reads its clock
#: a moment after the audit signed, and a second boundary crossed meanwhile turns 301 s ahead into
#: 300 s, which a correct receiver accepts.  On a virtual clock the edge is exact.
REAL_CLOCK_FUTURE_MARGIN_S = 5


def check_future(ctx: AuditContext) -> Outcome:
    from ..clock import VirtualClock

    exact = isinstance(ctx.clock, VirtualClock)
    edge = DEFAULT_TOLERANCE_S + (1 if exact else REAL_CLOCK_FUTURE_MARGIN_S)
    tol = DEFAULT_TOLERANCE_S
    cases = [
        _stale(
            ctx, f"timestamp {edge} s ahead", edge, FUTURE_LENIENT.format(what=f"{edge} s ahead", tol=tol)
        ),
        _stale(ctx, "timestamp 1 h ahead", HOUR, FUTURE_LENIENT.format(what="1 h ahead", tol=tol)),
    ]
    return summarize(cases, "far-future timestamps were rejected")


def check_skew(ctx: AuditContext) -> Outcome:
    expected = f"2xx: a clock {SKEW_S} s off either way is inside the tolerance"
    cases = [
        judged(ctx, _aged(ctx, f"timestamp {SKEW_S} s old (clock skew)", -SKEW_S), "accept", expected),
        judged(ctx, _aged(ctx, f"timestamp {SKEW_S} s ahead (clock skew)", SKEW_S), "accept", expected),
    ]
    return summarize(cases, f"timestamps {SKEW_S} s off either way were accepted")


#: Why acknowledging a validly signed malformed timestamp is a warning, not a failure.
MALFORMED_LENIENT = (
    "accepted a malformed timestamp; only a holder of the secret can sign one and the provider never "
    "sends one, so this is lenient, not exploitable"
)
WHITESPACE_LENIENT = (
    "accepted a timestamp with surrounding whitespace: HTTP treats it as optional whitespace, and "
    "servers strip it anyway"
)
HOSTILE_LENIENT = (
    "accepted a timestamp header that is not the one signed; it carries a signature captured from a "
    "real delivery, so this is lenient, not exploitable"
)
_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def check_timestamp_parsing(ctx: AuditContext) -> Outcome:
    now = ctx.now()
    texts = [
        (f" {now} ", "with surrounding whitespace", WHITESPACE_LENIENT),
        ("1.5", "decimal", MALFORMED_LENIENT),
        ("1e9", "exponent", MALFORMED_LENIENT),
        ("-1", "negative", MALFORMED_LENIENT),
        (str(now * 1000), "milliseconds (13 digits)", MALFORMED_LENIENT),
        ("NaN", "NaN", MALFORMED_LENIENT),
        ("9" * 400, "400 digits", MALFORMED_LENIENT),
        ("", "empty", MALFORMED_LENIENT),
    ]
    expected = "a 4xx rejection, never a 5xx"
    cases: list[CaseResult] = []
    for text, what, lenient in texts:
        payload = ctx.event()
        body = ctx.profile.serialize(payload)
        message_id = ctx.event_id(payload)
        signed = ctx.profile.sign_timestamp_text(body, ctx.secret, text, message_id=message_id)
        if signed is None:
            return "skip", f"{ctx.profile.title} cannot sign a malformed timestamp", []
        headers = ctx.headers(body, message_id=message_id)
        headers.update(signed)
        request = ProbeRequest(f"timestamp {what} {text[:24]!r}", headers, body, ctx.event_id(payload))
        case = judged(ctx, request, "reject", expected, signed=True, lenient=lenient, cause="timestamp")
        cases.append(replace(case, reads_as=reads_as(text, now)))
    ts_name = ctx.shape.timestamp[0]
    hostile = [
        ("non-ASCII digits (Arabic-Indic)", raw_header(str(now).translate(_ARABIC_DIGITS).encode())),
        ("with a non-ASCII latin-1 byte", raw_header(str(now).encode() + b"\xe9")),
        (f"very long ({LONG_HEADER} digits)", "1" * LONG_HEADER),
    ]
    for what, value in hostile:
        base = ctx.valid(f"timestamp header {what}")
        request = ctx.edited(base, base.label, set_headers={ts_name: value})
        cases.append(
            judged(ctx, request, "reject", expected, signed=True, lenient=HOSTILE_LENIENT, cause="timestamp")
        )
    base = ctx.valid("timestamp header sent twice, the same value")
    value = base.headers[ts_name]
    request = repeated(base, base.label, ts_name, value, value)
    cases.append(judged(ctx, request, "no_5xx", NO_5XX, signed=True, cause="timestamp"))
    return summarize(cases, f"all {len(cases)} malformed or hostile timestamps were handled, none crashed")


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
        cases.append(judged(ctx, request, "accept", expected))
    return summarize(cases, "canonical, lower-case and upper-case header names were all accepted")
