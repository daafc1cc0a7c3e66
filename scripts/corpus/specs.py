"""From one fixed seed: the roster, every call's plan and turns, and the dev/test split.

Feature shares (layouts 40/25/35 %, codecs, SNRs, failure types …) are dealt out as
shuffled quotas rather than drawn independently, so each variety is present in the
counts the README promises; per-call details come from the call's own generator, so
changing one call does not reshuffle the others.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from . import phrases as P
from .business import BUSINESSES, SURNAMES
from .codecs import CODECS
from .dialogue import Dialogue, Plan, Wait, decorate, est_seconds
from .model import Agent, CallSpec, Line

SEED = 20261201
N_CALLS = 210
TEST_SHARE = 0.3

AGENT_NAMES = ["张丽", "王强", "李娜", "陈静", "刘洋", "赵敏", "孙浩", "周婷", "吴磊", "郑雪", "钱芳", "冯涛", "何佳",
               "许晴", "韩梅", "曹阳", "邓超", "彭琳", "蒋欣", "沈悦", "罗杰", "高源", "林薇", "谢宁", "唐颖"]


def quota(rng: np.random.Generator, n: int, shares: dict) -> list:
    """n values in the given shares (largest remainder), shuffled."""
    keys = list(shares)
    raw = np.array([shares[k] for k in keys], dtype=float)
    raw = raw / raw.sum() * n
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts))[: n - counts.sum()]:
        counts[i] += 1
    values = [k for k, c in zip(keys, counts) for _ in range(c)]
    return [values[i] for i in rng.permutation(n)]


def make_roster(voices: list[str], rng: np.random.Generator) -> list[Agent]:
    """25 agents, two or three per company; IDs of 3-5 digits, many with a 1 (read 幺) or a 2."""
    companies = [(b.key, c) for b in BUSINESSES.values() for c in b.companies]
    ids: set[str] = set()
    agents = []
    voice_order = [voices[i] for i in rng.permutation(len(voices))]
    for n, name in enumerate(AGENT_NAMES):
        business, company = companies[n % len(companies)]
        while True:
            length = int(rng.choice([3, 4, 4, 4, 5]))
            digits = "".join(str(int(d)) for d in rng.integers(0, 10, length))
            if n % 3 == 0 and "1" not in digits:  # a third of the agents have a 1 in their ID
                digits = digits[:-1] + "1"
            if digits[0] != "0" and digits not in ids:
                break
        ids.add(digits)
        # Agents of one company never share a voice: each round of companies shifts the voices by 5.
        voice = voice_order[(n + 5 * (n // len(companies))) % len(voice_order)]
        agents.append(Agent(f"A{n + 1:03d}", name, digits, voice, company, business))
    return agents


def agent_style(agent_index: int) -> dict[str, tuple[int, ...]]:
    rng = np.random.default_rng([SEED, 7, agent_index])

    def two(act: str) -> tuple[int, ...]:
        return tuple(int(i) for i in rng.choice(len(P.ACTS[act]), 2, replace=False))

    habits = ("greet_company", "greet_plain", "greet_outbound", "state_id", "offer_help", "hold_request", "lookup",
              "hold_thanks", "apology", "remedy")
    return {a: two(a) for a in habits}


def _wait(rng: np.random.Generator) -> Wait:
    kind = str(rng.choice(["hold", "lookup", "unannounced"], p=[0.65, 0.15, 0.2]))
    if kind == "hold":
        band = rng.choice(3, p=[0.2, 0.6, 0.2])
        seconds = float(rng.uniform(*[(2.0, 2.8), (3.2, 8.0), (8.0, 20.0)][band]))
        thanks = rng.random() < (0.75 if seconds >= 3 else 0.3)
    elif kind == "lookup":
        seconds, thanks = float(rng.uniform(1.5, 7.0)), bool(rng.random() < 0.5)
    else:
        seconds, thanks = float(rng.uniform(3.3, 8.0)), bool(rng.random() < 0.3)
    return Wait(kind, round(seconds, 2), bool(thanks))


def _id_said(mode: str, agent: Agent, roster: list[Agent], rng: np.random.Generator) -> str:
    if mode in ("ok", "late"):
        return agent.employee_id
    if mode == "one_digit_off":  # same length, one digit different
        pos = int(rng.integers(len(agent.employee_id)))
        digit = str(rng.choice([d for d in "0123456789" if d != agent.employee_id[pos] and (pos or d != "0")]))
        return agent.employee_id[:pos] + digit + agent.employee_id[pos + 1:]
    if mode == "other_id":
        return str(rng.choice([a.employee_id for a in roster if a is not agent]))
    return ""


def _plan(quotas: dict, i: int, roster: list[Agent], rng: np.random.Generator) -> Plan:
    q = {k: v[i] for k, v in quotas.items()}
    business = q["business"]
    company = str(rng.choice(BUSINESSES[business].companies))
    agents = [a for a in roster if a.company == company]
    agent = agents[int(rng.integers(len(agents)))]
    outbound = q["direction"] == "outbound"
    complaint = q["complaint"]
    id_said = _id_said(q["id_mode"], agent, roster, rng)
    overlaps = [k for k, p in (("customer_over_agent", 0.3), ("cut_in_long", 0.2), ("cut_in_short", 0.2)) if rng.random() < p]
    return Plan(
        direction=q["direction"], business=business, company=company, agent=agent,
        greeting=q["greeting"] if not outbound or q["greeting"] == "good" else "business",
        id_mode=q["id_mode"], id_said=id_said, yao="1" in id_said and rng.random() < 0.5,
        waits=[_wait(rng) for _ in range(q["waits"])],
        customer_pause=round(float(rng.uniform(5.2, 7.0)), 2) if not outbound and rng.random() < 0.1 else 0.0,
        problem_opening=not outbound and rng.random() < 0.3,
        complaint=complaint, banned=q["banned"],
        polite_decoy=rng.random() < 0.32, near_miss=rng.random() < 0.22, customer_banned=rng.random() < 0.35,
        closing=q["closing"],
        resigned_end=complaint in ("none", "apologized") and rng.random() < 0.12,
        overlaps=overlaps, fast=rng.random() < 0.1, loud=rng.random() < 0.1,
        followups=0, ask_info=True, reaction=True, surname=str(rng.choice(SURNAMES)), title=str(rng.choice(["先生", "女士", "小姐"])),
        agent_style=agent_style(roster.index(agent)), serial=i,
    )


def _estimate(turns, plan: Plan, rings: int) -> float:
    lead = rings * 5.0 if rings else 0.6
    return lead + sum(est_seconds(t) + max(t.gap, 0) for t in turns)


def _fit_length(plan: Plan, rng_seed: list[int], target: float, rings: int):
    """Fit the call to its target length: drop optional exchanges when long, add follow-ups when short."""
    def build():
        nonlocal builder
        builder = Dialogue(plan, np.random.default_rng(rng_seed))
        return builder.build()

    builder = None
    plan.followups = max(0, len(plan.waits) - 1)
    turns = build()
    for drop in ("ask_info", "reaction", "near_miss", "polite_decoy"):  # optional exchanges, least missed first
        if _estimate(turns, plan, rings) <= target + 2.0:
            break
        setattr(plan, drop, False)
        turns = build()
    while _estimate(turns, plan, rings) < target and plan.followups < 3:
        plan.followups += 1
        turns = build()
    return turns, builder.rotation


def make_specs(voices: list[str], agent_voices: list[str]) -> tuple[list[Agent], list[CallSpec]]:
    """voices: every usable voice (customers); agent_voices: those slow enough for agents."""
    rng = np.random.default_rng(SEED)
    roster = make_roster(agent_voices, rng)
    n = N_CALLS
    quotas = {
        "direction": quota(rng, n, {"inbound": 0.75, "outbound": 0.25}),
        "business": quota(rng, n, {b: 1 for b in BUSINESSES}),
        "layout": quota(rng, n, {"agent,customer": 0.40, "customer,agent": 0.25, "mono": 0.35}),
        "codec": quota(rng, n, {c: 1 for c in CODECS}),
        "snr": quota(rng, n, {0: 1, 30: 1, 20: 1, 12: 1}),
        "greeting": quota(rng, n, {"good": 0.84, "rude": 0.09, "business": 0.07}),
        "id_mode": quota(rng, n, {"ok": 0.62, "one_digit_off": 0.10, "other_id": 0.06, "missing": 0.14, "late": 0.08}),
        "waits": quota(rng, n, {0: 0.38, 1: 0.45, 2: 0.17}),
        "complaint": quota(rng, n, {"none": 0.58, "apologized": 0.2, "unapologized": 0.1, "threat_after_apology": 0.12}),
        "banned": quota(rng, n, {0: 0.78, 1: 0.15, 2: 0.07}),
        "closing": quota(rng, n, {"full": 0.64, "thanks_only": 0.09, "question_only": 0.09, "none": 0.08, "rude": 0.10}),
    }
    _gsm_is_mono(quotas)
    specs = []
    rotation: dict[str, int] = {}
    for i in range(n):
        call_rng = np.random.default_rng([SEED, 1, i])
        plan = _plan(quotas, i, roster, call_rng)
        plan.rotation = rotation
        codec = CODECS[quotas["codec"][i]]
        rings = int(call_rng.integers(1, 4)) if call_rng.random() < (0.5 if plan.direction == "outbound" else 0.12) else 0
        bitrate = int(call_rng.choice(codec.bitrates)) if codec.bitrates else 0
        if codec.name == "opus" and quotas["layout"][i] != "mono":
            bitrate *= 2  # the drawn rate per channel: libopus folds stereo under ~20 kbps into mono
        line = Line(quotas["layout"][i], codec.name, bitrate, quotas["snr"][i], rings)
        target = min(28.0 + float(call_rng.gamma(1.1, 10.0)), 80.0)
        turns, rotation = _fit_length(plan, [SEED, 2, i], target, rings)
        decorate(turns, plan, np.random.default_rng([SEED, 3, i]))
        others = [v for v in voices if v != plan.agent.voice]
        spec = CallSpec(f"c{i + 1:03d}", SEED * 1000 + i, plan.direction, plan.business, plan.company, plan.agent,
                        str(call_rng.choice(others)), line, turns, features=_features(plan))
        specs.append(spec)
    assign_split(specs)
    return roster, specs


def _gsm_is_mono(quotas: dict) -> None:
    """sox writes GSM 06.10 WAV in one channel only (it down-mixes stereo): give GSM the mono calls."""
    codecs, layouts = quotas["codec"], quotas["layout"]
    for i in range(len(codecs)):
        if codecs[i] == "gsm" and layouts[i] != "mono":
            j = next(j for j in range(len(codecs)) if layouts[j] == "mono" and codecs[j] != "gsm")
            codecs[i], codecs[j] = codecs[j], codecs[i]


def _features(plan: Plan) -> dict[str, str]:
    return {
        "greeting": plan.greeting, "id_mode": plan.id_mode, "yao": str(plan.yao).lower(),
        "waits": ";".join(f"{w.kind}:{w.seconds}:{'thanks' if w.thanks else 'nothanks'}" for w in plan.waits),
        "customer_pause": str(plan.customer_pause), "problem_opening": str(plan.problem_opening).lower(),
        "complaint": plan.complaint, "banned": str(plan.banned), "polite_decoy": str(plan.polite_decoy).lower(),
        "near_miss": str(plan.near_miss).lower(), "customer_banned": str(plan.customer_banned).lower(),
        "closing": plan.closing, "resigned_end": str(plan.resigned_end).lower(), "overlaps": ";".join(plan.overlaps),
    }


def assign_split(specs: list[CallSpec]) -> None:
    """70/30 dev/test within every (layout, codec) group, fixed by the seed."""
    groups: dict[tuple[str, str], list[CallSpec]] = defaultdict(list)
    for s in specs:
        groups[(s.line.layout, s.line.codec)].append(s)
    rng = np.random.default_rng([SEED, 4])
    for key in sorted(groups):
        members = groups[key]
        n_test = int(round(TEST_SHARE * len(members)))
        order = rng.permutation(len(members))
        for rank, j in enumerate(order):
            members[j].split = "test" if rank < n_test else "dev"
