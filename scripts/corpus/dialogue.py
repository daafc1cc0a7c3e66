"""Turning a call's chosen features (Plan) into turns of dialogue-act fragments.

Each section (opening, request and waits, complaint, decoys, closing) appends turns;
every fragment records its act and paraphrase number so the truth files can say what
was said, and the labels can be derived from what was scripted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import phrases as P
from .business import BUSINESSES, Business
from .model import AGENT, CUSTOMER, Agent, Fragment, Sentence, Turn

DIGITS = "零一二三四五六七八九"
# Acts used in few calls: their wording goes round the bank over the corpus (a random pick
# left some wordings unused), after the same random draw so the rest of the call is unchanged.
SPREAD_ACTS = {"near_miss", "resigned", "polite_ok", "cust_banned", "provide_wait"}
QUESTION_WORDS = ("吗", "呢", "请问", "多少", "哪", "什么", "几点", "怎么", "是否", "方不方便", "行不行", "能不能")


def spoken_id(digits: str, yao: bool) -> str:
    """8023 -> 八零二三; with yao, 1 is read 幺 as agents do when reading digit by digit."""
    return "".join("幺" if yao and d == "1" else DIGITS[int(d)] for d in digits)


@dataclass
class Wait:
    kind: str  # hold (asked with a hold phrase) | lookup (announced, not asked) | unannounced
    seconds: float
    thanks: bool  # the agent thanks the customer in the turn that ends it


@dataclass
class Plan:
    """Every choice the generator made for one call (specs.py draws them)."""

    direction: str
    business: str
    company: str
    agent: Agent
    greeting: str  # good | rude | business
    id_mode: str  # ok | one_digit_off | other_id | missing | late
    id_said: str  # the digits the agent states ("" when none)
    yao: bool
    waits: list[Wait]
    customer_pause: float  # > 0: the customer goes to find a number, a silence the customer breaks
    problem_opening: bool  # the customer states a problem (not a complaint)
    complaint: str  # none | apologized | unapologized | threat_after_apology
    banned: int  # 0, 1 or 2 flat banned phrases by the agent
    polite_decoy: bool
    near_miss: bool
    customer_banned: bool
    closing: str  # full | thanks_only | question_only | none | rude
    resigned_end: bool
    overlaps: list[str]  # customer_over_agent | cut_in_long | cut_in_short
    fast: bool
    loud: bool
    followups: int
    ask_info: bool  # the agent asks for a number or detail before looking it up (dropped in long calls)
    reaction: bool  # the customer reacts to the answer (好的，谢谢你) before the closing (dropped in long calls)
    surname: str
    title: str
    agent_style: dict[str, tuple[int, ...]]  # the paraphrases this agent habitually uses
    serial: int = 0  # the call's number
    rotation: dict[str, int] = field(default_factory=dict)  # how many times each rare act was said in earlier calls


class Builder:
    def __init__(self, plan: Plan, rng: np.random.Generator) -> None:
        self.plan = plan
        self.rng = rng
        self.biz: Business = BUSINESSES[plan.business]
        self.turns: list[Turn] = []
        self.rotation = dict(plan.rotation)  # specs.py carries the count on to the next call
        self.fields = {
            "company": plan.company, "name": plan.agent.name, "surname": plan.surname, "title": plan.title,
            "id": spoken_id(plan.id_said, plan.yao),
        }

    # -- small helpers
    def frag(self, act: str, index: int | None = None, text: str | None = None) -> Fragment:
        bank = P.ACTS.get(act)
        if text is None:
            if index is None and act in self.plan.agent_style:  # this agent's habitual wording
                index = int(self.rng.choice(self.plan.agent_style[act]))
            if index is None:
                index = int(self.rng.integers(len(bank)))
                if act in SPREAD_ACTS:
                    index = self.next_in_turn(act, len(bank))
            text = bank[index].format(**self.fields)
        return Fragment(act, f"{act}.{index}" if index is not None else f"{act}.{self.plan.business}", text)

    def pick(self, act: str, choices) -> Fragment:
        choices = list(choices)
        index = int(self.rng.choice(choices))
        return self.frag(act, choices[self.next_in_turn(act, len(choices))] if act in SPREAD_ACTS else index)

    def next_in_turn(self, act: str, n: int) -> int:
        k = self.rotation.get(act, 0)
        self.rotation[act] = k + 1
        return k % n

    def say(self, role: str, *sentences: tuple[Fragment, ...] | Fragment, gap: float | None = None, **kw) -> Turn:
        sents = []
        for s in sentences:
            frags = (s,) if isinstance(s, Fragment) else tuple(s)
            sents.append(Sentence(self._punctuate(frags)))
        turn = Turn(role, sents, gap=float(self.rng.uniform(0.3, 1.0)) if gap is None else gap, **kw)
        if role == AGENT and {"state_id", "state_id_late"} & set(turn.acts):
            turn.id_said = self.plan.id_said
        self.turns.append(turn)
        return turn

    @staticmethod
    def _punctuate(frags: tuple[Fragment, ...]) -> tuple[Fragment, ...]:
        """Join fragments with ， and end the sentence with ？ for a question, else 。."""
        out = []
        for i, f in enumerate(frags):
            last = i == len(frags) - 1
            question = any(w in f.text for w in QUESTION_WORDS)
            tail = ("？" if question else "。") if last else "，"
            if f.text[-1] in "？。！":
                tail = "" if last else ""
            out.append(Fragment(f.act, f.paraphrase, f.text + tail))
        return tuple(out)

    def biz_frag(self, act: str, items: tuple, index: int, attr: str) -> Fragment:
        """A business-specific line: its paraphrase is named by business and index."""
        return Fragment(act, f"{act}.{self.plan.business}.{index}", getattr(items[index], attr))

    def last(self, role: str) -> Turn | None:
        return next((t for t in reversed(self.turns) if t.role == role), None)


class Dialogue(Builder):
    """The sections of a call, in the order they are spoken."""

    def build(self) -> list[Turn]:
        p = self.plan
        self.scenario = int(self.rng.integers(len(self.biz.scenarios)))
        self.problem = int(self.rng.integers(len(self.biz.problems)))
        self.wait_queue = list(p.waits)
        self.complaint_done = p.complaint == "none"
        if p.direction == "outbound":
            self.outbound_opening()
        else:
            self.inbound_opening()
            self.inbound_request()
        if not self.complaint_done:
            self.complaint()
        for n in range(p.followups):
            self.followup(n)
        while self.wait_queue:  # waits the request and follow-ups had no room for
            self.followup(len(self.biz.followups) - 1, extra=True)
        if p.polite_decoy:
            self.polite_decoy()
        for _ in range(p.banned):
            self.banned()
        self.customer_reaction()
        self.closing()
        return self.turns

    # -- openings
    def id_fragment(self) -> list[Fragment]:
        if self.plan.id_mode in ("missing", "late"):
            return []
        return [self.frag("state_id")]

    def inbound_opening(self) -> None:
        p = self.plan
        if p.greeting == "good":
            act = "greet_company" if self.rng.random() < 0.7 else "greet_plain"
            greet = self.frag(act)
            id_frags = self.id_fragment()
            if id_frags and self.rng.random() < 0.25:  # the ID at the end: 您好，请讲，我的工号是…
                self.say(AGENT, (greet, self.frag("offer_help")), tuple(id_frags))
            else:
                self.say(AGENT, (greet,), (*id_frags, self.frag("offer_help")))
        else:
            first = self.frag("greet_rude" if p.greeting == "rude" else "open_business")
            self.say(AGENT, (*self.id_fragment(), first))

    def inbound_request(self) -> None:
        p, sc = self.plan, self.biz.scenarios[self.scenario]
        hello = self.frag("cust_hello")
        if p.problem_opening:
            opening = self.biz_frag("problem", self.biz.problems, self.problem, "statement")
        else:
            opening = self.biz_frag("request", self.biz.scenarios, self.scenario, "request")
        if p.complaint != "none" and self.rng.random() < 0.5:  # angry from the first words
            self.say(CUSTOMER, (hello, opening, self.pick("complaint", P.COMPLAINT_AT_OPENING)))
            self.agent_answers_complaint()
        else:
            self.say(CUSTOMER, (hello, opening))
        ask = self.rng.random() < (0.4 if p.problem_opening else 0.7)  # drawn always: keeps the rng sequence
        if p.customer_pause or (p.ask_info and ask):
            self.ask_info(sc)
        answer = (self.biz_frag("problem_answer", self.biz.problems, self.problem, "answer") if p.problem_opening
                  else self.biz_frag("answer", self.biz.scenarios, self.scenario, "answer"))
        self.agent_reply_with_wait(answer)

    def ask_info(self, sc) -> None:
        p = self.plan
        if p.polite_decoy and self.rng.random() < 0.4:
            ask = self.frag("polite_ok", 0)  # 方不方便跟我说一下具体情况
        else:
            ask = self.biz_frag("ask_info", self.biz.scenarios, self.scenario, "ask_info")
        self.say(AGENT, ask)
        info = self.biz_frag("info", self.biz.scenarios, self.scenario, "info")
        if p.customer_pause:
            self.say(CUSTOMER, self.frag("provide_wait"))
            self.say(CUSTOMER, info, gap=p.customer_pause, pause_kind="customer_pause")
        elif p.customer_banned and self.rng.random() < 0.5:
            self.say(CUSTOMER, (self.frag("cust_banned", 1),))  # 这个我不知道，能用手机号查吗
            self.say(AGENT, self.frag("agent_ack", 2))
            self.say(CUSTOMER, info)
        else:
            self.say(CUSTOMER, info)

    def outbound_opening(self) -> None:
        p, cb = self.plan, self.biz.callbacks[int(self.rng.integers(len(self.biz.callbacks)))]
        self.say(CUSTOMER, self.frag("cust_pickup"))
        confirm = self.frag("confirm_person")
        if p.greeting == "good":
            self.say(AGENT, (self.frag("greet_outbound"), *self.id_fragment()), (confirm,))
        else:  # straight to business: 请问您是王先生吗
            self.say(AGENT, (*self.id_fragment(), confirm))
        self.say(CUSTOMER, self.frag("cust_confirm"))
        purpose = Fragment("callback_purpose", f"callback_purpose.{p.business}.{self.biz.callbacks.index(cb)}", cb.purpose)
        question = Fragment("survey_question", f"survey_question.{p.business}.{self.biz.callbacks.index(cb)}", cb.question)
        self.say(AGENT, (self.frag("excuse_disturb"), purpose), (question,))
        if p.complaint != "none" and self.rng.random() < 0.6:
            self.say(CUSTOMER, (self.frag("complaint"),))
            self.agent_answers_complaint()
        else:
            self.say(CUSTOMER, self.frag("satisfied"))
            self.say(AGENT, self.frag("agent_ack"))

    # -- the middle of the call
    def agent_reply_with_wait(self, answer: Fragment, extra: tuple[Fragment, ...] = ()) -> None:
        """The agent's answer, after a wait if one is planned: ask, silence, thanks or not."""
        p = self.plan
        tail = [extra] if extra else []
        if p.near_miss and not getattr(self, "near_miss_said", False):
            self.near_miss_said = True
            tail.append((self.pick("near_miss", self.biz.near_miss),))
        if not self.wait_queue:
            self.say(AGENT, (answer,), *tail)
            return
        wait = self.wait_queue.pop(0)
        if wait.kind == "hold":
            self.say(AGENT, (self.frag("hold_request"), self.frag("lookup")))
        elif wait.kind == "lookup":
            self.say(AGENT, (self.frag("lookup"),))
        if wait.thanks:
            first = (self.frag("hold_thanks"), answer)
        elif self.rng.random() < 0.5:
            first = (self.frag("resume_plain"), answer)
        else:
            first = (answer,)
        self.say(AGENT, first, *tail, gap=wait.seconds, pause_kind=wait.kind)

    def agent_answers_complaint(self) -> None:
        if self.plan.complaint == "unapologized":
            self.say(AGENT, self.frag("dismiss"))
        else:
            self.say(AGENT, (self.frag("apology"),), (self.frag("remedy"),))
        self.complaint_done = True

    def complaint(self) -> None:
        self.say(CUSTOMER, (self.frag("complaint"),))
        self.agent_answers_complaint()

    def followup(self, n: int, extra: bool = False) -> None:
        n = n % len(self.biz.followups)
        self.say(CUSTOMER, self.biz_frag("followup_question", self.biz.followups, n, "question"))
        self.agent_reply_with_wait(self.biz_frag("followup_answer", self.biz.followups, n, "answer"))

    # (agent's polite question, customer's plain reply, customer's replies with 不行/不知道/不可以)
    POLITE_SCENES = ((0, 4, (0, 2)), (1, 0, ()), (2, 3, (3, 5)), (3, 1, ()), (4, 2, (4,)))

    def polite_decoy(self) -> None:
        """不知道您…？ / 方不方便 / 如果不行的话 / 行不行: polite, and the customer's 不行 never counts."""
        ask, reply, banned_replies = self.POLITE_SCENES[int(self.rng.integers(len(self.POLITE_SCENES)))]
        self.say(AGENT, self.frag("polite_unknown", ask))
        if self.plan.customer_banned and banned_replies:
            self.rng.choice(banned_replies)  # keeps the call's random sequence as it was
            self.say(CUSTOMER, self.frag("cust_banned", banned_replies[self.next_in_turn("cust_banned", len(banned_replies))]))
            self.say(AGENT, self.pick("polite_ok", [1, 2, 3, 4]))
            self.say(CUSTOMER, self.frag("reply", 4 if ask == 0 else 3))
        else:
            self.say(CUSTOMER, self.frag("reply", reply))

    def banned(self) -> None:
        used = getattr(self, "press_used", set())
        press = int(self.rng.choice([i for i in range(len(P.CUST_PRESS)) if i not in used]))
        used.add(press)
        self.press_used = used
        text = str(self.rng.choice(P.CUST_PRESS[press][1]))
        index = [t for t, _ in P.BANNED].index(text)
        self.say(CUSTOMER, self.frag("press", press))
        self.say(AGENT, self.frag("banned", index), banned=P.BANNED_WORDS[text])

    def customer_reaction(self) -> None:
        p = self.plan
        if p.customer_banned and not any("cust_banned" in t.acts for t in self.turns):
            # the customer's own 不行/不可以 about the answer: never the agent's violation
            self.say(CUSTOMER, self.frag("cust_banned", (3, 5, 2)[self.next_in_turn("cust_banned", 3)]))
            self.say(AGENT, self.frag("agent_ack", 2))
        if not (p.reaction or p.resigned_end):
            return
        if p.resigned_end:
            self.say(CUSTOMER, self.frag("resigned"))
        elif p.complaint == "unapologized" or p.banned:  # no thanks for a refusal
            self.say(CUSTOMER, self.frag("ack"))
        elif self.rng.random() < 0.75:
            self.say(CUSTOMER, self.frag("thanks"))
        else:
            self.say(CUSTOMER, self.frag("ack"))

    # -- the end
    def closing(self) -> None:
        p = self.plan
        outbound = p.direction == "outbound"
        threat = p.complaint == "threat_after_apology"
        if p.id_mode == "late":
            self.say(AGENT, self.frag("state_id_late"))
        if p.closing in ("full", "question_only"):
            self.say(AGENT, self.pick("ask_more", range(6, 11) if outbound else range(6)))
            self.say(CUSTOMER, (self.frag("no_more"), *([self.frag("parting_threat")] if threat else [])))
            if p.closing == "full":
                self.say(AGENT, self.pick("close_courteous", range(6, 11) if outbound else range(6)))
            return
        if threat:
            self.say(CUSTOMER, self.frag("parting_threat"))
        if p.closing == "thanks_only":
            self.say(AGENT, self.frag("close_thanks_only"))
        elif p.closing == "rude":
            self.say(AGENT, self.frag("close_rude"))


