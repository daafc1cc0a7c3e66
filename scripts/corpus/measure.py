"""The full-corpus Whisper pass: CER per call and role, and which key phrases came out garbled.

Each stereo channel is transcribed on its own and compared with that party's script;
a mono call is transcribed whole and compared with the whole script in time order.
A key phrase (the stated ID, each flat banned phrase, the hold phrase) counts as heard
when its pinyin appears in the transcript of the agent's channel (the whole call on
mono), so homophones such as 公号 for 工号 pass; otherwise the call is `hard`.
"""

from __future__ import annotations

import csv
import time

from .asr import cer, pinyin_contains, transcribe
from .assemble import call_file
from .codecs import decode_audio
from .dialogue import spoken_id
from .model import AGENT, Agent, CallSpec
from .shared import CORPUS

OUT = CORPUS / "intelligibility"


def key_phrases(spec: CallSpec) -> dict[str, list[tuple[str, ...]]]:
    """The phrases a QA listener must catch, by kind; each as its accepted spellings."""
    keys: dict[str, list[tuple[str, ...]]] = {"id": [], "banned": [], "hold": []}
    for turn in spec.turns:
        if turn.role != AGENT:
            continue
        if turn.id_said:
            # 幺 comes out as 1, 一 or 要 (yao): all are the digit one.
            keys["id"].append((spoken_id(turn.id_said, yao=False), spoken_id(turn.id_said, yao=False).replace("一", "要")))
        for s in turn.sentences:
            for f in s.fragments:
                if f.act == "banned":
                    keys["banned"] += [(w,) for w in turn.banned]
                if f.act == "hold_request":
                    keys["hold"].append((f.text.rstrip("，。？"),))
    return keys


def measure_call(spec: CallSpec) -> tuple[dict[str, float], dict[str, str], list[str]]:
    audio = decode_audio(call_file(spec).read_bytes())
    roles = spec.line.layout.split(",") if spec.line.layout != "mono" else ["mono"]
    cers, heard = {}, {}
    for role, channel in zip(roles, audio):
        heard[role] = transcribe(channel)
        ref = "".join(t.text for t in spec.turns if role in ("mono", t.role))  # script order is time order
        cers[role] = cer(heard[role], ref)
    agent_heard = heard.get(AGENT, heard.get("mono", ""))
    garbled = [kind for kind, phrases in key_phrases(spec).items()
               if any(not any(pinyin_contains(agent_heard, v) for v in variants) for variants in phrases)]
    return cers, heard, garbled


def measure_corpus(roster: list[Agent], specs: list[CallSpec]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    with open(OUT / "calls.csv", "w", newline="", encoding="utf-8") as f, \
            open(OUT / "transcripts.csv", "w", newline="", encoding="utf-8") as g:
        w, wt = csv.writer(f, lineterminator="\n"), csv.writer(g, lineterminator="\n")
        w.writerow(["call_id", "split", "layout", "codec", "snr_db", "agent_cer", "customer_cer", "mono_cer", "garbled"])
        wt.writerow(["call_id", "channel", "heard"])
        for n, spec in enumerate(specs, 1):
            cers, heard, garbled = measure_call(spec)
            w.writerow([spec.call_id, spec.split, spec.line.layout, spec.line.codec, spec.line.snr_db or "none",
                        *(f"{cers[r]:.3f}" if r in cers else "" for r in ("agent", "customer", "mono")),
                        ";".join(garbled)])
            for role, text in heard.items():
                wt.writerow([spec.call_id, role, text])
            f.flush()
            if n % 10 == 0:
                print(f"{n}/{len(specs)} calls, {time.time() - t0:.0f} s", flush=True)
