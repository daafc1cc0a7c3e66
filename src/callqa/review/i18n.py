"""Chinese first, English on request: the pages' words, the checks' finding details, local times.

Supervisors read Simplified Chinese, so every page speaks it unless the
reviewer picks English (kept in the session). The checks write their finding
details in English sentences (calls.jsonl is read by tools too); the known
sentences are matched here and given in Chinese, anything unknown is shown as
written rather than guessed at. Times are stored in UTC and shown in the
reviewers' time zone (``callqa serve --timezone``, default Asia/Shanghai).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, session

from ..checks.registry import CHECKS

__all__ = ["LANGS", "lang", "t", "detail", "flag_reason", "field_name", "local_time", "local_day", "check_name",
           "timezone_for"]

LANGS = ("zh", "en")
DEFAULT_TZ = "Asia/Shanghai"

# key -> (Chinese, English). Keys are short English names so templates stay readable.
WORDS: dict[str, tuple[str, str]] = {
    "dashboard": ("总览", "Dashboard"), "queue": ("复核队列", "Review queue"), "appeals": ("申诉", "Appeals"),
    "calibration": ("抽检与一致性", "Sampling & agreement"), "exports": ("导出", "Exports"),
    "reviewer": ("复核人", "Reviewer"), "your name": ("您的姓名", "your name"), "log out": ("退出", "Log out"),
    "role": ("角色", "Role"), "agent": ("坐席", "Agent"), "customer": ("客户", "Customer"),
    "supervisor": ("主管", "Supervisor"), "role_reviewer": ("质检员", "Reviewer"),
    "calls": ("通话", "calls"), "scored": ("已评分", "scored"), "flagged": ("待复核", "flagged"),
    "reviewed": ("已复核", "reviewed"), "not scored": ("未能评分", "not scored"), "decisions": ("复核决定", "decisions"),
    "needs listening": ("需要人工听", "needs listening"), "sampled": ("抽检", "sampled"),
    "machine": ("机器评分", "Machine"), "after review": ("复核后", "After review"), "score": ("得分", "Score"),
    "confirm": ("确认", "Confirm"), "dismiss": ("驳回", "Dismiss"), "confirmed": ("已确认", "confirmed"),
    "dismissed": ("已驳回", "dismissed"), "open": ("待定", "open"), "mark reviewed": ("标记为已复核", "Mark call reviewed"),
    "reopen": ("重新打开", "Reopen"), "confirm all": ("确认其余全部", "Confirm all remaining"),
    "transcript": ("转写", "Transcript"), "checks": ("检查项", "Checks"), "history": ("操作记录", "Decision history"),
    "timeline": ("时间轴", "Timeline"),
    "prompt echo": ("识别器在这里写回了提示词：这段话可能缺字或有误，请听录音",
                    "the recognizer wrote its prompt back here: words may be missing or wrong, listen"),
    "pass": ("通过", "pass"), "fail": ("不通过", "fail"),
    "not applicable": ("不适用", "not applicable"), "critical": ("关键项", "critical"),
    "filter": ("筛选", "Filter"), "reset": ("重置", "Reset"), "all": ("全部", "all"), "any": ("任意", "any"),
    "either": ("不限", "either"), "not yet": ("未复核", "not yet"), "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"), "per page": ("每页", "per page"), "from": ("从", "from"), "to": ("到", "to"),
    "batch": ("批次", "Batch"), "failed check": ("未通过检查项", "Failed check"), "show": ("显示", "Show"),
    "worked on": ("待复核 / 已处理", "flagged / worked on"), "all calls": ("全部通话", "all calls"),
    "errors only": ("未能评分的", "could not be scored"), "date": ("录音日期", "Recorded"),
    "score range": ("得分范围", "Score range"), "search": ("转写包含", "Transcript contains"),
    "call": ("通话", "Call"), "length": ("时长", "Length"), "why flagged": ("原因", "Why flagged"),
    "status": ("状态", "Status"), "to review": ("待复核", "to review"), "no calls": ("没有符合条件的通话", "No calls match."),
    "reason": ("理由", "Reason"), "comment": ("备注（可选）", "comment (optional)"), "save": ("提交", "Save"),
    "cancel": ("取消", "Cancel"), "info only": ("仅供参考（不扣分）", "For information (no points)"),
    "heard": ("听到", "heard"), "verified": ("对照音频核实为", "verified"), "against audio": ("对照音频", "against the audio"),
    "margin": ("置信差", "margin"), "appeal": ("申诉", "Appeal"), "uphold": ("维持", "Uphold"),
    "overturn": ("改判", "Overturn"), "upheld": ("已维持", "upheld"), "overturned": ("已改判", "overturned"),
    "agent page": ("坐席详情", "Agent page"), "trend": ("得分趋势", "Score trend"),
    "pass rates": ("各检查项通过率", "Pass rate per check"), "language": ("English", "中文"),
    "open findings warning": ("还有 {n} 条发现未处理。仍要标记为已复核吗？", "{n} finding(s) are still open. Mark the call reviewed anyway?"),
    "mark anyway": ("仍然标记", "Mark anyway"), "follow": ("跟随播放", "Follow playback"),
    "shortcuts": ("快捷键：空格 播放/暂停 · j/k 下一条/上一条 · c 确认 · d 驳回", "Keys: space play/pause · j/k next/previous · c confirm · d dismiss"),
    "reason required": ("驳回需要选择理由", "A dismissal needs a reason"),
    "score now": ("现得分 {score}", "score now {score}"), "sign in": ("登录", "Sign in"),
}


def lang() -> str:
    chosen = session.get("lang")
    return chosen if chosen in LANGS else "zh"


def t(key: str, **values) -> str:
    """The word for ``key`` in the reviewer's language (the key itself when unknown)."""
    pair = WORDS.get(key)
    text = key if pair is None else pair[0 if lang() == "zh" else 1]
    return text.format(**values) if values else text


