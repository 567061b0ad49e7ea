"""The mod.io profile: every fact hookmock knows about mod.io's Rules Engine webhooks.

Sources: mod.io's webhook documentation (``modio/modio-docs``); ``docs/providers.md`` says which
fact is documented and which gap hookmock settled (*decided*, also marked in the README).

* Configured per game: a URL and a security token, sent as ``X-Modio-Webhook-Token``
  (a plain shared secret: no HMAC, no timestamp).
* 5 s to answer; any 200–299 is success; **no automatic retries**; a persistent history with a
  manual Retry that re-sends the same payload and increments the entry's attempts.
* A "test" button that sends a ``PING`` payload (key ``event``, not ``event_name``).
* Only ``ADD_MOD_COMMENT`` is a published event name; the rest of the catalogue is inferred from
  the rule actions and marked so.  Users can register their own names.
"""

from __future__ import annotations

import hmac
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._util.headers import HeadersLike, get_header
from .._util.overrides import apply_overrides
from ..clock import SECOND
from ..errors import BadToken, MissingHeader, UnknownEventType, UsageError
from ..ids import random_token, uuid4
from ._base import DEFAULT_TOLERANCE_S, EventSpec, Profile
from ._text import Text, text_of

if TYPE_CHECKING:  # pragma: no cover
    from faker import Faker

__all__ = ["PING_MESSAGE", "PROFILE", "TOKEN_HEADER", "ModioProfile", "register_event", "verify_token"]

TOKEN_HEADER = "X-Modio-Webhook-Token"
DEADLINE_S = 5
PING_EVENT = "PING"
PING_MESSAGE = "If you received this then everything looks good!"

_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class ModioEventShape:
    """How an event's resources look: the main resource type and the parent (or None)."""

    resource_type: str
    secondary_type: str | None
    body: str  # which event_body builder to use
    #: ``request_method``: the method of the mod.io REST API call that raises the event.  The
    #: webhook page shows only POST (its ADD_MOD_COMMENT example); mod.io's API reference edits a
    #: mod with POST and a comment with PUT, and guides are taken to follow mods and comments.
    method: str = "POST"


_SHAPES: dict[str, ModioEventShape] = {
    "ADD_MOD_COMMENT": ModioEventShape("comment", "mod", "comment"),
    "EDIT_MOD_COMMENT": ModioEventShape("comment", "mod", "comment", "PUT"),
    "ADD_MOD": ModioEventShape("mod", None, "mod"),
    "EDIT_MOD": ModioEventShape("mod", None, "mod"),
    "ADD_MOD_MEDIA": ModioEventShape("mod", None, "media"),
    "ADD_MOD_TAGS": ModioEventShape("mod", None, "tags"),
    "ADD_MOD_KVP_METADATA": ModioEventShape("mod", None, "kvp"),
    "ADD_MOD_DEPENDENCIES": ModioEventShape("mod", None, "dependencies"),
    "ADD_MODFILE": ModioEventShape("modfile", "mod", "modfile"),
    "ADD_GUIDE": ModioEventShape("guide", None, "guide"),
    "EDIT_GUIDE": ModioEventShape("guide", None, "guide"),
    "ADD_GUIDE_COMMENT": ModioEventShape("comment", "guide", "comment"),
    "EDIT_GUIDE_COMMENT": ModioEventShape("comment", "guide", "comment", "PUT"),
}

_EVENTS: dict[str, EventSpec] = {
    "ADD_MOD_COMMENT": EventSpec("ADD_MOD_COMMENT", "A comment was added to a mod (published example)"),
    **{
        name: EventSpec(
            name, f"{name.replace('_', ' ').lower()} (inferred from the Rules Engine actions)", inferred=True
        )
        for name in _SHAPES
        if name != "ADD_MOD_COMMENT"
    },
    PING_EVENT: EventSpec(PING_EVENT, "The history page's Test button"),
}


def register_event(
    name: str,
    *,
    resource_type: str = "mod",
    secondary_type: str | None = None,
    description: str = "",
) -> None:
    """Add an event name to the mod.io catalogue (e.g. one your Rules Engine rule sends)."""
    if not _NAME_RE.match(name):
        raise UsageError(f"mod.io event names are upper-case words joined by '_'; {name!r} is not")
    if name == PING_EVENT:
        raise UsageError("PING is the test button's payload and is built in")
    _SHAPES[name] = ModioEventShape(resource_type, secondary_type, "generic")
    _EVENTS[name] = EventSpec(name, description or f"{name} (registered by the user)", inferred=True)


def verify_token(headers: HeadersLike, token: str) -> None:
    """Check ``X-Modio-Webhook-Token`` against ``token`` in constant time."""
    if not token:
        raise UsageError("the webhook token is empty; pass the token shown in your game's webhook settings")
    got = get_header(headers, TOKEN_HEADER)
    if got is None:
        raise MissingHeader(f"the {TOKEN_HEADER} header is missing; mod.io sends the webhook token there")
    if not hmac.compare_digest(got.encode("utf-8", "surrogateescape"), token.encode("utf-8")):
        raise BadToken(f"the {TOKEN_HEADER} header does not equal the configured webhook token (exact match)")


def _slug(text: Text) -> str:
    return "-".join(text.words(2)).lower()


