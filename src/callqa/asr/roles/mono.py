"""Speaker roles on a mono recording, from the audio and the words alone.

No diarization model is downloaded; the evidence is what any listener uses:

1. Turns. Whisper segments are split where the words say a turn may change
   (sentence-final punctuation, pauses between word timestamps), so that one
   piece holds one voice.
2. Voices. Each piece gets a voice vector (MFCC means and spreads, pitch,
   voicing, spectral centroid, loudness) on the 8 kHz phone band, and the
   pieces are clustered into two voices, or found to hold one (voice.py);
   frame-level models of each voice then judge the short pieces. Each piece's
   voice log-odds grow with its position between the two voices, so a piece
   lying between them, or voices that are close, give weak evidence.
3. Which voice is the agent: service phrasing scored per voice (phrases.yaml,
   matched on pinyin), plus a small bonus for speaking first.
4. Each piece's agent probability combines its voice, the voice-to-role
   mapping and its own words; a forward-backward pass over the pieces then
   lets a short, unclear piece follow its neighbours inside a turn (a comma
   rarely ends a turn; a new Whisper segment carries nothing over).
   ``role_confidence`` is the resulting probability of the chosen role: low
   where voice and words disagree or the voices are close. A piece is only
   called the agent's above even odds, so weak evidence falls to the
   customer side, where a downstream agent check cannot count it.
5. Voices again (refine.py): a frame model of each role's voice, trained on
   the pieces step 4 gave it, re-judges every piece until none moves; where
   the two models part the sides clearly, their voices replace step 2's and
   step 4 runs once more. It finds the voices where step 2 split alike voices
   by what was said rather than by who said it.
6. Replies. Step 4's chain keeps a short piece in its neighbours' turn, so the
   agent's reply between two customer turns (customer: 能不能今天就给我办好？
   agent: 不行。 customer: 不可以吗？) keeps its role but at low confidence, and
   a check can't charge its words. Yet an utterance the voices give the other
   role than both its close, confident neighbours (0.8 or more, 3 s or less
   away) is that role nearly always: on the corpus mono calls, 27 of 27 such
   utterances under 0.8 on dev and 14 of 15 on test, all 6 given to the agent
   among them. The agent's replies get their neighbours' confidence, up to
   ``_REPLY_CONFIDENCE``; the customer's keep theirs: the wrong one was given to
   the customer, and raised, such a reply hides the agent's words from a check
   that asks for them (dev c052, with neighbours at 0.7: the agent's 请问还有
   别的… between two agent turns, and the closing failed).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ...text import content_key, is_han, normalize_text, to_half_width
from ..backends.base import AsrSegment, AsrWord
from ..filters import confidence_from_logprob
from ..transcript import Utterance
from .pauses import UTTERANCE_PAUSE_S, timed_words
from .refine import refine_voices
from .text_cues import text_role_evidence
from .voice import CallFrames, VoiceClusters, call_frames, cluster_voices, voice_vector

__all__ = ["mono_utterances", "split_into_pieces", "voice_features", "assign_roles", "Piece"]

# Where a turn may change inside a Whisper segment.
_SENTENCE_MARKS = "。？！?!；;…"
_CLAUSE_MARKS = "，,、：:"
_SPLIT_PAUSE_S = 0.5  # any pause this long
_SPLIT_PAUSE_AFTER_CLAUSE_S = 0.2  # a shorter pause after a comma

_MIN_VOICED_S = 0.3  # seconds of speech frames; shorter pieces do not shape the voice clusters
_FULL_WEIGHT_S = 0.5  # seconds of speech frames for full voice weight
_TEXT_SCALE = 0.7  # phrase weights (log-odds points) to natural log-odds
_MAPPING_SCALE = 0.5
# Step 6: a reply's neighbours are this sure of their role and this close to it (seconds of silence).
_REPLY_NEIGHBOUR_CONFIDENCE = 0.8  # speaker_doubt_below: a reply is no surer than its neighbours
_REPLY_GAP_S = 3.0
_REPLY_CONFIDENCE = 0.9
_FIRST_SPEAKER_BONUS = 1.0  # agents answer inbound calls; outbound calls reverse it, so keep it small
# Agents do most of the talking on service calls (they greet, explain, close): the voice with the larger share
# of speech time is evidence for the agent, this many log-odds points per 10 % of the call's speech above half.
# It sets the mapping right where the words are too garbled to (an outbound call the customer opens with 哪位):
# dev mono role accuracy 0.897 without it, 0.911 at 2 (3 gave 0.914: kept at 2, the safer side).
_TALK_SHARE_WEIGHT = 2.0
_TALK_SHARE_MAX = 1.5  # ... at most: talk time alone never makes the mapping certain
_MAPPING_MAX = 0.98  # never fully certain which voice is the agent
# "One voice" on a service call is mostly two alike (11 of the corpus's 50 dev mono calls, every one with two
# parties): words without evidence of their own stay in doubt. At 0.9 the utterances it gave the agent with
# confidence >= 0.8 were the agent's 74 % of the time (97 % on calls with two voices found); 0.75 states that,
# below the checks' speaker_doubt_below (0.8), so they never convict on the voice's say-so.
_ONE_VOICE_MAPPING_MAX = 0.75
_MAX_ROLE_CONFIDENCE = 0.99
# Frame models trained from the roles (refine.py) replace the first clustering's voices when they part the
# two sides by this many deviations (held out). Where one voice was found, words and turns alone give the start,
# and only a clearer parting counts. Measured on corpus dev mono calls by pieces: role accuracy by time 0.734
# -> 0.761, pieces called at >= 0.8 wrong 60 of 904 -> 45 of 879; 2 and 3 gave 0.755 and 49 of 900, one voice
# never refined 0.750 and 50 of 893.
_REFINED_SEPARATION = 1.0
_REFINED_SEPARATION_ONE_VOICE = 3.0
# Chance that the speaker changes at each kind of boundary between pieces.
# Across Whisper segments nothing is assumed. Inside one, turns still change:
# Whisper may put a whole call in one segment when the gaps are short.
_SWITCH_PROBABILITY = {"segment": 0.5, "pause": 0.4, "sentence": 0.4, "clause": 0.25}
_SWITCH_AFTER_QUESTION = 0.7  # a question is usually answered by the other party
_QUESTION_END = re.compile(r"(?:[？?]|[吗嗎呢][\W_]*)$")  # raw words: Whisper writes 嗎 too


@dataclass
class Piece:
    """A stretch of one Whisper segment that should hold one voice."""

    start: float
    end: float
    raw: str
    segment: int  # index of the source segment
    avg_logprob: float
    cue: str = "segment"  # what separates it from the piece before: segment, sentence, pause, clause
    voice: np.ndarray | None = None  # feature vector, None when too little audio
    voiced_s: float = 0.0
    text_evidence: float = 0.0
    p_agent: float = 0.5


def _split_words(words: list[AsrWord]) -> list[tuple[list[AsrWord], str]]:
    """Word groups, each with the cue that separates it from the one before.

    Whisper writes punctuation either on a word (您好，) or as a word of its
    own whose duration is the pause (﹐ from 1.76 to 2.04 s): both count.
    """
    groups: list[tuple[list[AsrWord], str]] = []
    current: list[AsrWord] = []
    mark, pause_from = "", None  # punctuation and pause since the last content word
    for w in words:
        text = to_half_width(w.word)  # small-form punctuation (﹐) to the usual marks
        if not content_key(text):  # punctuation only
            mark += text
            current.append(w)
            if pause_from is None:
                pause_from = w.start
            continue
        if text[:1].isspace() and current and is_han(current[-1].word.rstrip()[-1:]):
            mark += "，"  # Whisper sometimes writes a space where a comma belongs (你好 我想…)
        if current and any(content_key(x.word) for x in current):
            pause = w.start - (pause_from if pause_from is not None else current[-1].end)
            cue = _boundary_cue(mark, pause)
            if cue:
                groups.append((current, cue))
                current = []
        current.append(w)
        mark, pause_from = _trailing_mark(text), None
    if current and any(content_key(x.word) for x in current):
        groups.append((current, ""))
    # Each group's cue is the boundary before it; the first follows the segment start.
    return [(g, cue) for (g, _), cue in zip(groups, ["segment"] + [c for _, c in groups[:-1]])]


def _trailing_mark(text: str) -> str:
    stripped = text.rstrip()
    return stripped[len(stripped.rstrip(_SENTENCE_MARKS + _CLAUSE_MARKS)) :]


def _boundary_cue(mark: str, pause: float) -> str:
    """The kind of boundary between two words, or '' when the turn surely goes on."""
    if any(ch in _SENTENCE_MARKS for ch in mark):
        return "sentence"
    if pause >= _SPLIT_PAUSE_S:
        return "pause"
    if any(ch in _CLAUSE_MARKS for ch in mark) and pause >= _SPLIT_PAUSE_AFTER_CLAUSE_S:
        return "clause"
    return ""


def _split_text(seg: AsrSegment) -> list[tuple[float, float, str, str]]:
    """No word times: split at sentence ends, times shared out by characters."""
    sentences = [s for s in re.findall(r"[^。？！?!；;…]+[。？！?!；;…]*", seg.text) if content_key(s)]
    if len(sentences) <= 1:
        return [(seg.start, seg.end, seg.text.strip(), "segment")]
    sizes = np.array([len(content_key(s)) for s in sentences], dtype=float)
    edges = seg.start + (seg.end - seg.start) * np.concatenate([[0.0], np.cumsum(sizes) / sizes.sum()])
    return [
        (float(edges[i]), float(edges[i + 1]), s.strip(), "sentence" if i else "segment")
        for i, s in enumerate(sentences)
    ]


def _content_start(group: list[AsrWord]) -> float:
    return next(w.start for w in group if content_key(w.word))


def _content_end(group: list[AsrWord]) -> float:
    return next(w.end for w in reversed(group) if content_key(w.word))


def split_into_pieces(segments: list[AsrSegment]) -> list[Piece]:
    """Whisper segments cut where a turn may change (see module doc)."""
    pieces: list[Piece] = []
    for index, seg in enumerate(sorted(segments, key=lambda s: (s.start, s.end))):
        if seg.words:
            groups = _split_words(timed_words(seg.words))
            if len(groups) <= 1:
                spans = [(seg.start, seg.end, seg.text.strip(), "segment")]
            else:
                # Text kept as written, spaces included, so that joined pieces give back Whisper's text.
                spans = [(_content_start(g), _content_end(g), "".join(w.word for w in g), cue) for g, cue in groups]
        else:
            spans = _split_text(seg)
        pieces += [
            Piece(start=s, end=max(e, s), raw=t, segment=index, avg_logprob=seg.avg_logprob, cue=cue)
            for s, e, t, cue in spans
        ]
    return pieces


def voice_features(pieces: list[Piece], audio: np.ndarray, sample_rate: int) -> CallFrames:
    """Fill ``voice`` and ``voiced_s`` of each piece (see voice.py); returns the call's frames."""
    frames = call_frames(audio, sample_rate)
    for p in pieces:
        p.voice, p.voiced_s = voice_vector(frames, p.start, p.end)
    return frames


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def assign_roles(pieces: list[Piece], voice_logodds: np.ndarray, voices: int = 2) -> float:
    """Set ``p_agent`` of each piece; returns P(voice A is the agent).

    ``voices``: 2 when ``voice_logodds`` separates two voices, 1 when the
    recording holds one voice (everyone is voice A), 0 when voices are unknown
    (too little audio): then only each piece's own words speak.
    """
    if not pieces:
        return 0.5
    if voices == 1:
        q = np.ones(len(pieces))
    elif voices == 0:
        q = np.full(len(pieces), 0.5)
    else:
        q = np.array([_sigmoid(v) for v in voice_logodds])  # P(piece is voice A)
    text = np.array([p.text_evidence for p in pieces])
    first = int(np.argmin([p.start for p in pieces]))
    mapping = float(np.sum(text * (2 * q - 1)))  # text evidence that voice A is the agent
    if voices == 2:
        mapping += _FIRST_SPEAKER_BONUS * (2 * q[first] - 1)
        durations = np.array([max(0.0, p.end - p.start) for p in pieces])
        if durations.sum() > 0:
            share_a = float(np.sum(durations * q) / durations.sum())
            talk = _TALK_SHARE_WEIGHT * (share_a - 0.5) * 10
            mapping += min(max(talk, -_TALK_SHARE_MAX), _TALK_SHARE_MAX)
    cap = _ONE_VOICE_MAPPING_MAX if voices == 1 else _MAPPING_MAX
    pi = min(max(_sigmoid(_MAPPING_SCALE * mapping), 1 - cap), cap)
    own = []
    for qi, ti in zip(q, text):
        prior = pi * qi + (1 - pi) * (1 - qi)  # P(agent) from the voice and the mapping
        own.append(_sigmoid(_logit(prior) + _TEXT_SCALE * ti))
    switch = [
        max(_SWITCH_PROBABILITY[p.cue], _SWITCH_AFTER_QUESTION if i and _is_question(pieces[i - 1].raw) else 0.0)
        for i, p in enumerate(pieces)
    ]
    for p, posterior in zip(pieces, _smooth_turns(own, switch)):
        p.p_agent = float(posterior)
    return pi


