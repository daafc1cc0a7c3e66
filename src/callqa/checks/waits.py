"""Where the customer waited: the agent's announced lookups and holds, and the silences the agent broke.

standard_phrasing asks for the hold etiquette around each wait; the helpers here read a transcript only.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..asr.transcript import Transcript
from .matching import PhraseList, match_utterance

__all__ = ["Wait", "agent_turns", "asks_question", "find_waits", "longest_quiet"]


@dataclass
class Wait:
    begin: int  # agent utterance that starts the wait
    resume: int  # agent utterance that ends it
    trigger: str  # what marked it: the cue heard, or the silence
    waited_s: float  # the longest stretch nobody spoke in it: what the customer waited


def agent_turns(transcript: Transcript, first: int, count: int) -> list[int]:
    """The agent utterances of ``count`` agent turns from utterance ``first`` on;
    a turn ends where the customer speaks."""
    indices: list[int] = []
    turns = 0
    in_turn = False
    for k in range(first, len(transcript.utterances)):
        if transcript.utterances[k].role == "agent":
            if not in_turn:
                turns += 1
                if turns > max(1, count):
                    break
                in_turn = True
            indices.append(k)
        else:
            in_turn = False
    return indices


def longest_quiet(transcript: Transcript, first: int, last: int) -> float:
    """The longest stretch nobody speaks between the end of utterance ``first`` and the start of ``last``."""
    utts = transcript.utterances
    latest_end, longest = utts[first].end, 0.0
    for k in range(first + 1, last + 1):
        longest = max(longest, utts[k].start - latest_end)
        latest_end = max(latest_end, utts[k].end)
    return longest


def asks_question(text: str) -> bool:
    """A silence after the agent's own question is the customer's turn, not a wait."""
    text = text.rstrip().rstrip("。.！!…")
    # Raw words: Whisper writes 嗎 too. 着呢 is a statement (我看着呢, 正忙着呢: "I am on it"), whatever the 呢.
    return text.endswith(("?", "？", "吗", "嗎", "呢")) and not text.endswith("着呢")



def find_waits(transcript: Transcript, agent: list[int], asks: PhraseList, cues: PhraseList, silence_s: float,
               min_s: float) -> list[Wait]:
    """The waits of a call, in order: silences of ``silence_s`` nobody filled that the agent broke, and lookups or
    holds the agent announced (``cues``: 我帮您查一下, 请您稍等) with ``min_s`` of quiet after them; ``asks`` are the
    hold requests, whose words before a silence make it the customer's own pause on mono."""
    utts = transcript.utterances

    def next_agent(i: int) -> int | None:
        return next((j for j in agent if j > i), None)

    found: list[Wait] = []
    # Silences nobody filled that the agent then broke; on mono also one after the customer's words that
    # "the customer" broke, unless they had asked for a pause of their own (您稍等，我找一下): the customer had
    # the floor and nobody answered, and the words after the silence are the agent's as often as not, since
    # Whisper and the voices split mono turns badly (dev c118: the answer after a 7 s lookup given to the
    # customer at role confidence 0.94 hid the wait).
    latest_end = None
    for k, u in enumerate(utts):
        broke = u.role == "agent" or (transcript.channels == "mono" and k > 0 and utts[k - 1].role == "customer"
                                      and not match_utterance(utts[k - 1], asks))
        if latest_end is not None and broke and u.start - latest_end >= silence_s:
            begin = max((i for i in agent if i < k), default=None)
            if begin is not None and not (begin == k - 1 and asks_question(utts[begin].raw_text)):
                found.append(Wait(begin, k, f"{u.start - latest_end:.0f} s silence",
                                   longest_quiet(transcript, begin, k)))
        latest_end = u.end if latest_end is None else max(latest_end, u.end)
    # Lookups and holds the agent announced (我帮您查一下, 请您稍等). A trigger creates an obligation, but
    # only with wait_min_s of quiet after it, so it matches on every tier: Whisper writes the lookup's verb
    # wrong (我帮您拍一下, 帮您和许一下, 幫您查醒一下), and matched exactly, dev's lookups with 1.9-2.9 s of quiet
    # (under wait_silence_s) were no wait at all: dev standard_phrasing 0.91 -> 0.95, nothing lost on dev.
    for i in agent:
        hits = match_utterance(utts[i], cues)
        resume = next_agent(i)
        quiet = longest_quiet(transcript, i, resume) if resume is not None else 0.0
        if hits and quiet >= min_s:
            found.append(Wait(i, resume, f"said {hits[0].quote}", quiet))

    # One wait may show as a cue and a silence (我查一下 ... 请稍等 ... silence): merge
    # when the second starts before the first ended, or right at its end
    # if the first had no silence of its own.
    found.sort(key=lambda w: (w.begin, w.resume))
    merged: list[Wait] = []
    for w in found:
        last = merged[-1] if merged else None
        if last and (w.begin < last.resume or (w.begin == last.resume and last.waited_s < silence_s)):
            if w.resume > last.resume:
                last.resume, last.waited_s = w.resume, max(last.waited_s, w.waited_s)
            if "silence" in w.trigger and "silence" not in last.trigger:
                last.trigger = f"{last.trigger}, then {w.trigger}"
            continue
        merged.append(Wait(w.begin, w.resume, w.trigger, w.waited_s))
    return merged