def check_name(check_id: str) -> str:
    """A check's name in the reviewer's language: 报工号 (Chinese) or Employee ID stated."""
    cls = CHECKS.get(check_id)
    if cls is None:
        return check_id
    return cls.name_zh if lang() == "zh" else cls.name


# English detail sentences the checks write -> Chinese. Groups carry quoted words and numbers over.
_DETAILS: list[tuple[re.Pattern, str]] = [(re.compile(p), zh) for p, zh in (
    (r"^the agent said the banned phrase (.+) \(heard: (.+)\)$", "坐席说了禁用语「{0}」（听到：{1}）"),
    (r"^agent said a banned phrase: (.+)$", "坐席说了禁用语：{0}"),
    (r"^no employee ID stated in the first (\S+) s of (?:the )?agent'?s? speech$", "坐席开场 {0} 秒内未报工号"),
    (r"^the agent stated employee ID (\S+), the roster says (\S+)$", "坐席报的工号是 {0}，花名册为 {1}"),
    (r"^no courteous closing before the call ended$", "通话结束前没有礼貌结束语"),
    (r"^the agent did not close courteously \((.+)\)$", "坐席没有礼貌结束通话（{0}）"),
    (r"^the agent did not ask whether there is anything else \((.+)\)$", "坐席没有询问是否还有其他问题（{0}）"),
    (r"^the agent's first words are not a greeting \((.+)\)$", "坐席开口第一句不是问候语（{0}）"),
    (r"^the agent made the customer wait without asking them to \((.+)\)$", "坐席让客户等待前没有说（{0}）"),
    (r"^after the wait the agent did not thank the customer \((.+)\)$", "等待后坐席没有感谢客户（{0}）"),
    (r"^the customer complained \((.+)\) and the agent did not apologize \((.+)\)$", "客户投诉（{0}），坐席没有致歉（{1}）"),
    (r"^agent negative: (.+)$", "坐席情绪负面：{0}"),
    (r"^negative: (.+)$", "情绪负面：{0}"),
    (r"^the customer is negative over the call \((.+)\)$", "客户整通电话情绪负面（{0}）"),
    (r"^the call ends with the customer negative \((.+)\)$", "通话结束时客户情绪负面（{0}）"),
    (r"^the agent is negative over the call \((.+)\)$", "坐席整通电话情绪负面（{0}）"),
    (r"^the customer's channel speaks like the agent(.*)$", "客户声道听起来像坐席，声道可能接反{0}"),
    (r"^on this mono call it is uncertain who said it \(role confidence (.+)\)$", "单声道录音，无法确定是谁说的（角色置信度 {0}）"),
    (r"^the words can't be read$", "音频无法辨认"),
    (r"^the opening can't be read$", "开场白无法辨认"),
    (r"^the agent does not speak in this call$", "本通话中坐席没有说话"),
    (r"^the customer does not speak in this call$", "本通话中客户没有说话"),
    (r"^the audio fits both readings \(margin (.+)\)$", "音频与两种读法都吻合（置信差 {0}）"),
    (r"^the audio fits no reading well \((.+) per token\)$", "音频与所有读法都不吻合（每词 {0}）"),
    (r"^the audio holds (\S+), not the roster's (\S+)$", "音频中是 {0}，不是花名册的 {1}"),
    (r"^silence of (.+) s$", "静音 {0} 秒"),
    (r"^the customer spoke over the agent$", "客户打断了坐席"),
    (r"^the agent spoke over the customer$", "坐席打断了客户"),
)]


