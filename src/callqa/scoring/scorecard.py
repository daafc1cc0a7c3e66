"""The scorecard: which checks run, their phrases, windows, deductions and flags.

A scorecard is a TOML file. The packaged ``default_scorecard.toml`` holds every
default; a user's file overrides it key by key, so it lists only what it
changes. Each ``[checks.<id>]`` section is validated against that check's
``config_class`` (a dataclass): unknown check ids and keys are rejected with
the valid ones listed, values must have the key's type, numbers must not be
negative, and phrase lists must parse. Every error names its key::

    checks.banned_phrases.deduction: expected a number, got 'ten'
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..checks.base import CheckConfig, VerificationSettings
from ..errors import UsageError
from ..checks.matching import MatchSettings, expand_phrase
from ..checks.registry import CHECKS

__all__ = ["Scorecard", "ScorecardError", "load_scorecard", "parse_scorecard", "default_scorecard_text"]

DEFAULT_SCORECARD = "default_scorecard.toml"
_TOP_LEVEL_KEYS = ("name", "description", "flag_below", "min_agent_speech_s", "matching", "verification", "checks")


class ScorecardError(UsageError):
    """A scorecard that cannot be used; ``errors`` lists every problem, each naming its key."""

    def __init__(self, errors: str | list[str], source: str | None = None):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        self.source = source
        if len(self.errors) == 1:
            message = f"{source}: {self.errors[0]}" if source else self.errors[0]
        else:
            message = (f"{source}:" if source else "scorecard errors:") + "".join(f"\n  {e}" for e in self.errors)
        super().__init__(message)


@dataclass
class Scorecard:
    name: str = "default"
    flag_below: float = 80.0  # a call scoring below this is flagged
    # A call whose agent speaks for less than this (seconds of speech) is not scored: silence, line
    # noise, tones or a clip cut short would otherwise pass every check and score 100.
    min_agent_speech_s: float = 3.0
    matching: MatchSettings = field(default_factory=MatchSettings)
    verification: VerificationSettings = field(default_factory=VerificationSettings)
    checks: dict[str, CheckConfig] = field(default_factory=dict)  # in scorecard order, disabled ones included
    description: str = ""
    source: str = "<default>"  # the file it came from
    text: str = ""  # that file's TOML, kept with results so a score can be explained later

    @property
    def enabled(self) -> list[str]:
        return [check_id for check_id, config in self.checks.items() if config.enabled]


def default_scorecard_text() -> str:
    return resources.files(__package__).joinpath(DEFAULT_SCORECARD).read_text(encoding="utf-8")


def load_scorecard(path: Path | str | None = None) -> Scorecard:
    """The packaged default (``path`` None), or a user's file over it."""
    default_text = default_scorecard_text()
    default = _parse_toml(default_text, f"<packaged {DEFAULT_SCORECARD}>")
    if path is None:
        return parse_scorecard(default, source="<default>", text=default_text)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScorecardError(f"cannot read scorecard: {e}", str(path)) from e
    data = _parse_toml(text, str(path))
    base = dict(default, name=path.stem)  # a file that does not name itself is called by its file name
    return parse_scorecard(data, base=base, source=str(path), text=text)


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScorecardError(f"not valid TOML: {e}", source) from e


def parse_scorecard(
    data: dict[str, Any], base: dict[str, Any] | None = None, source: str = "<dict>", text: str = ""
) -> Scorecard:
    """Build a scorecard from parsed TOML, layered over ``base`` when given."""
    errors: list[str] = []
    checks = CHECKS

    for key in data:
        if key not in _TOP_LEVEL_KEYS:
            errors.append(f"{key}: unknown key; valid: {', '.join(_TOP_LEVEL_KEYS)}")
    merged = _merge(base or {}, data)

    name = _value(merged, "name", str, "name", errors, "default")
    description = _value(merged, "description", str, "description", errors, "")
    flag_below = _value(merged, "flag_below", float, "flag_below", errors, 80.0)
    if isinstance(flag_below, float) and not 0 <= flag_below <= 100:
        errors.append(f"flag_below: must be between 0 and 100, got {flag_below:g}")
    min_speech = _value(merged, "min_agent_speech_s", float, "min_agent_speech_s", errors, 3.0)
    if isinstance(min_speech, float) and min_speech < 0:
        errors.append(f"min_agent_speech_s: must not be negative, got {min_speech:g}")

    matching = _build(MatchSettings, _table(merged, "matching", "matching", errors), "matching", errors)
    if isinstance(matching, MatchSettings):
        if not 0 < matching.fuzzy_threshold <= 1:
            errors.append(f"matching.fuzzy_threshold: must be in (0, 1], got {matching.fuzzy_threshold:g}")
        if not 0 <= matching.low_confidence_below <= 1:
            errors.append(f"matching.low_confidence_below: must be in [0, 1], got {matching.low_confidence_below:g}")

    verification = _build(VerificationSettings, _table(merged, "verification", "verification", errors),
                          "verification", errors)
    if isinstance(verification, VerificationSettings):
        if not 0 < verification.speaker_doubt_below <= 1:
            errors.append(f"verification.speaker_doubt_below: must be in (0, 1], got {verification.speaker_doubt_below:g}")
        if verification.max_candidates < 1:
            errors.append(f"verification.max_candidates: must be at least 1, got {verification.max_candidates}")

    sections = _table(merged, "checks", "checks", errors)
    configs: dict[str, CheckConfig] = {}
    for check_id, section in sections.items():
        if check_id not in checks:
            errors.append(f"checks.{check_id}: unknown check; valid: {', '.join(checks)}")
            continue
        if not isinstance(section, dict):
            errors.append(f"checks.{check_id}: expected a table, got {section!r}")
            continue
        config = _build(checks[check_id].config_class, section, f"checks.{check_id}", errors)
        if config is not None:
            configs[check_id] = config
    for check_id, cls in checks.items():  # a check the files do not mention runs with its own defaults
        if check_id not in sections:
            configs[check_id] = cls.config_class()

    _fill_same_as(configs, errors)
    if errors:
        raise ScorecardError(errors, source)
    for config in configs.values():
        config.verification = verification
        if any(f.name == "matching" for f in dataclasses.fields(config)):
            config.matching = matching  # type: ignore[attr-defined]
    return Scorecard(name, flag_below, min_speech, matching, verification, configs, description, source, text)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value in ``over`` replaces the base's."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _table(data: dict[str, Any], key: str, where: str, errors: list[str]) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        errors.append(f"{where}: expected a table, got {value!r}")
        return {}
    return value


