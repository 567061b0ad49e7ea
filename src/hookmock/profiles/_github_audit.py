"""The audit checks only GitHub's format has (``docs/audit-catalogue.md`` describes them).

* ``delivery-replay``: GitHub sends no timestamp, so a captured delivery stays valid for ever; the
  receiver's only defence is to remember the ``X-GitHub-Delivery`` GUIDs it applied.  A replay
  under the same GUID must not be applied again, and two deliveries about the same issue (same
  payload ids, different GUIDs) must both be applied: the key is the GUID, not a payload field.
* ``sha1-legacy``: GitHub still sends the SHA-1 ``X-Hub-Signature`` next to
  ``X-Hub-Signature-256`` for old integrations; a receiver must verify the SHA-256 one and never
  accept the SHA-1 one in its place.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._audit import AuditKit, ProfileCheck, ProfileProbe

__all__ = ["CHECKS"]

SHA256 = "X-Hub-Signature-256"
SHA1 = "X-Hub-Signature"
DELIVERY = "X-GitHub-Delivery"

REJECT = "a 4xx rejection, and no effect"
ONCE = "2xx, and the event applied exactly once"


def _signed_event(kit: AuditKit) -> tuple[bytes, str | None, dict[str, str]]:
    """A new event's exact body, its delivery GUID and the headers GitHub signs it with."""
    payload = kit.event()
    body = kit.profile.serialize(payload)
    guid = kit.event_id(payload)
    return body, guid, kit.headers(body, message_id=guid)


def _without(headers: dict[str, str], *names: str) -> dict[str, str]:
    dropped = {n.lower() for n in names}
    return {k: v for k, v in headers.items() if k.lower() not in dropped}


def replay_probes(kit: AuditKit) -> Sequence[ProfileProbe]:
    payload = kit.event("issues", action="opened")
    body = kit.profile.serialize(payload)
    guid = kit.event_id(payload)
    headers = kit.headers(body, message_id=guid)
    replayed = "no 5xx, and the replay not applied (the GUID was seen)"
    out = [
        ProfileProbe("a delivery (later captured)", headers, body, guid, "accept", ONCE),
        ProfileProbe(
            f"the captured delivery replayed (same {DELIVERY})", headers, body, guid, "no_5xx", replayed
        ),
        ProfileProbe(
            f"the captured delivery replayed again (same {DELIVERY})",
            headers,
            body,
            guid,
            "no_5xx",
            replayed,
            effect=1,
        ),
    ]
    # A later event about the same issue: the same payload ids, another delivery GUID.
    later = kit.event("issues", action="closed", issue=payload["issue"] | {"state": "closed"})
    later_body = kit.profile.serialize(later)
    later_guid = kit.event_id(later)
    out.append(
        ProfileProbe(
            "another delivery about the same issue (same payload ids, a new GUID)",
            kit.headers(later_body, message_id=later_guid),
            later_body,
            later_guid,
            "accept",
            f"{ONCE}: deduplicate on {DELIVERY}, not on an id inside the payload",
            effect=1,
        )
    )
    return out


def sha1_probes(kit: AuditKit) -> Sequence[ProfileProbe]:
    out: list[ProfileProbe] = []
    body, guid, headers = _signed_event(kit)
    if SHA1 not in headers:
        return out
    out.append(
        ProfileProbe(
            f"only the legacy SHA-1 {SHA1} (valid), no {SHA256}",
            _without(headers, SHA256),
            body,
            guid,
            "reject",
            f"{REJECT}: GitHub sends {SHA256} with every signed delivery; SHA-1 alone is a downgrade",
            cause="signature",
        )
    )
    body, guid, headers = _signed_event(kit)
    out.append(
        ProfileProbe(
            f"a valid SHA-1 {SHA1} with a forged {SHA256}",
            {**_without(headers, SHA256), SHA256: "sha256=" + "0" * 64},
            body,
            guid,
            "reject",
            f"{REJECT}: the {SHA256} signature decides, whatever {SHA1} says",
            cause="signature",
        )
    )
    body, guid, headers = _signed_event(kit)
    out.append(
        ProfileProbe(
            f"a valid {SHA256} with a damaged SHA-1 {SHA1}",
            {**_without(headers, SHA1), SHA1: "sha1=" + "0" * 40},
            body,
            guid,
            "no_5xx",
            f"a 2xx (only {SHA256} need be checked) or a 4xx, never a 5xx",
            signed=True,
            cause="signature",
        )
    )
    return out


CHECKS: tuple[ProfileCheck, ...] = (
    ProfileCheck(
        "delivery-replay",
        25,
        f"Remembers {DELIVERY}: a replayed delivery is not applied twice (GitHub sends no timestamp)",
        "the replay of a captured delivery applied once; distinct deliveries each applied once",
        replay_probes,
        passed=f"a captured delivery replayed twice was applied once, and deduplication is on {DELIVERY}",
        needs_probe=True,
    ),
    ProfileCheck(
        "sha1-legacy",
        26,
        f"Verifies {SHA256}; never accepts the legacy SHA-1 {SHA1} in its place",
        f"4xx when {SHA256} is missing or forged, whatever {SHA1} says",
        sha1_probes,
        passed=f"the SHA-1 {SHA1} was never accepted in place of {SHA256}",
    ),
)
