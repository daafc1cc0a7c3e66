"""Speaker roles on a mono recording, from the audio and the words alone.

No diarization model is downloaded; the evidence is what any listener uses:

1. Turns. Whisper segments are split where the words say a turn may change
   (sentence-final punctuation, pauses between word timestamps), so that one
   piece holds one voice.
2. Voices. Each piece gets a voice vector (MFCC means and spreads, median
   pitch by YIN, spectral centroid, loudness) from its louder frames, computed
   on the 8 kHz phone band. The pieces are clustered into two voices (KMeans,
   duration-weighted); a Gaussian-mixture BIC test decides whether there are
   two voices at all. Each piece's voice log-odds is its signed distance along
   the axis between the two voices, in within-voice standard deviations
   (linear discriminant odds), so weak separation gives weak evidence.
3. Which voice is the agent: service phrasing scored per voice (role_phrases.yaml,
   matched on pinyin), plus a small bonus for speaking first.
4. Each piece's agent probability combines its voice, the voice-to-role
   mapping and its own words. ``role_confidence`` is that probability for the
   chosen role: low where voice and words disagree or the voices are close.
   A piece is only called the agent's above even odds, so weak evidence falls
   to the customer side, where a downstream agent check cannot count it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .backends.base import AsrSegment, AsrWord
from .filters import confidence_from_logprob, content_key
from .normalize import normalize_text
from .roles_text import text_role_evidence
from .transcript import Utterance

__all__ = ["mono_utterances", "split_into_pieces", "voice_features", "assign_roles", "Piece"]

# Where a turn may change inside a Whisper segment.
_SENTENCE_END = re.compile(r"[。？！?!；;…]\s*$")
_CLAUSE_END = re.compile(r"[，,、：:]\s*$")
_SPLIT_PAUSE_S = 0.5  # any pause this long
_SPLIT_PAUSE_AFTER_CLAUSE_S = 0.2  # a shorter pause after a comma

_FEATURE_RATE = 8000  # the phone band; pitch and timbre live below 4 kHz
_HOP = 80  # 10 ms at 8 kHz
_N_FFT = 256
_YIN_FRAME = 512  # two periods of 70 Hz
_F0_MIN, _F0_MAX = 70.0, 400.0
_MIN_VOICED_S = 0.4  # shorter pieces' voices are guessed with less weight
_FULL_WEIGHT_S = 1.0

_TWO_VOICES_FISHER = 5.0
_TWO_VOICES_FISHER_WITH_BIC = 3.5
_BIC_MIN_PIECES = 12
_MAX_VOICE_LOGODDS = 6.0
_TEXT_SCALE = 0.7  # phrase weights (log-odds points) to natural log-odds
_MAPPING_SCALE = 0.5
_FIRST_SPEAKER_BONUS = 1.0  # agents answer inbound calls; outbound calls reverse it, so keep it small
_MAPPING_MAX = 0.98  # never fully certain which voice is the agent
_MAX_ROLE_CONFIDENCE = 0.99


@dataclass
class Piece:
    """A stretch of one Whisper segment that should hold one voice."""

    start: float
    end: float
    raw: str
    segment: int  # index of the source segment
    avg_logprob: float
    voice: np.ndarray | None = None  # feature vector, None when too little audio
    voiced_s: float = 0.0
    text_evidence: float = 0.0
    p_agent: float = 0.5


def _split_words(words: list[AsrWord]) -> list[list[AsrWord]]:
    groups: list[list[AsrWord]] = [[]]
    for i, w in enumerate(words):
        groups[-1].append(w)
        if i + 1 == len(words):
            break
        gap = words[i + 1].start - w.end
        if (
            _SENTENCE_END.search(w.word)
            or gap >= _SPLIT_PAUSE_S
            or (_CLAUSE_END.search(w.word) and gap >= _SPLIT_PAUSE_AFTER_CLAUSE_S)
        ):
            groups.append([])
    return [g for g in groups if g and content_key("".join(w.word for w in g))]


def _split_text(seg: AsrSegment) -> list[tuple[float, float, str]]:
    """No word times: split at sentence ends, times shared out by characters."""
    sentences = [s for s in re.findall(r"[^。？！?!；;…]+[。？！?!；;…]*", seg.text) if content_key(s)]
    if len(sentences) <= 1:
        return [(seg.start, seg.end, seg.text.strip())]
    sizes = np.array([len(content_key(s)) for s in sentences], dtype=float)
    edges = seg.start + (seg.end - seg.start) * np.concatenate([[0.0], np.cumsum(sizes) / sizes.sum()])
    return [(float(edges[i]), float(edges[i + 1]), s.strip()) for i, s in enumerate(sentences)]


def split_into_pieces(segments: list[AsrSegment]) -> list[Piece]:
    """Whisper segments cut where a turn may change (see module doc)."""
    pieces: list[Piece] = []
    for index, seg in enumerate(sorted(segments, key=lambda s: (s.start, s.end))):
        if seg.words:
            groups = _split_words(seg.words)
            if len(groups) == 1:
                spans = [(seg.start, seg.end, seg.text.strip())]
            else:
                spans = [(g[0].start, g[-1].end, "".join(w.word for w in g).strip()) for g in groups]
        else:
            spans = _split_text(seg)
        pieces += [Piece(start=s, end=max(e, s), raw=t, segment=index, avg_logprob=seg.avg_logprob) for s, e, t in spans]
    return pieces


def _frame_features(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(per-frame feature matrix, per-frame loudness in dB, log f0) on the 8 kHz band."""
    try:
        import librosa
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise RuntimeError("mono speaker roles need librosa: pip install librosa==0.11.0") from e
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim > 1:
        y = y.mean(axis=0)
    if sample_rate != _FEATURE_RATE:
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=_FEATURE_RATE, res_type="soxr_hq")
    if len(y) < _YIN_FRAME:
        y = np.pad(y, (0, _YIN_FRAME - len(y)))
    mfcc = librosa.feature.mfcc(
        y=y, sr=_FEATURE_RATE, n_mfcc=20, n_fft=_N_FFT, hop_length=_HOP, n_mels=32, fmin=80, fmax=_FEATURE_RATE / 2
    )
    rms = librosa.feature.rms(y=y, frame_length=_N_FFT, hop_length=_HOP)[0]
    centroid = librosa.feature.spectral_centroid(y=y, sr=_FEATURE_RATE, n_fft=_N_FFT, hop_length=_HOP)[0]
    f0 = librosa.yin(y, fmin=_F0_MIN, fmax=_F0_MAX, sr=_FEATURE_RATE, frame_length=_YIN_FRAME, hop_length=_HOP)
    n = min(mfcc.shape[1], len(rms), len(centroid), len(f0))
    frames = np.vstack([mfcc[1:13, :n], np.log(centroid[:n] + 1.0)[None, :]]).T  # c0 (level) left to loudness
    loudness = 20 * np.log10(rms[:n] + 1e-6)
    return frames, loudness, np.log(f0[:n])


