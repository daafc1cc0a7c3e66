"""Paraphrase banks: every dialogue act the generator uses, in at least five wordings.

Written from real service scripts and the seed standards in shared/seeds (greeting and
自报工号, 请您稍等 before a lookup and thanks after it, apology to a complaint, the
回访 callback script 您好我是××，请问您是××先生/小姐吗？打扰您了, the closing that asks
for anything else), independently of callqa's own phrase lists. Placeholders:
{company} {name} {id} (the spoken ID) {surname} {title}.

Each act's list index is its paraphrase number: truth files name fragments as
"<act>.<n>", and the self-check counts distinct ones per act.
"""

from __future__ import annotations

# ---------------------------------------------------------------- agent: opening
GREET_COMPANY = [
    "您好，欢迎致电{company}",
    "您好，这里是{company}客服中心",
    "早上好，欢迎致电{company}",
    "您好，感谢您致电{company}",
    "下午好，{company}客服热线",
    "你好，欢迎致电{company}客户服务中心",
]
GREET_PLAIN = ["您好", "你好", "早上好", "下午好", "您好，很高兴为您服务", "您好，这里是客服中心"]
GREET_OUTBOUND = [  # seed 002: 您好我是××
    "您好，我是{company}的客服{name}",
    "您好，我是{company}客服专员{name}",
    "您好，这里是{company}，我是{name}",
    "您好，我是{name}，{company}的回访专员",
    "您好，我是{company}的{name}",
]
GREET_RUDE = ["喂，说吧", "喂，什么事", "什么事", "喂，有事说事", "说吧，什么事", "喂，讲"]
OPEN_BUSINESS = [  # no greeting at all: straight to business
    "订单号报一下",
    "手机号码多少",
    "单号是多少",
    "说一下你的问题",
    "房号报一下",
    "先报一下身份证后四位",
]
STATE_ID = [  # the forms agents state their number in; {id} is read digit by digit
    "工号{id}为您服务",
    "我是{id}号",
    "{id}号坐席为您服务",
    "{id}号客服为您服务",
    "我的工号是{id}",
    "工号{id}",
    "我是{id}号客服",
]
STATE_ID_LATE = [  # said near the end instead of at the start
    "我的工号是{id}，有问题可以再找我",
    "我是{id}号，后续有问题可以报我的工号",
    "记一下我的工号{id}",
    "我的工号是{id}，您可以随时查询进度",
    "工号{id}，有需要再打过来",
]
OFFER_HELP = [
    "请问有什么可以帮您",
    "请问有什么可以帮到您",
    "请问您需要办理什么业务",
    "请问有什么需要帮助的",
    "请问您遇到什么问题了",
    "请讲",
]
CONFIRM_PERSON = [  # seed 002: 请问您是××先生/小姐吗
    "请问您是{surname}{title}吗",
    "请问是{surname}{title}本人吗",
    "请问您是{surname}{title}吧",
    "请问是{surname}{title}吗",
    "请问您是不是{surname}{title}",
]
EXCUSE_DISTURB = ["打扰您了", "不好意思打扰您了", "抱歉打扰您一下", "打扰您几分钟时间", "占用您一点时间"]

# ---------------------------------------------------------------- agent: waits
HOLD_REQUEST = [  # the hold phrases: the agent asks the customer to wait
    "请您稍等",
    "麻烦您稍候片刻",
    "请不要挂机",
    "请您稍等一下",
    "请稍等，不要挂机",
    "麻烦您稍等一会儿",
    "请您耐心稍候",
]
LOOKUP = ["我帮您查询一下", "我这边帮您查一下", "我帮您看一下", "我帮您核实一下", "我马上帮您查看", "我帮您确认一下"]
HOLD_THANKS = [
    "感谢您的耐心等待",
    "让您久等了",
    "谢谢您的等待",
    "不好意思，让您久等了",
    "感谢您的等候",
    "久等了",
    "谢谢您的耐心等候",
]
RESUME_PLAIN = ["好的，查到了", "查到了", "我看到了", "好了", "系统里显示出来了", "嗯，有了"]

# ---------------------------------------------------------------- agent: complaints
APOLOGY = [
    "非常抱歉给您带来不便",
    "实在抱歉",
    "真是对不起",
    "非常抱歉，这是我们工作的失误",
    "给您添麻烦了，真的很抱歉",
    "很抱歉让您有这样不好的体验",
    "对不起，让您生气了",
]
REMEDY = [
    "我马上为您加急处理",
    "我这边立刻给您登记加急",
    "我会尽快帮您处理",
    "我已经给您提交了加急工单",
    "我们会在二十四小时内给您答复",
]
DISMISS = [  # answers a complaint without any apology
    "这个是系统的问题，跟我没关系",
    "那你想怎么样",
    "我们也是按规定办事",
    "你先别激动",
    "这不是我们的责任",
    "反正现在就是这样",
]

