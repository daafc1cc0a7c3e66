"""Scorecard and scores: check results in, a 0-100 score and flags out.

    load_scorecard(path) -> Scorecard     the packaged default, or a user's TOML over it (errors name the key)
    score_call(result, scorecard, roster) -> CallScore   one line of calls.jsonl
    compute_outcome(results, flag_below, dismissed) -> ScoreOutcome   the one score arithmetic
    load_roster(path) -> Roster           agent_id -> name and the employee ID they must state
"""

from .._exports import lazy_exports

__all__ = ["CallScore", "Roster", "Scorecard", "ScoreOutcome", "compute_outcome", "load_roster", "load_scorecard",
           "score_call"]

__getattr__ = lazy_exports(__name__, {
    "CallScore": "score",
    "Roster": "roster",
    "Scorecard": "scorecard",
    "ScoreOutcome": "outcome",
    "compute_outcome": "outcome",
    "load_roster": "roster",
    "load_scorecard": "scorecard",
    "score_call": "score",
})
