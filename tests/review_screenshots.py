"""Screenshots of the review app for the README: dashboard, call page, agent page, agreement report.

    .venv/bin/python tests/review_screenshots.py [TARGET] [--out docs/screenshots] [--call CALL_ID] [--agent ID]

Serves TARGET (a scored batch or a database) with `callqa serve`, opens it in
Debian's Chromium and writes dashboard.png, call.png, agent.png and
agreement.png. Without TARGET it makes the tests' fixture batch with a day's
work in it (a sample, two reviewers' decisions, an appeal) and, for the agent
page, the generated batch of 500 calls over three scoring runs; a TARGET given
is only read. The call shown is the worst flagged one unless --call names another.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from review_fixtures import ServerProcess, build_batch, build_big_batch, finding_fingerprints
from test_review_browser import CHROMIUM, CHROMIUM_ARGS

from callqa.reports.db import open_db, record_decision
from callqa.review.appeals import raise_appeal
from callqa.review.sampling import draw_sample


def _a_day_of_work(db: Path) -> None:
    """Decisions as a review team leaves them: a sample, two reviewers on the same findings, an appeal."""
    fps = finding_fingerprints(db, "call-001")
    conn = open_db(db)
    try:
        draw_sample(conn, 5, seed=1, drawn_by="王主管")
        for reviewer, decisions in (("甲", ("confirm", "confirm", "confirm")), ("乙", ("dismiss", "confirm", "confirm"))):
            for (phrase, decision) in zip(("不知道", "不行", "不可以"), decisions):
                record_decision(conn, "call-001", decision, reviewer, fingerprint=fps[phrase],
                                reason="customer_said" if decision == "dismiss" else None)
        record_decision(conn, "call-001", "confirm", "甲", fingerprint=fps["closing"])
        raise_appeal(conn, "call-001", fps["不可以"], "张伟", "agent", "我说的是“不可以吗”，是在问客户")
        record_decision(conn, "call-003", "reviewed", "甲")
        record_decision(conn, "call-002", "reviewed", "甲")
    finally:
        conn.close()


def _shoot(page, url: str, path: Path, height: int | None = None) -> Path:
    page.goto(url)
    if height:
        page.set_viewport_size({"width": page.viewport_size["width"], "height": height})
        page.screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)
    return path


def take(target: Path, out_dir: Path, call_id: str | None = None, agents_target: Path | None = None,
         agent_id: str | None = None, width: int = 1360) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    shots = []
    with ServerProcess(target, "--reviewer", "王主管") as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        shots.append(_shoot(page, server.url + "/", out_dir / "dashboard.png"))
        if call_id is None:
            page.goto(server.url + "/queue")
            links = page.locator("td.score:not(:text('—')) ~ td a.call-link")
            call_id = (links.first if links.count() else page.locator("a.call-link").first).inner_text()
        page.goto(f"{server.url}/calls/{call_id}")
        if page.locator("#player").count():
            page.wait_for_function("() => document.getElementById('player').readyState >= 1")
        finding = page.locator("article.finding[data-decide]").first
        if finding.count():
            finding.locator("button.seek").click()  # show a finding in focus, as a reviewer would
            page.wait_for_timeout(400)
            page.evaluate("() => { document.getElementById('player').pause(); window.scrollTo(0, 0); }")
        page.set_viewport_size({"width": width, "height": 1500})  # the top of a long page
        shots.append(out_dir / "call.png")
        page.screenshot(path=shots[-1])
        page.set_viewport_size({"width": width, "height": 900})
        shots.append(_shoot(page, server.url + "/calibration", out_dir / "agreement.png"))
        with ServerProcess(agents_target or target) as agents:
            if agent_id is None:
                page.goto(agents.url + "/")
                agent_id = page.locator("a.agent-link").first.inner_text()
            shots.append(_shoot(page, f"{agents.url}/agents/{agent_id}", out_dir / "agent.png", height=1100))
        browser.close()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", nargs="?", type=Path, help="scored batch directory or callqa.sqlite")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="where the PNGs go")
    parser.add_argument("--call", help="call id to show (default: the worst flagged call)")
    parser.add_argument("--agent", help="agent id for agent.png (default: the first)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.target:
            shots = take(args.target, args.out, args.call, agent_id=args.agent)
        else:
            batch = build_batch(Path(tmp) / "batch", listening=True)
            _a_day_of_work(batch.db)
            big = build_big_batch(Path(tmp) / "generated").parent
            shots = take(batch.out_dir, args.out, args.call or "call-001", big, args.agent or "B01")
        for shot in shots:
            print(shot)


if __name__ == "__main__":
    main()
