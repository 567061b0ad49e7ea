"""How one case is judged: fail only for what breaks with the real provider or can be exploited.

The rules (``docs/audit-catalogue.md`` gives them check by check):

* a request the provider really sends (``accept``) must get a 2xx: anything else **fails**;
* a forged request (no secret needed to make it) must get a 4xx: a 2xx or a crash **fails**;
* a request only a holder of the secret can make (validly signed, but malformed or out of contract)
  that the receiver acknowledges is a **warn** when the case says why that is harmless
  (``lenient=``), and a **fail** otherwise (a replayed stale request is exploitable);
* a crash (5xx, or no answer) on such a request is repeated with a forged signature or token: when
  the forged copy crashes too, anyone can trigger it (**fail**, and the report shows the forged
  request, which needs no secret); when it is rejected, only a secret holder can (**warn**).
"""

from __future__ import annotations

from dataclasses import replace

from .context import AuditContext
from .model import CaseResult, Exchange, Expect, ProbeRequest, crashed, judge

__all__ = ["forged", "judged"]

#: What a crash is blamed on when an anonymous caller can trigger it, by what the request damages.
_DIAGNOSIS = {
    "timestamp": "the timestamp is parsed before the signature is verified",
    "body": "the body is parsed before the request is authenticated",
    "signature": "the signature header is processed unsafely",
    "token": "the token header is processed unsafely",
}


def forged(ctx: AuditContext, request: ProbeRequest) -> ProbeRequest | None:
    """``request`` with its signature (or token) replaced by one no secret produced; None when
    the profile has neither (then every request is anonymous)."""
    shape = ctx.shape
    if shape.signature:
        name = shape.signature[0]
        value = next((v for k, v in request.headers.items() if k.lower() == name.lower()), "")
        prefix, digest = ctx.profile.split_signature(value)
        fake = f"{prefix}{'0' * len(digest)}" if prefix else "0" * max(len(value), 64)
        label = f"{request.label}, with a forged signature"
        return ctx.edited(request, label, set_headers={name: fake})
    if shape.token:
        wrong = ctx.profile.generate_secret(ctx.factory.rng)
        label = f"{request.label}, with a wrong token"
        return ctx.edited(request, label, set_headers={shape.token[0]: wrong})
    return None


def judged(
    ctx: AuditContext,
    request: ProbeRequest,
    expect: Expect,
    expected: str,
    *,
    signed: bool = False,
    lenient: str | None = None,
    cause: str | None = None,
) -> CaseResult:
    """Send ``request`` and judge the answer by the rules above.

    ``signed``: the request carries a valid signature or token (only a secret holder can make it).
    ``lenient``: why acknowledging it is harmless (a 2xx is then a warn, with this reason).
    ``cause``: what the request damages (for crash attribution and the anonymous diagnosis).
    """
    exchange = ctx.send(request, valid=expect == "accept")
    status, why = judge(exchange.result, expect)
    case = CaseResult(request.label, status, why, expected, (exchange,), expect=expect, cause=cause)
    if status != "fail":
        return case
    code = exchange.status
    if code is not None and 200 <= code <= 299 and lenient:
        return replace(case, status="warn", why=f"HTTP {code}: {lenient}")
    if not crashed(exchange.result) or expect == "accept":
        return case
    if not signed:
        return replace(case, anonymous=True, why=f"{why}; no secret is needed to send it: anyone can")
    return _repeat_anonymously(ctx, case, exchange, cause)


def _repeat_anonymously(
    ctx: AuditContext, case: CaseResult, exchange: Exchange, cause: str | None
) -> CaseResult:
    forgery = forged(ctx, exchange.request)
    if forgery is None:
        return replace(case, anonymous=True)
    again = ctx.send(forgery)
    what = "signature" if ctx.shape.signature else "token"
    if crashed(again.result):
        diagnosis = _DIAGNOSIS.get(cause or "", "the request is processed before it is authenticated")
        why = (
            f"{case.why}; with a forged {what} it crashes too ({again.result.describe()}): anyone can "
            f"trigger it, no secret needed ({diagnosis})"
        )
        return replace(case, why=why, anonymous=True, exchanges=(again, exchange))
    why = (
        f"{case.why}, but only with a valid {what}: a forged one is rejected "
        f"({again.result.describe()}), so only a holder of the secret can trigger it"
    )
    return replace(case, status="warn", why=why, anonymous=False, exchanges=(exchange, again))
