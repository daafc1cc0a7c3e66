"""Labels derived a second way: from a truth file's acts, texts and times alone.

labels.py labels a call from what the generator chose (its plan) and the timeline;
this module knows nothing of plans: it reads the truth JSON as a QA listener with a
perfect transcript would, applying the standard in corpus/README.md. check.py asserts
that both agree on every call.
"""

from __future__ import annotations

import re

from .phrases import CUSTOMER_SENTIMENT

GREETING_ACTS = {"greet_company", "greet_plain", "greet_outbound"}
ID_ACTS = {"state_id", "state_id_late"}
COMPLAINT_ACTS = {"complaint", "parting_threat"}
BANNED_WORDS = ("不行", "不知道", "不可以")
CN_DIGITS = {c: str(i) for i, c in enumerate("零一二三四五六七八九")} | {"幺": "1"}


def samples(t: float) -> int:
    """Times in truth files are whole samples at 8 kHz: compute with those, as labels.py does."""
    return round(t * 8000)


def acts(u: dict) -> set[str]:
    return {a["act"] for a in u["acts"]}


def agent_turns(doc: dict) -> list[dict]:
    return [u for u in doc["utterances"] if u["role"] == "agent"]


def digits_in(text: str) -> str:
    """The longest run of spoken digits: 工号幺三五七为您服务 -> 1357."""
    runs = re.findall("[零一二三四五六七八九幺]+", text)
    return "".join(CN_DIGITS[c] for c in max(runs, key=len)) if runs else ""


def greeting(doc: dict) -> str:
    return "pass" if GREETING_ACTS & acts(agent_turns(doc)[0]) else "fail"


def employee_id(doc: dict, roster_id: str) -> tuple[str, str, str]:
    agent = agent_turns(doc)
    window_end = agent[0]["start"] + 30.0
    said = [digits_in(a["text"]) for u in agent if u["start"] <= window_end for a in u["acts"] if a["act"] in ID_ACTS]
    if roster_id in said:
        return "pass", "ok", roster_id
    return ("fail", "mismatch", said[0]) if said else ("fail", "missing", "")


def _gaps(doc: dict):
    """(silence, utterance before it, utterance after it) between consecutive stretches of speech."""
    utts = sorted(doc["utterances"], key=lambda u: u["start"])
    covered, before = utts[0]["end"], utts[0]
    for u in utts[1:]:
        yield u["start"] - covered, before, u
        if u["end"] >= covered:
            covered, before = u["end"], u


def hold(doc: dict) -> str:
    """A wait: a lookup/hold the agent announced, or 3 s of silence the agent breaks."""
    verdicts = []
    for silence, before, after in _gaps(doc):
        if after["role"] != "agent":
            continue
        announced = before["role"] == "agent" and acts(before) & {"hold_request", "lookup"}
        if not announced and silence < 3.0:
            continue
        asked = before["role"] == "agent" and "hold_request" in acts(before)
        thanked = silence < 3.0 or "hold_thanks" in acts(after)
        verdicts.append(asked and thanked)
    return "na" if not verdicts else "pass" if all(verdicts) else "fail"


def apology(doc: dict) -> str:
    """Each complaint episode owes an apology in the agent's next turn, unless one was already given."""
    utts = sorted(doc["utterances"], key=lambda u: u["start"])
    verdict, apologized = "na", False
    for i, u in enumerate(utts):
        if u["role"] != "customer" or not acts(u) & COMPLAINT_ACTS or apologized:
            continue
        reply = next((v for v in utts[i + 1:] if v["role"] == "agent" and v["start"] > u["start"]), None)
        if reply is not None and "apology" in acts(reply):
            apologized, verdict = True, "pass"
        else:
            return "fail"
    return verdict


def banned(doc: dict) -> list[str]:
    said = []
    for u in agent_turns(doc):
        for a in u["acts"]:
            if a["act"] == "banned":
                said += [w for w in BANNED_WORDS for _ in range(a["text"].count(w))]
    return said


def closing(doc: dict) -> str:
    last_two = agent_turns(doc)[-2:]
    asks = any("ask_more" in acts(u) for u in last_two)
    return "pass" if asks and "close_courteous" in acts(last_two[-1]) else "fail"


def sentiment(doc: dict) -> tuple[str, str]:
    tones = [sum(CUSTOMER_SENTIMENT.get(a["act"], 0) for a in u["acts"])
             for u in doc["utterances"] if u["role"] == "customer"]
    total, last = sum(tones), tones[-1] if tones else 0
    if total < 0 or last < 0:
        return "fail", "negative"
    return ("pass", "positive") if total > 0 or last > 0 else ("pass", "neutral")


def dead_air(doc: dict) -> list[tuple[float, float]]:
    out = []
    for silence, before, after in _gaps(doc):
        hold_exempt = before["role"] == "agent" and "hold_request" in acts(before) and after["role"] == "agent" \
            and silence <= 60.0
        if silence >= 5.0 and not hold_exempt:
            out.append((round(after["start"] - silence, 3), round(after["start"], 3)))
    return out


def interruptions(doc: dict) -> list[tuple[float, float]] | None:
    if doc["channels"] == "mono":
        return None
    out = []
    for a in agent_turns(doc):
        for c in (u for u in doc["utterances"] if u["role"] == "customer"):
            overlap = (samples(min(c["end"], a["end"])) - samples(a["start"])) / 8000
            if c["start"] < a["start"] < c["end"] and overlap > 1.0:
                out.append((a["start"], overlap))
    return out


def cpm(u: dict) -> float:
    return sum(ch.isalnum() for ch in u["text"]) / ((samples(u["end"]) - samples(u["start"])) / 8000 / 60)


def derive(doc: dict, roster_id: str) -> dict[str, str]:
    """The label columns of labels.csv, from the truth file alone."""
    id_verdict, id_status, id_said = employee_id(doc, roster_id)
    h, ap = hold(doc), apology(doc)
    said = banned(doc)
    sent, cust = sentiment(doc)
    gaps = dead_air(doc)
    inter = interruptions(doc)
    agent = agent_turns(doc)
    plain = [cpm(u) for u in agent if "time_stretched_cpm" not in u and u["end"] - u["start"] >= 1.5]
    return {
        "greeting": greeting(doc), "employee_id": id_verdict, "employee_id_status": id_status, "id_said": id_said,
        "standard_phrasing": "fail" if "fail" in (h, ap) else "pass" if "pass" in (h, ap) else "na",
        "hold": h, "apology": ap, "banned_phrases": "fail" if said else "pass", "banned_said": ";".join(said),
        "closing": closing(doc), "sentiment": sent, "customer_sentiment": cust,
        "silence": "fail" if gaps else "pass", "dead_air": ";".join(f"{a:.3f}-{b:.3f}" for a, b in gaps),
        "interruptions": "na" if inter is None else ";".join(f"{a:.3f}+{o:.3f}" for a, o in inter),
        "interruption_count": "na" if inter is None else str(len(inter)),
        "fast_utterances": ";".join(f"u{u['index']}:{cpm(u):.0f}" for u in agent if "time_stretched_cpm" in u),
        "loud_utterances": ";".join(f"u{u['index']}:+{u['gain_db']:.1f}dB" for u in agent if "gain_db" in u),
        "max_plain_cpm": f"{max(plain):.0f}" if plain else "",
    }
