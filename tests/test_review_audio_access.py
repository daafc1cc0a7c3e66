"""The audio route plays the recording that was scored, and nothing else a batch row points at.

Each case here was served (200, the file's bytes) before review/recordings.py:
a symlink to /etc/passwd in an input folder, manifest rows naming /etc/passwd,
../../etc/hostname or another batch's session key.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from review_fixtures import _rude_call, build_batch
from typer.testing import CliRunner

from callqa.cli import app as cli
from callqa.reports.db import open_db, save_calls
from callqa.review import create_app
from callqa.review.app import SECRET_FILENAME


@pytest.fixture()
def batch(tmp_path):
    return build_batch(tmp_path / "batch")


def _set_audio(batch, call_id: str, path: Path) -> None:
    conn = open_db(batch.db)
    conn.execute("UPDATE calls SET audio_path = ? WHERE call_id = ?", (str(path), call_id))
    conn.close()


def test_the_scored_recording_is_served(batch):
    response = create_app(batch.out_dir).test_client().get("/calls/call-001/audio")
    assert response.status_code == 200 and response.data == batch.audio.read_bytes()


def test_a_symlink_out_of_the_input_folder_is_not_served(batch, tmp_path):
    outside = tmp_path / "elsewhere.wav"
    shutil.copy(batch.audio, outside)
    link = batch.recordings / "linked.wav"
    link.symlink_to(outside)
    _set_audio(batch, "call-001", link)
    assert create_app(batch.out_dir).test_client().get("/calls/call-001/audio").status_code == 404


def test_a_file_in_the_results_folder_is_not_served(batch):
    # The results folder inside the input folder: only the recordings may come out of it.
    secret = batch.out_dir / SECRET_FILENAME
    create_app(batch.out_dir)  # writes the session key
    conn = open_db(batch.db)
    conn.execute("UPDATE batches SET input_root = ?", (str(batch.out_dir.parent),))
    conn.close()
    _set_audio(batch, "call-001", secret)
    response = create_app(batch.out_dir).test_client().get("/calls/call-001/audio")
    assert response.status_code == 404 and secret.read_bytes() not in response.data


def test_a_recording_changed_since_scoring_is_not_served(batch):
    batch.audio.write_bytes(b"RIFF" + os.urandom(200))
    assert create_app(batch.out_dir).test_client().get("/calls/call-001/audio").status_code == 404


def test_a_batch_without_an_input_folder_serves_no_audio_unless_a_root_is_given(batch):
    conn = open_db(batch.db)
    save_calls(conn, [_rude_call(batch.audio)], scorecard_text="# again", flag_below=80.0)  # no input_root
    conn.close()
    assert create_app(batch.out_dir).test_client().get("/calls/call-001/audio").status_code == 404
    allowed = create_app(batch.out_dir, audio_roots=(batch.recordings,)).test_client()
    assert allowed.get("/calls/call-001/audio").status_code == 200


def test_serve_audio_root_option_reaches_the_app(batch, monkeypatch):
    seen = {}

    def fake_make_server(host, port, web, threaded, request_handler=None):
        seen["roots"] = web.config["CALLQA_AUDIO_ROOTS"]
        raise OSError("not starting in a test")

    monkeypatch.setattr("werkzeug.serving.make_server", fake_make_server)
    result = CliRunner().invoke(cli, ["serve", str(batch.out_dir), "--audio-root", str(batch.recordings)])
    assert result.exit_code == 2
    assert seen["roots"] == (batch.recordings.resolve(),)


def test_hostile_rows_scored_for_real_serve_nothing(tmp_path):
    """`callqa score` on rows pointing out of the batch, then the review app: every audio request is 404."""
    other = tmp_path / "other-batch"
    other.mkdir()
    (other / SECRET_FILENAME).write_text("ab" * 32)
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "passwd.wav").symlink_to("/etc/passwd")
    (calls / "manifest.csv").write_text(
        "file,agent_id,call_id\n"
        "/etc/passwd,A1,absolute\n"
        "../../../../../../etc/hostname,A1,climbing\n"
        f"../other-batch/{SECRET_FILENAME},A1,secret\n"
        "passwd.wav,A1,symlink\n",
        encoding="utf-8",
    )
    roster = tmp_path / "roster.csv"
    roster.write_text("agent_id,name,employee_id\nA1,王芳,8023\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["score", str(calls / "manifest.csv"), "--roster", str(roster), "--out", str(out), "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    client = create_app(out).test_client()
    forbidden = [Path("/etc/passwd").read_bytes()[:20], b"ab" * 32]
    for call_id in ("absolute", "climbing", "secret", "symlink"):
        assert client.get(f"/calls/{call_id}").status_code == 200  # the call is listed, with its error
        response = client.get(f"/calls/{call_id}/audio")
        assert response.status_code == 404, call_id
        assert not any(data in response.data for data in forbidden)
