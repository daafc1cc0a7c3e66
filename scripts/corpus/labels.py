"""Labels by construction: what the script made each call, from the generator's choices and the timeline.

Nothing here listens to audio or runs callqa; the QA standard is in corpus/README.md.
check.py derives the same labels a second way, from the truth files' acts and times.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from . import phrases as P
from .model import AGENT, CUSTOMER, RATE, CallSpec, Placed, Timeline
from .render import spoken_chars

ID_WINDOW_S = 30.0  # the ID must be stated within 30 s of the agent's first word
DEAD_AIR_S = 5.0
HOLD_EXEMPT_MAX_S = 60.0
WAIT_SILENCE_S = 3.0
INTERRUPTION_MIN_S = 1.0
GREETINGS = {"greet_company", "greet_plain", "greet_outbound"}


@dataclass
class CallLabels:
    greeting: str
    employee_id: str
    employee_id_status: str
    id_said: str
    standard_phrasing: str
    hold: str
    apology: str
    banned_phrases: str
    banned_said: str
    closing: str
    sentiment: str
    customer_sentiment: str
    silence: str
    dead_air: str
    interruptions: str
    interruption_count: str
    fast_utterances: str
    loud_utterances: str
    max_plain_cpm: str

    def row(self) -> dict[str, str]:
        return asdict(self)


def s(x: float) -> str:
    return f"{x:.3f}"


def combine(*verdicts: str) -> str:
    """fail if any fails, pass if any passes, na if all are na."""
    return "fail" if "fail" in verdicts else "pass" if "pass" in verdicts else "na"


def employee_id(spec: CallSpec, tl: Timeline) -> tuple[str, str, str]:
    agent = [p for p in tl.placed if p.role == AGENT]
    window_end = agent[0].start + ID_WINDOW_S * RATE
    said = [p.turn.id_said for p in agent if p.turn.id_said and p.start <= window_end]
    if spec.agent.employee_id in said:
        return "pass", "ok", spec.agent.employee_id
    if said:
        return "fail", "mismatch", said[0]
    return "fail", "missing", ""


def hold_etiquette(spec: CallSpec, tl: Timeline) -> str:
    """Every wait asked for before it; every wait of 3 s or more thanked for after it."""
    waits = [(a, b, kind) for a, b, kind in tl.holds if kind in ("hold", "lookup", "unannounced")]
    if not waits:
        return "na"
    for start, end, kind in waits:
        breaker = next(p for p in tl.placed if p.start == end and p.turn.pause_kind == kind)
        if kind != "hold":  # lookup announced without asking, or a silence nobody announced
            return "fail"
        if (end - start) >= WAIT_SILENCE_S * RATE and "hold_thanks" not in breaker.turn.acts:
            return "fail"
    return "pass"


def apology(spec: CallSpec) -> str:
    return {"none": "na", "unapologized": "fail"}.get(spec.features["complaint"], "pass")


def sentiment(spec: CallSpec) -> tuple[str, str]:
    """Negative if the customer is negative over the call (sum of act tones) or at its end (last turn)."""
    tones = [sum(P.CUSTOMER_SENTIMENT.get(a, 0) for a in t.acts) for t in spec.turns if t.role == CUSTOMER]
    total, last = sum(tones), tones[-1] if tones else 0
    if total < 0 or last < 0:
        return "fail", "negative"
    if total > 0 or last > 0:
        return "pass", "positive"
    return "pass", "neutral"


def dead_air(spec: CallSpec, tl: Timeline) -> list[tuple[float, float]]:
    """Silences of 5 s or more between the first and last word, except an announced hold (<= 60 s)."""
    exempt = {(a, b) for a, b, kind in tl.holds if kind == "hold" and b - a <= HOLD_EXEMPT_MAX_S * RATE}
    out, covered = [], None
    for p in sorted(tl.placed, key=lambda p: p.start):
        if covered is not None and p.start - covered >= DEAD_AIR_S * RATE and (covered, p.start) not in exempt:
            out.append((covered / RATE, p.start / RATE))
        covered = p.end if covered is None else max(covered, p.end)
    return out


def interruptions(tl: Timeline) -> list[tuple[float, float]]:
    """The agent starts while the customer speaks and both talk for more than 1 s."""
    out = []
    for a in (p for p in tl.placed if p.role == AGENT):
        for c in (p for p in tl.placed if p.role == CUSTOMER):
            if c.start < a.start < c.end:
                overlap = (min(c.end, a.end) - a.start) / RATE
                if overlap > INTERRUPTION_MIN_S:
                    out.append((a.start / RATE, overlap))
    return out


def cpm(p: Placed) -> float:
    return spoken_chars(p.turn.text) / ((p.end - p.start) / RATE / 60)


def label_call(spec: CallSpec, tl: Timeline) -> CallLabels:
    first_agent = next(p for p in tl.placed if p.role == AGENT)
    id_verdict, id_status, id_said = employee_id(spec, tl)
    hold, apol = hold_etiquette(spec, tl), apology(spec)
    banned = [w for t in spec.turns if t.role == AGENT for w in t.banned]
    closing_ok = spec.features["closing"] == "full"
    sent, cust_sent = sentiment(spec)
    gaps = dead_air(spec, tl)
    mono = spec.line.layout == "mono"
    inter = interruptions(tl)
    agent = [p for p in tl.placed if p.role == AGENT]
    plain = [cpm(p) for p in agent if not p.turn.fast_cpm and p.end - p.start >= 1.5 * RATE]
    return CallLabels(
        greeting="pass" if GREETINGS & set(first_agent.turn.acts) else "fail",
        employee_id=id_verdict, employee_id_status=id_status, id_said=id_said,
        standard_phrasing=combine(hold, apol), hold=hold, apology=apol,
        banned_phrases="fail" if banned else "pass", banned_said=";".join(banned),
        closing="pass" if closing_ok else "fail",
        sentiment=sent, customer_sentiment=cust_sent,
        silence="fail" if gaps else "pass", dead_air=";".join(f"{s(a)}-{s(b)}" for a, b in gaps),
        interruptions="na" if mono else ";".join(f"{s(a)}+{s(o)}" for a, o in inter),
        interruption_count="na" if mono else str(len(inter)),
        fast_utterances=";".join(f"u{p.index}:{cpm(p):.0f}" for p in agent if p.turn.fast_cpm),
        loud_utterances=";".join(f"u{p.index}:+{p.turn.gain_db:.1f}dB" for p in agent if p.turn.gain_db),
        max_plain_cpm=f"{max(plain):.0f}" if plain else "",
    )