def detail(text: str | None) -> str:
    """A finding's detail or a check's reason in the reviewer's language (as written when unknown)."""
    if not text or lang() != "zh":
        return text or ""
    for pattern, zh in _DETAILS:
        if m := pattern.match(text):
            return zh.format(*m.groups())
    return text


_SCORE_BELOW = re.compile(r"^score (\S+) below (\S+)$")
_NEEDS_LISTENING = re.compile(r"^needs listening \((.*)\)$")
_STATUS = {"missing": "未报", "mismatch": "不一致", "ok": "正确", "no_roster": "花名册无此人", "unverified": "未核实"}
# check extra keys shown on the call page
FIELDS = {"status": "状态", "heard_id": "听到的工号", "expected_id": "花名册工号", "transcribed_id": "转写的工号",
          "reason": "原因", "layout": "声道", "model": "模型"}


def flag_reason(text: str) -> str:
    """A call's flag reason ("banned_phrases: <detail>", "score 65 below 80") in the reviewer's language."""
    if lang() != "zh" or not text:
        return text or ""
    if m := _SCORE_BELOW.match(text):
        return f"得分 {m.group(1)} 低于 {m.group(2)}"
    check_id, sep, rest = text.partition(": ")
    if not sep or check_id not in CHECKS and check_id != "not scored":
        return detail(text)
    if check_id == "not scored":
        return f"未能评分：{rest}"
    if m := _NEEDS_LISTENING.match(rest):
        return f"{check_name(check_id)}：需要人工听（{detail(m.group(1))}）"
    return f"{check_name(check_id)}：{_STATUS.get(rest, detail(rest))}"


def field_name(key: str) -> str:
    return FIELDS.get(key, key) if lang() == "zh" else key


def timezone_for(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def local_time(value: str | None, with_time: bool = True, naive_is_local: bool = False) -> str:
    """An ISO time from the database in the reviewers' zone: 2026年3月1日 09:30 (or 2026-03-01 09:30).

    The database writes UTC; a recording time without an offset (a manifest's ``recorded_at``,
    a file's mtime) is taken as already local (``naive_is_local``)."""
    if not value:
        return ""
    moment = _in_zone(value, current_app.config["CALLQA_TZ"], naive_is_local)
    if moment is None:
        return str(value)
    if lang() == "zh":
        day = f"{moment.year}年{moment.month}月{moment.day}日"
        return f"{day} {moment:%H:%M}" if with_time else day
    return f"{moment:%Y-%m-%d %H:%M}" if with_time else f"{moment:%Y-%m-%d}"


def local_day(value: str | None, zone: ZoneInfo) -> str | None:
    """The reviewers' calendar day (YYYY-MM-DD) of a call's time as the pages show it: a recording time
    without an offset is already local, scoring times are UTC. The queue's date filter compares this, so
    a call scored at 20:00 UTC is found under the next day in Shanghai, where its page says it is."""
    moment = _in_zone(value, zone, naive_is_local=True) if value else None
    return f"{moment:%Y-%m-%d}" if moment else None


def _in_zone(value: str, zone: ZoneInfo, naive_is_local: bool) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone if naive_is_local else timezone.utc)
    return moment.astimezone(zone)