# ---------------------------------------------------------------- agent: banned and look-alikes
# (text, banned words it says flatly). The QA standard forbids 不行 / 不知道 / 不可以.
BANNED = [
    ("不行，这个办不了", ("不行",)),
    ("这个我不知道", ("不知道",)),
    ("不可以退", ("不可以",)),
    ("不行", ("不行",)),
    ("我不知道，你去问别人吧", ("不知道",)),
    ("不可以，规定就是这样", ("不可以",)),
    ("不知道，系统里查不到", ("不知道",)),
]
POLITE_UNKNOWN = [  # 不知道您… / 不知道是否…: a polite question, not a refusal
    "不知道您明天上午方便接听电话吗",
    "不知道是否方便留一个联系电话",
    "不知道您对这个方案是否满意",
    "不知道您现在方不方便说话",
    "不知道您这边是否收到短信了",
]
POLITE_OK = [  # 方不方便 / 如果不行的话 / 行不行: polite, not violations
    "方不方便跟我说一下具体情况",
    "如果不行的话，我们可以给您换一个时间",
    "改到周六上午，您看行不行",
    "您看这样处理行不行",
    "如果这个时间不行的话，您再告诉我",
]
NEAR_MISS = [  # 步行 / 不幸 sound like 不行 on a bad line
    "我们的网点离您那儿步行五分钟就到",
    "很不幸地通知您，这件商品已经停产了",
    "营业厅离您步行大概十分钟",
    "很不幸，您的包裹在运输中有破损",
    "您步行过去就可以办理",
    "不幸的是，这个活动已经结束了",
]

# ---------------------------------------------------------------- agent: closing
ASK_MORE = [
    "请问还有其他可以帮您的吗",
    "请问还有什么问题吗",
    "请问还有别的需要吗",
    "还有其他需要帮助的吗",
    "请问还有什么可以为您效劳的吗",
    "您还有其他问题吗",
]
ASK_MORE_OUTBOUND = ["请问您还有其他意见或建议吗", "您还有什么需要反馈的吗", "请问还有其他问题需要帮您处理吗",
                     "您还有其他想了解的吗", "请问还有其他事情吗"]
CLOSE_COURTEOUS = [
    "感谢您的来电，祝您生活愉快，再见",
    "感谢您的来电，再见",
    "祝您生活愉快，再见",
    "不客气，祝您周末愉快，再见",
    "好的，感谢您的支持，再见",
    "感谢您的配合，再见",
]
CLOSE_OUTBOUND = [  # seed 002's 结束: 感谢您的答复 … 祝您…，再见
    "感谢您的答复，有需要可以随时跟我们联系，祝您生活愉快，再见",
    "那就不打扰您了，祝您生活愉快，再见",
    "感谢您的配合，祝您节日快乐，再见",
    "非常谢谢您的反馈，祝您一切顺利，再见",
    "感谢您的支持，再见",
]
CLOSE_THANKS_ONLY = ["感谢您的来电", "谢谢您的来电", "好的，谢谢", "感谢您的耐心", "谢谢您的支持"]
CLOSE_RUDE = ["就这样吧", "挂了啊", "行了，就这样", "没事我挂了", "好了，挂了"]

