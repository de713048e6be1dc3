"""Greetings, thanks, goodbyes and acknowledgements ("ok 👍", "谢谢！🙏", a bare "🙏") get a short
friendly reply instead of a retrieval: they ask nothing, so they are never a content gap."""

import re
import unicodedata

# Matched against the message with its emoji, punctuation and spacing taken out, lower-cased.
_KINDS = (
    (
        "greeting",
        r"(hi|hello|hey|hiya|good (morning|afternoon|evening)|greetings|"
        r"你好|您好|嗨|哈喽|哈啰|早上好|上午好|下午好|晚上好|大家好|早|在吗|在不在)"
        r"( there| bot| assistant| all| everyone|助手|机器人|呀|啊|哈|哦)*",
    ),
    (
        "thanks",
        r"((ok|okay|great|got it|perfect|cool|好的|好|嗯|明白了|懂了|知道了|收到)\s*)?"
        r"(thanks?( you)?( very much| a lot| so much| again)?|thx|ty|tysm|cheers|many thanks|"
        r"谢谢(你|您|啦|了|哈|哦|呀)?|多谢(啦|了)?|感谢(感谢)?|非常感谢|谢啦|谢了)+"
        r"( bot| assistant|助手)?",
    ),
    (
        "goodbye",
        r"(bye|goodbye|bye bye|see you|see ya|再见|拜拜|回头见)",
    ),
    (
        "thanks",  # an acknowledgement: answered as a thanks is
        r"(ok|okay|k|got it|understood|i see|great|perfect|cool|nice|"
        r"好的|好|嗯|嗯嗯|明白了|明白|懂了|知道了|收到|了解)",
    ),
)
# Emoji that thank or approve; any other emoji alone is taken as a hello.
_GRATEFUL = frozenset("🙏👍👌👏❤💖💕😊🥰🤝✅")
_REPLIES = {
    ("greeting", "en"): "Hello! Ask me about the alliance charter, credit transfer or shared "
    "courses.",
    ("greeting", "zh"): "您好！欢迎咨询联盟章程、学分银行（学分认定）和共享课程的相关问题。",
    ("thanks", "en"): "You're welcome! Ask again any time.",
    ("thanks", "zh"): "不客气！有问题随时问我。",
    ("goodbye", "en"): "Goodbye! Ask again any time.",
    ("goodbye", "zh"): "再见！有问题随时问我。",
}


def bare(text: str) -> str:
    """The words of a message without emoji, symbols, punctuation or extra spacing."""
    kept = "".join(
        " " if unicodedata.category(char)[0] in "PSZC" else char for char in text.casefold()
    )
    return re.sub(r"\s+", " ", kept).strip()


def small_talk_reply(question: str, language: str) -> str | None:
    """The reply to a message that only greets, thanks, says goodbye or acknowledges; a message
    of emoji alone is thanks ("👍", "🙏") or a hello. None for anything that asks something."""
    words = bare(question)
    if not words:
        if not any(unicodedata.category(char) == "So" for char in question):
            return None  # punctuation or nothing at all
        grateful = any(char in _GRATEFUL for char in question)
        return _REPLIES[("thanks" if grateful else "greeting", language)]
    for kind, pattern in _KINDS:
        if re.fullmatch(pattern, words):
            return _REPLIES[(kind, language)]
    return None
