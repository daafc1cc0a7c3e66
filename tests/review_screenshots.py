"""Screenshots of the review app for the README: the dashboard and a call page.

    .venv/bin/python tests/review_screenshots.py [TARGET] [--out docs/screenshots] [--call CALL_ID]

Serves TARGET (a scored batch or a database; without it, the tests' fixture
batch) with `callqa serve`, opens it in Debian's Chromium and writes
dashboard.png and call.png. The call shown is the worst flagged one unless
--call names another.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from review_fixtures import ServerProcess, build_batch
from test_review_browser import CHROMIUM, CHROMIUM_ARGS


def take(target: Path, out_dir: Path, call_id: str | None = None, width: int = 1360) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    shots = []
    with ServerProcess(target, "--reviewer", "王主管") as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(server.url + "/")
        shots.append(out_dir / "dashboard.png")
        page.screenshot(path=shots[-1], full_page=True)
        if call_id is None:
            page.goto(server.url + "/queue")
            links = page.locator("td.score:not(:text('—')) ~ td a.call-link")
            call_id = (links.first if links.count() else page.locator("a.call-link").first).inner_text()
        page.goto(f"{server.url}/calls/{call_id}")
        if page.locator("#player").count():
            page.wait_for_function("document.getElementById('player').readyState >= 1")
        finding = page.locator("article.finding").first
        if finding.count():
            finding.locator("button.seek").click()  # show a finding in focus, as a reviewer would
            page.wait_for_timeout(300)
            page.evaluate("window.scrollTo(0, 0)")
        shots.append(out_dir / "call.png")
        page.set_viewport_size({"width": width, "height": 1400})  # the top of a long page: header, transcript
        page.screenshot(path=shots[-1])
        browser.close()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", nargs="?", type=Path, help="scored batch directory or callqa.sqlite")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="where the PNGs go")
    parser.add_argument("--call", help="call id to show (default: the worst flagged call)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        target = args.target or build_batch(Path(tmp) / "batch").out_dir
        for shot in take(target, args.out, args.call):
            print(shot)


if __name__ == "__main__":
    main()
