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
