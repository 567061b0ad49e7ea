"""The history page in a real headless browser (Debian's chromium + chromedriver, via selenium)."""

from __future__ import annotations

import http.server
import json
import logging
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from emulator_support import running, stack
from hookmock.profiles import get_profile
from hookmock.receiver.server import FakeReceiver

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="needs chromium and chromedriver (apt-get install -y chromium chromium-driver)",
    ),
]


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile_dir = tempfile.mkdtemp(prefix="hookmock-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile_dir}",
        "--window-size=1400,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)


def _submit(driver, button):
    """Click a form's button and wait until its POST has been answered (the 303 back to the
    page replaces the button): a click may return before the request reaches the server."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    button.click()
    WebDriverWait(driver, 10).until(expected_conditions.staleness_of(button))


def _rows(driver, profile=None):
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, "#deliveries tr[data-delivery-id]")
    return [r for r in rows if profile is None or r.get_attribute("data-profile") == profile]


def test_history_page_lists_retries_and_tests(browser):
    from selenium.webdriver.common.by import By

    token = get_profile("modio").generate_secret()
    modio = FakeReceiver("modio", token)
    modio.script("500,ok")
    modio.start()
    try:
        with stack("500,500,ok") as (emu, api, moda):
            api.post("/v1/tasks", {"prompt": "Poster", "callback_url": moda.url})
            api.advance(60)
            api.put("/_hookmock/modio/games/my-game/webhook", {"url": modio.url, "token": token})
            api.post("/_hookmock/modio/games/my-game/events", {"event_name": "ADD_MOD_COMMENT"})
            api.advance(1)

            browser.get(emu.base_url + "/_hookmock/ui")
            headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#deliveries th")]
            assert headers[:1] == ["Date"] and headers[2:7] == [
                "Name",
                "HTTP status",
                "Response",
                "Duration",
                "Attempts",
            ]
            [moda_row] = _rows(browser, "moda")
            assert moda_row.find_element(By.CSS_SELECTOR, ".name").text == "task.succeeded"
            assert moda_row.find_element(By.CSS_SELECTOR, ".attempts").text == "3"
            [modio_row] = _rows(browser, "modio")
            assert modio_row.find_element(By.CSS_SELECTOR, ".http").text == "500"
            assert modio_row.find_element(By.CSS_SELECTOR, ".attempts").text == "1"

            # Retry re-sends the same entry; the new attempt appears
            _submit(browser, modio_row.find_element(By.CSS_SELECTOR, "button.retry"))
            api.advance(1)
            browser.get(emu.base_url + "/_hookmock/ui")
            [modio_row] = _rows(browser, "modio")
            assert modio_row.find_element(By.CSS_SELECTOR, ".attempts").text == "2"
            assert modio_row.find_element(By.CSS_SELECTOR, ".http").text == "200"
            assert len(modio.requests) == 2

            # Redeliver on the Moda side makes a new row
            _submit(browser, _rows(browser, "moda")[0].find_element(By.CSS_SELECTOR, "button.retry"))
            api.advance(1)
            browser.get(emu.base_url + "/_hookmock/ui")
            assert len(_rows(browser, "moda")) == 2

            # Test sends a PING
            _submit(browser, browser.find_element(By.CSS_SELECTOR, "button.test"))
            api.advance(1)
            assert json.loads(modio.requests[-1].body)["event"] == "PING"
            browser.get(emu.base_url + "/_hookmock/ui")
            names = [r.find_element(By.CSS_SELECTOR, ".name").text for r in _rows(browser, "modio")]
            assert names[0] == "PING"

            # details: payload and one section per attempt
            moda_id = _rows(browser, "moda")[-1].get_attribute("data-delivery-id")
            browser.get(emu.base_url + f"/_hookmock/ui/deliveries/{moda_id}")
            codes = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "section.attempt td.code")]
            assert codes == ["500", "500", "200"]
            assert json.loads(browser.find_element(By.ID, "payload").text)["type"] == "task.succeeded"
            source = browser.page_source
            assert emu.signing_secret not in source and token not in source

            browser.get(emu.base_url + "/_hookmock/ui")
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "emulator-history.png"
            assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 1000
    finally:
        modio.stop()


def test_page_is_empty_but_fine_without_deliveries(browser):
    from selenium.webdriver.common.by import By

    with running() as (emu, _api):
        browser.get(emu.base_url + "/_hookmock/ui")
        assert "No deliveries yet." in browser.find_element(By.ID, "deliveries").text


# -- a page on another origin attacks the emulator ----------------------------------------------
ATTACK_PAGE = """<!doctype html><html><head><title>attacker</title></head><body>
<form id=reset method=post action="{{EMU}}/_hookmock/reset"><input name=x value=1></form>
<form id=events method=post enctype="text/plain" target=sink action="{{EMU}}/_hookmock/moda/events">
<input name='{"event_type":"task.failed","callback_url":"{{HOOK}}","x":"' value='"}'></form>
<iframe name=sink></iframe>
<script>
const base = "{{EMU}}", hook = "{{HOOK}}";
(async () => {
  const attempts = [
    ["/_hookmock/reset", {method: "POST", mode: "no-cors"}],
    ["/_hookmock/reset", {method: "POST", mode: "no-cors",
      headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "x=1"}],
    ["/_hookmock/moda/events", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"},
      body: JSON.stringify({event_type: "task.failed", callback_url: hook})}],
    ["/_hookmock/clock/advance", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"},
      body: '{"seconds": 3600}'}],
    // JSON needs a CORS preflight, which the emulator never grants
    ["/_hookmock/reset", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"}],
  ];
  const results = [];
  for (const [path, init] of attempts) {
    try { const r = await fetch(base + path, init); results.push(r.type + " " + r.status); }
    catch (e) { results.push("blocked"); }
  }
  document.title = "fetched: " + results.join(", ");
  document.getElementById("events").submit();
  setTimeout(() => document.getElementById("reset").submit(), 500);
})();
</script></body></html>"""


class _Access(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _serve_page(html: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    body = html.encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def test_a_page_on_another_origin_cannot_drive_the_emulator(browser):
    """Form posts (urlencoded and the text/plain JSON trick) and no-cors fetches from a page on
    another loopback port: the emulator refuses them all, and its state does not change."""
    from selenium.webdriver.support.ui import WebDriverWait

    receiver = FakeReceiver("moda")
    receiver.start()
    access = _Access()
    logger = logging.getLogger("hookmock.emulator.access")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(access)
    try:
        with running(allow_http_callbacks=True) as (emu, api):
            api.post("/v1/tasks", {"prompt": "keep me", "callback_url": receiver.url})
            clock_before = api.get("/_hookmock/clock")["now"]
            page = ATTACK_PAGE.replace("{{EMU}}", emu.base_url).replace("{{HOOK}}", receiver.url)
            server, url = _serve_page(page)
            try:
                browser.get(url)
                WebDriverWait(browser, 15).until(lambda d: d.current_url.startswith(emu.base_url))
                WebDriverWait(browser, 5).until(
                    lambda d: '"error"' in d.page_source or "reset" in d.page_source
                )
                landed = browser.page_source
            finally:
                server.shutdown()
                server.server_close()
            # the attacks reached the emulator and were refused (the form post landed on the refusal) ...
            assert "cross_site_request" in landed, landed[:500]
            refused = [line for line in access.lines if line.startswith('"POST') and line.endswith(" 403")]
            assert len(refused) >= 5, access.lines
            assert not any(line.startswith('"POST') and line.endswith(" 200") for line in access.lines)
            # ... and changed nothing: the task is there, the clock has not moved, no webhook was sent
            assert int(api.get("/_hookmock/ready")["tasks"]) == 1
            assert api.get("/_hookmock/clock")["now"] == clock_before
            assert receiver.requests == []
            api.advance(10)  # the task's own webhook, and nothing else
            assert receiver.wait_for(1)
            assert [json.loads(r.body)["type"] for r in receiver.requests] == ["task.succeeded"]
    finally:
        logger.removeHandler(access)
        logger.setLevel(old_level)
        receiver.stop()


# -- the console: filters, search, live updates, countdown, forms, copy-as-curl -----------------
def _wait(driver, predicate, timeout=10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: predicate(d))


def _shot(driver, name):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path)) and path.stat().st_size > 1000


_TABLE_JS = """return [...document.querySelectorAll('#deliveries tr[data-delivery-id]')].map(tr => ({
  id: tr.dataset.deliveryId, profile: tr.dataset.profile, fresh: tr.classList.contains('fresh'),
  name: tr.querySelector('.name').textContent, http: tr.querySelector('.http').textContent,
  attempts: tr.querySelector('.attempts').textContent, status: tr.querySelector('.status').textContent,
  when: tr.querySelector('.when') ? tr.querySelector('.when').textContent : '',
  flying: !!tr.querySelector('.when.flying')}))"""


def _table(driver):
    """The table's rows read in one script call (the live updates replace the row elements)."""
    return driver.execute_script(_TABLE_JS)


