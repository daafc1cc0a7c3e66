"""A supervisor's working day in a real Chromium (Debian's, through Playwright) against `callqa serve`:
keyboard shortcuts, reasons, the queue over 500 calls, drill-down, an agent page, an appeal, a sample and
its agreement report, needs listening, the timeline, and a 390 px phone screen.

Skipped only on a developer machine without Chromium; in CI it must run (see test_review_browser.py).
"""

from __future__ import annotations

import csv
import io
import os

import pytest
from review_fixtures import ServerProcess, build_batch, build_big_batch, finding_fingerprints
from test_review_browser import CHROMIUM, browser  # noqa: F401 - the module's Chromium fixture

from callqa.reports.db import open_db

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                       reason="Chromium not installed (scripts/install-test-tools.sh installs it)"),
]

TOKEN = "a-long-enough-token-0123"


def _time(page) -> float:
    return page.evaluate("() => document.getElementById('player').currentTime")


def _new_page(browser, width=1360, height=900):  # noqa: F811
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(15_000)
    return page


def _wait_score(page, score: str) -> None:
    page.wait_for_function("s => document.getElementById('review-score').textContent === s", arg=score)


def _ready(page) -> None:
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")


@pytest.fixture(scope="module")
def big_server(tmp_path_factory):
    db = build_big_batch(tmp_path_factory.mktemp("big") / "batch")
    with ServerProcess(db.parent) as server:
        yield server


def test_keyboard_shortcuts_decide_and_play(browser, tmp_path):  # noqa: F811
    batch = build_batch(tmp_path / "batch")
    page = _new_page(browser)
    with ServerProcess(batch.out_dir) as server:
        page.goto(server.url + "/calls/call-001")
        _ready(page)
        page.fill("#reviewer-name", "王主管")
        page.click("h1")  # out of the name field: keys act on the page
        page.keyboard.press("j")  # the first finding to decide: 不知道 at 5.5 s
        page.wait_for_selector(".finding.focus[data-decide]")
        page.wait_for_function("() => document.getElementById('player').currentTime >= 5.4")
        first = page.locator(".finding.focus").get_attribute("id")
        page.keyboard.press("c")
        page.wait_for_selector(f"#{first}.state-confirm")
        assert page.inner_text("#review-score") == "65"
        page.keyboard.press("j")
        second = page.locator(".finding.focus").get_attribute("id")
        assert second != first
        page.keyboard.press("d")
        page.wait_for_selector(f"#{second} .dismiss-box[open]")
        page.keyboard.press("1")  # 识别错误
        _wait_score(page, "75")
        assert "state-dismiss" in page.get_attribute(f"#{second}", "class")
        page.keyboard.press("k")
        assert page.locator(".finding.focus").get_attribute("id") == first
        page.click("h1")
        paused = page.evaluate("() => document.getElementById('player').paused")
        page.keyboard.press(" ")
        page.wait_for_function("p => document.getElementById('player').paused !== p", arg=paused)
        page.keyboard.press(" ")
        page.wait_for_function("p => document.getElementById('player').paused === p", arg=paused)
    conn = open_db(batch.db)
    rows = conn.execute("SELECT decision, reason FROM decisions ORDER BY id").fetchall()
    assert [(r["decision"], r["reason"]) for r in rows] == [("confirm", None), ("dismiss", "asr_error")]
    page.close()


def test_a_dismissal_without_a_reason_is_not_sent(browser, tmp_path):  # noqa: F811
    batch = build_batch(tmp_path / "batch")
    fp = finding_fingerprints(batch.db, "call-001")["不行"]
    page = _new_page(browser)
    with ServerProcess(batch.out_dir) as server:
        page.goto(server.url + "/calls/call-001")
        page.fill("#reviewer-name", "王主管")
        card = page.locator(f"#f-{fp}")
        card.locator("summary.dismiss").click()
        card.locator("button.dismiss[value=dismiss]").click()
        message = card.locator("input[name=reason]").first.evaluate("el => el.validationMessage")
        assert "理由" in message
        page.wait_for_timeout(300)
        assert page.inner_text("#review-score") == "65" and "state-open" in card.get_attribute("class")
        card.locator("input[name=reason][value=rule_too_strict]").check()
        card.locator("button.dismiss[value=dismiss]").click()
        _wait_score(page, "75")
    assert open_db(batch.db).execute("SELECT reason FROM decisions").fetchone()["reason"] == "rule_too_strict"
    page.close()


