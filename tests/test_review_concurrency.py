"""Two reviewers on a real `callqa serve` at once: every decision is kept, the score follows the last ones."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.parse
import urllib.request

from callqa.reports.db import open_db
from review_fixtures import ServerProcess, build_batch, finding_fingerprints

ROUNDS = 6


class Reviewer:
    def __init__(self, base: str, name: str):
        self.base = base
        self.name = name
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def decide(self, call_id: str, decision: str, fingerprint: str, comment: str) -> int:
        page = self.http.open(f"{self.base}/calls/{call_id}", timeout=30).read().decode()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrf_token": csrf, "decision": decision, "fingerprint": fingerprint,
                                       "reviewer": self.name, "comment": comment}).encode()
        return self.http.open(f"{self.base}/calls/{call_id}/decisions", data=form, timeout=60).status


def test_two_reviewers_at_once_keep_every_decision(tmp_path):
    batch = build_batch(tmp_path / "batch")
    fps = list(finding_fingerprints(batch.db, "call-001").values())
    errors: list[BaseException] = []

    def work(reviewer: Reviewer, mine: list[str]):
        try:
            for round_ in range(ROUNDS):
                for fp in mine:
                    # alternate, ending on dismiss: the last decision is the one in force
                    decision = "dismiss" if round_ % 2 == 1 else "confirm"
                    assert reviewer.decide("call-001", decision, fp, f"{reviewer.name} {round_}") == 200
        except BaseException as e:  # re-raised below: an assert in a thread is otherwise lost
            errors.append(e)

    with ServerProcess(batch.out_dir) as server:
        threads = [threading.Thread(target=work, args=(Reviewer(server.url, "甲"), fps[0::2])),
                   threading.Thread(target=work, args=(Reviewer(server.url, "乙"), fps[1::2]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors

    conn = open_db(batch.db)
    rows = conn.execute("SELECT reviewer, fingerprint, comment FROM decisions ORDER BY id").fetchall()
    assert len(rows) == ROUNDS * len(fps)  # nothing lost, nothing overwritten
    for name, mine in (("甲", fps[0::2]), ("乙", fps[1::2])):
        theirs = [r for r in rows if r["reviewer"] == name]
        assert sorted({r["fingerprint"] for r in theirs}) == sorted(mine)
        assert [r["comment"] for r in theirs if r["fingerprint"] == mine[0]] == [f"{name} {i}" for i in range(ROUNDS)]
    # every finding ends dismissed: all deductions given back
    assert conn.execute("SELECT score FROM calls WHERE call_id = 'call-001'").fetchone()["score"] == 100
