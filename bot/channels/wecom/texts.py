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
