"""The review app over a fixture batch, through Flask's test client: pages, audio, decisions, exports."""

from __future__ import annotations

import csv
import io
import re
import threading

import pytest
from review_fixtures import BANK_CARD, ID_CARD, PHONE, _rude_call, build_batch, finding_fingerprints

from callqa.reports.db import open_db, save_calls
from callqa.review import create_app


@pytest.fixture()
def batch(tmp_path):
    return build_batch(tmp_path / "batch")


@pytest.fixture()
def client(batch):
    return create_app(batch.out_dir).test_client()


def csrf(client, path="/calls/call-001") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def decide(client, call_id, decision, fingerprint=None, reviewer="王主管", comment="", reason="asr_error"):
    data = {"csrf_token": csrf(client, f"/calls/{call_id}"), "decision": decision, "reviewer": reviewer,
            "comment": comment}
    if decision == "dismiss":
        data["reason"] = reason  # a dismissal needs a reason
    if fingerprint:
        data["fingerprint"] = fingerprint
    return client.post(f"/calls/{call_id}/decisions", data=data, follow_redirects=True)


def score_in(page: str, element_id: str) -> str:
    return re.search(rf'id="{element_id}">([^<]+)<', page).group(1)


def test_dashboard_shows_agents_check_rates_and_a_score_chart(client):
    page = client.get("/").get_data(as_text=True)
    assert "<svg" in page and "Scores of all scored calls" in page
    agents = page[page.index('id="agents"'):]
    assert "A01" in agents and "张伟" in agents and "A02" in agents
    # A01: call-001 (65) and call-003 (95): mean 80, two flagged, banned_phrases passed in 1 of 2 calls
    row = agents[agents.index("A01"):agents.index("A02")]
    assert ">80<" in row and ">65<" in row and "50%" in row


def test_queue_lists_flagged_calls_worst_first_and_filters(client):
    page = client.get("/queue").get_data(as_text=True)
    ids = re.findall(r'class="call-link" href="/calls/([^"]+)"', page)
    assert ids == ["call-004", "call-001", "call-003"]  # unscored first, then by score; call-002 not flagged
    by_agent = client.get("/queue?agent=A02").get_data(as_text=True)
    assert re.findall(r'class="call-link" href="/calls/([^"]+)"', by_agent) == ["call-004"]
    by_check = client.get("/queue?check=employee_id").get_data(as_text=True)
    assert re.findall(r'class="call-link" href="/calls/([^"]+)"', by_check) == ["call-003"]
    search = client.get("/queue?q=太差了").get_data(as_text=True)
    assert re.findall(r'class="call-link" href="/calls/([^"]+)"', search) == ["call-001"]
    everything = client.get("/queue?show=all&q=快递").get_data(as_text=True)
    assert re.findall(r'class="call-link" href="/calls/([^"]+)"', everything) == ["call-002"]


def test_call_page_marks_findings_in_the_transcript(client):
    page = client.get("/calls/call-001").get_data(as_text=True)
    fps = finding_fingerprints_from_page(page)
    assert len(fps) == 5  # three banned phrases, the closing, the sentiment
    # the banned phrases are marked inside the agent's utterance, linked to their finding cards
    found = re.findall(r'<mark class="hit" data-findings="([^"]+)">([^<]+)</mark>', page)
    marks = {text: ids for ids, text in found}
    assert "不知道" in marks and "不行" in marks
    assert marks["不知道"] != marks["不行"]
    assert 'data-seek="5.5"' in page  # utterance and finding seek targets
    assert 'id="machine-score">65<' in page
    # the sentiment check's per-utterance label shows on the customer's angry utterance only
    customer = page[page.index('id="u-1"'):page.index('id="u-2"')]
    assert "mood-negative" in customer and page.count("mood-negative") == 1


def finding_fingerprints_from_page(page: str) -> list[str]:
    return re.findall(r'<article class="finding[^"]*" id="f-([0-9a-f-]+)"', page)


def test_personal_numbers_are_masked_unless_no_mask(batch):
    masked = create_app(batch.out_dir).test_client().get("/calls/call-001").get_data(as_text=True)
    assert PHONE not in masked and ID_CARD not in masked and BANK_CARD not in masked
    assert "138****5678" in masked and "工号8023" in masked  # employee IDs stay readable
    clear = create_app(batch.out_dir, mask=False).test_client().get("/calls/call-001").get_data(as_text=True)
    assert PHONE in clear and ID_CARD in clear and BANK_CARD in clear


