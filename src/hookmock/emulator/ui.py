"""The history page ``/_hookmock/ui``: a console to leave open while developing.

One table of every delivery (the columns of mod.io's webhook history, plus the provider and the
live state: the next attempt counting down, an attempt in flight), filters by status, event type
and provider, a search by delivery id or event id, keyset pagination (fast on a million rows),
live updates (the served script polls ``/_hookmock/ui/rows``, no reload), forms to create a Moda
task with a magic outcome or a mod.io event, and a details view with each attempt's request
headers and a copy-as-curl snippet.  Forms are plain HTML posts carrying the per-process form
token (:mod:`.websafety`), answered with a 303 back to the page.  The script and stylesheet are
served files (:mod:`.ui_static`): the Content-Security-Policy allows nothing inline.

Its routes are in :data:`hookmock.emulator.routes.UI_ROUTES`: this module (and its data and static
modules) is imported at the page's first request, not when the emulator starts.
"""

from __future__ import annotations

import hashlib
import json
from html import escape
from typing import Any
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from ..profiles import get_profile
from .errors import ApiError
from .http import Ctx, json_response
from .modio_api import token_issued
from .tasks import MAGIC_PREFIX, OUTCOMES
from .ui_data import PROFILES, STATUSES, attempts_view, rows_page
from .ui_static import SCRIPT, STYLE
from .websafety import FORM_TOKEN_FIELD

__all__ = ["create_task", "details", "index", "modio_event", "retry", "rows", "script", "style", "test"]

#: The page may not be framed by another page (clickjacking its buttons); scripts, styles and
#: fetches come from the emulator only.  The referrer policy is ``same-origin``, not
#: ``no-referrer``: with that one, browsers send ``Origin: null`` on the page's own form posts,
#: which are then refused as cross-site.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _page(title: str, body: str) -> Response:
    html = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        "<meta name=viewport content='width=device-width'>"
        "<link rel=stylesheet href='/_hookmock/ui/app.css'>"
        "<script src='/_hookmock/ui/app.js' defer></script></head>"
        f"<body><a class=skip href='#main'>Skip to the deliveries</a>{body}</body></html>"
    )
    return Response(html, mimetype="text/html", headers=_PAGE_HEADERS)


def _token_field(token: str) -> str:
    return f"<input type=hidden name={FORM_TOKEN_FIELD} value='{escape(token)}'>"


def _status_class(status: str) -> str:
    return {"succeeded": "ok", "failed": "bad"}.get(status, "pending")


def _row(item: dict[str, Any], token: str) -> str:
    did = escape(item["id"])
    status = item["status"]
    cls = _status_class(status)
    http = "—" if item["http_status"] is None else str(item["http_status"])
    duration = "—" if item["duration_ms"] is None else f"{item['duration_ms']} ms"
    when = ""
    if item["in_flight_since_ms"] is not None:
        since = item["in_flight_since_ms"]
        when = f"<span class='when flying' data-flying-ms='{since}'>attempt in flight</span>"
    elif item["next_attempt_ms"] is not None:
        when = f"<span class=when data-due-ms='{item['next_attempt_ms']}'>next attempt pending</span>"
    return (
        f"<tr data-delivery-id='{did}' data-profile='{escape(item['profile'])}' "
        f"data-attempts='{item['attempts']}'>"
        f"<td class=date>{escape(item['date'])}</td>"
        f"<td class=profile>{'mod.io' if item['profile'] == 'modio' else 'Moda'}</td>"
        f"<td class=name>{escape(item['name'])}</td><td class='http {cls}'>{escape(http)}</td>"
        f"<td class=resp title='{escape(item['response'] or '')}'>{escape(item['response'] or '')}</td>"
        f"<td class=duration>{escape(duration)}</td><td class=attempts>{item['attempts']}</td>"
        f"<td class='status {cls}'>{escape(status)}<br>{when}</td>"
        f"<td class=act><form class=inline method=post action='/_hookmock/ui/deliveries/{did}/retry'>"
        f"{_token_field(token)}<button type=submit class=retry>"
        f"{'Retry' if item['profile'] == 'modio' else 'Redeliver'}</button></form> "
        f"<a class=details href='/_hookmock/ui/deliveries/{did}'>View details</a></td></tr>"
    )