def test_the_queue_sorts_and_pages_500_calls(browser, big_server):  # noqa: F811
    page = _new_page(browser)
    page.goto(big_server.url + "/queue?show=all")
    assert page.inner_text("#queue-count") == "1–50 / 500"
    assert page.locator("a.call-link").count() == 50
    page.click("a.sort[data-sort=score]")  # already by score, worst first: now best first
    page.wait_for_url("**order=desc**")
    scores = [float(s) for s in page.locator("#queue td.score").all_inner_texts()]
    assert scores[0] == 100 and scores == sorted(scores, reverse=True)
    page.click("#page-next")
    page.wait_for_url("**page=2**")
    assert page.inner_text("#queue-count") == "51–100 / 500"
    page.select_option("select[name=per_page]", "200")
    page.click("#queue-filters button.primary")
    page.wait_for_url("**per_page=200**")
    assert page.locator("a.call-link").count() == 200 and page.inner_text("#page-of") == "1 / 3"
    page.click("a.sort[data-sort=call]")
    page.wait_for_url("**sort=call**")
    assert page.locator("a.call-link").first.inner_text() == "gen-0000"
    page.close()


def test_the_queue_filters_by_recording_date(browser, big_server):  # noqa: F811
    page = _new_page(browser)
    page.goto(big_server.url + "/queue?show=all")
    page.fill("#date-from", "2026-01-05")
    page.fill("#date-to", "2026-01-05")
    page.click("#queue-filters button.primary")
    page.wait_for_url("**date_from=2026-01-05**")
    dates = page.locator("#queue td.recorded").all_inner_texts()
    assert len(dates) == 18 and all(d.startswith("2026年1月5日 09:00") for d in dates)
    page.close()


def test_dashboard_bars_and_numbers_drill_down(browser, big_server):  # noqa: F811
    page = _new_page(browser)
    page.goto(big_server.url + "/")
    page.click('a.drill[href*="score_min=90"]')
    page.wait_for_url("**/queue?**score_min=90**")
    scores = [float(s) for s in page.locator("#queue td.score").all_inner_texts()]
    assert scores and all(s >= 90 for s in scores)
    page.goto(big_server.url + "/")
    page.click('a.drill[href*="check=closing"] >> nth=0')
    page.wait_for_url("**check=closing**")
    assert all(int(c[-4:]) % 3 == 0 for c in page.locator("a.call-link").all_inner_texts())
    page.goto(big_server.url + "/")
    flagged = page.inner_text("#stat-flagged b")
    page.click("#stat-flagged")
    page.wait_for_url("**/queue")
    assert page.inner_text("#queue-count").endswith(f"/ {flagged}")
    page.close()


def test_an_agent_page_with_its_trend_chart(browser, big_server):  # noqa: F811
    page = _new_page(browser)
    page.goto(big_server.url + "/")
    page.click("a.agent-link >> text=B01")
    page.wait_for_url("**/agents/B01")
    assert page.locator("#trend-chart svg polyline").count() == 1
    assert page.locator("#trend-chart svg circle").count() == 3  # three batches
    assert page.locator("#rates-chart svg polyline").count() >= 2
    assert page.locator("#agent-batches tbody tr").count() == 3
    page.close()


def _sign_in(browser, url, name, role):  # noqa: F811
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(url + "/login")
    page.fill("input[name=token]", TOKEN)
    page.fill("input[name=name]", name)
    page.select_option("select[name=role]", role)
    page.click("button.primary")
    page.wait_for_url("**/")
    return context, page


def test_an_appeal_overturned_by_a_second_reviewer(browser, tmp_path):  # noqa: F811
    batch = build_batch(tmp_path / "batch")
    fp = finding_fingerprints(batch.db, "call-001")["不可以"]
    with ServerProcess(batch.out_dir, "--token", TOKEN) as server:
        first_ctx, first = _sign_in(browser, server.url, "甲", "reviewer")
        first.goto(server.url + "/calls/call-001")
        first.click(f"#f-{fp} button.confirm[value=confirm]")
        first.wait_for_selector(f"#f-{fp}.state-confirm")

        agent_ctx, agent = _sign_in(browser, server.url, "张伟", "agent")
        agent.goto(server.url + "/calls/call-001")
        assert agent.locator(f"#f-{fp} button.confirm").count() == 0  # an agent appeals, never decides
        agent.click(f"#f-{fp} .appeal-box summary")
        agent.fill(f"#f-{fp} textarea[name=reason]", "我说的是“不可以吗”，是在问客户")
        agent.click(f"#f-{fp} .appeal-form button.primary")
        agent.wait_for_selector(f"#f-{fp} .appeal.open")

        first.goto(server.url + "/appeals")
        first.click(f"a[href*='#f-{fp}']")
        first.click(f"#f-{fp} .ruling-form button[value=overturned]")
        assert "另一位复核人" in first.inner_text("main")  # the reviewer who confirmed it can't rule
        first.goto(server.url + "/calls/call-001")
        assert first.inner_text("#review-score") == "65"

        second_ctx, second = _sign_in(browser, server.url, "乙", "reviewer")
        second.goto(server.url + "/calls/call-001")
        second.fill(f"#f-{fp} .ruling-form input[name=comment]", "录音里是疑问句")
        second.click(f"#f-{fp} .ruling-form button[value=overturned]")
        second.wait_for_selector(f"#f-{fp} .appeal.overturned")
        assert second.inner_text("#review-score") == "75"
        assert second.locator(f"#f-{fp} .ruling-form").count() == 0  # final
        appeals = list(csv.DictReader(io.StringIO(second.request.get(server.url + "/export/appeals.csv")
                                                  .body().decode("utf-8-sig"))))
        assert [(a["confirmed_by"], a["raised_by"], a["ruling"], a["ruled_by"]) for a in appeals] == \
            [("甲", "张伟", "overturned", "乙")]
        history = second.inner_text("#history")
        assert "appeal #1" in history and "甲" in history and "乙" in history and "申诉改判" in history
        for ctx in (first_ctx, agent_ctx, second_ctx):
            ctx.close()
    agents = list(csv.DictReader(io.StringIO((batch.out_dir / "agents.csv").read_text(encoding="utf-8-sig"))))
    assert float(next(r for r in agents if r["agent_id"] == "A01")["mean_score"]) == 85.0  # (75 + 95) / 2


