"""Writing the corpus tables: truth/<call_id>.json, labels.csv, manifest.csv, roster.csv.

Everything here comes from the specs and their timelines; the only measured column is
`hard` (key phrases Whisper garbled), read from corpus/intelligibility/calls.csv when
the full-corpus Whisper pass has been run.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .assemble import call_file
from .labels import CallLabels, cpm, label_call
from .model import Agent, CallSpec, Timeline
from .shared import CORPUS

TRUTH = CORPUS / "truth"
LABELS = CORPUS / "labels.csv"
MANIFEST = CORPUS / "manifest.csv"
ROSTER = CORPUS / "roster.csv"
HARD = CORPUS / "intelligibility" / "calls.csv"

META_COLUMNS = ["call_id", "split", "direction", "business", "company", "agent_id", "layout", "codec", "bitrate",
                "snr_db", "agent_voice", "customer_voice", "ringback", "duration"]
LABEL_COLUMNS = list(CallLabels.__dataclass_fields__)


def truth_doc(spec: CallSpec, tl: Timeline) -> dict:
    utterances = []
    for p in tl.placed:
        t = p.turn
        u = {
            "index": p.index, "role": p.role, "start": round(p.start_s, 6), "end": round(p.end_s, 6), "text": t.text,
            "act": "+".join(dict.fromkeys(t.acts)),
            "acts": [{"act": f.act, "paraphrase": f.paraphrase, "text": f.text} for s in t.sentences for f in s.fragments],
        }
        if t.pause_kind:
            u["silence_before"] = t.pause_kind
        if t.overlap_kind:
            u["overlap"] = t.overlap_kind
        if t.fast_cpm:
            u["time_stretched_cpm"] = round(cpm(p), 1)
        if t.gain_db:
            u["gain_db"] = t.gain_db
        utterances.append(u)
    return {
        "call_id": spec.call_id, "channels": spec.line.layout, "split": spec.split, "direction": spec.direction,
        "business": spec.business, "company": spec.company, "agent_id": spec.agent.agent_id,
        "employee_id": spec.agent.employee_id, "voices": {"agent": spec.agent.voice, "customer": spec.customer_voice},
        "codec": spec.line.codec, "bitrate": spec.line.bitrate, "snr_db": spec.line.snr_db or None,
        "ringback": {"rings": spec.line.ringback_rings, "first_word": round(tl.ringback_end / 8000, 6)}
        if spec.line.ringback_rings else None,
        "duration": round(tl.total / 8000, 6),
        "silences": [{"start": a / 8000, "end": b / 8000, "kind": k} for a, b, k in tl.holds],
        "utterances": utterances,
    }


def meta_row(spec: CallSpec, tl: Timeline) -> dict[str, str]:
    return {
        "call_id": spec.call_id, "split": spec.split, "direction": spec.direction, "business": spec.business,
        "company": spec.company, "agent_id": spec.agent.agent_id, "layout": spec.line.layout, "codec": spec.line.codec,
        "bitrate": str(spec.line.bitrate or ""), "snr_db": str(spec.line.snr_db or "none"),
        "agent_voice": spec.agent.voice, "customer_voice": spec.customer_voice,
        "ringback": "yes" if spec.line.ringback_rings else "no", "duration": f"{tl.total / 8000:.2f}",
    }


def read_hard() -> dict[str, str]:
    if not HARD.exists():
        return {}
    with open(HARD, newline="", encoding="utf-8") as f:
        return {r["call_id"]: r["garbled"] for r in csv.DictReader(f)}


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def write_tables(roster: list[Agent], specs: list[CallSpec], timelines: dict[str, Timeline]) -> None:
    TRUTH.mkdir(parents=True, exist_ok=True)
    hard = read_hard()
    rows = []
    for spec in specs:
        tl = timelines[spec.call_id]
        doc = truth_doc(spec, tl)
        (TRUTH / f"{spec.call_id}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        row = meta_row(spec, tl) | label_call(spec, tl).row()
        garbled = hard.get(spec.call_id, "")
        row["hard"] = f"yes:{garbled}" if garbled else "no"
        rows.append([row[c] for c in META_COLUMNS + LABEL_COLUMNS + ["hard"]])
    _write_csv(LABELS, META_COLUMNS + LABEL_COLUMNS + ["hard"], rows)
    _write_csv(MANIFEST, ["file", "agent_id", "call_id", "channels"],
               [[call_file(s).relative_to(CORPUS).as_posix(), s.agent.agent_id, s.call_id, s.line.layout] for s in specs])
    _write_csv(ROSTER, ["agent_id", "name", "employee_id"], [[a.agent_id, a.name, a.employee_id] for a in roster])
