"""A supervisor's working day, through Flask's test client: decisions in place with reasons, the queue
sorted, paged and filtered in SQL, needs listening, appeals, samples and agreement, the analysts' CSVs."""

from __future__ import annotations

import csv
import io
import re

import pytest
from review_fixtures import build_batch, build_big_batch, finding_fingerprints
from typer.testing import CliRunner

from callqa.cli import app as cli
from callqa.reports.db import open_db
from callqa.review import create_app
from callqa.review.agreement import cohen_kappa

TOKEN = "a-long-enough-token-0123"


@pytest.fixture()
def batch(tmp_path):
    return build_batch(tmp_path / "batch", listening=True)


@pytest.fixture()
def client(batch):
    return create_app(batch.out_dir).test_client()


def csrf(client, path="/calls/call-001") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def post_json(client, call_id, **form):
    form = {"csrf_token": csrf(client, f"/calls/{call_id}"), "reviewer": "王主管", **form}
    return client.post(f"/calls/{call_id}/decisions", data=form, headers={"Accept": "application/json"})


def ids(page: str) -> list[str]:
    return re.findall(r'class="call-link" href="/calls/([^"]+)"', page)


def read_csv(response) -> list[dict]:
    assert response.data.startswith("\ufeff".encode())  # UTF-8 with BOM, for Excel
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


# --- deciding in place ----------------------------------------------------------------------------

def test_a_decision_answers_json_with_the_new_score(client, batch):
    fp = finding_fingerprints(batch.db, "call-001")["不知道"]
    answer = post_json(client, "call-001", decision="dismiss", fingerprint=fp, reason="asr_error")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["score"] == 75 and body["machine_score"] == 65 and body["fingerprints"] == [fp]
    assert body["checks"]["banned_phrases"]["deduction"] == 20 and body["open"] == 3
    conn = open_db(batch.db)
    assert conn.execute("SELECT reason FROM decisions").fetchone()["reason"] == "asr_error"


def test_a_dismissal_needs_a_reason(client, batch):
    fp = finding_fingerprints(batch.db, "call-001")["不知道"]
    refused = post_json(client, "call-001", decision="dismiss", fingerprint=fp)
    assert refused.status_code == 400 and "reason" in refused.get_json()["error"]
    assert post_json(client, "call-001", decision="dismiss", fingerprint=fp, reason="nonsense").status_code == 400
    # "other" needs the free text; free text alone is a reason
    assert post_json(client, "call-001", decision="dismiss", fingerprint=fp, reason="other").status_code == 400
    assert post_json(client, "call-001", decision="dismiss", fingerprint=fp, comment="客户原话").status_code == 200
    conn = open_db(batch.db)
    assert [r["reason"] for r in conn.execute("SELECT reason FROM decisions")] == ["other"]


def test_zero_point_findings_are_shown_but_not_offered(client, batch):
    page = client.get("/calls/call-001").get_data(as_text=True)
    sentiment = finding_fingerprints(batch.db, "call-001")["sentiment"]
    card = page[page.index(f'id="f-{sentiment}"'):]
    card = card[:card.index("</article>")]
    assert "data-decide" not in card and 'value="confirm"' not in card
    assert page.count("data-decide=1") == 4  # three banned phrases and the closing
    assert 'class="info-only"' in page


def test_confirm_all_remaining_confirms_only_open_findings(client, batch):
    fps = finding_fingerprints(batch.db, "call-001")
    post_json(client, "call-001", decision="dismiss", fingerprint=fps["不行"], reason="polite_form")
    body = post_json(client, "call-001", decision="confirm_all").get_json()
    assert sorted(body["fingerprints"]) == sorted([fps["不知道"], fps["不可以"], fps["closing"]])
    assert body["open"] == 0 and body["score"] == 75
    assert post_json(client, "call-001", decision="confirm_all").get_json()["fingerprints"] == []


# --- needs listening and verification ------------------------------------------------------------

def test_a_needs_listening_finding_is_settled_by_the_reviewer(client, batch):
    page = client.get("/calls/call-005").get_data(as_text=True)
    assert "需要人工听" in page and "确认扣 10 分" in page
    # the verification in one line: heard 450又号, verified 4506 against the audio, margin 6.2
    assert re.search(r"听到 <q>450又号</q> →\s*对照音频核实为 <q>4506</q>，置信差 6\.2", page)
    fp = finding_fingerprints(batch.db, "call-005")["没办法"]
    body = post_json(client, "call-005", decision="confirm", fingerprint=fp).get_json()
    assert body["score"] == 85 and body["checks"]["banned_phrases"] == {"passed": False, "deduction": 10.0}
    body = post_json(client, "call-005", decision="dismiss", fingerprint=fp, reason="asr_error").get_json()
    assert body["score"] == 95 and body["checks"]["banned_phrases"]["passed"] is True


