"""End to end in a real browser: Debian's Chromium driven by Playwright against `callqa serve`.

Skipped only on a developer machine without Chromium; in CI (CI set) it must run
(scripts/install-test-tools.sh installs Chromium; never `playwright install`).
"""

from __future__ import annotations

import os
import shutil

import pytest
from review_fixtures import ServerProcess, build_batch, finding_fingerprints

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                       reason="Chromium not installed (scripts/install-test-tools.sh installs it)"),
]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("CI is set but Chromium is missing: run scripts/install-test-tools.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _current_time(page) -> float:
    return page.evaluate("document.getElementById('player').currentTime")


def test_review_a_call_end_to_end(browser, tmp_path):
    batch = build_batch(tmp_path / "batch")
    fingerprint = finding_fingerprints(batch.db, "call-001")["不知道"]
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    page.set_default_timeout(15_000)

    with ServerProcess(batch.out_dir) as server:
        # the queue, worst first; open the worst scored call
        page.goto(server.url + "/queue")
        links = page.locator("a.call-link")
        assert links.all_inner_texts() == ["call-004", "call-001", "call-003"]
        page.click("a.call-link >> text=call-001")
        page.wait_for_url("**/calls/call-001")
        assert page.inner_text("#review-score") == "65"
        page.wait_for_function("document.getElementById('player').readyState >= 1")
        assert _current_time(page) == 0

        # clicking a finding seeks the recording to its evidence (the third banned phrase, at 9.5 s)
        page.click("article.finding:has-text('不可以') button.seek")
        page.wait_for_function("document.getElementById('player').currentTime >= 9.4")
        assert 9.4 <= _current_time(page) <= 12.0
        # and so does clicking an utterance (the customer's at 3.0 s)
        page.click("#u-1 .utt-meta")
        page.wait_for_function("t => Math.abs(document.getElementById('player').currentTime - 3.0) < 1.5", arg=None)
        assert 3.0 <= _current_time(page) < 4.5
        assert page.locator("mark.hit", has_text="不知道").count() == 1

        # dismiss a finding as a false hit, in place: the score changes at once, the page does not reload,
        # the recording stays where it was and the dismissed words are no longer marked
        page.fill("#reviewer-name", "王主管")
        page.evaluate("document.getElementById('player').pause()")
        before = _current_time(page)
        page.evaluate("window.__same_page = true")
        card = page.locator(f"#f-{fingerprint}")
        card.locator("summary.dismiss").click()
        card.locator("input[name=comment]").fill("客户问的是政策")
        card.locator("input[name=reason][value=customer_said]").check()
        card.locator("button.dismiss[value=dismiss]").click()
        page.wait_for_function("() => document.getElementById('review-score').textContent === '75'")
        assert page.evaluate("window.__same_page") is True
        assert abs(_current_time(page) - before) < 0.5
        assert page.inner_text("#machine-score") == "65" and page.inner_text("#player-score") == "75"
        assert "75" in card.locator(".score-after").inner_text()
        assert "state-dismiss" in (card.get_attribute("class") or "")
        assert "off" in (page.locator("mark.hit", has_text="不知道").get_attribute("class") or "")
        # marking the call reviewed with findings still open asks first
        page.click("#mark-reviewed")
        page.wait_for_selector("#open-warning:not([hidden])")
        assert "3" in page.inner_text("#open-warning-text")
        page.click("#mark-anyway")
        page.wait_for_selector("#reviewed-badge")
        assert "王主管" in page.inner_text("#reviewed-badge")
        assert "王主管" in page.inner_text("#history") and "客户所说" in page.inner_text("#history")

    # the stopped server left agents.csv with the reviewed score: A01's mean is (75 + 95) / 2
    agents = (batch.out_dir / "agents.csv").read_text(encoding="utf-8-sig").splitlines()
    assert next(line for line in agents if line.startswith("A01,")).split(",")[4] == "85.0"

    # a new server process over the same database still shows the decision
    with ServerProcess(batch.out_dir) as restarted:
        page.goto(restarted.url + "/calls/call-001")
        assert page.inner_text("#review-score") == "75"
        history = page.inner_text("#history")
        assert "王主管" in history and "dismiss" in history and "客户问的是政策" in history
        assert "state-dismiss" in (page.get_attribute(f"#f-{fingerprint}", "class") or "")
        assert "王主管" in page.inner_text("#reviewed-badge")
        # the dashboard reflects it too: A01's mean is now (75 + 95) / 2
        page.goto(restarted.url + "/")
        assert "85" in page.inner_text("#agents tr:has-text('A01')")
    page.close()


def test_token_login_in_the_browser(browser, tmp_path):
    batch = build_batch(tmp_path / "batch")
    page = browser.new_page()
    with ServerProcess(batch.out_dir, "--token", "open-sesame-0123456789") as server:
        page.goto(server.url + "/queue")
        assert "/login" in page.url
        page.fill("input[name=token]", "wrong")
        page.click("button.primary")
        assert "Wrong token" in page.inner_text("main")
        page.fill("input[name=token]", "open-sesame-0123456789")
        page.click("button.primary")
        page.wait_for_url("**/queue")
        assert page.locator("a.call-link").count() == 3
    page.close()