def voice_features(pieces: list[Piece], audio: np.ndarray, sample_rate: int) -> None:
    """Fill ``voice`` and ``voiced_s`` of each piece from its louder frames."""
    frames, loudness, log_f0 = _frame_features(audio, sample_rate)
    fps = _FEATURE_RATE / _HOP
    floor = np.percentile(loudness, 10) if len(loudness) else -120.0
    for p in pieces:
        a, b = int(p.start * fps), int(math.ceil(p.end * fps))
        seg_loud = loudness[a:b]
        if len(seg_loud) == 0:
            continue
        # Speech frames: the louder half of the piece, and clearly above the call's noise floor.
        keep = (seg_loud >= np.median(seg_loud)) & (seg_loud > floor + 6.0)
        p.voiced_s = float(keep.sum() / fps)
        if p.voiced_s < 0.1:
            continue
        f = frames[a:b][keep]
        p.voice = np.concatenate(
            [
                f.mean(axis=0),
                f[:, :6].std(axis=0),
                [np.median(log_f0[a:b][keep]), np.median(seg_loud[keep])],
            ]
        )


def _voice_logodds(pieces: list[Piece]) -> tuple[np.ndarray, dict]:
    """Per piece, log-odds of belonging to voice A rather than B (0 when unknown)."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    logodds = np.zeros(len(pieces))
    have = [i for i, p in enumerate(pieces) if p.voice is not None]
    fit = [i for i in have if pieces[i].voiced_s >= _MIN_VOICED_S]
    info: dict = {"voices": 0, "fisher": 0.0}  # 0: too little audio to tell
    if len(fit) < 3:
        return logodds, info
    X_all = np.array([pieces[i].voice for i in have])
    center = np.median(X_all, axis=0)
    scale = np.median(np.abs(X_all - center), axis=0) * 1.4826 + 1e-6  # robust z-score per call
    Z = {i: (pieces[i].voice - center) / scale for i in have}
    Xf = np.array([Z[i] for i in fit])
    wf = np.array([min(pieces[i].voiced_s, 10.0) for i in fit])
    km = KMeans(n_clusters=2, n_init=5, random_state=0).fit(Xf, sample_weight=wf)
    ca, cb = km.cluster_centers_
    axis = ca - cb
    delta = float(np.linalg.norm(axis))
    if delta < 1e-9:
        return logodds, info
    axis /= delta
    mid = (ca + cb) / 2
    proj = (Xf - mid) @ axis
    own = np.where(km.labels_ == 0, delta / 2, -delta / 2)
    sigma = float(np.sqrt(np.average((proj - own) ** 2, weights=wf))) + 1e-6
    info["fisher"] = delta / sigma

    # Two voices or one? KMeans splits even one voice in two, at about 2.7
    # within-cluster deviations apart (more on few pieces). Well apart is two
    # voices; moderately apart counts only when a Gaussian-mixture BIC, which
    # needs enough pieces to mean anything, prefers two components.
    two_voices = info["fisher"] >= _TWO_VOICES_FISHER
    if not two_voices and len(fit) >= _BIC_MIN_PIECES and info["fisher"] >= _TWO_VOICES_FISHER_WITH_BIC:
        n_dim = min(3, Xf.shape[1])
        Xp = PCA(n_components=n_dim, random_state=0).fit_transform(Xf)
        bic = [
            GaussianMixture(k, covariance_type="diag", n_init=3, random_state=0, reg_covar=1e-3).fit(Xp).bic(Xp)
            for k in (1, 2)
        ]
        info["bic_gain"] = float(bic[0] - bic[1])
        two_voices = bic[1] < bic[0]
    if not two_voices:
        info["voices"] = 1
        return logodds, info
    info["voices"] = 2
    for i in have:
        lo = delta * float((Z[i] - mid) @ axis) / sigma**2  # linear discriminant log-odds
        lo = float(np.clip(lo, -_MAX_VOICE_LOGODDS, _MAX_VOICE_LOGODDS))
        logodds[i] = lo * min(1.0, pieces[i].voiced_s / _FULL_WEIGHT_S)
    return logodds, info


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
    pi = min(max(_sigmoid(_MAPPING_SCALE * mapping), 1 - _MAPPING_MAX), _MAPPING_MAX)
    for p, qi, ti in zip(pieces, q, text):
        prior = pi * qi + (1 - pi) * (1 - qi)  # P(agent) from the voice and the mapping
        p.p_agent = _sigmoid(_logit(prior) + _TEXT_SCALE * ti)
    return pi


def mono_utterances(segments: list[AsrSegment], audio: np.ndarray, sample_rate: int) -> list[Utterance]:
    """Role-labelled utterances of a mono recording (see the module doc).

    ``segments`` are Whisper segments after drop_hallucinations; ``audio`` the
    mono float32 samples they were transcribed from. Consecutive pieces of one
    segment with the same role form one utterance.
    """
    pieces = split_into_pieces(segments)
    if not pieces:
        return []
    for p in pieces:
        p.text_evidence = text_role_evidence(normalize_text(p.raw))
    voice_features(pieces, audio, sample_rate)
    logodds, info = _voice_logodds(pieces)
    assign_roles(pieces, logodds, voices=info["voices"])

    utterances: list[Utterance] = []
    last_segment = None
    for p in pieces:
        role = "agent" if p.p_agent > 0.5 else "customer"
        confidence = min(max(p.p_agent, 1 - p.p_agent), _MAX_ROLE_CONFIDENCE)
        prev = utterances[-1] if utterances else None
        if prev is not None and last_segment == p.segment and prev.role == role:
            prev.end = p.end
            prev.raw_text += p.raw
            prev.text = normalize_text(prev.raw_text)
            prev.role_confidence = min(prev.role_confidence, confidence)
            continue
        utterances.append(
            Utterance(
                role=role,
                start=round(p.start, 3),
                end=round(p.end, 3),
                text=normalize_text(p.raw),
                raw_text=p.raw,
                confidence=confidence_from_logprob(p.avg_logprob),
                role_confidence=round(confidence, 3),
                channel=None,
            )
        )
        last_segment = p.segment
    for u in utterances:
        u.end = round(u.end, 3)
        u.role_confidence = round(u.role_confidence, 3)
    return utterances
