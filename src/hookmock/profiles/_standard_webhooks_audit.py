"""The audit checks of the Standard Webhooks profile: key rotation (#23) and ``v1a`` (#24).

``docs/audit-catalogue.md`` describes them.  The audit's secret decides the receiver's mode: a
``whsec_`` secret is a symmetric (``v1``) endpoint; a ``whsk_`` signing key is an asymmetric
(``v1a``) endpoint, whose receiver holds the matching ``whpk_`` public key.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Sequence

from ._audit import AuditKit, Expect, ProfileCheck, ProfileProbe
from ._standard_webhooks_keys import (
    PUBLIC_KEY_PREFIX,
    SIGNATURE_HEADER,
    SIGNING_KEY_PREFIX,
    TIMESTAMP_HEADER,
    _content,
    generate_key_pair,
    public_key_of,
    signature,
)

__all__ = ["CHECKS"]

ACCEPT = "2xx: a valid signature among several is enough (the specification: try each until one matches)"
REJECT = "a 4xx rejection: no signature the receiver can verify"


def _asymmetric(kit: AuditKit) -> bool:
    return kit.secret.startswith((SIGNING_KEY_PREFIX, PUBLIC_KEY_PREFIX))


def _another_key(kit: AuditKit) -> str:
    """A key of the receiver's kind that is not the receiver's (an old or an attacker's key)."""
    if _asymmetric(kit):
        return generate_key_pair(kit.rng)[0]
    return kit.profile.generate_secret(kit.rng)


def _probe(
    kit: AuditKit,
    label: str,
    keys: Sequence[str],
    expect: Expect,
    expected: str,
    *,
    extra: Sequence[str] = (),
    first: Sequence[str] = (),
) -> ProfileProbe:
    """A fresh event signed with every key of ``keys`` (in that order), with the raw signature
    entries ``first`` before them and ``extra`` after them."""
    payload = kit.event()
    body = kit.profile.serialize(payload)
    message_id = kit.event_id(payload)
    now = kit.now()
    headers = kit.headers(body, timestamp=now, message_id=message_id)
    entries = list(first)
    if keys:
        entries.append(kit.profile.sign_rotated(body, keys, now, message_id=message_id)[SIGNATURE_HEADER])
    entries.extend(extra)
    headers[SIGNATURE_HEADER] = " ".join(entries)
    signed = expect == "accept" or kit.secret in keys
    return ProfileProbe(label, headers, body, message_id, expect, expected, signed=signed, cause="signature")


def _rotation(kit: AuditKit) -> list[ProfileProbe]:
    mine = kit.secret
    old, older = _another_key(kit), _another_key(kit)
    return [
        _probe(kit, "an old key's signature first, the receiver's second", [old, mine], "accept", ACCEPT),
        _probe(kit, "the receiver's signature first, an old key's second", [mine, old], "accept", ACCEPT),
        _probe(kit, "three signatures, the receiver's last", [older, old, mine], "accept", ACCEPT),
        _probe(kit, "two signatures, neither by the receiver's key", [older, old], "reject", REJECT),
    ]


def _hmac_entry(key: bytes, kit: AuditKit, probe: ProfileProbe) -> str:
    ts = next(v for k, v in probe.headers.items() if k.lower() == TIMESTAMP_HEADER)
    content = _content(str(probe.event_id), ts, probe.body)
    return "v1," + base64.b64encode(hmac.digest(key, content, "sha256")).decode()


def _with_entries(probe: ProfileProbe, label: str, value: str, expect: Expect, expected: str) -> ProfileProbe:
    headers = {k: v for k, v in probe.headers.items() if k.lower() != SIGNATURE_HEADER}
    headers[SIGNATURE_HEADER] = value
    return ProfileProbe(label, headers, probe.body, probe.event_id, expect, expected, cause="signature")


def _v1a(kit: AuditKit) -> list[ProfileProbe]:
    attacker = generate_key_pair(kit.rng)[0]
    garbage = "v1a," + "!" * 88
    if not _asymmetric(kit):
        unverifiable = (
            "a 4xx rejection: a v1 endpoint cannot verify v1a, so the request carries no valid signature"
        )
        return [
            _probe(
                kit, "only a v1a signature, by a key the sender made up", [attacker], "reject", unverifiable
            ),
            _probe(kit, "only a v1a entry that is not base64", [], "reject", unverifiable, first=[garbage]),
            _probe(
                kit,
                "a v1a signature, then the receiver's v1 (the specification's example header)",
                [kit.secret],
                "accept",
                ACCEPT,
                first=[signature(b"{}", attacker, kit.now(), "msg_other")],
            ),
        ]
    public = public_key_of(kit.secret)
    confusion = "a 4xx rejection: the public key is public, so an HMAC keyed with it proves nothing"
    raw_public = base64.b64decode(public.removeprefix(PUBLIC_KEY_PREFIX))
    try:  # what a v1 verifier that only strips 'whsec_' makes of a whpk_ key (base64, lenient)
        lenient_public = base64.b64decode(public + "==")
    except ValueError:
        lenient_public = raw_public
    confused = []
    for label, key in (
        ("a v1 HMAC keyed with the endpoint's public key (algorithm confusion)", raw_public),
        ("a v1 HMAC keyed with the 'whpk_…' text read as a base64 secret", lenient_public),
    ):
        base = _probe(kit, label, [kit.secret], "accept", ACCEPT)
        confused.append(_with_entries(base, label, _hmac_entry(key, kit, base), "reject", confusion))
    return [
        _probe(kit, "a v1a signature by another key", [attacker], "reject", REJECT),
        *confused,
        _probe(
            kit,
            "only a v1 signature, by a whsec_ secret the sender made up",
            [kit.profile.generate_secret(kit.rng)],
            "reject",
            REJECT,
        ),
        _probe(
            kit,
            "a v1 signature, then the receiver's v1a",
            [kit.secret],
            "accept",
            ACCEPT,
            first=[signature(b"{}", kit.profile.generate_secret(kit.rng), kit.now(), "msg_other")],
        ),
    ]


CHECKS: tuple[ProfileCheck, ...] = (
    ProfileCheck(
        "key-rotation",
        23,
        "Accepts the valid signature wherever it is in the list (key rotation)",
        "2xx whatever the position of the receiver's signature among several; 4xx when none is its",
        _rotation,
        passed="the receiver's signature was found in every position, and a list without it was rejected",
    ),
    ProfileCheck(
        "v1a",
        24,
        "Verifies only the signature scheme it holds a key for (v1 or v1a)",
        "4xx for a v1a it cannot verify or a v1 HMAC keyed with a public key; 2xx when its own is present",
        _v1a,
        passed="unverifiable and cross-scheme signatures were rejected, the endpoint's own scheme accepted",
    ),
)
