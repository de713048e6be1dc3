"""Resolve a short follow-up ("and for Chongqing RTVU?", "那重庆呢？") against the last question."""

import re
from collections.abc import Sequence

from bot.engine.courses import CODE, MODES, PROVIDERS, SEMESTERS, Forms

# Interchangeable things a follow-up swaps in for the same kind of thing in the last question.
_CERTIFICATES: Forms = {
    "level3": ("level 3", "senior worker", "三级", "高级工"),
    "level2": ("level 2", "technician", "二级", "技师"),
    "level1": ("level 1", "senior technician", "一级", "高级技师"),
}
_KINDS: tuple[Forms, ...] = (PROVIDERS, SEMESTERS, MODES, _CERTIFICATES)

_LEADS = ("and what about", "what about", "how about", "and for", "and in", "and", "but", "so",
          "for", "what of", "那么", "那", "还有", "另外")  # fmt: skip
_LEAD = re.compile(r"^\s*(?:" + "|".join(map(re.escape, _LEADS)) + r")\b\s*", re.IGNORECASE)
_TAIL = re.compile(r"(?:呢|的呢|怎么样|如何)?\s*[?？。.!！]*\s*$")


def looks_like_followup(question: str) -> bool:
    """Short, and opening or closing the way follow-ups do, or naming nothing but a course,
    a university, a semester, a mode or a certificate level ("SC-230?", "Chengdu RTVU")."""
    stripped = question.strip()
    short = len(stripped.split()) <= 6 if stripped.isascii() else len(stripped) <= 12
    if not short:
        return False
    if _LEAD.match(stripped) or stripped.rstrip("?？ ").endswith("呢"):
        return True
    core = _TAIL.sub("", stripped).strip()
    named = _mentions(core)
    rest = core
    for _, start, end in reversed(named):
        rest = rest[:start] + rest[end:]
    return bool(named) and not re.search(r"\w", rest)


def _mentions(text: str) -> list[tuple[int, int, int]]:
    """(kind, start, end) of each thing the text names; the longest form wins an overlap."""
    lowered = text.lower()
    candidates = [
        (kind, start, start + len(form))
        for kind, table in enumerate(_KINDS)
        for forms in table.values()
        for form in forms
        if (start := lowered.find(form)) >= 0
    ]
    candidates += [(len(_KINDS), m.start(), m.end()) for m in CODE.finditer(text)]
    found: list[tuple[int, int, int]] = []
    for kind, start, end in sorted(candidates, key=lambda c: c[1] - c[2]):
        if all(end <= s or start >= e for _, s, e in found):
            found.append((kind, start, end))
    return sorted(found, key=lambda m: m[1])


def resolve_followup(question: str, history: Sequence[tuple[str, str]]) -> str:
    """The question to answer: a follow-up rewritten from the previous question, else as asked."""
    if not history or not looks_like_followup(question):
        return question
    previous = history[-1][0]
    core = _TAIL.sub("", _LEAD.sub("", question.strip())).strip()
    if not core:
        return question
    new = _mentions(core)
    old = _mentions(previous)
    for kind, new_start, new_end in new:
        same_kind = [m for m in old if m[0] == kind]
        if same_kind:
            _, start, end = same_kind[0]
            return previous[:start] + core[new_start:new_end] + previous[end:]
    return f"{previous} {core}"
