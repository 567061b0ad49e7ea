"""The history page ``/_hookmock/ui``: server-rendered HTML, no build step, no script.

One table per provider with the columns of mod.io's webhook history (Date, Name, HTTP status,
Response, Duration, Attempts), a details view with the payload and the attempt timeline, and
plain HTML forms for Retry/Redeliver and the Test button (POST, then a 303 back to the page).
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from .http import Ctx
from .modio_api import token_issued
from .websafety import FORM_TOKEN_FIELD

__all__ = ["ROUTES"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1f24}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.resp{max-width:28rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.ok{color:#1a7f37}.bad{color:#cf222e}.pending{color:#9a6700}
form{display:inline}button{cursor:pointer}pre{background:#f6f8fa;padding:.8rem;overflow:auto}
.note{color:#57606a;font-size:.85rem}
"""


def _page(title: str, body: str) -> Response:
    html = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return Response(html, mimetype="text/html", headers=_PAGE_HEADERS)


#: The page may not be framed by another page (clickjacking its buttons) and runs no script.  The
#: referrer policy is ``same-origin``, not ``no-referrer``: with that one, browsers send
#: ``Origin: null`` on the page's own form posts, which are then refused as cross-site.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _status_class(status: str) -> str:
    return {"succeeded": "ok", "failed": "bad"}.get(status, "pending")


def _token_field(token: str) -> str:
    return f"<input type=hidden name={FORM_TOKEN_FIELD} value='{escape(token)}'>"


def _row(item: dict[str, Any], token: str) -> str:
    did = escape(item["id"])
    status = item["status"]
    http = "—" if item["http_status"] is None else str(item["http_status"])
    duration = "—" if item["duration_ms"] is None else f"{item['duration_ms']} ms"
    label = "Retry" if item["profile"] == "modio" else "Redeliver"
    return (
        f"<tr data-delivery-id='{did}' data-profile='{escape(item['profile'])}'>"
        f"<td>{escape(item['date'])}</td><td class=name>{escape(item['name'])}</td>"
        f"<td class='http {_status_class(status)}'>{escape(http)}</td>"
        f"<td class=resp title='{escape(item['response'] or '')}'>{escape(item['response'] or '')}</td>"
        f"<td class=duration>{escape(duration)}</td><td class=attempts>{item['attempts']}</td>"
        f"<td class='status {_status_class(status)}'>{escape(status)}</td>"
        f"<td><form method=post action='/_hookmock/ui/deliveries/{did}/retry'>{_token_field(token)}"
        f"<button type=submit class=retry>{label}</button></form> "
        f"<a class=details href='/_hookmock/ui/deliveries/{did}'>View details</a></td></tr>"
    )


_HEAD = (
    "<tr><th>Date</th><th>Name</th><th>HTTP status</th><th>Response</th><th>Duration</th>"
    "<th>Attempts</th><th>Status</th><th></th></tr>"
)


def index(ctx: Ctx) -> Response:
    gw = ctx.core.gateway
    parts = [
        "<h1>hookmock emulator — webhook history</h1>",
        f"<p class=note>Clock: {escape(ctx.core.now_json()['now'])} ({escape(ctx.core.now_json()['clock'])})."
        " The mod.io history is shown the way mod.io's page shows it; Moda has no such page (its "
        "deliveries API is the source).</p>",
    ]
    for profile, title in (("moda", "Moda deliveries"), ("modio", "mod.io webhook history")):
        items = gw.ui_rows(profile, limit=100)
        rows = (
            "".join(_row(i, ctx.form_token) for i in items)
            or "<tr><td colspan=8>No deliveries yet.</td></tr>"
        )
        parts.append(f"<h2>{title}</h2><table id='{profile}-deliveries'>{_HEAD}{rows}</table>")
    games = ctx.core.store.games()
    if games:
        listed = "".join(
            f"<li>game <b>{escape(g['game_id'])}</b> → {escape(g['url'])} "
            + (
                f"token <code class=token>{escape(g['token'])}</code> (issued by the emulator) "
                if token_issued(ctx.core.store, g["game_id"], g["token"])
                else ""
            )
            + f"<form method=post action='/_hookmock/ui/modio/games/{escape(g['game_id'])}/test'>"
            f"{_token_field(ctx.form_token)}"
            f"<button type=submit class=test data-game='{escape(g['game_id'])}'>Test</button></form></li>"
            for g in games
        )
        parts.append(f"<h2>mod.io webhooks</h2><ul id=games>{listed}</ul>")
    return _page("hookmock — webhook history", "".join(parts))


def details(ctx: Ctx) -> Response:
    info = ctx.core.gateway.detail(str(ctx.args["delivery_id"]), profile=None)
    fields = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape('—' if v is None else str(v))}</td></tr>"
        for k, v in info.items()
        if k not in ("payload", "attempt_timeline")
    )
    timeline = "".join(
        f"<tr><td>{a['number']}</td><td>{escape(a['started_at'])}</td>"
        f"<td>{escape('—' if a['duration_ms'] is None else str(a['duration_ms']) + ' ms')}</td>"
        f"<td>{escape(a['outcome'])}</td>"
        f"<td>{escape('—' if a['status_code'] is None else str(a['status_code']))}</td>"
        f"<td class=resp>{escape(a['response_body_excerpt'] or a['detail'] or '')}</td></tr>"
        for a in info["attempt_timeline"]
    )
    payload = json.dumps(info.get("payload"), indent=2, ensure_ascii=False)
    body = (
        f"<p><a href='/_hookmock/ui'>← history</a></p><h1>Delivery {escape(info['id'])}</h1>"
        f"<table id=fields>{fields}</table>"
        "<h2>Attempt timeline</h2><table id=timeline><tr><th>#</th><th>Started</th><th>Duration</th>"
        f"<th>Outcome</th><th>Status code</th><th>Response</th></tr>{timeline}</table>"
        f"<h2>Payload sent</h2><pre id=payload>{escape(payload)}</pre>"
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


ROUTES = [
    ("/_hookmock/ui", ["GET"], "ui", index),
    ("/_hookmock/ui/deliveries/<delivery_id>", ["GET"], "ui_details", details),
    ("/_hookmock/ui/deliveries/<delivery_id>/retry", ["POST"], "ui_retry", retry),
    ("/_hookmock/ui/modio/games/<game_id>/test", ["POST"], "ui_test", test),
]