def test_the_queue_filters_calls_left_to_listening(client):
    assert ids(client.get("/queue?listening=1&show=all").get_data(as_text=True)) == ["call-005"]


def test_a_call_leaves_needs_listening_once_its_finding_is_settled(client, batch):
    def listening_tile():
        page = client.get("/").get_data(as_text=True)
        return int(re.search(r'id="stat-listening"[^>]*><b>(\d+)</b>', page).group(1))

    assert listening_tile() == 1
    fp = finding_fingerprints(batch.db, "call-005")["没办法"]
    post_json(client, "call-005", decision="confirm", fingerprint=fp)
    assert ids(client.get("/queue?listening=1&show=all").get_data(as_text=True)) == []
    assert listening_tile() == 0


def test_agents_csv_counts_verdicts_given_and_left_to_listening(client, batch):
    client.application.extensions["callqa_reports"].request()
    assert client.application.extensions["callqa_reports"].flush(timeout=60)
    rows = {r["agent_id"]: r for r in csv.DictReader(io.StringIO(
        (batch.out_dir / "agents.csv").read_text(encoding="utf-8-sig")))}
    a03 = rows["A03"]
    assert (a03["verdicts_given"], a03["left_to_listening"], a03["coverage"]) == ("5", "1", "0.833")


def test_the_timeline_draws_lanes_findings_dead_air_and_overtalk(client):
    page = client.get("/calls/call-005").get_data(as_text=True)
    svg = page[page.index('<svg class="timeline"'):page.index("</svg>", page.index('<svg class="timeline"'))]
    assert svg.count('class="utt-bar role-agent') == 3 and svg.count('class="utt-bar role-customer') == 2
    assert 'class="band dead-air' in svg and 'class="band overtalk' in svg
    assert 'class="mark state-open listen"' in svg and 'data-seek="5.2"' in svg


def test_where_whisper_wrote_its_prompt_back_the_page_sends_a_listener(client):
    page = client.get("/calls/call-005").get_data(as_text=True)
    svg = page[page.index('<svg class="timeline"'):page.index("</svg>", page.index('<svg class="timeline"'))]
    assert svg.count('class="echo"') == 1 and '<rect class="echo" data-seek="8.0"' in svg
    note = re.search(r'<p class="listen-note echo-note" data-seek="8.0">(.*?)</p>', page, re.S)
    assert note and "0:08.0–0:10.5" in note.group(1) and "坐席" in note.group(1) and "写回了提示词" in note.group(1)
    other = client.get("/calls/call-002").get_data(as_text=True)
    assert 'class="echo"' not in other and "echo-note" not in other


# --- the queue: SQL sort, paging and filters ------------------------------------------------------

@pytest.fixture(scope="module")
def big(tmp_path_factory):
    return create_app(build_big_batch(tmp_path_factory.mktemp("big") / "batch")).test_client()


def test_the_queue_pages_and_sorts_500_calls(big):
    first = big.get("/queue?show=all&per_page=50").get_data(as_text=True)
    assert len(ids(first)) == 50 and "1–50 / 500" in first
    last = big.get("/queue?show=all&per_page=50&page=10").get_data(as_text=True)
    assert len(ids(last)) == 50 and "451–500 / 500" in last
    assert not set(ids(first)) & set(ids(last))
    beyond = big.get("/queue?show=all&per_page=200&page=99").get_data(as_text=True)
    assert len(ids(beyond)) == 100  # the last page, not an empty one
    scores = [float(s) for s in re.findall(r'data-label="得分">([\d.]+)<', first)]
    assert scores == sorted(scores)
    desc = big.get("/queue?show=all&sort=score&order=desc").get_data(as_text=True)
    top = [float(s) for s in re.findall(r'data-label="得分">([\d.]+)<', desc)]
    assert top == sorted(top, reverse=True) and top[0] == 100
    by_id = ids(big.get("/queue?show=all&sort=call&order=desc&per_page=25").get_data(as_text=True))
    assert by_id[0] == "gen-0499" and by_id == sorted(by_id, reverse=True)


def test_the_queue_reads_one_page_from_the_database(big, monkeypatch):
    import callqa.review.queries as queries

    seen = []
    real = queries.select
    monkeypatch.setattr(queries, "select", lambda conn, sql, params=(): seen.append(sql) or real(conn, sql, params))
    big.get("/queue?show=all&per_page=25")
    assert any("LIMIT ? OFFSET ?" in sql for sql in seen)