def _is_question(text: str) -> bool:
    return bool(_QUESTION_END.search(text.strip()))


def _smooth_turns(p_agent: list[float], switch: list[float]) -> np.ndarray:
    """Forward-backward over the pieces as a two-state chain (agent, customer).

    ``p_agent[i]`` is piece i's own evidence (as a posterior under even odds);
    ``switch[i]`` the chance that the speaker changed between pieces i-1 and i.
    A short piece with weak evidence inside a turn thus follows its
    neighbours, while a new Whisper segment (switch 0.5) carries nothing over.
    """
    n = len(p_agent)
    emit = np.clip(np.array([[p, 1 - p] for p in p_agent]), 1e-9, None)
    fwd, bwd = np.empty((n, 2)), np.ones((n, 2))

    def step(s: float) -> np.ndarray:
        return np.array([[1 - s, s], [s, 1 - s]])

    fwd[0] = emit[0] / emit[0].sum()
    for i in range(1, n):
        fwd[i] = (fwd[i - 1] @ step(switch[i])) * emit[i]
        fwd[i] /= fwd[i].sum()
    for i in range(n - 2, -1, -1):
        bwd[i] = step(switch[i + 1]) @ (emit[i + 1] * bwd[i + 1])
        bwd[i] /= bwd[i].sum()
    post = fwd * bwd
    return post[:, 0] / post.sum(axis=1)