def test_audio_is_served_with_range_support(client, batch):
    whole = client.get("/calls/call-001/audio")
    assert whole.status_code == 200 and whole.mimetype == "audio/wav"
    assert whole.data == batch.audio.read_bytes()
    part = client.get("/calls/call-001/audio", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == batch.audio.read_bytes()[100:200]
    assert client.get("/calls/call-004/audio").status_code == 404  # no recording for this call


def test_dismissing_a_finding_gives_its_points_back_and_is_audited(client, batch):
    fps = finding_fingerprints(batch.db, "call-001")
    page = decide(client, "call-001", "dismiss", fps["不知道"], comment="客户问的是政策，不算").get_data(as_text=True)
    assert score_in(page, "machine-score") == "65" and score_in(page, "review-score") == "75"
    history = page[page.index('id="history"'):]
    assert "王主管" in history and "dismiss" in history and "客户问的是政策，不算" in history
    page = decide(client, "call-001", "confirm", fps["不可以"], comment=f"客户留了电话{PHONE}").get_data(as_text=True)
    assert PHONE not in page and "客户留了电话138****5678" in page  # comments are masked too
    # confirm another one: score unchanged; then dismiss it too: +10
    page = decide(client, "call-001", "confirm", fps["不行"]).get_data(as_text=True)
    assert score_in(page, "review-score") == "75"
    page = decide(client, "call-001", "dismiss", fps["不行"]).get_data(as_text=True)
    assert score_in(page, "review-score") == "85"
    conn = open_db(batch.db)
    rows = conn.execute("SELECT decision, reviewer FROM decisions WHERE call_id='call-001' ORDER BY id").fetchall()
    assert [r["decision"] for r in rows] == ["dismiss", "confirm", "confirm", "dismiss"]  # append-only audit trail
    assert conn.execute("SELECT score FROM calls WHERE call_id='call-001'").fetchone()["score"] == 85


def test_decisions_show_in_agents_csv_and_the_reviewed_export(client, batch):
    fps = finding_fingerprints(batch.db, "call-001")
    decide(client, "call-001", "dismiss", fps["不可以"])
    assert client.application.extensions["callqa_reports"].flush(timeout=60)
    agents = list(csv.DictReader(io.StringIO((batch.out_dir / "agents.csv").read_text(encoding="utf-8-sig"))))
    a01 = next(r for r in agents if r["agent_id"] == "A01")
    assert float(a01["mean_score"]) == 85.0  # (75 + 95) / 2
    decide(client, "call-001", "reviewed", comment="听过录音")
    export = client.get("/export/reviewed.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.data.decode("utf-8-sig"))))
    assert [r["call_id"] for r in rows] == ["call-001"]
    assert rows[0]["reviewed_by"] == "王主管" and float(rows[0]["score"]) == 75.0
    assert client.application.extensions["callqa_reports"].flush(timeout=60)
    on_disk = list(csv.DictReader(io.StringIO((batch.out_dir / "reviewed.csv").read_text(encoding="utf-8-sig"))))
    assert on_disk == rows
    page = decide(client, "call-001", "reopen").get_data(as_text=True)
    assert 'id="mark-reviewed"' in page


def test_a_decision_needs_a_reviewer_name(client, batch):
    fps = finding_fingerprints(batch.db, "call-001")
    page = decide(client, "call-001", "dismiss", fps["不行"], reviewer="").get_data(as_text=True)
    assert "Enter your name" in page and score_in(page, "review-score") == "65"


def test_fixed_reviewer_from_the_command_line(batch):
    client = create_app(batch.out_dir, reviewer="质检组长").test_client()
    fps = finding_fingerprints(batch.db, "call-001")
    decide(client, "call-001", "dismiss", fps["不行"], reviewer="someone else")
    conn = open_db(batch.db)
    assert conn.execute("SELECT reviewer FROM decisions").fetchone()["reviewer"] == "质检组长"


def test_two_reviewers_at_once_lose_nothing(batch):
    fps = list(finding_fingerprints(batch.db, "call-001").items())
    app = create_app(batch.out_dir)
    errors = []

    def reviewer(name, fingerprints):
        client = app.test_client()
        try:
            for _, fp in fingerprints:
                assert decide(client, "call-001", "dismiss", fp, reviewer=name).status_code == 200
        except Exception as e:  # surfaced below; a thread's assert would be lost
            errors.append(e)

    threads = [threading.Thread(target=reviewer, args=("甲", fps[0::2])),
               threading.Thread(target=reviewer, args=("乙", fps[1::2]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    conn = open_db(batch.db)
    rows = conn.execute("SELECT reviewer, fingerprint FROM decisions").fetchall()
    assert sorted(r["fingerprint"] for r in rows) == sorted(fp for _, fp in fps)
    # every finding dismissed: 65 + 30 (banned) + 5 (closing) = 100
    assert conn.execute("SELECT score FROM calls WHERE call_id='call-001'").fetchone()["score"] == 100


def test_rescoring_keeps_decisions_on_findings_that_still_exist(client, batch):
    fps = finding_fingerprints(batch.db, "call-001")
    decide(client, "call-001", "dismiss", fps["不知道"])
    conn = open_db(batch.db)
    save_calls(conn, [_rude_call(batch.audio)], scorecard_text="# again", flag_below=80.0,
               input_root=batch.recordings)
    conn.close()
    page = client.get("/calls/call-001").get_data(as_text=True)
    assert score_in(page, "review-score") == "75"
    assert f'class="finding state-dismiss" id="f-{fps["不知道"]}"' in page


def test_evidence_marks_quotes_words_and_traditional_text():
    from callqa.checks.base import CheckResult, Finding
    from callqa.review.evidence import finding_views, utterance_views

    transcript = [
        {"role": "agent", "start": 0.0, "end": 2.0, "text": "您好，这个我不知道", "raw_text": "您好，這個我不知道"},
        {"role": "customer", "start": 2.0, "end": 4.0, "text": "什么服务，太差了", "raw_text": "什么服务，太差了"},
        {"role": "agent", "start": 4.0, "end": 5.0, "text": "再见", "raw_text": "再見"},
    ]
    checks = {
        "banned_phrases": CheckResult("banned_phrases", False, 10, [
            Finding(0, 2, "agent", "您好，這個我不知道", "banned", 0, 10, fingerprint="a",
                    extra={"phrase": "不知道", "quote": "不知道"})]),
        "sentiment": CheckResult("sentiment", False, 0, [
            Finding(2, 4, "customer", "什么服务，太差了", "negative", 1, fingerprint="b",
                    extra={"words": ["什么服务", "太差了"]})]),
        "closing": CheckResult("closing", False, 5, [
            Finding(4, 5, "agent", "再見", "no closing question", 2, 5, fingerprint="c")]),
    }
    views = utterance_views(transcript, finding_views(checks, {}, str), str)
    marked = [[(s.text, s.findings) for s in v.segments if s.findings] for v in views]
    assert marked[0] == [("不知道", ["f-a"])]
    assert marked[1] == [("什么服务", ["f-b"]), ("太差了", ["f-b"])]
    assert marked[2] == []  # nothing quoted: the utterance is flagged, not marked word by word
    assert [f.key for f in views[2].findings] == ["f-c"] and views[2].flagged
    assert views[0].raw_text == "您好，這個我不知道" and views[2].raw_text == "再見"


def test_serves_a_database_file_given_directly(batch):
    client = create_app(batch.db).test_client()
    assert client.get("/calls/call-001").status_code == 200


def test_report_rewrites_coalesce_and_end_with_the_latest_state(batch):
    from callqa.reports.db import record_decision
    from callqa.review.exports import ReportRefresher

    refresher = ReportRefresher(batch.db, batch.out_dir)
    conn = open_db(batch.db)
    for phrase, fp in finding_fingerprints(batch.db, "call-001").items():
        record_decision(conn, "call-001", "dismiss", "甲", fingerprint=fp)
        refresher.request()
    assert refresher.flush(timeout=60) and refresher.last_error is None
    agents = list(csv.DictReader(io.StringIO((batch.out_dir / "agents.csv").read_text(encoding="utf-8-sig"))))
    assert float(next(r for r in agents if r["agent_id"] == "A01")["mean_score"]) == 97.5  # (100 + 95) / 2
    assert not list(batch.out_dir.glob(".callqa-reports-*"))  # scratch folders cleaned up
