"""What the WeCom bot says, in English and Chinese (WeCom renders markdown)."""

WELCOME = (
    "您好！我是成渝地区双城经济圈广播电视大学教育联盟的智能助手，可以回答联盟章程、学分银行和共享课程的"
    "问题，并注明出处。直接输入问题即可；在群聊中请 @我。\n\n"
    "Hello! I am the assistant of the Chengdu–Chongqing RTVU Education Alliance. Ask me about "
    "the charter, credit transfer (the credit bank) and shared courses, and I answer with my "
    "sources. Just type your question; in a group, mention me."
)
LOOKING = {"en": "Looking it up in the alliance's documents…", "zh": "正在查阅联盟文件……"}
TEXT_ONLY = (
    "我只能阅读文字（或语音）问题，请直接输入您的问题。\n\n"
    "I can only read text (and voice) questions. Please type your question."
)
ASK_PERSON = {"en": "Ask a person", "zh": "转人工"}
SENT = {
    "en": "Sent to branch staff as ticket **#{ticket}**. Their answer will come here.",
    "zh": "已作为工单 **#{ticket}** 转给分校工作人员，回复会发送到本对话。",
}
ALREADY = {
    "en": "This question is already ticket **#{ticket}**.",
    "zh": "这个问题已是工单 **#{ticket}**。",
}
NO_STAFF = {
    "en": "No branch staff answer questions here yet.",
    "zh": "目前还没有分校工作人员在此答复问题。",
}
STAFF_ANSWER = {
    "en": "**Answer from your branch staff** ({branch}), ticket #{ticket}:\n\n{text}",
    "zh": "**分校工作人员的回复**（{branch}），工单 #{ticket}：\n\n{text}",
}
STAFF_ADDITION = {
    "en": "**More from your branch staff** ({branch}), ticket #{ticket}:\n\n{text}",
    "zh": "**分校工作人员的补充**（{branch}），工单 #{ticket}：\n\n{text}",
}

# In a staff group (both languages together: staff of either read it)
ANNOUNCEMENT = (
    "🎫 **Ticket #{ticket}** 工单 · {branch} · {language} · {channel}\n"
    "**From 提问者:** {name}\n**Question 问题:** {question}\n\n"
    "**Assistant's reply 助手回答:**\n{answer}\n\n"
    "Quote this message and mention me with your answer, or write “@me #{ticket} your answer”. "
    "引用本消息并 @我 写下答复，或发送「@我 #{ticket} 答复内容」。"
)
REMINDER = "⏰ Still open 仍未处理 — "
NO_BRANCH = "no branch chosen 未选择分校"
CHANNELS = {"web": "web 网页", "wecom": "WeCom 企业微信", "telegram": "Telegram"}
NO_TICKET = "There is no ticket #{ticket}. 没有工单 #{ticket}。"
OTHER_GROUP = "Ticket #{ticket} belongs to another staff group. 工单 #{ticket} 属于其他工作人员群。"
NOT_STAFF = (
    "Only registered staff answer tickets: send me /register CODE (your branch's invite code) "
    "or /link CODE (from your account page) in a single chat first. "
    "只有已登记的工作人员才能答复工单：请先在与我的单聊中发送 /register 邀请码 或 /link 代码。"
)
# The card under a staff answer (WeCom's limits: a title of 26 characters, a description of 30,
# buttons of about 10)
KEEP_TITLE = "Keep this answer? 保存答复？"
KEEP_DESC = "For similar questions 用于类似问题"
KEEP_BUTTONS = {"public": "📌 Keep 保存", "staff": "🔒 Staff 仅员工"}
KEPT = "📌 #{ticket} → curated answer #{curated}, {audience}. 已保存为标准答案。"  # ≤ 112
CHAT_ID = {
    "group": "This group's chat id 本群的会话 ID: {chat}\n\nFor tickets, set "
    "WECOM_STAFF_CHAT_ID (or a branch in WECOM_BRANCH_STAFF_CHATS) to it. "
    "将其设为 WECOM_STAFF_CHAT_ID（或 WECOM_BRANCH_STAFF_CHATS 中某分校）即可在本群接收工单。",
    "single": "This is a single chat: mention me with /chatid in a group to get its id. "
    "这是单聊：请在群聊中 @我 并发送 /chatid 获取群的会话 ID。",
}

# A learner's branch
BRANCH_CHOSEN = "Your branch is now **{branch}**. 您的分校已设为 **{branch}**。"
BRANCH_HOW = "Send /branch and part of a name to choose it. 发送 /branch 加名称的一部分即可选择。"
