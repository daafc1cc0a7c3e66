"""Who spoke when: a call as two lanes (agent, customer) in inline SVG, with its findings on it.

Built only from utterance times and finding times, so a check that comes later
(dead air, overtalk) shows without a change here: findings of ``silence`` are
drawn as dead-air bands across both lanes, of ``interruptions`` as overtalk
bands, any other as a tick above the lane of the speaker it concerns; where
Whisper wrote its prompt back (asr/echoes.py) is shaded on its speaker's
lane, or on both on a mono call. Every
shape carries ``data-seek`` (review.js plays from there); a finding's shape
also names its card (``data-finding``).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from markupsafe import Markup

from ..asr.transcript import PromptEcho
from .evidence import FindingView, UtteranceView

__all__ = ["timeline_svg", "BAND_CHECKS"]

WIDTH = 1000
LANES = ("agent", "customer")
BAND_CHECKS = {"silence": "dead-air", "interruptions": "overtalk"}  # check id -> CSS class of its band
_LEFT, _LANE_H, _GAP, _TOP = 64, 22, 12, 16


def _ticks(duration: float) -> list[float]:
    step = next(s for s in (5, 10, 15, 30, 60, 120, 300, 600, 1800) if duration / s <= 10)
    return [i * step for i in range(int(duration // step) + 1)]


def _x(t: float, duration: float) -> float:
    return _LEFT + (WIDTH - _LEFT - 8) * max(0.0, min(t, duration)) / duration


def _clock(t: float) -> str:
    return f"{int(t // 60)}:{int(t % 60):02d}"


def timeline_svg(utterances: Iterable[UtteranceView], findings: Iterable[FindingView], duration: float | None,
                 lane_names: dict[str, str], title: str, echoes: Iterable[PromptEcho] = (),
                 echo_label: str = "prompt written back: listen") -> Markup:
    utterances, findings, echoes = list(utterances), list(findings), list(echoes)
    end = max([duration or 0.0, *(u.end for u in utterances), *(f.end for f in findings), *(s.end for s in echoes),
               1.0])
    lane_y = {role: _TOP + i * (_LANE_H + _GAP) for i, role in enumerate(LANES)}
    height = _TOP + len(LANES) * (_LANE_H + _GAP) + 18
    # data-x0/x1/end let review.js place the playhead without knowing the layout
    parts = [f'<svg class="timeline" id="timeline" role="img" viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="none" '
             f'data-x0="{_LEFT}" data-x1="{WIDTH - 8}" data-end="{end}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for role, y in lane_y.items():
        parts.append(f'<text class="lane-name" x="{_LEFT - 6}" y="{y + _LANE_H / 2 + 4}" text-anchor="end">'
                     f'{escape(lane_names.get(role, role))}</text>'
                     f'<rect class="lane" x="{_LEFT}" y="{y}" width="{WIDTH - _LEFT - 8}" height="{_LANE_H}"/>')
    for t in _ticks(end):
        parts.append(f'<text class="tick" x="{_x(t, end):.1f}" y="{height - 4}" text-anchor="middle">{_clock(t)}</text>')
    bottom = _TOP + len(LANES) * (_LANE_H + _GAP) - _GAP
    for f in findings:
        if f.check_id in BAND_CHECKS:
            parts.append(_band(f, end, bottom))
    for stretch in echoes:
        for role in LANES if stretch.role not in lane_y else (stretch.role,):
            parts.append(_echo_rect(stretch, end, lane_y[role], echo_label))
    for u in utterances:
        if u.role in lane_y:
            parts.append(_utterance(u, end, lane_y[u.role]))
    for f in findings:
        if f.check_id not in BAND_CHECKS:
            parts.append(_tick(f, end, lane_y.get(f.role, _TOP)))
    parts.append(f'<line class="playhead" x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP - 6}" y2="{bottom + 2}"/></svg>')
    return Markup("".join(parts))


def _utterance(u: UtteranceView, end: float, y: float) -> str:
    x0, x1 = _x(u.start, end), _x(u.end, end)
    return (f'<rect class="utt-bar role-{escape(u.role)}{" flagged" if u.flagged else ""}" data-seek="{u.start}" '
            f'data-utterance="{u.index}" x="{x0:.1f}" y="{y}" width="{max(1.5, x1 - x0):.1f}" height="{_LANE_H}">'
            f'<title>{_clock(u.start)}–{_clock(u.end)}</title></rect>')


def _band(f: FindingView, end: float, bottom: float) -> str:
    x0, x1 = _x(f.start, end), _x(f.end, end)
    return (f'<rect class="band {BAND_CHECKS[f.check_id]} state-{f.state}" data-seek="{f.start}" '
            f'data-finding="{f.key}" x="{x0:.1f}" y="{_TOP - 4}" width="{max(2.0, x1 - x0):.1f}" '
            f'height="{bottom - _TOP + 8}"><title>{escape(f.detail)}</title></rect>')


def _tick(f: FindingView, end: float, y: float) -> str:
    x = _x(f.start, end)
    return (f'<path class="mark state-{f.state}{" listen" if f.needs_listening else ""}" data-seek="{f.start}" '
            f'data-finding="{f.key}" d="M{x - 5:.1f},{y - 9} L{x + 5:.1f},{y - 9} L{x:.1f},{y - 1} Z">'
            f'<title>{escape(f.check_id)}: {escape(f.detail)}</title></path>')


def _echo_rect(stretch: PromptEcho, end: float, y: float, label: str) -> str:
    x0, x1 = _x(stretch.start, end), _x(stretch.end, end)
    return (f'<rect class="echo" data-seek="{stretch.start}" x="{x0:.1f}" y="{y}" width="{max(1.5, x1 - x0):.1f}" '
            f'height="{_LANE_H}"><title>{_clock(stretch.start)}–{_clock(stretch.end)} {escape(label)}</title></rect>')