def test_the_queue_filters_by_date_batch_agent_score_and_check(big):
    page = big.get("/queue?show=all&date_from=2026-01-05&date_to=2026-01-06&per_page=200").get_data(as_text=True)
    found = ids(page)
    assert found and all(int(c[-4:]) % 28 in (4, 5) for c in found)
    assert len(ids(big.get("/queue?show=all&batch=2&per_page=200").get_data(as_text=True))) == 167
    agent = ids(big.get("/queue?show=all&agent=B03&per_page=200").get_data(as_text=True))
    assert len(agent) == 50 and all(int(c[-4:]) % 10 == 3 for c in agent)
    ranged = big.get("/queue?show=all&score_min=90&score_max=95&per_page=200").get_data(as_text=True)
    assert all(90 <= float(s) <= 95 for s in re.findall(r'data-label="得分">([\d.]+)<', ranged))
    closing = ids(big.get("/queue?show=all&check=closing&per_page=200").get_data(as_text=True))
    assert closing and all(int(c[-4:]) % 3 == 0 for c in closing)
    bad = big.get("/queue?show=all&date_from=yesterday&score_min=lots&check=nope").get_data(as_text=True)
    assert "yesterday" in bad and len(ids(bad)) == 50  # ignored, and said so


def test_every_dashboard_bar_and_number_drills_down(big):
    page = big.get("/").get_data(as_text=True)
    links = set(re.findall(r'<a class="drill" href="([^"]+)"', page))
    assert len(links) >= 10 + 3  # ten score bins, the failures of each check
    for href in links | set(re.findall(r'<a class="stat[^"]*" id="stat-\w+" href="([^"]+)"', page)):
        assert big.get(href.replace("&amp;", "&")).status_code == 200, href
    bin_90 = next(h for h in links if "score_min=90" in h).replace("&amp;", "&")
    shown = re.findall(r'data-label="得分">([\d.]+)<', big.get(bin_90 + "&per_page=200").get_data(as_text=True))
    assert shown and all(float(s) >= 90 for s in shown)


def test_an_agent_page_shows_trends_over_batches(big):
    page = big.get("/agents/B01").get_data(as_text=True)
    assert 'id="trend-chart"' in page and "<polyline" in page and page.count('class="call-link"') == 25
    assert page.count("<tr><td><a href=\"/queue?") == 3  # one row per batch
    assert big.get("/agents/nobody").status_code == 404


# --- appeals ------------------------------------------------------------------------------------

def signed_in(batch, name, role):
    client = create_app(batch.out_dir, token=TOKEN).test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"csrf_token": token, "token": TOKEN, "name": name, "role": role})
    return client


def test_an_appeal_is_ruled_by_a_second_reviewer_and_is_final(batch):
    fp = finding_fingerprints(batch.db, "call-001")["不可以"]
    first = signed_in(batch, "甲", "reviewer")
    assert post_json(first, "call-001", decision="confirm", fingerprint=fp, reviewer="甲").status_code == 200
    agent = signed_in(batch, "张伟", "agent")
    assert post_json(agent, "call-001", decision="dismiss", fingerprint=fp, reason="asr_error").status_code == 403
    raised = agent.post("/calls/call-001/appeals", data={"csrf_token": csrf(agent), "fingerprint": fp,
                                                         "reviewer": "张伟", "reason": "我说的是“不可以吗”"})
    assert raised.status_code == 302
    appeal_id = open_db(batch.db).execute("SELECT id FROM appeals").fetchone()["id"]
    ruling = {"csrf_token": csrf(first), "ruling": "overturned", "reviewer": "甲", "comment": "我自己的"}
    assert first.post(f"/appeals/{appeal_id}/ruling", data=ruling).status_code == 403  # not the confirmer
    assert agent.post(f"/appeals/{appeal_id}/ruling", data={**ruling, "csrf_token": csrf(agent)}).status_code == 403
    second = signed_in(batch, "乙", "reviewer")
    done = second.post(f"/appeals/{appeal_id}/ruling", data={**ruling, "csrf_token": csrf(second), "reviewer": "乙",
                                                              "comment": "录音里是疑问句"})
    assert done.status_code == 302
    conn = open_db(batch.db)
    assert conn.execute("SELECT score FROM calls WHERE call_id = 'call-001'").fetchone()["score"] == 75
    again = second.post(f"/appeals/{appeal_id}/ruling", data={**ruling, "csrf_token": csrf(second), "reviewer": "乙"})
    assert again.status_code == 409
    assert post_json(first, "call-001", decision="confirm", fingerprint=fp, reviewer="甲").status_code == 409
    appeals = read_csv(second.get("/export/appeals.csv"))
    assert [(a["confirmed_by"], a["raised_by"], a["ruling"], a["ruled_by"]) for a in appeals] == \
        [("甲", "张伟", "overturned", "乙")]
    decisions = read_csv(second.get("/export/decisions.csv"))
    assert [(d["decision"], d["reviewer"], d["reason"]) for d in decisions] == \
        [("confirm", "甲", ""), ("dismiss", "乙", "appeal")]
    history = second.get("/calls/call-001").get_data(as_text=True)
    assert "appeal #1" in history and "录音里是疑问句" in history


