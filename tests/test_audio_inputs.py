"""audio/inputs.py: directories, manifests, and the messages a bad manifest gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from callqa.audio import InputError, read_inputs


def write_manifest(tmp_path: Path, text: str, name: str = "manifest.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def expect_input_error(path: Path, *phrases: str) -> str:
    with pytest.raises(InputError) as info:
        read_inputs(path)
    message = str(info.value)
    for phrase in phrases:
        assert phrase in message, message
    return message


def test_directory_sorted_by_name_with_stem_ids(tmp_path):
    for name in ["b.mp3", "a.WAV", "c.flac", "notes.txt", ".hidden.wav", "d.m4a", "e.ogg"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.wav").mkdir()  # a directory with an audio-like name is not a recording
    calls = read_inputs(tmp_path)
    assert [c.call_id for c in calls] == ["a", "b", "c", "d", "e"]
    assert [c.file for c in calls] == ["a.WAV", "b.mp3", "c.flac", "d.m4a", "e.ogg"]
    assert calls[0].path == (tmp_path / "a.WAV").resolve()
    assert all(c.agent_id is None and c.channels == "agent,customer" for c in calls)


def test_directory_duplicate_stems_fail(tmp_path):
    (tmp_path / "c1.wav").write_bytes(b"x")
    (tmp_path / "c1.mp3").write_bytes(b"x")
    expect_input_error(tmp_path, "c1.mp3", "c1.wav", "call_id 'c1'")


def test_empty_directory(tmp_path):
    (tmp_path / "readme.txt").write_text("no audio here")
    expect_input_error(tmp_path, "no recordings found")


def test_single_recording(tmp_path):
    (tmp_path / "one.flac").write_bytes(b"x")
    [call] = read_inputs(tmp_path / "one.flac")
    assert (call.call_id, call.file) == ("one", "one.flac")


def test_manifest_fields_defaults_and_relative_paths(tmp_path):
    (tmp_path / "audio").mkdir()
    path = write_manifest(
        tmp_path,
        "\ufefffile,Agent_ID,call_id,channels,queue\n"  # BOM and header case as Excel writes them
        "audio/c1.wav,A01,,,billing\n"
        "\n"
        "audio/c2.mp3,A02,call-two,\" Customer , Agent \",\n"
        "/abs/c3.flac,,,mono,\n",
    )
    calls = read_inputs(path)
    assert [c.call_id for c in calls] == ["c1", "call-two", "c3"]
    assert [c.agent_id for c in calls] == ["A01", "A02", None]
    assert [c.channels for c in calls] == ["agent,customer", "customer,agent", "mono"]
    assert calls[0].file == "audio/c1.wav"
    assert calls[0].path == (tmp_path / "audio" / "c1.wav").resolve()
    assert calls[2].path == Path("/abs/c3.flac")


def test_manifest_missing_file_is_not_an_error(tmp_path):
    [call] = read_inputs(write_manifest(tmp_path, "file,agent_id\nnot-there.wav,A1\n"))
    assert call.call_id == "not-there" and not call.path.exists()


def test_manifest_bad_channels_names_row_and_column(tmp_path):
    path = write_manifest(tmp_path, "file,agent_id,channels\nc1.wav,A1,mono\nc2.wav,A1,left\n")
    message = expect_input_error(path, "manifest.csv row 3: channels 'left' is not one of")
    assert "'agent,customer'" in message and "'mono'" in message


def test_manifest_unquoted_layout_gets_a_hint(tmp_path):
    path = write_manifest(tmp_path, "file,agent_id,channels\nc1.wav,A1,agent,customer\n")
    expect_input_error(path, "row 2: channels 'agent' is not one of", 'must be quoted: "agent,customer"')


def test_manifest_duplicate_call_ids(tmp_path):
    path = write_manifest(tmp_path, "file,agent_id,call_id\nx.wav,A1,c1\ny.wav,A1,c2\nz.wav,A2,C1\n")
    expect_input_error(path, "manifest.csv row 4", "call_id 'C1' is already used on row 2")


def test_manifest_duplicate_call_ids_from_stems(tmp_path):
    path = write_manifest(tmp_path, "file\nday1/c1.wav\nday2/c1.wav\n")
    expect_input_error(path, "row 3", "from file 'day2/c1.wav'", "already used on row 2")


def test_manifest_empty_file_cell(tmp_path):
    expect_input_error(write_manifest(tmp_path, "file,agent_id\n,A1\n"), "manifest.csv row 2: file is empty")


def test_manifest_without_file_column(tmp_path):
    expect_input_error(write_manifest(tmp_path, "path,agent_id\nc1.wav,A1\n"), "no 'file' column", "'path'")


def test_manifest_misspelt_column(tmp_path):
    expect_input_error(write_manifest(tmp_path, "file,agent_id,channel\nc1.wav,A1,mono\n"),
                       "unknown column 'channel'", "did you mean 'channels'")


def test_manifest_unsafe_call_id(tmp_path):
    expect_input_error(write_manifest(tmp_path, "file,call_id\nc1.wav,../c1\n"), "row 2", "call_id '../c1'")


def test_manifest_empty_and_header_only(tmp_path):
    expect_input_error(write_manifest(tmp_path, ""), "empty manifest")
    expect_input_error(write_manifest(tmp_path, "file,agent_id\n"), "no rows")


def test_manifest_not_utf8(tmp_path):
    path = tmp_path / "manifest.csv"
    path.write_bytes("file,agent_id\n通话.wav,A1\n".encode("gbk"))
    expect_input_error(path, "not UTF-8")


def test_missing_input_and_wrong_kind(tmp_path):
    expect_input_error(tmp_path / "nope", "no such file or directory")
    (tmp_path / "calls.xlsx").write_bytes(b"x")
    expect_input_error(tmp_path / "calls.xlsx", "expected a directory of recordings, a manifest .csv")
