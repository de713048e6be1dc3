"""What the staff loop learns from, for every channel: curated answers saved from staff
replies, the review queue of 👎 votes (most repeated complaint first) and the content gaps
(the questions the documents did not answer, grouped by what they ask)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from alliance.language import detect_language
from bot.engine.answering import Engine
from bot.engine.curated import group_similar
from bot.store.curated import NewCurated
from bot.store.database import Store
from bot.store.records import Person, Vote
from bot.store.tables import Unanswered, utc_now


async def save_reply(store: Store, reply_id: int, audience: str, by: Person) -> int | None:
    """Keep a staff reply to a ticket as the curated answer to the ticket's question; its id,
    None when there is no such reply. Saving it again (another audience) changes the same one."""
    reply = await store.tickets.reply(reply_id)
    if reply is None:
        return None
    return await store.curated.save(
        NewCurated(
            question=reply.question,
            answer=reply.text,
            language=reply.language,
            audience=audience,
            approved_by=by,
            origin=f"reply:{reply_id}",
        )
    )


async def correct(
    store: Store, feedback_id: int, answer: str, by: Person
) -> tuple[int, Vote] | None:
    """An admin's right answer to a 👎'd question: a curated answer for that question, and the
    vote settled; the curated id and the vote, None when the vote is gone or was settled."""
    vote = await store.curated.vote(feedback_id)
    if vote is None or not await store.curated.review(feedback_id, "corrected", by):
        return None
    curated_id = await store.curated.save(
        NewCurated(
            question=vote.question,
            answer=answer,
            language=detect_language(vote.question),
            audience="public",
            approved_by=by,
            origin=f"vote:{feedback_id}",
        )
    )
    return curated_id, vote


@dataclass(frozen=True)
class QueuedVote:
    vote: Vote
    similar: int  # 👎 votes on questions asking the same thing, this one included
    skipped: bool


async def review_queue(store: Store, engine: Engine) -> list[QueuedVote]:
    """The 👎 votes to review: the most often repeated complaint first (votes grouped by what
    their questions ask), then the oldest; skipped ones after all the others."""
    rows = await store.curated.unreviewed_votes()
    if not rows:
        return []
    questions = [row.question for row in rows]
    vectors = await engine.embed_questions(questions)
    space = await engine.question_space()
    groups = group_similar(vectors, [detect_language(q) for q in questions], space)
    size = {n: len(group) for group in groups for n in group}
    queued = [
        QueuedVote(vote=row, similar=size[n], skipped=row.outcome == "skipped")
        for n, row in enumerate(rows)
    ]
    # `rows` are oldest first and the sort is stable
    return sorted(queued, key=lambda q: (q.skipped, -q.similar))


@dataclass(frozen=True)
class Gap:
    """Questions asking the same thing that the documents did not answer well."""

    count: int
    reasons: Counter[str]  # abstained, escalated, voted
    languages: Counter[str]
    example: str
    last_asked: datetime
    covered_by: int | None  # the curated answer that now answers it, if any


async def content_gaps(store: Store, engine: Engine, days: int) -> list[Gap]:
    """The last `days` days' abstained, escalated and 👎'd questions grouped by similarity
    (a group is one gap), largest first."""
    found: list[Unanswered] = await store.unanswered(utc_now() - timedelta(days=days))
    if not found:
        return []
    vectors = await engine.embed_questions([u.question for u in found])
    space = await engine.question_space()
    curated = engine.curated
    if curated is not None:
        await curated.refresh()
    gaps = []
    for group in group_similar(vectors, [u.language for u in found], space):
        members = [found[n] for n in group]
        example = Counter(m.question for m in members).most_common(1)[0][0]
        covered = (
            curated.match(vectors[group[0]], members[0].language, "staff", space)
            if curated is not None
            else None
        )
        gaps.append(
            Gap(
                count=len(members),
                reasons=Counter(m.reason for m in members),
                languages=Counter(m.language for m in members),
                example=example,
                last_asked=max(m.at for m in members),
                covered_by=covered.entry.id if covered is not None else None,
            )
        )
    return gaps


GAP_COLUMNS = (
    "count",
    "abstained",
    "escalated",
    "voted",
    "languages",
    "example",
    "last_asked",
    "curated_answer",
)


def gaps_csv(gaps: list[Gap]) -> bytes:
    """The gaps as a UTF-8 CSV (with a byte-order mark, so spreadsheets read the Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(GAP_COLUMNS)
    for gap in gaps:
        writer.writerow(
            [
                gap.count,
                gap.reasons["abstained"],
                gap.reasons["escalated"],
                gap.reasons["voted"],
                " ".join(f"{lang}:{n}" for lang, n in gap.languages.most_common()),
                _spreadsheet_safe(gap.example),
                gap.last_asked.isoformat(timespec="minutes"),
                gap.covered_by or "",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def _spreadsheet_safe(text: str) -> str:
    """A learner's words never run as a formula when the file is opened in a spreadsheet."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
