"""Arbitrary input never raises anything but the documented error (Hypothesis).

The manifest and roster readers raise InputError / RosterError (a UsageError
naming the row and column) or return what they read; the text normalizer and
the spoken-ID parser take any text at all.
"""

from __future__ import annotations

import string

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from callqa.audio.inputs import InputError, read_manifest
from callqa.checks.matching import MatchSettings, compile_phrases
from callqa.checks.spoken_ids import find_ids, parse_id
from callqa.scoring.roster import RosterError, load_roster
from callqa.text import SPOKEN_DIGITS, normalize_text

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Text a call-centre file or transcript plausibly holds, and then some: CSV syntax, CJK, digits, controls.
CELLS = st.text(alphabet=st.sampled_from(list(string.printable) + list("工号客服您好不行两幺零〇八九，。？、\x00\ufeff")), max_size=30)
ANY_TEXT = st.text(max_size=80)
MANIFEST_HEADERS = ["file", "agent_id", "call_id", "channels", "channel", "File", " file ", "extra", ""]


@SETTINGS
@given(text=ANY_TEXT)
def test_a_manifest_of_any_text_is_read_or_refused_with_input_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("m") / "manifest.csv"
    path.write_text(text, encoding="utf-8")
    try:
        calls = read_manifest(path)
    except InputError:
        return
    assert calls and all(c.call_id and c.file for c in calls)


@SETTINGS
@given(data=st.binary(max_size=60))
def test_a_manifest_of_any_bytes_is_read_or_refused_with_input_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("m") / "manifest.csv"
    path.write_bytes(data)
    try:
        calls = read_manifest(path)
    except InputError:
        return
    assert calls and all(c.call_id and c.file for c in calls)


@SETTINGS
@given(header=st.lists(st.sampled_from(MANIFEST_HEADERS), min_size=1, max_size=5),
       rows=st.lists(st.lists(CELLS, max_size=6), max_size=5))
@example(header=["file"], rows=[["\x00/0"]])  # a NUL in a path once raised ValueError from resolve()
def test_a_manifest_of_csv_shaped_rows_is_read_or_refused_with_input_error(tmp_path_factory, header, rows):
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    path = tmp_path_factory.mktemp("m") / "manifest.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        calls = read_manifest(path)
    except InputError as e:
        assert "manifest.csv" in str(e)  # the message names the file
        return
    ids = [c.call_id.casefold() for c in calls]
    assert len(ids) == len(set(ids)), "call ids are unique"
    assert all(c.channels in ("agent,customer", "customer,agent", "mono") for c in calls)


@SETTINGS
@given(rows=st.lists(st.lists(CELLS, min_size=0, max_size=4), max_size=6),
       header=st.sampled_from(["agent_id,name,employee_id", "agent_id,name", "name,employee_id,agent_id", ""]))
def test_a_roster_of_any_rows_is_read_or_refused_with_roster_error(tmp_path_factory, header, rows):
    import csv
    import io

    buffer = io.StringIO()
    buffer.write(header + "\n")
    csv.writer(buffer).writerows(rows)
    path = tmp_path_factory.mktemp("r") / "roster.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        roster = load_roster(path)
    except RosterError as e:
        assert "roster.csv" in str(e)
        return
    assert len(roster) >= 1
    assert all(entry.employee_id.isdigit() for entry in roster.entries.values())


@SETTINGS
@given(text=ANY_TEXT)
def test_the_normalizer_takes_any_text(text):
    out = normalize_text(text)
    assert isinstance(out, str)
    assert normalize_text(out) == out, "normalizing twice changes nothing"


@SETTINGS
@given(run=st.text(alphabet=st.sampled_from(list(SPOKEN_DIGITS) + list("0123456789十百千两 、-要期又林号a")), max_size=12))
def test_a_spoken_id_parses_to_digits_or_nothing(run):
    digits = parse_id(run)
    assert digits is None or digits.isdigit()


_MARKERS = compile_phrases(["工号", "我是"], MatchSettings())
_SUFFIXES = [compile_phrases(["号为您服务", "号客服"], MatchSettings()), compile_phrases(["为您服务"], MatchSettings())]


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list("工号我是为您服务客幺零一二三四五六七八九0123456789要期，。 ")) | st.characters(),
                    max_size=40),
       want=st.none() | st.integers(min_value=3, max_value=6))
def test_stated_ids_come_from_the_text_searched(text, want):
    for stated in find_ids(text, _MARKERS, _SUFFIXES, 3, 8, want):
        assert stated.digits.isdigit() and 3 <= len(stated.digits) <= 8
        assert 0 <= stated.start < stated.end <= len(text)


@SETTINGS
@given(said=st.text(alphabet="0123456789", min_size=3, max_size=6), roster=st.text(alphabet="0123456789", min_size=3, max_size=6),
       before=st.text(alphabet=list("工号我是您好，。"), max_size=6), script=st.sampled_from(["arabic", "chinese", "yao"]))
def test_an_id_read_by_sound_is_never_another_agents(said, roster, before, script):
    """Whatever digits were said, written in any of the ways agents read them, the roster's ID is read by
    sound only when they are the roster's own: not when they hold it inside a longer number (热线4000802366)."""
    from callqa.checks.spoken_ids import roster_id_by_sound

    chinese = dict(zip("0123456789", "零一二三四五六七八九")) | ({"1": "幺"} if script == "yao" else {})
    written = said if script == "arabic" else "".join(chinese[d] for d in said)
    assert (roster_id_by_sound(before + written + "号", roster) is not None) == (roster == said)
