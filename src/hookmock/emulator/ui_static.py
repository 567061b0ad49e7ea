"""The history page's stylesheet and script, served as files (the page's Content-Security-Policy
allows scripts and styles from the emulator itself only: no inline script, no event handler
attributes, no build step)."""

from __future__ import annotations

__all__ = ["SCRIPT", "STYLE"]

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1f24}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.resp{max-width:24rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.ok{color:#1a7f37}.bad{color:#cf222e}.pending{color:#9a6700}.flying{color:#0969da;font-weight:600}
form.inline{display:inline}button{cursor:pointer}pre{background:#f6f8fa;padding:.8rem;overflow:auto}
.note{color:#57606a;font-size:.85rem}.warn{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem}
fieldset{border:1px solid #d0d7de;margin:.5rem 0;padding:.5rem .8rem}
.bar label{margin-right:.3rem}.bar select,.bar input{margin-right:1rem}
.forms{display:flex;gap:1rem;flex-wrap:wrap}
:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.3rem}
tr.fresh td{background:#ddf4ff}
"""

SCRIPT = r"""
"use strict";
(function () {
  const table = document.getElementById("deliveries");
  const live = document.getElementById("live");
  let clock = null;
  let formToken = "";
  let lastRows = null;  // {now_ms, virtual, at}: the emulator's time when the rows were read

  function nowMs() {
    if (!clock) return null;
    return clock.virtual ? clock.now_ms : clock.now_ms + (performance.now() - clock.at);
  }
  function setClock(data) {
    clock = {now_ms: data.now_ms, virtual: data.clock.clock === "virtual", at: performance.now()};
    const banner = document.getElementById("clock-warning");
    const warnings = [];
    for (const [k, v] of Object.entries(data.clock || {})) {
      if (k.indexOf("warn") >= 0 && v) warnings.push(typeof v === "string" ? v : JSON.stringify(v));
    }
    banner.textContent = warnings.join(" ");
    banner.hidden = warnings.length === 0;
    document.getElementById("clock-now").textContent = data.clock.now + " (" + data.clock.clock + ")";
  }
  function tick() {
    const now = nowMs();
    if (now === null) return;
    for (const el of document.querySelectorAll("[data-due-ms]")) {
      const left = Math.ceil((Number(el.dataset.dueMs) - now) / 1000);
      el.textContent = left > 0 ? "next attempt in " + left + " s" : "next attempt due now";
    }
    for (const el of document.querySelectorAll("[data-flying-ms]")) {
      const took = Math.max(0, Math.floor((now - Number(el.dataset.flyingMs)) / 1000));
      el.textContent = "attempt in flight (" + took + " s)";
    }
  }
  function cell(tr, cls, text) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }
  const statusClass = {succeeded: "ok", failed: "bad"};
  function render(row) {
    const tr = document.createElement("tr");
    tr.dataset.deliveryId = row.id;
    tr.dataset.profile = row.profile;
    tr.dataset.attempts = String(row.attempts);
    cell(tr, "date", row.date);
    cell(tr, "profile", row.profile === "modio" ? "mod.io" : "Moda");
    cell(tr, "name", row.name);
    const sc = statusClass[row.status] || "pending";
    cell(tr, "http " + sc, row.http_status === null ? "—" : String(row.http_status));
    const resp = cell(tr, "resp", row.response || "");
    resp.title = row.response || "";
    cell(tr, "duration", row.duration_ms === null ? "—" : row.duration_ms + " ms");
    cell(tr, "attempts", String(row.attempts));
    const st = cell(tr, "status " + sc, row.status);
    const when = document.createElement("span");
    when.className = "when";
    if (row.in_flight_since_ms !== null) {
      when.className = "when flying";
      when.dataset.flyingMs = String(row.in_flight_since_ms);
    } else if (row.next_attempt_ms !== null) {
      when.dataset.dueMs = String(row.next_attempt_ms);
    }
    st.appendChild(document.createElement("br"));
    st.appendChild(when);
    const act = cell(tr, "act", "");
    const form = document.createElement("form");
    form.className = "inline";
    form.method = "post";
    form.action = "/_hookmock/ui/deliveries/" + encodeURIComponent(row.id) + "/retry";
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "form_token";
    hidden.value = formToken;
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "retry";
    button.textContent = row.profile === "modio" ? "Retry" : "Redeliver";
    form.append(hidden, button);
    act.append(form, " ");
    const a = document.createElement("a");
    a.className = "details";
    a.href = "/_hookmock/ui/deliveries/" + encodeURIComponent(row.id);
    a.textContent = "View details";
    act.appendChild(a);
    return tr;
  }
  let busy = false;
  async function poll() {
    if (busy || !live || !live.checked) return;
    busy = true;
    try {
      const params = new URLSearchParams(window.location.search);
      const url = "/_hookmock/ui/rows?" + params.toString();
      const r = await fetch(url, {headers: {Accept: "application/json"}});
      if (!r.ok) return;
      const data = await r.json();
      setClock(data);
      const text = JSON.stringify(data.rows);
      if (text !== lastRows) {  // nothing changed: leave the rows (and the keyboard focus) alone
        const seen = new Map();  // each row as last shown: a row that changed is highlighted
        for (const old of JSON.parse(lastRows || "[]")) seen.set(old.id, JSON.stringify(old));
        lastRows = text;
        const focused = document.activeElement && document.activeElement.closest("tr[data-delivery-id]");
        const focusKey = focused ? [focused.dataset.deliveryId, document.activeElement.className] : null;
        const rows = data.rows.map(render);
        data.rows.forEach((row, i) => {
          if (seen.get(row.id) !== JSON.stringify(row)) rows[i].classList.add("fresh");
        });
        if (rows.length === 0) {
          const tr = document.createElement("tr");
          const td = cell(tr, "", "No deliveries yet.");
          td.colSpan = 9;
          rows.push(tr);
        }
        table.tBodies[0].replaceChildren(...rows);
        if (focusKey) {
          const again = rows.find(tr => tr.dataset.deliveryId === focusKey[0]);
          const target = again && again.querySelector("." + focusKey[1].split(" ")[0]);
          if (target) target.focus();
        }
      }
      document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
      tick();
    } catch (e) {
      document.getElementById("updated").textContent = "not updated: " + e;
    } finally {
      busy = false;
    }
  }
  async function copy(button) {
    const pre = document.getElementById(button.dataset.copy);
    const text = pre.textContent;
    let ok = false;
    try { await navigator.clipboard.writeText(text); ok = true; } catch (e) {
      const range = document.createRange();
      range.selectNodeContents(pre);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      try { ok = document.execCommand("copy"); } catch (e2) { ok = false; }
    }
    button.textContent = ok ? "Copied" : "Selected: press Ctrl+C";
    button.dataset.copied = ok ? "yes" : "selected";
  }
  for (const b of document.querySelectorAll("button[data-copy]")) b.addEventListener("click", () => copy(b));
  if (table) {
    const init = document.getElementById("page-data");
    if (init) {
      const data = JSON.parse(init.textContent);
      formToken = data.form_token;
      lastRows = JSON.stringify(data.rows);
      setClock(data);
    }
    setInterval(tick, 250);
    setInterval(poll, 1000);
    tick();
  }
})();
"""
