"""Small deterministic calculators for questions that carry the learner's own numbers: a score
against the pass mark, a programme's credits against the cap on credits from elsewhere, a week
of the semester against the application window, days since a result against the appeal
deadline, courses against the per-semester limit, certificate levels converted to credits,
years since credits were earned against the time limit.

Each reads its rule's number from the published documents (the sentence that states it), never
from code, and cites that sentence: when the alliance office replaces the sample rules, the
calculators follow, and a rule whose wording they no longer recognise simply falls back to an
ordinary answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from alliance.language import split_sentences
from bot.engine.courses import CODE
from bot.engine.results import Passage

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
    "七": 7, "八": 8, "九": 9, "十": 10,
}  # fmt: skip
_NUMBER = r"(\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|[一二两三四五六七八九十])"


def number(text: str) -> int:
    """A number written in digits or as an English or Chinese word (up to ten)."""
    return int(text) if text.isdigit() else _NUMBER_WORDS[text.lower()]


@dataclass(frozen=True)
class Rule:
    """A number a rule document states, with the sentence that states it."""

    values: tuple[str, ...]
    sentence: str
    passage: Passage


@dataclass(frozen=True)
class Calculation:
    """The answer to a question about the learner's own case, and the rule it applied."""

    text: str
    rule: Rule
    covered: bool = True  # False: the rule exists but does not cover the case asked about


class RuleBook:
    """Finds rule sentences in the passages a role may read, the question's language first."""

    def __init__(self, passages: Sequence[Passage], language: str) -> None:
        same = [p for p in passages if p.metadata.get("lang") == language]
        self._passages = same or list(passages)

    def find(self, pattern: str) -> Rule | None:
        rules = self.find_all(pattern)
        return rules[0] if rules else None

    def find_all(self, pattern: str) -> list[Rule]:
        compiled = re.compile(pattern, re.IGNORECASE)
        found = []
        for passage in self._passages:
            if passage.metadata.get("course_code"):
                continue  # catalogue entries state no rules
            for sentence in split_sentences(passage.text):
                match = compiled.search(sentence)
                if match:
                    found.append(Rule(match.groups(), sentence, passage))
        return found


Calculator = Callable[[str, str, RuleBook], Calculation | None]


def _cite(sentence: str) -> str:
    body = sentence.rstrip("。！？；.!?;")
    return f"{body} [1]{sentence[len(body) :] or ('。' if _zh(sentence) else '.')}"


