"""What a hostile or careless user found, kept fixed: redirects, CSV formulas, token rules, read-only batches.

Each test failed before its fix: /login?next=/%09/evil.example redirected to
//evil.example and /%0a/x was a 500; a reviewer named =HYPERLINK(...) became a
live formula in reviewed.csv; a 1-character token was accepted, sign-in had no
rate limit and ?token= was written to the access log; serving a read-only
batch folder gave 500 on every page.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.request

import pytest
from review_fixtures import ServerProcess, build_batch, finding_fingerprints
from typer.testing import CliRunner

from callqa.cli import app as cli
from callqa.errors import UsageError
from callqa.reports.db import open_db
from callqa.review import create_app

TOKEN = "s3cret-token-for-tests"


@pytest.fixture()
def batch(tmp_path):
    return build_batch(tmp_path / "batch")


def _csrf(client, path="/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


# --- open redirect --------------------------------------------------------------------------------

OFFSITE = ["/%09/evil.example", "/%0a/evil.example", "/%0d%0a/evil.example", "/\\evil.example", "//evil.example",
           "/%5Cevil.example", "https://evil.example/", "/ /evil.example", "/\t/evil.example"]


@pytest.mark.parametrize("target", OFFSITE)
def test_sign_in_never_sends_you_off_the_site(batch, target):
    client = create_app(batch.out_dir, token=TOKEN).test_client()
    csrf = _csrf(client)
    response = client.post(f"/login?next={target}", data={"csrf_token": csrf, "token": TOKEN})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    # Already signed in (or no token at all), the GET redirects at once: same rule.
    again = client.get(f"/login?next={target}")
    assert again.status_code == 302 and again.headers["Location"] == "/"
    open_app = create_app(batch.out_dir).test_client().get(f"/login?next={target}")
    assert open_app.status_code == 302 and open_app.headers["Location"] == "/"


def test_a_local_next_still_works(batch):
    client = create_app(batch.out_dir, token=TOKEN).test_client()
    response = client.post("/login?next=/queue%3Fagent%3DA01", data={"csrf_token": _csrf(client), "token": TOKEN})
    assert response.headers["Location"] == "/queue?agent=A01"


# --- CSV formula injection ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_a_reviewer_name_is_never_a_live_formula_in_the_csv(batch, name):
    client = create_app(batch.out_dir).test_client()
    fingerprint = finding_fingerprints(batch.db, "call-001")["不知道"]
    for decision, fp in (("dismiss", fingerprint), ("reviewed", None)):
        data = {"csrf_token": _csrf(client, "/calls/call-001"), "decision": decision, "reviewer": name}
        if fp:
            data["fingerprint"] = fp
        client.post("/calls/call-001/decisions", data=data)
    app_csv = client.get("/export/reviewed.csv").get_data().decode("utf-8-sig")
    client.application.extensions["callqa_reports"].flush(timeout=30)
    disk_csv = (batch.out_dir / "reviewed.csv").read_text(encoding="utf-8-sig")
    for text in (app_csv, disk_csv):
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows and rows[0]["reviewed_by"] == "'" + name
        assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row.values() if cell)


# --- token rules ----------------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["x", "short-token"])
def test_a_short_token_is_refused(batch, token):
    with pytest.raises(UsageError, match="at least 16"):
        create_app(batch.out_dir, token=token)
    result = CliRunner().invoke(cli, ["serve", str(batch.out_dir), "--token", token, "--port", "0"])
    assert result.exit_code == 2 and "at least 16" in result.output


def test_wrong_tokens_are_rate_limited_per_address(batch):
    client = create_app(batch.out_dir, token=TOKEN).test_client()
    csrf = _csrf(client)
    codes = [client.post("/login", data={"csrf_token": csrf, "token": f"guess-{i}"}).status_code for i in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    refused = client.post("/login", data={"csrf_token": csrf, "token": TOKEN})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0  # even the right one, for now
    assert client.get("/?token=another-guess").status_code == 429
    other = create_app(batch.out_dir, token=TOKEN).test_client()  # another app: its own count
    assert other.get(f"/?token={TOKEN}").status_code == 302


def test_the_token_never_reaches_the_access_log(batch):
    with ServerProcess(batch.out_dir, env={"CALLQA_TOKEN": TOKEN}) as server:
        urllib.request.urlopen(f"{server.url}/queue?token={TOKEN}", timeout=10).read()
        server.stop()
        server.log.seek(0)
        log = server.log.read()
    assert "/queue?token=[redacted]" in log
    assert TOKEN not in log


# --- read-only batch folder -----------------------------------------------------------------------

def test_a_read_only_batch_is_served_and_refuses_decisions_with_a_reason(batch, monkeypatch):
    import callqa.review.app as review_app

    # The tests run as root, for whom no file is read-only: the app asks is_writable, so it is told.
    monkeypatch.setattr(review_app, "is_writable", lambda path: False)
    conn = open_db(batch.db)
    before = conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
    conn.close()
    web = create_app(batch.out_dir)
    assert web.config["CALLQA_READ_ONLY"]
    client = web.test_client()
    for page in ("/", "/queue", "/calls/call-001", "/export/reviewed.csv", "/calls/call-001/audio"):
        assert client.get(page).status_code == 200, page
    assert "read-only" in client.get("/").get_data(as_text=True)
    fingerprint = finding_fingerprints(batch.db, "call-001")["不知道"]
    response = client.post("/calls/call-001/decisions", data={
        "csrf_token": _csrf(client, "/calls/call-001"), "decision": "dismiss", "fingerprint": fingerprint,
        "reviewer": "王主管"})
    assert response.status_code == 409 and "read-only" in response.get_data(as_text=True)
    conn = open_db(batch.db)
    assert conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == before


def test_the_database_opens_read_only_without_writing(batch):
    before = {p.name: p.stat().st_mtime_ns for p in batch.out_dir.iterdir()}
    conn = open_db(batch.db, read_only=True)
    assert conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 4
    with pytest.raises(Exception, match="readonly"):
        conn.execute("INSERT INTO meta(key, value) VALUES ('x', 'y')")
    conn.close()
    assert {p.name: p.stat().st_mtime_ns for p in batch.out_dir.iterdir() if p.name in before} == before
