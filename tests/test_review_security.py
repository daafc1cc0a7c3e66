"""The review app's safety: access token, loopback-only default, no path traversal, no forged posts."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest
from review_fixtures import ServerProcess, build_batch, finding_fingerprints
from typer.testing import CliRunner

from callqa.cli import app as cli
from callqa.reports.db import open_db
from callqa.review import create_app, is_loopback

TOKEN = "s3cret-token-for-tests"


@pytest.fixture()
def batch(tmp_path):
    return build_batch(tmp_path / "batch")


def _decisions(batch) -> int:
    conn = open_db(batch.db)
    try:
        return conn.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]
    finally:
        conn.close()


# --- access token ---------------------------------------------------------------------------------

def test_every_page_needs_the_token_when_one_is_set(batch):
    client = create_app(batch.out_dir, token=TOKEN).test_client()
    for path in ("/", "/queue", "/calls/call-001"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/calls/call-001/audio").status_code == 401
    assert client.get("/export/reviewed.csv").status_code == 401
    assert client.get("/?token=wrong").status_code == 302
    assert client.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 302


def test_login_form_and_token_link_open_a_session(batch):
    app = create_app(batch.out_dir, token=TOKEN)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"csrf_token": csrf, "token": "nope"}).status_code == 401
    assert client.get("/queue").status_code == 302
    ok = client.post("/login", data={"csrf_token": csrf, "token": TOKEN, "next": "/queue"})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/queue")
    assert client.get("/queue").status_code == 200
    assert client.get("/calls/call-001/audio").status_code == 200
    # a link with ?token= works once and the address bar loses the token
    other = app.test_client()
    first = other.get("/calls/call-001?token=" + TOKEN)
    assert first.status_code == 302 and "token" not in first.headers["Location"]
    assert other.get("/calls/call-001").status_code == 200
    # the session cookie does not carry the token itself
    assert TOKEN not in (first.headers.get("Set-Cookie") or "")


def test_login_redirect_stays_on_this_site(batch):
    client = create_app(batch.out_dir, token=TOKEN).test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for target in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):
        response = client.post("/login", data={"csrf_token": csrf, "token": TOKEN, "next": target})
        assert response.headers["Location"] == "/"


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")


def test_serve_refuses_a_public_address_without_a_token(batch, monkeypatch):
    monkeypatch.delenv("CALLQA_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["serve", str(batch.out_dir), "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0 without an access token" in result.output


def test_serve_on_a_public_address_with_a_token_requires_it(batch):
    with ServerProcess(batch.out_dir, "--host", "0.0.0.0", env={"CALLQA_TOKEN": TOKEN}) as server:
        url = server.url.replace("0.0.0.0", "127.0.0.1")
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(url + "/export/reviewed.csv", timeout=10)
        assert denied.value.code == 401
        request = urllib.request.Request(url + "/export/reviewed.csv", headers={"Authorization": f"Bearer {TOKEN}"})
        assert urllib.request.urlopen(request, timeout=10).status == 200


def test_serve_refuses_a_missing_database(tmp_path):
    result = CliRunner().invoke(cli, ["serve", str(tmp_path), "--port", "0"])
    assert result.exit_code == 2 and "no results database" in result.output


# --- path traversal -------------------------------------------------------------------------------

TRAVERSALS = [
    "/calls/../../etc/passwd/audio",
    "/calls/..%2f..%2fetc%2fpasswd/audio",
    "/calls/%2e%2e/audio",
    "/calls/%2e%2e%2f%2e%2e%2fetc%2fpasswd/audio",
    "/calls/call-001%2f..%2f..%2fcallqa.sqlite/audio",
    "/calls/call-001/../../callqa.sqlite",
    "/calls/%2Fetc%2Fpasswd/audio",
    "/static/../callqa.sqlite",
    "/static/..%2f..%2f..%2fcallqa.sqlite",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_traversal_through_the_app(batch, path):
    response = create_app(batch.out_dir).test_client().get(path)
    assert response.status_code == 404
    assert b"root:" not in response.data and b"SQLite format" not in response.data


def test_no_path_traversal_through_the_real_server(batch):
    """The same, over a real socket: the raw path reaches the server unnormalized."""
    import http.client

    with ServerProcess(batch.out_dir) as server:
        host, port = server.url.removeprefix("http://").split(":")
        for path in TRAVERSALS:
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            assert response.status == 404, path
            assert b"root:" not in body and b"SQLite format" not in body


def test_audio_only_from_the_database_path(batch):
    """A call whose stored audio path is missing gets 404; nothing from the request picks the file."""
    conn = open_db(batch.db)
    conn.execute("UPDATE calls SET audio_path = ? WHERE call_id = 'call-003'", (str(batch.out_dir / "gone.wav"),))
    conn.close()
    client = create_app(batch.out_dir).test_client()
    assert client.get("/calls/call-003/audio").status_code == 404
    assert client.get("/calls/call-003/audio?path=/etc/passwd").status_code == 404


# --- forged posts ---------------------------------------------------------------------------------

def test_forged_posts_are_rejected_and_change_nothing(batch):
    client = create_app(batch.out_dir).test_client()
    fingerprint = finding_fingerprints(batch.db, "call-001")["不知道"]
    form = {"decision": "dismiss", "fingerprint": fingerprint, "reviewer": "attacker"}
    refused = client.post("/calls/call-001/decisions", data=form)  # no token
    assert refused.status_code == 400 and "Nothing was changed" in refused.get_data(as_text=True)
    assert client.post("/calls/call-001/decisions", data={**form, "csrf_token": "forged"}).status_code == 400
    other = create_app(batch.out_dir).test_client()  # a real token, but from another session
    page = other.get("/calls/call-001").get_data(as_text=True)
    foreign = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.get("/calls/call-001")
    assert client.post("/calls/call-001/decisions", data={**form, "csrf_token": foreign}).status_code == 400
    assert _decisions(batch) == 0
    conn = open_db(batch.db)
    assert conn.execute("SELECT score FROM calls WHERE call_id = 'call-001'").fetchone()["score"] == 65


def test_state_changes_are_post_only(batch):
    client = create_app(batch.out_dir).test_client()
    assert client.get("/calls/call-001/decisions?decision=reviewed&reviewer=x").status_code == 405
    assert _decisions(batch) == 0


def test_decisions_only_for_findings_of_that_call(batch):
    client = create_app(batch.out_dir).test_client()
    page = client.get("/calls/call-002").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    other_call = finding_fingerprints(batch.db, "call-001")["不知道"]
    response = client.post("/calls/call-002/decisions",
                           data={"csrf_token": csrf, "decision": "dismiss", "fingerprint": other_call, "reviewer": "x"})
    assert response.status_code == 404
    bad = client.post("/calls/call-002/decisions", data={"csrf_token": csrf, "decision": "delete", "reviewer": "x"})
    assert bad.status_code == 400
    assert _decisions(batch) == 0


def test_only_loopback_host_names_without_a_token(batch):
    """DNS rebinding: a page whose own name resolves to 127.0.0.1 sends that name as Host."""
    client = create_app(batch.out_dir).test_client()
    assert client.get("/", headers={"Host": "127.0.0.1:8765"}).status_code == 200
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example:8765"}).status_code == 400
    assert client.get("/calls/call-001/audio", headers={"Host": "evil.example"}).status_code == 400


def test_pages_forbid_framing_and_foreign_scripts(batch):
    client = create_app(batch.out_dir, token=TOKEN).test_client()
    assert client.get("/static/review.css").status_code == 200  # the sign-in page needs its stylesheet
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
