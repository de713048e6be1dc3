"""Curated answers and the review of 👎 votes: what staff wrote by hand for a question, which
the engine serves to the next learner who asks it (this class is the engine's `CuratedSource`),
and what admins made of each 👎. Also the text an admin's next message is awaited for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, DateTime, Row, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine.curated import CuratedEntry
from bot.store.records import CuratedItem, Person, Vote, record, records
from bot.store.tables import (
    AwaitedText,
    CuratedAnswer,
    Feedback,
    LearnerBranch,
    VoteReview,
    aware,
    dialect_insert,
    utc_now,
)

AUDIENCES = ("public", "staff")
REVIEW_OUTCOMES = ("corrected", "right", "skipped")
# An awaited text not sent within this long is forgotten: the next message is a question again.
AWAIT_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class NewCurated:
    question: str
    answer: str
    language: str
    audience: str
    approved_by: Person
    origin: str | None = None  # "reply:<id>", "vote:<id>": saving it again changes the same one


class Curated:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # The engine's source
    async def revision(self) -> tuple[int, datetime | None]:
        """How many answers there are and when one last changed: any save, edit or retirement
        changes it."""
        statement = select(func.count(), func.max(CuratedAnswer.changed_at))
        async with self._engine.connect() as connection:
            count, changed = (await connection.execute(statement)).one()
        return int(count), changed

    async def active(self) -> list[CuratedEntry]:
        statement = select(CuratedAnswer).where(CuratedAnswer.retired_at.is_(None))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement.order_by(CuratedAnswer.id))).all()
        return [_entry(row) for row in rows]

    # Managing them
    async def save(self, new: NewCurated) -> int:
        """Store an answer (one per origin: saving it again updates it and brings a retired one
        back); its id."""
        if new.audience not in AUDIENCES:
            raise ValueError(f"audience must be one of {AUDIENCES}, not {new.audience!r}")
        if not new.question.strip() or not new.answer.strip():
            raise ValueError("a curated answer needs a question and an answer")
        moment = utc_now()
        values = {
            "origin": new.origin,
            "question": new.question,
            "answer": new.answer,
            "language": new.language,
            "audience": new.audience,
            "approved_by": new.approved_by.telegram_id,
            "approved_by_account_id": new.approved_by.account_id,
            "approved_at": moment,
            "changed_by": new.approved_by.telegram_id,
            "changed_by_account_id": new.approved_by.account_id,
            "changed_at": moment,
            "retired_at": None,
        }
        statement = dialect_insert(self._engine, CuratedAnswer).values(**values)
        if new.origin is not None:
            again = ("answer", "audience", "changed_by", "changed_by_account_id", "changed_at")
            changed = {k: values[k] for k in again}
            statement = statement.on_conflict_do_update(
                index_elements=["origin"], set_={**changed, "retired_at": None}
            )
        async with self._engine.begin() as connection:
            result = await connection.execute(statement.returning(CuratedAnswer.id))
            return int(result.scalar_one())

    async def get(self, answer_id: int) -> CuratedItem | None:
        statement = select(CuratedAnswer).where(CuratedAnswer.id == answer_id)
        async with self._engine.connect() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else record(CuratedItem, row)

    async def page(self, offset: int, limit: int) -> tuple[list[CuratedItem], int]:
        """Answers in service, newest change first: one page of them and how many there are."""
        serving = CuratedAnswer.retired_at.is_(None)
        statement = (
            select(CuratedAnswer)
            .where(serving)
            .order_by(CuratedAnswer.changed_at.desc(), CuratedAnswer.id.desc())
            .offset(offset)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            rows = records(CuratedItem, await connection.execute(statement))
            total = await connection.scalar(select(func.count()).where(serving))
        return rows, int(total or 0)

    async def edit(self, answer_id: int, answer: str, by: Person) -> bool:
        """New wording for an answer in service; False when there is none (or it was retired)."""
        if not answer.strip():
            raise ValueError("a curated answer cannot be empty")
        return await self._change(answer_id, by, answer=answer)

    async def retire(self, answer_id: int, by: Person) -> bool:
        return await self._change(answer_id, by, retired_at=utc_now())

    async def _change(self, answer_id: int, by: Person, **values: object) -> bool:
        statement = (
            update(CuratedAnswer)
            .where(CuratedAnswer.id == answer_id, CuratedAnswer.retired_at.is_(None))
            .values(
                changed_by=by.telegram_id,
                changed_by_account_id=by.account_id,
                changed_at=utc_now(),
                **values,
            )
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    # Reviewing 👎 votes
    async def unreviewed_votes(self, branch: str | None = None) -> list[Vote]:
        """Every 👎 not yet settled (never reviewed, or skipped), with its review outcome (None
        or "skipped"); oldest first. Given a branch, only those of learners who chose it."""
        statement = (
            select(Feedback, VoteReview.outcome)
            .outerjoin(VoteReview, VoteReview.feedback_id == Feedback.id)
            .where(
                Feedback.vote == -1,
                (VoteReview.outcome.is_(None)) | (VoteReview.outcome == "skipped"),
            )
            .order_by(Feedback.voted_at, Feedback.id)
        )
        if branch is not None:
            statement = statement.join(
                LearnerBranch, LearnerBranch.user_id == Feedback.user_id
            ).where(LearnerBranch.branch == branch)
        async with self._engine.connect() as connection:
            return records(Vote, await connection.execute(statement))

    async def vote(self, feedback_id: int) -> Vote | None:
        """A 👎 with its review's outcome so far (None: never reviewed)."""
        statement = (
            select(Feedback, VoteReview.outcome)
            .outerjoin(VoteReview, VoteReview.feedback_id == Feedback.id)
            .where(Feedback.id == feedback_id, Feedback.vote == -1)
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else record(Vote, row)

    async def review(self, feedback_id: int, outcome: str, by: Person) -> bool:
        """Record what the admin made of a 👎; False when it was already settled (another admin
        was quicker) or there is no such 👎; a skipped one may be reviewed again."""
        if outcome not in REVIEW_OUTCOMES:
            raise ValueError(f"outcome must be one of {REVIEW_OUTCOMES}, not {outcome!r}")
        table = VoteReview.__table__
        now = utc_now()
        review = {
            "outcome": outcome,
            "reviewed_by": by.telegram_id,
            "reviewed_by_account_id": by.account_id,
            "reviewed_at": now,
        }
        voted = select(  # the same values, in the same order, for a first review
            Feedback.id,
            literal(outcome),
            literal(by.telegram_id, BigInteger),
            literal(by.account_id, BigInteger),
            literal(now, DateTime(timezone=True)),
        ).where(Feedback.id == feedback_id, Feedback.vote == -1)
        statement = (
            dialect_insert(self._engine, VoteReview)
            .from_select(["feedback_id", *review], voted)
            .on_conflict_do_update(
                index_elements=["feedback_id"],
                set_=review,
                where=table.c.outcome == "skipped",
            )
        )
        async with self._engine.begin() as connection:
            return (await connection.execute(statement)).rowcount == 1

    # What an admin's next message is for
    async def await_text(self, user_id: int, purpose: str, target: int) -> None:
        values = {"purpose": purpose, "target": target, "since": utc_now()}
        statement = (
            dialect_insert(self._engine, AwaitedText)
            .values(user_id=user_id, **values)
            .on_conflict_do_update(index_elements=["user_id"], set_=values)
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def take_awaited(self, user_id: int) -> tuple[str, int] | None:
        """What the user's message is for, if a button asked for it lately; asked once."""
        statement = (
            delete(AwaitedText)
            .where(AwaitedText.user_id == user_id)
            .returning(AwaitedText.purpose, AwaitedText.target, AwaitedText.since)
        )
        async with self._engine.begin() as connection:
            row = (await connection.execute(statement)).first()
        if row is None or aware(row.since) < utc_now() - AWAIT_FOR:
            return None
        return row.purpose, row.target


def _entry(row: Row[Any]) -> CuratedEntry:
    return CuratedEntry(
        id=row.id,
        question=row.question,
        answer=row.answer,
        language=row.language,
        audience=row.audience,
        approved_at=aware(row.changed_at),  # the wording's approval
    )
