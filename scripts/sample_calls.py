"""The sample calls: who says what, in which voice and layout, and what a correct QA system concludes.

scripts/make_samples.py turns these scripts into samples/ (audio, truth, manifest,
roster, labels). Voices are ttskit speaker names (see make_samples.SPEAKER_IDS).
"""

from __future__ import annotations

from dataclasses import dataclass, field

WAIT = "wait"  # marker line: the agent is looking something up (silence)

# Deductions of the default scorecard; a call is flagged when a critical check fails or the score is below 80.
DEDUCTIONS = {"greeting": 5, "employee_id": 5, "standard_phrasing": 10, "banned_phrases": 10, "closing": 5, "sentiment": 0}
CRITICAL = ("employee_id", "banned_phrases", "sentiment")
FLAG_BELOW = 80


@dataclass
class Agent:
    agent_id: str
    name: str
    employee_id: str
    voice: str  # the same person sounds the same in every call


AGENTS = [
    Agent("A001", "张丽", "8023", "Aijia"),
    Agent("A002", "王强", "5566", "Aida"),
    Agent("A003", "李娜", "1024", "Aiyue"),
    Agent("A004", "陈静", "1357", "Aixia"),
    Agent("A005", "刘洋", "9061", "Aicheng"),
]
AGENT_BY_ID = {a.agent_id: a for a in AGENTS}


@dataclass
class Call:
    call_id: str
    agent_id: str
    channels: str  # manifest layout: agent,customer | customer,agent | mono
    file: str
    customer_voice: str
    # (role, text), (role, text, take) or (WAIT, seconds). Each take is another seeded
    # rendition of the turn; a take other than 0 was picked where the first garbled a key phrase.
    lines: list[tuple]
    labels: dict[str, str]  # check -> pass/fail/na, plus employee_id_status
    description: str
    banned_occurrences: int = 0
    keys: list[str] = field(default_factory=list)  # phrases Whisper must get (homophones allowed)
    seed: int = 0


A, C = "agent", "customer"
ALL_PASS = {"greeting": "pass", "employee_id": "pass", "employee_id_status": "ok", "standard_phrasing": "pass",
            "banned_phrases": "pass", "closing": "pass", "sentiment": "pass"}

