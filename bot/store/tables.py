"""The store's tables: staff registrations, wrong invite codes, the question log (which is
also each conversation's memory), feedback, handled updates and each user's question pace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Telegram ids need 64 bits; SQLite numbers a row by itself only in an INTEGER primary key.
_ROW_ID = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {datetime: DateTime(timezone=True), int: BigInteger}


class StaffUser(Base):
    __tablename__ = "staff_users"
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    branch: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime]


class RegisterFailures(Base):
    __tablename__ = "register_failures"
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    failures: Mapped[int]
    window_start: Mapped[datetime]


class LoggedQuestion(Base):
    """Every question answered. The recent ones of a (chat, user) are its conversation memory,
    so a follow-up has its context on whichever replica receives it."""

    __tablename__ = "question_log"
    __table_args__ = (Index("ix_question_log_conversation", "chat_id", "user_id", "asked_at"),)
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    asked_at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int]
    chat_id: Mapped[int]
    language: Mapped[str] = mapped_column(String(8))
    abstained: Mapped[bool]
    latency_ms: Mapped[float] = mapped_column(Float)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    # The cited passages: source fields plus the passage text, for the "Sources" button.
    sources: Mapped[list] = mapped_column(JSON)


class Feedback(Base):
    """A vote on an answer, with a copy of what was asked and answered: the question log is
    pruned after its retention period, feedback is not."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("question_id", "user_id"),)
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    question_id: Mapped[int]
    user_id: Mapped[int]
    vote: Mapped[int]  # +1 or -1; voting again replaces the vote
    voted_at: Mapped[datetime]
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    sources: Mapped[list] = mapped_column(JSON)


class HandledUpdate(Base):
    """Telegram re-delivers updates whose receipt it never heard of (a bot killed mid-batch, a
    second replica behind a webhook): each is handled once. Update ids are counted per bot (and
    a bot's may start again from a low number), so a claim is one bot's."""

    __tablename__ = "update_claims"
    bot_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    claimed_at: Mapped[datetime] = mapped_column(index=True)
    done: Mapped[bool]


class ConversationStart(Base):
    """When a (chat, user) last sent /new: earlier questions are no longer its memory."""

    __tablename__ = "conversation_starts"
    chat_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    started_at: Mapped[datetime]


class QuestionPace(Base):
    """Each user's question allowance as one number (the generic cell rate algorithm): the
    moment, in seconds since the epoch, at which it is whole again. Shared by replicas."""

    __tablename__ = "question_pace"
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    full_at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class DayStats:
    day: date
    questions: int
    abstained: int


@dataclass(frozen=True)
class Stats:
    days: list[DayStats]  # newest first, days without questions left out
    helpful: int
    unhelpful: int
    staff_users: int