_HEAD = (
    "<thead><tr><th scope=col>Date</th><th scope=col>Provider</th><th scope=col>Name</th>"
    "<th scope=col>HTTP status</th><th scope=col>Response</th><th scope=col>Duration</th>"
    "<th scope=col>Attempts</th><th scope=col>Status</th><th scope=col>Actions</th></tr></thead>"
)


def _select(name: str, label: str, options: tuple[str, ...], chosen: str | None) -> str:
    opts = "<option value=''>any</option>" + "".join(
        f"<option value='{escape(o)}'{' selected' if o == chosen else ''}>{escape(o)}</option>"
        for o in options
    )
    return f"<label for=f-{name}>{label}</label> <select id=f-{name} name={name}>{opts}</select>"


def _filters_form(chosen: dict[str, str | None]) -> str:
    return (
        "<form id=filters class=bar method=get action='/_hookmock/ui' role=search>"
        + _select("status", "Status", STATUSES, chosen["status"])
        + _select("profile", "Provider", PROFILES, chosen["profile"])
        + "<label for=f-event_type>Event type</label> <input id=f-event_type name=event_type "
        f"value='{escape(chosen['event_type'] or '')}' size=18 list=event-types>"
        "<label for=f-q>Search id</label> <input id=f-q name=q type=search "
        f"value='{escape(chosen['q'] or '')}' placeholder='delivery or event id' size=28>"
        "<datalist id=event-types>"
        + "".join(f"<option value='{escape(e)}'>" for p in PROFILES for e in get_profile(p).event_types)
        + "</datalist><button type=submit>Apply</button> <a href='/_hookmock/ui'>Clear</a></form>"
    )


def _create_forms(ctx: Ctx) -> str:
    token = _token_field(ctx.form_token)
    outcomes = "".join(f"<option value='{o}'>{o}</option>" for o in OUTCOMES)
    games = ctx.core.store.games()
    game_opts = "".join(
        f"<option value='{escape(g['game_id'])}'>{escape(g['game_id'])} → {escape(g['url'])}</option>"
        for g in games
    )
    events = "".join(f"<option value='{escape(e)}'>" for e in get_profile("modio").event_types)
    modio = (
        "<form id=modio-event-form method=post action='/_hookmock/ui/modio/events'><fieldset>"
        f"<legend>Fire a mod.io event</legend>{token}"
        f"<label for=e-game>Game</label> <select id=e-game name=game_id required>{game_opts}</select> "
        "<label for=e-name>Event</label> <input id=e-name name=event_name required list=modio-events "
        f"value=ADD_MOD_COMMENT size=16><datalist id=modio-events>{events}</datalist> "
        "<button type=submit>Fire event</button></fieldset></form>"
        if games
        else "<p class=note>mod.io: configure a game's webhook (PUT /_hookmock/modio/games/{id}/webhook) "
        "to fire events from here.</p>"
    )
    return (
        "<div class=forms><form id=task-form method=post action='/_hookmock/ui/tasks'><fieldset>"
        f"<legend>Create a Moda task</legend>{token}"
        "<label for=t-prompt>Prompt</label> "
        "<input id=t-prompt name=prompt required value='A poster' size=16> "
        f"<label for=t-outcome>Outcome</label> <select id=t-outcome name=outcome>{outcomes}</select> "
        "<label for=t-callback>Callback URL</label> <input id=t-callback name=callback_url type=url "
        "required size=30> <button type=submit>Create task</button></fieldset></form>"
        f"{modio}</div>"
    )


