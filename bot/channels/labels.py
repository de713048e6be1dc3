"""Words every channel shows alike, in each language."""

from bot.services.rounds import Delivery
from bot.services.staff_loop import Answered, Channel

SOURCES = {"en": "Sources", "zh": "来源"}
SAMPLE = {"en": "sample text, not the official rule", "zh": "示例文本，并非正式规定"}
FAILED = {
    "en": "Sorry, something went wrong while answering. Please try again in a moment.",
    "zh": "抱歉，回答时出现错误，请稍后再试。",
}
TOO_LONG = {
    "en": "That message is too long for me ({length} characters; at most {limit}). "
    "Please ask one short question.",
    "zh": "消息太长（{length} 个字符，最多 {limit} 个），请简短地提一个问题。",
}
SLOW_DOWN = {
    "en": "You are asking faster than I can keep up with. Please wait {seconds} seconds.",
    "zh": "提问太频繁了，请等待 {seconds} 秒后再问。",
}
THANKS = {"en": "Thank you for the feedback!", "zh": "感谢您的反馈！"}
NO_SOURCES = {"en": "This answer cites no documents.", "zh": "这条回答没有引用文件。"}
CORRECTION = {
    "en": "Branch staff looked at your question “{question}” again. Their answer:\n\n{answer}",
    "zh": "分校工作人员重新查看了您的问题“{question}”，答复如下：\n\n{answer}",
}
ALLIANCE_STAFF = {"en": "alliance staff", "zh": "联盟工作人员"}

# A learner's branch (/branch): where questions to a person go
BRANCH_PICK = {
    "en": "Which branch do you study at? Questions you pass to a person go to its staff.",
    "zh": "您在哪个分校学习？您转人工的问题将发给该分校的工作人员。",
}
BRANCH_NONE_MATCH = {
    "en": "No branch with its own staff chat matches “{search}”. Try /branch with part of the "
    "name, or just /branch for the list.",
    "zh": "没有与“{search}”匹配、设有工作人员群的分校。请用 /branch 加名称的一部分再试，"
    "或直接发送 /branch 查看列表。",
}
BRANCH_NONE = {
    "en": "No branch has its own staff chat yet: questions go to the alliance's staff.",
    "zh": "目前没有分校设立自己的工作人员群，问题将发给联盟工作人员。",
}

# Becoming staff in a messaging app
REGISTER = {
    "private_only": {
        "en": "Please send /register CODE to me in a private chat. A code posted in a group is "
        "no longer secret: ask your admin for a new one.",
        "zh": "请在与我的私聊中发送 /register 邀请码。"
        "发在群里的邀请码已不再保密，请向管理员索取新码。",
    },
    "usage": {"en": "Usage: /register CODE", "zh": "用法：/register 邀请码"},
    "closed": {
        "en": "Staff registration is not open: no invite codes are configured.",
        "zh": "目前未开放工作人员登记（未设置邀请码）。",
    },
    "registered": {
        "en": "Registered as staff of {branch}. Staff-only documents now answer your questions "
        "in private chats.",
        "zh": "已登记为 {branch} 的工作人员。私聊提问时，回答将包括仅限工作人员的文件。",
    },
    "wrong": {
        "en": "That code is not valid.",
        "zh": "邀请码无效。",
    },
    "throttled": {
        "en": "Too many wrong codes. Please try again later or ask your admin.",
        "zh": "错误次数过多，请稍后再试或联系管理员。",
    },
}

LINK = {
    "private_only": {
        "en": "Please send /link CODE to me in a private chat. A code posted in a group is no "
        "longer secret: get a new one on your account page.",
        "zh": "请在与我的私聊中发送 /link 代码。发在群里的代码已不再保密，请在账号页面重新获取。",
    },
    "usage": {
        "en": "Usage: /link CODE (the code is on your account page on the web, under Messaging "
        "apps)",
        "zh": "用法：/link 代码（代码在网页账号页面的“即时通讯应用”一栏）",
    },
    "linked": {
        "en": "Linked: this {app} account is now {name}'s ({role}).",
        "zh": "已关联：此{app}账号现为 {name}（{role}）。",
    },
    "wrong": {
        "en": "That code was used, has expired or is not valid: get a new one on your account "
        "page.",
        "zh": "代码已使用、已过期或无效，请在账号页面重新获取。",
    },
}

# Who may read a curated answer (both languages: staff of either read it)
AUDIENCE_NAMES = {"public": "everyone 所有人", "staff": "staff only 仅限员工"}

# What a staff chat is told once a staff answer is recorded (both languages together)
_RECORDED = {
    "sent": "✅ Ticket #{ticket}: answer sent to the learner. 已发送给学员。",
    "addition": "➕ Ticket #{ticket}: addition sent to the learner. 补充已发送。",
    "web": "✅ Ticket #{ticket}: answer recorded; the learner asked on the web page and sees it "
    "there. 已记录，学员将在网页上看到回复。",
    "telegram": "✅ Ticket #{ticket}: answer recorded; the learner asked in Telegram, where the "
    "Telegram bot sends it. 已记录，将由 Telegram 机器人发送给学员。",
    "wecom": "✅ Ticket #{ticket}: answer recorded; the learner asked in WeCom, where the WeCom "
    "bot sends it. 已记录，将由企业微信机器人发送给学员。",
    "later": "⏳ Ticket #{ticket}: answer recorded; the app did not take it just now, so the next "
    "round sends it. 已记录，稍后将发送给学员。",
    "unreachable": "⚠️ Ticket #{ticket}: the learner cannot be reached (they blocked the bot, or "
    "left), so the answer was not delivered; it is recorded. "
    "无法联系到学员，回复未能送达，已记录。",
}


def answer_recorded(answered: Answered, sent: Delivery | None, channel: Channel) -> str:
    """What the staff chat is told of a staff answer: sent (`sent`, by this channel's bot at
    once), or on its way by the learner's own channel (`sent` None)."""
    if sent is Delivery.SENT:
        key = "sent" if answered.first else "addition"
    else:
        key = channel if sent is None else sent.value
    return _RECORDED[key].format(ticket=answered.ticket_id)
