"""What varieties the corpus holds, counted per split from labels.csv and the truth files.

Each variety is recognised from the truth file's acts and times (not from the
generator's plan), so the counts in the README are what a listener would find.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from .derive import acts, agent_turns, digits_in

CLOSING_KINDS = {"close_courteous": "full_or_thanks", "close_thanks_only": "thanks_only", "close_rude": "rude",
                 "ask_more": "question_only"}


def _closing_kind(doc: dict) -> str:
    last = acts(agent_turns(doc)[-1])
    if "close_courteous" in last:
        return "full" if any("ask_more" in acts(u) for u in agent_turns(doc)[-2:]) else "courteous_without_question"
    for act, kind in CLOSING_KINDS.items():
        if act in last:
            return kind
    return "none"


def _id_kinds(doc: dict, row: dict) -> set[str]:
    kinds = set()
    for u in agent_turns(doc):
        for a in u["acts"]:
            if a["act"] == "state_id_late":
                kinds.add("id stated late (after 30 s)" if row["employee_id_status"] != "ok" else "id stated late but in 30 s")
            if a["act"] in ("state_id", "state_id_late") and "幺" in a["text"]:
                kinds.add("id read with 幺")
    said, own = row["id_said"], doc["employee_id"]
    if row["employee_id_status"] == "mismatch":
        one_off = len(said) == len(own) and sum(x != y for x, y in zip(said, own)) == 1
        kinds.add("decoy: wrong id one digit off" if one_off else "wrong id (another)")
    if doc["direction"] == "outbound" and row["employee_id_status"] != "missing":
        kinds.add("outbound call states an id")
    return kinds


def _wait_kinds(doc: dict) -> set[str]:
    kinds = set()
    for s in doc["silences"]:
        length = s["end"] - s["start"]
        kinds.add({"hold": "hold asked with a hold phrase", "lookup": "lookup announced, not asked",
                   "unannounced": "silence >= 3 s nobody announced", "customer_pause": "customer looks something up (5 s+)"}
                  [s["kind"]])
        if s["kind"] == "hold":
            kinds.add("hold 2-3 s" if length < 3 else "hold 3-10 s" if length < 10 else "hold 10-20 s")
    for u in doc["utterances"]:
        if u.get("silence_before") in ("hold", "lookup", "unannounced"):
            kinds.add("thanks after the wait" if "hold_thanks" in acts(u) else "no thanks after the wait")
    return kinds


def _decoys(doc: dict) -> set[str]:
    kinds = set()
    for u in doc["utterances"]:
        a = acts(u)
        if u["role"] == "customer" and "cust_banned" in a:
            kinds.add("decoy: customer says 不行/不知道/不可以" + (" (mono)" if doc["channels"] == "mono" else " (stereo)"))
        if u["role"] == "agent":
            for act, name in (("polite_unknown", "decoy: agent's polite 不知道您…/不知道是否…"),
                              ("polite_ok", "decoy: agent's 方不方便/如果不行的话/行不行"),
                              ("near_miss", "decoy: 步行/不幸 in agent speech")):
                if act in a:
                    kinds.add(name)
        if "problem" in a:
            kinds.add("decoy: a problem stated, not a complaint")
        if "parting_threat" in a:
            kinds.add("decoy: complaint repeated as a parting threat after an apology")
    return kinds


def _call_varieties(row: dict, doc: dict) -> set[str]:
    v = {f"layout {row['layout']}", f"codec {row['codec']}", f"SNR {row['snr_db']}", f"business {row['business']}",
         f"direction {row['direction']}", f"ringback {row['ringback']}", f"closing {_closing_kind(doc)}",
         f"employee_id {row['employee_id_status']}", f"customer {row['customer_sentiment']}"}
    first = acts(agent_turns(doc)[0])
    v.add("greeting " + next((g for g in ("greet_company", "greet_plain", "greet_outbound", "greet_rude", "open_business")
                                if g in first), "none (outbound opens with 请问您是…)"))
    v |= _id_kinds(doc, row) | _wait_kinds(doc) | _decoys(doc)
    said = [w for w in row["banned_said"].split(";") if w]
    if said:
        v.add("banned said once" if len(said) == 1 else "banned said twice")
        v |= {f"banned {w}" for w in said}
    if row["apology"] != "na":
        v.add(f"complaint {'apologized' if row['apology'] == 'pass' else 'not apologized'}")
    for u in doc["utterances"]:
        if u.get("overlap") == "customer_over_agent":
            v.add("customer speaks over the end of an agent turn")
        if u.get("overlap") == "cut_in_short":
            v.add("agent cuts in < 0.5 s")
    if row["interruption_count"] not in ("na", "0"):
        v.add("interruption > 1 s (stereo)")
    for col, name in (("dead_air", "dead air"), ("fast_utterances", "fast agent utterance"),
                      ("loud_utterances", "loud agent utterance")):
        if row[col]:
            v.add(name)
    return v


def varieties(labels: list[dict], truth: dict[str, dict]) -> dict[str, Counter]:
    """variety -> Counter of splits it occurs in (calls)."""
    out: dict[str, Counter] = defaultdict(Counter)
    for row in labels:
        for name in _call_varieties(row, truth[row["call_id"]]):
            out[name][row["split"]] += 1
    # voices: each must occur in both splits too
    for row in labels:
        for voice in {row["agent_voice"], row["customer_voice"]}:
            out[f"voice {voice}"][row["split"]] += 1
    return dict(sorted(out.items()))


OPTIONAL = {"closing courteous_without_question", "id stated late but in 30 s"}