def est_seconds(turn: Turn) -> float:
    """Rough spoken length before rendering (ttskit speaks about 4.5 characters a second)."""
    return sum(1 for ch in turn.text if ch.isalnum()) / 4.5 + 0.25 * (len(turn.sentences) - 1)


def decorate(turns: list[Turn], plan: Plan, rng: np.random.Generator) -> None:
    """Overlaps, a time-stretched turn and a raised turn, on turns where they make sense."""
    def pairs(prev_role: str, role: str, min_prev: float) -> list[int]:
        return [i for i in range(1, len(turns))
                if turns[i - 1].role == prev_role and turns[i].role == role and not turns[i].pause_kind
                and not turns[i].overlap_kind and est_seconds(turns[i - 1]) >= min_prev]

    for kind in plan.overlaps:
        if kind == "customer_over_agent":
            cands, gap = pairs(AGENT, CUSTOMER, 2.0), -float(rng.uniform(0.3, 1.2))
        elif kind == "cut_in_long":
            cands, gap = pairs(CUSTOMER, AGENT, 3.2), -float(rng.uniform(1.3, 2.2))
        else:
            cands, gap = pairs(CUSTOMER, AGENT, 1.5), -float(rng.uniform(0.15, 0.45))
        cands = [i for i in cands if i > 1]  # never on the opening exchange
        if cands:
            i = int(rng.choice(cands))
            turns[i].gap, turns[i].overlap_kind = gap, kind
    agent_turns = [i for i, t in enumerate(turns) if t.role == AGENT and i > 0 and not t.banned]
    if plan.fast:
        long_ones = sorted(agent_turns, key=lambda i: -est_seconds(turns[i]))[:3]
        turns[int(rng.choice(long_ones))].fast_cpm = int(rng.integers(420, 480))
    if plan.loud:
        plain = [i for i in agent_turns if not turns[i].fast_cpm]
        turns[int(rng.choice(plain))].gain_db = round(float(rng.uniform(10.0, 12.0)), 1)
