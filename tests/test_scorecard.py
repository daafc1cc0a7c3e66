"""scoring/scorecard.py and `callqa scorecard`: the default, layering, errors that name the key."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest
from typer.testing import CliRunner

from callqa.asr.transcript import Transcript, Utterance
from callqa.checks.base import CallContext, CheckResult
from callqa.checks.registry import CHECKS, run_checks
from callqa.cli import app
from callqa.scoring.scorecard import ScorecardError, default_scorecard_text, load_scorecard



def write(tmp_path, text: str):
    path = tmp_path / "card.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_scorecard_loads_in_order_with_the_penalty_table():
    card = load_scorecard(None)
    assert list(card.checks) == list(CHECKS)
    assert card.flag_below == 80
    assert card.checks["employee_id"].deduction == 5  # 未按客服规范报工号，一次扣5分
    assert card.checks["banned_phrases"].deduction == 10  # 不当言词 per occurrence
    assert {c for c, cfg in card.checks.items() if cfg.critical} == {"employee_id", "banned_phrases", "sentiment", "channel_layout"}
    assert card.checks["banned_phrases"].matching is card.matching
    assert card.text == default_scorecard_text()


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_config_class_defaults_equal_the_packaged_toml(check_id):
    # Two places hold the defaults; this keeps them from drifting apart.
    section = tomllib.loads(default_scorecard_text())["checks"][check_id]
    defaults = CHECKS[check_id].config_class()
    for key, value in section.items():
        assert getattr(defaults, key) == value, key
    toml_keys = {f.name for f in dataclasses.fields(defaults) if f.metadata.get("toml", True)}
    assert toml_keys == set(section), "every key is in the default file, documented"


def test_a_user_file_overrides_key_by_key(tmp_path):
    card = load_scorecard(write(tmp_path, 'flag_below = 70\n[checks.banned_phrases]\nphrases = ["没办法"]\n'))
    assert card.flag_below == 70
    assert card.name == "card"  # named after its file when it does not say
    assert card.checks["banned_phrases"].phrases == ["没办法"]
    assert card.checks["banned_phrases"].deduction == 10  # untouched keys keep the default
    assert card.checks["closing"].farewell_phrases == load_scorecard(None).checks["closing"].farewell_phrases


def test_disabled_checks_do_not_run(tmp_path):
    card = load_scorecard(write(tmp_path, "[checks.sentiment]\nenabled = false\n[checks.closing]\nenabled = false\n"))
    transcript = Transcript("c", "c.wav", None, "agent,customer", 3, [Utterance("agent", 0, 3, "您好", "您好", 0.9)])
    results = run_checks(transcript, card.checks, CallContext("c"))
    assert list(results) == ["greeting", "employee_id", "standard_phrasing", "banned_phrases", "silence",
                             "interruptions", "speech_rate", "raised_voice", "channel_layout"]  # response_time: off
    assert results["employee_id"].critical is True and results["greeting"].critical is False


def test_a_check_that_raises_is_reported_not_fatal(monkeypatch):
    card = load_scorecard(None)

    def boom(self, transcript, config, context):
        raise RuntimeError("model file missing")

    monkeypatch.setattr(CHECKS["closing"], "run", boom)
    transcript = Transcript("c", "c.wav", None, "agent,customer", 3, [Utterance("agent", 0, 3, "喂", "喂", 0.9)])
    results = run_checks(transcript, card.checks, CallContext("c"))
    error = {"error": "RuntimeError: model file missing"}
    assert results["closing"] == CheckResult("closing", None, 0.0, [], False, error)
    assert results["greeting"].passed is False  # the others still ran


@pytest.mark.parametrize(
    "text,error",
    [
        (
            '[checks.banned_phrases]\ndeduction = "ten"\n',
            "checks.banned_phrases.deduction: expected a number, got 'ten'",
        ),
        ("[checks.banned_phrases]\ndeduction = true\n", "checks.banned_phrases.deduction: expected a number, got True"),
        ("[checks.closing]\ndeduction = -5\n", "checks.closing.deduction: must not be negative, got -5"),
        ("[checks.greetings]\nenabled = true\n", "checks.greetings: unknown check; valid: "),
        ("[checks.greeting]\ncolour = 1\n", "checks.greeting.colour: unknown key; valid: enabled, deduction, critical"),
        ('[checks.greeting]\nphrases = "您好"\n', "checks.greeting.phrases: expected a list of strings, got '您好'"),
        ('[checks.greeting]\nphrases = ["您好", "(欢迎"]\n', "checks.greeting.phrases[1]: unbalanced"),
        ('[checks.employee_id]\nmin_digits = 3.5\n', "checks.employee_id.min_digits: expected a whole number, got 3.5"),
        ("[checks.greeting]\nmatching = 1\n", "checks.greeting.matching: unknown key"),
        ("[checks.greeting]\nphrases = []\n", "checks.greeting.phrases: empty; list at least one phrase"),
        ("[checks.banned_phrases]\nphrases = []\n", "checks.banned_phrases.phrases: empty"),
        ('[checks.banned_phrases]\nhomophone_contexts = ["不行=步行"]\n',
         "checks.banned_phrases.homophone_contexts[0]: '不行=步行': write PHRASE=HOMOPHONE:WORD|WORD"),
        ('[checks.closing]\ncustomers_say_too = ["拜拜"]\n',
         "checks.closing.customers_say_too: '拜拜' is not one of farewell_phrases (再见, "),
        ("min_agent_speech_s = -1\n", "min_agent_speech_s: must not be negative"),
        ("[matching]\nfuzzy_threshold = 1.5\n", "matching.fuzzy_threshold: must be in (0, 1], got 1.5"),
        ("[matching]\nfuzzy = 1\n", "matching.fuzzy: expected true or false, got 1"),
        ("flag_below = 120\n", "flag_below: must be between 0 and 100, got 120"),
        ("threshold = 80\n", "threshold: unknown key; valid: name, description, flag_below, min_agent_speech_s, matching, verification, checks"),
        ("checks = 3\n", "checks: expected a table, got 3"),
        ("[checks\n", "not valid TOML"),
    ],
)
def test_errors_name_the_key(tmp_path, text, error):
    with pytest.raises(ScorecardError) as e:
        load_scorecard(write(tmp_path, text))
    assert any(error in line for line in e.value.errors), e.value.errors


def test_all_errors_are_reported_at_once(tmp_path):
    with pytest.raises(ScorecardError) as e:
        load_scorecard(write(tmp_path, '[checks.greeting]\ndeduction = "x"\n[checks.closing]\nwindow_s = -1\n'))
    assert len(e.value.errors) == 2
    assert "card.toml" in str(e.value)


def test_a_missing_file_is_a_scorecard_error(tmp_path):
    with pytest.raises(ScorecardError, match="cannot read scorecard"):
        load_scorecard(tmp_path / "nope.toml")


def test_cli_check_ok_and_errors(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["scorecard", "check", str(write(tmp_path, "[checks.closing]\ndeduction = 3\n"))])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output and "closing" in ok.output and "employee_id" in ok.output

    bad_file = write(tmp_path, '[checks.banned_phrases]\ndeduction = "ten"\n')
    bad = runner.invoke(app, ["scorecard", "check", str(bad_file)])
    assert bad.exit_code == 1
    assert "checks.banned_phrases.deduction: expected a number, got 'ten'" in bad.output


def test_cli_show_prints_a_scorecard_that_checks(tmp_path):
    shown = CliRunner().invoke(app, ["scorecard", "show"])
    assert shown.exit_code == 0
    assert shown.output == default_scorecard_text()
    assert list(load_scorecard(write(tmp_path, shown.output)).checks) == list(load_scorecard(None).checks)


def test_a_checks_own_validation_error_names_its_key(tmp_path):
    from callqa.scoring.scorecard import ScorecardError, load_scorecard

    bad = tmp_path / "bad.toml"
    bad.write_text("[checks.sentiment]\nnegative_threshold = 1.5\n", encoding="utf-8")
    with pytest.raises(ScorecardError) as info:
        load_scorecard(bad)
    assert "checks.sentiment.negative_threshold" in str(info.value)


def test_scorecard_checks_lists_every_registered_check_with_its_description():
    result = CliRunner().invoke(app, ["scorecard", "checks"], terminal_width=300)
    assert result.exit_code == 0, result.output
    for cls in CHECKS.values():
        assert cls.id in result.output and cls.name_zh in result.output
        assert cls.description.split()[0] in result.output


def test_optional_phrase_lists_may_be_empty(tmp_path):
    card = load_scorecard(write(tmp_path, "[checks.banned_phrases]\nexceptions = []\nquestion_exceptions = []\n"))
    assert card.checks["banned_phrases"].exceptions == []


def test_the_hold_request_is_written_once_and_silence_follows_it(tmp_path):
    default = load_scorecard(None)
    assert default.checks["silence"].hold_phrases == default.checks["standard_phrasing"].ask_phrases
    card = load_scorecard(write(tmp_path, '[checks.standard_phrasing]\nask_phrases = ["请稍候片刻"]\n'))
    assert card.checks["silence"].hold_phrases == ["请稍候片刻"]  # one edit changes both checks
    own = load_scorecard(write(tmp_path, '[checks.silence]\nhold_phrases = ["请别挂断"]\n'))
    assert own.checks["silence"].hold_phrases == ["请别挂断"]
    assert own.checks["standard_phrasing"].ask_phrases == default.checks["standard_phrasing"].ask_phrases


def test_complaints_read_the_sentiment_lexicon_a_scorecard_gives(tmp_path):
    from pathlib import Path

    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text((Path(__file__).parent.parent / "src/callqa/checks/data/sentiment_lexicon.yaml").read_text("utf-8"),
                       encoding="utf-8")
    assert load_scorecard(None).checks["standard_phrasing"].lexicon == ""
    card = load_scorecard(write(tmp_path, f'[checks.sentiment]\nlexicon = "{lexicon}"\n'))
    assert card.checks["standard_phrasing"].lexicon == str(lexicon)  # one setting, both checks