def test_only_a_confirmed_finding_can_be_appealed(batch):
    fp = finding_fingerprints(batch.db, "call-001")["不可以"]
    agent = signed_in(batch, "张伟", "agent")
    refused = agent.post("/calls/call-001/appeals", data={"csrf_token": csrf(agent), "fingerprint": fp,
                                                          "reviewer": "张伟", "reason": "不对"})
    assert refused.status_code == 409


# --- samples and agreement ----------------------------------------------------------------------

def test_callqa_sample_is_reproducible(tmp_path):
    db = build_big_batch(tmp_path / "a")
    runner = CliRunner()
    first = runner.invoke(cli, ["sample", str(db.parent), "--per-agent", "3", "--seed", "7"])
    assert first.exit_code == 0, first.output
    drawn = [line for line in first.stdout.splitlines() if line.startswith("gen-")]
    assert len(drawn) == 30
    again = runner.invoke(cli, ["sample", str(db.parent), "--per-agent", "3", "--seed", "7"])
    assert [line for line in again.stdout.splitlines() if line.startswith("gen-")] == drawn
    other = build_big_batch(tmp_path / "b")
    fresh = runner.invoke(cli, ["sample", str(other.parent), "--per-agent", "3", "--seed", "7", "--unflagged"])
    unflagged = [line for line in fresh.stdout.splitlines() if line.startswith("gen-")]
    conn = open_db(other)
    assert all(conn.execute("SELECT flagged FROM calls WHERE call_id = ?", (c,)).fetchone()[0] == 0 for c in unflagged)
    assert conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == len(unflagged)


def test_cohen_kappa():
    assert cohen_kappa([("confirm", "confirm"), ("dismiss", "dismiss")]) == 1.0
    assert cohen_kappa([("confirm", "dismiss"), ("dismiss", "confirm")]) == -1.0
    assert cohen_kappa([("confirm", "confirm")] * 3) is None  # chance agrees completely: undefined
    assert cohen_kappa([("c", "c"), ("c", "c"), ("c", "d"), ("d", "d")]) == 0.5


def test_the_agreement_report_compares_reviewers_and_the_machine(client, batch):
    token = csrf(client, "/calibration")
    assert client.post("/calibration/sample", data={"csrf_token": token, "per_agent": "5", "seed": "1",
                                                    "reviewer": "王主管"}).status_code == 302
    assert ids(client.get("/queue?show=sampled").get_data(as_text=True)) == ["call-001", "call-003", "call-005",
                                                                                  "call-002"]
    fps = finding_fingerprints(batch.db, "call-001")
    for name, decision in (("甲", "confirm"), ("乙", "dismiss")):
        extra = {"reason": "rule_too_strict"} if decision == "dismiss" else {}
        post_json(client, "call-001", decision=decision, fingerprint=fps["不知道"], reviewer=name, **extra)
        post_json(client, "call-001", decision="confirm", fingerprint=fps["不行"], reviewer=name)
    # on call-002 a reviewer says the machine missed a closing
    client.post("/calls/call-002/verdicts", data={"csrf_token": csrf(client, "/calls/call-002"),
                                                  "check_id": "closing", "verdict": "fail", "reviewer": "甲"})
    rows = {r["check_id"]: r for r in read_csv(client.get("/export/agreement.csv"))}
    banned = rows["banned_phrases"]
    assert (banned["items"], banned["agreed"], banned["agreement"]) == ("2", "1", "0.5")
    assert rows["closing"]["fn"] == "1" and rows["closing"]["recall"] == "0.0"
    assert rows["banned_phrases"]["left_to_listening"] == "1"  # call-005's
    page = client.get("/calibration").get_data(as_text=True)
    assert 'id="agreement"' in page and "50%" in page


# --- exports for analysts -----------------------------------------------------------------------

