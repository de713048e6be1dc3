"""What the bot says in the staff loop, in English and Chinese. HTML: callers escape what they
insert (questions, answers, names)."""

CONFIRM = {
    "en": (
        "I will pass this to your branch staff:\n• your question: <i>{question}</i>\n"
        "• my reply to it\n• your Telegram name: <b>{name}</b>\n\n"
        "Staff answer here, in this chat. Send it?"
    ),
    "zh": (
        "我将把以下内容转给分校工作人员：\n• 您的问题：<i>{question}</i>\n• 我对它的回答\n"
        "• 您的 Telegram 名字：<b>{name}</b>\n\n工作人员会在本对话中回复您。确认发送吗？"
    ),
}
SEND_BUTTON = {"en": "Send", "zh": "发送"}
CANCEL_BUTTON = {"en": "Cancel", "zh": "取消"}
CANCELLED = {"en": "Not sent.", "zh": "已取消，未发送。"}
SENT = {
    "en": "Sent to your branch staff as ticket <b>#{ticket}</b>. Their answer will come here.",
    "zh": "已作为工单 <b>#{ticket}</b> 转给分校工作人员，回复会发送到本对话。",
}
ALREADY = {
    "en": "This question is already ticket <b>#{ticket}</b> ({state}).",
    "zh": "这个问题已是工单 <b>#{ticket}</b>（{state}）。",
}
UNAVAILABLE = {
    "en": (
        "Branch staff cannot be reached right now. Your question is kept as ticket "
        "<b>#{ticket}</b> and will be passed on as soon as they can be; the answer will come here."
    ),
    "zh": (
        "暂时无法联系到分校工作人员。您的问题已保存为工单 <b>#{ticket}</b>，"
        "一旦可以联系就会转交，回复会发送到本对话。"
    ),
}
STAFF_LOOP_OFF = {
    "en": "Asking a person is not available here.",
    "zh": "此处暂不支持转人工。",
}
STATES = {
    "en": {"open": "open", "answered": "answered", "closed": "closed", "expired": "expired"},
    "zh": {"open": "待处理", "answered": "已回复", "closed": "已关闭", "expired": "已过期"},
}

# In the staff chat (English and Chinese together: staff of either language read it)
ANNOUNCEMENT = (
    "🎫 <b>Ticket #{ticket}</b> 工单 · {branch} · {language}\n"
    "<b>From 提问者:</b> {name}\n<b>Question 问题:</b> {question}\n\n"
    "<b>Assistant's reply 助手回答:</b>\n{answer}\n\n"
    "<i>Reply to this message to answer. 回复本消息即可答复学员。</i>"
)
REMINDER = "⏰ Still open 仍未处理 — "
FOLLOW_UP = (
    "💬 <b>Ticket #{ticket}</b> — the learner follows up 学员追问:\n{text}\n\n"
    "<i>Reply to this message to answer. 回复本消息即可答复。</i>"
)
NO_BRANCH = "no branch chosen 未选择分校"
OPEN_TICKETS = "<b>Open tickets 待处理工单</b> (oldest first 最早的在前)\n"
OPEN_TICKET_LINE = "• #{ticket} · {age} · {branch} · {question}"
NO_OPEN_TICKETS = "No open tickets. 没有待处理的工单。"

# To the learner
STAFF_ANSWER = {
    "en": "<b>Answer from your branch staff</b> ({branch}), ticket #{ticket}:\n\n{text}",
    "zh": "<b>分校工作人员的回复</b>（{branch}），工单 #{ticket}：\n\n{text}",
}
STAFF_ADDITION = {
    "en": "<b>More from your branch staff</b> ({branch}), ticket #{ticket}:\n\n{text}",
    "zh": "<b>分校工作人员的补充</b>（{branch}），工单 #{ticket}：\n\n{text}",
}
FOLLOW_UP_SENT = {
    "en": "Passed on to branch staff under ticket <b>#{ticket}</b>.",
    "zh": "已作为工单 <b>#{ticket}</b> 的追问转给分校工作人员。",
}
MY_TICKETS = {"en": "<b>Your tickets</b>\n", "zh": "<b>您的工单</b>\n"}
MY_TICKET_LINE = "• #{ticket} · {state} · {question}"
NO_TICKETS = {"en": "You have no tickets.", "zh": "您还没有工单。"}

# /branch
BRANCH_MORE = {
    "en": "{count} more: add part of the name, e.g. /branch {example}",
    "zh": "另有 {count} 个：请加上名称的一部分，例如 /branch {example}",
}
BRANCH_CHOSEN = {
    "en": "Your branch is now <b>{branch}</b>.",
    "zh": "您的分校已设为 <b>{branch}</b>。",
}