def _resource(kind: str, rid: int, game: str, parent_url: str | None, text: Text) -> dict[str, Any]:
    if kind == "mod":
        url = f"https://mod.io/g/{game}/m/{_slug(text)}"
    elif kind == "guide":
        url = f"https://mod.io/g/{game}/r/{_slug(text)}"
    elif kind == "comment" and parent_url:
        url = f"{parent_url}#{rid}"
    elif kind == "modfile" and parent_url:
        url = f"{parent_url}/files/{rid}"
    else:
        url = f"https://mod.io/g/{game}/{kind}/{rid}"
    return {"resource_type": kind, "resource_id": rid, "resource_url": url}


def _event_body(style: str, text: Text, rng: random.Random) -> dict[str, Any]:
    if style == "comment":
        return {"content": text.sentence(rng.randint(3, 14))}
    if style == "mod":
        return {"name": text.catch_phrase(), "summary": text.sentence(12)}
    if style == "media":
        return {"images": [f"{text.word()}.png" for _ in range(rng.randint(1, 3))]}
    if style == "tags":
        return {"tags": sorted({text.word().capitalize() for _ in range(rng.randint(1, 4))})}
    if style == "kvp":
        return {"metadata_kvp": [{"metakey": text.word(), "metavalue": text.word()}]}
    if style == "dependencies":
        return {"dependencies": [rng.randint(1, 99999) for _ in range(rng.randint(1, 3))]}
    if style == "modfile":
        return {
            "version": f"{rng.randint(0, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
            "filename": f"{text.word()}.zip",
            "changelog": text.sentence(),
        }
    if style == "guide":
        return {"name": text.catch_phrase(), "summary": text.sentence(12)}
    return {}


class ModioProfile(Profile):
    name = "modio"
    title = "mod.io"
    secret_name = "webhook token"
    deadline_ns = DEADLINE_S * SECOND
    retry_delays_ns: tuple[int, ...] = ()
    manual_retry = "same_entry"
    has_timestamp = False
    schemas = ("modio-event", "modio-ping", "modio-history-entry")
    token_header = TOKEN_HEADER
    free_form_path = ("event_body",)

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(_EVENTS)

    def event_spec(self, event_type: str) -> EventSpec:
        try:
            return _EVENTS[event_type]
        except KeyError:
            raise UnknownEventType(
                f"{event_type!r} is not in hookmock's mod.io catalogue ({', '.join(_EVENTS)}); "
                "add it with hookmock.profiles.modio.register_event()"
            ) from None

    def build_payload(
        self, event_type: str, *, fake: Faker, rng: random.Random, now_s: int, overrides: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.event_spec(event_type)
        if event_type == PING_EVENT:
            ping = {
                "event": PING_EVENT,
                "event_timestamp": now_s,
                "event_uuid": uuid4(rng),
                "message": PING_MESSAGE,
            }
            return apply_overrides(ping, overrides)
        shape = _SHAPES[event_type]
        text = text_of(fake)
        game = _slug(text)
        parent = None
        if shape.secondary_type:
            parent = _resource(shape.secondary_type, rng.randint(1, 500_000), game, None, text)
        resource = _resource(
            shape.resource_type,
            rng.randint(1, 5_000_000),
            game,
            parent["resource_url"] if parent else None,
            text,
        )
        user_name = text.user_name()
        payload: dict[str, Any] = {
            "event_name": event_type,
            "event_timestamp": now_s,
            "event_uuid": uuid4(rng),
            "request_method": shape.method,
            "request_resource": resource,
            "request_secondary_resource": parent,
            "request_user": {
                "user_id": rng.randint(1, 9_999_999),
                "username": user_name,
                "profile_url": f"https://mod.io/u/{user_name.lower()}",
            },
            "event_body": _event_body(shape.body, text, rng),
        }
        return apply_overrides(payload, overrides)

    def optional_fields(self, payload: Mapping[str, Any]) -> dict[tuple[str, ...], bool]:
        """Fields a receiver must cope with being absent, mapped to whether null is legal too."""
        if "event_name" not in payload:
            return {}
        return {("request_secondary_resource",): True}

    def event_id(self, payload: Mapping[str, Any]) -> str | None:
        value = payload.get("event_uuid") if isinstance(payload, Mapping) else None
        return value if isinstance(value, str) else None

    def event_type_of(self, payload: Mapping[str, Any]) -> str | None:
        if not isinstance(payload, Mapping):
            return None
        value = payload.get("event_name", payload.get("event"))
        return value if isinstance(value, str) else None

    def schema_for(self, payload: Mapping[str, Any]) -> str:
        return (
            "modio-ping"
            if isinstance(payload, Mapping) and "event" in payload and "event_name" not in payload
            else "modio-event"
        )

    def body_variants(self, payload: Mapping[str, Any]) -> dict[str, bytes]:
        from .._util.bodies import hostile_variants

        slot = self.free_form_path if "event_body" in payload else ()
        variants = hostile_variants(payload, slot)
        if not slot:  # PING has no free-form object; keep only the whole-body variants
            variants = {
                k: v for k, v in variants.items() if k in ("escaped_slash", "pretty_trailing_newline")
            }
        return variants

    def sign(
        self, body: bytes, secret: str, timestamp: int, *, message_id: str | None = None
    ) -> dict[str, str]:
        return {TOKEN_HEADER: secret}

    def verify(
        self,
        headers: HeadersLike,
        body: bytes,
        secret: str,
        *,
        now: int,
        tolerance: int = DEFAULT_TOLERANCE_S,
    ) -> int | None:
        verify_token(headers, secret)
        return None

    def generate_secret(self, rng: random.Random | None = None) -> str:
        return random_token(40, rng)


PROFILE = ModioProfile()