def test_calls_and_decisions_csv_for_analysts(client, batch):
    fp = finding_fingerprints(batch.db, "call-001")["不知道"]
    post_json(client, "call-001", decision="dismiss", fingerprint=fp, reason="customer_said", comment="=1+1")
    calls = {r["call_id"]: r for r in read_csv(client.get("/export/calls.csv"))}
    row = calls["call-001"]
    assert (row["machine_score"], row["score"], row["banned_phrases_verdict"], row["banned_phrases_deduction"]) == \
        ("65.0", "75.0", "fail", "20.0")
    assert row["review_state"] == "in_review" and row["link"] == "http://localhost/calls/call-001"
    assert row["batch_id"] == "1" and row["scored_at"] and row["duration_s"] == "12.0"
    assert calls["call-005"]["banned_phrases_verdict"] == "needs_listening"
    assert calls["call-002"]["review_state"] == "not_flagged" and calls["call-004"]["error"]
    decisions = read_csv(client.get("/export/decisions.csv"))
    assert decisions[0]["comment"] == "'=1+1"  # spreadsheet-safe
    assert decisions[0]["in_force"] == "True" and decisions[0]["finding_text"] == "這個我不知道，不行"
    assert client.application.extensions["callqa_reports"].flush(timeout=60)
    for name in ("calls.csv", "decisions.csv", "appeals.csv"):
        assert (batch.out_dir / name).read_bytes().startswith("\ufeff".encode()), name


# --- language, local time, roles, read-only -------------------------------------------------------

def test_chinese_first_english_by_a_setting(client):
    page = client.get("/calls/call-001").get_data(as_text=True)
    assert "禁用语" in page and "确认" in page and "坐席说了禁用语：不知道" in page
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", page)
    client.post("/language", data={"csrf_token": csrf(client), "lang": "en", "next": "/calls/call-001"})
    english = client.get("/calls/call-001").get_data(as_text=True)
    assert "No banned phrases" in english and "agent said a banned phrase: 不知道" in english
    assert client.get("/favicon.ico").mimetype == "image/svg+xml"


def test_new_actions_need_csrf_and_a_writable_batch(batch, monkeypatch):
    import callqa.review.app as review_app

    client = create_app(batch.out_dir).test_client()
    for path in ("/calibration/sample", "/calls/call-001/appeals", "/appeals/1/ruling", "/calls/call-001/verdicts"):
        assert client.post(path, data={"per_agent": "1"}).status_code == 400, path  # no CSRF token
    monkeypatch.setattr(review_app, "is_writable", lambda path: False)
    read_only = create_app(batch.out_dir).test_client()
    token = csrf(read_only)
    for path in ("/calibration/sample", "/calls/call-001/appeals", "/appeals/1/ruling", "/calls/call-001/verdicts"):
        assert read_only.post(path, data={"csrf_token": token, "per_agent": "1"}).status_code == 409, path


def test_the_sign_in_page_can_switch_language_before_signing_in(batch):
    client = create_app(batch.out_dir, token=TOKEN).test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    switched = client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/login"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/login"
    assert "Sign in" in client.get("/login").get_data(as_text=True)
    assert client.get("/queue").status_code == 302  # everything else still needs the token
    assert client.post("/language", data={"lang": "en"}).status_code == 400  # and a CSRF token


def test_the_date_filter_uses_the_reviewers_day(batch):
    # Scored at 20:00 UTC is 04:00 the next morning in Shanghai, and the queue says so: the filter agrees.
    conn = open_db(batch.db)
    conn.execute("UPDATE calls SET recorded_at = NULL, scored_at = '2026-01-05T20:00:00+00:00' "
                 "WHERE call_id = 'call-001'")
    conn.execute("UPDATE calls SET recorded_at = '2026-01-05T23:30:00', scored_at = '2026-01-06T01:00:00+00:00' "
                 "WHERE call_id = 'call-002'")  # a manifest's recording time, already local
    conn.commit()
    conn.close()
    shanghai = create_app(batch.out_dir).test_client()
    sixth = ids(shanghai.get("/queue?show=all&date_from=2026-01-06&date_to=2026-01-06").get_data(as_text=True))
    fifth = ids(shanghai.get("/queue?show=all&date_from=2026-01-05&date_to=2026-01-05").get_data(as_text=True))
    assert "call-001" in sixth and "call-001" not in fifth
    assert "call-002" in fifth and "call-002" not in sixth
    utc = create_app(batch.out_dir, timezone="UTC").test_client()
    assert "call-001" in ids(utc.get("/queue?show=all&date_from=2026-01-05&date_to=2026-01-05").get_data(as_text=True))
