"""Greetings and thanks get a short friendly reply instead of a retrieval."""

import re

_GREETING = re.compile(
    r"^(hi|hello|hey|good (morning|afternoon|evening)|greetings"
    r"|你好|您好|嗨|哈喽|早上好|下午好|晚上好|大家好)"
    r"[\s!！.。,，~～]*(there|bot|assistant|助手)?[\s!！.。~～]*$",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"^(thanks?( you)?( very much| a lot| so much)?|thx|cheers|谢谢(你|您)?|多谢|感谢|非常感谢)"
    r"[\s!！.。,，~～]*$",
    re.IGNORECASE,
)
_REPLIES = {
    (
        "greeting",
        "en",
    ): "Hello! Ask me about the alliance charter, credit transfer or shared courses.",
    ("greeting", "zh"): "您好！欢迎咨询联盟章程、学分银行（学分认定）和共享课程的相关问题。",
    ("thanks", "en"): "You're welcome! Ask again any time.",
    ("thanks", "zh"): "不客气！有问题随时问我。",
}


def small_talk_reply(question: str, language: str) -> str | None:
    text = question.strip()
    if _GREETING.match(text):
        return _REPLIES[("greeting", language)]
    if _THANKS.match(text):
        return _REPLIES[("thanks", language)]
    return None