def _json_block(data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return f"<script type=application/json id=page-data>{text}</script>"


def index(ctx: Ctx) -> Response:
    data = rows_page(ctx)
    chosen = data["filters"]
    rows = (
        "".join(_row(i, ctx.form_token) for i in data["rows"])
        or "<tr><td colspan=9>No deliveries yet.</td></tr>"
    )
    pager = ""
    query = {k: v for k, v in chosen.items() if v}
    if data["cursor"]:
        pager += f"<a id=newest href='/_hookmock/ui?{escape(urlencode(query))}'>← Newest</a> "
    if data["next_cursor"]:
        older = urlencode({**query, "cursor": data["next_cursor"]})
        pager += f"<a id=older rel=next href='/_hookmock/ui?{escape(older)}'>Older →</a>"
    clock = data["clock"]
    games = ctx.core.store.games()
    tests = "".join(
        f"<li>game <b>{escape(g['game_id'])}</b> → {escape(g['url'])} "
        + (
            f"token <code class=token>{escape(g['token'])}</code> (issued by the emulator) "
            if token_issued(ctx.core.store, g["game_id"], g["token"])
            else ""
        )
        + f"<form class=inline method=post action='/_hookmock/ui/modio/games/{escape(g['game_id'])}/test'>"
        f"{_token_field(ctx.form_token)}"
        f"<button type=submit class=test data-game='{escape(g['game_id'])}'>Test</button></form></li>"
        for g in games
    )
    body = (
        "<header><h1>hookmock emulator — webhook history</h1>"
        f"<p class=note>Clock: <span id=clock-now>{escape(clock['now'])} ({escape(clock['clock'])})</span>. "
        "<label><input type=checkbox id=live checked> Live updates</label> "
        "<span id=updated aria-live=polite></span></p>"
        "<p id=clock-warning class=warn role=status hidden></p></header>"
        f"{_create_forms(ctx)}"
        + (f"<h2>mod.io webhooks</h2><ul id=games>{tests}</ul>" if games else "")
        + "<main id=main><h2>Deliveries</h2>"
        f"{_filters_form(chosen)}"
        f"<table id=deliveries>{_HEAD}<tbody>{rows}</tbody></table>"
        f"<nav class=pager aria-label=Pages>{pager}</nav></main>"
        f"{_json_block({**data, 'form_token': ctx.form_token})}"
    )
    return _page("hookmock — webhook history", body)


def rows(ctx: Ctx) -> Response:
    return json_response(rows_page(ctx))


def _headers_table(headers: dict[str, str] | list[list[str]], cls: str) -> str:
    """A table of headers: a dict, or ``[name, value]`` pairs (a name may repeat)."""
    pairs = headers.items() if isinstance(headers, dict) else headers
    return (
        f"<table class={cls}>"
        + "".join(f"<tr><th scope=row>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in pairs)
        + "</table>"
    )


def details(ctx: Ctx) -> Response:
    gw = ctx.core.gateway
    delivery_id = str(ctx.args["delivery_id"])
    info = gw.detail(delivery_id, profile=None)
    record = gw.log.get(delivery_id)
    fields = "".join(
        f"<tr><th scope=row>{escape(str(k))}</th><td>{escape('—' if v is None else str(v))}</td></tr>"
        for k, v in info.items()
        if k not in ("payload", "attempt_timeline")
    )
    sections = []
    for a in attempts_view(ctx, record, info["attempt_timeline"]):
        n = a["number"]
        duration = "—" if a["duration_ms"] is None else f"{a['duration_ms']} ms"
        code = "—" if a["status_code"] is None else str(a["status_code"])
        extra = "".join(
            f"<tr><th scope=row>{escape(str(k))}</th>"
            f"<td>{escape(json.dumps(v, ensure_ascii=False))}</td></tr>"
            for k, v in a.items()
            if k
            not in (
                "number",
                "started_at",
                "started_ns",
                "duration_ms",
                "outcome",
                "status_code",
                "response_body_excerpt",
                "detail",
                "request_headers",
                "response_headers",
                "curl",
            )
        )
        resp_headers = a.get("response_headers")
        sections.append(
            f"<section class=attempt id=attempt-{n} aria-labelledby=attempt-{n}-h>"
            f"<h3 id=attempt-{n}-h>Attempt {n}: {escape(a['outcome'])} {escape(code)} "
            f"— {escape(a['started_at'])}, {escape(duration)}</h3>"
            "<table class=summary>"
            f"<tr><th scope=row>Duration</th><td class=duration>{escape(duration)}</td></tr>"
            f"<tr><th scope=row>Status code</th><td class=code>{escape(code)}</td></tr>{extra}</table>"
            "<h4>Request headers sent</h4>"
            + _headers_table(a["request_headers"], "request-headers")
            + (
                "<h4>Response headers</h4>" + _headers_table(resp_headers, "response-headers")
                if resp_headers
                else ""
            )
            + "<h4>Response body (excerpt)</h4>"
            f"<pre class=resp>{escape(a['response_body_excerpt'] or a['detail'] or '')}</pre>"
            f"<h4>Send it again with curl</h4><pre id=curl-{n} class=curl>{escape(a['curl'])}</pre>"
            f"<button type=button class=copy data-copy=curl-{n}>Copy as curl</button></section>"
        )
    payload = json.dumps(info.get("payload"), indent=2, ensure_ascii=False)
    body = (
        f"<p><a href='/_hookmock/ui'>← history</a></p><main id=main><h1>Delivery {escape(info['id'])}</h1>"
        f"<table id=fields>{fields}</table>"
        f"<form class=inline method=post action='/_hookmock/ui/deliveries/{escape(info['id'])}/retry'>"
        f"{_token_field(ctx.form_token)}<button type=submit class=retry>"
        f"{'Retry' if info['profile'] == 'modio' else 'Redeliver'}</button></form>"
        f"<h2>Attempts</h2><div id=attempts>{''.join(sections) or '<p>No attempt yet.</p>'}</div>"
        f"<h2>Payload sent</h2><pre id=payload>{escape(payload)}</pre></main>"
    )
    return _page(f"hookmock — {info['id']}", body)


def retry(ctx: Ctx) -> Response:
    delivery_id = str(ctx.args["delivery_id"])
    ctx.core.gateway.retry_any(delivery_id)
    ctx.core.wake()
    return redirect("/_hookmock/ui", 303)


def test(ctx: Ctx) -> Response:
    from .modio_api import _game

    ctx.core.gateway.fire_modio(_game(ctx), "PING", {})
    return redirect("/_hookmock/ui", 303)


def _form_field(ctx: Ctx, name: str, *, required: bool = True) -> str:
    value = ctx.request.form.get(name, "").strip()
    if required and not value:
        raise ApiError(
            "invalid_request",
            "parameter_missing",
            f"the form field {name!r} is required",
            details={"parameter": name},
        )
    return value


def create_task(ctx: Ctx) -> Response:
    """The page's "Create a Moda task" form: a design task whose prompt carries the magic value
    of the chosen outcome (as ``POST /v1/tasks`` would with ``hookmock:<outcome>`` in it)."""
    core = ctx.core
    prompt = _form_field(ctx, "prompt")
    outcome = _form_field(ctx, "outcome")
    if outcome not in OUTCOMES:
        raise ApiError(
            "invalid_request",
            "parameter_invalid",
            f"outcome {outcome[:40]!r} is not one of {', '.join(OUTCOMES)}",
            details={"parameter": "outcome"},
        )
    callback_url = _form_field(ctx, "callback_url")
    core.check_callback_url(callback_url)
    if MAGIC_PREFIX not in prompt:
        prompt = f"{prompt} {MAGIC_PREFIX}{outcome}"
    digest = hashlib.sha256(json.dumps(["ui", prompt, callback_url]).encode()).hexdigest()
    core.engine.create(
        kind="design",
        input={"prompt": prompt},
        callback_url=callback_url,
        api_key_id=core.api_key_id,
        outcome=outcome,
        idempotency_key=None,
        request_hash=digest,
        canvas_id=None,
    )
    core.wake()
    return redirect("/_hookmock/ui", 303)


def modio_event(ctx: Ctx) -> Response:
    """The page's "Fire a mod.io event" form."""
    game_id = _form_field(ctx, "game_id")
    event_name = _form_field(ctx, "event_name")
    game = ctx.core.store.game(game_id)
    if game is None:
        raise ApiError(
            "not_found",
            "webhook_not_configured",
            f"game {game_id[:60]!r} has no webhook; configure it with "
            "PUT /_hookmock/modio/games/{id}/webhook",
        )
    ctx.core.gateway.fire_modio(game, event_name, {})
    return redirect("/_hookmock/ui", 303)


def _static(text: str, mimetype: str) -> Response:
    return Response(
        text,
        mimetype=mimetype,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )


def script(ctx: Ctx) -> Response:
    return _static(SCRIPT, "text/javascript")


def style(ctx: Ctx) -> Response:
    return _static(STYLE, "text/css")