CALLS = [
    Call(
        "call_001", "A001", "agent,customer", "call_001.wav", "Aicheng",
        [
            (A, "您好，欢迎致电客服中心，工号八零二三为您服务，请问有什么可以帮您？"),
            (C, "你好，我想查一下我的快递到哪里了。"),
            (A, "好的，请您稍等，我帮您查询一下。"),
            (WAIT, "4.0"),
            (A, "感谢您的耐心等待，您的快递明天上午送到。"),
            (C, "好的，谢谢你。"),
            (A, "请问还有其他可以帮您的吗？"),
            (C, "没有了，谢谢。"),
            (A, "感谢您的来电，祝您生活愉快，再见。"),
        ],
        dict(ALL_PASS),
        "A model call: greeting with employee ID, asks the customer to wait, 4 s silence, thanks "
        "for the wait, asks if there is anything else, closes courteously.",
        keys=["工号八零二三", "请您稍等", "感谢您的耐心等待", "还有其他可以帮您的吗", "再见"],
    ),
    Call(
        "call_002", "A002", "customer,agent", "call_002.m4a", "Aimei",
        [
            (A, "喂，说吧。", 1),
            (C, "你们这什么服务，太差了，我的订单一个星期都没发货，我要投诉！", 3),
            (A, "这个我不知道，你自己去查订单。"),
            (C, "那你帮我退款。"),
            (A, "不行，退款要等审核。"),
            (C, "太离谱了，我真的很生气。"),
            (A, "行了，就这样吧。"),
        ],
        {"greeting": "fail", "employee_id": "fail", "employee_id_status": "missing", "standard_phrasing": "fail",
         "banned_phrases": "fail", "closing": "fail", "sentiment": "fail"},
        "A bad call, customer on the left channel: no greeting and no employee ID, the agent answers an "
        "angry complaint without apologizing, says 不知道 and 不行, and hangs up without a closing.",
        banned_occurrences=2,
        keys=["不知道", "不行", "投诉", "生气"],
    ),
    Call(
        "call_003", "A003", "mono", "call_003.flac", "Xiaoyun",
        [
            (A, "您好，工号五六七八，很高兴为您服务。", 4),
            (C, "你好，我想预约师傅上门检修一下宽带。"),
            (A, "好的，请您稍等，我帮您查一下可以预约的时间。"),
            (WAIT, "4.5"),
            (A, "让您久等了，最近可以安排在明天上午。不知道您明天上午方不方便接听电话？", 3),
            (C, "不行，明天上午我要上班。下午可以吗？", 5),
            (A, "可以的，那就安排在明天下午，师傅上门前会先给您打电话。请问还有其他可以帮您的吗？"),
            (C, "没有了，谢谢。"),
            (A, "感谢您的来电，祝您生活愉快，再见。"),
        ],
        dict(ALL_PASS, employee_id="fail", employee_id_status="mismatch"),
        "Mono. The agent states employee ID 5678 but the roster says 1024 (mismatch). The agent's polite "
        "不知道您…方不方便 and the customer's 不行 are not violations. Wait phrasing and closing are correct.",
        keys=["工号五六七八", "请您稍等", "让您久等了", "不知道您", "不行", "还有其他可以帮您的吗", "再见"],
    ),
    Call(
        "call_004", "A004", "mono", "call_004.wav", "Aida",
        [
            (A, "您好，幺三五七号客服为您服务。"),
            (C, "我都打了三次电话了，你们怎么还没处理好？"),
            (A, "非常抱歉给您带来不便，我马上为您加急处理。"),
            (C, "我的退款申请已经提交一个星期了。"),
            (A, "您的退款今天之内就会到账，请您留意短信通知。"),
            (C, "好的，谢谢，你们态度还不错。"),
            (A, "请问还有什么问题吗？"),
            (C, "没有了。"),
            (A, "感谢您的来电，再见。"),
        ],
        dict(ALL_PASS),
        "Mono. The employee ID is read with 幺 for one (幺三五七 = 1357, matches). The customer complains, "
        "the agent apologizes at once; the customer ends satisfied.",
        keys=["三五七", "非常抱歉", "还有什么问题吗", "再见"],
    ),
    Call(
        "call_005", "A001", "agent,customer", "call_005.ogg", "Xiaoyun",
        [
            (A, "您好，欢迎致电客服中心，工号八零二三为您服务，请问有什么可以帮您？", 1),
            (C, "你好，我想改一下收货地址。"),
            (A, "好的，请您稍等。"),
            (WAIT, "4.0"),
            (A, "您的收货地址已经修改好了。"),
            (C, "好的，谢谢。"),
            (A, "感谢您的耐心，还有其他可以帮您的吗？"),
            (C, "没有了。"),
            (A, "感谢您的来电，再见。"),
        ],
        dict(ALL_PASS, standard_phrasing="fail"),
        "The agent asks the customer to wait, 4 s of silence, then goes on without thanking for the wait. "
        "The closing 感谢您的耐心 is not a thanks for the wait.",
        keys=["工号八零二三", "请您稍等", "感谢您的耐心", "还有其他可以帮您的吗", "再见"],
    ),
    Call(
        "call_006", "A005", "mono", "call_006.mp3", "Aiyu",
        [
            (A, "您好，很高兴为您服务，我的工号是九零六一。"),
            (C, "你好，我想把套餐换成便宜一点的，现在不可以吗？"),
            (A, "可以的，麻烦您稍等一下，我帮您看看有哪些套餐。"),
            (WAIT, "3.5"),
            (A, "谢谢您的等待，现在有一个每月三十元的套餐，比您现在的便宜二十元。"),
            (C, "太好了，那就换这个吧。"),
            (A, "好的，已经为您办理好了，下个月生效。请问还有什么问题吗？"),
            (C, "没有了，谢谢你。"),
            (A, "不客气，祝您生活愉快，再见。"),
        ],
        dict(ALL_PASS),
        "Mono, male agent and female customer. The ID comes at the end of the greeting (九零六一, matches). "
        "The customer's question 不可以吗 is not the agent's refusal. Wait asked with 麻烦您稍等一下, 3.5 s "
        "silence, thanked with 谢谢您的等待; closing 还有什么问题吗 … 祝您生活愉快，再见.",
        keys=["工号是九零六一", "稍等", "谢谢您的等待", "不可以", "还有什么问题吗", "再见"],
    ),
]
for _i, _call in enumerate(CALLS):
    _call.seed = 1000 + _i

BROKEN = ("broken_call.m4a", "A002", "broken_call", "agent,customer")  # file, agent, call_id, channels


def score(call: Call) -> float:
    points = 100.0
    for check, deduction in DEDUCTIONS.items():
        if call.labels[check] == "fail":
            points -= deduction * (call.banned_occurrences if check == "banned_phrases" else 1)
    return points


def flagged(call: Call) -> bool:
    return any(call.labels[c] == "fail" for c in CRITICAL) or score(call) < FLAG_BELOW
