"""Words every channel shows alike, in each language."""

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