def _zh(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def _limit(rule: Rule) -> int:
    """The number the rule's sentence states."""
    return number(next(value for value in rule.values if value))


def _stated(text: str, rule: Rule, language: str) -> Calculation:
    """The answer, followed by the rule it applied, cited."""
    lead = "依据：" if language == "zh" else " The rule: "
    return Calculation(f"{text}{lead}{_cite(rule.sentence)}", rule)


def _verdict(
    rule: Rule, language: str, holds: bool, zh: tuple[str, str], en: tuple[str, str]
) -> Calculation:
    """The answer for a case the rule allows (each pair's first text) or does not (second)."""
    allowed, refused = zh if language == "zh" else en
    return _stated(allowed if holds else refused, rule, language)


def _find(pattern: str, text: str) -> int | None:
    match = re.search(pattern, text, re.IGNORECASE)
    if match is None:
        return None
    return number(next(group for group in match.groups() if group))


def _asks(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def pass_mark(question: str, language: str, rules: RuleBook) -> Calculation | None:
    score = _find(
        r"\b(?:scored?|got|get|received|mark(?:ed)?|result of|grade of)\D{0,12}?(\d{1,3})\b"
        r"|\b(\d{1,3})\s*(?:/\s*100|out of 100|points?|marks?)\b"
        r"|(?:考了|得了|考到|拿了|成绩(?:是|为|只有)?|考)\s*(\d{1,3})\s*分?|(\d{1,3})\s*分",
        question,
    )
    if score is None or score > 100:
        return None
    if not _asks(
        r"pass|count|recogni|accept|enough|credit|及格|认定|算|通过|学分|承认|合格", question
    ):
        return None
    rule = rules.find(r"score of at least (\d+)|达到(\d+)分及以上|(\d+)分及以上")
    if rule is None:
        return None
    mark = _limit(rule)
    return _verdict(
        rule,
        language,
        score >= mark,
        zh=(
            f"{score}分达到了{mark}分的及格线，学分可以获得认定。",
            f"{score}分低于{mark}分的及格线，学分不能获得认定。",
        ),
        en=(
            f"Yes: {score} reaches the pass mark of {mark}, so the credits are recognised.",
            f"No: {score} is below the pass mark of {mark}, so the credits are not recognised.",
        ),
    )


def outside_cap(question: str, language: str, rules: RuleBook) -> Calculation | None:
    total = _find(r"(\d{2,4})\s*(?:credits?|学分)", question)
    if total is None:
        return None
    elsewhere = (
        r"outside|elsewhere|other (?:universit|school|institution|college)|another "
        r"(?:universit|school)|transfer|校外|外校|其他学校|别的学校|外面|其他高校|转入|非本校"
    )
    if not _asks(elsewhere, question):
        return None
    rule = rules.find(r"at most half \((\d+)%\)|at most (\d+)%|一半（(\d+)%）|最多.*?(\d+)%")
    if rule is None:
        return None
    shown = f"{total * _limit(rule) / 100:g}"
    if language == "zh":
        text = f"毕业需要{total}学分的，最多{shown}学分可以是在所属学校以外获得并经认定的学分。"
    else:
        text = (
            f"Of {total} credits required for graduation, at most {shown} can be credits "
            "recognised from outside your home university."
        )
    return _stated(text, rule, language)


def application_window(question: str, language: str, rules: RuleBook) -> Calculation | None:
    week = _find(
        rf"\bweek\s*{_NUMBER}\b|\b(\d{{1,2}})(?:st|nd|rd|th) week\b"
        rf"|第\s*{_NUMBER}\s*周|开学(?:已经|都)?\s*{_NUMBER}\s*(?:个)?(?:周|星期)",
        question,
    )
    if week is None or not _asks(r"appl|submit|hand in|申请|提交|交|认定", question):
        return None
    rule = rules.find(r"within the first (\d+) weeks|前(\d+)周")
    if rule is None:
        return None
    weeks = _limit(rule)
    return _verdict(
        rule,
        language,
        week <= weeks,
        zh=(
            f"第{week}周仍在开学后的前{weeks}周内，可以提交申请。",
            f"第{week}周已超过开学后的前{weeks}周，本学期不能再提交申请。",
        ),
        en=(
            f"Yes: week {week} is within the first {weeks} weeks, so you can still apply.",
            f"No: week {week} is past the first {weeks} weeks, so this semester's window "
            "has closed.",
        ),
    )


def appeal_deadline(question: str, language: str, rules: RuleBook) -> Calculation | None:
    days = _find(
        rf"{_NUMBER}\s*(?:working |business )?days?\b|{_NUMBER}\s*(?:个)?(?:工作日|天)", question
    )
    if days is None or not _asks(r"appeal|disagree|contest|challenge|申诉|不服|异议", question):
        return None
    rule = rules.find(r"appeal must be submitted within (\d+) working days|申诉.*?(\d+)个工作日内")
    if rule is None:
        return None
    limit = _limit(rule)
    return _verdict(
        rule,
        language,
        days <= limit,
        zh=(
            f"{days}天仍在结果公布后{limit}个工作日以内，可以提出申诉。",
            f"{days}天已超过结果公布后{limit}个工作日，申诉期限已过。",
        ),
        en=(
            f"Yes: {days} days is within the {limit} working days allowed for an appeal.",
            f"No: {days} days is past the {limit} working days allowed for an appeal.",
        ),
    )


def course_limit(question: str, language: str, rules: RuleBook) -> Calculation | None:
    courses = _find(
        rf"\b{_NUMBER}\s*(?:shared |different )?(?:courses|classes|modules)\b|{_NUMBER}\s*门",
        question,
    )
    codes = {f"{letters}-{digits}".upper() for letters, digits in CODE.findall(question)}
    adding = r"\badd\b|as well|also|another|too\b|再|还|加选|又"
    if courses is None and len(codes) >= 2 and _asks(adding, question):
        courses = len(codes)  # "I have SC-101 and CQ-320; can I add CD-115?"
    # One course is no case for the limit ("which spring course can I take one of?").
    if (
        courses is None
        or courses < 2
        or not _asks(
            r"semester|term|spring|autumn|at once|same time|学期|同时|春季|秋季|add|加选", question
        )
    ):
        return None
    rule = rules.find(r"at most (\d+) shared courses per semester|每学期最多(?:可以)?选修(\d+)门")
    if rule is None:
        return None
    limit = _limit(rule)
    return _verdict(
        rule,
        language,
        courses <= limit,
        zh=(
            f"可以：{courses}门没有超过每学期{limit}门的上限。",
            f"不可以：{courses}门超过了每学期最多{limit}门的上限。",
        ),
        en=(
            f"Yes: {courses} courses is within the limit of {limit} per semester.",
            f"No: {courses} courses is more than the limit of {limit} per semester.",
        ),
    )


_LEVEL = re.compile(
    rf"(?:level|grade)[\s-]*{_NUMBER}\b|{_NUMBER}\s*级|\b{_NUMBER}(?:st|nd|rd|th)?[\s-]*level\b",
    re.IGNORECASE,
)


def certificate_credits(question: str, language: str, rules: RuleBook) -> Calculation | None:
    if not _asks(r"\bcert|qualification|证|资格|高级工|技师", question) or not _asks(
        r"credit|convert|worth|count|how many|how much|add up|学分|折算|换|算|值|多少", question
    ):  # "what is a senior technician called in Chinese" asks for no credits
        return None
    table = rules.find_all(
        r"level (\d+) certificate \(([^)]+)\) converts to (\d+) credits"
        r"|([一二三四五六七八九])级（([^）]+)）证书折算为(\d+)学分"
    )
    credits = {}
    for rule in table:
        level, name, value = [v for v in rule.values if v]
        credits[number(level)] = (name, int(value), rule)
    if not credits:
        return None
    levels = certificate_levels(question, {name: level for level, (name, _, _) in credits.items()})
    if not levels:
        return None
    missing = [level for level in levels if level not in credits]
    if missing:
        first = next(iter(credits.values()))[2]
        listed = sorted(credits)
        if language == "zh":
            text = (
                f"学分银行规则只规定了{'、'.join(f'{n}级' for n in listed)}证书的折算，"
                f"没有涉及{'、'.join(f'{n}级' for n in missing)}证书。例如：{_cite(first.sentence)}"
            )
        else:
            text = (
                f"The credit bank rules convert only level {', '.join(map(str, listed))} "
                f"certificates; they do not cover a level {', '.join(map(str, missing))} "
                f"certificate. For example: {_cite(first.sentence)}"
            )
        return Calculation(text, first, covered=False)
    total = sum(credits[level][1] for level in levels)
    rule = credits[levels[0]][2]
    if len(levels) == 1:  # the rule's own sentence is the answer
        return Calculation(_cite(rule.sentence), rule)
    parts = " + ".join(str(credits[level][1]) for level in levels)
    joiner = "" if language == "zh" else " "
    stated = joiner.join(_cite(credits[level][2].sentence) for level in dict.fromkeys(levels))
    if language == "zh":
        text = f"合计{parts} = {total}学分。依据：{stated}"
    else:
        text = f"Together they convert to {parts} = {total} credits. The rules: {stated}"
    return Calculation(text, rule)


# Between a certificate's level and its name when both describe one certificate: "level 2
# (technician)", "技师（二级）", "senior worker level (level 3)": a few characters, no other word
# for a certificate or a joining "and".
_SAME_CERTIFICATE = re.compile(r"(?!.*\b(?:and|plus)\b)(?!.*[和及与、])[^.。;；]{0,12}", re.I)


def certificate_levels(question: str, names: dict[str, int]) -> list[int]:
    """The level of each certificate the question names, in order: by number ("level 2",
    "二级") or by the rule's own name for it ("technician", "高级技师", the longest name first
    so that "senior technician" is not also read as "technician"). A number and a name side
    by side that give the same level are one certificate, not two."""
    mentions = [
        (match.start(), match.end(), number(next(g for g in match.groups() if g)))
        for match in _LEVEL.finditer(question)
    ]
    lowered = question.lower()
    for name in sorted(names, key=len, reverse=True):
        for match in re.finditer(re.escape(name.lower()), lowered):
            mentions.append((match.start(), match.end(), names[name]))
        lowered = lowered.replace(name.lower(), " " * len(name))
    levels: list[int] = []
    last_end, last_level = -1, None
    for start, end, level in sorted(mentions):
        beside = last_end >= 0 and _SAME_CERTIFICATE.fullmatch(question[last_end:start])
        if not (beside and level == last_level):
            levels.append(level)
        last_end, last_level = end, level
    return levels


def _years_since(question: str) -> int | None:
    """Years since the credits were earned: "6 years ago", "3年前", or a year ("in 2019"),
    counted to another year the question gives or else to this one."""
    years = _find(rf"\b{_NUMBER}\s*years?\s*ago\b|{_NUMBER}\s*年前", question)
    if years is not None:
        return years
    stated = [int(year) for year in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", question)]
    if not stated:
        return None
    now = max(stated) if len(stated) > 1 else date.today().year
    return now - min(stated)


def time_limit(question: str, language: str, rules: RuleBook) -> Calculation | None:
    years = _years_since(question)
    if years is None or not _asks(r"credit|deposit|transfer|bank|学分|存入|转换|银行", question):
        return None
    transfer = _asks(r"transfer|转换|转", question)
    rule = (transfer and rules.find(r"transferred within (\d+) years|(\d+)年内可以办理转换")) or (
        rules.find(r"within (\d+) years of being earned|自取得之日起(\d+)年内")
    )
    if rule is None:
        return None
    limit = _limit(rule)
    return _verdict(
        rule,
        language,
        years <= limit,
        zh=(
            f"{years}年前取得的学分仍在{limit}年有效期内。",
            f"{years}年前取得的学分已超过{limit}年，不能再存入或转换。",
        ),
        en=(
            f"Yes: credits earned {years} years ago are within the {limit}-year limit.",
            f"No: credits earned {years} years ago are past the {limit}-year limit.",
        ),
    )


CALCULATORS: tuple[Calculator, ...] = (
    certificate_credits,
    appeal_deadline,
    application_window,
    outside_cap,
    course_limit,
    time_limit,
    pass_mark,  # last: its bare "55分" pattern would take other questions' numbers
)


def calculate(question: str, language: str, passages: Sequence[Passage]) -> Calculation | None:
    """The first calculator that recognises the question and finds its rule, if any."""
    rules = RuleBook(passages, language)
    for calculator in CALCULATORS:
        found = calculator(question, language, rules)
        if found is not None:
            return found
    return None
