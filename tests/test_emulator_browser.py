"""The history page in a real headless browser (Debian's chromium + chromedriver, via selenium)."""

from __future__ import annotations

import json
import shutil
import tempfile
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


def _rows(driver, table):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, f"#{table} tr[data-delivery-id]")


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
            headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#modio-deliveries th")]
            assert headers[:6] == ["Date", "Name", "HTTP status", "Response", "Duration", "Attempts"]
            [moda_row] = _rows(browser, "moda-deliveries")
            assert moda_row.find_element(By.CSS_SELECTOR, ".name").text == "task.succeeded"
            assert moda_row.find_element(By.CSS_SELECTOR, ".attempts").text == "3"
            [modio_row] = _rows(browser, "modio-deliveries")
            assert modio_row.find_element(By.CSS_SELECTOR, ".http").text == "500"
            assert modio_row.find_element(By.CSS_SELECTOR, ".attempts").text == "1"

            # Retry re-sends the same entry; the new attempt appears
            _submit(browser, modio_row.find_element(By.CSS_SELECTOR, "button.retry"))
            api.advance(1)
            browser.get(emu.base_url + "/_hookmock/ui")
            [modio_row] = _rows(browser, "modio-deliveries")
            assert modio_row.find_element(By.CSS_SELECTOR, ".attempts").text == "2"
            assert modio_row.find_element(By.CSS_SELECTOR, ".http").text == "200"
            assert len(modio.requests) == 2

            # Redeliver on the Moda side makes a new row
            _submit(
                browser, _rows(browser, "moda-deliveries")[0].find_element(By.CSS_SELECTOR, "button.retry")
            )
            api.advance(1)
            browser.get(emu.base_url + "/_hookmock/ui")
            assert len(_rows(browser, "moda-deliveries")) == 2

            # Test sends a PING
            _submit(browser, browser.find_element(By.CSS_SELECTOR, "button.test"))
            api.advance(1)
            assert json.loads(modio.requests[-1].body)["event"] == "PING"
            browser.get(emu.base_url + "/_hookmock/ui")
            names = [
                r.find_element(By.CSS_SELECTOR, ".name").text for r in _rows(browser, "modio-deliveries")
            ]
            assert names[0] == "PING"

            # details: payload and attempt timeline
            moda_id = _rows(browser, "moda-deliveries")[-1].get_attribute("data-delivery-id")
            browser.get(emu.base_url + f"/_hookmock/ui/deliveries/{moda_id}")
            timeline = browser.find_elements(By.CSS_SELECTOR, "#timeline tr")[1:]
            assert [t.find_elements(By.TAG_NAME, "td")[4].text for t in timeline] == ["500", "500", "200"]
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
        assert "No deliveries yet." in browser.find_element(By.ID, "moda-deliveries").text
