"""The mod.io side, under ``/_hookmock/modio/``.  mod.io publishes no API for any of this (the
webhook is configured in its web UI, the history is a page), so every route here is a hookmock
extension: per-game webhook settings, firing events, the Test button, the history and Retry.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..errors import UsageError
from ..ids import uuid4
from ..profiles import get_profile
from ..profiles.modio import TOKEN_HEADER
from .errors import ApiError
from .http import Ctx, json_response

__all__ = ["ROUTES"]

_GAME_MAX = 64
#: Meta key (+ game id) holding the token the emulator issued for a game.
_ISSUED = "modio_issued_token:"


def _game_id(ctx: Ctx) -> str:
    game_id = str(ctx.args["game_id"])
    if not 1 <= len(game_id) <= _GAME_MAX:
        raise ApiError("invalid_request", "parameter_invalid", f"game id must be 1 to {_GAME_MAX} characters")
    if not game_id.isprintable():
        raise ApiError(
            "invalid_request",
            "parameter_invalid",
            f"game id {game_id!r} contains a control character; use printable characters only",
            details={"parameter": "game_id"},
        )
    return game_id


def _public(game: dict[str, str], store: Any) -> dict[str, Any]:
    """A game's settings.  A token the user gave is a secret they already hold: left out.  A token
    the emulator issued is shown (``token_issued: true``), as mod.io's webhook settings show it:
    the user has no other way to learn it."""
    issued = token_issued(store, game["game_id"], game["token"])
    public = {
        "game_id": game["game_id"],
        "url": game["url"],
        "ruleset_uuid": game["ruleset_uuid"],
        "token_issued": issued,
    }
    if issued:
        public["token"] = game["token"]
    return public


def token_issued(store: Any, game_id: str, token: str) -> bool:
    """True when ``token`` is the one the emulator generated for the game (not a user's)."""
    return store.meta(_ISSUED + game_id) == token


def _game(ctx: Ctx) -> dict[str, str]:
    game_id = _game_id(ctx)
    game = ctx.core.store.game(game_id)
    if game is None:
        raise ApiError(
            "not_found",
            "webhook_not_configured",
            f"game {game_id!r} has no webhook; "
            f"PUT /_hookmock/modio/games/{game_id}/webhook with url and token",
            details={"game_id": game_id},
        )
    return game


def _check_header_value(token: str) -> None:
    """The token is sent as a header value (the profile's token header): refused here, at PUT, if it
    could not be (a line break, NUL or other control character, a character beyond latin-1, or
    blanks at either end, which receivers strip), instead of failing every delivery later."""
    problem = None
    for i, ch in enumerate(token):
        if ch != "\t" and (ord(ch) < 0x20 or ord(ch) == 0x7F):
            names = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", "\0": "a NUL"}
            problem = f"{names.get(ch, 'a control character')} {ch!r} at position {i}"
        elif ord(ch) > 0xFF:
            problem = f"the character {ch!r} (U+{ord(ch):04X}) at position {i}, which is not latin-1"
        if problem:
            break
    if problem is None and token != token.strip(" \t"):
        problem = "blanks at its start or end (receivers strip them from header values)"
    if problem is not None:
        raise ApiError(
            "invalid_request",
            "parameter_invalid",
            f"token contains {problem}; it is sent as the {TOKEN_HEADER} header, so use "
            "printable latin-1 characters only",
            details={"parameter": "token"},
        )


def put_webhook(ctx: Ctx) -> Response:
    game_id = _game_id(ctx)
    url = ctx.field("url", str, required=True)
    token: str | None = ctx.field("token", str)
    if token is not None:
        if not token.strip() or len(token) > 512:
            raise ApiError(
                "invalid_request",
                "parameter_invalid",
                "token must be 1 to 512 characters (or leave it out to have one issued)",
                details={"parameter": "token"},
            )
        _check_header_value(token)
    ctx.core.gateway.check_modio_url(url)
    store = ctx.core.store
    existing = store.game(game_id)
    ruleset = existing["ruleset_uuid"] if existing else uuid4()
    if token is None:
        # mod.io: the security token "is available for you"; keep the one issued before, if any
        if existing is not None and token_issued(store, game_id, existing["token"]):
            token = existing["token"]
        else:
            token = get_profile("modio").generate_secret()
            store.set_meta(_ISSUED + game_id, token)
    # redacted from then on in every delivery's response (a Moda one's receiver may echo it too)
    ctx.core.gateway.redactor.add(token)
    game = {"game_id": game_id, "url": url, "token": token, "ruleset_uuid": ruleset}
    store.set_game(game_id, url, token, ruleset)
    return json_response(_public(game, store))


def list_games(ctx: Ctx) -> Response:
    store = ctx.core.store
    return json_response({"data": [_public(g, store) for g in store.games()]})


def register_event_name(ctx: Ctx) -> Response:
    """Add a mod.io event name (one your Rules Engine rule sends) to the catalogue."""
    name = ctx.field("event_name", str, required=True)
    resource_type = ctx.field("resource_type", str, default="mod")
    secondary_type = ctx.field("secondary_type", str)
    try:
        ctx.core.register_modio_event(name, resource_type=resource_type, secondary_type=secondary_type)
    except UsageError as exc:
        raise ApiError(
            "invalid_request", "parameter_invalid", str(exc), details={"parameter": "event_name"}
        ) from None
    return json_response(_event_names(), 201)


def list_event_names(ctx: Ctx) -> Response:
    return json_response(_event_names())


def _event_names() -> dict[str, Any]:
    profile = get_profile("modio")
    return {
        "data": [
            {"event_name": name, "description": profile.event_spec(name).description}
            for name in profile.event_types
        ]
    }


def trigger_event(ctx: Ctx) -> Response:
    game = _game(ctx)
    event_name = ctx.field("event_name", str, required=True)
    overrides: dict[str, Any] = ctx.field("overrides", dict, default={})
    unfaithful = ctx.field("unfaithful", bool, default=False)
    entry = ctx.core.gateway.fire_modio(game, event_name, overrides, unfaithful=unfaithful)
    return json_response(entry, 202)


def test_ping(ctx: Ctx) -> Response:
    entry = ctx.core.gateway.fire_modio(_game(ctx), "PING", {})
    return json_response(entry, 202)


def history(ctx: Ctx) -> Response:
    limit = ctx.query_int("limit", default=50, low=1, high=200)
    return json_response(ctx.core.gateway.list_modio(limit=limit, cursor=ctx.query("cursor") or None))


def history_entry(ctx: Ctx) -> Response:
    return json_response(ctx.core.gateway.detail(str(ctx.args["entry_id"]), profile="modio"))


def retry(ctx: Ctx) -> Response:
    return json_response(ctx.core.gateway.retry_modio(str(ctx.args["entry_id"])), 202)


ROUTES = [
    ("/_hookmock/modio/games", ["GET"], "modio_games", list_games),
    ("/_hookmock/modio/games/<game_id>/webhook", ["PUT"], "modio_put_webhook", put_webhook),
    ("/_hookmock/modio/event-names", ["GET"], "modio_event_names", list_event_names),
    ("/_hookmock/modio/event-names", ["POST"], "modio_register_event", register_event_name),
    ("/_hookmock/modio/games/<game_id>/events", ["POST"], "modio_trigger", trigger_event),
    ("/_hookmock/modio/games/<game_id>/test", ["POST"], "modio_test", test_ping),
    ("/_hookmock/modio/history", ["GET"], "modio_history", history),
    ("/_hookmock/modio/history/<entry_id>", ["GET"], "modio_history_entry", history_entry),
    ("/_hookmock/modio/history/<entry_id>/retry", ["POST"], "modio_retry", retry),
]