def _pending_seconds(driver):
    import re

    pending = [r for r in _table(driver) if r["status"].startswith("pending")]
    match = re.search(r"next attempt in (\d+) s", pending[0]["when"]) if len(pending) == 1 else None
    return int(match.group(1)) if match else None


def test_console_counts_down_then_shows_the_retry_arriving_live(browser):
    """Failed attempts: the row counts down to its retry on the emulator's clock; the
    retry's answer appears without a reload; filters and the id search narrow the table."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    token = get_profile("modio").generate_secret()
    modio = FakeReceiver("modio", token)
    modio.start()
    try:
        with stack("500,500,500,ok") as (emu, api, moda):
            api.put("/_hookmock/modio/games/g1/webhook", {"url": modio.url, "token": token})
            api.post("/_hookmock/modio/games/g1/events", {"event_name": "ADD_MOD_COMMENT"})
            api.post("/_hookmock/moda/events", {"event_type": "task.succeeded", "callback_url": moda.url})
            api.advance(7)  # attempts after 0, 1 and 5 s fail; the last retry is 30 s away
            browser.get(emu.base_url + "/_hookmock/ui")
            browser.execute_script("window.__kept = 42")  # gone if the page reloads
            first = _wait(browser, _pending_seconds)
            assert first > 3
            _shot(browser, "console-countdown.png")
            api.advance(3)  # the countdown follows the emulator's (virtual) clock
            _wait(browser, lambda d: _pending_seconds(d) == first - 3)

            api.advance(first)  # the retry is sent and answered 200

            def retried(d):
                rows = [r for r in _table(d) if r["profile"] == "moda"]
                return rows and rows[0]["attempts"] == "4" and rows[0]["http"] == "200" and rows[0]

            row = _wait(browser, retried)
            assert row["http"] == "200" and row["status"].startswith("succeeded")
            assert row["fresh"]  # highlighted as just changed
            assert browser.execute_script("return window.__kept") == 42  # no full reload
            _shot(browser, "console-live-retry.png")

            # filters (keyboard: choose, then Enter in a field submits the form)
            Select(browser.find_element(By.ID, "f-profile")).select_by_value("modio")
            browser.find_element(By.ID, "f-event_type").send_keys(Keys.ENTER)
            _wait(browser, lambda d: "profile=modio" in d.current_url)
            assert {r["profile"] for r in _table(browser)} == {"modio"}
            browser.get(emu.base_url + "/_hookmock/ui?status=succeeded&profile=moda")
            assert [r["name"] for r in _table(browser)] == ["task.succeeded"]
            # search by event id
            event_id = api.get("/v1/webhook_deliveries")["data"][0]["event_id"]
            browser.get(emu.base_url + "/_hookmock/ui")
            search = browser.find_element(By.ID, "f-q")
            search.send_keys(event_id, Keys.ENTER)
            _wait(browser, lambda d: "q=" in d.current_url)
            [found] = _table(browser)
            assert found["profile"] == "moda"
            # every form control has a label
            unlabeled = browser.execute_script(
                "return [...document.querySelectorAll('input:not([type=hidden]), select')]"
                ".filter(e => e.labels.length === 0).map(e => e.id || e.name)"
            )
            assert unlabeled == []
    finally:
        modio.stop()


def test_console_form_creates_a_task_and_copies_its_curl(browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    secret = get_profile("moda").generate_secret()
    receiver = FakeReceiver("moda", secret)
    receiver.start()
    try:
        with running(allow_http_callbacks=True, signing_secret=secret) as (emu, api):
            browser.get(emu.base_url + "/_hookmock/ui")
            prompt = browser.find_element(By.ID, "t-prompt")
            prompt.clear()
            prompt.send_keys("Poster from the page")
            Select(browser.find_element(By.ID, "t-outcome")).select_by_value("fail")
            browser.find_element(By.ID, "t-callback").send_keys(receiver.url)
            _shot(browser, "console-form.png")
            _submit(browser, browser.find_element(By.CSS_SELECTOR, "#task-form button[type=submit]"))
            [task] = api.get("/v1/tasks")["data"]
            assert task["input"]["prompt"].startswith("Poster from the page")
            api.advance(120)
            assert receiver.wait_for(1)
            [row] = _wait(browser, _table)  # arrives live
            assert row["name"] == "task.failed"
            browser.find_element(By.CSS_SELECTOR, "a.details").click()
            _wait(browser, lambda d: "/deliveries/" in d.current_url)
            headers = browser.find_element(By.CSS_SELECTOR, "#attempt-1 .request-headers").text
            sent = dict(receiver.requests[0].headers)
            assert sent["X-Webhook-Signature"] in headers
            browser.execute_cdp_cmd(
                "Browser.grantPermissions",
                {"origin": emu.base_url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
            )
            button = browser.find_element(By.CSS_SELECTOR, "button[data-copy=curl-1]")
            button.click()
            _wait(browser, lambda d: button.get_attribute("data-copied"))
            shown = browser.find_element(By.ID, "curl-1").text
            assert "$HOOKMOCK_MODA_SECRET" in shown and secret not in browser.page_source
            if button.get_attribute("data-copied") == "yes":
                copied = browser.execute_async_script(
                    "navigator.clipboard.readText().then(arguments[0], e => arguments[0]('!' + e))"
                )
                assert copied.strip() == shown.strip()
            _shot(browser, "console-details.png")
    finally:
        receiver.stop()


@pytest.mark.realtime
def test_console_shows_an_attempt_in_flight(browser):
    """Real time: the receiver holds its answer 2 s; meanwhile the row says the attempt is in flight."""

    secret = get_profile("moda").generate_secret()
    receiver = FakeReceiver("moda", secret)
    receiver.script("delay:2")
    receiver.start()
    try:
        with running(allow_http_callbacks=True, signing_secret=secret, clock="real") as (emu, api):
            browser.get(emu.base_url + "/_hookmock/ui")
            api.post("/_hookmock/moda/events", {"event_type": "task.succeeded", "callback_url": receiver.url})

            [row] = _wait(browser, lambda d: [r for r in _table(d) if r["flying"]], timeout=5)
            assert row["when"].startswith("attempt in flight")
            _shot(browser, "console-in-flight.png")
            _wait(browser, lambda d: [r for r in _table(d) if r["http"] == "200"], timeout=10)
    finally:
        receiver.stop()