# ---------------------------------------------------------------- customer
CUST_HELLO = ["你好", "喂，你好", "您好", "喂", "哎，你好"]
CUST_PICKUP = ["喂", "喂，哪位", "你好，哪位", "喂，您好", "哪位"]  # picks up an outbound call
CUST_CONFIRM = ["是我，什么事", "对，我是", "是的，你说", "嗯，是我", "是我，有什么事吗"]
COMPLAINT = [  # dissatisfaction with the service or the agent
    "你们怎么办事的，上次也是这么说的",
    "你们这服务太差了，等了这么久",
    "我很不满意，怎么又要等",
    "我要投诉你们，这都第二次了",
    "太离谱了，我真的很生气",
    "你们这是什么态度",
    "都打了三次电话了，还没人管",
]
COMPLAINT_AT_OPENING = (1, 3, 4, 6)  # those that follow a first request naturally
PARTING_THREAT = [  # the complaint again, after the agent already apologized
    "下次再这样我就直接投诉你们",
    "要是明天还没弄好，我就投诉你们",
    "再出问题我就去消协投诉",
    "这次先这样，再有下次我一定投诉",
    "你们最好说到做到，不然我就投诉",
]
CUST_BANNED = [  # the customer's 不行 / 不知道 / 不可以 never count
    "不行，明天上午我要上班",
    "这个我不知道，能用手机号查吗",
    "不可以改到周末吗",
    "这样不行吧，能不能快一点",
    "我也不知道是怎么回事",
    "不可以吗？那我再想想",
]
CUST_ACK = ["好的", "嗯，好的", "行", "明白了", "好，知道了"]
CUST_THANKS = ["好的，谢谢你", "太好了，谢谢", "好的，麻烦你了", "谢谢，你们态度还不错", "那太好了，谢谢你"]
CUST_NO_MORE = ["没有了，谢谢", "没有了", "没了，谢谢你", "暂时没有了", "没有其他问题了"]
CUST_RESIGNED = ["唉，那只能再等等了", "好吧，也只能这样了", "唉，真麻烦", "那好吧，我再等等", "行吧，没办法"]
CUST_SATISFIED = ["挺满意的", "还可以，挺好的", "师傅挺准时的，很满意", "都挺好的", "很满意，处理得很快"]
AGENT_ACK = ["好的，感谢您的认可", "好的，我记下了", "好的，明白了", "感谢您的反馈", "好的，我们会继续努力"]
CUST_PRESS = [  # what the customer asks that a bad agent answers with a flat refusal
    ("能不能今天就给我办好", ("不行，这个办不了", "不行", "不可以，规定就是这样")),
    ("那大概什么时候能好", ("这个我不知道", "我不知道，你去问别人吧", "不知道，系统里查不到")),
    ("那我能直接退掉吗", ("不可以退", "不行")),
    ("能不能帮我加急一下", ("不行", "不可以，规定就是这样")),
    ("你们领导知道这个情况吗", ("这个我不知道", "不知道，系统里查不到")),
]
CUST_REPLY = ["可以，就用这个号码", "方便，你说", "收到了", "好的，那就这样", "可以，周六上午可以"]
CUST_PROVIDE_WAIT = ["你等一下，我找一下", "稍等，我看一下短信", "我翻一下，等等", "我找找啊", "等一下，我看看"]

# Sentiment each customer act carries (+1 positive, -1 negative, 0 neutral).
CUSTOMER_SENTIMENT = {
    "complaint": -1, "parting_threat": -1, "resigned": -1,
    "thanks": 1, "satisfied": 1,
}

ACTS: dict[str, list[str]] = {
    "greet_company": GREET_COMPANY, "greet_plain": GREET_PLAIN, "greet_outbound": GREET_OUTBOUND,
    "greet_rude": GREET_RUDE, "open_business": OPEN_BUSINESS, "state_id": STATE_ID, "state_id_late": STATE_ID_LATE,
    "offer_help": OFFER_HELP, "confirm_person": CONFIRM_PERSON, "excuse_disturb": EXCUSE_DISTURB,
    "hold_request": HOLD_REQUEST, "lookup": LOOKUP, "hold_thanks": HOLD_THANKS, "resume_plain": RESUME_PLAIN,
    "apology": APOLOGY, "remedy": REMEDY, "dismiss": DISMISS, "banned": [t for t, _ in BANNED],
    "polite_unknown": POLITE_UNKNOWN, "polite_ok": POLITE_OK, "near_miss": NEAR_MISS,
    "ask_more": ASK_MORE + ASK_MORE_OUTBOUND, "close_courteous": CLOSE_COURTEOUS + CLOSE_OUTBOUND,
    "close_thanks_only": CLOSE_THANKS_ONLY, "close_rude": CLOSE_RUDE,
    "cust_hello": CUST_HELLO, "cust_pickup": CUST_PICKUP, "cust_confirm": CUST_CONFIRM, "complaint": COMPLAINT,
    "parting_threat": PARTING_THREAT, "cust_banned": CUST_BANNED, "ack": CUST_ACK, "thanks": CUST_THANKS,
    "no_more": CUST_NO_MORE, "agent_ack": AGENT_ACK, "reply": CUST_REPLY, "press": [t for t, _ in CUST_PRESS], "resigned": CUST_RESIGNED, "satisfied": CUST_SATISFIED, "provide_wait": CUST_PROVIDE_WAIT,
}
BANNED_WORDS = dict(BANNED)