def _refine_roles(pieces: list[Piece], frames: CallFrames, clusters: VoiceClusters) -> None:
    """Roles again, from frame models of each role's voice (refine.py) where they part the sides clearly;
    otherwise the roles from the first clustering stand."""
    if clusters.voices != 2:
        assign_roles(pieces, np.zeros(len(pieces)), voices=0)  # no voices to go by: words and turns alone
    refined = refine_voices(frames, pieces, [p.p_agent > 0.5 for p in pieces])
    needed = _REFINED_SEPARATION if clusters.voices == 2 else _REFINED_SEPARATION_ONE_VOICE
    if refined is not None and refined.separation >= needed:
        assign_roles(pieces, refined.logodds([p.voiced_s for p in pieces], _FULL_WEIGHT_S), voices=2)
    elif clusters.voices != 2:
        assign_roles(pieces, clusters.logodds, voices=clusters.voices)


def mono_utterances(segments: list[AsrSegment], audio: np.ndarray, sample_rate: int) -> list[Utterance]:
    """Role-labelled utterances of a mono recording (see the module doc).

    ``segments`` are Whisper segments after drop_hallucinations; ``audio`` the
    mono float32 samples they were transcribed from. Consecutive pieces of one
    segment with the same role form one utterance, unless a silence of
    UTTERANCE_PAUSE_S or more lies between them.
    """
    pieces = split_into_pieces(segments)
    if not pieces:
        return []
    for p in pieces:
        p.text_evidence = text_role_evidence(normalize_text(p.raw))
    frames = voice_features(pieces, audio, sample_rate)
    clusters = cluster_voices(pieces, min_speech_s=_MIN_VOICED_S, full_weight_s=_FULL_WEIGHT_S, frames=frames)
    assign_roles(pieces, clusters.logodds, voices=clusters.voices)
    _refine_roles(pieces, frames, clusters)

    utterances: list[Utterance] = []
    last_segment = None
    for p in pieces:
        role = "agent" if p.p_agent > 0.5 else "customer"
        confidence = min(max(p.p_agent, 1 - p.p_agent), _MAX_ROLE_CONFIDENCE)
        prev = utterances[-1] if utterances else None
        if prev is not None and last_segment == p.segment and prev.role == role and p.start - prev.end < UTTERANCE_PAUSE_S:
            prev.end = p.end
            prev.raw_text = (prev.raw_text + p.raw).strip()
            prev.text = normalize_text(prev.raw_text)
            prev.role_confidence = min(prev.role_confidence, confidence)
            continue
        utterances.append(
            Utterance(
                role=role,
                start=round(p.start, 3),
                end=round(p.end, 3),
                text=normalize_text(p.raw),
                raw_text=p.raw.strip(),
                confidence=confidence_from_logprob(p.avg_logprob),
                role_confidence=round(confidence, 3),
                channel=None,
            )
        )
        last_segment = p.segment
    _trust_replies(utterances)
    for u in utterances:
        u.end = round(u.end, 3)
        u.role_confidence = round(u.role_confidence, 3)
    return utterances


def _trust_replies(utterances: list[Utterance]) -> None:
    """Raise the role confidence of each agent's reply between two close, confident customer turns (step 6)."""
    raised = []
    for before, u, after in zip(utterances, utterances[1:], utterances[2:]):
        sure = min(before.role_confidence, after.role_confidence)
        if (before.role == after.role == "customer" != u.role and sure >= _REPLY_NEIGHBOUR_CONFIDENCE
                and u.start - before.end <= _REPLY_GAP_S and after.start - u.end <= _REPLY_GAP_S):
            raised.append((u, min(sure, _REPLY_CONFIDENCE)))  # no surer than the turns around it
    for u, confidence in raised:  # judged on the neighbours' own confidence, not on one another's raised one
        u.role_confidence = max(u.role_confidence, confidence)