_TYPE_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}


def _value(data: dict[str, Any], key: str, typ: Any, where: str, errors: list[str], default: Any) -> Any:
    if key not in data:
        return default
    ok, value = _coerce(data[key], typ)
    if not ok:
        expected = "a list of strings" if typ == list[str] else _TYPE_NAMES.get(typ, str(typ))
        errors.append(f"{where}: expected {expected}, got {data[key]!r}")
        return default
    return value


def _coerce(value: Any, typ: Any) -> tuple[bool, Any]:
    if typ is bool:
        return isinstance(value, bool), value
    if isinstance(value, bool):
        return False, value  # TOML true is not a number
    if typ is int:
        return isinstance(value, int), value
    if typ is float:
        return isinstance(value, (int, float)), float(value) if isinstance(value, (int, float)) else value
    if typ is str:
        return isinstance(value, str), value
    if typ == list[str]:
        return isinstance(value, list) and all(isinstance(v, str) for v in value), value
    return False, value


def _fill_same_as(configs: dict[str, CheckConfig], errors: list[str]) -> None:
    """A key left empty whose field says ``same_as = "check.key"`` takes that key's value: one fact, one place
    (silence.hold_phrases is standard_phrasing.ask_phrases unless a scorecard gives it a list of its own)."""
    for check_id, config in configs.items():
        for field_ in dataclasses.fields(config):
            target = field_.metadata.get("same_as")
            if not target or getattr(config, field_.name):
                continue
            other_id, _, key = target.partition(".")
            other = configs.get(other_id)
            if other is None or not hasattr(other, key):
                errors.append(f"checks.{check_id}.{field_.name}: follows {target}, which does not exist")
                continue
            value = getattr(other, key)
            setattr(config, field_.name, list(value) if isinstance(value, list) else value)


def _build(cls: type, section: dict[str, Any], where: str, errors: list[str]) -> Any:
    """An instance of the dataclass ``cls`` from a TOML table, errors naming ``where.key``."""
    hints = typing.get_type_hints(cls)
    keys = [f.name for f in dataclasses.fields(cls) if f.metadata.get("toml", True)]
    values: dict[str, Any] = {}
    before = len(errors)
    for key, raw in section.items():
        if key not in keys:
            errors.append(f"{where}.{key}: unknown key; valid: {', '.join(keys)}")
            continue
        value = _value(section, key, hints[key], f"{where}.{key}", errors, None)
        if value is None:
            continue
        field_ = next(f for f in dataclasses.fields(cls) if f.name == key)
        signed = field_.metadata.get("signed", False)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0 and not signed:
            errors.append(f"{where}.{key}: must not be negative, got {value:g}")
            continue
        if field_.metadata.get("contexts"):
            for i, entry in enumerate(value):
                name, sep, rest = entry.partition("=")
                homophone, colon, words = rest.partition(":")
                if not sep or not colon or not name.strip() or not homophone.strip() or not words.strip("| "):
                    errors.append(f"{where}.{key}[{i}]: {entry!r}: write PHRASE=HOMOPHONE:WORD|WORD (不行=步行:过去|大概)")
            values[key] = value
            continue
        if field_.metadata.get("rivals"):
            for i, entry in enumerate(value):
                name, sep, alternatives = entry.partition("=")
                if not sep or not name.strip() or not any(a.strip() for a in alternatives.split("|")):
                    errors.append(f"{where}.{key}[{i}]: {entry!r}: write PHRASE=RIVAL|RIVAL (不行=不幸|不醒)")
            values[key] = value
            continue
        if field_.metadata.get("phrases"):
            if not value and not field_.metadata.get("optional"):
                errors.append(f"{where}.{key}: empty; list at least one phrase, or set enabled = false "
                              "(with no phrases the check could never find what it looks for)")
            for i, entry in enumerate(value):
                try:
                    expand_phrase(entry)
                except ValueError as e:
                    errors.append(f"{where}.{key}[{i}]: {e}")
        values[key] = value
    if len(errors) > before:
        return None
    try:
        return cls(**values)
    except ValueError as e:  # a config's own cross-field validation; its message names the key
        message = str(e)
        errors.append(message if message.startswith(where) else f"{where}: {message}")
        return None