def test_a_sample_drawn_and_an_agreement_report(browser, tmp_path):  # noqa: F811
    batch = build_batch(tmp_path / "batch")
    fp = finding_fingerprints(batch.db, "call-001")["不知道"]
    page = _new_page(browser)
    with ServerProcess(batch.out_dir) as server:
        page.goto(server.url + "/calibration")
        page.fill("#reviewer-name", "甲")
        page.fill("#sample-form input[name=per_agent]", "5")
        page.fill("#sample-form input[name=seed]", "3")
        page.click("#sample-form button.primary")
        page.wait_for_url("**show=sampled**")
        assert sorted(page.locator("a.call-link").all_inner_texts()) == ["call-001", "call-002", "call-003"]
        page.click("a.call-link >> text=call-001")
        page.wait_for_url("**/calls/call-001")
        page.click(f"#f-{fp} button.confirm[value=confirm]")
        page.wait_for_selector(f"#f-{fp}.state-confirm")
        page.fill("#reviewer-name", "乙")
        page.click(f"#f-{fp} summary.dismiss")
        page.check(f"#f-{fp} input[name=reason][value=customer_said]")
        page.click(f"#f-{fp} button.dismiss[value=dismiss]")
        _wait_score(page, "75")
        page.goto(server.url + "/calibration")
        row = page.locator("#agreement tr[data-check=banned_phrases]")
        assert row.locator(".agreement").inner_text() == "0%" and row.locator(".kappa").inner_text() == "0.00"
        report = page.request.get(server.url + "/export/agreement.csv").body().decode("utf-8-sig")
        banned = next(r for r in csv.DictReader(io.StringIO(report)) if r["check_id"] == "banned_phrases")
        assert (banned["items"], banned["agreed"], banned["kappa"]) == ("1", "0", "0.0")
    page.close()


def test_needs_listening_filter_and_a_confirmation_settles_it(browser, tmp_path):  # noqa: F811
    batch = build_batch(tmp_path / "batch", listening=True)
    fp = finding_fingerprints(batch.db, "call-005")["没办法"]
    page = _new_page(browser)
    with ServerProcess(batch.out_dir) as server:
        page.goto(server.url + "/queue")
        page.check("#filter-listening")
        page.click("#queue-filters button.primary")
        page.wait_for_url("**listening=1**")
        assert page.locator("a.call-link").all_inner_texts() == ["call-005"]
        page.click("a.call-link")
        page.wait_for_url("**/calls/call-005")
        card = page.locator(f"#f-{fp}")
        assert "需要人工听" in card.inner_text() and card.get_attribute("data-listen") == "1"
        assert "对照音频核实为" in page.inner_text("#check-employee_id .verification")
        page.fill("#reviewer-name", "王主管")
        card.locator("button.confirm[value=confirm]").click()
        _wait_score(page, "85")
        assert "不通过" in page.inner_text("#check-banned_phrases .verdict-now")
        assert page.inner_text("#check-banned_phrases .deduction") == "−10"
    page.close()


def test_the_timeline_seeks_the_audio(browser, tmp_path):  # noqa: F811
    batch = build_batch(tmp_path / "batch", listening=True)
    page = _new_page(browser)
    with ServerProcess(batch.out_dir) as server:
        page.goto(server.url + "/calls/call-005")
        _ready(page)
        page.click("svg.timeline rect.utt-bar[data-utterance='4']")  # the agent's goodbye at 10.5 s
        page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 10.5) < 0.6")
        page.click("svg.timeline rect.band.dead-air")  # the dead air from 8.0 s
        page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 8.0) < 0.6")
        assert page.locator(".finding.focus[data-check=silence]").count() == 1
    page.close()


def test_a_390_px_screen_never_scrolls_sideways(browser, tmp_path):  # noqa: F811
    batch = build_batch(tmp_path / "batch", listening=True)
    page = _new_page(browser, width=390, height=844)
    with ServerProcess(batch.out_dir) as server:
        for path in ("/", "/queue?show=all", "/calls/call-001", "/calls/call-005", "/agents/A01", "/calibration",
                     "/appeals"):
            page.goto(server.url + path)
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], (path, width)
    page.close()
